"""Simulated spontaneous facial EMG of hemifacial spasm, with ground truth.

The model follows the electromyographic picture of hemifacial spasm (HFS): irregular, brief
*clonic* bursts and longer *tonic* spasms, each made of repetitive motor-unit discharges at
150-400 Hz, synchronous across muscles of several facial-nerve branches, plus bursts in one
muscle. Around them sit white baseline noise, mains hum with odd harmonics, slow baseline wander
and occasional movement artefacts (large slow deflections that a high-pass filter removes).

The default reproduces the original simulator sample for sample; it is easy for its own
detectors (all units of a burst fire in lock-step, onsets step 2-6 ms per muscle, white noise).
Harder conditions are options: independent motor units with gamma inter-spike intervals
(``firing="independent"``; voluntary-like, myokymia-like or HFS-rate units), isolated discharges
of 1-3 MUAPs, slowly rising (tapered) bursts, truly simultaneous onsets
(``spread_step_ms=(0, 0)``) and a coloured 20-150 Hz background. The millisecond onset steps are
a modelling choice: no paper defines a within-spasm direction.

Signal-to-noise ratio
---------------------
``snr_db = 20 * log10(rms_burst / noise_uv)``, where ``rms_burst`` is the RMS of the noise-free
motor-unit signal over the burst (onset to offset) and ``noise_uv`` the RMS of the white baseline
noise (full band). Every burst is scaled to exactly this ratio; hum, wander and movement artefacts
are not part of the noise term (a band-pass and notch remove them).

References
----------
.. [1] Nielsen VK. Pathophysiology of hemifacial spasm: I. Ephaptic transmission and ectopic
       excitation. Neurology 1984;34:418-426 (after-activity at 250-350 Hz).
.. [2] Gulevich SJ. Hemifacial spasm workup. Medscape, 2019 (irregular brief bursts, 150-400 Hz;
       synchronous in several muscles; clonic and tonic spasms).
.. [3] Farina D, Merletti R. A novel approach for precise simulation of the EMG signal detected by
       surface electrodes. IEEE Trans Biomed Eng 2001;48:637-646 (MUAP trains as impulse trains
       convolved with unit waveforms).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.signal as sps

from .._errors import ParameterError
from .._validate import check_positive, check_sfreq
from ..anatomy import MUSCLES
from ..recording import Recording, from_array
from ..synchrony import SYNC_COLUMNS

__all__ = [
    "BURST_COLUMNS",
    "SPIKE_COLUMNS",
    "SimulatedSpontaneous",
    "simulate_spontaneous",
]

#: Ground-truth burst columns (the detector returns these and more).
BURST_COLUMNS: tuple[str, ...] = (
    "channel",
    "onset_s",
    "offset_s",
    "duration_s",
    "discharge_hz",
    "kind",
    "pattern",
    "event_id",
)
#: Columns of the motor-unit spike truth (:attr:`SimulatedSpontaneous.spikes`).
SPIKE_COLUMNS: tuple[str, ...] = ("channel", "unit", "time_s", "burst_index")
_FIRING = ("lockstep", "independent")
_SIDE_SUFFIX = {"left": "L", "right": "R"}
_MIN_GAP_S = 0.3  # silence between consecutive episodes, seconds
_EDGE_S = 0.5  # no burst in the first/last 0.5 s


@dataclasses.dataclass(frozen=True, repr=False)
class SimulatedSpontaneous:
    """A simulated recording and its ground truth.

    Attributes
    ----------
    recording : Recording
        EMG channels named ``"<muscle>_<L|R>"`` with muscle, side and branch set, in microvolts.
    bursts : pandas.DataFrame
        One row per true burst: ``channel``, ``onset_s``, ``offset_s``, ``duration_s``,
        ``discharge_hz`` (the common rate of lock-step units; NaN for independent units and
        isolated discharges), ``kind`` (``"clonic"``/``"tonic"``, the two-class duration split),
        ``pattern`` (``"isolated"``/``"clonic"``/``"tonic"``), ``event_id`` (-1 for a burst in
        one muscle only).
    synchronous : pandas.DataFrame
        One row per synchronous spasm, with the columns of
        :func:`hfs_emg.synchrony.detect_synchronous_bursts`: ``channels`` in onset order,
        ``lead_channel``, ``spread_ms`` = ``lag_ms`` (true last minus first onset),
        ``onset_order`` (``"a<b<c"``, ``"="`` between muscles with the same onset, or
        ``"simultaneous"`` when all onsets coincide) and ``lead_muscle``.
    artifacts : pandas.DataFrame
        Movement artefacts: ``channel``, ``onset_s``, ``duration_s``, ``amplitude_uv``.
    params : dict
        The arguments used.
    spikes : pandas.DataFrame
        Every motor-unit discharge: ``channel``, ``unit`` (``"<channel>:u<k>"``; lock-step and
        independent units of one channel keep their waveform across bursts), ``time_s`` (the
        MUAP centre) and ``burst_index`` (row of ``bursts``).
    """

    recording: Recording
    bursts: pd.DataFrame
    synchronous: pd.DataFrame
    artifacts: pd.DataFrame
    params: dict
    spikes: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame(columns=list(SPIKE_COLUMNS))
    )

    def __repr__(self) -> str:
        return (
            f"<SimulatedSpontaneous | {self.recording.n_channels} ch, "
            f"{self.recording.duration_s:g} s, {len(self.bursts)} bursts, "
            f"{len(self.synchronous)} synchronous events>"
        )


def _muap_bank(
    rng: np.random.Generator, n: int, sfreq: float, length: int
) -> npt.NDArray[np.float64]:
    """``n`` unit-peak MUAP waveforms (biphasic or triphasic, 2-8 ms), shape (n, length)."""
    dur = rng.uniform(0.002, 0.008, n)  # total duration, s
    sigma = dur / 6.0
    tri = rng.random(n) < 0.5
    t = (np.arange(length) - length // 2) / sfreq
    u = t[None, :] / sigma[:, None]
    gauss = np.exp(-0.5 * u**2)
    wave = np.where(tri[:, None], (1 - u**2) * gauss, -u * gauss)  # Mexican hat / 1st derivative
    wave *= rng.choice([-1.0, 1.0], n)[:, None]
    return wave / np.abs(wave).max(axis=1, keepdims=True)


def _ranges(counts: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Concatenated ``arange(c)`` for every count ``c`` (no Python loop)."""
    total = int(counts.sum())
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - offsets


