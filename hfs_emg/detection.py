"""Burst detection in spontaneous EMG: onsets, offsets, amplitude and intra-burst discharge rate.

:func:`detect_bursts` turns a :class:`~hfs_emg.recording.Recording` into a tidy table, one row
per burst. The detector is chosen with ``method=`` from :data:`BURST_METHODS`:

``"hysteresis"`` (default)
    Double threshold on a centred moving-RMS envelope (``window_s``), relative to each
    channel's robust noise RMS (quietest windows, :func:`hfs_emg.signal.quiet_noise`): a burst
    is a run above ``low`` x noise that reaches ``high`` x noise somewhere. Its edges are then
    moved in to where a short (``fine_window_s``) RMS envelope first and last reaches
    ``max(high x noise, rel x its peak in the burst)``, which removes the half-window smear of
    the long envelope and the ringing of narrow notch filters before and after loud bursts.
``"hodges_bui"``
    Hodges & Bui (1996): full-wave rectification, low-pass (``lp_hz``), moving mean over
    ``window_s``, active where it exceeds baseline mean + ``h`` x baseline SD.
``"bonato"``
    Bonato, D'Alessio & Knaflitz (1998): test function ``(x[k]^2 + x[k+1]^2) / sigma^2`` on
    successive sample pairs against the chi-square(2) threshold for a per-test false-alarm
    probability ``pfa``; on where at least ``r0`` of the ``m`` tests around a sample exceed it.
    The test assumes white samples, so the band-passed signal is first subsampled to about
    twice ``band_hz``.
``"tkeo"``
    Teager-Kaiser energy operator before the Hodges-Bui threshold (Li, Zhou & Aruin 2007;
    Solnik et al. 2008): |TKEO|, low-pass ``lp_hz``, baseline mean + ``h`` x SD.

Every method's runs then go through the same post-processing: runs touching the first or last
sample (onset or offset unobservable, filter edge transients) are dropped, runs closer than
``merge_gap_s`` are merged and runs shorter than ``min_duration_s`` dropped. Bursts of at least
``tonic_min_s`` (default 0.5 s) are ``"tonic"``, shorter ones ``"clonic"``: clonic HFS spasms
last tens to a few hundred milliseconds, tonic ones from about half a second to several seconds.

The intra-burst discharge rate (``discharge_hz``) is the fundamental frequency of the filtered
burst, found from the YIN difference function (de Cheveigné & Kawahara 2002) with an octave
check (:func:`hfs_emg.discharge.discharge_frequency`) in 100-500 Hz, on the first 0.25 s of
every burst, many bursts at once on a padded 2-D stack.

Channels are analysed one at a time (on 2 threads when they are long), and within a channel
nothing of the recording's length is allocated: the ``"hysteresis"`` envelope is streamed in
blocks and only its threshold crossings are kept, and the per-burst steps gather the burst
samples in batches. Memory beyond the recording stays at a few MB per thread (plus one filtered
channel when ``detect_bursts`` filters), whatever the recording's length. With numba, the
envelope (:func:`hfs_emg._fastfilt.hysteresis_runs`), the edge refinement and the burst
amplitudes (:mod:`hfs_emg._fastburst`) are compiled GIL-free passes over a channel's runs, bit for
bit the NumPy steps (same sums in the same order), so the two threads overlap.

Baselines (noise RMS, quiet-window mean and SD) are estimated on the whole recording, assuming
bursts fill well under 80 % of it; for long recordings with changing noise, process windows with
:meth:`~hfs_emg.recording.Recording.crop`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import signal as _sps

from . import _fastburst, _fastfilt
from . import signal as _sig
from ._chunking import run_tasks
from ._errors import ParameterError
from ._validate import check_option, check_positive, validate_type
from .discharge import DISCHARGE_RANGE_HZ, MIN_PERIODICITY, discharge_frequency, median_frequency
from .preprocessing import DEFAULT_BAND, EmgFilter
from .recording import Recording
from .rise_time import rise_features, rise_sd_ms
from .stim_locked import StimulusWindows

__all__ = [
    "BURST_COLUMNS",
    "BURST_METHODS",
    "DEFAULT_BAND",
    "ISOLATED_MAX_S",
    "MIN_DURATION_S",
    "PATTERNS",
    "TONIC_MIN_S",
    "BurstDetector",
    "burst_filter",
    "detect_bursts",
    "hum_lines",
]

logger = logging.getLogger("hfs_emg")

#: Columns of the burst table returned by :func:`detect_bursts`.
BURST_COLUMNS: tuple[str, ...] = (
    "channel",
    "onset_s",
    "offset_s",
    "duration_s",
    "peak_uv",
    "rms_uv",
    "area_uv_s",
    "discharge_hz",
    "periodicity",
    "median_frequency_hz",
    "kind",
    "pattern",
)
#: Burst patterns of surface polymyography in HFS (isolated discharges, grouped/clonic bursts,
#: tonic spasms) and the default boundaries between them, seconds.
PATTERNS: tuple[str, ...] = ("isolated", "clonic", "tonic")
ISOLATED_MAX_S: float = 0.02
TONIC_MIN_S: float = 0.5
#: Default shortest burst per method (seconds), see :func:`detect_bursts`.
MIN_DURATION_S: dict[str, float] = {
    "hysteresis": 0.002,
    "hodges_bui": 0.02,
    "bonato": 0.02,
    "tkeo": 0.02,
}
#: History steps (``Recording.history[i]["step"]``) that count as "already band-passed".
_FILTER_STEPS = ("bandpass_filter", "highpass_filter")
_REFINE_KEYS = ("fine_window_s", "rel", "onset_floor", "backtrack_s")

FloatArray = npt.NDArray[np.floating]
Mask = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- baselines
def _quiet_stats(
    env: FloatArray, fs: float, window_s: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Mean and SD per channel of the envelope over its quieter half of windows."""
    width = max(round(window_s * fs), 1)
    n_win = env.shape[-1] // width
    blocks = env[:, : n_win * width].reshape(env.shape[0], n_win, width)
    wmean = blocks.mean(axis=-1)
    keep = wmean <= np.median(wmean, axis=-1, keepdims=True)
    sel = np.where(keep[..., None], blocks, np.nan)
    return np.nanmean(sel, axis=(1, 2)), np.nanstd(sel, axis=(1, 2))


