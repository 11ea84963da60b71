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
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.signal as sps

from .._docs import fill_doc
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


def _stim_events(stim_t: np.ndarray, labels: Any, marks: Mapping[str, float]) -> pd.DataFrame:
    """Stimulus events (numbered) followed by the surgical-phase markers."""
    stims = pd.DataFrame(
        {
            "onset_s": stim_t,
            "duration_s": 0.0,
            "label": labels,
            "stim_index": np.arange(len(stim_t)),
        }
    )
    return pd.concat([stims, _markers(marks)], ignore_index=True)


def _stimulated_recording(
    data: np.ndarray,
    sfreq: float,
    names: Sequence[str],
    muscles: Sequence[str],
    events: pd.DataFrame,
    meta: dict[str, Any],
    *,
    branches: bool = False,
) -> Recording:
    """Left-sided EMG channels plus the trigger channel (the last row of ``data``)."""
    extra = {"branches": [MUSCLES[m].branch for m in muscles] + [None]} if branches else {}
    return from_array(
        data,
        sfreq,
        [*names, "trigger"],
        units="uV",
        ch_types=["emg"] * len(muscles) + ["stim"],
        events=events,
        muscles=[*muscles, None],
        sides=["left"] * len(muscles) + [None],
        meta=meta,
        **extra,
    )


