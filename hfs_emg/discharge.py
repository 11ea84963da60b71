"""Intra-burst motor-unit discharge rate (fundamental frequency of a burst), vectorized.

HFS bursts are trains of motor-unit discharges at 150-400 Hz (Nielsen 1984; 250-350 Hz
after-activity). :func:`discharge_frequency` estimates the fundamental frequency of the summed
signal for many bursts at once, and with ``return_strength=True`` how periodic it is. That
fundamental is a motor-unit firing rate only when the units fire together at one rate (in
lock-step); the summed signal of independent units has no common period, and its YIN "period"
then reflects the MUAP shape (independent units at 8-25 Hz read 120-180 Hz). The burst table
therefore keeps the rate only for strongly periodic bursts; per-unit firing rates need
single-unit (needle) recordings and :func:`hfs_emg.motor_units.detect_units`.
:func:`median_frequency` is the spectral median frequency of each burst, a property of MUAP
shape and conduction, not a firing rate (Merletti & Parker 2004).
:func:`envelope_rhythm` is the grouping rhythm of each burst (spectral peak of the rectified
signal), used by :func:`hfs_emg.activity.classify_activity`.

References
----------
.. [1] de Cheveigné A, Kawahara H. YIN, a fundamental frequency estimator for speech and music.
       J Acoust Soc Am 2002;111:1917-1930.
.. [2] Nielsen VK. Pathophysiology of hemifacial spasm. Neurology 1984;34:418-426.
.. [3] Merletti R, Parker P (eds). Electromyography: Physiology, Engineering, and Noninvasive
       Applications. IEEE Press / Wiley 2004 (mean and median frequency of the EMG spectrum).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import fft as _fft

from ._docs import fill_doc

__all__ = [
    "DISCHARGE_RANGE_HZ",
    "MIN_PERIODICITY",
    "discharge_frequency",
    "envelope_rhythm",
    "median_frequency",
]

#: Default discharge-rate search range (Hz), around the 150-400 Hz of HFS.
DISCHARGE_RANGE_HZ: tuple[float, float] = (100.0, 500.0)

#: Periodicity strength (1 - normalised YIN difference at the period and at twice the period,
#: the worse of the two) below which the burst table reports no discharge rate. Chosen on the
#: tuning seeds of docs/validation_spontaneous.md (lock-step vs independent units).
MIN_PERIODICITY: float = 0.4

FloatArray = npt.NDArray[np.floating]


@fill_doc
def discharge_frequency(
    x: npt.ArrayLike,
    fs: float,
    starts: npt.ArrayLike,
    stops: npt.ArrayLike,
    channels: npt.ArrayLike | None = None,
    *,
    fmin: float = DISCHARGE_RANGE_HZ[0],
    fmax: float = DISCHARGE_RANGE_HZ[1],
    max_len_s: float = 0.25,
    threshold: float = 0.3,
    margin: float = 0.1,
    octave_margin: float = 0.15,
    rectify: bool = False,
    return_strength: bool = False,
) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Motor-unit discharge rate inside each burst (YIN fundamental frequency), vectorized.

    The first ``max_len_s`` of every burst is stacked into zero-padded 2-D arrays, each burst in
    the one as wide as the power of two at or above its own length (at least 64 samples, at most
    ``max_len_s``; so a burst's rate and strength do not depend on the other bursts of the
    call, and short bursts are not padded to the longest); the difference function
    ``d(tau) = mean (x[t] - x[t + tau])**2`` of all rows (YIN's step 2) comes from batched FFT
    autocorrelations and cumulative sums of squares,
    normalised per overlap length and by twice the row's power (0 = periodic with period tau, ~1
    = uncorrelated). The period is the shortest lag in ``[1/fmax, 1/fmin]`` with a local minimum
    below ``threshold`` or - when the row is periodic at all (deepest minimum < 0.6) - within
    ``margin`` of the deepest minimum; then a minimum at a half or a third of that lag replaces
    it when at most ``octave_margin`` shallower; parabolic interpolation refines the lag. Lags
    longer than half a burst are not considered. On simulated HFS bursts (3 seeds x 9 grid
    points) 5-8 % of bursts are still off by more than 10 % (mostly octave errors), against 6-14
    % with YIN's cumulative-mean normalisation.

    Parameters
    ----------
    %(burst_samples)s
    fmin, fmax : float
        Search range in Hz.
    %(max_len_s)s
    threshold : float
        Normalised-difference value below which the first dip is accepted.
    margin : float
        A dip within ``margin`` of the deepest one is accepted (the shortest such lag wins).
    octave_margin : float
        Then a dip at a half or a third of the chosen lag replaces it when it is at most this
        much shallower.
    rectify : bool
        Analyse the full-wave rectified signal: every discharge becomes a positive bump
        whatever its MUAP shape, so the firing period dominates when several units with
        unstable waveforms fire (real intramuscular recordings); the band-passed signal
        itself (default) is more accurate for clean high-frequency HFS discharges at low SNR.
    return_strength : bool
        Also return the periodicity strength per burst: ``1 - max(d'(T), d'(2T))`` with ``d'``
        the normalised difference at the period ``T`` and at twice it (clipped to [0, 1]; 1 =
        exactly periodic, near 0 = aperiodic). A train of units firing together repeats at
        ``T`` and ``2T``; a MUAP-shaped dip of aperiodic activity does not repeat at ``2T``.
        NaN where twice the period does not fit in half the burst.

    Returns
    -------
    ndarray or (ndarray, ndarray)
        Discharge rate in Hz per burst (NaN when no lag in the range fits in half the burst),
        and the periodicity strength when ``return_strength``.

    References
    ----------
    .. [1] de Cheveigné A, Kawahara H. YIN, a fundamental frequency estimator for speech and
       music. J Acoust Soc Am 2002;111:1917-1930.

    Examples
    --------
    >>> fs = 5000.0
    >>> t = np.arange(2500) / fs
    >>> x = np.sin(2 * np.pi * 250 * t) + 0.5 * np.sin(2 * np.pi * 500 * t)
    >>> round(float(discharge_frequency(x, fs, [0], [2500])[0]))
    250
    """
    fs = float(fs)
    arr = np.atleast_2d(np.asarray(x))
    if arr.dtype.kind != "f":
        arr = arr.astype(float)
    s = np.asarray(starts, dtype=np.intp)
    e = np.asarray(stops, dtype=np.intp)
    ch = np.zeros(s.size, dtype=np.intp) if channels is None else np.asarray(channels, np.intp)
    if s.size == 0:
        return (np.empty(0), np.empty(0)) if return_strength else np.empty(0)
    # the lag range depends on max_len_s, fs, fmin and fmax only, and each burst's stack width
    # on its own length (its class, :func:`_width_class`), never on the other bursts of the
    # call: a burst's rate and strength do not depend on which bursts it is computed with
    length = max(round(max_len_s * fs), 4)
    lens = np.minimum(e - s, length)
    tau_max = min(int(np.ceil(fs / fmin)) + 1, length - 1)
    tau_min = max(int(np.floor(fs / fmax)), 1)
    if tau_max <= tau_min:
        nans = np.full(s.size, np.nan)
        return (nans, nans.copy()) if return_strength else nans
    n_lag = min(2 * tau_max + 4, length)  # lags up to twice the longest period
    widths = _width_class(lens, length)
    dn = np.empty((s.size, n_lag))
    for width in np.unique(widths):  # a few classes, each one batched
        sel = np.flatnonzero(widths == width)
        dn[sel] = _normalised_difference(
            arr, s[sel], ch[sel], lens[sel], int(width), n_lag, rectify=rectify
        )
    tau = np.arange(n_lag)
    usable = (
        (tau[None, :] >= tau_min) & (tau[None, :] <= tau_max) & (2 * tau[None, :] <= lens[:, None])
    )
    dn_all = dn
    dn = dn[:, : tau_max + 2]
    usable = usable[:, : tau_max + 2]
    search = np.where(usable, dn, np.inf)
    is_min = np.zeros_like(usable)
    is_min[:, 1:-1] = (search[:, 1:-1] <= search[:, :-2]) & (search[:, 1:-1] <= search[:, 2:])
    # the shortest lag whose dip is nearly as deep as the deepest one: dips at multiples of the
    # period are no deeper (interval jitter accumulates), so this avoids octave errors
    deepest = search.min(axis=1, keepdims=True)
    # (only for rows with a real periodicity: in aperiodic rows every dip is near 1 and the
    # earliest noise dip would win)
    periodic = deepest < 0.6
    cand = is_min & ((search < threshold) | ((search <= deepest + margin) & periodic))
    first = np.argmax(cand, axis=1)
    best = np.where(cand.any(axis=1), first, np.argmin(search, axis=1))
    rows = np.arange(s.size)
    ok = np.isfinite(search[rows, best])
    # octave check: prefer a dip at a half or a third of the chosen lag when it is nearly as
    # deep (a dip at twice the true period can be the deeper one once hum is notched out)
    for k in (2, 3):
        sub = np.round(best / k).astype(np.intp)
        near = np.clip(sub[:, None] + np.arange(-1, 2)[None, :], 0, search.shape[1] - 1)
        vals = search[rows[:, None], near]
        j = near[rows, np.argmin(vals, axis=1)]
        better = (
            ok
            & periodic[:, 0]
            & (sub >= tau_min)
            & np.isfinite(search[rows, j])
            & (search[rows, j] <= search[rows, best] + octave_margin)
        )
        best = np.where(better, j, best)
    b = np.clip(best, 1, tau_max)
    y0, y1, y2 = (dn[rows, b + o] for o in (-1, 0, 1))
    denom = y0 - 2 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (y0 - y2) / denom, 0.0)
    period = b + np.clip(shift, -0.5, 0.5)
    rate = np.where(ok, fs / period, np.nan)
    if not return_strength:
        return rate
    # strength: the dip must be deep at the period and again at twice the period
    two = 2 * b
    fits = ok & (2 * two <= lens) & (two + 1 < n_lag)
    near2 = np.clip(two[:, None] + np.arange(-1, 2)[None, :], 0, n_lag - 1)
    d2 = dn_all[rows[:, None], near2].min(axis=1)
    d1 = dn[rows, b]
    strength = np.clip(1.0 - np.maximum(d1, d2), 0.0, 1.0)
    return rate, np.where(fits, strength, np.nan)


