"""Nerve-conduction simulators with known F-wave duration, R2 area, recovery cycle and toxin course.

Unlike the damped sinusoids of :func:`simulate_nerve_conduction`, the responses here are
polyphasic waves of a set **duration**: a carrier (a sine of random frequency and phase for
F-waves; band-limited Gaussian noise for the R2) under an amplitude envelope that starts at the
true onset, fluctuates, and ends with a short half-cosine taper at the true end. The truth
tables hold the rectified area (integral of ``|x|``) and the duration of every noiseless
response. Background noise is white plus a coloured 20-150 Hz component (residual muscle
tone) and mains hum; a stimulus artefact decays over a few ms. Vectorised over stimuli and
deterministic by ``seed``.

Numbers: F-wave duration 13.1 ms on the spasm side vs 9.5 ms (Chin J Nerv Ment Dis 2019:577;
Ishikawa 1996), Fmin 8.97 ms, F/M 3.8-6.9 %; blink R1 about 10 ms, R2 about 29.5 ms; CMAP of
the injected orbicularis oculi about -40 % at 38 days after botulinum toxin (Glocker 1995),
recovering over months. The recovery-cycle curve ``1 - exp(-(ISI - dead) / tau)`` and its
"normal" / "enhanced" parameters reproduce the qualitative course (R2 suppressed at 100-300 ms,
near complete by 1.5 s; enhanced in blepharospasm and some HFS; Kimura; Eekhof 1996) and are
not fitted to published data. Response shapes, amplitudes and the noise model are not sourced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._errors import ParameterError
from .._validate import check_option, check_positive, check_sfreq
from ..recording import Recording, from_array

__all__ = [
    "RECOVERY_CURVES",
    "SimulatedNcsStudy",
    "SimulatedToxinCourse",
    "recovery_ratio",
    "simulate_blink_recovery",
    "simulate_blink_study",
    "simulate_f_wave_study",
    "simulate_toxin_course",
    "toxin_decrement",
]

#: ``(dead_s, tau_s)`` of the R2 recovery curve ``1 - exp(-(ISI - dead) / tau)`` (not sourced).
RECOVERY_CURVES: dict[str, tuple[float, float]] = {
    "normal": (0.10, 0.50),
    "enhanced": (0.05, 0.15),
}
_SFX = {"left": "L", "right": "R"}


@dataclasses.dataclass(frozen=True)
class SimulatedNcsStudy:
    """A simulated nerve-conduction study and its ground truth.

    Attributes
    ----------
    recording : Recording
        EMG channels (uV) with ``stim`` events (``onset_s``, ``stim_index``, ``side``).
    truth : pandas.DataFrame
        One row per simulated response (columns depend on the study, see each simulator).
    summary : pandas.DataFrame
        Truth aggregated like the matching measurement.
    params : dict
        Parameters used.
    """

    recording: Recording
    truth: pd.DataFrame
    summary: pd.DataFrame
    params: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class SimulatedToxinCourse:
    """CMAP studies at several visits after a botulinum-toxin injection.

    Attributes
    ----------
    visits : pandas.DataFrame
        One row per visit: ``visit``, ``date``, ``kind``, ``day`` (days after injection),
        ``dose_units``, ``site``.
    recordings : list of Recording
        One CMAP study per visit (injected and healthy side).
    truth : pandas.DataFrame
        One row per visit: ``visit``, ``day``, ``amplitude_ratio``, ``decrement_pct``.
    params : dict
        Parameters used.
    """

    visits: pd.DataFrame
    recordings: list[Recording]
    truth: pd.DataFrame
    params: dict[str, Any]


def recovery_ratio(isi_s: Any, *, curve: str | tuple[float, float] = "normal") -> np.ndarray:
    """R2 test/conditioning ratio of the simulated recovery cycle at interstimulus ``isi_s``.

    Examples
    --------
    >>> recovery_ratio([0.1, 0.5, 1.5]).round(2).tolist()
    [0.0, 0.55, 0.94]
    >>> bool(recovery_ratio(0.3, curve="enhanced") > recovery_ratio(0.3))
    True
    """
    if isinstance(curve, str):
        check_option("curve", curve, RECOVERY_CURVES)
        dead, tau = RECOVERY_CURVES[curve]
    else:
        dead, tau = (float(v) for v in curve)
    isi = np.asarray(isi_s, dtype=float)
    return 1.0 - np.exp(-np.maximum(isi - dead, 0.0) / tau)


def toxin_decrement(
    day: Any, *, peak_pct: float = 40.0, peak_day: float = 38.0, residual_pct: float = 0.0
) -> np.ndarray:
    """CMAP decrement (%) ``day`` days after a botulinum-toxin injection (simulation model).

    A gamma-variate course ``peak * (d / peak_day) * exp(1 - d / peak_day)`` with its maximum
    ``peak_pct`` at ``peak_day`` (Glocker 1995: about -40 % at 38 days), plus an optional
    ``residual_pct`` that persists after the peak (long-term users keep about 20 % at 4.7
    months, Butera); 0 before the injection.

    Examples
    --------
    >>> toxin_decrement([0, 38, 150]).round(1).tolist()
    [0.0, 40.0, 8.3]
    """
    d = np.asarray(day, dtype=float)
    x = np.maximum(d, 0.0) / peak_day
    dec = peak_pct * x * np.exp(1.0 - x)
    dec = np.where(d > peak_day, np.maximum(dec, residual_pct), dec)
    return np.where(d >= 0, dec, 0.0)


def _background(
    rng: np.random.Generator, n_ch: int, n: int, sfreq: float, opts: dict[str, float]
) -> np.ndarray:
    """White + coloured (20-150 Hz) noise + mains hum, (n_ch, n)."""
    data = rng.standard_normal((n_ch, n)) * opts["noise_uv"]
    if opts["background_uv"] > 0:
        spec = np.fft.rfft(rng.standard_normal((n_ch, n)), axis=1)
        f = np.fft.rfftfreq(n, 1.0 / sfreq)
        spec[:, (f < 20.0) | (f > 150.0)] = 0.0
        col = np.fft.irfft(spec, n=n, axis=1)
        col *= opts["background_uv"] / np.maximum(col.std(axis=1, keepdims=True), 1e-12)
        data += col
    t = np.arange(n) / sfreq
    phase = rng.uniform(0, 2 * np.pi, n_ch)
    data += opts["mains_uv"] * np.sin(2 * np.pi * 50.0 * t[None, :] + phase[:, None])
    return data


def _artifact(data: np.ndarray, stim: np.ndarray, sfreq: float, uv: float) -> None:
    n_art = int(np.ceil(8 * 0.4e-3 * sfreq)) + 1
    k = np.arange(n_art)
    idx = stim[:, None] + k[None, :]
    ok = idx < data.shape[1]
    shape = uv * np.exp(-k / (0.4e-3 * sfreq))
    for ch in range(data.shape[0]):  # loop over channels only
        np.add.at(data[ch], idx[ok], np.broadcast_to(shape, idx.shape)[ok])


def _envelope(tau_ms: np.ndarray, dur_ms: np.ndarray, rise_ms: float, taper_ms: float):
    """Amplitude envelope on ``0 <= tau < dur``: half-cosine rise and end taper."""
    d = dur_ms[:, None]
    inside = (tau_ms >= 0) & (tau_ms < d)
    rise = 0.5 * (1 - np.cos(np.pi * np.clip(tau_ms / rise_ms, 0, 1)))
    fall = 0.5 * (1 + np.cos(np.pi * np.clip((tau_ms - (d - taper_ms)) / taper_ms, 0, 1)))
    return np.where(inside, rise * fall, 0.0)


def _f_blocks(rng, n: int, sfreq: float, dur_ms: np.ndarray, p2p: np.ndarray) -> np.ndarray:
    """Polyphasic F-waves: sine 250-450 Hz, amplitude fluctuating 0.6-1.0, exact support."""
    n_len = int(np.ceil(dur_ms.max() * 1e-3 * sfreq)) + 2
    tau = np.arange(n_len)[None, :] / sfreq * 1e3
    freq = rng.uniform(250.0, 450.0, n)[:, None]
    carrier = np.sin(2 * np.pi * freq * tau * 1e-3)
    period = rng.uniform(3.0, 6.0, n)[:, None]
    wob = 0.8 + 0.2 * np.sin(2 * np.pi * tau / period + rng.uniform(0, 6.3, n)[:, None])
    env = _envelope(tau, dur_ms, 0.3, 1.0) * wob
    wave = -carrier * env
    scale = wave.max(axis=1) - wave.min(axis=1)
    return wave * (p2p / np.maximum(scale, 1e-12))[:, None]


def _f_unit_blocks(rng, n: int, sfreq: float, dur_ms: np.ndarray, p2p: np.ndarray) -> np.ndarray:
    """F-waves as 2-4 motor-unit potentials (2.5-5 ms each, 250-600 Hz, relative amplitude
    0.3-1.0): the first starts at the onset, the last ends at ``dur_ms``, the others start at
    random in between, so the wave may return to baseline between units and its last unit may
    be small."""
    n_len = int(np.ceil(dur_ms.max() * 1e-3 * sfreq)) + 2
    tau = np.arange(n_len)[None, :] / sfreq * 1e3
    k = rng.integers(2, 5, n)
    wave = np.zeros((n, n_len))
    for u in range(4):  # at most 4 units, each vectorised over trials
        length = np.minimum(rng.uniform(2.5, 5.0, n), dur_ms)
        if u == 0:
            start = np.zeros(n)
        elif u == 1:
            start = dur_ms - length  # the last unit ends at the true end
        else:
            start = rng.uniform(0.0, 1.0, n) * (dur_ms - length)
        t = tau - start[:, None]
        f = rng.uniform(250.0, 600.0, n)[:, None]
        amp = np.where(u < k, rng.uniform(0.3, 1.0, n), 0.0)[:, None]
        win = _envelope(t, length, 0.3, 1.0)
        wave += amp * (-np.sin(2 * np.pi * f * np.maximum(t, 0.0) * 1e-3)) * win
    scale = wave.max(axis=1) - wave.min(axis=1)
    return wave * (p2p / np.maximum(scale, 1e-12))[:, None]


def _r2_blocks(rng, n: int, sfreq: float, dur_ms: np.ndarray, p2p: np.ndarray) -> np.ndarray:
    """Polyphasic R2: 60-300 Hz band-limited noise under a rise / slow decay / taper envelope."""
    n_len = int(np.ceil(dur_ms.max() * 1e-3 * sfreq)) + 2
    n_fft = 2 * n_len
    spec = np.fft.rfft(rng.standard_normal((n, n_fft)), axis=1)
    f = np.fft.rfftfreq(n_fft, 1.0 / sfreq)
    spec[:, (f < 60.0) | (f > 300.0)] = 0.0
    carrier = np.fft.irfft(spec, n=n_fft, axis=1)[:, :n_len]
    carrier /= np.maximum(carrier.std(axis=1, keepdims=True), 1e-12)
    tau = np.arange(n_len)[None, :] / sfreq * 1e3
    env = _envelope(tau, dur_ms, 2.0, 3.0) * np.exp(-tau / 40.0)
    wave = carrier * env
    scale = wave.max(axis=1) - wave.min(axis=1)
    return wave * (p2p / np.maximum(scale, 1e-12))[:, None]


def _place(data: np.ndarray, row: int, start: np.ndarray, blocks: np.ndarray) -> None:
    idx = start[:, None] + np.arange(blocks.shape[1])[None, :]
    ok = idx < data.shape[1]
    np.add.at(data[row], idx[ok], blocks[ok])


def _recording(data, sfreq, names, muscles, sides, onsets, stim_sides, source) -> Recording:
    events = pd.DataFrame(
        {
            "onset_s": onsets,
            "duration_s": 0.0,
            "label": "stim",
            "stim_index": np.arange(onsets.size),
            "side": list(stim_sides),
        }
    )
    return from_array(
        data,
        sfreq,
        names,
        units="uV",
        ch_types="emg",
        events=events,
        muscles=muscles,
        sides=sides,
        meta={"source": source},
    )


def _noise_opts(noise_uv: float, background_uv: float, mains_uv: float) -> dict[str, float]:
    return {
        "noise_uv": check_positive(noise_uv, "noise_uv", allow_zero=True),
        "background_uv": check_positive(background_uv, "background_uv", allow_zero=True),
        "mains_uv": check_positive(mains_uv, "mains_uv", allow_zero=True),
    }


@fill_doc
def simulate_f_wave_study(
    *,
    sfreq: float = 10000.0,
    n_stimuli: int = 30,
    side: str = "left",
    persistence: float = 0.6,
    f_min_latency_ms: float = 8.97,
    chronodispersion_ms: float = 0.8,
    f_duration_ms: float = 13.1,
    f_duration_sd_ms: float = 1.5,
    m_latency_ms: float = 3.9,
    m_p2p_uv: float = 1800.0,
    f_m_ratio: float = 0.069,
    f_shape: str = "sine",
    noise_uv: float = 4.0,
    background_uv: float = 2.0,
    mains_uv: float = 1.0,
    artifact_uv: float = 2000.0,
    seed: int = 0,
) -> SimulatedNcsStudy:
    """Facial F-wave study (mentalis) with F-waves of known duration.

    Each supramaximal stimulus gives an M-wave (``m_latency_ms``, ``m_p2p_uv``) and, with
    probability ``persistence``, an F-wave with onset uniform in ``[f_min_latency_ms,
    f_min_latency_ms + chronodispersion_ms]``, duration normal around ``f_duration_ms`` (SD
    ``f_duration_sd_ms``, at least 3 ms) and p2p ``f_m_ratio`` x M (log-normal, SD 0.25).
    Use ``f_duration_ms=13.1`` for the spasm side and 9.5 for a normal side (Ishikawa 1996).
    ``f_shape="sine"``: one polyphasic wave (a 250-450 Hz sine whose amplitude fluctuates
    between 0.6 and 1 of its peak); ``"units"``: 2-4 motor-unit potentials spread over the
    duration (harder: gaps between units, a small last unit).

    Parameters
    ----------
    %(sfreq)s
    n_stimuli : int
        Number of stimuli (1 s apart).
    side : {"left", "right"}
        Stimulated and recorded side.
    persistence, f_min_latency_ms, chronodispersion_ms, f_duration_ms, f_duration_sd_ms : float
        F-wave parameters (see above).
    m_latency_ms, m_p2p_uv, f_m_ratio : float
        M-wave onset, amplitude, and F/M amplitude ratio.
    f_shape : {"sine", "units"}
        F-wave waveform (see above).
    noise_uv, background_uv, mains_uv : float
        White noise RMS, coloured 20-150 Hz background RMS, 50 Hz amplitude (uV).
    artifact_uv : float
        Stimulus-artefact size (uV).
    %(seed)s

    Returns
    -------
    SimulatedNcsStudy
        ``truth``: one row per stimulus: ``stim_index``, ``present``, ``latency_ms``,
        ``duration_ms``, ``p2p_uv``, ``area_uv_ms``; ``summary``: ``n_stimuli``, ``n_f``,
        ``persistence_pct``, ``f_duration_mean_ms``, ``f_mean_p2p_uv``.

    Examples
    --------
    >>> sim = simulate_f_wave_study(n_stimuli=10, sfreq=5000.0, seed=1)
    >>> sim.recording.ch_names
    ['mentalis_L']
    >>> bool(abs(sim.truth["duration_ms"].mean() - 13.1) < 2.0)
    True
    """
    sfreq = check_sfreq(sfreq)
    check_option("side", side, ("left", "right"))
    check_option("f_shape", f_shape, ("sine", "units"))
    opts = _noise_opts(noise_uv, background_uv, mains_uv)
    rng = np.random.default_rng(seed)
    n = int(n_stimuli)
    if n < 1:
        raise ParameterError(f"n_stimuli must be >= 1, got {n_stimuli}.")
    onsets = 0.5 + np.arange(n) * 1.0
    stim = np.round(onsets * sfreq).astype(np.int64)
    n_samp = int(stim[-1] + round(0.5 * sfreq))
    data = _background(rng, 1, n_samp, sfreq, opts)
    _artifact(data, stim, sfreq, artifact_uv)
    # M-wave: a biphasic wave of 6 ms at the onset sample (first departure exactly there)
    m_start = stim + np.round(m_latency_ms * 1e-3 * sfreq).astype(np.int64)
    m_dur = np.full(n, 6.0)
    n_m = int(np.ceil(6.0e-3 * sfreq)) + 2
    tau = np.arange(n_m)[None, :] / sfreq * 1e3
    m_wave = (
        -np.sin(2 * np.pi * 200.0 * tau * 1e-3)
        * np.exp(-tau / 2.0)
        * _envelope(tau, m_dur, 0.05, 1.5)
    )
    m_wave *= m_p2p_uv / (m_wave.max() - m_wave.min())
    _place(data, 0, m_start, np.broadcast_to(m_wave, (n, n_m)))
    present = rng.random(n) < persistence
    lat = f_min_latency_ms + chronodispersion_ms * rng.random(n)
    start = stim + np.round(lat * 1e-3 * sfreq).astype(np.int64)
    lat = (start - stim) / sfreq * 1e3  # on the sample grid: exact truth
    dur = np.maximum(f_duration_ms + f_duration_sd_ms * rng.standard_normal(n), 3.0)
    p2p = f_m_ratio * m_p2p_uv * np.exp(0.25 * rng.standard_normal(n) - 0.03)
    shape_fn = _f_blocks if f_shape == "sine" else _f_unit_blocks
    blocks = shape_fn(rng, n, sfreq, dur, p2p)
    blocks[~present] = 0.0
    _place(data, 0, start, blocks)
    dt = 1e3 / sfreq
    truth = pd.DataFrame(
        {
            "stim_index": np.arange(n),
            "present": present,
            "latency_ms": np.where(present, lat, np.nan),
            "duration_ms": np.where(present, dur, np.nan),
            "p2p_uv": np.where(present, blocks.max(1) - blocks.min(1), np.nan),
            "area_uv_ms": np.where(present, np.abs(blocks).sum(1) * dt, np.nan),
        }
    )
    summary = pd.DataFrame(
        [
            {
                "n_stimuli": n,
                "n_f": int(present.sum()),
                "persistence_pct": 100.0 * present.mean(),
                "f_duration_mean_ms": float(truth["duration_ms"].mean()),
                "f_mean_p2p_uv": float(truth["p2p_uv"].mean()),
            }
        ]
    )
    rec = _recording(
        data, sfreq, [f"mentalis_{_SFX[side]}"], ["mentalis"], [side], onsets, [side] * n,
        "simulate_f_wave_study",
    )  # fmt: skip
    params = {"sfreq": sfreq, "f_duration_ms": f_duration_ms, "persistence": persistence}
    params["seed"] = seed
    return SimulatedNcsStudy(rec, truth, summary, params)


@fill_doc
def simulate_blink_study(
    *,
    sfreq: float = 10000.0,
    n_stimuli: int = 8,
    affected_side: str = "left",
    r1_latency_ms: float = 10.0,
    r2_latency_ms: float = 29.5,
    r2_jitter_ms: float = 1.5,
    r2_duration_ms: float = 30.0,
    r2_duration_sd_ms: float = 4.0,
    r1_p2p_uv: float = 300.0,
    r2_p2p_uv: float = 400.0,
    synkinesis_ratio: float = 0.5,
    synkinesis_persistence: float = 1.0,
    noise_uv: float = 4.0,
    background_uv: float = 2.0,
    mains_uv: float = 1.0,
    artifact_uv: float = 1500.0,
    seed: int = 0,
) -> SimulatedNcsStudy:
    """Blink-reflex study with R2 of known rectified area and duration, and HFS synkinesis.

    Supraorbital stimuli of each side (``n_stimuli`` per side, 3 s apart). R1 (a short wave of
    5 ms) in the ipsilateral orbicularis oculi; R2 (band-limited polyphasic, duration
    ``r2_duration_ms`` +- ``r2_duration_sd_ms``) in both oculi. On the affected side the
    orbicularis oris and mentalis show synkinetic R1/R2 of the same shape, 0.5 ms later,
    scaled by ``synkinesis_ratio`` (so their rectified R2 area is that fraction of the oculi's);
    the healthy side's oris is silent.

    Parameters
    ----------
    %(sfreq)s
    n_stimuli : int
        Stimuli per side.
    affected_side : {"left", "right"}
        HFS side.
    r1_latency_ms, r2_latency_ms, r2_jitter_ms, r2_duration_ms, r2_duration_sd_ms : float
        Latencies and R2 duration (ms).
    r1_p2p_uv, r2_p2p_uv : float
        Amplitudes in the oculi (uV; R2 log-normal trial variability, SD 0.2).
    synkinesis_ratio : float
        Synkinetic / oculi amplitude (hence area) ratio on the affected side.
    synkinesis_persistence : float
        Probability that a synkinetic response appears at a given stimulus (each channel and
        component drawn independently): synkinesis in HFS "often varied considerably" (Auger
        1979). 1 (default) gives every one, as before.
    noise_uv, background_uv, mains_uv, artifact_uv : float
        As in :func:`simulate_f_wave_study`.
    %(seed)s

    Returns
    -------
    SimulatedNcsStudy
        ``truth``: one row per (stimulus, channel, component) with a response: ``stim_index``,
        ``stim_side``, ``channel``, ``component``, ``relation``, ``latency_ms``,
        ``duration_ms``, ``p2p_uv``, ``area_uv_ms`` (rectified, noiseless); ``summary``: means
        per (``stim_side``, ``channel``, ``component``).

    Examples
    --------
    >>> sim = simulate_blink_study(n_stimuli=2, sfreq=5000.0)
    >>> sorted(sim.truth["component"].unique())
    ['R1', 'R2']
    >>> "orbicularis_oris_R" in set(sim.truth["channel"])
    False
    """
    sfreq = check_sfreq(sfreq)
    check_option("affected_side", affected_side, ("left", "right"))
    opts = _noise_opts(noise_uv, background_uv, mains_uv)
    rng = np.random.default_rng(seed)
    healthy = "right" if affected_side == "left" else "left"
    nb = int(n_stimuli)
    stim_sides = np.array([affected_side] * nb + [healthy] * nb)
    n = stim_sides.size
    onsets = 0.5 + 3.0 * np.arange(n)
    stim = np.round(onsets * sfreq).astype(np.int64)
    a, h = _SFX[affected_side], _SFX[healthy]
    names = [f"orbicularis_oculi_{a}", f"orbicularis_oculi_{h}", f"orbicularis_oris_{a}",
             f"orbicularis_oris_{h}", f"mentalis_{a}"]  # fmt: skip
    muscles = ["orbicularis_oculi", "orbicularis_oculi", "orbicularis_oris", "orbicularis_oris",
               "mentalis"]  # fmt: skip
    sides = [affected_side, healthy, affected_side, healthy, affected_side]
    n_samp = int(stim[-1] + round(0.5 * sfreq))
    data = _background(rng, len(names), n_samp, sfreq, opts)
    _artifact(data, stim, sfreq, artifact_uv)
    # one R1 and one R2 waveform per (stimulus, side of the face); synkinetic copies scaled
    r1_lat = r1_latency_ms + np.where(stim_sides == affected_side, 0.2, 0.0)
    r2_lat = r2_latency_ms + r2_jitter_ms * rng.standard_normal(n)
    r1_dur = np.full(n, 5.0)
    rows = []
    dt = 1e3 / sfreq
    p_syn = float(synkinesis_persistence)
    if not 0.0 <= p_syn <= 1.0:
        raise ParameterError(f"synkinesis_persistence must be in [0, 1], got {p_syn!r}.")
    # a separate stream, so that the default (1.0) leaves the recording unchanged
    syn_rng = np.random.default_rng([int(seed), 7])
    for face_side in (affected_side, healthy):  # two sides of the face
        r2_dur = np.maximum(r2_duration_ms + r2_duration_sd_ms * rng.standard_normal(n), 8.0)
        r2_amp = r2_p2p_uv * np.exp(0.2 * rng.standard_normal(n))
        r2 = _r2_blocks(rng, n, sfreq, r2_dur, r2_amp)
        r1 = _f_blocks(rng, n, sfreq, r1_dur, r1_p2p_uv * np.exp(0.1 * rng.standard_normal(n)))
        ipsi = stim_sides == face_side
        lat2 = r2_lat + np.where(ipsi, 0.0, -0.2)
        for row, (name, m, s) in enumerate(zip(names, muscles, sides, strict=True)):
            if s != face_side:
                continue
            oculi = m == "orbicularis_oculi"
            if not oculi and s != affected_side:
                continue
            delay, scale = (0.0, 1.0) if oculi else (0.5, synkinesis_ratio)
            for comp, blocks, lat, sel in (("R1", r1, r1_lat, ipsi), ("R2", r2, lat2, None)):
                sel = np.ones(n, bool) if sel is None else sel
                if not oculi and p_syn < 1.0:
                    sel = sel & (syn_rng.random(n) < p_syn)
                start = stim + np.round((lat + delay) * 1e-3 * sfreq).astype(np.int64)
                b = scale * blocks
                _place(data, row, start[sel], b[sel])
                rows.append(
                    pd.DataFrame(
                        {
                            "stim_index": np.flatnonzero(sel),
                            "stim_side": stim_sides[sel],
                            "channel": name,
                            "muscle": m,
                            "component": comp,
                            "relation": np.where(ipsi[sel], "ipsilateral", "contralateral"),
                            "latency_ms": ((start - stim) / sfreq * 1e3)[sel],
                            "duration_ms": (r1_dur if comp == "R1" else r2_dur)[sel],
                            "p2p_uv": (b.max(1) - b.min(1))[sel],
                            "area_uv_ms": (np.abs(b).sum(1) * dt)[sel],
                        }
                    )
                )
    truth = pd.concat(rows, ignore_index=True).sort_values(
        ["stim_index", "channel", "component"], ignore_index=True
    )
    summary = (
        truth.groupby(["stim_side", "channel", "component", "relation"], sort=True)[
            ["latency_ms", "duration_ms", "p2p_uv", "area_uv_ms"]
        ]
        .mean()
        .reset_index()
    )
    rec = _recording(data, sfreq, names, muscles, sides, onsets, stim_sides, "simulate_blink_study")
    params = {"sfreq": sfreq, "affected_side": affected_side, "seed": seed}
    params["synkinesis_ratio"] = synkinesis_ratio
    params["synkinesis_persistence"] = p_syn
    return SimulatedNcsStudy(rec, truth, summary, params)


@fill_doc
def simulate_blink_recovery(
    *,
    isis_s: Sequence[float] = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5),
    n_pairs: int = 4,
    curve: str | tuple[float, float] = "normal",
    stim_side: str = "left",
    sfreq: float = 10000.0,
    pair_interval_s: float = 4.0,
    r2_latency_ms: float = 29.5,
    r2_duration_ms: float = 30.0,
    r2_p2p_uv: float = 400.0,
    noise_uv: float = 4.0,
    background_uv: float = 2.0,
    mains_uv: float = 1.0,
    artifact_uv: float = 1500.0,
    seed: int = 0,
) -> SimulatedNcsStudy:
    """Paired-pulse blink-reflex recovery cycle with a known R2 test/conditioning ratio.

    ``n_pairs`` pairs per ISI (in random order, ``pair_interval_s`` apart) stimulate
    ``stim_side``; the conditioning R2 is as in :func:`simulate_blink_study` (both oculi), the
    test R2 has its amplitude scaled by :func:`recovery_ratio` of the ISI (``curve``
    ``"normal"``, or ``"enhanced"`` for blepharospasm / HFS) with a 10 % trial variability.
    R1 is unchanged. (Real protocols rest 10-20 s between pairs against habituation, which is
    not simulated.)

    Parameters
    ----------
    isis_s : sequence of float
        Interstimulus intervals (s).
    n_pairs : int
        Pairs per ISI.
    curve : {"normal", "enhanced"} or (dead_s, tau_s)
        Recovery curve (:data:`RECOVERY_CURVES`).
    stim_side : {"left", "right"}
        Stimulated side.
    sfreq, pair_interval_s, r2_latency_ms, r2_duration_ms, r2_p2p_uv : float
        Sampling rate, rest between pairs, R2 parameters.
    noise_uv, background_uv, mains_uv, artifact_uv : float
        As in :func:`simulate_f_wave_study`.
    %(seed)s

    Returns
    -------
    SimulatedNcsStudy
        ``truth``: one row per (pair, channel): ``pair``, ``isi_ms``, ``channel``,
        ``conditioning_area_uv_ms``, ``test_area_uv_ms``; ``summary``: per (channel, ISI)
        ``isi_ms``, ``expected_ratio`` (the curve), ``recovery_ratio`` (mean test / mean
        conditioning area of the noiseless responses).

    Examples
    --------
    >>> sim = simulate_blink_recovery(isis_s=(0.2, 1.0), n_pairs=2, sfreq=5000.0)
    >>> sim.summary.query("channel == 'orbicularis_oculi_L'")["isi_ms"].tolist()
    [200.0, 1000.0]
    """
    sfreq = check_sfreq(sfreq)
    check_option("stim_side", stim_side, ("left", "right"))
    opts = _noise_opts(noise_uv, background_uv, mains_uv)
    rng = np.random.default_rng(seed)
    isis = np.repeat(np.asarray(isis_s, dtype=float), int(n_pairs))
    if isis.size == 0 or (isis <= 0).any():
        raise ParameterError(f"isis_s must be positive intervals, got {isis_s}.")
    isis = isis[rng.permutation(isis.size)]
    n_p = isis.size
    cond_t = 0.5 + pair_interval_s * np.arange(n_p)
    onsets = np.stack([cond_t, cond_t + isis], axis=1).reshape(-1)
    n = onsets.size
    stim = np.round(onsets * sfreq).astype(np.int64)
    other = "right" if stim_side == "left" else "left"
    names = [f"orbicularis_oculi_{_SFX[stim_side]}", f"orbicularis_oculi_{_SFX[other]}"]
    n_samp = int(stim[-1] + round(0.5 * sfreq))
    data = _background(rng, 2, n_samp, sfreq, opts)
    _artifact(data, stim, sfreq, artifact_uv)
    ratio = recovery_ratio(isis, curve=curve)
    gain = np.ones(n)
    gain[1::2] = np.clip(ratio * (1.0 + 0.1 * rng.standard_normal(n_p)), 0.0, None)
    dt = 1e3 / sfreq
    truth_rows = []
    for row in range(2):  # ipsilateral then contralateral oculi
        dur = np.maximum(r2_duration_ms + 4.0 * rng.standard_normal(n), 8.0)
        amp = r2_p2p_uv * np.exp(0.2 * rng.standard_normal(n)) * gain
        r2 = _r2_blocks(rng, n, sfreq, dur, amp)
        lat = r2_latency_ms + 1.5 * rng.standard_normal(n) - (0.2 if row else 0.0)
        _place(data, row, stim + np.round(lat * 1e-3 * sfreq).astype(np.int64), r2)
        if row == 0:
            r1 = _f_blocks(rng, n, sfreq, np.full(n, 5.0), np.full(n, 300.0))
            _place(data, 0, stim + round(10e-3 * sfreq), r1)
        area = np.abs(r2).sum(1) * dt
        truth_rows.append(
            pd.DataFrame(
                {
                    "pair": np.arange(n_p),
                    "isi_ms": np.round(isis, 3) * 1e3,
                    "channel": names[row],
                    "conditioning_area_uv_ms": area[0::2],
                    "test_area_uv_ms": area[1::2],
                }
            )
        )
    truth = pd.concat(truth_rows, ignore_index=True)
    g = truth.groupby(["channel", "isi_ms"], sort=True)
    summary = g[["conditioning_area_uv_ms", "test_area_uv_ms"]].mean().reset_index()
    summary["expected_ratio"] = recovery_ratio(summary["isi_ms"] / 1e3, curve=curve)
    summary["recovery_ratio"] = summary["test_area_uv_ms"] / summary["conditioning_area_uv_ms"]
    rec = _recording(
        data, sfreq, names, ["orbicularis_oculi"] * 2, [stim_side, other], onsets,
        [stim_side] * n, "simulate_blink_recovery",
    )  # fmt: skip
    params = {"sfreq": sfreq, "curve": curve, "n_pairs": int(n_pairs), "seed": seed}
    return SimulatedNcsStudy(rec, truth, summary, params)


@fill_doc
def simulate_toxin_course(
    *,
    days: Sequence[float] = (0.0, 14.0, 38.0, 90.0, 150.0),
    injection_days: Sequence[float] = (0.0,),
    injection_date: str = "2024-01-15",
    dose_units: float = 20.0,
    site: str = "orbicularis_oculi",
    injected_side: str = "left",
    peak_pct: float = 40.0,
    peak_day: float = 38.0,
    residual_pct: float = 0.0,
    cmap_p2p_uv: float = 3000.0,
    cmap_latency_ms: float = 3.6,
    n_stimuli: int = 4,
    sfreq: float = 10000.0,
    noise_uv: float = 4.0,
    seed: int = 0,
) -> SimulatedToxinCourse:
    """CMAP of an injected muscle over visits around botulinum-toxin injections (cycles).

    One CMAP study (stimulation of each facial nerve, ``n_stimuli`` per side, recording from
    ``site`` on both sides) per visit ``days`` after the first injection: a day before it is a
    ``"baseline"`` visit, a day in ``injection_days`` a ``"toxin_injection"`` visit (CMAP
    recorded before injecting), other days ``"follow_up"`` visits. Each injection reduces the
    injected side's amplitude by :func:`toxin_decrement` (peak ``peak_pct`` at ``peak_day``;
    Glocker 1995); repeated injections combine multiplicatively (each blocks a fraction of the
    remaining endplates), so the side-to-side ``amplitude_ratio`` is
    ``prod(1 - decrement_i / 100)``.

    Parameters
    ----------
    days : sequence of float
        Visit days relative to the first injection.
    injection_days : sequence of float
        Days of the injections (the first is usually 0; e.g. ``(0, 120)`` for two cycles).
    injection_date : str
        ISO date of day 0 (visit dates are computed from it).
    dose_units, site : float, str
        Dose (units) and injected muscle, recorded in the visit table.
    injected_side : {"left", "right"}
        Injected (HFS) side.
    peak_pct, peak_day, residual_pct : float
        Decrement course (:func:`toxin_decrement`).
    cmap_p2p_uv, cmap_latency_ms : float
        Healthy CMAP amplitude (uV) and onset latency (ms).
    n_stimuli : int
        Stimuli per side and visit.
    sfreq, noise_uv : float
        Sampling rate and white-noise RMS.
    %(seed)s

    Returns
    -------
    SimulatedToxinCourse

    Examples
    --------
    >>> sim = simulate_toxin_course(days=(-7, 0, 38), sfreq=5000.0)
    >>> sim.visits["kind"].tolist()
    ['baseline', 'toxin_injection', 'follow_up']
    >>> bool(abs(sim.truth["decrement_pct"].iloc[2] - 40.0) < 1.0)
    True
    >>> two = simulate_toxin_course(days=(0, 120, 158), injection_days=(0, 120), sfreq=5000.0)
    >>> two.visits["kind"].tolist(), bool(two.truth["decrement_pct"].iloc[2] > 40.0)
    (['toxin_injection', 'toxin_injection', 'follow_up'], True)
    """
    sfreq = check_sfreq(sfreq)
    check_option("injected_side", injected_side, ("left", "right"))
    rng = np.random.default_rng(seed)
    healthy = "right" if injected_side == "left" else "left"
    days_arr = np.asarray(days, dtype=float)
    inj_days = np.asarray(injection_days, dtype=float)
    ratio = np.ones(days_arr.size)
    for d0 in inj_days:  # a few injections
        dec = toxin_decrement(
            days_arr - d0, peak_pct=peak_pct, peak_day=peak_day, residual_pct=residual_pct
        )
        ratio *= 1.0 - dec / 100.0
    inj = pd.Timestamp(injection_date)
    nc = int(n_stimuli)
    stim_sides = np.array([injected_side] * nc + [healthy] * nc)
    onsets = 0.5 + np.arange(2 * nc) * 1.0
    stim = np.round(onsets * sfreq).astype(np.int64)
    n_samp = int(stim[-1] + round(0.5 * sfreq))
    n_m = int(np.ceil(8e-3 * sfreq)) + 2
    tau = np.arange(n_m)[None, :] / sfreq * 1e3
    base = -np.sin(2 * np.pi * 180.0 * tau * 1e-3) * np.exp(-tau / 3.0)
    base = base * _envelope(tau, np.array([8.0]), 0.05, 2.0)
    base /= base.max() - base.min()
    names = [f"{site}_{_SFX[injected_side]}", f"{site}_{_SFX[healthy]}"]
    recs = []
    true_ratio = []
    for r in ratio:  # one study per visit (a handful)
        data = _background(rng, 2, n_samp, sfreq, _noise_opts(noise_uv, 0.0, 1.0))
        _artifact(data, stim, sfreq, 1500.0)
        amps = []
        for row, s in enumerate((injected_side, healthy)):
            sel = stim_sides == s
            amp = cmap_p2p_uv * (r if s == injected_side else 1.0)
            amp = amp * (1.0 + 0.005 * rng.standard_normal(int(sel.sum())))
            lat = cmap_latency_ms + (0.3 if s == injected_side else 0.0)
            start = stim[sel] + round(lat * 1e-3 * sfreq)
            _place(data, row, start, amp[:, None] * base)
            amps.append(amp.mean())
        true_ratio.append(amps[0] / amps[1])
        sides = [injected_side, healthy]
        recs.append(
            _recording(data, sfreq, names, [site, site], sides, onsets, stim_sides, "toxin")
        )
    true_ratio_arr = np.asarray(true_ratio)
    dates = [(inj + pd.Timedelta(days=float(d))).date().isoformat() for d in days_arr]
    first = float(inj_days.min()) if inj_days.size else 0.0
    kinds = [
        "baseline" if d < first else ("toxin_injection" if d in inj_days else "follow_up")
        for d in days_arr
    ]
    visits = pd.DataFrame(
        {
            "visit": [f"v{i + 1}" for i in range(days_arr.size)],
            "date": dates,
            "kind": kinds,
            "day": days_arr,
            "dose_units": [dose_units if k == "toxin_injection" else np.nan for k in kinds],
            "site": [site if k == "toxin_injection" else None for k in kinds],
        }
    )
    truth = pd.DataFrame(
        {
            "visit": visits["visit"],
            "day": days_arr,
            "amplitude_ratio": true_ratio_arr,
            "decrement_pct": 100.0 * (1.0 - true_ratio_arr),
        }
    )
    params = {"peak_pct": peak_pct, "peak_day": peak_day, "injection_date": injection_date}
    params["injection_days"] = [float(d) for d in inj_days]
    params.update({"dose_units": dose_units, "site": site, "seed": seed})
    return SimulatedToxinCourse(visits, recs, truth, params)
