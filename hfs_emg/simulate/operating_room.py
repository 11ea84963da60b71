"""An operating-room LSR simulator: the signals that break naive evoked-response detectors.

:func:`simulate_or_session` renders an intra-operative lateral-spread-response (LSR) session with
everything that makes real microvascular-decompression recordings hard, each effect seeded and
recorded in the truth tables:

- **Background**: coloured physiological EMG (residual tone under anaesthesia, white noise
  band-limited to 20-150 Hz by a 4th-order Butterworth band-pass), white amplifier noise, and
  mains hum at 50 or 60 Hz with its harmonics.
- **Stimulus artefact**: a spike (sub-millisecond decay) plus a slow capacitive recovery made of
  one or two exponentials (time constants up to 10 ms and more), sometimes biphasic (the second
  exponential of opposite sign); sign, size and time constants vary per electrode and, through
  the electrode impedance, from sweep to sweep.
- **Amplifier saturation**: a fraction of sweeps with a much larger artefact that clips at the
  amplifier range and recovers slowly.
- **Volume-conducted crosstalk** of the direct M-wave into neighbouring muscles (a crosstalk
  matrix between recorded muscles; facial muscles lie centimetres apart).
- **Intermittent LSR**: present in a fraction of sweeps, amplitude drifting over minutes, fading
  out and disappearing at a known stimulus (the decompression).
- **Electrocautery** bursts: broadband mV-scale noise for a few seconds, clipped.
- **Alternating two-site montages**: zygomatic stimulation (LSR in mentalis) alternating with
  marginal-mandibular stimulation (LSR in orbicularis oculi), each stimulus labelled in its
  marker text the way clinical systems do (``"stim zygomatic 12 mA"``).

The evoked waveforms reuse the building blocks of :mod:`hfs_emg.simulate.evoked` (damped sinusoids
that start exactly at their true onset). :data:`TUNING_GRID` and :data:`HELD_OUT_GRID` list the
conditions and seeds of the validation (``docs/validation_evoked.md``); defaults of the detectors
may be chosen on the tuning grid only.

References
----------
.. [1] Park SK, Joo BE, Park K. Intraoperative neurophysiological monitoring during microvascular
   decompression surgery for hemifacial spasm. Life 2023;13:1825 (alternating montages,
   stimulation parameters and artefacts).
.. [2] Lee S, Park SK, Lee JA et al. Clin Neurophysiol 2018;129:1490 (stimulation sites,
   intensities).
.. [3] Merletti R, Farina D (eds.). Surface Electromyography: Physiology, Engineering, and
   Applications. Wiley-IEEE 2016 (crosstalk by volume conduction; stimulus artefact and amplifier
   recovery).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import butter, sosfilt

from .._docs import fill_doc
from .._errors import ParameterError
from .._validate import check_option, check_positive, check_sfreq
from ..anatomy import MUSCLES
from ..recording import from_array
from ._waves import add_components, unit_p2p
from .evoked import (
    _LATE_SHAPE,
    _LSR_SHAPE,
    _TRIGGER_V,
    _TRIGGER_WIDTH_S,
    LSR_LATENCY_MS,
    LSR_P2P_UV,
    SimulatedSession,
    _per_muscle,
)

__all__ = ["HELD_OUT_GRID", "MONTAGES", "TUNING_GRID", "or_condition", "simulate_or_session"]

#: The two classic montages: stimulated branch -> the muscle where the LSR is read.
MONTAGES: dict[str, str] = {"zygomatic": "mentalis", "marginal_mandibular": "orbicularis_oculi"}

#: Direct M-wave of a facial muscle in the OR: longer than in the nerve-conduction simulator
#: (a facial CMAP lasts 6-12 ms), so its tail reaches into the LSR window.
_OR_DIRECT_SHAPE = {"freq_hz": 200.0, "decay_ms": 3.0, "dur_ms": 9.0}
_SPIKE_TAU_MS = 0.15
_EPOCH_S = (-0.05, 0.05)


def _crosstalk_matrix(
    crosstalk: float | Mapping[tuple[str, str], float], muscles: Sequence[str]
) -> np.ndarray:
    """C[i, j]: fraction of muscle j's M-wave seen on channel i."""
    n = len(muscles)
    c = np.zeros((n, n))
    if isinstance(crosstalk, Mapping):
        for (src, dst), v in crosstalk.items():
            if src not in muscles or dst not in muscles:
                raise ParameterError(f"crosstalk names muscles not simulated: {(src, dst)}.")
            c[muscles.index(dst), muscles.index(src)] = float(v)
        return c
    f = float(crosstalk)
    rank = np.array([MUSCLES[m].rank for m in muscles])
    d = np.abs(rank[:, None] - rank[None, :])
    c[(d > 0) & (d <= 1.5)] = f
    c[(d > 1.5) & (d <= 3.0)] = f / 3.0
    return c


