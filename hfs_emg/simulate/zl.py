"""Simulated Z-L response (offending-vessel stimulation) during an MVD, with ground truth.

The numbers follow Zheng et al. 2012 (latency 7.3 +/- 0.8 ms, amplitude 80 +/- 20 uV, gone
immediately after the decompression) and Son et al. 2018 (the ZLR persists after the
decompression in about a third of patients). Background, artefact and trigger are those of
:func:`hfs_emg.simulate.simulate_mvd_lsr`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._errors import ParameterError
from .._validate import check_option, check_positive, check_sfreq
from ..anatomy import BRANCHES, MUSCLES
from ..recording import Recording
from ._waves import add_components, unit_p2p
from .evoked import _DIRECT_SHAPE, _LSR_SHAPE, _TRIGGER_V, LSR_LATENCY_MS
from .mvd import (
    _PHASE_LABELS,
    _phase_times,
    _stim_events,
    _stim_times,
    _stimulated_background,
    _stimulated_recording,
)

__all__ = ["ZL_SCENARIOS", "SimulatedZL", "simulate_zl_response"]

#: Course of the Z-L response in :func:`simulate_zl_response`.
ZL_SCENARIOS: tuple[str, ...] = ("disappeared", "persisted", "not_elicited")


@dataclasses.dataclass(frozen=True)
class SimulatedZL:
    """A simulated Z-L monitoring session and its truth.

    Attributes
    ----------
    recording : Recording
        EMG (uV), a ``trigger`` channel, the stimulus markers (``"stim AICA 2 mA"``, and
        ``"stim <branch>"`` for the interleaved LSR stimuli) and the phase markers.
    phases : pandas.DataFrame
        ``phase``, ``onset_s``, ``label``.
    responses : pandas.DataFrame
        One row per (stimulus, EMG channel): ``stim_index``, ``stim_time_s``, ``channel``,
        ``muscle``, ``kind`` (``"zlr"``, ``"lsr"`` or ``"direct"``), ``present``,
        ``latency_ms``, ``p2p_uv`` (noiseless).
    trend : pandas.DataFrame
        Z-L truth per channel: ``channel``, ``status``, ``loss_phase``, ``disappearance_time_s``
        (first sweep of the final absence), ``latency_ms`` (the channel's mean latency).
    params : dict
        The parameters used.
    """

    recording: Recording
    phases: pd.DataFrame
    responses: pd.DataFrame
    trend: pd.DataFrame
    params: dict[str, Any]


@fill_doc
def simulate_zl_response(
    *,
    scenario: str = "disappeared",
    duration_s: float = 120.0,
    rate_hz: float = 1.0,
    sfreq: float = 5000.0,
    phase_times_s: Mapping[str, float] | None = None,
    vessel: str = "AICA",
    intensity_ma: float = 2.0,
    muscles: Sequence[str] = ("orbicularis_oculi", "orbicularis_oris", "mentalis"),
    latency_ms: tuple[float, float] = (7.3, 0.8),
    p2p_uv: tuple[float, float] = (80.0, 20.0),
    amplitude_cv: float = 0.15,
    jitter_ms: float = 0.2,
    presence_probability: float = 0.9,
    loss_delay_s: float = 2.0,
    lsr_branch: str | None = None,
    white_noise_uv: float = 8.0,
    background_uv: float = 6.0,
    artifact_uv: float = 500.0,
    artifact_decay_ms: float = 0.5,
    seed: int = 0,
) -> SimulatedZL:
    """Simulate vessel-wall stimulation (and optionally LSR stimulation) across an MVD.

    Single pulses at ``rate_hz`` to the wall of ``vessel`` from the start; each muscle has its
    own Z-L latency drawn from ``latency_ms`` (mean, SD across patients; Zheng et al. 2012) and
    its own amplitude from ``p2p_uv`` (clipped to at least 30 uV), with sweep-to-sweep jitter
    (``jitter_ms``), log-normal amplitude variability (``amplitude_cv``) and random absences
    (``1 - presence_probability``). ``scenario``: ``"disappeared"`` (gone ``loss_delay_s``
    after the decompression marker: "immediately", Zheng 2012), ``"persisted"`` (Son et al.
    2018: 6 of 19) or ``"not_elicited"`` (no response: the controls of Zheng 2012, and the
    false-positive test). With ``lsr_branch`` the stimuli alternate vessel / branch; the
    branch's muscles give a direct M-wave and the others an LSR that disappears with the ZLR.

    Parameters
    ----------
    scenario : {"disappeared", "persisted", "not_elicited"}
        Course of the Z-L response.
    duration_s, rate_hz, sfreq : float
        Session length (s), stimulation rate (Hz; both sites together) and sampling rate (Hz).
    phase_times_s : dict, optional
        Phase -> marker time (s); default as :func:`hfs_emg.simulate.simulate_mvd_lsr` scaled
        into ``duration_s`` (opening 10 %, dissection 25 %, decompression 55 %, closure 90 %).
    vessel : str
        Marker text of the stimulated vessel (``"AICA"``, ``"PICA"``, ``"VA"``, ``"vessel"``).
    intensity_ma : float
        Intensity written in the marker (mA; 2 mA as Zheng 2012).
    %(muscles)s
    latency_ms, p2p_uv : (float, float)
        Mean and SD across muscles of the Z-L latency (ms) and amplitude (uV).
    amplitude_cv, jitter_ms, presence_probability : float
        Sweep-to-sweep variability.
    loss_delay_s : float
        Time of the loss after the decompression marker (s).
    lsr_branch : str, optional
        Also stimulate this facial-nerve branch, alternating with the vessel.
    white_noise_uv, background_uv : float
        Noise RMS (uV): white, and band-limited 20-150 Hz EMG.
    artifact_uv, artifact_decay_ms : float
        Stimulus artefact (a 2 mA intracranial pulse: smaller than a branch stimulus).
    %(seed)s

    Returns
    -------
    SimulatedZL

    References
    ----------
    .. [1] Zheng X, et al. Discovery of a new waveform for intraoperative monitoring of
       hemifacial spasms (usually cited as BMC Neurol 2012;12:29; not verified here).
    .. [2] Son BC, Ko HC, Choi JG. Acta Neurochir 2018;160:963 (doi:10.1007/s00701-017-3462-z).

    Examples
    --------
    >>> sim = simulate_zl_response(duration_s=60.0, seed=2)
    >>> sim.trend["status"].unique().tolist()
    ['disappeared']
    >>> bool(sim.responses.query("kind == 'zlr' and present")["latency_ms"].between(4, 11).all())
    True
    """
    check_option("scenario", scenario, ZL_SCENARIOS)
    if lsr_branch is not None:
        check_option("lsr_branch", lsr_branch, BRANCHES)
    sfreq = check_sfreq(sfreq)
    duration_s = check_positive(duration_s, "duration_s")
    rate_hz = check_positive(rate_hz, "rate_hz")
    if not 0.0 <= float(presence_probability) <= 1.0:
        raise ParameterError(f"presence_probability must be in [0, 1], got {presence_probability}.")
    if phase_times_s is None:
        frac = {"dura_opening": 0.1, "arachnoid_dissection": 0.25, "decompression": 0.55}
        phase_times_s = {p: f * duration_s for p, f in frac.items()}
        phase_times_s["dural_closure"] = 0.9 * duration_s
    times = _phase_times(phase_times_s)
    if scenario == "disappeared" and "decompression" not in times:
        raise ParameterError("scenario 'disappeared' needs a decompression marker.")
    rng = np.random.default_rng(seed)
    muscles = list(muscles)
    for m in muscles:
        check_option("muscles", m, MUSCLES)
    names = [f"{m}_L" for m in muscles]
    stim_t, stim_s = _stim_times(duration_s, rate_hz, sfreq)
    n_st = stim_t.size
    is_vessel = np.ones(n_st, bool) if lsr_branch is None else (np.arange(n_st) % 2 == 0)
    data = _stimulated_background(
        rng,
        len(muscles),
        stim_s,
        sfreq,
        1.0 / rate_hz,
        background_uv=background_uv,
        white_noise_uv=white_noise_uv,
        artifact_uv=artifact_uv,
        artifact_decay_ms=artifact_decay_ms,
    )
    emg = data[:-1]
    n = data.shape[1]
    t_loss = np.inf
    if scenario == "disappeared":
        t_loss = float(times["decompression"]) + float(loss_delay_s)
    on = np.ones(n_st) if scenario != "not_elicited" else np.zeros(n_st)
    on = np.where(stim_t >= t_loss, 0.0, on)
    rows, trows = [], []
    for ch, (m, name) in enumerate(zip(muscles, names, strict=True)):  # loop over channels
        lat_m = float(latency_ms[0] + latency_ms[1] * rng.standard_normal())
        lat_m = float(np.clip(lat_m, 5.0, 10.0))
        amp_m = max(30.0, float(p2p_uv[0] + p2p_uv[1] * rng.standard_normal()))
        onset = lat_m + jitter_ms * rng.standard_normal(n_st)
        a = amp_m * np.exp(amplitude_cv * rng.standard_normal(n_st) - 0.5 * amplitude_cv**2)
        a = np.where(rng.random(n_st) < presence_probability, a * on, 0.0)
        kind = np.full(n_st, "zlr", dtype=object)
        shape_sel = [(is_vessel, _LSR_SHAPE)]
        if lsr_branch is not None:
            direct = MUSCLES[m].branch == lsr_branch
            kind[~is_vessel] = "direct" if direct else "lsr"
            if direct:
                onset[~is_vessel] = 3.5 + 0.05 * rng.standard_normal(int((~is_vessel).sum()))
                a[~is_vessel] = 2000.0 * np.exp(0.05 * rng.standard_normal(int((~is_vessel).sum())))
                shape_sel.append((~is_vessel, _DIRECT_SHAPE))
            else:
                k = int((~is_vessel).sum())
                onset[~is_vessel] = LSR_LATENCY_MS.get(m, 10.0) + 0.25 * rng.standard_normal(k)
                a_l = 150.0 * np.exp(0.15 * rng.standard_normal(k))
                a[~is_vessel] = np.where(rng.random(k) < presence_probability, a_l, 0.0)
                a[~is_vessel] *= np.where(stim_t[~is_vessel] >= t_loss, 0.0, 1.0)
                shape_sel.append((~is_vessel, _LSR_SHAPE))
        p2p = np.zeros(n_st)
        for sel, shape in shape_sel:  # one or two stimulus sites
            block = add_components(
                emg,
                ch,
                stim_s[sel] + onset[sel] * 1e-3 * sfreq,
                a[sel] / unit_p2p(**shape),
                sfreq,
                **shape,
            )
            p2p[sel] = block.max(axis=1) - block.min(axis=1)
        present = a > 0
        rows.append(
            pd.DataFrame(
                {
                    "stim_index": np.arange(n_st),
                    "stim_time_s": stim_t,
                    "channel": name,
                    "muscle": m,
                    "kind": kind,
                    "present": present,
                    "latency_ms": np.where(present, onset, np.nan),
                    "p2p_uv": np.where(present, p2p, 0.0),
                }
            )
        )
        pv = present[is_vessel]
        tv = stim_t[is_vessel]
        d_t = np.nan
        if np.isfinite(t_loss) and pv.size:
            k = int(np.searchsorted(tv, t_loss))
            while k > 0 and not pv[k - 1]:
                k -= 1
            d_t = float(tv[k]) if k < tv.size else np.nan
        trows.append(
            {
                "channel": name,
                "status": scenario,
                "loss_phase": "after_decompression" if scenario == "disappeared" else "",
                "disappearance_time_s": d_t,
                "latency_ms": lat_m,
                "p2p_uv": amp_m,
            }
        )
    width = max(1, round(2e-4 * sfreq))
    trig = (stim_s[:, None] + np.arange(width)[None, :]).ravel()
    data[-1, trig[trig < n]] = _TRIGGER_V * 1e6
    labels = np.where(
        is_vessel, f"stim {vessel} {intensity_ma:g} mA", f"stim {lsr_branch or ''}".strip()
    )
    marks = {p: t for p, t in times.items() if t < duration_s}
    events = _stim_events(stim_t, labels, marks)
    meta = {"source": "simulate_zl_response", "seed": seed}
    rec = _stimulated_recording(data, sfreq, names, muscles, events, meta, branches=True)
    phases = pd.DataFrame(
        {
            "phase": list(marks),
            "onset_s": list(marks.values()),
            "label": [_PHASE_LABELS[p] for p in marks],
        }
    )
    params = {
        "scenario": scenario,
        "vessel": vessel,
        "lsr_branch": lsr_branch,
        "t_loss_design_s": t_loss,
        "phase_times_s": marks,
        "sfreq": sfreq,
        "seed": seed,
    }
    return SimulatedZL(
        recording=rec,
        phases=phases,
        responses=pd.concat(rows, ignore_index=True),
        trend=pd.DataFrame(trows),
        params=params,
    )
