"""Optional compiled (numba) kernels for the per-run steps of :mod:`hfs_emg.detection`.

The edge refinement and the amplitude features of the bursts are a few operations per burst
sample, but in NumPy every run sample is gathered, indexed and reduced through several
temporaries while the GIL is held. Compiled, each kernel is one GIL-free pass over the runs of
a channel, so the two threads of :func:`hfs_emg._chunking.run_tasks` overlap.

The kernels reproduce the NumPy paths of :mod:`hfs_emg.detection` operation for operation, so
their results are bitwise the same:

- :func:`refine_runs` is ``_refine`` (``_run_rms`` or ``_local_rms``, then ``_refine_runs``):
  the short-window RMS of every run sample from one float64 running sum of the squared
  samples over the gathered stretches of a batch of runs (``np.cumsum`` is a sequential sum,
  so the running sum restarts where NumPy's batches do), then each run's peak, thresholds,
  first and last hit and the onset backtrack.
- :func:`amplitudes` is the peak, area and RMS of ``_burst_features``: ``np.add.reduceat``
  of a segment is its first element plus NumPy's pairwise sum of the rest (blocks of 8
  partial sums up to 128 samples, halves above), written out here in the same order.

numba is optional: without it (``AVAILABLE`` is False) the NumPy paths run unchanged. Compiled
code is cached on disk (``cache=True``).

References
----------
.. [1] S. K. Lam, A. Pitrou, S. Seibert, "Numba: a LLVM-based Python JIT compiler", Proc.
   LLVM-HPC (2015).
.. [2] N. J. Higham, "The accuracy of floating point summation", SIAM J. Sci. Comput. 14(4),
   783-799 (1993) (pairwise summation, as NumPy's ``pairwise_sum``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

try:  # optional accelerator
    from numba import njit
except ImportError:  # pragma: no cover - exercised by the fallback test
    njit = None

__all__ = ["AVAILABLE", "amplitudes", "enabled", "refine_runs"]

#: True when numba could be imported (the compiled kernels exist).
AVAILABLE: bool = njit is not None

FloatArray = npt.NDArray[np.floating]
IntArray = npt.NDArray[np.int64]


def enabled() -> bool:
    """Whether the compiled kernels are used (numba importable and ``AVAILABLE`` not cleared).

    Examples
    --------
    >>> isinstance(enabled(), bool)
    True
    """
    return AVAILABLE


def _fine_at(cs: npt.NDArray[np.float64], kk: int, half: int, glen: int) -> float:
    """Short-window RMS at gathered sample ``kk`` (window clipped to the gathered stretch)."""
    lo = max(kk - half, 0)
    hi = min(kk + half + 1, glen)
    val = (cs[hi] - cs[lo]) / (hi - lo)
    if val < 0.0:  # np.maximum(val, 0.0) (a NaN stays NaN)
        val = 0.0
    return np.sqrt(val)


#: Relative band around a squared threshold (times the window) inside which a window sum is
#: compared through the exact RMS; outside it the sum decides (rounding errors are ~1e-16).
_BAND = 1e-6


def _refine_runs(
    row: FloatArray,
    s: IntArray,
    e: IntArray,
    s_run: IntArray,
    reset: npt.NDArray[np.bool_],
    half: int,
    hthr: float,
    rel: float,
    use_floor: bool,
    fthr: float,
    relh: float,
) -> tuple[IntArray, IntArray]:
    n = row.shape[0]
    n_run = s.shape[0]
    w = 2 * half + 1
    new_s = np.empty(n_run, dtype=np.int64)
    new_e = np.empty(n_run, dtype=np.int64)
    longest = 1
    for r in range(n_run):
        longest = max(longest, min(e[r] + half, n) - max(s[r] - half, 0))
    cs = np.empty(longest + 1)  # running sum at the gathered samples of one run
    acc = 0.0
    for r in range(n_run):
        if reset[r]:
            acc = 0.0  # a new batch: a new np.cumsum
        sr, er = s[r], e[r]
        a = max(sr - half, 0)
        glen = min(er + half, n) - a
        cs[0] = acc
        for j in range(glen):
            v = np.float64(row[a + j])
            acc += v * v
            cs[j + 1] = acc
        length = er - sr
        off = sr - a  # gathered index of the run's first sample
        inner = off == half and glen == length + 2 * half  # no window clipped
        lead = s_run[r] - sr if use_floor else 0
        # the peak of the own samples (np.maximum.reduceat: a NaN propagates; the lead
        # samples count as 0.0, below every RMS). sqrt and the division by the window are
        # monotonic, so the largest window sum gives the largest RMS.
        if inner:
            dmax = -np.inf
            nan = False
            for k in range(lead, length):
                d = cs[k + w] - cs[k]
                if d > dmax:
                    dmax = d
                elif d != d:
                    nan = True
            val = dmax / w
            if val < 0.0:
                val = 0.0
            peak = np.nan if nan else np.sqrt(val)
        else:
            peak = 0.0
            for k in range(lead, length):
                val = _fine_at(cs, off + k, half, glen)
                if k == lead or ((val > peak or val != val) and peak == peak):
                    peak = val
        b = rel * peak
        thr = hthr if hthr >= b else b  # np.maximum: NaN if either is NaN
        if hthr != hthr or b != b:
            thr = np.nan
        t2 = thr * thr * w
        banded = inner and 1e-280 < t2 < 1e280
        t_lo, t_hi = t2 * (1.0 - _BAND), t2 * (1.0 + _BAND)
        first = -1
        for k in range(lead, length):  # the first own sample at or above the threshold
            if banded:
                d = cs[k + w] - cs[k]
                if d < t_lo:
                    continue
                if d > t_hi:
                    first = k
                    break
            if _fine_at(cs, off + k, half, glen) >= thr:
                first = k
                break
        if first < 0:  # no hit: the run is kept as it was
            new_s[r] = s_run[r] if use_floor else sr
            new_e[r] = er
            continue
        last = first
        for k in range(length - 1, first, -1):  # the last one
            if banded:
                d = cs[k + w] - cs[k]
                if d < t_lo:
                    continue
                if d > t_hi:
                    last = k
                    break
            if _fine_at(cs, off + k, half, glen) >= thr:
                last = k
                break
        if use_floor:
            b = relh * peak
            fl = fthr if fthr >= b else b
            if fthr != fthr or b != b:
                fl = np.nan
            f2 = fl * fl * w
            banded = inner and 1e-280 < f2 < 1e280
            f_lo, f_hi = f2 * (1.0 - _BAND), f2 * (1.0 + _BAND)
            for k in range(first - 1, -1, -1):  # the last sample below the floor before it
                if banded:
                    d = cs[k + w] - cs[k]
                    if d < f_lo:
                        first = k + 1
                        break
                    if d > f_hi:
                        continue
                if _fine_at(cs, off + k, half, glen) < fl:
                    first = k + 1
                    break
        new_s[r] = sr + first
        new_e[r] = sr + last + 1
    return new_s, new_e


def _pairwise_leaf(a: npt.NDArray[np.float64], lo: int, n: int) -> float:
    """NumPy's ``pairwise_sum`` of ``a[lo:lo + n]`` for ``n <= 128`` (no split)."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


