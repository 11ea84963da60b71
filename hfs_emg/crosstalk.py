"""Volume-conducted crosstalk of the direct M-wave into neighbouring muscles' channels.

Stimulating a facial-nerve branch evokes an M-wave of several mV in that branch's muscles; a few
per cent of it reaches electrodes over neighbouring muscles by volume conduction, instantly and
with the same shape (quasi-static volume conductor). A facial M-wave lasts 6-12 ms, so its tail
falls inside the 6-20 ms LSR window and, at 5 % crosstalk, is called an LSR in 80-100 % of
sweeps (issue 11). Per sweep and channel, the crosstalk gain is the least-squares scale of the
stimulated branch's own channel on the candidate channel in a window where only the M-wave can be
(``fit_ms``, before any LSR), after a quadratic trend is projected out of both so that a slow
artefact residual on either channel does not bias it; its significance is that scale over its
noise SE, and the scaled copy can be subtracted before the LSR is measured.

Crosstalk is a property of the electrode geometry and the volume conductor, the same from one
sweep to the next of a montage, while a single sweep's estimate carries that sweep's noise,
background EMG and artefact residual (its SD was 0.3-2.6 % of the reference under the combined
operating-room conditions, so a 1.7 % crosstalk was over-subtracted twice over in some sweeps
and left in others). The gain used is therefore the median of the per-sweep estimates of the
last ``pool_n`` sweeps with the same reference channel, up to and including the sweep itself
(causal: a live monitor makes the same decision), with the standard error of a median
(``sqrt(pi / 2)`` times the spread over ``sqrt(n)``; Kenney & Keeping 1962).

References
----------
.. [1] De Luca CJ, Merletti R. Surface myoelectric signal cross-talk among muscles of the leg.
   Electroencephalogr Clin Neurophysiol 1988;69:568-575.
.. [2] Farina D, Merletti R, Indino B, Graven-Nielsen T. Surface EMG crosstalk evaluated from
   experimental recordings and simulated signals. Methods Inf Med 2004;43:30-35.
.. [3] Kenney JF, Keeping ES. Mathematics of Statistics, Part 1, 3rd ed. Van Nostrand 1962
   (standard error of the median, 1.2533 sigma / sqrt(n)).
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from . import _fastresp
from ._errors import ParameterError

__all__ = ["CrosstalkPool", "crosstalk_gain"]

FloatArray = npt.NDArray[np.floating]


def _idx(times_s: FloatArray, win_ms: tuple[float, float]) -> tuple[int, int]:
    t = np.asarray(times_s) * 1e3
    return int(np.searchsorted(t, win_ms[0])), int(np.searchsorted(t, win_ms[1], side="right"))


@functools.lru_cache(maxsize=8)
def _trend_basis(n: int) -> FloatArray:
    """Orthonormal basis (n, 3) of a quadratic trend over ``n`` samples (cached, read-only)."""
    tq = np.linspace(-1.0, 1.0, n)
    q, _ = np.linalg.qr(np.stack([np.ones_like(tq), tq, tq**2], axis=1))
    q.flags.writeable = False
    return q


def crosstalk_gain(
    data: npt.ArrayLike,
    times_s: npt.ArrayLike,
    direct: npt.ArrayLike,
    noise_uv: npt.ArrayLike,
    *,
    fit_ms: tuple[float, float] = (2.0, 7.0),
    corr_ms: tuple[float, float] = (2.0, 20.0),
    pool_n: int = 30,
    pool: CrosstalkPool | None = None,
) -> dict[str, npt.NDArray[np.generic]]:
    """Crosstalk of the direct channel into every other channel, per sweep.

    Parameters
    ----------
    data : array-like, shape (n_sweeps, n_channels, n_times)
        Baseline-corrected, artefact-suppressed epochs (uV).
    times_s : array-like, shape (n_times,)
        Epoch times (s).
    direct : array-like of bool, shape (n_sweeps, n_channels)
        Channels of the stimulated branch in each sweep; the one with the largest energy in
        ``fit_ms`` is the reference of that sweep.
    noise_uv : array-like, shape (n_sweeps, n_channels)
        Noise SD of each sweep and channel (uV).
    fit_ms, corr_ms : (float, float)
        Windows of the gain fit (the M-wave, before any LSR) and of the correlation.
    pool_n : int
        Trailing number of sweeps with the same reference whose per-sweep gains are pooled
        (median); 1 = every sweep on its own.
    pool : CrosstalkPool, optional
        State carried between calls on consecutive blocks of sweeps (a live monitor); by
        default a new one (the sweeps of this call only).

    Returns
    -------
    dict
        ``ref`` (n_sweeps,) reference channel (-1 without a direct channel), and (n_sweeps,
        n_channels) arrays ``gain`` (fraction of the reference, pooled over ``pool_n``
        sweeps), ``t`` (gain / its standard error), ``gain_sweep`` (the sweep's own estimate)
        and ``r`` (the sweep's correlation with the reference over ``corr_ms``); 0 on the
        reference and where there is none.

    Examples
    --------
    >>> t = np.arange(-100, 300) / 10000.0
    >>> m = np.where(t > 0.003, np.sin(2 * np.pi * 200 * (t - 0.003)), 0.0) * 1000.0
    >>> x = np.stack([m, 0.05 * m + np.random.default_rng(0).normal(0, 2, t.size)])[None]
    >>> out = crosstalk_gain(x, t, [[True, False]], [[2.0, 2.0]])
    >>> round(float(out["gain"][0, 1]), 2), bool(out["t"][0, 1] > 10)
    (0.05, True)
    """
    if pool is None and int(pool_n) < 1:
        raise ParameterError(f"pool_n must be >= 1, got {pool_n}.")
    x = np.asarray(data)
    dmask = np.asarray(direct, bool)
    n_c = x.shape[1]
    f0, f1 = _idx(np.asarray(times_s), fit_ms)
    r0, r1 = _idx(np.asarray(times_s), corr_ms)
    q = _trend_basis(f1 - f0)
    if _fastresp.enabled() and x.dtype == np.float64:  # compiled: one pass a sweep
        ref, gain, se, corr = _fastresp.crosstalk_fit(
            x, dmask, np.asarray(noise_uv, dtype=float), q, (f0, f1), (r0, r1)
        )
    else:
        ref, gain, se, corr = _fit_numpy(x, dmask, noise_uv, q, (f0, f1), (r0, r1))
    if pool is None:
        pool = CrosstalkPool(n_c, pool_n=int(pool_n))
    elif pool.n_channels != n_c:
        raise ParameterError(f"pool has {pool.n_channels} channels, the data {n_c}.")
    pooled, p_se = pool.push(gain, se, ref)
    tstat = np.where(p_se > 0, pooled / np.where(p_se > 0, p_se, 1.0), 0.0)
    return {"ref": ref, "gain": pooled, "t": tstat, "gain_sweep": gain, "r": corr}


class CrosstalkPool:
    """Streaming state of the pooled gain: the last per-sweep gains of each reference channel.

    :func:`crosstalk_gain` pools the per-sweep gains of the last ``pool_n`` sweeps with the
    same reference; a live monitor that measures the sweeps as they come passes one
    ``CrosstalkPool`` to every call (``pool=``), so that pushing the sweeps in blocks, one at a
    time or all at once gives the same gains (the median of the same values).

    Examples
    --------
    >>> pool = CrosstalkPool(2, pool_n=3)
    >>> g = np.array([[0.0, 0.01], [0.0, 0.03], [0.0, 0.02], [0.0, 0.05]])
    >>> se = np.full((4, 2), 0.01)
    >>> ref = np.zeros(4, dtype=np.int64)
    >>> a = pool.push(g[:2], se[:2], ref[:2])[0][:, 1].tolist()
    >>> b = pool.push(g[2:], se[2:], ref[2:])[0][:, 1].tolist()
    >>> [round(v, 3) for v in a + b]
    [0.01, 0.02, 0.02, 0.03]
    """

    def __init__(self, n_channels: int, *, pool_n: int = 30) -> None:
        if int(pool_n) < 1:
            raise ParameterError(f"pool_n must be >= 1, got {pool_n}.")
        self.n_channels = int(n_channels)
        self.pool_n = int(pool_n)
        self._hist: dict[int, tuple[FloatArray, FloatArray]] = {}  # ref -> last gains, SEs

    def push(
        self, gain: FloatArray, se: FloatArray, ref: npt.NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray]:
        """Pooled gains and their SEs (n, n_channels) of the sweeps pushed now."""
        n_k = self.pool_n - 1
        out = np.zeros_like(gain, dtype=float)
        out_se = np.zeros_like(gain, dtype=float)
        empty = np.zeros((0, self.n_channels))
        for r in np.unique(ref[ref >= 0]).tolist():  # reference channels (one per montage)
            rows = np.flatnonzero(ref == r)
            hg, hs = self._hist.get(r, (empty, empty))
            n_prev = hg.shape[0]
            g = np.vstack([hg, gain[rows]])
            s = np.vstack([hs, se[rows]])
            if _fastresp.enabled():  # compiled: the same medians, one pass
                out[rows], out_se[rows] = _fastresp.trailing_median_pool(g, s, n_prev, self.pool_n)
            else:
                out[rows], out_se[rows] = _pool_numpy(g, s, n_prev, self.pool_n)
            n_keep = min(n_prev + rows.size, n_k)  # real rows only
            self._hist[r] = (g[g.shape[0] - n_keep :], s[s.shape[0] - n_keep :])
        return out, out_se


def _pool_numpy(
    g: FloatArray, s: FloatArray, n_prev: int, pool_n: int
) -> tuple[FloatArray, FloatArray]:
    """NumPy reference of :func:`hfs_emg._fastresp.trailing_median_pool` (padded windows)."""
    n_c = g.shape[1]
    n_new = g.shape[0] - n_prev
    pad = np.full((pool_n - 1 - n_prev, n_c), np.nan)
    w = np.lib.stride_tricks.sliding_window_view(np.vstack([pad, g]), pool_n, axis=0)
    ws = np.lib.stride_tricks.sliding_window_view(np.vstack([pad, s]), pool_n, axis=0)
    n = np.minimum(np.arange(n_prev + 1, n_prev + n_new + 1), pool_n)[:, None]
    med = np.nanmedian(w, axis=-1)
    spread = 1.4826 * np.nanmedian(np.abs(w - med[..., None]), axis=-1)
    se = np.sqrt(np.pi / 2.0) * np.maximum(spread, np.nanmedian(ws, axis=-1)) / np.sqrt(n)
    return med, se


def _fit_numpy(
    x: FloatArray,
    dmask: npt.NDArray[np.bool_],
    noise_uv: npt.ArrayLike,
    q: FloatArray,
    f: tuple[int, int],
    r: tuple[int, int],
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    """Per-sweep reference, gain, SE and correlation (NumPy; :func:`_fastresp.crosstalk_fit`)."""
    n_e, n_c, _ = x.shape
    (f0, f1), (r0, r1) = f, r
    # a quadratic trend projected out: the gain is read on the fast M-wave, not on a slow
    # artefact residual on either channel
    seg = x[:, :, f0:f1]
    seg = seg - (seg @ q) @ q.T
    energy = np.where(dmask, np.einsum("ect,ect->ec", seg, seg), -1.0)
    ref = np.where(dmask.any(1), np.argmax(energy, 1), -1)
    has = ref >= 0
    e_idx = np.flatnonzero(has)
    gain = np.zeros((n_e, n_c))
    se = np.zeros((n_e, n_c))
    corr = np.zeros((n_e, n_c))
    if e_idx.size:
        d = seg[e_idx, ref[e_idx]]  # (E', F)
        dd = np.einsum("et,et->e", d, d)
        g = np.einsum("ect,et->ec", seg[e_idx], d) / np.where(dd > 0, dd, 1.0)[:, None]
        sd = np.asarray(noise_uv, dtype=float)[e_idx]
        g_se = np.where(sd > 0, sd, 1e-9) / np.sqrt(np.where(dd > 0, dd, 1e-18))[:, None]
        dc = x[e_idx, ref[e_idx], r0:r1]
        dc = dc - dc.mean(1, keepdims=True)
        xc = x[e_idx, :, r0:r1]
        xc = xc - xc.mean(2, keepdims=True)
        num = np.einsum("ect,et->ec", xc, dc)
        den = np.sqrt(np.einsum("ect,ect->ec", xc, xc) * np.einsum("et,et->e", dc, dc)[:, None])
        rr = num / np.where(den > 0, den, 1.0)
        own = np.arange(n_c)[None, :] == ref[e_idx, None]
        gain[e_idx] = np.where(own, 0.0, g)
        se[e_idx] = np.where(own, 0.0, g_se)
        corr[e_idx] = np.where(own, 0.0, rr)
    return ref, gain, se, corr