def _coloured(rng: np.random.Generator, shape: tuple[int, int], sfreq: float, band, rms):
    """White noise band-limited to ``band`` (Hz), scaled to ``rms`` per row."""
    if rms <= 0:
        return np.zeros(shape)
    hi = min(band[1], 0.45 * sfreq)
    sos = butter(4, [band[0], hi], btype="bandpass", fs=sfreq, output="sos")
    x = sosfilt(sos, rng.standard_normal(shape), axis=-1)
    x /= x.std(axis=-1, keepdims=True)
    return x * rms


@fill_doc
def simulate_or_session(
    *,
    n_stimuli: int = 240,
    rate_hz: float = 1.0,
    sfreq: float = 10000.0,
    montage: str = "alternating",
    muscles: Sequence[str] = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis"),
    side: str = "left",
    lsr_latency_ms: float | Mapping[str, float] | None = None,
    lsr_p2p_uv: float | Mapping[str, float] | None = None,
    lsr_fraction: float = 0.9,
    drift_cv: float = 0.25,
    drift_period_s: float = 180.0,
    jitter_ms: float = 0.25,
    amplitude_cv: float = 0.15,
    late_probability: float = 0.4,
    disappearance_index: int | None = 160,
    fade_stimuli: int = 3,
    direct_latency_ms: float = 3.5,
    direct_p2p_uv: float = 2000.0,
    background_uv: float = 5.0,
    background_band_hz: tuple[float, float] = (20.0, 150.0),
    amp_noise_uv: float = 1.5,
    mains_hz: float = 50.0,
    mains_uv: float = 3.0,
    mains_harmonics: int = 7,
    artifact_uv: float = 3000.0,
    tail_uv: float = 0.0,
    tail_tau_ms: float | tuple[float, float] = 3.0,
    two_exponential_probability: float = 0.5,
    biphasic_probability: float = 0.3,
    impedance_cv: float = 0.1,
    crosstalk: float | Mapping[tuple[str, str], float] = 0.0,
    saturation_probability: float = 0.0,
    clip_uv: float = 10000.0,
    cautery_per_min: float = 0.0,
    intensity_ma: float | Mapping[str, float] = 12.0,
    trigger: bool = True,
    first_stim_s: float = 1.0,
    seed: int = 0,
) -> SimulatedSession:
    """Simulate an LSR monitoring session as hard as the operating room, with ground truth.

    Parameters
    ----------
    n_stimuli : int
        Number of stimuli (all montages together).
    %(rate_hz)s
    %(sfreq)s
    montage : {"alternating", "zygomatic", "marginal_mandibular"}
        Stimulated branch: alternately zygomatic and marginal mandibular (starting zygomatic),
        or one of them throughout (see :data:`MONTAGES`).
    muscles : sequence of str
        Recorded muscles, one channel each. A muscle supplied by the stimulated branch gives the
        direct M-wave; the others can show an LSR.
    side : {"left", "right"}
        Side of the recordings.
    lsr_latency_ms, lsr_p2p_uv : float or dict, optional
        Mean LSR onset latency (ms) and peak-to-peak amplitude (uV), one value or per muscle
        (defaults :data:`~hfs_emg.simulate.evoked.LSR_LATENCY_MS`,
        :data:`~hfs_emg.simulate.evoked.LSR_P2P_UV`). 0 = no LSR (the no-LSR condition).
    lsr_fraction : float
        Fraction of sweeps in which the LSR appears while it persists (intermittency).
    drift_cv, drift_period_s : float
        Slow multiplicative drift of the LSR amplitude (log-SD, period of the slowest of two
        random sinusoids, s): changes with anaesthesia depth or CSF drainage over minutes.
    jitter_ms, amplitude_cv : float
        Trial-to-trial latency SD (ms) and amplitude CV (log-normal).
    late_probability : float
        Fraction of LSR sweeps with the late component near 35 ms (Misawa 2006).
    disappearance_index : int or None
        First stimulus without LSR (the decompression); None = persists.
    fade_stimuli : int
        Stimuli of the linear fade before ``disappearance_index``.
    direct_latency_ms, direct_p2p_uv : float
        Direct M-wave onset (ms) and amplitude (uV) in the stimulated branch's muscles.
    background_uv : float
        RMS of the coloured background EMG (uV), band ``background_band_hz``.
    background_band_hz : (float, float)
        Band of the background EMG (Hz).
    amp_noise_uv : float
        White amplifier noise RMS (uV).
    mains_hz, mains_uv : float
        Mains frequency (Hz) and fundamental amplitude (uV).
    mains_harmonics : int
        Number of mains harmonics (amplitude of harmonic h: ``mains_uv / h``).
    artifact_uv : float
        Peak of the stimulus spike (uV, scaled 0.5-1.5 per electrode).
    tail_uv : float
        Initial amplitude of the slow capacitive recovery (uV, scaled 0.5-1.5 per electrode);
        0 = spike only.
    tail_tau_ms : float or (float, float)
        Recovery time constant (ms), or a range drawn per electrode (log-uniform).
    two_exponential_probability, biphasic_probability : float
        Per electrode: probability of a second exponential (time constant 2-4 times the first,
        30-60 % of its amplitude), and that this second term has the opposite sign (biphasic).
    impedance_cv : float
        Sweep-to-sweep variation of the artefact amplitude and time constants (electrode
        impedance), log-SD.
    crosstalk : float or dict
        Volume-conducted fraction of the direct M-wave in neighbouring muscles: a scalar for
        neighbours within 1.5 ranks of :data:`hfs_emg.anatomy.MUSCLES` (a third of it within 3
        ranks), or ``{(source_muscle, recording_muscle): fraction}``.
    saturation_probability : float
        Fraction of sweeps whose artefact is 10 times larger, saturates the amplifier
        (``clip_uv``) and recovers with a 15 ms time constant.
    clip_uv : float
        Amplifier range (uV).
    cautery_per_min : float
        Mean number of electrocautery bursts per minute (0.5-3 s of broadband mV noise).
    intensity_ma : float or dict
        Stimulus intensity written in the markers (mA), one value or per stimulated branch.
    trigger : bool
        Add a TTL trigger channel (otherwise the markers are the only stimulus evidence).
    first_stim_s : float
        Time of the first stimulus (s).
    %(seed)s

    Returns
    -------
    SimulatedSession
        ``recording`` (EMG in uV, optional ``trigger``, marker events ``"stim <branch> <I> mA"``),
        ``stimuli`` (``stim_index``, ``stim_time_s``, ``stim_branch``, ``intensity_ma``,
        ``contaminated``), ``responses`` (one row per stimulus and channel: ``stim_index``,
        ``stim_time_s``, ``channel``, ``muscle``, ``montage``, ``kind``, ``present``,
        ``latency_ms``, ``p2p_uv``, ``area_uv_ms``, ``crosstalk_p2p_uv``, ``contaminated``:
        saturated or cauterised sweeps that should be rejected), ``trend`` (one row per
        montage and LSR channel: ``montage``, ``channel``, ``muscle``, ``status``,
        ``disappearance_stim_index``, ``disappearance_time_s``, ``baseline_p2p_uv``),
        ``noise_uv`` (background plus amplifier RMS per channel) and ``params``.

    Examples
    --------
    >>> sim = simulate_or_session(n_stimuli=6, sfreq=5000.0, tail_uv=500.0, crosstalk=0.05)
    >>> sim.recording.events["label"].tolist()[:2]
    ['stim zygomatic 12 mA', 'stim marginal_mandibular 12 mA']
    >>> sim.responses.query("stim_index == 0").set_index("channel")["kind"].to_dict()
    {'frontalis_L': 'lsr', 'orbicularis_oculi_L': 'direct', 'orbicularis_oris_L': 'lsr', \
'mentalis_L': 'lsr'}
    """
    sfreq = check_sfreq(sfreq)
    rate_hz = check_positive(rate_hz, "rate_hz")
    check_option("montage", montage, ("alternating", *MONTAGES))
    check_option("side", side, ("left", "right"))
    if int(n_stimuli) < 1:
        raise ParameterError(f"n_stimuli must be >= 1, got {n_stimuli}.")
    n_stim = int(n_stimuli)
    muscles = list(muscles)
    for m in muscles:
        check_option("muscles", m, MUSCLES)
    rng = np.random.default_rng(seed)
    lat = _per_muscle(lsr_latency_ms, muscles, LSR_LATENCY_MS, "lsr_latency_ms")
    amp = _per_muscle(lsr_p2p_uv, muscles, LSR_P2P_UV, "lsr_p2p_uv")
    branches = list(MONTAGES)
    if montage == "alternating":
        stim_branch = np.array([branches[i % 2] for i in range(n_stim)], dtype=object)
    else:
        stim_branch = np.full(n_stim, montage, dtype=object)
    if isinstance(intensity_ma, Mapping):
        intens = np.array([float(intensity_ma.get(b, 12.0)) for b in stim_branch])
    else:
        intens = np.full(n_stim, float(intensity_ma))

    stim_times = first_stim_s + np.arange(n_stim) / rate_hz
    stim_samples = np.round(stim_times * sfreq).astype(np.int64)
    n_samples = int(stim_samples[-1] + round(0.6 * sfreq))
    n_ch = len(muscles)
    sfx = "L" if side == "left" else "R"
    names = [f"{m}_{sfx}" for m in muscles]

    # ------------------------------------------------------------------ background
    emg = _coloured(rng, (n_ch, n_samples), sfreq, background_band_hz, background_uv)
    emg += amp_noise_uv * rng.standard_normal((n_ch, n_samples))
    if mains_uv > 0 and mains_hz > 0:
        # one exact period block (an integer number of mains cycles), tiled: no sin() per sample
        n_cyc = next((k for k in range(1, 21) if abs(k * sfreq / mains_hz % 1) < 1e-9), None)
        n_per = round(n_cyc * sfreq / mains_hz) if n_cyc else n_samples
        tp = np.arange(n_per) / sfreq
        hum = np.zeros((n_ch, n_per))
        for h in range(1, int(mains_harmonics) + 1):  # a handful of harmonics
            if h * mains_hz >= 0.5 * sfreq:
                break
            phase = rng.uniform(0, 2 * np.pi, n_ch)[:, None]
            hum += (mains_uv / h) * np.sin(2 * np.pi * h * mains_hz * tp[None, :] + phase)
        emg += np.tile(hum, (1, -(-n_samples // n_per)))[:, :n_samples]

    # ------------------------------------------------------------------ evoked components
    idx = np.arange(n_stim)
    drift_phase = rng.uniform(0, 2 * np.pi, 2)
    drift = np.exp(
        drift_cv
        * (
            np.sin(2 * np.pi * stim_times / drift_period_s + drift_phase[0])
            + np.sin(2 * np.pi * stim_times / (0.37 * drift_period_s) + drift_phase[1])
        )
        / np.sqrt(2)
    )
    if disappearance_index is not None:
        d = int(disappearance_index)
        k = np.clip((d - idx) / max(int(fade_stimuli), 1), 0.0, 1.0)
        fade = np.where(idx >= d, 0.0, k if fade_stimuli > 0 else 1.0)
    else:
        fade = np.ones(n_stim)
    ch_branch = np.array([MUSCLES[m].branch for m in muscles], dtype=object)
    is_direct = ch_branch[None, :] == stim_branch[:, None]  # (E, C)
    xt = _crosstalk_matrix(crosstalk, muscles)
    rows = []
    direct_blocks: dict[int, np.ndarray] = {}
    d_on = direct_latency_ms + 0.05 * rng.standard_normal((n_stim, n_ch))
    d_amp = direct_p2p_uv * np.exp(0.05 * rng.standard_normal((n_stim, n_ch)))
    for c in range(n_ch):  # direct M-waves (loop over channels only)
        sel = is_direct[:, c]
        if not sel.any():
            continue
        block = add_components(
            emg,
            c,
            stim_samples[sel] + d_on[sel, c] * 1e-3 * sfreq,
            d_amp[sel, c] / unit_p2p(**_OR_DIRECT_SHAPE),
            sfreq,
            **_OR_DIRECT_SHAPE,
        )
        direct_blocks[c] = block
    xt_p2p = np.zeros((n_stim, n_ch))
    for dst in range(n_ch):  # crosstalk: scaled copies of each source's M-wave
        for src, block in direct_blocks.items():
            if xt[dst, src] <= 0:
                continue
            sel = is_direct[:, src] & ~is_direct[:, dst]
            full = np.zeros((n_stim, block.shape[1]))
            full[is_direct[:, src]] = block
            start = np.floor(stim_samples + d_on[:, src] * 1e-3 * sfreq).astype(np.int64)
            ii = start[sel, None] + np.arange(block.shape[1])[None, :]
            ok = ii < n_samples
            np.add.at(emg[dst], ii[ok], (xt[dst, src] * full[sel])[ok])
            xt_p2p[sel, dst] += xt[dst, src] * np.ptp(full[sel], axis=1)
    dt_ms = 1e3 / sfreq
    lsr_on = rng.random((n_stim, n_ch)) < lsr_fraction
    for c, m in enumerate(muscles):  # LSR on the non-direct channels (loop over channels)
        onset = lat[m] + jitter_ms * rng.standard_normal(n_stim)
        a = amp[m] * drift * fade * np.exp(amplitude_cv * rng.standard_normal(n_stim))
        a = np.where(lsr_on[:, c] & ~is_direct[:, c], a, 0.0)
        present = a > 0
        block = np.zeros((n_stim, 2))
        if present.any():
            b = add_components(
                emg,
                c,
                stim_samples[present] + onset[present] * 1e-3 * sfreq,
                a[present] / unit_p2p(**_LSR_SHAPE),
                sfreq,
                **_LSR_SHAPE,
            )
            block = np.zeros((n_stim, b.shape[1]))
            block[present] = b
            late = present & (rng.random(n_stim) < late_probability)
            if late.any():
                add_components(
                    emg,
                    c,
                    stim_samples[late]
                    + (35.3 + 3.0 * rng.standard_normal(late.sum())) * 1e-3 * sfreq,
                    0.4 * a[late] / unit_p2p(**_LATE_SHAPE),
                    sfreq,
                    **_LATE_SHAPE,
                )
        kind = np.where(is_direct[:, c], "direct", "lsr")
        direct_p2p = np.zeros(n_stim)
        direct_lat = np.full(n_stim, np.nan)
        if c in direct_blocks:
            direct_p2p[is_direct[:, c]] = np.ptp(direct_blocks[c], axis=1)
            direct_lat[is_direct[:, c]] = d_on[is_direct[:, c], c]
        rows.append(
            pd.DataFrame(
                {
                    "stim_index": idx,
                    "stim_time_s": stim_times,
                    "channel": names[c],
                    "muscle": m,
                    "montage": stim_branch,
                    "kind": kind,
                    "present": np.where(is_direct[:, c], True, present),
                    "latency_ms": np.where(
                        is_direct[:, c], direct_lat, np.where(present, onset, np.nan)
                    ),
                    "p2p_uv": np.where(is_direct[:, c], direct_p2p, np.ptp(block, axis=1)),
                    "area_uv_ms": np.where(
                        is_direct[:, c], np.nan, np.abs(block).sum(axis=1) * dt_ms
                    ),
                    "crosstalk_p2p_uv": xt_p2p[:, c],
                }
            )
        )

    # ------------------------------------------------------------------ stimulus artefacts
    contaminated = np.zeros(n_stim, bool)
    tau_lo, tau_hi = (
        (float(tail_tau_ms), float(tail_tau_ms))
        if np.isscalar(tail_tau_ms)
        else (float(tail_tau_ms[0]), float(tail_tau_ms[1]))
    )
    saturated = rng.random(n_stim) < saturation_probability
    contaminated |= saturated
    n_art = int(np.ceil(max(8 * tau_hi * 4, 60.0) * 1e-3 * sfreq))
    k_ms = np.arange(n_art) * dt_ms
    art_idx = stim_samples[:, None] + np.arange(n_art)[None, :]
    art_ok = art_idx < n_samples
    for c in range(n_ch):  # loop over channels only
        sign = rng.choice([-1.0, 1.0])
        size = rng.uniform(0.5, 1.5)
        imp = np.exp(impedance_cv * rng.standard_normal(n_stim))
        spike = sign * artifact_uv * size * imp[:, None] * np.exp(-k_ms[None, :] / _SPIKE_TAU_MS)
        block = spike
        if tail_uv > 0:
            tau1 = np.exp(rng.uniform(np.log(tau_lo), np.log(tau_hi)))
            tau1_e = tau1 * np.exp(0.5 * impedance_cv * rng.standard_normal(n_stim))
            tail = np.exp(-k_ms[None, :] / tau1_e[:, None])
            if rng.random() < two_exponential_probability:
                ratio = rng.uniform(2.0, 4.0)
                frac = rng.uniform(0.3, 0.6) * (
                    -1.0 if rng.random() < biphasic_probability else 1.0
                )
                tail = tail + frac * np.exp(-k_ms[None, :] / (ratio * tau1_e[:, None]))
            tsign = sign if rng.random() < 0.7 else -sign
            block = block + tsign * tail_uv * rng.uniform(0.5, 1.5) * imp[:, None] * tail
        if saturated.any():
            rec_tau = 15.0
            big = np.where(
                saturated[:, None],
                sign * 10.0 * artifact_uv * np.exp(-k_ms[None, :] / 1.0)
                + sign * 0.1 * clip_uv * np.exp(-k_ms[None, :] / rec_tau),
                0.0,
            )
            block = block + big
        np.add.at(emg[c], art_idx[art_ok], block[art_ok])

    # ------------------------------------------------------------------ electrocautery
    n_burst = rng.poisson(cautery_per_min * (n_samples / sfreq) / 60.0) if cautery_per_min else 0
    bursts = []
    for _ in range(int(n_burst)):  # a few bursts per session
        on = rng.uniform(0, n_samples / sfreq - 0.5)
        dur = rng.uniform(0.5, 3.0)
        i0, i1 = int(on * sfreq), min(int((on + dur) * sfreq), n_samples)
        level = rng.uniform(500.0, 3000.0)
        burst = _coloured(rng, (n_ch, i1 - i0), sfreq, (10.0, min(2000.0, 0.4 * sfreq)), 1.0)
        emg[:, i0:i1] += level * rng.uniform(0.5, 1.5, (n_ch, 1)) * burst
        bursts.append((on, on + dur))
        contaminated |= (stim_times + _EPOCH_S[1] > on) & (stim_times + _EPOCH_S[0] < on + dur)
    np.clip(emg, -clip_uv, clip_uv, out=emg)

    data = emg
    ch_names = list(names)
    ch_types = ["emg"] * n_ch
    if trigger:
        trig = np.zeros((1, n_samples))
        width = max(1, round(_TRIGGER_WIDTH_S * sfreq))
        ti = (stim_samples[:, None] + np.arange(width)[None, :]).ravel()
        trig[0, ti[ti < n_samples]] = _TRIGGER_V * 1e6
        data = np.vstack([emg, trig])
        ch_names.append("trigger")
        ch_types.append("stim")
    labels = [f"stim {b} {i:g} mA" for b, i in zip(stim_branch, intens, strict=True)]
    events = pd.DataFrame({"onset_s": stim_times, "duration_s": 0.0, "label": labels})
    rec = from_array(
        data,
        sfreq,
        ch_names,
        units="uV",
        ch_types=ch_types,
        events=events,
        muscles=[*muscles, None][: len(ch_names)],
        sides=([side] * n_ch + [None])[: len(ch_names)],
        branches=[*ch_branch, None][: len(ch_names)],
        meta={"source": "simulate_or_session", "seed": seed},
    )
    responses = pd.concat(rows, ignore_index=True)
    responses["contaminated"] = np.tile(contaminated, 1)[responses["stim_index"].to_numpy()]
    trend_rows = []
    for b in dict.fromkeys(stim_branch):
        mine = idx[stim_branch == b]
        for c, m in enumerate(muscles):
            if ch_branch[c] == b:
                continue
            if amp[m] <= 0:
                status, d_i, d_t = "not_elicited", None, np.nan
            elif disappearance_index is None or int(disappearance_index) > mine[-1]:
                status, d_i, d_t = "persisted", None, np.nan
            else:
                k0 = int(mine[np.searchsorted(mine, int(disappearance_index))])
                status, d_i, d_t = "disappeared", k0, float(stim_times[k0])
            sub = responses[(responses["channel"] == names[c]) & responses["stim_index"].isin(mine)]
            trend_rows.append(
                {
                    "montage": b,
                    "channel": names[c],
                    "muscle": m,
                    "status": status,
                    "disappearance_stim_index": d_i,
                    "disappearance_time_s": d_t,
                    "baseline_p2p_uv": float(sub["p2p_uv"].iloc[:10].mean()),
                }
            )
    trend = pd.DataFrame(trend_rows).astype({"disappearance_stim_index": "Int64"})
    noise = float(np.hypot(background_uv, amp_noise_uv))
    params: dict[str, Any] = {
        "n_stimuli": n_stim,
        "rate_hz": rate_hz,
        "sfreq": sfreq,
        "montage": montage,
        "muscles": muscles,
        "lsr_p2p_uv": amp,
        "disappearance_index": disappearance_index,
        "background_uv": background_uv,
        "tail_uv": tail_uv,
        "tail_tau_ms": tail_tau_ms,
        "crosstalk": crosstalk,
        "cautery_bursts_s": bursts,
        "seed": seed,
    }
    return SimulatedSession(
        recording=rec,
        stimuli=pd.DataFrame(
            {
                "stim_index": idx,
                "stim_time_s": stim_times,
                "stim_branch": stim_branch,
                "intensity_ma": intens,
                "contaminated": contaminated,
            }
        ),
        responses=responses,
        trend=trend,
        noise_uv=dict.fromkeys(names, noise),
        params=params,
    )


# ---------------------------------------------------------------------- validation grids
#: No-LSR and LSR conditions of the validation (issue 11): keyword arguments of
#: :func:`simulate_or_session` on top of a quiet base (white amplifier noise, spike artefact).
_BASE: dict[str, Any] = {"background_uv": 0.0, "amp_noise_uv": 5.0, "tail_uv": 0.0}
_CONDITIONS: dict[str, dict[str, Any]] = {
    "white": {},
    "coloured_5uv": {"background_uv": 5.0, "amp_noise_uv": 2.0},
    "coloured_10uv": {"background_uv": 10.0, "amp_noise_uv": 2.0},
    "tail_2ms": {"tail_uv": 1000.0, "tail_tau_ms": 2.0},
    "tail_3ms": {"tail_uv": 1000.0, "tail_tau_ms": 3.0},
    "tail_5ms": {"tail_uv": 1000.0, "tail_tau_ms": 5.0},
    "tail_10ms": {"tail_uv": 1000.0, "tail_tau_ms": 10.0},
    "crosstalk_5pct": {"crosstalk": 0.05},
    "combined": {
        "background_uv": 7.0,
        "amp_noise_uv": 2.0,
        "tail_uv": 1000.0,
        "tail_tau_ms": (2.0, 10.0),
        "crosstalk": 0.05,
        "saturation_probability": 0.01,
        "cautery_per_min": 0.5,
    },
}


def or_condition(name: str, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of :func:`simulate_or_session` for a named validation condition.

    Examples
    --------
    >>> or_condition("tail_5ms")["tail_tau_ms"]
    5.0
    """
    check_option("condition", name, _CONDITIONS)
    return {**_BASE, **_CONDITIONS[name], **overrides}


def _grid(seeds: Sequence[int], lsr_scales: Sequence[float]) -> list[dict[str, Any]]:
    out = []
    for sfreq in (5000.0, 10000.0, 20000.0):
        for name in _CONDITIONS:
            for j, seed in enumerate(seeds):
                out.append({"condition": name, "sfreq": sfreq, "seed": seed, "lsr": False})
                out.append(
                    {
                        "condition": name,
                        "sfreq": sfreq,
                        "seed": seed + 500,
                        "lsr": True,
                        "lsr_scale": float(lsr_scales[j % len(lsr_scales)]),
                    }
                )
    return out


#: Conditions x sampling rates x seeds on which defaults may be chosen (seeds 0-1).
TUNING_GRID: list[dict[str, Any]] = _grid(seeds=(0, 1), lsr_scales=(1.0,))
#: The held-out grid (seeds 1000+, other amplitude draws: LSR at 0.6x and 1x the default p2p,
#: i.e. two SNRs); never used to choose a default. Its numbers are reported separately.
HELD_OUT_GRID: list[dict[str, Any]] = _grid(seeds=(1000, 1001), lsr_scales=(0.6, 1.0))