def _pairwise(
    a: npt.NDArray[np.float64],
    lo: int,
    n: int,
    stack: IntArray,
    vals: npt.NDArray[np.float64],
) -> float:
    """NumPy's ``pairwise_sum`` of ``a[lo:lo + n]`` (``numpy/_core/src/umath/loops_utils.h``).

    Above 128 samples NumPy sums the two halves (the first a multiple of 8 long) recursively
    and adds them; here the recursion runs on an explicit stack (``stack``: rows of start,
    length, stage; ``vals``: the partial sums), as numba's cache does not keep recursive
    functions.
    """
    if n <= 128:
        return _pairwise_leaf(a, lo, n)
    sp = 1
    stack[0, 0], stack[0, 1], stack[0, 2] = lo, n, 0
    nv = 0
    while sp > 0:
        l0, m, stage = stack[sp - 1, 0], stack[sp - 1, 1], stack[sp - 1, 2]
        if m <= 128:
            vals[nv] = _pairwise_leaf(a, l0, m)
            nv += 1
            sp -= 1
            continue
        n2 = m // 2
        n2 -= n2 % 8
        if stage == 0:  # the first half
            stack[sp - 1, 2] = 1
            stack[sp, 0], stack[sp, 1], stack[sp, 2] = l0, n2, 0
            sp += 1
        elif stage == 1:  # the second half
            stack[sp - 1, 2] = 2
            stack[sp, 0], stack[sp, 1], stack[sp, 2] = l0 + n2, m - n2, 0
            sp += 1
        else:  # both done: first + second
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            sp -= 1
    return vals[0]


def _amplitudes(
    row: FloatArray, s: IntArray, e: IntArray, fs: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    n_run = s.shape[0]
    peak = np.empty(n_run)
    area = np.empty(n_run)
    rms = np.empty(n_run)
    longest = 1
    for r in range(n_run):
        longest = max(longest, e[r] - s[r])
    absv = np.empty(longest)
    sq = np.empty(longest)
    stack = np.empty((128, 3), dtype=np.int64)  # depth ~ log2(longest / 128) + 1
    vals = np.empty(128)
    for r in range(n_run):
        length = e[r] - s[r]
        m = 0.0
        for k in range(length):
            v = np.float64(np.abs(row[s[r] + k]))  # abs in the row's dtype, then float64
            absv[k] = v
            sq[k] = v * v
            if k == 0 or ((v > m or v != v) and m == m):
                m = v
        peak[r] = m
        # np.add.reduceat: the first element, then the pairwise sum of the rest
        area[r] = (absv[0] + _pairwise(absv, 1, length - 1, stack, vals)) / fs
        rms[r] = np.sqrt((sq[0] + _pairwise(sq, 1, length - 1, stack, vals)) / length)
    return peak, area, rms


if AVAILABLE:
    _opts = {"cache": True, "nogil": True, "fastmath": False}
    _fine_at = njit(**_opts)(_fine_at)
    refine_runs = njit(**_opts)(_refine_runs)
    _pairwise_leaf = njit(**_opts)(_pairwise_leaf)
    _pairwise = njit(**_opts)(_pairwise)
    amplitudes = njit(**_opts)(_amplitudes)
else:  # pragma: no cover - without numba
    refine_runs = None
    amplitudes = None