@fill_doc
def median_frequency(
    x: npt.ArrayLike,
    fs: float,
    starts: npt.ArrayLike,
    stops: npt.ArrayLike,
    channels: npt.ArrayLike | None = None,
    *,
    max_len_s: float = 0.25,
) -> FloatArray:
    """Spectral median frequency of each burst (Hann-windowed periodogram), vectorized.

    The first ``max_len_s`` of every burst (at least 8 samples, else NaN) is stacked, windowed
    with a Hann window of the burst's own length and transformed in one batched FFT; the
    median frequency halves the power spectrum's area. It describes MUAP shape and conduction
    velocity, not the firing rate of motor units.

    Parameters
    ----------
    %(burst_samples)s
    %(max_len_s)s

    Returns
    -------
    ndarray
        Median frequency in Hz per burst.

    References
    ----------
    .. [1] Merletti R, Parker P (eds). Electromyography. IEEE Press / Wiley 2004.

    Examples
    --------
    >>> fs = 5000.0
    >>> t = np.arange(1000) / fs
    >>> round(float(median_frequency(np.sin(2 * np.pi * 300 * t), fs, [0], [1000])[0]))
    300
    """
    fs = float(fs)
    arr = np.atleast_2d(np.asarray(x))
    s = np.asarray(starts, dtype=np.intp)
    e = np.asarray(stops, dtype=np.intp)
    ch = np.zeros(s.size, dtype=np.intp) if channels is None else np.asarray(channels, np.intp)
    if s.size == 0:
        return np.empty(0)
    n = arr.shape[-1]
    lens = np.minimum(e - s, max(round(max_len_s * fs), 8))
    length = int(max(lens.max(), 8, round(max_len_s * fs)))
    k = np.arange(length)
    valid = k[None, :] < lens[:, None]
    idx = np.clip(s[:, None] + k[None, :], 0, n - 1) + (ch * n)[:, None]
    seg = arr.ravel()[idx].astype(np.float64)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * k[None, :] / np.maximum(lens[:, None] - 1, 1))
    seg = np.where(valid, seg * win, 0.0)
    # the FFT length depends on max_len_s only, so a burst's value does not depend on the
    # other bursts of the call
    nfft = _fft.next_fast_len(max(round(max_len_s * fs), 256))
    power = np.abs(_fft.rfft(seg, nfft, axis=1)) ** 2
    power[:, 0] = 0.0
    cum = np.cumsum(power, axis=1)
    total = cum[:, -1:]
    j = np.argmax(cum >= 0.5 * total, axis=1)
    freqs = np.arange(power.shape[1]) * fs / nfft
    out = freqs[j]
    return np.where((lens >= 8) & (total[:, 0] > 0), out, np.nan)


