"""Mains hum of a recording, estimated once from a bounded sample of it.

Mains interference is stationary over a session: its frequency (50 or 60 Hz) and which of
its harmonics stand out as spectral lines do not change from minute to minute. So instead of
the spectra of the whole file (or of its first two minutes), :func:`estimate_hum` looks at
``n_windows`` windows of ``window_s`` seconds spread evenly over the recording (the first at
its start, the last at its end), each band-passed on its own (with a settling margin on both
sides that is then dropped). From 1-s periodograms of these windows (mean removed per
segment; Welch 1967) it decides

- the mains frequency, as :func:`hfs_emg.signal.detect_mains`: the Welch average per channel,
  (Hann segments, 50 % overlap) normalised by its median over frequency and averaged over
  channels, at 50 and 60 Hz against
  the median of the neighbours 3-10 Hz away (ratio >= ``min_ratio``);
- the hum lines, as :func:`hfs_emg.detection.hum_lines`: the harmonics whose power in the
  median over segments (Tukey 0.25 segments, 1/8 overlap, as ``scipy.signal.spectrogram``;
  the median ignores bursts, whose near-constant discharge rate makes a line only while they
  last) stands ``min_ratio`` above the neighbours.

The cost is bounded (about ``n_windows x window_s`` seconds of every channel, whatever the
length of the file) and the same windows are read whether the recording is in memory or
streamed from disk, so both paths choose the same notches. Recordings no longer than the
sample are analysed whole (their first ``max_whole_s`` seconds, as before).

References
----------
.. [1] P. D. Welch, "The use of fast Fourier transform for the estimation of power spectra",
   IEEE Trans. Audio Electroacoust. 15(2), 70-73 (1967).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.fft as _fft
from scipy import signal as _sps

from . import signal as _sig
from ._docs import fill_doc
from ._errors import ParameterError
from ._validate import check_sfreq
from .signal import MAINS_FREQUENCIES

__all__ = ["Hum", "estimate_hum", "sample_windows"]

#: Default sample: 8 windows of 4 s spread over the recording (32 s of every channel).
N_WINDOWS: int = 8
WINDOW_S: float = 4.0
#: Recordings up to this long are analysed from their start, without sampling, seconds.
MAX_WHOLE_S: float = 40.0

FloatArray = npt.NDArray[np.floating]
#: ``read(start, stop)`` -> the picked channels' samples ``start:stop``, shape (C, stop-start).
Reader = Callable[[int, int], FloatArray]


@dataclass(frozen=True)
class Hum:
    """Mains frequency and hum lines of a recording (see :func:`estimate_hum`).

    Attributes
    ----------
    mains : float or None
        50.0, 60.0, or None when neither stands out.
    lines : tuple of float
        Harmonics of ``mains`` (Hz) that carry hum, up to ``max_freq``.
    windows : tuple of (int, int)
        The sample windows ``(start, stop)`` in samples from the recording's first sample.
    """

    mains: float | None
    lines: tuple[float, ...]
    windows: tuple[tuple[int, int], ...]


def sample_windows(
    n_samples: int,
    fs: float,
    *,
    n_windows: int = N_WINDOWS,
    window_s: float = WINDOW_S,
    max_whole_s: float = MAX_WHOLE_S,
) -> list[tuple[int, int]]:
    """Sample windows ``(start, stop)`` spread evenly over ``n_samples`` samples.

    A recording no longer than ``max(max_whole_s, n_windows * window_s)`` seconds is one
    window (all of it).

    Examples
    --------
    >>> sample_windows(1000, 100.0)  # 10 s: whole
    [(0, 1000)]
    >>> sample_windows(60_000, 100.0, n_windows=3, window_s=4.0)  # 10 minutes
    [(0, 400), (29800, 30200), (59600, 60000)]
    """
    if n_windows < 1 or window_s <= 0:
        raise ParameterError(f"Need n_windows >= 1 and window_s > 0, got {n_windows}, {window_s}.")
    width = max(round(window_s * fs), 1)
    if n_samples <= max(round(max_whole_s * fs), n_windows * width):
        return [(0, int(n_samples))]
    if n_windows == 1:
        return [(0, width)]
    starts = np.round(np.linspace(0, n_samples - width, n_windows)).astype(np.int64)
    return [(int(s), int(s) + width) for s in starts]


@functools.lru_cache(maxsize=16)
def _window(window: str | tuple[str, float], nperseg: int, dtype: np.dtype) -> FloatArray:
    """scipy's periodic ``window`` of ``nperseg`` samples as ``dtype`` (made once; read-only)."""
    w = _sps.get_window(window, nperseg).astype(dtype)
    w.flags.writeable = False
    return w


