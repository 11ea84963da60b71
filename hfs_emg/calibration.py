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

__all__ = ["causal_gumbel", "causal_mean", "gumbel_exceedance", "gumbel_threshold"]

FloatArray = npt.NDArray[np.floating]
_EULER_GAMMA = 0.5772156649015329


def _trailing(cs: FloatArray, window: int) -> FloatArray:
    """Sums over the last ``window`` rows (inclusive) from a cumulative sum with a zero row."""
    n = cs.shape[0] - 1
    hi = np.arange(1, n + 1)
    lo = np.maximum(hi - int(window), 0)
    return cs[hi] - cs[lo]


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
    x = np.asarray(null, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    ok = (
        np.isfinite(x)
        if valid is None
        else (np.asarray(valid, bool).reshape(x.shape) & np.isfinite(x))
    )
    v = np.where(ok, x, 0.0)
    zero = np.zeros((1, x.shape[1]))
    c1 = np.vstack([zero, np.cumsum(v, 0)])
    c2 = np.vstack([zero, np.cumsum(v * v, 0)])
    cn = np.vstack([zero, np.cumsum(ok, 0)])
    s1, s2, n = _trailing(c1, window), _trailing(c2, window), _trailing(cn, window)
    p1, p2, pn = (a.sum(1, keepdims=True) for a in (s1, s2, n))
    own = n >= min_n
    s1 = np.where(own, s1, p1)
    s2 = np.where(own, s2, p2)
    n = np.where(own, n, pn)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = (s2 - n * mean**2) / (n - 1)
    sd = np.sqrt(np.maximum(var, 0.0))
    beta = np.where(n >= min_n, sd * np.sqrt(6.0) / np.pi, np.nan)
    mu = mean - _EULER_GAMMA * beta
    return mu, beta, n.astype(float)


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
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    ok = (
        np.isfinite(a)
        if valid is None
        else (np.asarray(valid, bool).reshape(a.shape) & np.isfinite(a))
    )
    zero = np.zeros((1, a.shape[1]))
    s = _trailing(np.vstack([zero, np.cumsum(np.where(ok, a, 0.0), 0)]), window)
    n = _trailing(np.vstack([zero, np.cumsum(ok, 0)]), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)