@fill_doc
def envelope_rhythm(
    x: npt.ArrayLike,
    fs: float,
    starts: npt.ArrayLike,
    stops: npt.ArrayLike,
    channels: npt.ArrayLike | None = None,
    *,
    band_hz: tuple[float, float] = (5.0, 60.0),
    rhythm_hz: tuple[float, float] = (30.0, 55.0),
    max_len_s: float = 0.5,
) -> tuple[FloatArray, FloatArray]:
    """Grouping rhythm of each burst: peak of the rectified signal's spectrum, vectorized.

    The rectified burst (mean removed, Hann window of the burst's own length, first
    ``max_len_s``) is transformed with 1 Hz bins; returns the frequency of its largest power
    in ``band_hz`` and the share of the power in ``band_hz`` that lies in ``rhythm_hz``. The
    discharges of units firing at similar rates (myokymia-like grouped discharges at about
    40 Hz) put the rectified signal's power at their common rate even when the units are
    independent and the summed signal has no period (:func:`discharge_frequency` then finds
    none); an interference pattern of many units at 8-25 Hz spreads it.

    Parameters
    ----------
    %(burst_samples)s
    band_hz, rhythm_hz : (float, float)
        Band searched and band whose share of its power is returned, Hz.
    %(max_len_s)s

    Returns
    -------
    (ndarray, ndarray)
        Peak frequency (Hz) and share of power in ``rhythm_hz`` per burst (NaN for bursts
        shorter than 16 samples).

    Examples
    --------
    >>> fs = 5000.0
    >>> t = np.arange(2500) / fs
    >>> x = np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 40 * t) > 0.7)  # 40 Hz groups
    >>> peak, share = envelope_rhythm(x, fs, [0], [2500])
    >>> round(float(peak[0])), bool(share[0] > 0.5)
    (40, True)
    """
    fs = float(fs)
    arr = np.atleast_2d(np.asarray(x))
    s = np.asarray(starts, dtype=np.intp)
    e = np.asarray(stops, dtype=np.intp)
    ch = np.zeros(s.size, dtype=np.intp) if channels is None else np.asarray(channels, np.intp)
    if s.size == 0:
        return np.empty(0), np.empty(0)
    n = arr.shape[-1]
    lens = np.minimum(e - s, round(max_len_s * fs))
    length = int(max(lens.max(), 16))
    k = np.arange(length)
    valid = k[None, :] < lens[:, None]
    idx = np.clip(s[:, None] + k[None, :], 0, n - 1) + (ch * n)[:, None]
    seg = np.where(valid, np.abs(arr.ravel()[idx].astype(np.float64)), 0.0)
    mean = seg.sum(axis=1, keepdims=True) / np.maximum(lens[:, None], 1)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * k[None, :] / np.maximum(lens[:, None] - 1, 1))
    seg = np.where(valid, (seg - mean) * win, 0.0)
    nfft = max(round(fs), length)  # 1 Hz bins (or finer)
    power = np.abs(_fft.rfft(seg, nfft, axis=1)) ** 2
    freqs = np.arange(power.shape[1]) * fs / nfft
    band = (freqs >= band_hz[0]) & (freqs <= band_hz[1])
    rhythm = (freqs >= rhythm_hz[0]) & (freqs <= rhythm_hz[1])
    pb = power[:, band]
    total = pb.sum(axis=1)
    peak = freqs[band][np.argmax(pb, axis=1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = power[:, rhythm].sum(axis=1) / total
    ok = (lens >= 16) & (total > 0)
    return np.where(ok, peak, np.nan), np.where(ok, share, np.nan)


#: The narrowest stack of :func:`discharge_frequency` (samples): shorter bursts share it.
_MIN_WIDTH = 64


def _width_class(lens: npt.NDArray[np.intp], length: int) -> npt.NDArray[np.intp]:
    """The stack width of each burst in :func:`discharge_frequency`: the power of two at or
    above its length (at least ``_MIN_WIDTH``, at most ``length``), a function of the burst
    alone, so short bursts are not padded to the longest one."""
    pow2 = np.left_shift(1, np.ceil(np.log2(np.maximum(lens, 1))).astype(np.intp))
    return np.minimum(np.maximum(pow2, _MIN_WIDTH), length)


def _normalised_difference(
    arr: npt.NDArray[np.floating],
    s: npt.NDArray[np.intp],
    ch: npt.NDArray[np.intp],
    lens: npt.NDArray[np.intp],
    width: int,
    n_lag: int,
    *,
    rectify: bool,
) -> npt.NDArray[np.float64]:
    """YIN's difference ``d(tau)``, ``tau < n_lag``, of bursts stacked ``width`` wide (each
    row's first ``lens`` samples, mean removed, zero padded), normalised by the overlap and by
    twice the row's power (de Cheveigné & Kawahara 2002, step 2): one batched FFT
    autocorrelation and cumulative sums of squares. ``d`` is 0 at lags a row does not reach."""
    n = arr.shape[-1]
    k = np.arange(width)
    valid = k[None, :] < lens[:, None]
    idx = np.clip(s[:, None] + k[None, :], 0, n - 1) + (ch * n)[:, None]
    seg = arr.ravel()[idx].astype(np.float64)
    if rectify:
        seg = np.abs(seg)
    seg = np.where(valid, seg, 0.0)
    seg -= np.where(valid, seg.sum(axis=1, keepdims=True) / lens[:, None], 0.0)
    m = min(n_lag, width)  # lags at or past a row's length have no overlap (d = 0)
    # no circular wrap at lags below m: the zero padding holds at least m - 1 samples
    nfft = _fft.next_fast_len(width + m - 1)
    spec = _fft.rfft(seg, nfft, axis=1)
    acf = _fft.irfft(spec.real**2 + spec.imag**2, nfft, axis=1)[:, :m]
    cs = np.zeros((s.size, width + 1))
    np.cumsum(seg**2, axis=1, out=cs[:, 1:])
    tau = np.arange(m)
    rows = np.arange(s.size)[:, None]
    head = cs[rows, np.clip(lens[:, None] - tau[None, :], 0, width)]
    tail = cs[rows, lens[:, None]] - cs[rows, np.minimum(tau[None, :], width)]
    overlap = np.maximum(lens[:, None] - tau[None, :], 1)
    d = np.zeros((s.size, n_lag))
    d[:, :m] = (head + tail - 2.0 * acf) / overlap
    d[:, 0] = 0.0
    # normalised difference: 0 for a perfectly periodic row, about 1 for an uncorrelated one
    power = cs[rows[:, 0], lens] / np.maximum(lens, 1)
    return d / np.maximum(2.0 * power, np.finfo(float).tiny)[:, None]