def _stim_times(duration_s: float, rate_hz: float, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Stimulus times (s, on the sample grid) and samples at ``rate_hz`` from 0.5 s on."""
    n_st = int(np.floor((duration_s - 0.5) * rate_hz))
    stim_t = np.round((0.5 + np.arange(n_st) / rate_hz) * sfreq) / sfreq
    return stim_t, np.round(stim_t * sfreq).astype(np.int64)


def _stimulated_background(
    rng: np.random.Generator,
    n_muscles: int,
    stim_s: np.ndarray,
    sfreq: float,
    period_s: float,
    *,
    background_uv: float,
    white_noise_uv: float,
    artifact_uv: float,
    artifact_decay_ms: float,
) -> np.ndarray:
    """``(n_muscles + 1, n)`` samples: coloured background EMG, white noise, the stimulus
    artefacts and 50 Hz hum on the EMG rows, up to one period (>= 0.5 s) after the last
    stimulus; the last row (the trigger channel) is zero."""
    n = int(stim_s[-1] + round(max(0.5, period_s) * sfreq))
    data = np.zeros((n_muscles + 1, n))
    emg = data[:-1]
    emg += _coloured(rng, emg.shape, sfreq, background_uv)
    _artifact_and_noise(
        rng,
        emg,
        stim_s,
        sfreq,
        np.full(n_muscles, float(white_noise_uv)),
        artifact_uv=artifact_uv,
        artifact_decay_ms=artifact_decay_ms,
        mains_hz=50.0,
        mains_uv=2.0,
    )
    return data


def _phase_times(phase_times_s: Mapping[str, float] | None) -> dict[str, float]:
    times = dict(_PHASE_TIMES if phase_times_s is None else phase_times_s)
    unknown = set(times) - set(_PHASE_TIMES)
    if unknown:
        raise ParameterError(f"phase_times_s has unknown phases {sorted(unknown)}.")
    order = [times[p] for p in _PHASE_TIMES if p in times]
    if any(b <= a for a, b in itertools.pairwise(order)):
        raise ParameterError(f"phase_times_s must increase in surgical order, got {times}.")
    return times


def _coloured(
    rng: np.random.Generator, shape: tuple[int, int], sfreq: float, rms: float
) -> np.ndarray:
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


@fill_doc
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
    %(rate_hz)s
    %(sfreq)s
    stim_branch : str
        Stimulated branch.
    %(muscles)s
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
    %(seed)s

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
    stim_t, stim_s = _stim_times(duration_s, rate_hz, sfreq)
    n_st = stim_t.size
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
    events = _stim_events(stim_t, f"stim {stim_branch}", marks)
    meta = {"source": "simulate_mvd_lsr", "stim_branch": stim_branch, "seed": seed}
    rec = _stimulated_recording(data, sfreq, names, muscles, events, meta, branches=True)
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

    def window_mean(present: np.ndarray, p2p: np.ndarray, sel: np.ndarray) -> float:
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


# --------------------------------------------------------------------------- free-running EMG


@dataclasses.dataclass(frozen=True)
class SimulatedFreeRunning:
    """Simulated free-running facial EMG with A-, B- and C-trains.

    Attributes
    ----------
    recording : Recording
        EMG channels (uV), with the phase markers as events.
    trains : pandas.DataFrame
        One row per simulated train: ``channel``, ``train_type`` (``"A"``, ``"B"``, ``"C"``),
        ``onset_s``, ``offset_s``, ``duration_s``, ``frequency_hz`` (A-trains: mean discharge
        frequency; NaN otherwise), ``amplitude_uv`` (peak-to-peak of the noiseless train).
    train_time : pandas.DataFrame
        Per channel: ``channel``, ``n_a_trains``, ``train_time_s`` (summed A-train duration).
    params : dict
        The parameters used.
    """

    recording: Recording
    trains: pd.DataFrame
    train_time: pd.DataFrame
    params: dict[str, Any]


def _place(
    rng: np.random.Generator, durs: np.ndarray, total: float, gap: float, taken: list
) -> np.ndarray:
    """Random non-overlapping start times (rejection sampling; a handful of trains)."""
    starts = []
    for d in durs:  # one per train
        for _ in range(1000):
            s = float(rng.uniform(0.5, total - d - 0.5))
            if all(s + d + gap <= a or s >= b + gap for a, b in taken):
                taken.append((s, s + d))
                starts.append(s)
                break
        else:
            raise ParameterError("The trains do not fit in duration_s; lower their number.")
    return np.array(starts)


def _a_train(
    rng: np.random.Generator, n: int, sfreq: float, f0: float, p2p: float
) -> tuple[np.ndarray, float]:
    """Quasi-sinusoidal A-train: slow frequency jitter, amplitude modulation, weak harmonic."""
    t = np.arange(n) / sfreq
    jit = sps.lfilter([0.02], [1.0, -0.98], rng.standard_normal(n))
    jit *= 0.02 / max(float(jit.std()), 1e-12)
    phase = 2 * np.pi * np.cumsum(f0 * (1.0 + jit)) / sfreq + rng.uniform(0, 2 * np.pi)
    am = 1.0 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0) * t + rng.uniform(0, 2 * np.pi))
    x = am * (np.sin(phase) + 0.1 * np.sin(2 * phase + rng.uniform(0, 2 * np.pi)))
    edge = min(n // 2, max(1, round(0.003 * sfreq)))  # sudden onset: 3 ms taper
    w = np.ones(n)
    w[:edge] = np.linspace(0, 1, edge)
    w[n - edge :] = np.linspace(1, 0, edge)
    x *= w
    return x * (p2p / max(float(x.max() - x.min()), 1e-12)), float(np.mean(f0 * (1.0 + jit)))


def _spikes(
    rng: np.random.Generator, sfreq: float, times: np.ndarray, amps: np.ndarray, shape: dict
) -> tuple[np.ndarray, int]:
    """Sum of MUAP-like damped waves at ``times`` (s, from 0); returns (signal, offset)."""
    n = int(np.ceil((times.max() + shape["dur_ms"] * 1e-3) * sfreq)) + 2
    out = np.zeros((1, n))
    add_components(out, 0, times * sfreq, amps / unit_p2p(**shape), sfreq, **shape)
    return out[0], n


@fill_doc
def simulate_free_running(
    *,
    duration_s: float = 120.0,
    sfreq: float = 5000.0,
    muscles: Sequence[str] = ("orbicularis_oculi", "orbicularis_oris", "mentalis"),
    n_a_trains: int = 5,
    n_b_trains: int = 8,
    n_c_trains: int = 2,
    a_duration_s: tuple[float, float] = (0.2, 4.0),
    a_frequency_hz: tuple[float, float] = (70.0, 200.0),
    a_p2p_uv: tuple[float, float] = (60.0, 250.0),
    white_noise_uv: float = 3.0,
    background_uv: float = 4.0,
    mains_uv: float = 3.0,
    phase_times_s: Mapping[str, float] | None = None,
    seed: int = 0,
) -> SimulatedFreeRunning:
    """Simulate free-running facial EMG during surgery: A-trains among B- and C-trains.

    Train types after Romstöck, Strauss & Fahlbusch 2000:

    - **A-trains**: sinusoidal, symmetric, high-frequency trains with a sudden onset (the pattern
      associated with a postoperative facial paresis); frequency uniform in ``a_frequency_hz``
      (inside the 60-210 Hz quoted for the definition) with 2 % jitter, peak-to-peak uniform in
      ``a_p2p_uv`` with 10 % amplitude modulation, duration log-uniform in ``a_duration_s``.
    - **B-trains** (bursts): 1-5 spikes (asymmetric, MUAP-like, 100-500 uV) at irregular
      intervals of 10-60 ms.
    - **C-trains**: irregular continuous activity, 1-4 s of 4 motor units discharging at
      15-40 Hz with an inter-spike CV of 0.3.

    Background: band-limited 20-150 Hz EMG (``background_uv``), white noise and 50 Hz hum.

    Parameters
    ----------
    duration_s, sfreq : float
        Length (s) and sampling rate (Hz).
    muscles : sequence of str
        One channel per muscle.
    n_a_trains, n_b_trains, n_c_trains : int
        Trains of each type per channel.
    a_duration_s, a_frequency_hz, a_p2p_uv : (float, float)
        Ranges of the A-trains (see above).
    white_noise_uv, background_uv, mains_uv : float
        Noise and hum (uV RMS / amplitude).
    phase_times_s : dict, optional
        Phase markers added as events (default as :func:`simulate_mvd_lsr`).
    %(seed)s

    Returns
    -------
    SimulatedFreeRunning

    References
    ----------
    .. [1] Romstöck J, Strauss C, Fahlbusch R. Continuous electromyography monitoring of motor
       cranial nerves during cranial base surgery. J Neurosurg 2000;93:586-593.
    .. [2] Prell J, et al. Train time as a quantitative electromyographic parameter for facial
       nerve function in patients undergoing surgery for vestibular schwannoma. J Neurosurg
       2007;106:826-832.

    Examples
    --------
    >>> sim = simulate_free_running(duration_s=20.0, n_a_trains=1, n_b_trains=2, n_c_trains=0)
    >>> sorted(sim.trains["train_type"].unique())
    ['A', 'B']
    >>> bool((sim.train_time["train_time_s"] > 0).all())
    True
    """
    sfreq = check_sfreq(sfreq)
    duration_s = check_positive(duration_s, "duration_s")
    rng = np.random.default_rng(seed)
    muscles = list(muscles)
    for m in muscles:
        check_option("muscles", m, MUSCLES)
    names = [f"{m}_L" for m in muscles]
    n = round(duration_s * sfreq)
    data = _coloured(rng, (len(muscles), n), sfreq, background_uv)
    data += white_noise_uv * rng.standard_normal(data.shape)
    t_all = np.arange(n) / sfreq
    data += mains_uv * np.sin(
        2 * np.pi * 50.0 * t_all[None, :] + rng.uniform(0, 6.3, (len(muscles), 1))
    )
    rows = []
    for ch, name in enumerate(names):  # loop over channels, then over a handful of trains
        lo, hi = np.log(a_duration_s[0]), np.log(a_duration_s[1])
        a_d = np.exp(rng.uniform(lo, hi, int(n_a_trains)))
        c_d = rng.uniform(1.0, 4.0, int(n_c_trains))
        b_n = rng.integers(1, 6, int(n_b_trains))
        b_isi = [rng.uniform(0.010, 0.060, k - 1) for k in b_n]
        b_d = np.array([isi.sum() + 0.004 for isi in b_isi]) if len(b_n) else np.zeros(0)
        taken: list = []
        a_s = _place(rng, a_d, duration_s, 0.3, taken)
        c_s = _place(rng, c_d, duration_s, 0.3, taken)
        b_s = _place(rng, b_d, duration_s, 0.3, taken)
        for s, d in zip(a_s, a_d, strict=True):
            k = round(d * sfreq)
            f0 = float(rng.uniform(*a_frequency_hz))
            p2p = float(rng.uniform(*a_p2p_uv))
            x, f_mean = _a_train(rng, k, sfreq, f0, p2p)
            i0 = round(s * sfreq)
            data[ch, i0 : i0 + k] += x[: n - i0]
            rows.append((name, "A", i0 / sfreq, (i0 + k) / sfreq, f_mean, float(np.ptp(x))))
        for s, d in zip(c_s, c_d, strict=True):
            sig = np.zeros(round(d * sfreq) + round(0.01 * sfreq))
            for _u in range(4):  # 4 motor units
                rate = rng.uniform(15.0, 40.0)
                isi = np.clip(rng.normal(1 / rate, 0.3 / rate, int(d * rate * 2) + 2), 0.005, None)
                ts = np.cumsum(isi)
                ts = ts[ts < d]
                if ts.size == 0:
                    continue
                shape = {"freq_hz": rng.uniform(150, 300), "decay_ms": 2.0, "dur_ms": 6.0}
                amps = rng.uniform(40.0, 120.0) * np.exp(0.1 * rng.standard_normal(ts.size))
                x, k = _spikes(rng, sfreq, ts, amps, shape)
                sig[: min(k, sig.size)] += x[: sig.size]
            i0 = round(s * sfreq)
            seg = sig[: n - i0]
            data[ch, i0 : i0 + seg.size] += seg
            rows.append(
                (name, "C", i0 / sfreq, (i0 + seg.size) / sfreq, np.nan, float(np.ptp(seg)))
            )
        for s, isi in zip(b_s, b_isi, strict=True):
            ts = np.r_[0.0, np.cumsum(isi)]
            amps = rng.uniform(100.0, 500.0, ts.size)
            shape = {"freq_hz": 400.0, "decay_ms": 0.8, "dur_ms": 3.0}
            x, k = _spikes(rng, sfreq, ts, amps, shape)
            i0 = round(s * sfreq)
            seg = x[: n - i0]
            data[ch, i0 : i0 + seg.size] += seg
            rows.append(
                (name, "B", i0 / sfreq, (i0 + seg.size) / sfreq, np.nan, float(np.ptp(seg)))
            )
    trains = pd.DataFrame(
        rows,
        columns=["channel", "train_type", "onset_s", "offset_s", "frequency_hz", "amplitude_uv"],
    )
    trains.insert(4, "duration_s", trains["offset_s"] - trains["onset_s"])
    trains = trains.sort_values(["channel", "onset_s"], kind="stable").reset_index(drop=True)
    a = trains[trains["train_type"] == "A"]
    tt = (
        a.groupby("channel")["duration_s"]
        .agg(["size", "sum"])
        .reindex(names, fill_value=0)
        .rename(columns={"size": "n_a_trains", "sum": "train_time_s"})
        .rename_axis("channel")
        .reset_index()
    )
    times = {p: t for p, t in _phase_times(phase_times_s).items() if t < duration_s}
    rec = from_array(
        data,
        sfreq,
        names,
        units="uV",
        ch_types="emg",
        events=_markers(times),
        muscles=muscles,
        sides=["left"] * len(muscles),
        meta={"source": "simulate_free_running", "seed": seed},
    )
    params = {
        "duration_s": duration_s,
        "sfreq": sfreq,
        "seed": seed,
        "a_frequency_hz": a_frequency_hz,
    }
    return SimulatedFreeRunning(recording=rec, trains=trains, train_time=tt, params=params)


# --------------------------------------------------------------------------- facial MEP


@dataclasses.dataclass(frozen=True)
class SimulatedFMEP:
    """A simulated facial-MEP monitoring session and its truth.

    Attributes
    ----------
    recording : Recording
        EMG (uV), a ``trigger`` channel with one edge per pulse, pulse events and the phase
        markers.
    phases : pandas.DataFrame
        ``phase``, ``onset_s``, ``label``.
    responses : pandas.DataFrame
        One row per (train, channel): ``stim_index``, ``stim_time_s``, ``channel``, ``muscle``,
        ``latency_ms`` (after the first pulse), ``p2p_uv`` (noiseless).
    trend : pandas.DataFrame
        Per channel: ``channel``, ``muscle``, ``final_over_baseline_pct`` from the noiseless
        amplitudes in the windows of :func:`hfs_emg.fmep_trend`, and ``design_pct``.
    params : dict
        The parameters used.
    """

    recording: Recording
    phases: pd.DataFrame
    responses: pd.DataFrame
    trend: pd.DataFrame
    params: dict[str, Any]


@fill_doc
def simulate_fmep(
    *,
    duration_s: float = 170.0,
    train_interval_s: float = 5.0,
    n_pulses: int = 4,
    isi_ms: float = 2.0,
    sfreq: float = 5000.0,
    muscles: Sequence[str] = ("orbicularis_oculi", "orbicularis_oris", "mentalis"),
    final_over_baseline: float | Mapping[str, float] | None = None,
    p2p_uv: float = 500.0,
    amplitude_cv: float = 0.25,
    ramp_s: float = 20.0,
    white_noise_uv: float = 8.0,
    background_uv: float = 6.0,
    artifact_uv: float = 5000.0,
    artifact_decay_ms: float = 0.5,
    phase_times_s: Mapping[str, float] | None = None,
    final_n: int = 3,
    seed: int = 0,
) -> SimulatedFMEP:
    """Simulate facial MEPs to transcranial train stimuli across an MVD.

    Every ``train_interval_s`` a train of ``n_pulses`` pulses ``isi_ms`` apart (each with its own
    stimulus artefact and trigger edge) evokes in each muscle a polyphasic MEP about 12-13 ms
    after the first pulse (unsourced; central FMEPs start after 10 ms, Baek et al. 2018) with a
    log-normal trial-to-trial variability (``amplitude_cv``; MEPs are variable). The amplitude
    is constant up to the decompression marker, then ramps over ``ramp_s`` to
    ``final_over_baseline`` times its baseline (default per muscle
    :data:`FMEP_FINAL_OVER_BASELINE`, Fukuda et al. 2010).

    Parameters
    ----------
    duration_s, train_interval_s : float
        Session length and time between trains (s).
    n_pulses : int
        Pulses per train.
    isi_ms : float
        Inter-pulse interval (ms).
    %(sfreq)s
    %(muscles)s
    final_over_baseline : float or dict, optional
        Final/baseline amplitude ratio (fraction), one value or per muscle.
    p2p_uv, amplitude_cv : float
        Mean baseline MEP amplitude (uV) and its trial-to-trial variability.
    ramp_s : float
        Duration of the change after the decompression marker (s).
    white_noise_uv, background_uv : float
        Noise RMS (uV): white, and band-limited 20-150 Hz EMG.
    artifact_uv, artifact_decay_ms : float
        Stimulus artefact of each pulse.
    phase_times_s : dict, optional
        Phase markers (default as :func:`simulate_mvd_lsr`); needs a decompression marker.
    final_n : int
        Trains of the final window of the truth (as ``fmep_trend``'s ``final_n``).
    %(seed)s

    Returns
    -------
    SimulatedFMEP

    References
    ----------
    .. [1] Fukuda M, et al. J Neurol Neurosurg Psychiatry 2010;81:519-523.

    Examples
    --------
    >>> sim = simulate_fmep(duration_s=40.0, phase_times_s={"dura_opening": 5.0,
    ...                     "decompression": 20.0, "dural_closure": 35.0})
    >>> sim.trend.set_index("muscle")["design_pct"].to_dict()
    {'orbicularis_oculi': 44.8, 'orbicularis_oris': 84.5, 'mentalis': 95.8}
    """
    sfreq = check_sfreq(sfreq)
    duration_s = check_positive(duration_s, "duration_s")
    interval = check_positive(train_interval_s, "train_interval_s")
    if int(n_pulses) < 1:
        raise ParameterError(f"n_pulses must be >= 1, got {n_pulses}.")
    times = _phase_times(phase_times_s)
    if "decompression" not in times:
        raise ParameterError("simulate_fmep needs a decompression marker in phase_times_s.")
    rng = np.random.default_rng(seed)
    muscles = list(muscles)
    for m in muscles:
        check_option("muscles", m, MUSCLES)
    ratio = _per_muscle(
        final_over_baseline, muscles, FMEP_FINAL_OVER_BASELINE, "final_over_baseline"
    )
    names = [f"{m}_L" for m in muscles]
    t_tr = np.arange(2.0, duration_s - 0.5, interval)
    pulses = (t_tr[:, None] + np.arange(int(n_pulses))[None, :] * isi_ms * 1e-3).ravel()
    p_s = np.round(pulses * sfreq).astype(np.int64)
    tr_s = p_s[:: int(n_pulses)]
    n = round(duration_s * sfreq)
    data = np.zeros((len(muscles) + 1, n))
    emg = data[:-1]
    emg += _coloured(rng, emg.shape, sfreq, background_uv)
    _artifact_and_noise(
        rng,
        emg,
        p_s,
        sfreq,
        np.full(len(muscles), float(white_noise_uv)),
        artifact_uv=artifact_uv,
        artifact_decay_ms=artifact_decay_ms,
        mains_hz=50.0,
        mains_uv=2.0,
    )
    k = np.clip((t_tr - times["decompression"]) / max(ramp_s, 1e-9), 0.0, 1.0)
    rows, trows = [], []
    idx = np.arange(t_tr.size)
    t_open = times.get("dura_opening", -np.inf)
    t_dec = times["decompression"]
    t_close = times.get("dural_closure", np.inf)
    base = idx[(t_tr >= t_open) & (t_tr < t_dec)]
    fin = idx[t_tr < t_close][-int(final_n) :]
    for ch, (m, name) in enumerate(zip(muscles, names, strict=True)):  # loop over channels
        lat = _FMEP_LATENCY_MS.get(m, 12.0) + 0.3 * rng.standard_normal(t_tr.size)
        a = p2p_uv * np.exp(amplitude_cv * rng.standard_normal(t_tr.size) - 0.5 * amplitude_cv**2)
        a = a * (1.0 - k * (1.0 - ratio[m]))
        # polyphasic: a main damped wave and a smaller, later, opposite one
        block = add_components(
            emg, ch, tr_s + lat * 1e-3 * sfreq, a / unit_p2p(**_FMEP_SHAPE), sfreq, **_FMEP_SHAPE
        )
        block2 = add_components(
            emg,
            ch,
            tr_s + (lat + 4.0) * 1e-3 * sfreq,
            -0.35 * a / unit_p2p(**_FMEP_SHAPE),
            sfreq,
            **_FMEP_SHAPE,
        )
        n_len = block.shape[1]
        full = np.zeros((t_tr.size, n_len + round(4e-3 * sfreq) + 4))
        full[:, :n_len] += block
        sh = int(np.floor((lat + 4.0) * 1e-3 * sfreq).mean() - np.floor(lat * 1e-3 * sfreq).mean())
        full[:, sh : sh + block2.shape[1]] += block2[:, : full.shape[1] - sh]
        p2p = full.max(axis=1) - full.min(axis=1)
        rows.append(
            pd.DataFrame(
                {
                    "stim_index": idx,
                    "stim_time_s": t_tr,
                    "channel": name,
                    "muscle": m,
                    "latency_ms": lat,
                    "p2p_uv": p2p,
                }
            )
        )
        b = float(p2p[base].mean()) if base.size else float(p2p[: int(final_n)].mean())
        trows.append(
            {
                "channel": name,
                "muscle": m,
                "final_over_baseline_pct": 100.0 * float(p2p[fin].mean()) / b,
                "design_pct": round(100.0 * ratio[m], 6),
            }
        )
    width = max(1, round(2e-4 * sfreq))
    trig = (p_s[:, None] + np.arange(width)[None, :]).ravel()
    data[-1, trig[trig < n]] = _TRIGGER_V * 1e6
    marks = {p: t for p, t in times.items() if t < duration_s}
    events = pd.concat(
        [
            pd.DataFrame({"onset_s": pulses, "duration_s": 0.0, "label": "TES pulse"}),
            _markers(marks),
        ],
        ignore_index=True,
    )
    meta = {"source": "simulate_fmep", "seed": seed}
    rec = _stimulated_recording(data, sfreq, names, muscles, events, meta)
    phases = pd.DataFrame(
        {
            "phase": list(marks),
            "onset_s": list(marks.values()),
            "label": [_PHASE_LABELS[p] for p in marks],
        }
    )
    params = {"n_pulses": int(n_pulses), "isi_ms": isi_ms, "sfreq": sfreq, "seed": seed}
    return SimulatedFMEP(
        recording=rec,
        phases=phases,
        responses=pd.concat(rows, ignore_index=True),
        trend=pd.DataFrame(trows),
        params=params,
    )