def _segment_power(x: FloatArray, nperseg: int, window: object, step: int) -> FloatArray:
    """Periodograms (C, n_segments, F) of ``window``-ed segments every ``step``, mean removed."""
    n_seg = (x.shape[-1] - nperseg) // step + 1
    if n_seg < 1:
        return np.empty((x.shape[0], 0, nperseg // 2 + 1))
    segs = np.lib.stride_tricks.sliding_window_view(x, nperseg, axis=-1)[:, ::step][:, :n_seg]
    segs = segs - segs.mean(axis=-1, keepdims=True)
    segs *= _window(window, nperseg, segs.dtype)  # periodic, as scipy's (made once)
    spec = _fft.rfft(segs, axis=-1)
    return (spec.real**2 + spec.imag**2).astype(np.float64)


def _channel_power(
    core: FloatArray, nperseg: int, window: object, step: int, tiny: float, *, lines: bool
) -> FloatArray:
    """:func:`_segment_power` one channel at a time (bounded FFT work), stacked.

    ``lines``: each segment's spectrum normalised by its median over frequency, as float32
    (the spectrogram of the hum lines); else the periodograms (Welch's).
    """
    parts = []
    for c in range(core.shape[0]):  # channels
        sx = _segment_power(core[c : c + 1], nperseg, window, step)
        if lines:
            sx /= np.maximum(np.median(sx, axis=-1, keepdims=True), tiny)
            sx = sx.astype(np.float32)
        parts.append(sx)
    if not parts:  # no channel
        out = _segment_power(core, nperseg, window, step)
        return out.astype(np.float32) if lines else out
    return np.concatenate(parts)


def _line_ratio(psd: FloatArray, freqs: FloatArray, f0: npt.NDArray[np.float64]) -> FloatArray:
    """Peak power within 1 Hz of each ``f0`` over the median of its neighbours 3-10 Hz away."""
    dist = np.abs(freqs[None, :] - f0[:, None])
    peak = np.where(dist <= 1.0, psd[None, :], 0.0).max(axis=1)
    neigh = np.where((dist >= 3.0) & (dist <= 10.0), psd[None, :], np.nan)
    return peak / np.maximum(np.nanmedian(neigh, axis=1), np.finfo(float).tiny)


@fill_doc
def estimate_hum(
    x_or_read: npt.ArrayLike | Reader,
    fs: float,
    *,
    n_samples: int | None = None,
    band: tuple[float, float] | None = (20.0, 1000.0),
    max_freq: float | None = None,
    min_ratio: float = 10.0,
    n_windows: int = N_WINDOWS,
    window_s: float = WINDOW_S,
    max_whole_s: float = MAX_WHOLE_S,
) -> Hum:
    """Mains frequency and hum lines from a bounded sample of a recording.

    Parameters
    ----------
    x_or_read : array-like, shape (n_channels, n_samples), or callable
        The samples, or ``read(start, stop)`` returning samples ``start:stop`` of every channel
        (a file reader: only the sample windows are read).
    %(fs)s
    n_samples : int, optional
        Length of the recording (needed with a callable).
    band : (float, float) or None
        Zero-phase Butterworth band-pass applied to each window first (the upper corner capped
        at 0.45 ``fs``); None: the raw samples.
    max_freq : float, optional
        Highest hum line considered (default: the band's upper corner, or Nyquist - 10 Hz).
    min_ratio : float
        Peak-to-neighbour power ratio of the mains and of a hum line.
    n_windows, window_s, max_whole_s
        The sample (see :func:`sample_windows`).

    Returns
    -------
    Hum

    References
    ----------
    .. [1] P. D. Welch, IEEE Trans. Audio Electroacoust. 15(2), 70-73 (1967).

    Examples
    --------
    >>> fs = 2000.0
    >>> t = np.arange(round(300 * fs)) / fs  # 5 minutes
    >>> x = np.random.default_rng(0).normal(size=(2, t.size))
    >>> x += np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t)
    >>> hum = estimate_hum(x, fs)
    >>> hum.mains, hum.lines, len(hum.windows)
    (50.0, (50.0, 150.0), 8)
    """
    fs = check_sfreq(fs, name="fs")
    if callable(x_or_read):
        if n_samples is None:
            raise ParameterError("estimate_hum needs n_samples with a read callable.")
        read = x_or_read
        n = int(n_samples)
    else:
        arr = np.atleast_2d(np.asarray(x_or_read))
        n = arr.shape[-1]

        def read(start: int, stop: int) -> FloatArray:
            return arr[:, start:stop]

    windows = sample_windows(n, fs, n_windows=n_windows, window_s=window_s, max_whole_s=max_whole_s)
    if fs <= 2 * 70.0 or n < fs:  # mains not observable, or under 1 s of data
        return Hum(None, (), tuple(windows))
    top = fs / 2 - 10.0
    kernel = None
    pad = 0
    if band is not None:
        l_freq, h_freq = float(band[0]), min(float(band[1]), 0.45 * fs)
        top = min(top, h_freq)
        sos = _sig.sos_bandpass(fs, l_freq, h_freq)
        kernel = _sig.sosfiltfilt_kernel(sos, np.float64)
        # settling margin: six periods of the high-pass corner (as the chunked filters use)
        pad = int(np.ceil(max(0.5, 6.0 / l_freq) * fs))
    if max_freq is not None:
        top = min(top, float(max_freq))
    nperseg = round(fs)
    tiny = np.finfo(float).tiny
    welch_sum: FloatArray | None = None
    n_welch = 0
    line_parts = []  # per-segment normalised spectra (float32: only ranked by the median)
    for start, stop in windows:  # a few windows, not samples; each reduced before the next
        lo, hi = max(start - pad, 0), min(stop + pad, n)
        got = read(lo, hi)
        seg = np.asarray(got, dtype=np.float64)
        if kernel is not None:
            if seg is got or not seg.flags.writeable:  # the caller's array: filter a copy
                seg = seg.copy()
            for c in range(seg.shape[0]):  # channels, in place (the kernel allows it)
                kernel(seg[c], seg[c])
        core = seg[:, start - lo : stop - lo]
        # Welch's segments for the mains (Hann, 50 % overlap), the spectrogram's for the lines
        # (Tukey 0.25, 1/8 overlap), as detect_mains and hum_lines compute them; channel by
        # channel, so the FFT work is one channel's (every row is its own transform)
        pw = _channel_power(core, nperseg, "hann", nperseg - nperseg // 2, tiny, lines=False)
        welch_sum = pw.sum(axis=1) if welch_sum is None else welch_sum + pw.sum(axis=1)
        n_welch += pw.shape[1]
        sx = _channel_power(
            core, nperseg, ("tukey", 0.25), nperseg - nperseg // 8, tiny, lines=True
        )
        line_parts.append(sx)
        del seg, core, pw, sx
    sxx = np.concatenate(line_parts, axis=1)
    if n_welch == 0 or sxx.shape[1] == 0 or welch_sum is None:
        return Hum(None, (), tuple(windows))
    freqs = np.fft.rfftfreq(nperseg, 1.0 / fs)
    welch = welch_sum / n_welch
    welch = welch / np.maximum(np.median(welch, axis=-1, keepdims=True), tiny)
    ratios = _line_ratio(welch.mean(axis=0), freqs, np.asarray(MAINS_FREQUENCIES, float))
    best = int(np.argmax(ratios))
    if ratios[best] < min_ratio:
        return Hum(None, (), tuple(windows))
    mains = float(MAINS_FREQUENCIES[best])
    harm = mains * np.arange(1, int(top // mains) + 1)
    lines: tuple[float, ...] = ()
    if harm.size:
        psd = np.median(sxx, axis=1).astype(np.float64).mean(axis=0)
        lines = tuple(float(f) for f in harm[_line_ratio(psd, freqs, harm) >= min_ratio])
    return Hum(mains, lines, tuple(windows))
