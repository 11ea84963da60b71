"""NumPy/SciPy kernels for EMG: zero-phase SOS filters, mains notch, envelopes, noise, intervals.

Every kernel works on plain arrays in the style of :mod:`scipy.signal`: data first, the sampling
rate ``fs`` in Hz, options keyword-only, ``axis=-1`` (channels-first arrays ``(n_channels,
n_samples)`` work as they are). ``float32`` input gives ``float32`` output (the filter
coefficients are cast, the recursions run in single precision) and sums that need it are
accumulated in ``float64``. Nothing loops over samples in Python.

The Recording-level wrappers live in :mod:`hfs_emg.preprocessing`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
from scipy import fft as _fft
from scipy import signal as _sps
from scipy import stats as _stats

from . import _fastfilt
from ._docs import fill_doc
from ._errors import DataError, ParameterError
from ._validate import check_option, check_positive, check_sfreq

__all__ = [
    "MAINS_FREQUENCIES",
    "NOTCH_METHODS",
    "bandpass",
    "detect_mains",
    "highpass",
    "highpass_margin_s",
    "hilbert_envelope",
    "lowpass",
    "mad_noise",
    "mask_to_intervals",
    "moving_average",
    "moving_rms",
    "moving_rms_kernel",
    "notch",
    "notch_kernel",
    "notch_margin_s",
    "notch_sos",
    "quiet_noise",
    "rectify",
    "running_window_blocks",
    "sos_bandpass",
    "sos_highpass",
    "sos_lowpass",
    "sosfiltfilt",
    "sosfiltfilt_kernel",
    "tkeo",
]

#: Mains frequencies :func:`detect_mains` chooses between.
MAINS_FREQUENCIES: tuple[float, float] = (50.0, 60.0)


def highpass_margin_s(l_freq: float) -> float:
    """Signal (s) a zero-phase high-pass needs on each side of a chunk: 6 corner periods.

    The transient of a Butterworth high-pass decays with the corner's period; after 6 periods
    chunked filtering differs from whole-signal filtering by ~1e-6 of the RMS (3 periods, as
    SpikeInterface's ``margin_ms="auto"``, leave ~2e-3).

    Examples
    --------
    >>> highpass_margin_s(20.0)
    0.3
    """
    return 6.0 / float(l_freq)


def notch_margin_s(freq: float, q: float = 30.0) -> float:
    """Signal (s) an IIR notch at ``freq`` (width ``freq / q``) needs on each side of a chunk.

    12 time constants of the resonance, ``12 q / (pi freq)`` (decay to ~1e-5).

    Examples
    --------
    >>> round(notch_margin_s(50.0, 30.0), 4)
    2.2918
    """
    return 12.0 * float(q) / (np.pi * float(freq))


#: Factor that turns a median absolute deviation into a standard deviation for Gaussian data.
MAD_TO_STD: float = 1.4826

FloatArray = npt.NDArray[np.floating]
KernelInto = Callable[[FloatArray, FloatArray], None]
#: Samples per block of the blocked kernels (filters, running windows): temporaries of 0.5 MB.
_BLOCK = 1 << 16


# --------------------------------------------------------------------------- helpers
def _as_float(x: npt.ArrayLike) -> FloatArray:
    """``x`` as a floating array: float32 stays float32, everything else becomes float64."""
    arr = np.asarray(x)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if arr.dtype.kind not in "fiub":
        raise DataError(f"x must be numeric, got dtype {arr.dtype}.")
    return arr.astype(np.float64)


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ParameterError(f"order must be an integer >= 1, got {order!r}.")
    return int(order)


def _check_freq(value: float, name: str, fs: float) -> float:
    value = check_positive(value, name)
    nyq = fs / 2.0
    if value >= nyq:
        raise ParameterError(
            f"{name}={value:g} Hz is at or above the Nyquist frequency (fs/2 = {nyq:g} Hz for "
            f"fs={fs:g} Hz). Lower it or use data sampled faster."
        )
    return value


@functools.lru_cache(maxsize=128)
def _butter(order: int, freqs: tuple[float, ...], btype: str, fs: float) -> FloatArray:
    wn = freqs[0] if len(freqs) == 1 else list(freqs)
    sos = _sps.butter(order, wn, btype=btype, fs=fs, output="sos")
    sos.flags.writeable = False
    return sos


# --------------------------------------------------------------------------- filter design
@fill_doc
def sos_bandpass(fs: float, l_freq: float, h_freq: float, *, order: int = 4) -> FloatArray:
    """Butterworth band-pass as second-order sections.

    Parameters
    ----------
    %(fs)s
    l_freq, h_freq : float
        Lower and upper -3 dB corners in Hz, ``0 < l_freq < h_freq < fs / 2``.
    order : int
        Butterworth order of each edge (the SOS has ``order`` sections; filtering forward and
        backward doubles the attenuation).

    Returns
    -------
    sos : ndarray, shape (order, 6)

    Raises
    ------
    ParameterError
        A corner at or above Nyquist, ``l_freq >= h_freq`` or a non-positive corner.

    References
    ----------
    .. [1] S. Butterworth, "On the theory of filter amplifiers", Wireless Engineer 7, 536-541
       (1930).

    Examples
    --------
    >>> sos_bandpass(2000.0, 20.0, 450.0).shape
    (4, 6)
    """
    fs = check_sfreq(fs, name="fs")
    order = _check_order(order)
    lo = _check_freq(l_freq, "l_freq", fs)
    hi = _check_freq(h_freq, "h_freq", fs)
    if lo >= hi:
        raise ParameterError(
            f"l_freq={lo:g} Hz must be below h_freq={hi:g} Hz (Nyquist is {fs / 2:g} Hz)."
        )
    return _butter(order, (lo, hi), "bandpass", fs)


def sos_highpass(fs: float, l_freq: float, *, order: int = 4) -> FloatArray:
    """Butterworth high-pass as second-order sections (see :func:`sos_bandpass`).

    References
    ----------
    .. [1] S. Butterworth, "On the theory of filter amplifiers", Wireless Engineer 7, 536-541
       (1930).

    Examples
    --------
    >>> sos_highpass(1000.0, 20.0).shape
    (2, 6)
    """
    fs = check_sfreq(fs, name="fs")
    return _butter(_check_order(order), (_check_freq(l_freq, "l_freq", fs),), "highpass", fs)


def sos_lowpass(fs: float, h_freq: float, *, order: int = 4) -> FloatArray:
    """Butterworth low-pass as second-order sections (see :func:`sos_bandpass`).

    References
    ----------
    .. [1] S. Butterworth, "On the theory of filter amplifiers", Wireless Engineer 7, 536-541
       (1930).

    Examples
    --------
    >>> sos_lowpass(1000.0, 100.0, order=2).shape
    (1, 6)
    """
    fs = check_sfreq(fs, name="fs")
    return _butter(_check_order(order), (_check_freq(h_freq, "h_freq", fs),), "lowpass", fs)


def sosfiltfilt(sos: npt.ArrayLike, x: npt.ArrayLike, *, axis: int = -1) -> FloatArray:
    """Zero-phase SOS filtering that keeps ``float32`` input in ``float32``, in bounded memory.

    The same result as :func:`scipy.signal.sosfiltfilt` (odd extension of ``3 * (2 *
    n_sections + 1)`` samples at both ends, steady-state initial conditions), computed one
    row at a time in blocks of 65,536 samples with the filter state carried between blocks,
    straight into the output array. SciPy allocates a padded copy, a forward and a reversed
    output (three copies of the input); here the temporaries are a few blocks whatever the
    length. The coefficients are cast to the dtype of ``x`` (a float64 SOS would upcast
    float32 data and double the memory). When numba is installed each row runs in one compiled
    call that does the same operations (:mod:`hfs_emg._fastfilt`, about twice as fast).

    References
    ----------
    .. [1] F. Gustafsson, "Determining the initial states in forward-backward filtering", IEEE
       Trans. Signal Process. 44(4), 988-992 (1996).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=5000).astype(np.float32)
    >>> sos = sos_lowpass(1000.0, 50.0)
    >>> y = sosfiltfilt(sos, x)
    >>> y.dtype, bool(np.array_equal(y, _sps.sosfiltfilt(sos.astype(np.float32), x)))
    (dtype('float32'), True)
    """
    arr = _as_float(x)
    coeffs = np.array(sos, dtype=arr.dtype)  # a writeable copy (scipy needs one)
    n = arr.shape[axis]
    ntaps = 2 * len(coeffs) + 1 - min((coeffs[:, 2] == 0).sum(), (coeffs[:, 5] == 0).sum())
    padlen = 3 * int(ntaps)
    if n <= padlen:
        raise DataError(
            f"The signal has {n} samples along axis {axis}; zero-phase filtering with "
            f"{len(coeffs)} sections needs more than {padlen}."
        )
    moved = np.moveaxis(arr, axis, -1)
    rows = moved.reshape(-1, n)
    out = np.empty(rows.shape, dtype=arr.dtype)
    zi0 = _sps.sosfilt_zi(coeffs).astype(arr.dtype)
    for r in range(rows.shape[0]):
        _filtfilt_row(coeffs, zi0, rows[r], padlen, out[r])
    return np.moveaxis(out.reshape(moved.shape), -1, axis)


def sosfiltfilt_kernel(sos: npt.ArrayLike, dtype: npt.DTypeLike) -> KernelInto:
    """``kernel(x, out)``: :func:`sosfiltfilt` of one 1-D row written into ``out`` (may be ``x``).

    For per-channel drivers that own the output array (no full-length temporary per channel).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=1000)
    >>> out = np.empty_like(x)
    >>> sosfiltfilt_kernel(sos_lowpass(1000.0, 50.0), x.dtype)(x, out)
    >>> bool(np.array_equal(out, sosfiltfilt(sos_lowpass(1000.0, 50.0), x)))
    True
    """
    dt = np.dtype(dtype)
    coeffs = np.array(sos, dtype=dt)
    ntaps = 2 * len(coeffs) + 1 - min((coeffs[:, 2] == 0).sum(), (coeffs[:, 5] == 0).sum())
    padlen = 3 * int(ntaps)
    zi0 = _sps.sosfilt_zi(coeffs).astype(dt)

    def kernel(x: FloatArray, out: FloatArray) -> None:
        if x.shape[-1] <= padlen:
            raise DataError(
                f"The signal has {x.shape[-1]} samples; zero-phase filtering with "
                f"{len(coeffs)} sections needs more than {padlen}."
            )
        _filtfilt_row(coeffs, zi0, x, padlen, out)

    return kernel


def _filtfilt_row(
    sos: FloatArray, zi0: FloatArray, x: FloatArray, padlen: int, out: FloatArray
) -> None:
    if _fastfilt.enabled():  # compiled: the same operations, one GIL-free call per row
        _fastfilt.sosfiltfilt_row(sos, zi0, x, padlen, out)
        return
    n = x.shape[0]
    front = 2 * x[0] - x[padlen:0:-1]
    back = 2 * x[-1] - x[-2 : -padlen - 2 : -1]
    _, z = _sps.sosfilt(sos, front, zi=zi0 * front[0])
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        out[b0:b1], z = _sps.sosfilt(sos, x[b0:b1], zi=z)
    tail, z = _sps.sosfilt(sos, back, zi=z)
    _, z = _sps.sosfilt(sos, tail[::-1], zi=zi0 * tail[-1])
    for b1 in range(n, 0, -_BLOCK):
        b0 = max(b1 - _BLOCK, 0)
        seg, z = _sps.sosfilt(sos, out[b0:b1][::-1], zi=z)
        out[b0:b1] = seg[::-1]


@fill_doc
def bandpass(
    x: npt.ArrayLike,
    fs: float,
    l_freq: float,
    h_freq: float,
    *,
    order: int = 4,
    axis: int = -1,
) -> FloatArray:
    """Zero-phase Butterworth band-pass (forward-backward SOS).

    Parameters
    ----------
    x : array-like
        Signal(s); float32 stays float32, other types become float64.
    %(fs)s
    l_freq, h_freq : float
        Corners in Hz (-6 dB after the forward-backward pass), ``0 < l_freq < h_freq < fs/2``.
    order : int
        Butterworth order (the effective order is doubled by the two passes).
    %(axis)s

    Returns
    -------
    ndarray
        Filtered signal, same shape and dtype.

    References
    ----------
    .. [1] F. Gustafsson, "Determining the initial states in forward-backward filtering", IEEE
       Trans. Signal Process. 44(4), 988-992 (1996).

    Examples
    --------
    >>> fs = 2000.0
    >>> t = np.arange(4000) / fs
    >>> x = np.sin(2 * np.pi * 5 * t) + np.sin(2 * np.pi * 100 * t)
    >>> y = bandpass(x, fs, 20.0, 450.0)
    >>> round(float(np.std(y[500:-500]) * np.sqrt(2)), 2)
    1.0
    """
    return sosfiltfilt(sos_bandpass(fs, l_freq, h_freq, order=order), x, axis=axis)


def highpass(
    x: npt.ArrayLike, fs: float, l_freq: float, *, order: int = 4, axis: int = -1
) -> FloatArray:
    """Zero-phase Butterworth high-pass (see :func:`bandpass`).

    References
    ----------
    .. [1] F. Gustafsson, "Determining the initial states in forward-backward filtering", IEEE
       Trans. Signal Process. 44(4), 988-992 (1996).

    Examples
    --------
    >>> y = highpass(5.0 + np.sin(2 * np.pi * 100 * np.arange(1000) / 1000.0), 1000.0, 10.0)
    >>> abs(round(float(y[200:800].mean()), 3)), round(float(y[200:800].std() * np.sqrt(2)), 3)
    (0.0, 1.0)
    """
    return sosfiltfilt(sos_highpass(fs, l_freq, order=order), x, axis=axis)


def lowpass(
    x: npt.ArrayLike, fs: float, h_freq: float, *, order: int = 4, axis: int = -1
) -> FloatArray:
    """Zero-phase Butterworth low-pass (see :func:`bandpass`).

    References
    ----------
    .. [1] F. Gustafsson, "Determining the initial states in forward-backward filtering", IEEE
       Trans. Signal Process. 44(4), 988-992 (1996).

    Examples
    --------
    >>> y = lowpass(np.ones(1000), 1000.0, 10.0)
    >>> bool(np.allclose(y, 1.0))
    True
    """
    return sosfiltfilt(sos_lowpass(fs, h_freq, order=order), x, axis=axis)


# --------------------------------------------------------------------------- mains
@fill_doc
def notch_sos(
    fs: float,
    freq: float = 50.0,
    *,
    harmonics: bool = True,
    q: float = 30.0,
    max_freq: float | None = None,
) -> FloatArray:
    """Cascade of second-order IIR notches at ``freq`` and (optionally) its harmonics.

    Every notch has the same -3 dB width ``freq / q`` Hz (the harmonic at ``k * freq`` uses a
    quality factor ``k * q``), so higher harmonics do not eat wider bands of EMG.

    Parameters
    ----------
    %(fs)s
    freq : float
        Mains frequency in Hz (50 or 60 in practice).
    harmonics : bool
        Also notch ``2*freq, 3*freq, ...`` up to ``max_freq``.
    q : float
        Quality factor of the fundamental notch (width ``freq / q`` Hz).
    max_freq : float, optional
        Highest harmonic to notch (default: just below Nyquist). Set it to the low-pass corner
        of the data: harmonics above it are already filtered out and each costs a filter section.

    Returns
    -------
    sos : ndarray, shape (n_harmonics, 6)

    References
    ----------
    .. [1] S. J. Orfanidis, *Introduction to Signal Processing*, Prentice Hall (1996), sec. 11.3
       (second-order notch design used by :func:`scipy.signal.iirnotch`).

    Examples
    --------
    >>> notch_sos(1000.0, 50.0).shape  # 50, 100, ..., 450 Hz
    (9, 6)
    >>> notch_sos(1000.0, 50.0, max_freq=200.0).shape  # 50, 100, 150, 200 Hz
    (4, 6)
    """
    fs = check_sfreq(fs, name="fs")
    freq = _check_freq(freq, "freq", fs)
    q = check_positive(q, "q")
    nyq = fs / 2.0
    top = nyq if max_freq is None else min(check_positive(max_freq, "max_freq"), nyq)
    n_harm = int(np.floor(top / freq * (1 + 1e-9))) if harmonics else 1
    n_harm = max(n_harm, 1)
    # Harmonics within one notch width of Nyquist cannot be designed as a biquad; drop them.
    ks = [k for k in range(1, n_harm + 1) if k * freq < nyq - freq / q]
    if not ks:
        ks = [1]
    sections = []
    for k in ks:
        b, a = _sps.iirnotch(k * freq, k * q, fs=fs)
        sections.append(np.concatenate([b, a]))
    return np.asarray(sections)


def _notch_iir(
    x: FloatArray, fs: float, freq: float, harmonics: bool, q: float, max_freq: float | None
) -> FloatArray:
    sos = notch_sos(fs, freq, harmonics=harmonics, q=q, max_freq=max_freq)
    return sosfiltfilt(sos, x, axis=-1)


def _notch_comb(
    x: FloatArray, fs: float, freq: float, harmonics: bool, q: float, max_freq: float | None
) -> FloatArray:
    # H(z) = g (1 - z^-N) / (1 - a z^-N) with N = fs / freq samples per mains period is a
    # first-order filter in z^-N: seen as (n_periods, N), the signal is filtered down the
    # period axis, which removes every harmonic (and DC) in one vectorised pass.
    period = round(fs / freq)
    n = x.shape[-1]
    if n < 2 * period:
        raise DataError(
            f"The comb notch needs at least two mains periods ({2 / freq:.3g} s), got {n} samples."
        )
    b, a = _sps.iircomb(freq, q, ftype="notch", fs=fs)
    pole = -a[period]
    coef_b = np.array([b[0], -b[0]], dtype=x.dtype)
    coef_a = np.array([1.0, -pole], dtype=x.dtype)
    zi = _sps.lfilter_zi(coef_b, coef_a).astype(x.dtype)
    # After the end, n_tail periods let the forward transient decay below 1e-6 before the
    # backward pass starts.
    n_tail = int(np.ceil(np.log(1e-6) / np.log(pole))) + 1
    rows = x.reshape(-1, n)
    out = np.empty(rows.shape, dtype=x.dtype)
    for r in range(rows.shape[0]):
        _comb_row(coef_b, coef_a, zi, rows[r], period, n_tail, out[r])
    return out.reshape(x.shape)


def _comb_row(
    b: FloatArray,
    a: FloatArray,
    zi: FloatArray,
    x: FloatArray,
    period: int,
    n_tail: int,
    out: FloatArray,
) -> None:
    """Zero-phase comb of one row, in blocks of periods, into ``out``.

    Edges: the signal is continued periodically (its first period before it, its last one after
    it), which the comb cancels exactly, so the result near an edge does not depend on where the
    signal happens to start. Before the start the filter sits in its steady state (zero
    output).
    """
    if _fastfilt.enabled():  # compiled: the same recursion, one GIL-free call per row
        coef = np.array([b[0], b[1], a[1], zi[0]], dtype=x.dtype)
        _fastfilt.comb_row(coef, x, period, n_tail, out)
        return
    n = x.shape[0]
    n_full = n // period
    main_x = x[: n_full * period].reshape(n_full, period)
    main_y = out[: n_full * period].reshape(n_full, period)
    # The partial last period, completed by the periodic continuation, then n_tail periods.
    rest = n - n_full * period
    reps = n_tail + 2
    tail_len = (n_tail + 1) * period
    tail = np.concatenate([x[n_full * period :], np.tile(x[n - period :], reps)])[:tail_len]
    tail = tail.reshape(n_tail + 1, period)
    step = max(_BLOCK // period, 1)
    first = x[np.newaxis, :period]
    _, z = _sps.lfilter(b, a, first, axis=0, zi=zi[:, np.newaxis] * first)
    for p0 in range(0, n_full, step):
        p1 = min(p0 + step, n_full)
        main_y[p0:p1], z = _sps.lfilter(b, a, main_x[p0:p1], axis=0, zi=z)
    tail_y, z = _sps.lfilter(b, a, tail, axis=0, zi=z)
    rev = tail_y[::-1]
    back, z = _sps.lfilter(b, a, rev, axis=0, zi=zi[:, np.newaxis] * rev[:1])
    if rest:
        out[n_full * period :] = back[-1, :rest]
    for p1 in range(n_full, 0, -step):
        p0 = max(p1 - step, 0)
        seg, z = _sps.lfilter(b, a, main_y[p0:p1][::-1], axis=0, zi=z)
        main_y[p0:p1] = seg[::-1]


def notch_kernel(
    fs: float,
    freq: float,
    dtype: npt.DTypeLike,
    *,
    q: float = 30.0,
    max_freq: float | None = None,
) -> KernelInto:
    """``kernel(x, out)``: zero-phase comb notch (:func:`notch`, ``method="comb"``) of one row.

    ``out`` may be ``x`` (in place). Needs an integer number of samples per mains period; falls
    back to the biquad cascade (``method="iir"``, harmonics up to ``max_freq``) otherwise.

    Examples
    --------
    >>> x = np.sin(2 * np.pi * 50 * np.arange(4000) / 1000.0)
    >>> notch_kernel(1000.0, 50.0, x.dtype)(x, x)
    >>> bool(np.abs(x[1000:-1000]).max() < 0.01)
    True
    """
    fs = check_sfreq(fs, name="fs")
    freq = _check_freq(freq, "freq", fs)
    q = check_positive(q, "q")
    dt = np.dtype(dtype)
    if abs(fs / freq - round(fs / freq)) >= 1e-9:
        return sosfiltfilt_kernel(notch_sos(fs, freq, q=q, max_freq=max_freq), dt)
    period = round(fs / freq)
    b, a = _sps.iircomb(freq, q, ftype="notch", fs=fs)
    pole = -a[period]
    coef_b = np.array([b[0], -b[0]], dtype=dt)
    coef_a = np.array([1.0, -pole], dtype=dt)
    zi = _sps.lfilter_zi(coef_b, coef_a).astype(dt)
    n_tail = int(np.ceil(np.log(1e-6) / np.log(pole))) + 1

    def kernel(x: FloatArray, out: FloatArray) -> None:
        if x.shape[-1] < 2 * period:
            raise DataError(
                f"The comb notch needs at least two mains periods ({2 / freq:.3g} s), got "
                f"{x.shape[-1]} samples."
            )
        _comb_row(coef_b, coef_a, zi, x, period, n_tail, out)

    return kernel


#: Notch implementations of :func:`notch` (``method=``).
NOTCH_METHODS = {"iir": _notch_iir, "comb": _notch_comb}


@fill_doc
def notch(
    x: npt.ArrayLike,
    fs: float,
    freq: float = 50.0,
    *,
    harmonics: bool = True,
    q: float = 30.0,
    max_freq: float | None = None,
    method: str = "auto",
    axis: int = -1,
) -> FloatArray:
    """Remove mains hum (and harmonics) with zero-phase IIR notches.

    Parameters
    ----------
    x : array-like
        Signal(s).
    %(fs)s
    freq : float
        Mains frequency in Hz; see :func:`detect_mains`.
    harmonics : bool
        Also remove the harmonics (up to ``max_freq`` for ``method="iir"``; all of them, up to
        Nyquist, for ``"comb"``).
    q : float
        Quality factor; every notch is ``freq / q`` Hz wide (-3 dB of one pass).
    max_freq : float, optional
        Highest harmonic removed by ``method="iir"`` (see :func:`notch_sos`).
    method : {"auto", "iir", "comb"}
        ``"iir"``: a cascade of second-order notches, one per harmonic (cost grows with the
        number of harmonics). ``"comb"``: one IIR comb filter ``g (1 - z^-N) / (1 - a z^-N)``
        with ``N = fs / freq`` (needs an integer number of samples per mains period), run as a
        first-order recursion over mains periods; it removes every harmonic and DC for the cost
        of about one band-pass. ``"auto"``: ``"comb"`` when ``harmonics`` and ``fs / freq`` is
        an integer, else ``"iir"``.
    %(axis)s

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.

    References
    ----------
    .. [1] S. J. Orfanidis, *Introduction to Signal Processing*, Prentice Hall (1996), sec. 11.3
       (notch and comb filter design, as in :func:`scipy.signal.iirnotch` and
       :func:`scipy.signal.iircomb`).

    Examples
    --------
    >>> fs = 1000.0
    >>> t = np.arange(5000) / fs
    >>> hum = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t)
    >>> y = notch(hum + np.sin(2 * np.pi * 175 * t), fs, 50.0)
    >>> round(float(np.std(y[1000:-1000]) * np.sqrt(2)), 2)  # only the 175 Hz tone is left
    1.0
    """
    fs = check_sfreq(fs, name="fs")
    freq = _check_freq(freq, "freq", fs)
    q = check_positive(q, "q")
    method = check_option("method", method, ["auto", *NOTCH_METHODS])
    integer_period = abs(fs / freq - round(fs / freq)) < 1e-9
    if method == "auto":
        method = "comb" if harmonics and integer_period else "iir"
    if method == "comb" and not integer_period:
        raise ParameterError(
            f"method='comb' needs an integer number of samples per mains period; fs / freq = "
            f"{fs:g} / {freq:g} = {fs / freq:.6g}. Use method='iir'."
        )
    if method == "comb" and not harmonics:
        raise ParameterError("method='comb' removes every harmonic; use harmonics=True or 'iir'.")
    arr = np.moveaxis(_as_float(x), axis, -1)
    out = NOTCH_METHODS[method](arr, fs, freq, harmonics, q, max_freq)
    return np.moveaxis(out, -1, axis)


@fill_doc
def detect_mains(
    x: npt.ArrayLike,
    fs: float,
    *,
    min_ratio: float = 10.0,
    max_duration_s: float = 120.0,
    axis: int = -1,
) -> float | None:
    """Detect 50 or 60 Hz mains interference from the power spectrum.

    The Welch spectrum (1 Hz resolution, averaged over channels) at 50 and 60 Hz is compared
    with the median of its neighbours 3-10 Hz away on both sides; the frequency with the larger
    ratio wins if that ratio is at least ``min_ratio``.

    Parameters
    ----------
    x : array-like
        Signal(s); only the first ``max_duration_s`` seconds are used.
    fs : float
        Sampling rate in Hz (must exceed 120 Hz).
    min_ratio : float
        Minimum peak-to-neighbour power ratio (10 = 10 dB).
    max_duration_s : float
        Seconds of data analysed (hum is stationary; more only costs time).
    %(axis)s

    Returns
    -------
    float or None
        50.0, 60.0, or None when neither peak stands out.

    References
    ----------
    .. [1] P. D. Welch, "The use of fast Fourier transform for the estimation of power
       spectra", IEEE Trans. Audio Electroacoust. 15(2), 70-73 (1967).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(20000) / 2000.0
    >>> detect_mains(rng.normal(size=20000) + np.sin(2 * np.pi * 60 * t), 2000.0)
    60.0
    >>> detect_mains(rng.normal(size=20000), 2000.0) is None
    True
    """
    fs = check_sfreq(fs, name="fs")
    if fs <= 2 * 70.0:
        raise ParameterError(
            f"fs={fs:g} Hz is too low to see 50/60 Hz mains (Nyquist {fs / 2:g} Hz)."
        )
    arr = np.moveaxis(_as_float(x), axis, -1)
    n_keep = min(arr.shape[-1], int(max_duration_s * fs))
    arr = arr[..., :n_keep].reshape(-1, n_keep)
    nperseg = min(n_keep, round(fs))
    if nperseg < fs / 2:
        raise DataError(f"detect_mains needs at least 0.5 s of data, got {n_keep / fs:.3g} s.")
    freqs, pxx = _sps.welch(arr, fs=fs, nperseg=nperseg, axis=-1)
    # Normalise each channel so one loud channel does not dominate, then average.
    pxx = pxx / np.maximum(np.median(pxx, axis=-1, keepdims=True), np.finfo(float).tiny)
    psd = pxx.mean(axis=0)
    ratios = {}
    for f0 in MAINS_FREQUENCIES:
        peak = psd[np.abs(freqs - f0) <= 1.0].max()
        dist = np.abs(freqs - f0)
        neighbours = psd[(dist >= 3.0) & (dist <= 10.0)]
        ratios[f0] = peak / max(float(np.median(neighbours)), np.finfo(float).tiny)
    best = max(ratios, key=ratios.__getitem__)
    return float(best) if ratios[best] >= min_ratio else None


# --------------------------------------------------------------------------- envelopes
def rectify(x: npt.ArrayLike) -> FloatArray:
    """Full-wave rectification ``|x|`` (dtype kept).

    References
    ----------
    .. [1] R. Merletti, "Standards for reporting EMG data", J. Electromyogr. Kinesiol. 9(1),
       III-IV (1999).

    Examples
    --------
    >>> rectify(np.array([-2.0, 0.5]))
    array([2. , 0.5])
    """
    return np.abs(_as_float(x))


@fill_doc
def moving_rms(x: npt.ArrayLike, fs: float, window_s: float, *, axis: int = -1) -> FloatArray:
    """Centred moving root-mean-square, same length as ``x``.

    The window holds ``2 * (round(window_s * fs) // 2) + 1`` samples centred on each sample; at the
    edges it is truncated to the samples that exist. Computed from a cumulative sum of squares
    accumulated in float64 (also for float32 input, where a float32 running sum over millions of
    samples would lose all precision), so the cost does not depend on the window.

    Parameters
    ----------
    x : array-like
        Signal(s), normally band-passed EMG.
    %(fs)s
    %(window_s)s
    %(axis)s

    Returns
    -------
    ndarray
        RMS envelope, same shape and dtype as ``x``.

    References
    ----------
    .. [1] R. Merletti, "Standards for reporting EMG data", J. Electromyogr. Kinesiol. 9(1),
       III-IV (1999).

    Examples
    --------
    >>> fs = 1000.0
    >>> x = 3.0 * np.sin(2 * np.pi * 50 * np.arange(2000) / fs)
    >>> env = moving_rms(x, fs, 0.1)
    >>> bool(np.isclose(env[1000], 3.0 / np.sqrt(2), rtol=0.01))  # A / sqrt(2)
    True
    """
    fs = check_sfreq(fs, name="fs")
    window_s = check_positive(window_s, "window_s")
    arr = np.moveaxis(_as_float(x), axis, -1)
    if arr.shape[-1] == 0:
        return np.moveaxis(arr.copy(), -1, axis)
    out = _running_window(arr, _half_width(fs, window_s), square=True)
    return np.moveaxis(out, -1, axis)


@fill_doc
def moving_average(x: npt.ArrayLike, fs: float, window_s: float, *, axis: int = -1) -> FloatArray:
    """Centred moving average, same length as ``x`` (window as in :func:`moving_rms`).

    Parameters
    ----------
    x : array-like
        Signal(s), e.g. a rectified signal (giving the average rectified value).
    %(fs)s
    %(window_s)s
    %(axis)s

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.

    References
    ----------
    .. [1] R. Merletti, "Standards for reporting EMG data", J. Electromyogr. Kinesiol. 9(1),
       III-IV (1999) (average rectified value).

    Examples
    --------
    >>> moving_average(np.array([0.0, 3.0, 0.0, 3.0]), 1000.0, 0.003)
    array([1.5, 1. , 2. , 1.5])
    """
    fs = check_sfreq(fs, name="fs")
    window_s = check_positive(window_s, "window_s")
    arr = np.moveaxis(_as_float(x), axis, -1)
    if arr.shape[-1] == 0:
        return np.moveaxis(arr.copy(), -1, axis)
    out = _running_window(arr, _half_width(fs, window_s), square=False)
    return np.moveaxis(out, -1, axis)


def _half_width(fs: float, window_s: float) -> int:
    return round(window_s * fs) // 2


def _running_window(
    arr: FloatArray, half: int, *, square: bool, out: FloatArray | None = None
) -> FloatArray:
    """Centred moving mean (``square=False``) or RMS (``square=True``) along the last axis.

    Blocks of :data:`_BLOCK` output samples at a time (:func:`running_window_blocks`), so the
    temporaries are a few MB whatever the length.
    """
    n = arr.shape[-1]
    rows = arr.reshape(-1, n)
    if out is None:
        out = np.empty(arr.shape, dtype=arr.dtype)
    out_rows = out.reshape(-1, n)
    step = max(1, (4 * _BLOCK) // n)  # rows per batch: the block buffers stay ~2 MB
    for r0 in range(0, rows.shape[0], step):  # short rows (sweeps) many at once, same values
        for b0, b1, total in _window_blocks(rows[r0 : r0 + step], half, square=square):
            out_rows[r0 : r0 + step, b0:b1] = total
    return out


def running_window_blocks(
    row: FloatArray, half: int, *, square: bool
) -> Iterator[tuple[int, int, npt.NDArray[np.float64]]]:
    """Centred moving mean or RMS of one 1-D row, block by block: ``(b0, b1, values)``.

    ``values`` (float64) are the window results for samples ``b0:b1`` (as :func:`moving_rms` /
    :func:`moving_average` before the cast to the row's dtype). The running sum over the block
    plus ``half`` samples on each side is accumulated in float64 from the exact float64 total
    of everything before it, so the sums match one float64 cumulative sum over the whole row to
    rounding. The yielded array is a buffer reused for the next block: use it before asking
    for the next one. Consumers can threshold or reduce each block without ever holding the
    full-length envelope.

    Examples
    --------
    >>> x = np.arange(5.0)
    >>> [v.tolist() for _, _, v in running_window_blocks(x, 1, square=False)]
    [[0.5, 1.0, 2.0, 3.0, 3.5]]
    """
    for b0, b1, total in _window_blocks(row[np.newaxis], half, square=square):
        yield b0, b1, total[0]


def _window_blocks(
    rows: FloatArray, half: int, *, square: bool
) -> Iterator[tuple[int, int, npt.NDArray[np.float64]]]:
    """:func:`running_window_blocks` of the rows of a 2-D array, all rows at once.

    Cumulative sums run along each row in order and the rest is elementwise, so each row's
    values are bitwise those of the row alone (``tests/test_signal.py``); ``values`` is
    (rows, b1 - b0).
    """
    n_r, n = rows.shape
    if n == 0:
        return
    half = min(half, n - 1)
    width = 2 * half + 1
    block = _BLOCK
    buf = np.empty((n_r, min(block + 2 * half + 1, n)))
    tot_buf = np.empty((n_r, min(block, n)))
    base: float | npt.NDArray[np.float64] = 0.0  # float64 sums of rows[:, :s0] (a column)
    s0 = 0
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        s1 = min(b1 + half, n)
        seg = buf[:, : s1 - s0]
        if square:
            np.square(rows[:, s0:s1], out=seg, dtype=np.float64)
        else:
            seg[:] = rows[:, s0:s1]
        csum = np.cumsum(seg, axis=-1, out=seg)
        csum += base
        # total[i] = csum[min(i + half, n - 1)] - csum[i - half - 1], in slices
        total = tot_buf[:, : b1 - b0]
        m = max(min(b1, n - half), b0)
        total[:, : m - b0] = csum[:, b0 + half - s0 : m + half - s0]
        if m < b1:
            total[:, m - b0 :] = csum[:, n - 1 - s0 : n - s0]
        k0 = min(max(b0, half + 1), b1)
        total[:, k0 - b0 :] -= csum[:, k0 - half - 1 - s0 : b1 - half - 1 - s0]
        total /= width
        # Edge windows hold fewer samples.
        for e0, e1 in ((b0, min(b1, half)), (max(b0, n - half, min(b1, half)), b1)):
            if e1 > e0:
                i = np.arange(e0, e1)
                count = np.minimum(i + half, n - 1) - np.maximum(i - half, 0) + 1
                total[:, e0 - b0 : e1 - b0] *= width / count
        if square:
            np.maximum(total, 0.0, out=total)  # cancellation can leave -1e-12
            np.sqrt(total, out=total)
        # Next segment starts at the next block's first lower index (read before yielding:
        # the consumer may run while csum's buffer is still intact, but not after).
        nxt = max(b1 - half - 1, 0)
        if nxt > s0:
            base = csum[:, nxt - 1 - s0 : nxt - s0].copy()
            s0 = nxt
        yield b0, b1, total


def moving_rms_kernel(fs: float, window_s: float) -> KernelInto:
    """``kernel(x, out)``: :func:`moving_rms` of one 1-D row written into ``out``.

    Examples
    --------
    >>> x = np.full(100, 2.0)
    >>> out = np.empty_like(x)
    >>> moving_rms_kernel(1000.0, 0.01)(x, out)
    >>> bool(np.allclose(out, 2.0))
    True
    """
    half = _half_width(check_sfreq(fs, name="fs"), check_positive(window_s, "window_s"))

    def kernel(x: FloatArray, out: FloatArray) -> None:
        _running_window(x, half, square=True, out=out)

    return kernel


@fill_doc
def tkeo(x: npt.ArrayLike, *, axis: int = -1) -> FloatArray:
    """Teager-Kaiser energy operator ``psi[n] = x[n]**2 - x[n-1] * x[n+1]``.

    The first and last samples, where a neighbour is missing, repeat their neighbour's value,
    so the output has the length of ``x``.

    Parameters
    ----------
    x : array-like
        Signal(s), at least 3 samples along ``axis``.
    %(axis)s

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.

    References
    ----------
    .. [1] J. F. Kaiser, "On a simple algorithm to calculate the 'energy' of a signal", Proc.
       IEEE ICASSP, 381-384 (1990).
    .. [2] X. Li, P. Zhou, A. S. Aruin, "Teager-Kaiser energy operation of surface EMG improves
       muscle activity onset detection", Ann. Biomed. Eng. 35(9), 1532-1538 (2007).

    Examples
    --------
    >>> w = 0.3
    >>> psi = tkeo(2.0 * np.sin(w * np.arange(10) + 0.1))
    >>> bool(np.allclose(psi, 4.0 * np.sin(w) ** 2))
    True
    """
    arr = np.moveaxis(_as_float(x), axis, -1)
    if arr.shape[-1] < 3:
        raise DataError(f"tkeo needs at least 3 samples along axis {axis}, got {arr.shape[-1]}.")
    out = np.empty_like(arr)
    np.square(arr[..., 1:-1], out=out[..., 1:-1])
    out[..., 1:-1] -= arr[..., :-2] * arr[..., 2:]
    out[..., 0] = out[..., 1]
    out[..., -1] = out[..., -2]
    return np.moveaxis(out, -1, axis)


@fill_doc
def hilbert_envelope(x: npt.ArrayLike, *, axis: int = -1) -> FloatArray:
    """Amplitude envelope ``|x + i H(x)|`` from the analytic signal.

    The FFT runs on a fast length (zero-padded, then trimmed), so a prime-length signal does
    not take minutes.

    Parameters
    ----------
    x : array-like
        Signal(s), normally band-passed.
    %(axis)s

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.

    References
    ----------
    .. [1] D. Gabor, "Theory of communication", J. IEE 93(26), 429-457 (1946).

    Examples
    --------
    >>> x = 2.0 * np.sin(2 * np.pi * 50 * np.arange(1000) / 1000.0)
    >>> round(float(hilbert_envelope(x)[500]), 3)
    2.0
    """
    arr = _as_float(x)
    n = arr.shape[axis]
    n_fft = _fft.next_fast_len(n, real=True)
    analytic = _sps.hilbert(arr, N=n_fft, axis=axis)
    env = np.abs(np.take(analytic, np.arange(n), axis=axis))
    return env.astype(arr.dtype, copy=False)


# --------------------------------------------------------------------------- noise
@fill_doc
def mad_noise(x: npt.ArrayLike, *, axis: int = -1) -> FloatArray:
    """Robust noise standard deviation: ``1.4826 * median(|x - median(x)|)``.

    Parameters
    ----------
    x : array-like
        Signal(s).
    %(axis)s

    Returns
    -------
    ndarray or float
        One value per channel (float64).

    References
    ----------
    .. [1] F. R. Hampel, "The influence curve and its role in robust estimation", J. Am. Stat.
       Assoc. 69(346), 383-393 (1974).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(float(mad_noise(rng.normal(scale=5.0, size=100_000))), 1)
    5.0
    """
    arr = np.moveaxis(_as_float(x), axis, -1)
    rows = arr.reshape(-1, arr.shape[-1])
    out = np.empty(rows.shape[0])
    for r in range(rows.shape[0]):  # one row at a time: temporaries of one channel
        dev = rows[r] - np.median(rows[r])
        np.abs(dev, out=dev)
        out[r] = MAD_TO_STD * float(np.median(dev))
    res = out.reshape(arr.shape[:-1])
    return res if res.ndim else res[()]


@fill_doc
def quiet_noise(
    x: npt.ArrayLike,
    fs: float,
    *,
    window_s: float = 0.05,
    quantile: float = 0.2,
    axis: int = -1,
) -> FloatArray:
    """Noise RMS from the quietest windows, for EMG where bursts fill much of the time.

    The signal is cut into non-overlapping windows of ``window_s``; the windows whose mean
    square is at or below its ``quantile``-quantile are pooled and their RMS is returned. The
    lowest windows of Gaussian noise are quieter than average, so the result is divided by the
    exact bias of that selection for white Gaussian noise (chi-square with one degree of freedom
    per sample), taking into account that when bursts fill a fraction of the windows the
    pooled windows are a larger fraction of the quiet ones. For band-limited noise the
    correction is slightly off; the estimate is then within a few per cent. The median
    absolute deviation (:func:`mad_noise`) is unbiased only while bursts occupy well under half
    the samples; this estimate stays near the noise level until they occupy ``1 - quantile``
    of the windows.

    Parameters
    ----------
    x : array-like
        Signal(s), high-passed (the mean is not removed).
    %(fs)s
    %(window_s)s
    quantile : float
        Fraction of the quietest windows used, in (0, 1].
    %(axis)s

    Returns
    -------
    ndarray or float
        Noise RMS per channel (float64).

    References
    ----------
    .. [1] P. W. Hodges, B. H. Bui, "A comparison of computer-based methods for the
       determination of onset of muscle contraction using electromyography", Electroenceph.
       Clin. Neurophysiol. 101(6), 511-519 (1996) (baseline noise from a quiet period).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(scale=2.0, size=60_000)
    >>> x[:30_000] *= 20.0  # spasm during half of the time
    >>> round(float(quiet_noise(x, 1000.0)), 1), round(float(mad_noise(x)), 1)
    (2.0, 5.3)
    """
    fs = check_sfreq(fs, name="fs")
    window_s = check_positive(window_s, "window_s")
    quantile = check_positive(quantile, "quantile")
    if quantile > 1:
        raise ParameterError(f"quantile must be in (0, 1], got {quantile}.")
    arr = np.moveaxis(_as_float(x), axis, -1)
    n = arr.shape[-1]
    width = max(round(window_s * fs), 1)
    n_win = n // width
    if n_win < 1:
        raise DataError(
            f"The signal ({n} samples) is shorter than one window of {window_s} s ({width} "
            "samples)."
        )
    blocks = arr[..., : n_win * width].reshape(*arr.shape[:-1], n_win, width)
    # float64 sums of squares, a few thousand windows at a time: einsum casts its operands to
    # float64, and on the whole of a float32 signal that would be two float64 copies of it
    ms = np.empty(blocks.shape[:-1], dtype=np.float64)
    step = max((1 << 18) // width, 1)
    for a in range(0, n_win, step):  # blocks of windows, not samples
        part = blocks[..., a : a + step, :]
        ms[..., a : a + step] = np.einsum("...ij,...ij->...i", part, part, dtype=np.float64)
    ms /= width
    return noise_from_window_ms(ms, width, quantile)


def noise_from_window_ms(
    ms: npt.NDArray[np.floating], width: int, quantile: float = 0.2
) -> FloatArray:
    """:func:`quiet_noise` from the mean squares ``ms`` (last axis) of windows of ``width``.

    Lets a streamed recording get the same estimate as in memory from per-window statistics
    gathered chunk by chunk.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(1, 10_000))
    >>> ms = (x.reshape(1, -1, 50) ** 2).mean(axis=-1)
    >>> bool(np.allclose(noise_from_window_ms(ms, 50), quiet_noise(x, 1000.0)))
    True
    """
    cut = np.quantile(ms, quantile, axis=-1, keepdims=True)
    keep = ms <= cut
    pooled = (ms * keep).sum(axis=-1) / np.maximum(keep.sum(axis=-1), 1)
    # The pooled windows are the lowest `quantile` of all windows, but the lowest
    # quantile / p of the quiet ones when only a fraction p of the windows is quiet. Estimate p
    # (windows below the 99.9 % point of the noise-only distribution) and correct for the
    # selection of that fraction; two rounds converge.
    q_eff = np.full(pooled.shape, quantile)
    var = pooled / _quiet_bias(width, q_eff)
    limit = _stats.chi2.ppf(0.999, width) / width
    for _ in range(2):
        p_quiet = np.mean(ms <= limit * var[..., np.newaxis], axis=-1)
        q_eff = np.clip(quantile / np.maximum(p_quiet, quantile), quantile, 1.0)
        var = pooled / _quiet_bias(width, q_eff)
    return np.sqrt(var)


def _quiet_bias(k: int, quantile: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """E[chi2_k / k | chi2_k <= its q-quantile], i.e. F_{k+2}(c) / q with c = F_k^{-1}(q)."""
    c = _stats.chi2.ppf(quantile, k)
    return _stats.chi2.cdf(c, k + 2) / quantile


# --------------------------------------------------------------------------- intervals
@fill_doc
def mask_to_intervals(
    mask: npt.ArrayLike, *, axis: int = -1
) -> (
    tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]
    | tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]
):
    """Sample indices where runs of True start and stop.

    Parameters
    ----------
    mask : array-like of bool, 1-D or 2-D
        For 2-D, one row (or column, with ``axis=0``) per channel.
    %(axis)s

    Returns
    -------
    starts, stops : ndarray of intp
        First sample of each run and one past its last sample (``stop`` is exclusive), in time
        order (for 2-D: channel by channel, each in time order).
    channels : ndarray of intp
        Only for 2-D input: the channel of each run.

    Examples
    --------
    >>> mask_to_intervals(np.array([0, 1, 1, 0, 1], dtype=bool))
    (array([1, 4]), array([3, 5]))
    >>> starts, stops, ch = mask_to_intervals(np.array([[1, 0, 0], [0, 1, 1]], dtype=bool))
    >>> starts.tolist(), stops.tolist(), ch.tolist()
    ([0, 1], [1, 3], [0, 1])
    """
    m = np.asarray(mask)
    if m.dtype != bool:
        if m.dtype.kind not in "iub":
            raise DataError(f"mask must be boolean, got dtype {m.dtype}.")
        m = m != 0
    if m.ndim not in (1, 2):
        raise DataError(f"mask must be 1-D or 2-D, got shape {m.shape}.")
    one_d = m.ndim == 1
    m2 = m[np.newaxis, :] if one_d else np.moveaxis(m, axis, -1)
    n_ch, n = m2.shape
    padded = np.zeros((n_ch, n + 2), dtype=np.int8)
    padded[:, 1:-1] = m2
    edges = np.diff(padded, axis=-1)
    ch_on, starts = np.nonzero(edges == 1)
    _, stops = np.nonzero(edges == -1)
    starts = starts.astype(np.intp, copy=False)
    stops = stops.astype(np.intp, copy=False)
    if one_d:
        return starts, stops
    return starts, stops, ch_on.astype(np.intp, copy=False)