def _window_count(x: FloatArray, m: int) -> FloatArray:
    """Sum of ``x`` over the ``m`` samples centred on each sample (truncated at the edges)."""
    n = x.shape[-1]
    cs = np.zeros((x.shape[0], n + 1))
    np.cumsum(x, axis=-1, out=cs[:, 1:])
    idx = np.arange(n)
    lo = np.clip(idx - m // 2, 0, n)
    hi = np.clip(idx - m // 2 + m, 0, n)
    return cs[:, hi] - cs[:, lo]


# --------------------------------------------------------------------------- methods
def _hysteresis(
    x: FloatArray,
    fs: float,
    *,
    window_s: float = 0.015,
    high: float = 2.5,
    low: float = 1.2,
    noise: FloatArray | None = None,
) -> tuple[Mask, Mask | None]:
    # ``noise`` (per channel) is given when the recording is streamed in chunks
    if not 0 < low <= high:
        raise ParameterError(f"Need 0 < low <= high, got low={low}, high={high}.")
    env = _sig.moving_rms(x, fs, window_s)
    if noise is None:
        noise = _sig.quiet_noise(x, fs)
    noise = np.maximum(noise, np.finfo(float).tiny)[:, None]
    return env > low * noise, env > high * noise


def _hysteresis_runs(
    row: FloatArray,
    fs: float,
    noise: float,
    *,
    window_s: float = 0.015,
    high: float = 2.5,
    low: float = 1.2,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], Mask]:
    """:func:`_hysteresis` of one channel without its full-length envelope or masks.

    The moving RMS is streamed block by block (:func:`hfs_emg.signal.running_window_blocks`,
    rounded to the row's dtype as the stored envelope would be); each block only contributes
    the sample indices where its low- and high-threshold masks change. Returns the runs above
    ``low x noise`` (start, stop) and whether each reaches ``high x noise`` (a run above the
    high threshold starts inside it: high runs lie within low runs).
    """
    if not 0 < low <= high:
        raise ParameterError(f"Need 0 < low <= high, got low={low}, high={high}.")
    half = _sig._half_width(fs, check_positive(window_s, "window_s"))
    n = row.shape[-1]
    lo_thr, hi_thr = np.float64(low * noise), np.float64(high * noise)
    if _fastfilt.enabled() and row.dtype in (np.float32, np.float64):
        # compiled: the same block sums and comparisons in one GIL-free pass over the row
        s, e, hits = _fastfilt.hysteresis_runs(
            row, half, float(lo_thr), float(hi_thr), _sig._BLOCK, row.dtype == np.float32
        )
        return s.astype(np.intp), e.astype(np.intp), hits
    size = min(_sig._BLOCK, n)
    env = np.empty(size, dtype=row.dtype)
    m_lo = np.zeros(size + 1, dtype=bool)  # [0]: last value of the previous block
    m_hi = np.zeros(size + 1, dtype=bool)
    lo_edges: list[npt.NDArray[np.intp]] = []
    hi_edges: list[npt.NDArray[np.intp]] = []
    for b0, b1, total in _sig.running_window_blocks(row, half, square=True):
        k = b1 - b0
        env[:k] = total
        for mask, thr, edges in ((m_lo, lo_thr, lo_edges), (m_hi, hi_thr, hi_edges)):
            np.greater(env[:k], thr, out=mask[1 : k + 1])
            change = np.flatnonzero(mask[1 : k + 1] != mask[:k])
            if change.size:
                edges.append(change + b0)
            mask[0] = mask[k]
    lo = np.concatenate([*lo_edges, np.array([n] if m_lo[0] else [], dtype=np.intp)])
    hi_starts = np.concatenate(hi_edges)[::2] if hi_edges else np.empty(0, np.intp)
    s, e = lo[0::2].astype(np.intp), lo[1::2].astype(np.intp)
    hits = np.searchsorted(hi_starts, s) < np.searchsorted(hi_starts, e)
    return s, e, hits


def _local_rms(
    x: FloatArray,
    fs: float,
    s: npt.NDArray[np.intp],
    e: npt.NDArray[np.intp],
    c: npt.NDArray[np.intp],
    window_s: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Centred moving RMS on the samples of the runs only (as :func:`hfs_emg.signal.moving_rms`).

    Each run is gathered with a half-window halo (clipped at the recording's edges), so memory
    grows with the burst samples, not with the recording. Returns the RMS of every run sample
    (runs concatenated), the flat index of each of those samples and the offsets of the runs.
    """
    n = x.shape[-1]
    half = round(window_s * fs) // 2  # as hfs_emg.signal.moving_rms
    a = np.maximum(s - half, 0)
    b = np.minimum(e + half, n)
    glen = b - a
    gpos = _ranges_from(c * n + a, glen)
    vals = np.square(x.ravel()[gpos], dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(vals)])
    del vals
    g0 = np.cumsum(glen) - glen  # start of each run's gathered stretch
    lens = e - s
    owner = np.repeat(np.arange(s.size), lens)
    k = _ranges_from(g0 + (s - a), lens)  # gathered index of every run sample
    lo = np.maximum(k - half, g0[owner])
    hi = np.minimum(k + half + 1, (g0 + glen)[owner])
    rms = np.sqrt(np.maximum((csum[hi] - csum[lo]) / (hi - lo), 0.0))
    return rms, gpos[k], np.cumsum(lens) - lens


def _refine(
    x: FloatArray,
    fs: float,
    s: npt.NDArray[np.intp],
    e: npt.NDArray[np.intp],
    c: npt.NDArray[np.intp],
    *,
    high: float,
    fine_window_s: float,
    rel: float,
    noise: npt.NDArray[np.float64] | None = None,
    onset_floor: float | None = None,
    backtrack_s: float = 0.0,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Move each run's edges in to where a short-window RMS first/last reaches its threshold.

    The threshold of a burst is ``max(high * noise, rel * peak)`` of the short envelope, so the
    half-window smear of the detection envelope and filter ringing before loud bursts (a fixed
    fraction of their amplitude) are trimmed. With ``onset_floor``, the onset is then moved back
    to just after the last sample (at most ``backtrack_s`` before the run, never into the
    previous run) where the short envelope was below ``max(onset_floor * noise, rel / 2 *
    peak)`` (the second term keeps filter ringing before loud bursts out): the first
    departure from baseline of a burst that builds up slowly (Hodges & Bui 1996 define the onset
    as the departure from baseline). Vectorized with reduceat over the run samples.
    """
    if s.size == 0:
        return s, e
    n = x.shape[-1]
    if noise is None:
        noise = np.maximum(_sig.quiet_noise(x, fs), np.finfo(float).tiny)
    half = round(fine_window_s * fs) // 2
    back = round(backtrack_s * fs) if onset_floor else 0
    s_run = s
    if back > 0:
        prev_end = np.r_[0, e[:-1]]
        prev_end = np.where(np.r_[False, c[1:] == c[:-1]], prev_end, 0)
        s = np.maximum(s - back, prev_end).astype(np.intp)
    floor = onset_floor if back > 0 else None
    inside = x.shape[0] == 1 and s.min() >= half and e.max() + half <= n
    if _fastburst.enabled() and x.shape[0] == 1 and x.dtype in (np.float32, np.float64):
        # compiled: the same running sums (restarting where the batches below do), peaks,
        # thresholds and searches, one GIL-free pass over the runs
        reset = np.zeros(s.size, dtype=bool)
        if inside:
            reset[[a for a, _ in _batches(e - s + 2 * half, _RUN_BATCH)]] = True
        else:
            reset[0] = True  # _local_rms: one running sum over all runs
        new_s, new_e = _fastburst.refine_runs(
            x[0],
            s.astype(np.int64),
            e.astype(np.int64),
            s_run.astype(np.int64),
            reset,
            half,
            float(high * noise[c[0]]),
            float(rel),
            floor is not None,
            float(floor * noise[c[0]]) if floor is not None else 0.0,
            float(0.5 * rel),
        )
        return new_s.astype(np.intp), new_e.astype(np.intp)
    if inside:
        # no window is cut by the recording's edges: batches of runs, small temporaries
        parts = [
            _refine_runs(
                _run_rms(x[0], s[a:b], e[a:b], half),
                s[a:b],
                e[a:b],
                c[a:b],
                high=high,
                rel=rel,
                noise=noise,
                floor=floor,
                s_run=s_run[a:b],
            )
            for a, b in _batches(e - s + 2 * half, _RUN_BATCH)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    fine = _local_rms(x, fs, s, e, c, fine_window_s)[0]
    return _refine_runs(fine, s, e, c, high=high, rel=rel, noise=noise, floor=floor, s_run=s_run)


def _refine_runs(
    fine: npt.NDArray[np.float64],
    s: npt.NDArray[np.intp],
    e: npt.NDArray[np.intp],
    c: npt.NDArray[np.intp],
    *,
    high: float,
    rel: float,
    noise: npt.NDArray[np.float64],
    floor: float | None = None,
    s_run: npt.NDArray[np.intp] | None = None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """New edges of runs ``s:e`` from the short-window RMS ``fine`` of their samples.

    ``s_run`` (the runs' own starts when ``s`` was extended back for the onset search): the
    peak and the threshold hits are taken from ``s_run`` on.
    """
    lens = e - s
    offsets = np.cumsum(lens) - lens
    if s_run is not None and floor is not None:
        lead = s_run - s  # extended samples before each run
        own = np.ones(fine.size, dtype=bool)
        own[_ranges_from(offsets, lead)] = False
        peak = np.maximum.reduceat(np.where(own, fine, 0.0), offsets)
    else:
        own = None
        peak = np.maximum.reduceat(fine, offsets)
    thr = np.maximum(high * noise[c], rel * peak)
    above = fine >= np.repeat(thr, lens)
    if own is not None:
        above &= own
    hit = np.flatnonzero(above)  # run samples at or above threshold
    i_first = np.searchsorted(hit, offsets)
    i_last = np.searchsorted(hit, offsets + lens) - 1
    found = i_first <= i_last
    first = hit[np.minimum(i_first, hit.size - 1)] if hit.size else offsets
    last = hit[np.maximum(i_last, 0)] if hit.size else offsets
    if floor is not None and s_run is not None:
        # back to the last sample below the floor before the first hit (within the run)
        floor_thr = np.maximum(floor * noise[c], 0.5 * rel * peak)
        below = np.flatnonzero(fine < np.repeat(floor_thr, lens))
        j = np.searchsorted(below, first) - 1
        prior = below[np.maximum(j, 0)] if below.size else offsets
        ok = found & (j >= 0) & (prior >= offsets) if below.size else np.zeros_like(found)
        first = np.where(ok, prior + 1, first)
        new_s = np.where(found, s + first - offsets, s_run)
    else:
        new_s = np.where(found, s + first - offsets, s)
    new_e = np.where(found, s + last + 1 - offsets, e)
    return new_s.astype(np.intp), new_e.astype(np.intp)


#: Samples gathered at a time by the per-run steps (edge refinement, burst features): on the
#: benchmark machine, touching fresh memory (page faults) cost more than the arithmetic, so
#: the runs are taken in batches whose temporaries stay small and get reused.
_RUN_BATCH = 1 << 16
#: Samples of stacked burst windows per batch of the spectral features (discharge rate,
#: median frequency): their FFT work is about 70 bytes per stacked sample (4.6 MB per batch
#: per thread; four times this was the largest work array of the in-memory analysis). Each
#: burst's spectrum is its own row, so the features do not depend on the batch size.
_SPECTRAL_BATCH = 1 << 16


def _batches(weights: npt.NDArray[np.intp], cap: int) -> list[tuple[int, int]]:
    """Consecutive index ranges whose weights sum to at most ``cap`` (at least one item each).

    Examples
    --------
    >>> _batches(np.array([3, 3, 5, 1]), 6)
    [(0, 2), (2, 4)]
    """
    cw = np.cumsum(weights)
    out = []
    i0 = 0
    while i0 < cw.size:  # a few batches, not runs
        base = int(cw[i0 - 1]) if i0 else 0
        i1 = max(int(np.searchsorted(cw, base + cap, side="right")), i0 + 1)
        out.append((i0, i1))
        i0 = i1
    return out


def _run_rms(
    row: FloatArray, s: npt.NDArray[np.intp], e: npt.NDArray[np.intp], half: int
) -> npt.NDArray[np.float64]:
    """Centred moving RMS (``2 * half + 1`` samples) at the samples of the runs of one row.

    As :func:`_local_rms` when no window reaches past the row's ends (``s >= half`` and
    ``e + half <= n``): every run is gathered with its full halo, one float64 cumulative sum
    runs over the gathered stretches, and the window sums of all gathered samples are taken
    at once; the halo samples (whose windows straddle two stretches) are then dropped.
    """
    width = 2 * half + 1
    lens = e - s
    glen = lens + 2 * half
    g0 = np.cumsum(glen) - glen
    total = int(glen.sum())
    vals = np.square(row[np.repeat(s - half - g0, glen) + np.arange(total)], dtype=np.float64)
    csum = np.empty(total + 1)
    csum[0] = 0.0
    np.cumsum(vals, out=csum[1:])
    del vals
    sums = csum[width:] - csum[: total + 1 - width]  # window centred on gathered sample j + half
    # keep j in [g0, g0 + len) of every stretch; drop its 2 * half halo positions after that
    counts = np.full(2 * lens.size - 1, 2 * half)
    counts[::2] = lens
    keep = np.repeat(np.arange(counts.size) % 2 == 0, counts)
    out = sums[keep]
    out /= width
    np.maximum(out, 0.0, out=out)
    return np.sqrt(out, out=out)


def _ranges_from(starts: npt.NDArray[np.intp], lens: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Concatenated ``arange(start, start + len)`` (no Python loop)."""
    offsets = np.repeat(np.cumsum(lens) - lens, lens)
    return np.arange(int(lens.sum())) - offsets + np.repeat(starts, lens)


def _hodges_bui(
    x: FloatArray, fs: float, *, lp_hz: float = 50.0, window_s: float = 0.02, h: float = 3.0
) -> tuple[Mask, Mask | None]:
    env = _sig.lowpass(np.abs(x), fs, lp_hz, order=2)
    mu, sd = _quiet_stats(env, fs)
    avg = _sig.moving_average(env, fs, window_s)
    return avg > (mu + h * sd)[:, None], None


def _bonato(
    x: FloatArray,
    fs: float,
    *,
    pfa: float = 0.01,
    m: int = 5,
    r0: int = 2,
    band_hz: float = 500.0,
) -> tuple[Mask, Mask | None]:
    if not 0 < pfa < 1:
        raise ParameterError(f"pfa must be in (0, 1), got {pfa}.")
    if not (
        isinstance(m, (int, np.integer)) and isinstance(r0, (int, np.integer)) and 1 <= r0 <= m
    ):
        raise ParameterError(f"Need integers 1 <= r0 <= m, got r0={r0!r}, m={m!r}.")
    # Bonato's test assumes white samples: take every ``stride``-th sample, about the Nyquist
    # rate of the band-passed signal, so successive samples are nearly uncorrelated.
    stride = max(int(fs // (2.0 * band_hz)), 1)
    xs = x[:, ::stride]
    var = np.maximum(_sig.quiet_noise(xs, fs / stride), 1e-300)
    n_pairs = xs.shape[1] // 2
    pairs = xs[:, : 2 * n_pairs].reshape(x.shape[0], n_pairs, 2)
    g = (pairs**2).sum(axis=-1) / var[:, None] ** 2
    zeta = -2.0 * np.log(pfa)  # chi-square(2) tail: P(g > zeta) = pfa
    on = _window_count((g > zeta).astype(float), m) >= r0
    mask = np.repeat(on, 2 * stride, axis=1)[:, : x.shape[1]]
    if mask.shape[1] < x.shape[1]:
        mask = np.pad(mask, ((0, 0), (0, x.shape[1] - mask.shape[1])))
    return mask, None


def _tkeo(
    x: FloatArray, fs: float, *, lp_hz: float = 50.0, h: float = 6.0
) -> tuple[Mask, Mask | None]:
    env = _sig.lowpass(np.abs(_sig.tkeo(x)), fs, lp_hz, order=2)
    mu, sd = _quiet_stats(env, fs)
    return env > (mu + h * sd)[:, None], None


#: Detection methods: name -> (function, default options).
BURST_METHODS: dict[str, tuple[Callable[..., tuple[Mask, Mask | None]], dict[str, Any]]] = {
    "hysteresis": (
        _hysteresis,
        {
            "window_s": 0.015,
            "high": 6.0,
            "low": 3.0,
            "fine_window_s": 0.004,
            "rel": 0.2,
            "onset_floor": 2.5,
            "backtrack_s": 0.05,
        },
    ),
    "hodges_bui": (_hodges_bui, {"lp_hz": 50.0, "window_s": 0.02, "h": 3.0}),
    "bonato": (_bonato, {"pfa": 0.01, "m": 5, "r0": 2, "band_hz": 500.0}),
    "tkeo": (_tkeo, {"lp_hz": 50.0, "h": 6.0}),
}


# --------------------------------------------------------------------------- intervals
def _merge_filter(
    starts: npt.NDArray[np.intp],
    stops: npt.NDArray[np.intp],
    chans: npt.NDArray[np.intp],
    merge_gap: int,
    min_len: int,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Merge runs of one channel closer than ``merge_gap`` samples; drop runs < ``min_len``."""
    if starts.size == 0:
        return starts, stops, chans
    new = np.ones(starts.size, dtype=bool)
    new[1:] = (chans[1:] != chans[:-1]) | (starts[1:] - stops[:-1] > merge_gap)
    first = np.nonzero(new)[0]
    s = starts[first]
    e = np.maximum.reduceat(stops, first)
    c = chans[first]
    keep = e - s >= min_len
    return s[keep], e[keep], c[keep]


# --------------------------------------------------------------------------- public
def hum_lines(
    x: npt.ArrayLike,
    fs: float,
    mains: float,
    *,
    max_freq: float | None = None,
    min_ratio: float = 10.0,
) -> list[float]:
    """Mains harmonics that stand out as spectral lines (median of 1-s spectra, 1 Hz resolution).

    HFS discharges run at 150-400 Hz, right where the 3rd-8th harmonics of 50/60 Hz lie; a comb
    notch at every harmonic removes a near-periodic burst's fundamental and rings for hundreds of
    milliseconds around it. Notching only the harmonics that carry hum avoids most of that.

    Parameters
    ----------
    x : array-like, shape (n_channels, n_samples)
        Signals (spectra are normalised per channel and averaged).
    fs : float
        Sampling rate in Hz.
    mains : float
        Fundamental (50 or 60 Hz).
    max_freq : float, optional
        Highest harmonic considered (default: Nyquist minus 10 Hz).
    min_ratio : float
        Peak-to-neighbour power ratio (neighbours 3-10 Hz away) of a line.

    Returns
    -------
    list of float
        Frequencies in Hz of the harmonics that carry hum.

    Examples
    --------
    >>> fs = 2000.0
    >>> t = np.arange(20000) / fs
    >>> x = np.random.default_rng(0).normal(size=(1, 20000))
    >>> x += np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t)
    >>> hum_lines(x, fs, 50.0)
    [50.0, 150.0]
    """
    arr = np.atleast_2d(np.asarray(x, dtype=float))
    n_keep = min(arr.shape[-1], int(120 * fs))
    nperseg = min(n_keep, round(fs))
    # 1-s spectra; the median over time keeps stationary hum and ignores bursts, whose
    # near-constant discharge rate makes a line only while they last
    freqs, _, sxx = _sps.spectrogram(arr[:, :n_keep], fs=fs, nperseg=nperseg, axis=-1)
    sxx = sxx / np.maximum(np.median(sxx, axis=1, keepdims=True), np.finfo(float).tiny)
    psd = np.median(sxx, axis=-1).mean(axis=0)
    top = fs / 2 - 10.0 if max_freq is None else min(max_freq, fs / 2 - 10.0)
    harm = mains * np.arange(1, int(top // mains) + 1)
    if harm.size == 0:
        return []
    dist = np.abs(freqs[None, :] - harm[:, None])
    peak = np.where(dist <= 1.0, psd[None, :], 0.0).max(axis=1)
    neigh = np.where((dist >= 3.0) & (dist <= 10.0), psd[None, :], np.nan)
    ratio = peak / np.maximum(np.nanmedian(neigh, axis=1), np.finfo(float).tiny)
    return [float(f) for f in harm[ratio >= min_ratio]]


def _notch_lines(x: FloatArray, fs: float, mains: float, lines: list[float]) -> FloatArray:
    """IIR notches at ``lines`` (each ``mains / 30`` Hz wide, like the teeth of a comb), with
    both ends continued by whole mains periods of the data so the hum phase stays continuous
    and the narrow notches leave no edge transient (:func:`hfs_emg.signal.notch` kernels).

    Narrow notches matter here: a burst discharging a few Hz from a hum line keeps most of its
    fundamental and rings little.
    """
    n = x.shape[-1]
    period = max(round(fs / mains), 1)
    pad = int(np.ceil(0.6 * fs / period)) * period
    ext = (
        np.concatenate([x[:, pad : 2 * pad], x, x[:, n - 2 * pad : n - pad]], axis=-1)
        if 2 * pad < n
        else x
    )
    for freq in lines:  # a few hum lines, not samples
        ext = _sig.notch(ext, fs, freq, harmonics=False, q=30.0 * freq / mains, method="iir")
    return ext[:, pad : pad + n] if 2 * pad < n else ext


def _already_filtered(rec: Recording) -> bool:
    # structured history: the exact step names the filters record, never a substring match
    return any(rec.has_step(step) for step in _FILTER_STEPS)


def detect_bursts(
    rec: Recording,
    *,
    method: str = "hysteresis",
    picks: Any = "emg",
    min_duration_s: float | None = None,
    merge_gap_s: float = 0.04,
    tonic_min_s: float = TONIC_MIN_S,
    isolated_max_s: float = ISOLATED_MAX_S,
    min_periodicity: float = MIN_PERIODICITY,
    band: tuple[float, float] = DEFAULT_BAND,
    discharge_range_hz: tuple[float, float] = DISCHARGE_RANGE_HZ,
    n_jobs: int | None = None,
    rise_times: bool = False,
    overwrite: bool = False,
    skip_windows: StimulusWindows | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Detect EMG bursts (spasms) channel by channel.

    If the recording's history holds no band-pass or high-pass step, the default preprocessing
    is applied first and logged: zero-phase Butterworth band-pass ``band`` (upper corner capped
    at 0.45 x ``sfreq``) and, if :func:`hfs_emg.signal.detect_mains` finds 50 or 60 Hz hum,
    narrow IIR notches at those harmonics that carry hum (:func:`hum_lines`) - not a comb at
    every harmonic, whose teeth at 150-400 Hz would remove the fundamental of HFS discharges.
    A filtered recording is used as it is. The table's
    ``attrs["preprocessing"]`` says what was done.

    Parameters
    ----------
    rec : Recording
        Continuous EMG in microvolts.
    method : {"hysteresis", "hodges_bui", "bonato", "tkeo"}
        Detector (see the module notes and :data:`BURST_METHODS`).
    picks : str or list, default "emg"
        Channels to analyse.
    min_duration_s : float or None
        Shortest burst kept, seconds. None: the method's default in :data:`MIN_DURATION_S`,
        2 ms for ``"hysteresis"`` (so isolated discharges of 1-3 MUAPs are kept) and 20 ms for
        the published onset detectors, which were designed for sustained activity and give
        short noise runs at their thresholds.
    merge_gap_s : float
        Bursts of one channel separated by less than this are merged, seconds.
    tonic_min_s : float
        Bursts at least this long are ``"tonic"``, shorter ones ``"clonic"``.
    band : (float, float)
        Default band-pass corners in Hz when the recording is unfiltered.
    discharge_range_hz : (float, float)
        Search range of the intra-burst discharge rate (default 100-500 Hz, around the
        150-400 Hz of HFS; lower it for ordinary motor units, e.g. (5, 60)).
    n_jobs : int or None
        Threads over channels (None: both cores when the channels are long enough to gain;
        see :func:`hfs_emg._chunking.resolve_n_jobs`). Channels are analysed one at a time
        (filtered first when needed), so memory beyond the recording is about one channel's
        worth per thread.
    rise_times : bool, default False
        Also measure each burst's waveform onset (``rise_s``, ``rise_sd_ms``; see
        :func:`hfs_emg.synchrony.burst_rise_times`) on the filtered channel while it is in
        memory, instead of filtering the recording a second time for it.
    overwrite : bool, default False
        Filter each picked channel of an unfiltered recording in place, into its own row of
        ``rec.data``, instead of into a new array per channel: the memory beyond the recording
        is then only the detection's small work arrays. The unfiltered samples are lost and the
        recording's history does not say so, so this is for a caller that owns the recording
        and reads nothing more of it (:func:`hfs_emg.analyze` of a file of spontaneous EMG).
        Needs float samples whose array can be written (a recording read from a file); the
        bursts are the same either way.
    skip_windows : StimulusWindows, optional
        Stimulus windows (:class:`hfs_emg.stim_locked.StimulusWindows`): the bursts that start
        in them are detected and merged as all others, but not measured: their amplitude,
        ``discharge_hz``, ``periodicity``, ``median_frequency_hz`` and rise columns are NaN.
        For a caller that drops exactly these rows next
        (:func:`hfs_emg.stim_locked.exclude_stimulus_locked` with the same windows, as
        :func:`hfs_emg.analyze` does): every other row is the same as without ``skip_windows``.
    **options
        Method options; defaults in :data:`BURST_METHODS`:
        hysteresis ``window_s=0.015, high=2.5, low=1.2`` (multiples of the noise RMS),
        ``fine_window_s=0.004, rel=0.2`` (edge refinement); hodges_bui ``lp_hz=50,
        window_s=0.02, h=3``; bonato ``pfa=0.01, m=5, r0=2, band_hz=500``; tkeo ``lp_hz=50,
        h=6``.

    Returns
    -------
    pandas.DataFrame
        One row per burst, sorted by onset: ``channel``, ``onset_s``, ``offset_s``,
        ``duration_s``, ``peak_uv`` (max absolute filtered amplitude), ``rms_uv``,
        ``area_uv_s`` (integral of the rectified signal), ``discharge_hz`` (see
        :func:`hfs_emg.discharge.discharge_frequency`), ``kind`` (``"clonic"``/``"tonic"``).
        ``attrs`` holds ``method``, ``options``, ``preprocessing``, ``duration_s``, ``tstart``,
        ``channels``.

    Raises
    ------
    ParameterError
        Unknown method or option, or a non-positive duration.

    References
    ----------
    .. [1] Hodges PW, Bui BH. A comparison of computer-based methods for the determination of
       onset of muscle contraction using electromyography. Electroencephalogr Clin
       Neurophysiol 1996;101:511-519.
    .. [2] Bonato P, D'Alessio T, Knaflitz M. A statistical method for the measurement of
       muscle activation intervals from surface myoelectric signal during gait. IEEE Trans
       Biomed Eng 1998;45:287-299.
    .. [3] Li X, Zhou P, Aruin AS. Teager-Kaiser energy operation of surface EMG improves muscle
       activity onset detection. Ann Biomed Eng 2007;35:1532-1538.
    .. [4] Solnik S, DeVita P, Rider P, Long B, Hortobágyi T. Teager-Kaiser operator improves
       the accuracy of EMG onset detection independent of signal-to-noise ratio. Acta Bioeng
       Biomech 2008;10(2):65-68.
    .. [5] de Cheveigné A, Kawahara H. J Acoust Soc Am 2002;111:1917-1930 (YIN).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> sim = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=3)
    >>> bursts = detect_bursts(sim.recording)
    >>> len(bursts) == len(sim.bursts)
    True
    >>> list(bursts.columns)[:4]
    ['channel', 'onset_s', 'offset_s', 'duration_s']
    """
    validate_type(rec, Recording, "rec")
    detector = BurstDetector.create(
        method,
        min_duration_s=min_duration_s,
        merge_gap_s=merge_gap_s,
        tonic_min_s=tonic_min_s,
        isolated_max_s=isolated_max_s,
        min_periodicity=min_periodicity,
        discharge_range_hz=discharge_range_hz,
        **options,
    )
    idx = rec._pick_indices(picks)  # rows are used as views: no copy of the recording
    names = [rec.ch_names[i] for i in idx]
    fs = rec.sfreq
    # 1. prepare: the default EMG filter, unless the recording is filtered already
    filt = burst_filter(rec, picks=idx, band=band)
    steps = [] if filt is None else [{"step": st, **pa} for st, pa in filt.steps()]
    if filt is not None:
        logger.info("detect_bursts: unfiltered recording, applied %s", steps)

    in_place = overwrite and filt is not None
    if in_place:  # all picked rows filtered in place at once (several rows per notch pass)
        filt.apply_rows(_writeable_row(rec.data), idx, n_jobs=n_jobs)  # type: ignore[union-attr]

    # 2. detect, channel by channel (each filtered while it is analysed)
    def one_channel(i: int) -> dict[str, Any]:
        row = np.asarray(rec.data[idx[i]])
        if not in_place:
            row = filt.apply(row) if filt is not None else _as_float_row(row)
        where = {"tstart": rec.tstart, "skip": skip_windows}
        if not rise_times:
            return detector.channel(row, fs, index=i, **where)
        noise = float(_sig.quiet_noise(row, fs))  # the detector's own noise level (hysteresis)
        kw = {"noise": noise} if method == "hysteresis" else {}
        feats = detector.channel(row, fs, index=i, **kw, **where)
        feats["rise"], feats["rise_d"] = _measured_rise(row, fs, feats, noise)
        return feats

    parts = run_tasks(one_channel, range(len(idx)), n_jobs=n_jobs, n_samples=rec.n_samples)
    # 3. the table
    table = detector.table(parts, fs, names, rec.tstart)
    table.attrs.update(
        {
            "method": method,
            "options": detector.options,
            "preprocessing": steps,
            "duration_s": rec.duration_s,
            "tstart": rec.tstart,
            "channels": names,
        }
    )
    return table


def _measured_rise(
    row: FloatArray, fs: float, feats: dict[str, Any], noise: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`hfs_emg.rise_time.rise_features` of the measured bursts of ``feats`` (NaN for the
    others; each burst's rise depends on its own window only)."""
    s, e, measured = feats["s"], feats["e"], feats.get("measured")
    if measured is None or measured.all():
        return rise_features(row, fs, s, e, noise)
    rise, dur = _nan_outside(measured, rise_features(row, fs, s[measured], e[measured], noise))
    return rise, dur


def _nan_outside(measured: Mask, values: Sequence[npt.ArrayLike]) -> list[npt.NDArray[np.float64]]:
    """Each of ``values`` (one per measured burst) spread over all bursts, NaN where
    ``measured`` is False: how a feature computed on a subset of bursts enters the table."""
    out = []
    for v in values:
        full = np.full(measured.size, np.nan)
        full[measured] = v
        out.append(full)
    return out


def _writeable_row(row: npt.NDArray[Any]) -> FloatArray:
    """A writeable view of a recording's samples (read-only, their base may not be)."""
    if row.dtype.kind != "f":
        raise ParameterError(f"overwrite=True needs float samples, got {row.dtype}.")
    view = row.view()
    try:
        view.flags.writeable = True
    except ValueError:
        raise ParameterError(
            "overwrite=True needs a recording whose samples can be written (one read from a "
            "file); this one's array is read-only: use overwrite=False."
        ) from None
    return view


def _as_float_row(row: npt.NDArray[Any]) -> FloatArray:
    return row if row.dtype.kind == "f" else row.astype(float)


def burst_filter(
    source: Recording | Callable[[int, int], FloatArray],
    sfreq: float | None = None,
    *,
    n_samples: int | None = None,
    picks: Any = "emg",
    band: tuple[float, float] = DEFAULT_BAND,
) -> EmgFilter | None:
    """The prepare step of :func:`detect_bursts`: the filter it applies to unfiltered EMG.

    The default EMG filter (:class:`hfs_emg.preprocessing.EmgFilter`, notches at the hum lines)
    with the band ``band`` (upper corner capped at 0.45 ``sfreq``), its hum estimated once from
    a bounded sample of the picked channels. None for a recording whose history holds a
    band-pass or high-pass step (it is used as it is).

    Parameters
    ----------
    source : Recording or callable
        The recording, or ``read(start, stop)`` returning the samples ``start:stop`` of the
        channels to analyse (a file streamed chunk by chunk).
    sfreq : float, optional
        Sampling rate in Hz (with a callable).
    n_samples : int, optional
        Length in samples (with a callable).
    picks : str, list or array of int
        Channels of a Recording.
    band : (float, float)
        Band-pass corners in Hz.

    Returns
    -------
    EmgFilter or None

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> rec = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=3).recording
    >>> filt = burst_filter(rec)
    >>> filt.l_freq, filt.h_freq
    (20.0, 900.0)
    >>> burst_filter(filt.filter(rec)) is None
    True
    """
    if isinstance(source, Recording):
        if _already_filtered(source):
            return None
        idx = source._pick_indices(picks)
        fs = source.sfreq
        data, n = source.data, source.n_samples

        def read(start: int, stop: int) -> FloatArray:
            return np.asarray(data[idx, start:stop])

    else:
        if sfreq is None or n_samples is None:
            raise ParameterError("burst_filter needs sfreq and n_samples with a read callable.")
        read, fs, n = source, float(sfreq), int(n_samples)
    l_freq, h_freq = float(band[0]), min(float(band[1]), 0.45 * fs)
    return EmgFilter.design(read, fs, n_samples=n, l_freq=l_freq, h_freq=h_freq, notch="lines")


@dataclass(frozen=True)
class BurstDetector:
    """The detect and table steps of :func:`detect_bursts`, with validated options.

    Build it with :meth:`create` (the keyword arguments of :func:`detect_bursts`); then
    :meth:`channel` finds the bursts of one filtered channel (noise level, thresholds,
    hysteresis, edge refinement, merging, per-burst features) and :meth:`table` makes the tidy
    burst table. :func:`detect_bursts` and the streamed analysis of long files
    (:mod:`hfs_emg.pipeline.streaming`, which gives the whole file's noise level) both run
    these steps, so both detect alike.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> sim = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=3)
    >>> rec, names = sim.recording, sim.recording.ch_names[:2]
    >>> filt, det = burst_filter(rec, picks=names), BurstDetector.create()
    >>> parts = [det.channel(filt.apply(rec.data[i]), rec.sfreq, index=i) for i in range(2)]
    >>> table = det.table(parts, rec.sfreq, names, rec.tstart)
    >>> table.equals(detect_bursts(rec, picks=names))
    True
    """

    method: str
    options: dict[str, Any]
    min_duration_s: float
    merge_gap_s: float
    tonic_min_s: float
    isolated_max_s: float
    min_periodicity: float
    discharge_range_hz: tuple[float, float]

    @classmethod
    def create(
        cls,
        method: str = "hysteresis",
        *,
        min_duration_s: float | None = None,
        merge_gap_s: float = 0.04,
        tonic_min_s: float = TONIC_MIN_S,
        isolated_max_s: float = ISOLATED_MAX_S,
        min_periodicity: float = MIN_PERIODICITY,
        discharge_range_hz: tuple[float, float] = DISCHARGE_RANGE_HZ,
        **options: Any,
    ) -> BurstDetector:
        """Validate the options (as :func:`detect_bursts` takes them).

        Raises
        ------
        ParameterError
            Unknown method or option, or a bad value.
        """
        check_option("method", method, BURST_METHODS)
        _, defaults = BURST_METHODS[method]
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ParameterError(
                f"Unknown option(s) {unknown} for method={method!r}. Allowed: {sorted(defaults)}."
            )
        opts = {**defaults, **options}
        if min_duration_s is None:
            min_duration_s = MIN_DURATION_S[method]
        min_duration_s = check_positive(min_duration_s, "min_duration_s")
        merge_gap_s = check_positive(merge_gap_s, "merge_gap_s", allow_zero=True)
        tonic_min_s = check_positive(tonic_min_s, "tonic_min_s")
        isolated_max_s = check_positive(isolated_max_s, "isolated_max_s")
        if isolated_max_s >= tonic_min_s:
            raise ParameterError(
                f"Need isolated_max_s < tonic_min_s, got {isolated_max_s} and {tonic_min_s}."
            )
        if not 0.0 <= float(min_periodicity) <= 1.0:
            raise ParameterError(f"min_periodicity must be in [0, 1], got {min_periodicity!r}.")
        fmin, fmax = (check_positive(f, "discharge_range_hz") for f in discharge_range_hz)
        if fmin >= fmax:
            raise ParameterError(
                f"discharge_range_hz must be (low, high), got {discharge_range_hz}."
            )
        if method == "hysteresis" and not 0 < opts["low"] <= opts["high"]:
            raise ParameterError(
                f"Need 0 < low <= high, got low={opts['low']}, high={opts['high']}."
            )
        return cls(
            method,
            opts,
            float(min_duration_s),
            float(merge_gap_s),
            float(tonic_min_s),
            float(isolated_max_s),
            float(min_periodicity),
            (float(fmin), float(fmax)),
        )

    def channel(
        self,
        row: FloatArray,
        fs: float,
        *,
        index: int = 0,
        noise: float | None = None,
        tstart: float = 0.0,
        skip: StimulusWindows | None = None,
    ) -> dict[str, Any]:
        """Bursts of one filtered channel: runs, merged, with their features.

        ``noise`` (the channel's noise RMS, ``"hysteresis"`` only) is estimated from ``row``
        (:func:`hfs_emg.signal.quiet_noise`) when not given; the streamed analysis gives the
        whole file's. ``index`` is the channel's position in the final table. ``skip``: the
        bursts whose onset (``tstart`` + start / ``fs``, the table's ``onset_s``) lies in one
        of these stimulus windows are found (and merged) as all others but not measured (NaN
        features); ``"measured"`` of the result says which bursts were.
        """
        func, _ = BURST_METHODS[self.method]
        method_opts = {k: v for k, v in self.options.items() if k not in _REFINE_KEYS}
        s, e = _channel_runs(row, fs, self.method, func, method_opts, self.options, noise=noise)
        merge_gap, min_len = round(self.merge_gap_s * fs), max(round(self.min_duration_s * fs), 1)
        s, e, _ = _merge_filter(s, e, np.zeros(s.size, np.intp), merge_gap, min_len)
        measured = None if skip is None else ~skip.locked(_onsets_s(s, fs, tstart))
        feats = _burst_features(row, fs, s, e, self.discharge_range_hz, measured)
        feats["c"] = np.full(s.size, index, dtype=np.intp)
        feats["measured"] = measured
        return feats

    def table(
        self, parts: list[dict[str, Any]], fs: float, names: list[str], tstart: float
    ) -> pd.DataFrame:
        """The tidy burst table (:data:`BURST_COLUMNS`) of the channels' results, by onset."""
        return _burst_table(
            parts,
            fs,
            names,
            tstart,
            self.tonic_min_s,
            self.isolated_max_s,
            self.min_periodicity,
        )


def _channel_runs(
    row: FloatArray,
    fs: float,
    method: str,
    func: Callable[..., tuple[Mask, Mask | None]],
    method_opts: dict[str, Any],
    opts: dict[str, Any],
    noise: float | None = None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Runs of one channel that pass the method's test, before merging (edges refined)."""
    n = row.shape[-1]
    x = row[np.newaxis]
    zeros = np.zeros(0, np.intp)
    if method == "hysteresis":
        if noise is None:
            noise = float(_sig.quiet_noise(row, fs))
        noise = max(float(noise), np.finfo(float).tiny)
        s, e, hits = _hysteresis_runs(row, fs, noise, **method_opts)
        # runs cut by the recording's edges have no observable onset/offset (and hold the
        # filters' edge transients): they are not reported
        keep = hits & (s > 0) & (e < n)
        s, e = s[keep], e[keep]
        zeros = np.zeros(s.size, np.intp)
        return _refine(
            x,
            fs,
            s,
            e,
            zeros,
            high=opts["high"],
            fine_window_s=opts["fine_window_s"],
            rel=opts["rel"],
            noise=np.array([noise]),
            onset_floor=opts["onset_floor"],
            backtrack_s=opts["backtrack_s"],
        )
    if noise is not None:
        raise ParameterError(f"A given noise level needs method='hysteresis', got {method!r}.")
    low, high = func(x, fs, **method_opts)
    s, e, _ = _sig.mask_to_intervals(low)
    del low
    inner = (s > 0) & (e < n)
    s, e = s[inner], e[inner]
    if high is not None and s.size:
        hits = np.logical_or.reduceat(high.ravel(), np.ravel([s, e], "F"))[::2]
        s, e = s[hits], e[hits]
        zeros = np.zeros(s.size, np.intp)
        s, e = _refine(
            x,
            fs,
            s,
            e,
            zeros,
            high=opts["high"],
            fine_window_s=opts["fine_window_s"],
            rel=opts["rel"],
        )
    return s, e


#: The per-burst features of :func:`_burst_features` (NaN for a burst that is not measured).
_FEATURES = ("peak", "rms", "area", "rate", "strength", "mdf")


def _burst_features(
    row: FloatArray,
    fs: float,
    s: npt.NDArray[np.intp],
    e: npt.NDArray[np.intp],
    frange: tuple[float, float],
    measured: Mask | None = None,
) -> dict[str, Any]:
    """Per-burst features of one channel: amplitudes, discharge rate and periodicity, median
    frequency.

    ``measured`` (optional): only these bursts are measured, the others get NaN. Every feature
    of a burst depends on its own samples only (never on the other bursts it is batched with),
    so a measured burst's values are those of measuring every burst.
    """
    if measured is not None and not measured.all():
        part = _burst_features(row, fs, s[measured], e[measured], frange)
        spread = _nan_outside(measured, [part[key] for key in _FEATURES])
        return {"s": s, "e": e, **dict(zip(_FEATURES, spread, strict=True))}
    if s.size == 0:
        peak = area = rms = rate = strength = mdf = np.empty(0)
        return {
            "s": s,
            "e": e,
            "peak": peak,
            "rms": rms,
            "area": area,
            "rate": rate,
            "strength": strength,
            "mdf": mdf,
        }
    parts = []
    if _fastburst.enabled() and row.dtype in (np.float32, np.float64):
        # compiled: the same maxima and (pairwise) sums as the reduceat below, GIL-free
        parts.append(_fastburst.amplitudes(row, s.astype(np.int64), e.astype(np.int64), fs))
    else:
        for a, b in _batches(e - s, _RUN_BATCH):  # batches of bursts: small temporaries
            lens = e[a:b] - s[a:b]
            offsets = np.cumsum(lens) - lens
            vals = np.abs(row[_ranges_from(s[a:b], lens)]).astype(np.float64)
            peak = np.maximum.reduceat(vals, offsets)
            area = np.add.reduceat(vals, offsets) / fs
            np.square(vals, out=vals)
            parts.append((peak, area, np.sqrt(np.add.reduceat(vals, offsets) / lens)))
    max_len_s = max(0.25, 10 / frange[0])
    per_batch = max(_SPECTRAL_BATCH // max(round(max_len_s * fs), 1), 1)
    found = [
        discharge_frequency(
            row,
            fs,
            s[a:b],
            e[a:b],
            fmin=frange[0],
            fmax=frange[1],
            max_len_s=max_len_s,
            return_strength=True,
        )
        for a in range(0, s.size, per_batch)
        for b in [min(a + per_batch, s.size)]
    ]
    rate = np.concatenate([f[0] for f in found])
    strength = np.concatenate([f[1] for f in found])
    per_batch = max(_SPECTRAL_BATCH // max(round(0.25 * fs), 1), 1)
    mdf = np.concatenate(
        [
            median_frequency(row, fs, s[a:b], e[a:b], max_len_s=0.25)
            for a in range(0, s.size, per_batch)
            for b in [min(a + per_batch, s.size)]
        ]
    )
    peak, area, rms = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return {
        "s": s,
        "e": e,
        "peak": peak,
        "rms": rms,
        "area": area,
        "rate": rate,
        "strength": strength,
        "mdf": mdf,
    }


def _onsets_s(s: npt.NDArray[np.intp], fs: float, tstart: float) -> npt.NDArray[np.float64]:
    """The ``onset_s`` of the burst table of bursts starting at samples ``s`` (one expression,
    so the stimulus windows are tested on the table's own values)."""
    return tstart + s / fs


def _burst_table(
    parts: list[dict[str, Any]],
    fs: float,
    names: list[str],
    tstart: float,
    tonic_min_s: float,
    isolated_max_s: float = ISOLATED_MAX_S,
    min_periodicity: float = MIN_PERIODICITY,
) -> pd.DataFrame:
    """The tidy burst table from the per-channel results, sorted by onset."""

    def cat(key: str, dtype: Any = np.float64) -> npt.NDArray[Any]:
        return np.concatenate([np.empty(0, dtype)] + [p[key] for p in parts])

    s, e, c = cat("s", np.intp), cat("e", np.intp), cat("c", np.intp)
    dur = (e - s) / fs
    strength = cat("strength")
    rate = np.where(strength >= min_periodicity, cat("rate"), np.nan)
    table = pd.DataFrame(
        {
            "channel": np.asarray(names, dtype=object)[c],
            "onset_s": _onsets_s(s, fs, tstart),
            "offset_s": tstart + e / fs,
            "duration_s": dur,
            "peak_uv": cat("peak"),
            "rms_uv": cat("rms"),
            "area_uv_s": cat("area"),
            "discharge_hz": rate,
            "periodicity": strength,
            "median_frequency_hz": cat("mdf"),
            "kind": np.where(dur >= tonic_min_s, "tonic", "clonic"),
            "pattern": np.where(
                dur < isolated_max_s, "isolated", np.where(dur >= tonic_min_s, "tonic", "clonic")
            ),
        }
    )
    if parts and all("rise" in p for p in parts):  # detect_bursts(rise_times=True)
        table["rise_s"] = tstart + cat("rise") / fs
        table["rise_sd_ms"] = rise_sd_ms(cat("rise_d"), fs)
    return table.sort_values(["onset_s", "channel"], kind="stable", ignore_index=True)