def simulate_spontaneous(
    *,
    duration_s: float = 60.0,
    sfreq: float = 5000.0,
    muscles: Sequence[str] = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis"),
    side: str = "left",
    contralateral: bool = False,
    snr_db: float = 20.0,
    noise_uv: float = 5.0,
    spasm_rate_per_min: float = 10.0,
    sync_fraction: float = 0.7,
    ascending_fraction: float = 0.2,
    tonic_fraction: float = 0.2,
    single_muscle_rate_per_min: float = 4.0,
    n_units: int | tuple[int, int] = 4,
    mains_hz: float | None = 50.0,
    hum_uv: float = 10.0,
    baseline_wander: bool = True,
    movement_artifacts: bool = True,
    seed: int | None = 0,
    firing: str = "lockstep",
    unit_rate_hz: tuple[float, float] = (150.0, 400.0),
    isi_cv: tuple[float, float] = (0.1, 0.2),
    spread_step_ms: tuple[float, float] = (2.0, 6.0),
    taper_s: float = 0.0,
    isolated_rate_per_min: float = 0.0,
    isolated_uv: tuple[float, float] = (100.0, 400.0),
    coloured_uv: float = 0.0,
) -> SimulatedSpontaneous:
    """Simulate spontaneous HFS EMG with known bursts and synchronous spasms.

    Episodes (synchronous spasms and single-muscle bursts) are placed one after another with at
    least 0.3 s of silence between them, so the truth has no overlaps. A spasm recruits the
    affected-side muscles: each muscle joins with probability ``sync_fraction`` (at least two
    join). Its onsets follow the rostro-caudal rank of :data:`hfs_emg.anatomy.MUSCLES`: with
    probability ``1 - ascending_fraction`` the highest muscle starts first and the onsets follow
    the rank downward (eye and forehead to mouth) at ``spread_step_ms`` (default 2-6 ms) per
    rank step, otherwise upward; ``spread_step_ms=(0, 0)`` gives truly simultaneous onsets.
    These millisecond steps are a modelling choice, not a published property of HFS. Clonic
    bursts last 30-200 ms, tonic ones (probability ``tonic_fraction``) 0.6-3 s.

    Motor units (``firing``):

    ``"lockstep"`` (default, the original model)
        Each burst is ``n_units`` motor units all firing at the burst's discharge rate
        (150-400 Hz, 3 % interval jitter) with random phases: the summed signal is periodic at
        the firing rate.
    ``"independent"``
        Each unit of a burst fires at its own mean rate drawn from ``unit_rate_hz`` with gamma
        distributed inter-spike intervals whose coefficient of variation is drawn from
        ``isi_cv`` (10-20 %, physiological), starting at a random phase. ``n_units=(12, 18)``
        with ``unit_rate_hz=(8, 25)`` gives voluntary-like bursts (recruitment and rate coding
        of voluntary contraction; De Luca & Hostage 2010), ``unit_rate_hz=(35, 45)``
        myokymia-like grouped discharges, ``(150, 400)`` HFS units that are not phase-locked.
        The truth ``discharge_hz`` is then NaN: the summed signal has no common rate.

    A unit's MUAP is a biphasic or triphasic waveform of 2-8 ms. ``taper_s`` > 0 makes every
    burst build up slowly: the discharge amplitude rises linearly from 0 over the first
    ``taper_s`` (the truth onset is the first discharge). Isolated discharges
    (``isolated_rate_per_min``), the earliest EMG sign of HFS, are 1-3 discharges of one unit
    (single, doublet, triplet at 150-400 Hz) with a MUAP peak in ``isolated_uv``, placed at least
    60 ms from any other burst of their channel. ``coloured_uv`` adds physiological background
    activity: Gaussian noise band-limited to 20-150 Hz (residual muscle tone) with that RMS, on
    top of the white amplifier noise. Contralateral channels, if requested, carry noise, hum and
    artefacts only (HFS is one-sided). With the defaults of the new options the output is the
    same, sample for sample, as before they existed.

    Parameters
    ----------
    duration_s : float
        Length in seconds.
    sfreq : float
        Sampling rate in Hz (at least 1000).
    muscles : sequence of str
        Muscle names from :data:`hfs_emg.anatomy.MUSCLES`.
    side : {"left", "right"}
        Affected side.
    contralateral : bool
        Also record the same muscles on the unaffected side.
    snr_db : float
        Burst RMS over white-noise RMS in dB (see the module notes).
    noise_uv : float
        RMS of the white baseline noise in microvolts.
    spasm_rate_per_min : float
        Rate of synchronous spasms (events per minute).
    sync_fraction : float
        Probability that each muscle joins a spasm, in (0, 1].
    ascending_fraction : float
        Fraction of spasms that spread upward.
    tonic_fraction : float
        Fraction of bursts (spasms and single bursts) that are tonic.
    single_muscle_rate_per_min : float
        Rate of isolated bursts in one affected muscle (per minute, all muscles together).
    n_units : int or (int, int)
        Motor units per burst (a range: drawn per burst, ``"independent"`` firing only).
    mains_hz : float or None
        Mains frequency (hum at 1, 3 and 5 times it); None for no hum.
    hum_uv : float
        Amplitude of the fundamental hum in microvolts.
    baseline_wander : bool
        Add slow (0.1-0.8 Hz) wander of ~50 microvolts.
    movement_artifacts : bool
        Add about three large (200-1000 microvolt), slow (0.4-1.2 s Hann-shaped) deflections
        per channel and minute.
    seed : int or None
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same data.
    firing : {"lockstep", "independent"}
        Motor-unit model (see above).
    unit_rate_hz : (float, float)
        Range of the units' mean firing rates for ``"independent"`` firing, Hz.
    isi_cv : (float, float)
        Range of the inter-spike-interval coefficient of variation (``"independent"``).
    spread_step_ms : (float, float)
        Range of the onset step per rostro-caudal rank inside a spasm, ms.
    taper_s : float
        Linear amplitude build-up at the start of every burst, seconds (0: abrupt).
    isolated_rate_per_min : float
        Isolated discharges per minute (all affected muscles together).
    isolated_uv : (float, float)
        Range of the MUAP peak amplitude of isolated discharges, microvolts.
    coloured_uv : float
        RMS of the 20-150 Hz background activity, microvolts (0: none).

    Returns
    -------
    SimulatedSpontaneous

    References
    ----------
    .. [1] Nielsen VK. Neurology 1984;34:418-426.
    .. [2] Farina D, Merletti R. IEEE Trans Biomed Eng 2001;48:637-646.
    .. [3] De Luca CJ, Hostage EC. Relationship between firing rate and recruitment threshold of
       motoneurons in voluntary isometric contractions. J Neurophysiol 2010;104:1034-1046.
    .. [4] Clamann HP. Statistical analysis of motor unit firing patterns in a human skeletal
       muscle. Biophys J 1969;9:1233-1251 (inter-spike interval variability).

    Examples
    --------
    >>> sim = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=1)
    >>> sim.recording.ch_names
    ['frontalis_L', 'orbicularis_oculi_L', 'orbicularis_oris_L', 'mentalis_L']
    >>> list(sim.synchronous.columns)[:4]
    ['event_id', 'onset_s', 'offset_s', 'n_channels']
    """
    duration_s = check_positive(duration_s, "duration_s")
    sfreq = check_sfreq(sfreq)
    if sfreq < 1000.0:
        raise ParameterError(
            f"sfreq must be >= 1000 Hz to hold 150-400 Hz discharges, got {sfreq}."
        )
    if side not in _SIDE_SUFFIX:
        raise ParameterError(
            f"Invalid value for the 'side' parameter: {side!r}. Allowed: 'left', 'right'."
        )
    muscles = list(muscles)
    unknown = [m for m in muscles if m not in MUSCLES]
    if unknown or not muscles or len(set(muscles)) != len(muscles):
        raise ParameterError(
            f"muscles must be distinct names from {sorted(MUSCLES)}, got {muscles!r}."
        )
    for name, value in (
        ("sync_fraction", sync_fraction),
        ("ascending_fraction", ascending_fraction),
        ("tonic_fraction", tonic_fraction),
    ):
        if not 0.0 <= float(value) <= 1.0:
            raise ParameterError(f"{name} must be in [0, 1], got {value!r}.")
    spasm_rate = check_positive(spasm_rate_per_min, "spasm_rate_per_min", allow_zero=True)
    single_rate = check_positive(
        single_muscle_rate_per_min, "single_muscle_rate_per_min", allow_zero=True
    )
    noise_uv = check_positive(noise_uv, "noise_uv")
    if firing not in _FIRING:
        raise ParameterError(f"firing must be one of {list(_FIRING)}, got {firing!r}.")
    unit_range = (n_units, n_units) if np.isscalar(n_units) else tuple(n_units)
    if len(unit_range) != 2 or int(unit_range[0]) < 1 or unit_range[1] < unit_range[0]:
        raise ParameterError(f"n_units must be >= 1 or a (low, high) range, got {n_units!r}.")
    if firing == "lockstep" and unit_range[0] != unit_range[1]:
        raise ParameterError("A range of n_units needs firing='independent'.")
    n_units = int(unit_range[1])
    for name, rng_val, lo_ok in (
        ("unit_rate_hz", unit_rate_hz, 0.0),
        ("isi_cv", isi_cv, 0.0),
        ("spread_step_ms", spread_step_ms, -1e-12),
        ("isolated_uv", isolated_uv, 0.0),
    ):
        if len(rng_val) != 2 or not lo_ok < float(rng_val[0]) <= float(rng_val[1]):
            raise ParameterError(f"{name} must be a (low, high) range, got {rng_val!r}.")
    if float(isi_cv[1]) >= 0.5:
        raise ParameterError(f"isi_cv must stay below 0.5, got {isi_cv!r}.")
    taper_s = check_positive(taper_s, "taper_s", allow_zero=True)
    iso_rate = check_positive(isolated_rate_per_min, "isolated_rate_per_min", allow_zero=True)
    coloured_uv = check_positive(coloured_uv, "coloured_uv", allow_zero=True)
    rng = np.random.default_rng(seed)

    n_samp = round(duration_s * sfreq)
    n_aff = len(muscles)
    other = "right" if side == "left" else "left"
    sides = [side] * n_aff + ([other] * n_aff if contralateral else [])
    ch_muscles = muscles + (muscles if contralateral else [])
    names = [f"{m}_{_SIDE_SUFFIX[s]}" for m, s in zip(ch_muscles, sides, strict=True)]
    n_ch = len(names)
    ranks = np.array([MUSCLES[m].rank for m in muscles])

    # ---------------------------------------------------------------- episodes (vectorized)
    rate = (spasm_rate + single_rate) / 60.0
    if n_aff < 2:
        rate = single_rate / 60.0
    n_max = int(np.ceil(duration_s * max(rate, 1e-9) * 2 + 10))
    p_spasm = 0.0 if rate == 0 or n_aff < 2 else spasm_rate / 60.0 / rate
    is_spasm = rng.random(n_max) < p_spasm
    tonic = rng.random(n_max) < tonic_fraction
    dur = np.where(
        tonic,
        rng.uniform(0.6, 3.0, n_max),
        np.exp(rng.uniform(np.log(0.03), np.log(0.2), n_max)),
    )
    step_ms = rng.uniform(float(spread_step_ms[0]), float(spread_step_ms[1]), n_max)
    ascending = rng.random(n_max) < ascending_fraction
    freq = rng.uniform(150.0, 400.0, n_max)
    extent = dur * 1.1 + (ranks.max() - ranks.min()) * step_ms / 1000.0 + 0.01
    gap = _MIN_GAP_S + rng.exponential(1.0 / rate if rate > 0 else np.inf, n_max)
    starts = _EDGE_S + np.cumsum(gap) - _MIN_GAP_S + np.concatenate([[0.0], np.cumsum(extent)[:-1]])
    if rate == 0:
        starts = np.full(n_max, np.inf)
    keep = starts + extent < duration_s - _EDGE_S
    idx = np.nonzero(keep)[0]
    n_ep = idx.size

    # participation matrix (episode x affected muscle)
    join = rng.random((n_ep, n_aff)) < sync_fraction
    # at least two muscles in a spasm: force the two best-ranked random draws in
    order = np.argsort(rng.random((n_ep, n_aff)), axis=1)
    forced = np.zeros((n_ep, n_aff), dtype=bool)
    np.put_along_axis(forced, order[:, :2], True, axis=1)
    single = np.zeros((n_ep, n_aff), dtype=bool)
    np.put_along_axis(single, order[:, :1], True, axis=1)
    spasm = is_spasm[idx]
    part = np.where(spasm[:, None], join | forced, single)

    # onset lags follow rank; the highest (descending) or lowest (ascending) recruited muscle leads
    rank_m = np.where(part, ranks[None, :], np.nan)
    lead_rank = np.where(ascending[idx], np.nanmax(rank_m, axis=1), np.nanmin(rank_m, axis=1))
    lag_s = np.abs(ranks[None, :] - lead_rank[:, None]) * step_ms[idx, None] / 1000.0
    lag_s = lag_s + rng.uniform(0.0, 0.3e-3, (n_ep, n_aff)) * (lag_s > 0)
    ep_i, mu_i = np.nonzero(part)
    on = starts[idx][ep_i] + lag_s[ep_i, mu_i]
    bdur = dur[idx][ep_i] * rng.uniform(0.9, 1.1, ep_i.size)
    on_smp = np.round(on * sfreq).astype(np.intp)
    off_smp = on_smp + np.maximum(np.round(bdur * sfreq).astype(np.intp), 1)
    b_freq = freq[idx][ep_i]

    # ---------------------------------------------------------------- motor-unit spike trains
    n_b = ep_i.size
    bank = 2 * round(0.006 * sfreq) + 1  # waveform support (+/- 6 ms)
    # one waveform per (channel, unit), shared by the channel's bursts
    waves = _muap_bank(rng, n_aff * n_units, sfreq, bank).reshape(n_aff, n_units, bank)
    if firing == "lockstep":
        period = 1.0 / b_freq
        phase = rng.uniform(0.0, 1.0, (n_b, n_units)) * period[:, None]
        n_spk = np.floor((off_smp - on_smp) / sfreq / period).astype(np.intp) + 1
        counts = np.repeat(n_spk, n_units)  # per (burst, unit)
        k = _ranges(counts)
        bu = np.repeat(np.arange(n_b * n_units), counts)
        b_of, u_of = np.divmod(bu, n_units)
        jitter = rng.normal(0.0, 0.03, k.size) * period[b_of]
        t_spk = on_smp[b_of] / sfreq + phase[b_of, u_of] + k * period[b_of] + jitter
    else:
        t_spk, b_of, u_of = _independent_trains(
            rng, on_smp / sfreq, off_smp / sfreq, unit_range, unit_rate_hz, isi_cv
        )
        b_freq = np.full(n_b, np.nan)
    s_spk = np.round(t_spk * sfreq).astype(np.intp)
    ok = (s_spk >= on_smp[b_of]) & (s_spk < off_smp[b_of])
    s_spk, b_of, u_of = s_spk[ok], b_of[ok], u_of[ok]
    amp = rng.uniform(0.5, 1.0, (n_aff, n_units))
    spk_gain = amp[mu_i[b_of], u_of]
    if taper_s > 0:
        spk_gain = spk_gain * np.minimum((s_spk - on_smp[b_of]) / (taper_s * sfreq), 1.0)
    clean = np.zeros((n_aff, n_samp))
    for unit in range(n_units):  # a few units: keeps one (n_muscles, n_samples) train in memory
        sel = u_of == unit
        train = np.zeros((n_aff, n_samp))
        np.add.at(train, (mu_i[b_of[sel]], s_spk[sel]), spk_gain[sel])
        clean += sps.oaconvolve(train, waves[:, unit], mode="same", axes=-1)
    del train

    # scale every burst to the requested SNR (bursts on one channel never overlap)
    target = noise_uv * 10.0 ** (snr_db / 20.0)
    flat = clean.ravel()
    f_on = mu_i * n_samp + on_smp
    f_off = mu_i * n_samp + off_smp
    csum = np.concatenate([[0.0], np.cumsum(flat**2)])
    rms = np.sqrt((csum[f_off] - csum[f_on]) / (off_smp - on_smp))
    gain_b = target / np.maximum(rms, 1e-12)
    # gain applies from 6 ms before onset to 6 ms after offset (MUAP tails)
    pad = bank // 2
    g_on = np.clip(on_smp - pad, 0, n_samp - 1) + mu_i * n_samp
    g_off = np.clip(off_smp + pad, 1, n_samp) + mu_i * n_samp
    delta = np.zeros(flat.size + 1)
    np.add.at(delta, g_on, gain_b)
    np.add.at(delta, g_off, -gain_b)
    flat *= np.cumsum(delta[:-1])
    emg = np.zeros((n_ch, n_samp))
    emg[:n_aff] = clean

    # ---------------------------------------------------------------- noise and artefacts
    t = np.arange(n_samp) / sfreq
    emg += rng.normal(0.0, noise_uv, (n_ch, n_samp))
    if mains_hz is not None:
        mains_hz = check_positive(mains_hz, "mains_hz")
        for harm, rel in ((1, 1.0), (3, 0.3), (5, 0.1)):
            if harm * mains_hz < sfreq / 2:
                ph = rng.uniform(0, 2 * np.pi, (n_ch, 1))
                emg += hum_uv * rel * np.sin(2 * np.pi * harm * mains_hz * t[None, :] + ph)
    if baseline_wander:
        f_w = rng.uniform(0.1, 0.8, (n_ch, 3, 1))
        ph = rng.uniform(0, 2 * np.pi, (n_ch, 3, 1))
        emg += (20.0 * np.sin(2 * np.pi * f_w * t[None, None, :] + ph)).sum(axis=1)
    art = pd.DataFrame(columns=["channel", "onset_s", "duration_s", "amplitude_uv"])
    if coloured_uv > 0:
        sos = sps.butter(2, [20.0, min(150.0, 0.45 * sfreq)], "bandpass", fs=sfreq, output="sos")
        tone = sps.sosfilt(sos, rng.normal(0.0, 1.0, (n_ch, n_samp)), axis=-1)
        emg += tone * (coloured_uv / np.maximum(tone.std(axis=-1, keepdims=True), 1e-12))
    if movement_artifacts:
        n_art = rng.poisson(3.0 * duration_s / 60.0 * n_ch)
        a_ch = rng.integers(0, n_ch, n_art)
        a_t = rng.uniform(0.0, duration_s, n_art)
        a_w = rng.uniform(0.4, 1.2, n_art)
        a_amp = rng.uniform(200.0, 1000.0, n_art) * rng.choice([-1.0, 1.0], n_art)
        # Hann-shaped deflections, placed by sample ranges (vectorized)
        width = np.round(a_w * sfreq).astype(np.intp)
        kk = _ranges(width)
        ai = np.repeat(np.arange(n_art), width)
        pos = np.round(a_t * sfreq).astype(np.intp)[ai] + kk
        val = a_amp[ai] * np.sin(np.pi * kk / width[ai]) ** 2
        inside = pos < n_samp
        np.add.at(emg, (a_ch[ai][inside], pos[inside]), val[inside])
        art = pd.DataFrame(
            {
                "channel": np.asarray(names, dtype=object)[a_ch],
                "onset_s": a_t,
                "duration_s": a_w,
                "amplitude_uv": a_amp,
            }
        ).sort_values("onset_s", ignore_index=True)

    # ---------------------------------------------------------------- truth tables
    names_arr = np.asarray(names, dtype=object)
    ep_spasm = spasm[ep_i]
    event_of_ep = np.full(n_ep, -1)
    event_of_ep[spasm] = np.arange(int(spasm.sum()))
    kind = np.where(tonic[idx][ep_i], "tonic", "clonic")
    bursts = pd.DataFrame(
        {
            "channel": names_arr[mu_i],
            "onset_s": on_smp / sfreq,
            "offset_s": off_smp / sfreq,
            "duration_s": (off_smp - on_smp) / sfreq,
            "discharge_hz": b_freq,
            "kind": kind,
            "pattern": kind,
            "event_id": np.where(ep_spasm, event_of_ep[ep_i], -1),
        }
    )
    spikes = pd.DataFrame(
        {
            "channel": names_arr[mu_i[b_of]],
            "unit": [f"{c}:u{u}" for c, u in zip(names_arr[mu_i[b_of]], u_of, strict=True)],
            "time_s": s_spk / sfreq,
            "burst_index": b_of,
        }
    )
    if iso_rate > 0:
        iso, iso_spikes = _isolated(
            rng, emg, bursts, names_arr[:n_aff], sfreq, iso_rate, isolated_uv, bank, duration_s
        )
        spikes = pd.concat([spikes, iso_spikes.assign(burst_index=iso_spikes["burst_index"] + n_b)])
        bursts = pd.concat([bursts, iso], ignore_index=True)
    order = np.lexsort((bursts["channel"].to_numpy(str), bursts["onset_s"].to_numpy()))
    new_index = np.empty(order.size, np.intp)
    new_index[order] = np.arange(order.size)
    bursts = bursts.iloc[order].reset_index(drop=True)
    spikes = spikes.assign(burst_index=new_index[spikes["burst_index"].to_numpy(np.intp)])
    spikes = spikes.sort_values(["channel", "time_s"], ignore_index=True)
    sync = _truth_events(bursts, ascending[idx][spasm], sfreq)
    recording = from_array(
        emg,
        sfreq,
        names,
        muscles=ch_muscles,
        sides=sides,
        meta={"source": "simulate_spontaneous", "seed": seed, "snr_db": snr_db},
    )
    params = {
        "duration_s": duration_s,
        "sfreq": sfreq,
        "muscles": tuple(muscles),
        "side": side,
        "contralateral": contralateral,
        "snr_db": snr_db,
        "noise_uv": noise_uv,
        "spasm_rate_per_min": spasm_rate,
        "sync_fraction": sync_fraction,
        "ascending_fraction": ascending_fraction,
        "tonic_fraction": tonic_fraction,
        "single_muscle_rate_per_min": single_rate,
        "n_units": n_units,
        "mains_hz": mains_hz,
        "hum_uv": hum_uv,
        "baseline_wander": baseline_wander,
        "movement_artifacts": movement_artifacts,
        "seed": seed,
        "firing": firing,
        "unit_rate_hz": tuple(unit_rate_hz),
        "isi_cv": tuple(isi_cv),
        "spread_step_ms": tuple(spread_step_ms),
        "taper_s": taper_s,
        "isolated_rate_per_min": iso_rate,
        "isolated_uv": tuple(isolated_uv),
        "coloured_uv": coloured_uv,
    }
    return SimulatedSpontaneous(recording, bursts, sync, art, params, spikes)


