"""Causal, empirical calibration of detection thresholds on the recording's own control windows.

A presence decision compares a statistic (the held envelope of
:func:`hfs_emg.responses.measure_response_array`, the matched-template score of
:func:`hfs_emg.measure_lsr`) with a threshold. A fixed threshold in noise SDs gives a false-alarm
rate that depends on the noise colour and the sampling rate (issue 11: 3-15 % of sweeps under
20-150 Hz background EMG, although the white-noise rate is 0 %). Here the same statistic,
computed with the same window length and filter on stimulus-free control windows of the same
sweeps (the pre-stimulus part), gives the null distribution, and the threshold is its
``1 - false_alarm_rate`` quantile.

The null distribution of a maximum over a window is modelled as a Gumbel (type I extreme value)
distribution (Fisher & Tippett 1928; Gumbel 1958), fitted by the method of moments to the control
values of the last ``window`` sweeps up to and including the current one (never a later one), so
that a live monitor that sees the sweeps one by one makes the same decisions. Early sweeps with
fewer than ``min_n`` control values on their channel borrow the control values of all channels;
with fewer than ``min_n`` in total there is no calibration (NaN).

References
----------
.. [1] Fisher RA, Tippett LHC. Limiting forms of the frequency distribution of the largest or
   smallest member of a sample. Proc Camb Philos Soc 1928;24:180-190.
.. [2] Gumbel EJ. Statistics of Extremes. Columbia University Press, 1958.
.. [3] Maris E, Oostenveld R. Nonparametric statistical testing of EEG- and MEG-data. J Neurosci
   Methods 2007;164:177-190 (null distributions from the data themselves).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "CausalGumbel",
    "CausalMean",
    "TrailingSums",
    "causal_gumbel",
    "causal_mean",
    "gumbel_exceedance",
    "gumbel_threshold",
]

FloatArray = npt.NDArray[np.floating]
_EULER_GAMMA = 0.5772156649015329


class TrailingSums:
    """Column sums over the last ``window`` rows, fed block by block (sweeps as they come).

    The sums are differences of one running cumulative sum (carried between blocks), so
    feeding the rows in any blocks, one at a time or all at once, gives bitwise the same
    sums: a live monitor and the offline analysis make the same decisions. Only the last
    ``window`` cumulative rows are kept, in a ring (constant memory; a sweep writes one row
    and copies nothing).

    Examples
    --------
    >>> acc = TrailingSums(2, 1)
    >>> acc.push(np.array([[1.0], [3.0]]))[:, 0].tolist()
    [1.0, 4.0]
    >>> acc.push(np.array([[5.0]]))[:, 0].tolist()  # 3 + 5: the last two rows
    [8.0]
    """

    def __init__(self, window: int, n_cols: int) -> None:
        self.window = int(window)
        self.n = 0  # rows pushed so far
        # cumulative rows in a ring: cumulative row k (the sum of rows 0 .. k-1) at slot
        # k % window, the last min(n + 1, window) of them kept (constant memory, no copies)
        self._ring = np.zeros((self.window, int(n_cols)))

    @property
    def nbytes(self) -> int:
        """Bytes held (the ring of cumulative rows)."""
        return int(self._ring.nbytes)

    def _ordered(self) -> FloatArray:
        """The cumulative rows kept, oldest first (rows self.n - len + 1 .. self.n)."""
        w, n = self.window, self.n
        if n < w:
            return self._ring[: n + 1]
        return np.roll(self._ring, -((n + 1) % w), axis=0)

    def push(self, values: npt.ArrayLike) -> FloatArray:
        """Add rows (n, n_cols); return the trailing sums of each of them (n, n_cols)."""
        ring, w = self._ring, self.window
        v = np.asarray(values, dtype=float).reshape(-1, ring.shape[1])
        if v.shape[0] == 1:  # one sweep (the live path): the same sums, fewer steps
            new = ring[self.n % w] + v[0]  # what np.cumsum adds
            out = (new - ring[max(self.n + 1 - w, 0) % w])[None, :]
            ring[(self.n + 1) % w] = new  # the oldest row, just read, is the one replaced
            self.n += 1
            return out
        cum = self._ordered()
        cs = np.cumsum(np.vstack([cum[-1:], v]), axis=0)  # continues the running sum
        allc = np.vstack([cum, cs[1:]])
        base = self.n - (cum.shape[0] - 1)  # row index of allc[0]
        hi = np.arange(self.n + 1, self.n + v.shape[0] + 1)
        lo = np.maximum(hi - w, 0)
        out = allc[hi - base] - allc[lo - base]
        self.n += v.shape[0]
        keep = allc[-w:]  # cumulative rows self.n - len(keep) + 1 .. self.n
        ring[np.arange(self.n - keep.shape[0] + 1, self.n + 1) % w] = keep
        return out


def _as_2d(x: npt.ArrayLike, valid: npt.ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    ok = (
        np.isfinite(a)
        if valid is None
        else (np.asarray(valid, bool).reshape(a.shape) & np.isfinite(a))
    )
    return a, ok


class CausalGumbel:
    """Streaming form of :func:`causal_gumbel` (state: the trailing sums of the last sweeps).

    ``CausalGumbel(n_cols, window=w).push(null, valid)`` on all rows at once is
    :func:`causal_gumbel`; pushing the rows in blocks gives bitwise the same results.
    """

    def __init__(self, n_cols: int, *, window: int = 200, min_n: int = 10) -> None:
        self.n_cols = int(n_cols)
        self.min_n = int(min_n)
        self._sums = TrailingSums(window, 3 * self.n_cols)

    def push(
        self, null: npt.ArrayLike, valid: npt.ArrayLike | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Location, scale and count (each (n, n_cols)) of the rows pushed now."""
        x, ok = _as_2d(null, valid)
        v = np.where(ok, x, 0.0)
        m = self.n_cols
        s = self._sums.push(np.hstack([v, v * v, ok]))
        s1, s2, n = s[:, :m], s[:, m : 2 * m], s[:, 2 * m :]
        p1, p2, pn = (a.sum(1, keepdims=True) for a in (s1, s2, n))
        own = n >= self.min_n
        s1 = np.where(own, s1, p1)
        s2 = np.where(own, s2, p2)
        n = np.where(own, n, pn)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s1 / n
            var = (s2 - n * mean**2) / (n - 1)
        sd = np.sqrt(np.maximum(var, 0.0))
        beta = np.where(n >= self.min_n, sd * np.sqrt(6.0) / np.pi, np.nan)
        mu = mean - _EULER_GAMMA * beta
        return mu, beta, n


