"""Simulated microvascular decompression (MVD) monitoring with ground truth.

Three recordings of one operation, each with the surgical-phase markers as annotations
("Dura opening", "Arachnoid dissection", "Teflon placed", "Dural closure"):

- :func:`simulate_mvd_lsr` - the LSR across the phases: it persists, is partially reduced,
  disappears before the opening, before or after the decompression or after the dural closure,
  or is transiently lost (Al Menabbawy et al. 2025; El Damaty et al. 2016). The LSR is
  intermittent (it is missing in a fraction of sweeps), its amplitude varies from sweep to sweep
  and drifts slowly, and the background is coloured EMG plus white amplifier noise.
- :func:`simulate_fmep` - facial motor evoked potentials to transcranial train stimuli (several
  pulses 1-4 ms apart) with a known final/baseline amplitude ratio per muscle (Fukuda et al.
  2010: orbicularis oculi 44.8 %, oris 84.5 %, mentalis 95.8 % when the spasm resolved).
- :func:`simulate_free_running` - free-running EMG with A-trains (sinusoidal, symmetric,
  high-frequency; Romstöck et al. 2000), B-trains (bursts of spikes) and C-trains (irregular
  continuous activity), with the train times of each.

The evoked waveforms, stimulus artefact and trigger reuse :mod:`hfs_emg.simulate.evoked`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.signal as sps

from .._errors import ParameterError
from .._validate import check_option, check_positive, check_sfreq
from ..anatomy import BRANCHES, MUSCLES
from ..recording import Recording, from_array
from ._waves import add_components, unit_p2p
from .evoked import (
    _DIRECT_SHAPE,
    _LSR_SHAPE,
    _TRIGGER_V,
    LSR_LATENCY_MS,
    LSR_P2P_UV,
    _artifact_and_noise,
    _per_muscle,
)

__all__ = [
    "FMEP_FINAL_OVER_BASELINE",
    "MVD_SCENARIOS",
    "SimulatedFMEP",
    "SimulatedFreeRunning",
    "SimulatedMVD",
    "simulate_fmep",
    "simulate_free_running",
    "simulate_mvd_lsr",
]

#: Default phase-marker times (s) and their annotation labels.
_PHASE_TIMES = {
    "dura_opening": 30.0,
    "arachnoid_dissection": 60.0,
    "decompression": 100.0,
    "dural_closure": 150.0,
}
_PHASE_LABELS = {
    "dura_opening": "Dura opening",
    "arachnoid_dissection": "Arachnoid dissection",
    "decompression": "Teflon placed (decompression)",
    "dural_closure": "Dural closure",
}

#: Scenario -> (true status, true loss phase) of :func:`simulate_mvd_lsr`.
MVD_SCENARIOS: dict[str, tuple[str, str]] = {
    "persisted": ("persisted", ""),
    "partial": ("partial", ""),
    "disappeared_before_opening": ("disappeared", "before_opening"),
    "disappeared_before_decompression": ("disappeared", "before_decompression"),
    "disappeared_after_decompression": ("disappeared", "after_decompression"),
    "disappeared_after_closure": ("disappeared", "after_closure"),
    "transient_loss": ("transient_loss", "before_decompression"),
    "not_elicited": ("not_elicited", ""),
}

#: Final/baseline FMEP amplitude ratio per muscle when the spasm resolved (Fukuda et al. 2010).
FMEP_FINAL_OVER_BASELINE: dict[str, float] = {
    "orbicularis_oculi": 0.448,
    "orbicularis_oris": 0.845,
    "mentalis": 0.958,
}
_FMEP_SHAPE = {"freq_hz": 180.0, "decay_ms": 4.0, "dur_ms": 12.0}
#: FMEP onset latency after the first pulse of the train (ms; not sourced, >10 ms as for a
#: central response, Baek et al. 2018).
_FMEP_LATENCY_MS = {"orbicularis_oculi": 12.0, "orbicularis_oris": 12.5, "mentalis": 13.0}


def _markers(times: Mapping[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "onset_s": [float(times[p]) for p in times],
            "duration_s": 0.0,
            "label": [_PHASE_LABELS[p] for p in times],
        }
    )


def _phase_times(phase_times_s: Mapping[str, float] | None) -> dict[str, float]:
    times = dict(_PHASE_TIMES if phase_times_s is None else phase_times_s)
    unknown = set(times) - set(_PHASE_TIMES)
    if unknown:
        raise ParameterError(f"phase_times_s has unknown phases {sorted(unknown)}.")
    order = [times[p] for p in _PHASE_TIMES if p in times]
    if any(b <= a for a, b in zip(order, order[1:], strict=False)):
        raise ParameterError(f"phase_times_s must increase in surgical order, got {times}.")
    return times


def _coloured(rng: np.random.Generator, shape: tuple[int, int], sfreq: float, rms: float):
    """Band-limited (20-150 Hz) Gaussian background EMG with the given RMS per row."""
    if rms <= 0:
        return np.zeros(shape)
    hi = min(150.0, 0.45 * sfreq)
    sos = sps.butter(2, [20.0, hi], btype="bandpass", fs=sfreq, output="sos")
    x = sps.sosfilt(sos, rng.standard_normal(shape), axis=-1)
    return x * (rms / np.maximum(x.std(axis=-1, keepdims=True), 1e-12))


def _slow_drift(rng: np.random.Generator, t: np.ndarray, cv: float, tau_s: float) -> np.ndarray:
    """Multiplicative slow amplitude drift: exp of an AR(1) process with time constant tau."""
    if cv <= 0 or t.size < 2:
        return np.ones(t.size)
    dt = float(np.median(np.diff(t)))
    phi = np.exp(-dt / tau_s)
    e = rng.standard_normal(t.size) * np.sqrt(1 - phi**2)
    z = sps.lfilter([1.0], [1.0, -phi], e, zi=[rng.standard_normal() * phi])[0]
    return np.exp(cv * z - 0.5 * cv**2)


@dataclasses.dataclass(frozen=True)
class SimulatedMVD:
    """A simulated MVD LSR session and its truth.

    Attributes
    ----------
    recording : Recording
        EMG (uV), a ``trigger`` channel, ``stim`` events and the phase markers as events.
    phases : pandas.DataFrame
        The phase markers: ``phase``, ``onset_s``, ``label``.
    responses : pandas.DataFrame
        One row per (stimulus, EMG channel): ``stim_index``, ``stim_time_s``, ``channel``,
        ``muscle``, ``kind``, ``present``, ``latency_ms``, ``p2p_uv`` (noiseless response).
    trend : pandas.DataFrame
        One row per LSR channel plus ``overall``: ``channel``, ``status``, ``loss_phase``,
        ``disappearance_time_s`` (first sweep of the final or transient absence),
        ``reappearance_time_s``, ``reduction_pct`` and ``final_over_baseline`` (from the true
        amplitudes in the windows of :func:`hfs_emg.lsr_trend`).
    params : dict
        The parameters used.
    """

    recording: Recording
    phases: pd.DataFrame
    responses: pd.DataFrame
    trend: pd.DataFrame
    params: dict[str, Any]


def _factor(
    scenario: str, t: np.ndarray, times: Mapping[str, float], o: Mapping[str, float]
) -> tuple[np.ndarray, float, float]:
    """Design amplitude factor per stimulus, loss time and return time (NaN if none)."""
    f = np.ones(t.size)
    t_loss, t_back = np.nan, np.nan
    fade = o["fade_s"]
    if scenario == "not_elicited":
        return np.zeros(t.size), np.nan, np.nan
    if scenario == "partial":
        t0 = times["decompression"] + o["loss_delay_s"]
        k = np.clip((t - t0) / o["ramp_s"], 0.0, 1.0)
        return 1.0 - k * o["reduction"], np.nan, np.nan
    if scenario.startswith("disappeared") or scenario == "transient_loss":
        t_loss = {
            "disappeared_before_opening": times["dura_opening"] - 12.0,
            "disappeared_before_decompression": times["arachnoid_dissection"] + 12.0,
            "disappeared_after_decompression": times["decompression"] + o["loss_delay_s"],
            "disappeared_after_closure": times["dural_closure"] + 12.0,
            "transient_loss": times["arachnoid_dissection"] + 8.0,
        }[scenario]
        ramp = np.clip((t_loss - t) / fade, 0.0, 1.0) if fade > 0 else (t < t_loss) * 1.0
        f = np.where(t >= t_loss, 0.0, ramp)
        if scenario == "transient_loss":
            t_back = t_loss + o["transient_s"]
            f = np.where(t >= t_back, 1.0, f)
    return f, t_loss, t_back


def simulate_mvd_lsr(
    *,
    scenario: str = "disappeared_after_decompression",
    reduction_pct: float = 50.0,
    phase_times_s: Mapping[str, float] | None = None,
    duration_s: float = 185.0,
    rate_hz: float = 1.0,
    sfreq: float = 5000.0,
    stim_branch: str = "zygomatic",
    muscles: Sequence[str] = ("orbicularis_oculi", "orbicularis_oris", "mentalis"),
    lsr_p2p_uv: float | Mapping[str, float] | None = None,
    amplitude_cv: float = 0.15,
    drift_cv: float = 0.02,
    presence_probability: float = 0.9,
    jitter_ms: float = 0.25,
    loss_delay_s: float = 8.0,
    fade_s: float = 3.0,
    ramp_s: float = 10.0,
    transient_s: float = 30.0,
    white_noise_uv: float = 8.0,
    background_uv: float = 6.0,
    artifact_uv: float = 3000.0,
    artifact_decay_ms: float = 1.0,
    baseline_n: int = 10,
    final_n: int = 20,
    seed: int = 0,
) -> SimulatedMVD:
    """Simulate an LSR session across the phases of an MVD, with the course as truth.

    Single pulses at ``rate_hz`` to ``stim_branch``; the branch's muscles give a direct
    M-response, the other muscles an LSR near 10 ms. All LSR channels follow ``scenario``
    (:data:`MVD_SCENARIOS`):

    - ``"persisted"``: unchanged to the end;
    - ``"partial"``: reduced by ``reduction_pct`` over ``ramp_s`` from ``loss_delay_s`` after
      the decompression marker;
    - ``"disappeared_before_opening"`` (12 s before the opening marker),
      ``"disappeared_before_decompression"`` (12 s into the arachnoid dissection),
      ``"disappeared_after_decompression"`` (``loss_delay_s`` after the decompression),
      ``"disappeared_after_closure"`` (12 s after the closure): faded over ``fade_s``, then absent
      to the end;
    - ``"transient_loss"``: absent for ``transient_s`` from 8 s into the dissection, then back;
    - ``"not_elicited"``: no LSR.

    On top: the LSR is missing at random in ``1 - presence_probability`` of the sweeps, its
    amplitude varies log-normally (``amplitude_cv``) and drifts slowly (``drift_cv``, time
    constant 60 s); background = band-limited 20-150 Hz EMG (``background_uv`` RMS) + white
    noise (``white_noise_uv``) + 50 Hz; stimulus artefact decaying with ``artifact_decay_ms``.

    Parameters
    ----------
    scenario : str
        One of :data:`MVD_SCENARIOS`.
    reduction_pct : float
        Amplitude reduction of the ``"partial"`` scenario (%).
    phase_times_s : dict, optional
        Phase -> marker time (s); default opening 30, dissection 60, decompression 100, closure
        150 s.
    duration_s : float
        Session length (s).
    rate_hz : float
        Stimulation rate (Hz).
    sfreq : float
        Sampling rate (Hz).
    stim_branch : str
        Stimulated branch.
    muscles : sequence of str
        Recorded muscles.
    lsr_p2p_uv : float or dict, optional
        Mean LSR amplitude (uV); default :data:`hfs_emg.simulate.evoked.LSR_P2P_UV`.
    amplitude_cv, drift_cv, presence_probability, jitter_ms : float
        Sweep-to-sweep variability (see above).
    loss_delay_s, fade_s, ramp_s, transient_s : float
        Timing of the changes (see above).
    white_noise_uv, background_uv : float
        Noise RMS (uV).
    artifact_uv, artifact_decay_ms : float
        Stimulus artefact.
    baseline_n, final_n : int
        Sweeps of the session-start baseline (used without an opening marker or when the LSR
        was lost before it) and of the final window of the truth's ``reduction_pct``.
    seed : int
        Random seed.

    Returns
    -------
    SimulatedMVD

    References
    ----------
    .. [1] Al Menabbawy A, et al. Acta Neurochir 2025 (phase of LSR loss).
    .. [2] El Damaty A, et al. Neurosurg Rev 2016;39:455 (total and partial disappearance).

    Examples
    --------
    >>> sim = simulate_mvd_lsr(scenario="partial", reduction_pct=50.0, duration_s=40.0,
    ...                        phase_times_s={"dura_opening": 5.0, "decompression": 15.0,
    ...                                       "dural_closure": 35.0}, final_n=5)
    >>> sim.phases["phase"].tolist()
    ['dura_opening', 'decompression', 'dural_closure']
    >>> sim.trend.set_index("channel").loc["mentalis_L", "status"]
    'partial'
    """
    check_option("scenario", scenario, MVD_SCENARIOS)
    check_option("stim_branch", stim_branch, BRANCHES)
    sfreq = check_sfreq(sfreq)
    rate_hz = check_positive(rate_hz, "rate_hz")
    duration_s = check_positive(duration_s, "duration_s")
    if not 0.0 <= float(presence_probability) <= 1.0:
        raise ParameterError(f"presence_probability must be in [0, 1], got {presence_probability}.")
    if not 0.0 <= float(reduction_pct) <= 100.0:
        raise ParameterError(f"reduction_pct must be in [0, 100], got {reduction_pct}.")
    times = _phase_times(phase_times_s)
    for p in ("dura_opening", "arachnoid_dissection", "decompression", "dural_closure"):
        times.setdefault(p, np.nan)
    if scenario != "persisted" and scenario != "not_elicited":
        needed = {
            "partial": ["decompression"],
            "disappeared_before_opening": ["dura_opening"],
            "disappeared_before_decompression": ["arachnoid_dissection"],
            "disappeared_after_decompression": ["decompression"],
            "disappeared_after_closure": ["dural_closure"],
            "transient_loss": ["arachnoid_dissection"],
        }[scenario]
        missing = [p for p in needed if not np.isfinite(times[p])]
        if missing:
            raise ParameterError(f"scenario {scenario!r} needs the marker(s) {missing}.")
    rng = np.random.default_rng(seed)
    muscles = list(muscles)
    for m in muscles:
        check_option("muscles", m, MUSCLES)
    amp = _per_muscle(lsr_p2p_uv, muscles, LSR_P2P_UV, "lsr_p2p_uv")
    kinds = ["direct" if MUSCLES[m].branch == stim_branch else "lsr" for m in muscles]
    names = [f"{m}_L" for m in muscles]
    stim_t = np.round((0.5 + np.arange(int(np.floor((duration_s - 0.5) * rate_hz))) / rate_hz)
                      * sfreq) / sfreq  # fmt: skip
    n_st = stim_t.size
    stim_s = np.round(stim_t * sfreq).astype(np.int64)
    n = int(stim_s[-1] + round(max(0.5, 1.0 / rate_hz) * sfreq))
    data = np.zeros((len(muscles) + 1, n))
    emg = data[:-1]
    emg += _coloured(rng, emg.shape, sfreq, background_uv)
    _artifact_and_noise(
        rng,
        emg,
        stim_s,
        sfreq,
        np.full(len(muscles), float(white_noise_uv)),
        artifact_uv=artifact_uv,
        artifact_decay_ms=artifact_decay_ms,
        mains_hz=50.0,
        mains_uv=2.0,
    )
    opts = {
        "fade_s": float(fade_s),
        "ramp_s": max(float(ramp_s), 1e-9),
        "loss_delay_s": float(loss_delay_s),
        "reduction": float(reduction_pct) / 100.0,
        "transient_s": float(transient_s),
    }
    factor, t_loss, t_back = _factor(scenario, stim_t, times, opts)
    rows, truth_rows = [], []
    for ch, (m, kind, name) in enumerate(zip(muscles, kinds, names, strict=True)):  # channels
        if kind == "direct":
            onset = 3.5 + 0.05 * rng.standard_normal(n_st)
            a = 2000.0 * np.exp(0.05 * rng.standard_normal(n_st))
            shape = _DIRECT_SHAPE
        else:
            onset = LSR_LATENCY_MS.get(m, 10.0) + jitter_ms * rng.standard_normal(n_st)
            a = amp[m] * np.exp(amplitude_cv * rng.standard_normal(n_st) - 0.5 * amplitude_cv**2)
            a = a * _slow_drift(rng, stim_t, drift_cv, 60.0) * factor
            a = np.where(rng.random(n_st) < presence_probability, a, 0.0)
            shape = _LSR_SHAPE
        present = a > 0
        block = add_components(
            emg, ch, stim_s + onset * 1e-3 * sfreq, a / unit_p2p(**shape), sfreq, **shape
        )
        p2p = np.where(present, block.max(axis=1) - block.min(axis=1), 0.0)
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
                    "p2p_uv": p2p,
                }
            )
        )
        if kind == "lsr":
            truth_rows.append((name, present, p2p))
    width = max(1, round(2e-4 * sfreq))
    trig = (stim_s[:, None] + np.arange(width)[None, :]).ravel()
    data[-1, trig[trig < n]] = _TRIGGER_V * 1e6
    marks = {p: t for p, t in times.items() if np.isfinite(t)}
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "onset_s": stim_t,
                    "duration_s": 0.0,
                    "label": f"stim {stim_branch}",
                    "stim_index": np.arange(n_st),
                }
            ),
            _markers(marks),
        ],
        ignore_index=True,
    )
    rec = from_array(
        data,
        sfreq,
        [*names, "trigger"],
        units="uV",
        ch_types=["emg"] * len(muscles) + ["stim"],
        events=events,
        muscles=[*muscles, None],
        sides=["left"] * len(muscles) + [None],
        branches=[MUSCLES[m].branch for m in muscles] + [None],
        meta={"source": "simulate_mvd_lsr", "stim_branch": stim_branch, "seed": seed},
    )
    status, loss_phase = MVD_SCENARIOS[scenario]
    trend = _lsr_truth(
        truth_rows, stim_t, marks, status, loss_phase, int(baseline_n), int(final_n), t_loss
    )
    trend["reappearance_time_s"] = t_back
    phases = pd.DataFrame(
        {
            "phase": list(marks),
            "onset_s": [marks[p] for p in marks],
            "label": [_PHASE_LABELS[p] for p in marks],
        }
    )
    params = {
        "scenario": scenario,
        "reduction_pct": float(reduction_pct),
        "phase_times_s": marks,
        "rate_hz": rate_hz,
        "sfreq": sfreq,
        "t_loss_design_s": t_loss,
        "seed": seed,
    }
    return SimulatedMVD(
        recording=rec,
        phases=phases,
        responses=pd.concat(rows, ignore_index=True),
        trend=trend,
        params=params,
    )


def _lsr_truth(
    truth_rows: list[tuple[str, np.ndarray, np.ndarray]],
    t: np.ndarray,
    marks: Mapping[str, float],
    status: str,
    loss_phase: str,
    n_b: int,
    n_f: int,
    t_loss: float,
) -> pd.DataFrame:
    """Truth trend from the noiseless amplitudes (windows as documented in lsr_trend)."""
    t_open = marks.get("dura_opening", -np.inf)
    t_dec = marks.get("decompression", np.inf)
    t_close = marks.get("dural_closure", np.inf)
    idx = np.arange(t.size)

    def window_mean(present, p2p, sel):
        if sel.size == 0:
            return 0.0
        if present[sel].mean() < 0.2:
            return 0.0
        return float(p2p[sel][present[sel]].mean())

    out = []
    for name, present, p2p in truth_rows:
        base = idx[(t >= t_open) & (t < t_dec)]
        if base.size == 0 or present[base].mean() < 0.2:
            base = idx[t < t_dec][:n_b]
        fin = idx[t < t_close][-n_f:]
        b, f = window_mean(present, p2p, base), window_mean(present, p2p, fin)
        ratio = f / b if b > 0 else np.nan
        # loss time: first sweep of the absence that contains the designed loss
        d_t = np.nan
        if np.isfinite(t_loss):
            k = int(np.searchsorted(t, t_loss))
            while k > 0 and not present[k - 1]:
                k -= 1
            d_t = float(t[k]) if k < t.size else np.nan
        out.append(
            {
                "channel": name,
                "status": status,
                "loss_phase": loss_phase,
                "disappearance_time_s": d_t,
                "final_over_baseline": ratio,
                "reduction_pct": 100.0 * (1.0 - ratio) if np.isfinite(ratio) else np.nan,
            }
        )
    df = pd.DataFrame(out)
    if len(df):
        overall = {
            "channel": "overall",
            "status": status,
            "loss_phase": loss_phase,
            "disappearance_time_s": float(df["disappearance_time_s"].max()),
            "final_over_baseline": float(df["final_over_baseline"].max()),
            "reduction_pct": float(df["reduction_pct"].min()),
        }
        df = pd.concat([df, pd.DataFrame([overall])], ignore_index=True)
    return df