def _independent_trains(
    rng: np.random.Generator,
    on_s: npt.NDArray[np.float64],
    off_s: npt.NDArray[np.float64],
    unit_range: tuple[int, int],
    rate_hz: tuple[float, float],
    isi_cv: tuple[float, float],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Independent renewal trains (gamma intervals) of every unit of every burst, vectorized.

    Returns the discharge times, the burst and the unit of each discharge (times past a burst's
    offset are removed by the caller).
    """
    n_b = on_s.size
    n_u = rng.integers(int(unit_range[0]), int(unit_range[1]) + 1, n_b)
    n_max = int(unit_range[1])
    active = np.arange(n_max)[None, :] < n_u[:, None]
    b_of_u, u_of_u = np.nonzero(active)  # one row per (burst, unit)
    rate = rng.uniform(float(rate_hz[0]), float(rate_hz[1]), b_of_u.size)
    cv = rng.uniform(float(isi_cv[0]), float(isi_cv[1]), b_of_u.size)
    dur = off_s[b_of_u] - on_s[b_of_u]
    counts = np.ceil(dur * rate * (1.0 + 4.0 * cv)).astype(np.intp) + 3
    row = np.repeat(np.arange(b_of_u.size), counts)
    shape = 1.0 / cv**2
    isi = rng.gamma(shape[row], 1.0 / (rate[row] * shape[row]))
    # exclusive cumulative sum within each (burst, unit) row, plus a random start phase
    csum = np.cumsum(isi)
    start = np.cumsum(counts) - counts
    before = np.concatenate([[0.0], csum])[start]
    t_rel = csum - isi - np.repeat(before, counts)
    phase = rng.uniform(0.0, 1.0, b_of_u.size) / rate
    t = on_s[b_of_u][row] + phase[row] + t_rel
    return t, b_of_u[row], u_of_u[row]


def _isolated(
    rng: np.random.Generator,
    emg: npt.NDArray[np.float64],
    bursts: pd.DataFrame,
    names: npt.NDArray[np.object_],
    sfreq: float,
    rate_per_min: float,
    peak_uv: tuple[float, float],
    bank: int,
    duration_s: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add isolated discharges (1-3 MUAPs of one unit) to ``emg`` in place; their truth rows.

    Candidates closer than 60 ms to a burst of their channel or to each other are dropped.
    """
    n_aff = len(names)
    n_c = rng.poisson(rate_per_min * duration_s / 60.0)
    ch = rng.integers(0, n_aff, n_c)
    t0 = rng.uniform(_EDGE_S, duration_s - _EDGE_S, n_c)
    n_muap = rng.choice([1, 2, 3], n_c, p=[0.5, 0.3, 0.2])
    ipi = 1.0 / rng.uniform(150.0, 400.0, n_c)
    amp = rng.uniform(float(peak_uv[0]), float(peak_uv[1]), n_c)
    wave = _muap_bank(rng, n_c, sfreq, bank)
    support = np.abs(wave) >= 0.1
    w_first = np.argmax(support, axis=1)
    w_last = bank - 1 - np.argmax(support[:, ::-1], axis=1)
    half = bank // 2
    # keep candidates 60 ms away from bursts of their channel and from each other
    keep = np.ones(n_c, dtype=bool)
    names = np.asarray(names, dtype=object)
    t_end = t0 + 3 * ipi + 0.01
    for c in range(n_aff):  # channels, not samples
        own = bursts[bursts["channel"] == names[c]].sort_values("onset_s")
        lo = own["onset_s"].to_numpy() - 0.06
        hi = own["offset_s"].to_numpy() + 0.06
        sel = np.flatnonzero(ch == c)
        if lo.size:
            j = np.searchsorted(lo, t0[sel], side="right") - 1
            inside = (j >= 0) & (t0[sel] <= hi[np.maximum(j, 0)])
            inside |= np.searchsorted(lo, t_end[sel], side="right") - 1 > j
            keep[sel[inside]] = False
        order = sel[np.argsort(t0[sel])]
        close = np.diff(t0[order]) < 0.06 + 3 * ipi[order[:-1]]
        keep[order[1:][close]] = False
    idx = np.flatnonzero(keep)
    reps = n_muap[idx]
    k = _ranges(reps)
    owner = np.repeat(idx, reps)
    t_spk = t0[owner] + k * ipi[owner]
    s_spk = np.round(t_spk * sfreq).astype(np.intp)
    # add the waveforms (vectorized over discharges x waveform samples)
    pos = s_spk[:, None] - half + np.arange(bank)[None, :]
    val = amp[owner, None] * wave[owner]
    inside = (pos >= 0) & (pos < emg.shape[1])
    rows = np.broadcast_to(ch[owner][:, None], pos.shape)
    np.add.at(emg, (rows[inside], pos[inside]), val[inside])
    first_s = s_spk[np.cumsum(reps) - reps]
    last_s = s_spk[np.cumsum(reps) - 1]
    on = (first_s - half + w_first[idx]) / sfreq
    off = (last_s - half + w_last[idx] + 1) / sfreq
    truth = pd.DataFrame(
        {
            "channel": names[ch[idx]],
            "onset_s": on,
            "offset_s": off,
            "duration_s": off - on,
            "discharge_hz": np.nan,
            "kind": "clonic",
            "pattern": "isolated",
            "event_id": -1,
        }
    )
    spikes = pd.DataFrame(
        {
            "channel": names[ch[owner]],
            "unit": [f"{c}:iso{i}" for c, i in zip(names[ch[owner]], owner, strict=True)],
            "time_s": s_spk / sfreq,
            "burst_index": np.repeat(np.arange(idx.size), reps),
        }
    )
    return truth, spikes


def _truth_events(
    bursts: pd.DataFrame, ascending: npt.NDArray[np.bool_], sfreq: float
) -> pd.DataFrame:
    """One row per synchronous event from the truth bursts (grouped by ``event_id``).

    ``onset_order`` joins the channels in onset order with ``"<"``, or ``"="`` where two onsets
    coincide (same sample); ``"simultaneous"`` when all do. ``ascending`` (the simulated
    caudo-rostral order) is not reported: the order is read from the onsets.
    """
    sb = bursts[bursts["event_id"] >= 0].sort_values(["event_id", "onset_s"], kind="stable")
    if sb.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SYNC_COLUMNS})
    g = sb.groupby("event_id", sort=True)
    out = pd.DataFrame(
        {
            "onset_s": g["onset_s"].min(),
            "offset_s": g["offset_s"].max(),
            "n_channels": g["channel"].size(),
            "channels": g["channel"].agg(",".join),
            "lead_channel": g["channel"].first(),
            "spread_ms": (g["onset_s"].max() - g["onset_s"].min()) * 1000.0,
        }
    ).reset_index()
    out["lag_ms"] = out["spread_ms"]
    out["lag_ci_low_ms"] = np.nan
    out["lag_ci_high_ms"] = np.nan
    tie = sb["onset_s"].diff().abs().to_numpy() < 0.5 / sfreq
    sb = sb.assign(sep=np.where(tie, "=", "<"))
    first = ~sb["event_id"].duplicated().to_numpy()
    sb.loc[first, "sep"] = ""
    order = (sb["sep"] + sb["channel"]).groupby(sb["event_id"], sort=True).agg("".join)
    order = order.reindex(out["event_id"]).to_numpy(object)
    simultaneous = np.array(["<" not in o for o in order])
    out["onset_order"] = np.where(simultaneous, "simultaneous", order)
    second = sb[sb.groupby("event_id").cumcount().to_numpy() == 1]
    lead_sep = second.set_index("event_id")["sep"].reindex(out["event_id"])
    muscle = out["lead_channel"].str.rsplit("_", n=1).str[0]
    out["lead_muscle"] = np.where(
        simultaneous, "simultaneous", np.where(lead_sep.to_numpy() == "<", muscle, "tied")
    )
    return out[list(SYNC_COLUMNS)]