class CausalMean:
    """Streaming form of :func:`causal_mean` (pushing blocks gives bitwise the same means)."""

    def __init__(self, n_cols: int, *, window: int = 200) -> None:
        self.n_cols = int(n_cols)
        self._sums = TrailingSums(window, 2 * self.n_cols)

    def push(self, x: npt.ArrayLike, valid: npt.ArrayLike | None = None) -> FloatArray:
        """Means (n, n_cols) of the rows pushed now."""
        a, ok = _as_2d(x, valid)
        m = self.n_cols
        t = self._sums.push(np.hstack([np.where(ok, a, 0.0), ok]))
        s, n = t[:, :m], t[:, m:]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)


def causal_gumbel(
    null: npt.ArrayLike,
    valid: npt.ArrayLike | None = None,
    *,
    window: int = 200,
    min_n: int = 10,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gumbel location and scale of a null statistic, per row from that row and earlier ones.

    Parameters
    ----------
    null : array-like, shape (n_sweeps, n_channels)
        Control-window statistic of each sweep and channel.
    valid : array-like of bool, optional
        Control values to use (e.g. not rejected); default all finite values.
    window : int
        Trailing number of sweeps.
    min_n : int
        Fewest control values for a fit on the channel alone; below it all channels are pooled.

    Returns
    -------
    (mu, beta, n) : three arrays of shape (n_sweeps, n_channels)
        Location, scale (NaN when not calibrated) and number of control values used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mu, beta, n = causal_gumbel(rng.gumbel(2.0, 0.5, (4000, 1)), window=4000)
    >>> round(float(mu[-1, 0]), 1), round(float(beta[-1, 0]), 1), int(n[-1, 0])
    (2.0, 0.5, 4000)
    """
    x, _ = _as_2d(null, None)
    return CausalGumbel(x.shape[1], window=window, min_n=min_n).push(x, valid)


def gumbel_threshold(mu: npt.ArrayLike, beta: npt.ArrayLike, false_alarm_rate: float) -> FloatArray:
    """The ``1 - false_alarm_rate`` quantile of a Gumbel(mu, beta) distribution.

    Examples
    --------
    >>> round(float(gumbel_threshold(0.0, 1.0, 0.01)), 2)
    4.6
    """
    y = -np.log(-np.log1p(-float(false_alarm_rate)))
    return np.asarray(mu, dtype=float) + np.asarray(beta, dtype=float) * y


def gumbel_exceedance(k: npt.ArrayLike, mu: npt.ArrayLike, beta: npt.ArrayLike) -> FloatArray:
    """P(null > k) under Gumbel(mu, beta): the per-sweep false-alarm rate at threshold ``k``.

    Examples
    --------
    >>> round(float(gumbel_exceedance(gumbel_threshold(1.0, 0.3, 0.02), 1.0, 0.3)), 3)
    0.02
    """
    z = (np.asarray(k, dtype=float) - np.asarray(mu, dtype=float)) / np.asarray(beta, dtype=float)
    return -np.expm1(-np.exp(-z))


def causal_mean(
    x: npt.ArrayLike, valid: npt.ArrayLike | None = None, *, window: int = 200
) -> FloatArray:
    """Mean of the last ``window`` valid values up to and including each row (per column).

    Examples
    --------
    >>> causal_mean(np.array([[1.0], [3.0], [5.0]]), window=2)[:, 0].tolist()
    [1.0, 2.0, 4.0]
    """
    a, _ = _as_2d(x, None)
    return CausalMean(a.shape[1], window=window).push(a, valid)
