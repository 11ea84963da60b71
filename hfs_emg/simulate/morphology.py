"""Simulated LSR sweeps of known morphology (phases, duration, afterdischarge, late component).

The initial response is a chain of ``n`` contiguous half-sine lobes of alternating sign, so it
has exactly ``n`` phases (``n - 1`` baseline crossings) and ``n`` turns; after a quiet gap an
afterdischarge of small spikes at 250-350 Hz (the after-activity frequency of Nielsen 1984)
may follow, and a late component near 35.3 ms (Misawa et al. 2006) in a fraction of sweeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._errors import ParameterError
from .._validate import check_option, check_sfreq
from ..anatomy import MUSCLES
from ..recording import Recording
from .evoked import _TRIGGER_V
from .mvd import _stimulated_background, _stimulated_recording

__all__ = ["SimulatedMorphology", "simulate_lsr_morphology"]


@dataclasses.dataclass(frozen=True)
class SimulatedMorphology:
    """Simulated LSR sweeps and the true morphology of each.

    Attributes
    ----------
    recording : Recording
        EMG (uV), a ``trigger`` channel and ``stim zygomatic`` events.
    truth : pandas.DataFrame
        One row per (stimulus, channel): ``stim_index``, ``channel``, ``onset_ms``,
        ``n_phases``, ``n_turns``, ``initial_duration_ms``, ``afterdischarge_present``,
        ``afterdischarge_onset_ms``, ``afterdischarge_duration_ms``, ``late_present``,
        ``late_latency_ms``.
    params : dict
        The parameters used.
    """

    recording: Recording
    truth: pd.DataFrame
    params: dict[str, Any]


def _half_sines(t_ms: np.ndarray, starts: np.ndarray, durs: np.ndarray, amps: np.ndarray):
    """Sum of half-sine lobes (start, duration, signed amplitude) on the grid ``t_ms``."""
    tau = (t_ms[None, :] - starts[:, None]) / durs[:, None]
    inside = (tau >= 0) & (tau < 1)
    return (amps[:, None] * np.where(inside, np.sin(np.pi * tau), 0.0)).sum(axis=0)


@fill_doc
def simulate_lsr_morphology(
    *,
    n_stimuli: int = 60,
    rate_hz: float = 1.0,
    sfreq: float = 10000.0,
    muscles: Sequence[str] = ("orbicularis_oculi", "mentalis"),
    n_phases: tuple[int, int] = (1, 7),
    lobe_ms: tuple[float, float] = (0.6, 1.2),
    p2p_uv: tuple[float, float] = (150.0, 400.0),
    afterdischarge_probability: float = 0.5,
    afterdischarge_ms: tuple[float, float] = (2.0, 8.0),
    gap_ms: tuple[float, float] = (2.5, 4.0),
    late_probability: float = 0.4,
    white_noise_uv: float = 5.0,
    background_uv: float = 4.0,
    artifact_uv: float = 2000.0,
    seed: int = 0,
) -> SimulatedMorphology:
    """Simulate LSR sweeps whose phases, duration, afterdischarge and late part are known.

    Per sweep and channel: onset near 10 ms (SD 0.5 ms); ``n_phases`` drawn uniformly from the
    inclusive range, each lobe ``lobe_ms`` long with an amplitude between 0.5 and 1 times half
    of ``p2p_uv``; with ``afterdischarge_probability`` an afterdischarge of biphasic 1-ms spikes
    (30-60 % of the initial amplitude, 1 ms wide) every 2.9-4 ms (250-350 Hz) lasting
    ``afterdischarge_ms`` after a quiet ``gap_ms``, ending before 24 ms; with
    ``late_probability`` a late three-lobe component at 35.3 +/- 3 ms, 0.4 times the initial
    amplitude (Misawa 2006). Background: band-limited EMG, white noise, 50 Hz, artefact.

    Parameters
    ----------
    n_stimuli : int
        Sweeps.
    rate_hz, sfreq : float
        Stimulation and sampling rate (Hz).
    muscles : sequence of str
        Recorded muscles (one channel each).
    n_phases : (int, int)
        Range of the number of phases of the initial response.
    lobe_ms, p2p_uv, afterdischarge_ms, gap_ms : (float, float)
        Ranges (see above).
    afterdischarge_probability, late_probability : float
        Fractions of sweeps with an afterdischarge and a late component.
    white_noise_uv, background_uv, artifact_uv : float
        Noise RMS and artefact size (uV).
    %(seed)s

    Returns
    -------
    SimulatedMorphology

    References
    ----------
    .. [1] Misawa S, et al. J Neurol Neurosurg Psychiatry 2006;77:216-218.
    .. [2] Nielsen VK. Neurology 1984;34:418-426 (after-activity at 250-350 Hz).

    Examples
    --------
    >>> sim = simulate_lsr_morphology(n_stimuli=5, seed=1)
    >>> sorted(sim.truth.columns)[:3]
    ['afterdischarge_duration_ms', 'afterdischarge_onset_ms', 'afterdischarge_present']
    """
    sfreq = check_sfreq(sfreq)
    lo, hi = int(n_phases[0]), int(n_phases[1])
    if not 1 <= lo <= hi:
        raise ParameterError(f"n_phases must be (low, high) with 1 <= low <= high, got {n_phases}.")
    muscles = list(muscles)
    for m in muscles:
        check_option("muscles", m, MUSCLES)
    rng = np.random.default_rng(seed)
    names = [f"{m}_L" for m in muscles]
    period = 1.0 / float(rate_hz)
    stim_t = 0.5 + np.arange(int(n_stimuli)) * period
    stim_s = np.round(stim_t * sfreq).astype(np.int64)
    data = _stimulated_background(
        rng,
        len(muscles),
        stim_s,
        sfreq,
        period,
        background_uv=background_uv,
        white_noise_uv=white_noise_uv,
        artifact_uv=artifact_uv,
        artifact_decay_ms=0.5,
    )
    emg = data[:-1]
    n = data.shape[1]
    n_seg = round(0.06 * sfreq)
    t_ms = np.arange(n_seg) / sfreq * 1e3
    rows = []
    for ch, name in enumerate(names):  # loop over channels, then sweeps (a waveform each)
        for i, s0 in enumerate(stim_s):
            onset = 10.0 + 0.5 * rng.standard_normal()
            k = int(rng.integers(lo, hi + 1))
            durs = rng.uniform(*lobe_ms, k)
            starts = onset + np.r_[0.0, np.cumsum(durs)[:-1]]
            half = 0.5 * rng.uniform(*p2p_uv)
            amps = half * rng.uniform(0.5, 1.0, k) * np.where(np.arange(k) % 2 == 0, -1.0, 1.0)
            wave = _half_sines(t_ms, starts, durs, amps)
            end = onset + float(durs.sum())
            ad_on, ad_dur, has_ad = np.nan, 0.0, rng.random() < afterdischarge_probability
            if has_ad:
                ad_on = end + rng.uniform(*gap_ms)
                dur = min(rng.uniform(*afterdischarge_ms), 24.0 - ad_on)
                isi = rng.uniform(1000.0 / 350.0, 1000.0 / 250.0)
                n_sp = max(1, int(np.floor(max(dur - 1.0, 0.0) / isi)) + 1)
                sp0 = ad_on + isi * np.arange(n_sp)
                a_sp = half * rng.uniform(0.6, 1.2, n_sp)
                st = np.r_[sp0, sp0 + 0.5]
                wave += _half_sines(t_ms, st, np.full(st.size, 0.5), np.r_[-a_sp, a_sp])
                ad_dur = float(sp0[-1] + 1.0 - ad_on)
            late_on, has_late = np.nan, rng.random() < late_probability
            if has_late:
                late_on = 35.3 + 3.0 * rng.standard_normal()
                ld = np.full(3, 1.5)
                ls = late_on + np.r_[0.0, 1.5, 3.0]
                wave += _half_sines(t_ms, ls, ld, 0.4 * half * np.array([-1.0, 1.0, -0.6]))
            j = min(n_seg, n - s0)
            emg[ch, s0 : s0 + j] += wave[:j]
            rows.append(
                (i, name, onset, k, k, float(durs.sum()), has_ad, ad_on, ad_dur, has_late, late_on)
            )
    truth = pd.DataFrame(
        rows,
        columns=[
            "stim_index",
            "channel",
            "onset_ms",
            "n_phases",
            "n_turns",
            "initial_duration_ms",
            "afterdischarge_present",
            "afterdischarge_onset_ms",
            "afterdischarge_duration_ms",
            "late_present",
            "late_latency_ms",
        ],
    )
    width = max(1, round(2e-4 * sfreq))
    trig = (stim_s[:, None] + np.arange(width)[None, :]).ravel()
    data[-1, trig[trig < n]] = _TRIGGER_V * 1e6
    events = pd.DataFrame({"onset_s": stim_s / sfreq, "duration_s": 0.0, "label": "stim zygomatic"})
    meta = {"source": "simulate_lsr_morphology", "seed": seed}
    rec = _stimulated_recording(data, sfreq, names, muscles, events, meta)
    params = {"n_stimuli": int(n_stimuli), "sfreq": sfreq, "seed": seed}
    return SimulatedMorphology(recording=rec, truth=truth, params=params)
