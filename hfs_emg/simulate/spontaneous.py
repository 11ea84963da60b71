"""Simulated spontaneous facial EMG of hemifacial spasm, with ground truth.

The model follows the electromyographic picture of hemifacial spasm (HFS): irregular, brief
*clonic* bursts and longer *tonic* spasms, each made of repetitive motor-unit discharges at
150-400 Hz, synchronous across muscles of several facial-nerve branches with lags of a few to tens
of milliseconds, usually spreading from the top of the face downward, plus isolated bursts in one
muscle. Around them sit white baseline noise, mains hum with odd harmonics, slow baseline wander
and occasional movement artefacts (large slow deflections that a high-pass filter removes).

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
    "event_id",
)
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
        ``discharge_hz``, ``kind`` (``"clonic"``/``"tonic"``), ``event_id`` (-1 for a burst in
        one muscle only).
    synchronous : pandas.DataFrame
        One row per synchronous spasm: ``event_id``, ``onset_s``, ``offset_s``, ``n_channels``,
        ``channels`` (comma-separated, in onset order), ``lead_channel``, ``spread_ms``,
        ``direction`` (``"descending"``/``"ascending"``).
    artifacts : pandas.DataFrame
        Movement artefacts: ``channel``, ``onset_s``, ``duration_s``, ``amplitude_uv``.
    params : dict
        The arguments used.
    """

    recording: Recording
    bursts: pd.DataFrame
    synchronous: pd.DataFrame
    artifacts: pd.DataFrame
    params: dict

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
    n_units: int = 4,
    mains_hz: float | None = 50.0,
    hum_uv: float = 10.0,
    baseline_wander: bool = True,
    movement_artifacts: bool = True,
    seed: int | None = 0,
) -> SimulatedSpontaneous:
    """Simulate spontaneous HFS EMG with known bursts and synchronous spasms.

    Episodes (synchronous spasms and single-muscle bursts) are placed one after another with at
    least 0.3 s of silence between them, so the truth has no overlaps. A spasm recruits the
    affected-side muscles: each muscle joins with probability ``sync_fraction`` (at least two
    join). Its onsets follow the rostro-caudal rank of :data:`hfs_emg.anatomy.MUSCLES`: with
    probability ``1 - ascending_fraction`` the highest muscle leads and the spasm descends (eye
    and forehead to mouth) at 2-6 ms per rank step, otherwise it ascends. Clonic bursts last
    30-200 ms, tonic ones (probability ``tonic_fraction``) 0.6-3 s. Each burst is ``n_units``
    motor units firing at the burst's discharge rate (150-400 Hz, 3 % interval jitter) with
    random phases; a unit's MUAP is a biphasic or triphasic waveform of 2-8 ms. Contralateral
    channels, if requested, carry noise, hum and artefacts only (HFS is one-sided).

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
    n_units : int
        Motor units per burst.
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

    Returns
    -------
    SimulatedSpontaneous

    References
    ----------
    .. [1] Nielsen VK. Neurology 1984;34:418-426.
    .. [2] Farina D, Merletti R. IEEE Trans Biomed Eng 2001;48:637-646.

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
    if int(n_units) < 1:
        raise ParameterError(f"n_units must be >= 1, got {n_units!r}.")
    n_units = int(n_units)
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
    step_ms = rng.uniform(2.0, 6.0, n_max)
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
    period = 1.0 / b_freq
    phase = rng.uniform(0.0, 1.0, (n_b, n_units)) * period[:, None]
    n_spk = np.floor((off_smp - on_smp) / sfreq / period).astype(np.intp) + 1
    counts = np.repeat(n_spk, n_units)  # per (burst, unit)
    k = _ranges(counts)
    bu = np.repeat(np.arange(n_b * n_units), counts)
    b_of, u_of = np.divmod(bu, n_units)
    jitter = rng.normal(0.0, 0.03, k.size) * period[b_of]
    t_spk = on_smp[b_of] / sfreq + phase[b_of, u_of] + k * period[b_of] + jitter
    s_spk = np.round(t_spk * sfreq).astype(np.intp)
    ok = (s_spk >= on_smp[b_of]) & (s_spk < off_smp[b_of])
    s_spk, b_of, u_of = s_spk[ok], b_of[ok], u_of[ok]
    amp = rng.uniform(0.5, 1.0, (n_aff, n_units))
    clean = np.zeros((n_aff, n_samp))
    for unit in range(n_units):  # a few units: keeps one (n_muscles, n_samples) train in memory
        sel = u_of == unit
        train = np.zeros((n_aff, n_samp))
        np.add.at(train, (mu_i[b_of[sel]], s_spk[sel]), amp[mu_i[b_of[sel]], unit])
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
    bursts = pd.DataFrame(
        {
            "channel": names_arr[mu_i],
            "onset_s": on_smp / sfreq,
            "offset_s": off_smp / sfreq,
            "duration_s": (off_smp - on_smp) / sfreq,
            "discharge_hz": b_freq,
            "kind": np.where(tonic[idx][ep_i], "tonic", "clonic"),
            "event_id": np.where(ep_spasm, event_of_ep[ep_i], -1),
        }
    )
    bursts = bursts.sort_values(["onset_s", "channel"], ignore_index=True)
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
    }
    return SimulatedSpontaneous(recording, bursts, sync, art, params)


def _truth_events(
    bursts: pd.DataFrame, ascending: npt.NDArray[np.bool_], sfreq: float
) -> pd.DataFrame:
    """One row per synchronous event from the truth bursts (grouped by ``event_id``)."""
    sb = bursts[bursts["event_id"] >= 0].sort_values(["event_id", "onset_s"])
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
    out["direction"] = np.where(ascending[out["event_id"].to_numpy()], "ascending", "descending")
    return out[list(SYNC_COLUMNS)]
