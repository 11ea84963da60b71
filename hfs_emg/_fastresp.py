"""Optional compiled (numba) kernel for the per-row work of the evoked-response measurement.

:func:`hfs_emg.responses.measure_response_array` measures each row (one sweep of one channel)
with a handful of whole-block NumPy passes: baseline mean and SD, the boxcar high-pass of the
detection signal, the centred moving-RMS envelope, the running minimum over ``m`` taps (the
level held for ``min_duration_ms``), the Savitzky-Golay smoothing over ``2 q + 1`` taps, the
thresholds and the onset/offset search. Each pass streams the whole block through memory.
:func:`measure_rows` does the same arithmetic for one row at a time in one call (the row and
its few work arrays stay in cache) and releases the GIL, so blocks of rows run on every core
(:func:`hfs_emg._chunking.run_tasks`).

The kernel repeats the NumPy operations in their order: running sums (``np.cumsum``) are the
same sequential float64 sums, the moving windows the same differences of those sums, the
Savitzky-Golay sum accumulates its taps in the same order, and the means and SDs use NumPy's
pairwise summation (:func:`_pairwise_sum`, the blocked algorithm of NumPy's ``add.reduce``
for contiguous float64 rows), so the results are expected to match the NumPy path bit for
bit; the tests require identical decisions and floats within 1e-9 relative. numba is
optional: without it (``AVAILABLE`` False) the NumPy path runs unchanged. Compiled code is
cached on disk (``cache=True``).

What makes a row cheap (the values stay those of the NumPy operations): no allocation per row
(the pairwise sums up to 912 samples are unrolled levels, not a stack; squared deviations are
summed as they form); running sums carried in registers, not through the array they fill (a
store-to-load chain per sample otherwise); the running sum of the extended window, its boxcar
high-pass and the running sum of squares of the detection signal advance in one loop; work
arrays read through views indexed from 0, so the element-wise loops (window, envelope, held
minimum, Savitzky-Golay taps) vectorize; and the samples of the row two ahead are asked for
while this one is measured (:mod:`hfs_emg._prefetch`: each row starts in a new page, where the
hardware prefetchers start over). On 80,000 rows of 1,001 samples that is 1.2 / 1.7 µs a
control / LSR row on one core (main before: 3.3 / 4.7 µs).

The same holds for the other per-row steps of :class:`hfs_emg.lsr_online.LsrStream`, each
tested against the NumPy code it replaces (kept as the fallback): :func:`epoch_gather` (cut,
extremes and baseline of :func:`hfs_emg.make_epochs`, bit for bit), :func:`crosstalk_fit` (the
per-sweep crosstalk fit of :func:`hfs_emg.crosstalk.crosstalk_gain`), :func:`trailing_median_pool`
(its causal median pool, bit for bit), :func:`tail_coefs` / :func:`tail_eval` /
:func:`tail_resid_rms` / :func:`tail_subtract` (the two-exponential artefact-tail fit of
:func:`hfs_emg.artifact.suppress_artifact`); where a sum runs in another order than BLAS's the
floats agree to ~1e-13 relative.

References
----------
.. [1] S. K. Lam, A. Pitrou, S. Seibert, "Numba: a LLVM-based Python JIT compiler", Proc.
   LLVM-HPC (2015).
.. [2] A. Savitzky, M. J. E. Golay, "Smoothing and differentiation of data by simplified least
   squares procedures", Anal. Chem. 36(8), 1627-1639 (1964).
.. [3] G. H. Golub, V. Pereyra, "The differentiation of pseudo-inverses and nonlinear least
   squares problems whose variables separate", SIAM J. Numer. Anal. 10, 413-432 (1973); G.
   Schwarz, "Estimating the dimension of a model", Ann. Stat. 6, 461-464 (1978) (the tail fit).
.. [4] J. F. Kenney, E. S. Keeping, Mathematics of Statistics, Part 1, 3rd ed., Van Nostrand
   (1962) (standard error of a median); C. J. De Luca, R. Merletti, Electroencephalogr. Clin.
   Neurophysiol. 69, 568-575 (1988) (crosstalk as a scaled copy of the source channel).
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np
import numpy.typing as npt

from ._chunking import MIN_SAMPLES_FOR_THREADS, run_tasks
from ._prefetch import prefetch_span

try:  # optional accelerator
    from numba import njit
except ImportError:  # pragma: no cover - exercised by the fallback test
    njit = None

__all__ = [
    "AVAILABLE",
    "crosstalk_fit",
    "enabled",
    "epoch_gather",
    "measure_rows",
    "row_std",
    "tail_coefs",
    "tail_eval",
    "tail_resid_rms",
    "tail_subtract",
    "task_rows",
    "trailing_median_pool",
]

#: True when numba could be imported (the compiled kernel exists).
AVAILABLE: bool = njit is not None

FloatArray = npt.NDArray[np.floating]

#: Block size of NumPy's pairwise summation (``PW_BLOCKSIZE`` in its loops).
_PW = 128

#: Rows ahead whose samples a per-row kernel asks the cache for (:mod:`hfs_emg._prefetch`).
_AHEAD = 2

#: Relative margin above a penalty class's smallest residual within which the tail kernel
#: (:func:`_tail_coef_rows`) evaluates the Schwarz criterion: a model outside it cannot tie
#: the best (the criterion's rounding spans ~1e-14 relative of the residual).
_SSE_NEAR = 1e-6


def enabled() -> bool:
    """Whether the compiled kernel is used (numba importable and ``AVAILABLE`` not cleared).

    Examples
    --------
    >>> isinstance(enabled(), bool)
    True
    """
    return AVAILABLE


def _writable(a: np.ndarray) -> np.ndarray:
    """``a``, or a copy where it is read-only (a broadcast threshold): numba types read-only
    arrays apart, so each such argument would load a second copy of the kernel (~2 MB)."""
    return a if a.flags.writeable else a.copy()


@functools.lru_cache(maxsize=1)
def _cores() -> int:
    """Number of CPUs, read once (``os.cpu_count`` reads a file: ~15 µs, ~0.5 ms when loaded)."""
    return os.cpu_count() or 1


def task_rows(n: int, step: int, per_row: int) -> int:
    """Rows per task of a per-row kernel: at most ``step``, and ``n / cores`` (rounded up)
    when such tasks still hold :data:`hfs_emg._chunking.MIN_SAMPLES_FOR_THREADS` samples.

    A fixed ``step`` splits a few thousand rows (a block of sweeps) into one large and one
    small task, or one task: a core idles. The rows are independent, so how they are split
    changes no value.

    Examples
    --------
    >>> task_rows(10, 4096, 10)  # too small for threads: the step, as before
    4096
    >>> 1 <= task_rows(4000, 4096, 1000) <= 4096  # 2000 on two cores
    True
    """
    if int(n) * per_row < MIN_SAMPLES_FOR_THREADS:
        return int(step)  # one task whatever the split
    cores = _cores()
    even = -(-int(n) // cores)
    if cores > 1 and even * per_row >= MIN_SAMPLES_FOR_THREADS:
        return max(1, min(int(step), even))
    return int(step)


def _pairwise_leaf(a: FloatArray, lo: int, n: int, mu: float = 0.0, sq: bool = False) -> float:
    """NumPy's pairwise sum of ``a[lo:lo+n]`` for ``n <= 128`` (eight partial sums).

    With ``sq`` the summands are ``(a - mu) ** 2`` (the squared deviations of ``np.var``,
    formed on the fly instead of in a temporary array: the same values in the same order).
    """
    if n < 8:
        s = 0.0
        for i in range(n):
            s += _term(a[lo + i], mu, sq)
        return s
    r0, r1 = _term(a[lo], mu, sq), _term(a[lo + 1], mu, sq)
    r2, r3 = _term(a[lo + 2], mu, sq), _term(a[lo + 3], mu, sq)
    r4, r5 = _term(a[lo + 4], mu, sq), _term(a[lo + 5], mu, sq)
    r6, r7 = _term(a[lo + 6], mu, sq), _term(a[lo + 7], mu, sq)
    i = 8
    while i < n - (n % 8):
        r0 += _term(a[lo + i], mu, sq)
        r1 += _term(a[lo + i + 1], mu, sq)
        r2 += _term(a[lo + i + 2], mu, sq)
        r3 += _term(a[lo + i + 3], mu, sq)
        r4 += _term(a[lo + i + 4], mu, sq)
        r5 += _term(a[lo + i + 5], mu, sq)
        r6 += _term(a[lo + i + 6], mu, sq)
        r7 += _term(a[lo + i + 7], mu, sq)
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        s += _term(a[lo + i], mu, sq)
        i += 1
    return s


def _term(v: float, mu: float, sq: bool) -> float:
    """A summand of :func:`_pairwise_leaf`: ``v``, or ``(v - mu) ** 2`` with ``sq``."""
    if sq:
        d = v - mu
        return d * d
    return v


def _pairwise_split(a: FloatArray, lo: int, n: int, mu: float, sq: bool) -> float:
    """NumPy's pairwise sum for ``n <= 240``: a leaf, or one split into two leaves."""
    if n <= _PW:
        return _pairwise_leaf(a, lo, n, mu, sq)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_leaf(a, lo, n2, mu, sq) + _pairwise_leaf(a, lo + n2, n - n2, mu, sq)


def _pairwise_split2(a: FloatArray, lo: int, n: int, mu: float, sq: bool) -> float:
    """NumPy's pairwise sum for ``n <= 464``: one split into two :func:`_pairwise_split`."""
    if n <= _PW:
        return _pairwise_leaf(a, lo, n, mu, sq)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_split(a, lo, n2, mu, sq) + _pairwise_split(a, lo + n2, n - n2, mu, sq)


def _pairwise_split3(a: FloatArray, lo: int, n: int, mu: float, sq: bool) -> float:
    """NumPy's pairwise sum for ``n <= 912``: one split into two :func:`_pairwise_split2`."""
    if n <= _PW:
        return _pairwise_leaf(a, lo, n, mu, sq)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_split2(a, lo, n2, mu, sq) + _pairwise_split2(a, lo + n2, n - n2, mu, sq)


def _pairwise_sum(a: FloatArray, lo: int, n: int) -> float:
    """Sum of ``a[lo:lo+n]`` in the order of NumPy's pairwise ``add.reduce``.

    NumPy splits ``n > 128`` into ``n2 = n // 2 - (n // 2) % 8`` and ``n - n2`` recursively
    and adds the two halves. A half is at most ``n / 2 + 8``, so up to 240 samples one split
    leaves two leaves, up to 464 two splits and up to 912 three do: those sizes (the baselines
    and windows of the response measurement) run without recursion or allocation; longer sums
    unroll the recursion on an explicit stack (numba's on-disk cache does not hold recursive
    functions reliably).
    """
    if n <= 240:
        return _pairwise_split(a, lo, n, 0.0, False)
    if n <= 464:
        return _pairwise_split2(a, lo, n, 0.0, False)
    if n <= 912:
        return _pairwise_split3(a, lo, n, 0.0, False)
    return _pairwise_stack(a, lo, n)


def _pairwise_sum_sq(a: FloatArray, lo: int, n: int, mu: float, tmp: FloatArray) -> float:
    """Pairwise sum of ``(a[lo:lo+n] - mu) ** 2`` (``tmp`` holds them when ``n > 912``)."""
    if n <= 240:
        return _pairwise_split(a, lo, n, mu, True)
    if n <= 464:
        return _pairwise_split2(a, lo, n, mu, True)
    if n <= 912:
        return _pairwise_split3(a, lo, n, mu, True)
    for i in range(n):
        d = a[lo + i] - mu
        tmp[i] = d * d
    return _pairwise_stack(tmp, 0, n)


def _pairwise_stack(a: FloatArray, lo: int, n: int) -> float:
    """:func:`_pairwise_sum` of any ``n`` (the recursion on an explicit stack)."""
    if n <= _PW:
        return _pairwise_leaf(a, lo, n)
    s_lo = np.empty(64, dtype=np.int64)
    s_n = np.empty(64, dtype=np.int64)
    s_left = np.empty(64)
    s_state = np.zeros(64, dtype=np.int64)  # 0: left half pending, 1: right half pending
    top = 0
    s_lo[0], s_n[0], s_state[0] = lo, n, 0
    val = 0.0
    while True:
        ln, nn = s_lo[top], s_n[top]
        n2 = nn // 2
        n2 -= n2 % 8
        if s_state[top] == 0:
            clo, cn = ln, n2
        else:
            clo, cn = ln + n2, nn - n2
        if cn > _PW:  # descend
            top += 1
            s_lo[top], s_n[top], s_state[top] = clo, cn, 0
            continue
        val = _pairwise_leaf(a, clo, cn)
        # deliver val upwards until a frame still needs its right half
        while True:
            if s_state[top] == 0:
                s_left[top] = val
                s_state[top] = 1
                break
            val = s_left[top] + val
            if top == 0:
                return val
            top -= 1
    return val  # pragma: no cover - unreachable


def _sd(a: FloatArray, lo: int, n: int, tmp: FloatArray, ddof: int) -> float:
    """``np.std(a[lo:lo+n], ddof=ddof)`` (mean, squared deviations, pairwise sums)."""
    mu = _pairwise_sum(a, lo, n) / n
    return _sd_mu(a, lo, n, mu, tmp, ddof)


def _sd_mu(a: FloatArray, lo: int, n: int, mu: float, tmp: FloatArray, ddof: int) -> float:
    """:func:`_sd` of ``a[lo:lo+n]`` whose mean ``mu`` is known (``tmp``: n > 464 only)."""
    return math.sqrt(_pairwise_sum_sq(a, lo, n, mu, tmp) / (n - ddof))


def _sd1(a: FloatArray, lo: int, n: int, tmp: FloatArray) -> float:
    """``np.std(a[lo:lo+n], ddof=1)``; uses ``tmp``."""
    return _sd(a, lo, n, tmp, 1)


def _row_std(x: FloatArray, lo: int, hi: int, out: FloatArray) -> None:
    """``out[i] = np.std(x[i, lo:hi])`` for every row of the 2-D ``x`` (NumPy's order)."""
    tmp = np.empty(max(hi - lo, 1))
    n = hi - lo
    for i in range(x.shape[0]):
        if i + _AHEAD < x.shape[0]:
            prefetch_span(x[i + _AHEAD], lo, hi)
        row = x[i]
        mu = _pairwise_sum(row, lo, n) / n
        out[i] = math.sqrt(_pairwise_sum_sq(row, lo, n, mu, tmp) / n)


def row_std(data: FloatArray, lo: int, hi: int) -> FloatArray:
    """``data[..., lo:hi].std(axis=-1)`` of float64 ``data`` by the kernel, blocks on threads.

    The same operations as NumPy's (pairwise sums of the row and of its squared deviations),
    so the result equals ``np.std`` bit for bit; without numba NumPy's is returned.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(0, 2, (3, 4, 50))
    >>> bool(np.array_equal(row_std(x, 5, 45), x[..., 5:45].std(axis=-1)))
    True
    """

    x = np.asarray(data)
    if not enabled() or x.dtype != np.float64 or hi - lo < 1 or x.size == 0:
        return x[..., lo:hi].std(axis=-1)
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty(flat.shape[0])
    step = task_rows(flat.shape[0], 8192, hi - lo)

    def run(i: int) -> None:
        _row_std_k(flat[i : i + step], lo, hi, out[i : i + step])

    run_tasks(run, range(0, flat.shape[0], step), n_samples=step * (hi - lo))
    return out.reshape(x.shape[:-1])


def _measure_rows(
    arr: FloatArray,
    ridx: npt.NDArray[np.int64],
    sd_in: FloatArray,
    k_row: FloatArray,
    coeffs: FloatArray,
    ipar: npt.NDArray[np.int64],
    fpar: FloatArray,
    out_f: FloatArray,
    out_i: npt.NDArray[np.int64],
) -> None:
    """Measure the rows ``ridx`` of ``arr`` (n, n_times) into ``out_f`` and ``out_i``.

    ``ipar`` = (b0, b1, w0, w1, h, m, q, g, use_sd_in, stat_only); ``fpar`` = (band,
    band_frac, 2 * band_frac, min_p2p_uv). ``out_f[:, :]`` = (det_stat, noise_uv, p2p, area
    (sum of ``|x|`` from onset to offset, not yet scaled), has_sustained); ``out_i[:, :]`` =
    (onset, offset, peak) as window indices.

    The arithmetic of :func:`hfs_emg.responses._measure_block_numpy`, operation for operation,
    in few loops a row, each reading its arrays through views indexed from 0 (affine indices:
    the element-wise loops vectorize). Running sums are carried in registers (arrays hold them
    for the lookups only); the running sum of the extended window, its boxcar high-pass and
    the running sum of squares of the detection signal advance in one loop (the high-passed
    sample ``k`` needs the running sum ``g + 1`` samples ahead), as do the baseline's running
    sum and its high-pass; the SDs sum the squared deviations as they form them
    (:func:`_pairwise_sum_sq`); the held minimum takes the NaN-propagating rule of
    ``np.minimum`` only for an envelope that holds a NaN (elsewhere both rules agree).
    """
    b0, b1, w0, w1 = ipar[0], ipar[1], ipar[2], ipar[3]
    h, m, q, g = ipar[4], ipar[5], ipar[6], ipar[7]
    use_sd, stat_only = ipar[8] != 0, ipar[9] != 0
    band, band_frac, band_frac2 = fpar[0], fpar[1], fpar[2]  # fpar[3] (min_p2p_uv): caller
    n_r = ridx.size
    n_t = arr.shape[1]
    nb = b1 - b0
    n_w = w1 - w0
    r = max(h, q) + g
    e0 = w0 - r
    ne = n_w + 2 * r
    s0, s1 = max(e0, 0), min(w1 + r, n_t)
    n_in = s1 - s0  # samples of the extended window inside the epoch
    w = 2 * g + 1
    g2 = 2 * g
    nd = nb - g2  # samples of the high-passed baseline (g > 0)
    tmp = np.empty(max(ne, nb) + 1)  # squared deviations of sums longer than 912 samples
    hb = np.empty(max(nd, 1))
    c1 = np.empty(ne + 1)  # running sum of the extended window (for the high-pass)
    c2 = np.empty(nb + 1)  # running sum of the baseline (for its high-pass)
    cs = np.empty(ne + 1)  # running sum of squares of the detection signal
    xe = np.zeros(ne)  # the zero padding outside the epoch is never overwritten
    xin = xe[s0 - e0 : s0 - e0 + n_in]
    xw = xe[r : r + n_w]  # the window itself
    cs_hi = cs[r + h + 1 : r + h + 1 + n_w]  # envelope: centred sums of squares
    cs_lo = cs[r - h : r - h + n_w]
    nw1 = max(n_w, 1)
    env = np.empty(nw1)
    held = np.empty(nw1)
    xs = np.empty(nw1)
    cnt = np.empty(nw1)  # real (non-padded) samples of each centred envelope window
    for j in range(n_w):
        pos = w0 + j
        cnt[j] = min(pos + h + 1, n_t) - max(pos - h, 0)
    nt = len(coeffs)
    n_h = n_w - m + 1
    for i in range(n_r):
        if i + _AHEAD < n_r:  # the rows to come: their first lines arrive meanwhile
            nxt = arr[ridx[i + _AHEAD]]
            prefetch_span(nxt, b0, b1)
            prefetch_span(nxt, s0, s1)
        row = arr[ridx[i]]
        mu = _pairwise_sum(row, b0, nb) / nb
        if use_sd:
            sd = sd_in[i]
        elif nb > 1:
            sd = math.sqrt(_pairwise_sum_sq(row, b0, nb, mu, tmp) / (nb - 1))
        else:
            sd = 0.0
        if not sd > 0:
            sd = 1e-9
        src = row[s0:s1]
        for j in range(n_in):
            xin[j] = src[j] - mu
        cs[0] = 0.0
        acc = 0.0  # running sum of squares
        if g > 0:
            # detection signal: x minus its centred (2g+1)-sample mean (0 within g of the
            # ends, and everywhere when the extended window is shorter than the boxcar)
            c1[0] = 0.0
            run = 0.0
            for j in range(min(g2, ne)):  # the high-passed sample j - g is padding (0)
                run += xe[j]
                c1[j + 1] = run
                if j >= g:
                    acc += 0.0
                    cs[j - g + 1] = acc
            if ne > g2:
                xa = xe[g2:]  # the newest sample of the running sum
                xk = xe[g:]  # the high-passed sample k = j + g
                ck = c1[: ne - g2]  # the running sum before k's boxcar
                c1n = c1[g2 + 1 :]
                csn = cs[g + 1 :]
                for j in range(ne - g2):
                    run += xa[j]
                    c1n[j] = run
                    v = xk[j] - (run - ck[j]) / w
                    acc += v * v
                    csn[j] = acc
            for k in range(ne - g, ne):
                acc += 0.0
                cs[k + 1] = acc
            if nd > 1:
                # its baseline SD: the baseline minus its centred mean (the valid part)
                base = row[b0:b1]
                bk = row[b0 + g : b1]
                c2[0] = 0.0
                run = 0.0
                for j in range(g2):
                    run += base[j] - mu
                    c2[j + 1] = run
                ba = base[g2:]
                c2n = c2[g2 + 1 :]
                for j in range(nd):
                    run += ba[j] - mu
                    c2n[j] = run
                    hb[j] = (bk[j] - mu) - (run - c2[j]) / w
                mu_d = _pairwise_sum(hb, 0, nd) / nd
                sd_d = math.sqrt(_pairwise_sum_sq(hb, 0, nd, mu_d, tmp) / (nd - 1))
            else:
                sd_d = sd
            if not sd_d > 0:
                sd_d = 1e-9
        else:
            csn = cs[1:]
            for j in range(ne):
                v = xe[j]
                acc += v * v
                csn[j] = acc
            sd_d = sd
        # moving RMS envelope from the running sum of squares (np.cumsum order)
        nan = False
        for j in range(n_w):
            e = math.sqrt((cs_hi[j] - cs_lo[j]) / cnt[j])
            env[j] = e
            nan |= e != e
        k_i = k_row[i]
        thr_d = k_i * sd_d
        has = False
        det = 0
        if m <= n_w:
            # level held for m samples: the running minimum over m taps (np.minimum tap by
            # tap: a NaN propagates, hence the exact rule only where the envelope has one);
            # its maximum and its first sustained sample
            for j in range(n_h):
                held[j] = env[j]
            for t in range(1, m):
                et = env[t : t + n_h]
                if nan:
                    for j in range(n_h):
                        e = et[j]
                        if e < held[j] or e != e:
                            held[j] = e
                else:
                    for j in range(n_h):
                        e = et[j]
                        held[j] = e if e < held[j] else held[j]
            best = held[0]
            for j in range(n_h):
                v = held[j]
                if v > best or v != v:
                    best = v
            for j in range(n_h):
                if held[j] > thr_d:
                    has = True
                    det = j
                    break
            stat = best / sd_d
        else:
            stat = 0.0
        out_f[i, 0] = stat
        out_f[i, 1] = sd
        if stat_only:
            continue
        # Savitzky-Golay smoothing, tap by tap (each sample's taps in the NumPy loop's order)
        for j in range(n_w):
            xs[j] = 0.0
        for t in range(nt):
            c_t = coeffs[t]
            xt = xe[r - q + t : r - q + t + n_w]
            for j in range(n_w):
                xs[j] += c_t * xt[j]
        lo = np.inf
        hi = -np.inf
        peak = -1
        apeak = -1.0
        for j in range(n_w):  # max, min and argmax(|xs|) as NumPy's: a NaN wins
            v = xs[j]
            if v != v:
                lo = hi = v
                peak = j
                break
            if v > hi:
                hi = v
            if v < lo:
                lo = v
            a = abs(v)
            if a > apeak:
                apeak = a
                peak = j
        p2p = hi - lo
        thr = k_i * sd
        big_thr = max(thr, band_frac2 * p2p) if p2p == p2p else p2p  # np.maximum: NaN wins
        start = max(det - h, 0)
        t1 = det
        prev_big = False
        for j in range(n_w - 1, -1, -1):  # first j >= start with |x| above at j and j + 1
            b = abs(xw[j]) > big_thr and j >= start
            if b and (prev_big or j == n_w - 1):
                t1 = j
            prev_big = b
        # a pure forward scan gives the same first index; the backward one keeps it branch-light
        band_thr = max(band * sd, band_frac * p2p) if p2p == p2p else p2p
        t0 = -1
        if t1 > 0:
            for j in range(t1 - 1, -1, -1):
                if abs(xw[j]) <= band_thr:
                    t0 = j
                    break
        onset = max(t0, 0)
        last_above = n_w - 1
        for j in range(n_w - 1, -1, -1):
            if env[j] > thr_d:
                last_above = j
                break
        offset = min(max(last_above - h, onset), n_w - 1)
        # area from the running sum of |x| (np.cumsum order)
        c_on = 0.0
        c = 0.0
        for j in range(offset + 1):
            if j == onset:
                c_on = c
            c += abs(xw[j])
        out_f[i, 2] = p2p
        out_f[i, 3] = c - c_on
        out_f[i, 4] = 1.0 if has else 0.0
        out_i[i, 0] = onset
        out_i[i, 1] = offset
        out_i[i, 2] = peak


def _median_sorted(v: FloatArray, n: int) -> float:
    """Median of the sorted ``v[:n]`` as NumPy's: the middle value, or the halved middle sum."""
    if n == 0:
        return np.nan
    h = n // 2
    if n % 2 == 1:
        return v[h]
    return (v[h - 1] + v[h]) / 2.0


def _insert_sorted(v: FloatArray, n: int, x: float) -> None:
    """Insert ``x`` into the sorted ``v[:n]`` (insertion sort step; ``v`` has room)."""
    j = n
    while j > 0 and v[j - 1] > x:
        v[j] = v[j - 1]
        j -= 1
    v[j] = x


def _remove_sorted(v: FloatArray, n: int, x: float) -> None:
    """Remove one value equal to ``x`` from the sorted ``v[:n]``."""
    j = 0
    while j < n and v[j] != x:
        j += 1
    while j < n - 1:
        v[j] = v[j + 1]
        j += 1


def _mad_sorted(v: FloatArray, n: int, med: float) -> float:
    """Median of ``|v[:n] - med|`` for the sorted ``v``: the two runs of deviations merged.

    The deviations fall from the left up to ``med`` and rise after it, so walking outwards
    from ``med`` merges two ascending runs: O(n), the same values NumPy sorts.
    """
    if n == 0:
        return np.nan
    p = 0
    while p < n and v[p] < med:
        p += 1
    i = p - 1  # left run: v[i], v[i - 1], ...
    j = p  # right run: v[j], v[j + 1], ...
    h = n // 2
    prev = np.nan
    cur = np.nan
    for _ in range(h + 1):
        if i >= 0 and (j >= n or abs(v[i] - med) <= abs(v[j] - med)):
            d = abs(v[i] - med)
            i -= 1
        else:
            d = abs(v[j] - med)
            j += 1
        prev, cur = cur, d
    if n % 2 == 1:
        return cur
    return (prev + cur) / 2.0


def _trailing_pool(
    g: FloatArray, s: FloatArray, n_prev: int, pool_n: int, out: FloatArray, out_se: FloatArray
) -> None:
    """Trailing median pool of :class:`hfs_emg.crosstalk.CrosstalkPool` (see its ``push``).

    ``g``, ``s`` (n_prev + n, C): the kept earlier rows (``n_prev < pool_n``), then the new
    ones. For new row ``t`` over the last ``pool_n`` rows up to and including it: ``out`` =
    nanmedian of the gains, ``out_se`` = sqrt(pi / 2) * max(1.4826 * nanmedian |g - median|,
    nanmedian(s)) / sqrt(n) with ``n`` the rows in the window (the standard error of a median,
    Kenney & Keeping 1962). NaN values are skipped by the medians, as nanmedian does. The
    window is kept sorted as it slides (one insertion and one removal a row) and the median
    absolute deviation is read from it by a merge, so a row costs O(pool_n).
    """
    n_all, n_c = g.shape
    vg = np.empty(pool_n + 1)
    vs = np.empty(pool_n + 1)
    k = math.sqrt(math.pi / 2.0)
    for c in range(n_c):
        ng = 0
        ns = 0
        for t in range(n_all):
            x = g[t, c]
            if x == x:
                _insert_sorted(vg, ng, x)
                ng += 1
            y = s[t, c]
            if y == y:
                _insert_sorted(vs, ns, y)
                ns += 1
            old = t - pool_n
            if old >= 0:
                x = g[old, c]
                if x == x:
                    _remove_sorted(vg, ng, x)
                    ng -= 1
                y = s[old, c]
                if y == y:
                    _remove_sorted(vs, ns, y)
                    ns -= 1
            if t < n_prev:
                continue
            med = _median_sorted(vg, ng)
            spread = 1.4826 * _mad_sorted(vg, ng, med)
            ms = _median_sorted(vs, ns)
            big = spread if (spread != spread or spread >= ms) else ms  # np.maximum: NaN wins
            if ms != ms:
                big = ms
            out[t - n_prev, c] = med
            out_se[t - n_prev, c] = k * big / math.sqrt(min(t + 1, pool_n))


def trailing_median_pool(
    g: FloatArray, s: FloatArray, n_prev: int, pool_n: int
) -> tuple[FloatArray, FloatArray]:
    """Pooled gains and SEs of the new rows of ``g``, ``s`` (compiled; see :func:`_trailing_pool`).

    Examples
    --------
    >>> g = np.array([[0.01], [0.03], [0.02], [0.05]])
    >>> med, se = trailing_median_pool(g, np.full((4, 1), 0.01), 0, 3)
    >>> [round(float(v), 3) for v in med[:, 0]]
    [0.01, 0.02, 0.02, 0.03]
    """
    g = np.ascontiguousarray(g, dtype=np.float64)
    s = np.ascontiguousarray(s, dtype=np.float64)
    n = g.shape[0] - int(n_prev)
    out = np.empty((n, g.shape[1]))
    out_se = np.empty((n, g.shape[1]))
    _trailing_pool_k(g, s, int(n_prev), int(pool_n), out, out_se)
    return out, out_se


def _crosstalk_rows(
    x: FloatArray,
    dmask: npt.NDArray[np.bool_],
    sd: FloatArray,
    q: FloatArray,
    f0: int,
    f1: int,
    r0: int,
    r1: int,
    ref: npt.NDArray[np.int64],
    gain: FloatArray,
    se: FloatArray,
    corr: FloatArray,
) -> None:
    """Per-sweep crosstalk fit of :func:`hfs_emg.crosstalk.crosstalk_gain`, one sweep a pass.

    ``x`` (E, C, T); ``q`` (F, 3) the orthonormal quadratic trend over ``f0:f1``. For every
    sweep: the trend is projected out of each channel's fit window, the reference is the
    direct channel of largest energy (-1: none), and the least-squares gain, its SE and the
    correlation over ``r0:r1`` of every other channel on the reference are written (0 on the
    reference and without one). Crosstalk as a scaled copy of the source channel: De Luca &
    Merletti 1988; Farina et al. 2004 (see :mod:`hfs_emg.crosstalk`).
    """
    n_e, n_c, _ = x.shape
    nf = f1 - f0
    nr = r1 - r0
    seg = np.empty((n_c, nf))
    dcen = np.empty(nr)
    for e in range(n_e):
        best = -1.0
        r = -1
        for c in range(n_c):
            p0 = 0.0
            p1 = 0.0
            p2 = 0.0
            for t in range(nf):
                v = x[e, c, f0 + t]
                p0 += v * q[t, 0]
                p1 += v * q[t, 1]
                p2 += v * q[t, 2]
            en = 0.0
            for t in range(nf):
                v = x[e, c, f0 + t] - (p0 * q[t, 0] + p1 * q[t, 1] + p2 * q[t, 2])
                seg[c, t] = v
                en += v * v
            if dmask[e, c] and en > best:
                best = en
                r = c
        ref[e] = r
        for c in range(n_c):
            gain[e, c] = 0.0
            se[e, c] = 0.0
            corr[e, c] = 0.0
        if r < 0:
            continue
        dd = 0.0
        for t in range(nf):
            dd += seg[r, t] * seg[r, t]
        ddg = dd if dd > 0 else 1.0
        dds = math.sqrt(dd if dd > 0 else 1e-18)
        mu_d = _pairwise_sum(x[e, r], r0, nr) / nr
        d2 = 0.0
        for t in range(nr):
            dcen[t] = x[e, r, r0 + t] - mu_d
            d2 += dcen[t] * dcen[t]
        for c in range(n_c):
            if c == r:
                continue
            num = 0.0
            for t in range(nf):
                num += seg[c, t] * seg[r, t]
            gain[e, c] = num / ddg
            s_c = sd[e, c]
            se[e, c] = (s_c if s_c > 0 else 1e-9) / dds
            mu_c = _pairwise_sum(x[e, c], r0, nr) / nr
            nx = 0.0
            x2 = 0.0
            for t in range(nr):
                v = x[e, c, r0 + t] - mu_c
                nx += v * dcen[t]
                x2 += v * v
            den = math.sqrt(x2 * d2)
            corr[e, c] = nx / (den if den > 0 else 1.0)


def crosstalk_fit(
    x: FloatArray,
    dmask: npt.NDArray[np.bool_],
    sd: FloatArray,
    q: FloatArray,
    f: tuple[int, int],
    r: tuple[int, int],
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    """Reference, per-sweep gain, SE and correlation (compiled; :func:`_crosstalk_rows`).

    Blocks of sweeps run on threads (the kernel releases the GIL).

    Examples
    --------
    >>> t = np.arange(400) / 1e4
    >>> m = np.sin(2 * np.pi * 300 * t) * 100.0
    >>> x = np.stack([m, 0.1 * m])[None]
    >>> q = np.linalg.qr(np.stack([np.ones(50), np.linspace(-1, 1, 50),
    ...                            np.linspace(-1, 1, 50) ** 2], 1))[0]
    >>> ref, g, se, c = crosstalk_fit(x, np.array([[True, False]]), np.ones((1, 2)), q,
    ...                               (20, 70), (20, 200))
    >>> int(ref[0]), round(float(g[0, 1]), 3), round(float(c[0, 1]), 3)
    (0, 0.1, 1.0)
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    n_e, n_c = x.shape[:2]
    dm = np.ascontiguousarray(dmask, dtype=np.bool_)
    sdv = np.ascontiguousarray(sd, dtype=np.float64)
    qq = np.ascontiguousarray(q, dtype=np.float64)
    ref = np.empty(n_e, dtype=np.int64)
    gain = np.empty((n_e, n_c))
    se = np.empty((n_e, n_c))
    corr = np.empty((n_e, n_c))
    step = task_rows(n_e, 2048, n_c * (f[1] - f[0] + r[1] - r[0]))

    def run(i: int) -> None:
        b = slice(i, i + step)
        _crosstalk_k(x[b], dm[b], sdv[b], qq, f[0], f[1], r[0], r[1], ref[b], gain[b], se[b],
                     corr[b])  # fmt: skip

    run_tasks(run, range(0, n_e, step), n_samples=step * n_c * (f[1] - f[0] + r[1] - r[0]))
    return ref, gain, se, corr


def _tail_coef_rows(
    y: FloatArray,
    keep: npt.NDArray[np.int64],
    w: int,
    bk: FloatArray,
    ginv: FloatArray,
    sel: npt.NDArray[np.int64],
    pen: FloatArray,
    cls: npt.NDArray[np.int64],
    out_m: npt.NDArray[np.int64],
    out_c: FloatArray,
) -> None:
    """Best tail model of every row of ``y`` (see :func:`hfs_emg.artifact._tail_fit`).

    Per row: the samples ``keep`` (indices), smoothed by a ``w``-sample boxcar (running sum,
    valid part) when ``w > 1``; their projections ``z`` on the (smoothed) basis ``bk`` (n_f, G)
    and their sum; for every model ``p`` (``sel[p]`` = the two exponentials and the constant)
    the explained sum of squares ``r' G_p^+ r`` with ``r = z[sel[p]]``, the Schwarz criterion
    ``n_f log(sse / n_f) + pen[p]`` and, for the smallest, the coefficients ``G_p^+ r``
    (variable projection, Golub & Pereyra 1973; Schwarz 1978). ``out_m`` (N, 2) the two
    exponentials, ``out_c`` (N, 3) their coefficients and the constant.

    ``cls[p]`` numbers the distinct penalties (models of one class share ``pen[p]``). Within a
    class the criterion is a non-decreasing function of ``sse`` (each floating-point step of
    it is, up to the last bit of ``log``), so the model it picks - the first smallest
    criterion - has an ``sse`` within a few units in the last place of its class's smallest:
    the criterion (a logarithm) is evaluated only for the models within :data:`_SSE_NEAR`
    (relative) of that smallest, in model order, and picks the same model as evaluating all.
    Rows with NaN keep every model whose ``sse`` is NaN in the comparison, as before.
    """
    n_r = y.shape[0]
    n_k = keep.size
    n_f, g = bk.shape
    n_p = sel.shape[0]
    n_c = y.shape[1]
    n_q = 0
    for p in range(n_p):
        n_q = max(n_q, cls[p] + 1)
    yk = np.empty(n_k)
    cy = np.empty(n_k + 1)
    ys = np.empty(n_f)
    z = np.empty(g + 1)
    sse_p = np.empty(n_p)
    cmin = np.empty(n_q)
    cy1 = cy[1:]
    cy_hi = cy[w : w + n_f]  # boxcar: differences of the running sum w apart (views from 0)
    cy_lo = cy[:n_f]
    for i in range(n_r):
        if i + _AHEAD < n_r:
            prefetch_span(y[i + _AHEAD], 0, n_c)
        yi = y[i]
        for j in range(n_k):
            yk[j] = yi[keep[j]]
        if w > 1:
            cy[0] = 0.0
            run = 0.0
            for j in range(n_k):
                run += yk[j]
                cy1[j] = run
            for j in range(n_f):
                ys[j] = (cy_hi[j] - cy_lo[j]) / w
        else:
            for j in range(n_f):
                ys[j] = yk[j]
        # the sum of squares, the sum and the projections on the basis in one pass over the
        # samples: independent sums in registers (twelve projections at a time, then four,
        # then one), each sample after sample (the order of one-at-a-time sums: the same
        # floats), so the pass is bound by its multiplies and adds, not by one sum's latency
        yy = 0.0
        tot = 0.0
        a = 0
        if g >= 12:
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = s9 = s10 = s11 = 0.0
            for j in range(n_f):
                v = ys[j]
                bj = bk[j]
                yy += v * v
                tot += v
                s0 += v * bj[0]
                s1 += v * bj[1]
                s2 += v * bj[2]
                s3 += v * bj[3]
                s4 += v * bj[4]
                s5 += v * bj[5]
                s6 += v * bj[6]
                s7 += v * bj[7]
                s8 += v * bj[8]
                s9 += v * bj[9]
                s10 += v * bj[10]
                s11 += v * bj[11]
            z[0], z[1], z[2], z[3], z[4], z[5] = s0, s1, s2, s3, s4, s5
            z[6], z[7], z[8], z[9], z[10], z[11] = s6, s7, s8, s9, s10, s11
            a = 12
        else:
            for j in range(n_f):
                v = ys[j]
                yy += v * v
                tot += v
        while a + 4 <= g:
            s0 = s1 = s2 = s3 = 0.0
            for j in range(n_f):
                v = ys[j]
                bj = bk[j]
                s0 += v * bj[a]
                s1 += v * bj[a + 1]
                s2 += v * bj[a + 2]
                s3 += v * bj[a + 3]
            z[a], z[a + 1], z[a + 2], z[a + 3] = s0, s1, s2, s3
            a += 4
        while a < g:
            s0 = 0.0
            for j in range(n_f):
                s0 += ys[j] * bk[j, a]
            z[a] = s0
            a += 1
        z[g] = tot
        for q in range(n_q):
            cmin[q] = np.inf
        for p in range(n_p):
            r0, r1, r2 = z[sel[p, 0]], z[sel[p, 1]], z[sel[p, 2]]
            q0 = ginv[p, 0, 0] * r0 + ginv[p, 0, 1] * r1 + ginv[p, 0, 2] * r2
            q1 = ginv[p, 1, 0] * r0 + ginv[p, 1, 1] * r1 + ginv[p, 1, 2] * r2
            q2 = ginv[p, 2, 0] * r0 + ginv[p, 2, 1] * r1 + ginv[p, 2, 2] * r2
            sse = yy - (r0 * q0 + r1 * q1 + r2 * q2)
            sse_p[p] = sse
            if sse < cmin[cls[p]]:
                cmin[cls[p]] = sse
        best = 0
        best_bic = np.inf
        for p in range(n_p):
            sse = sse_p[p]
            lim = max(cmin[cls[p]], 1e-12)
            if sse > lim + lim * _SSE_NEAR:  # False for NaN: such a model is compared
                continue
            bic = n_f * math.log(max(sse, 1e-12) / n_f) + pen[p]
            if bic < best_bic:
                best_bic = bic
                best = p
        r0, r1, r2 = z[sel[best, 0]], z[sel[best, 1]], z[sel[best, 2]]
        out_m[i, 0] = sel[best, 0]
        out_m[i, 1] = sel[best, 1]
        for k in range(3):
            out_c[i, k] = ginv[best, k, 0] * r0 + ginv[best, k, 1] * r1 + ginv[best, k, 2] * r2


def _tail_value(m: npt.NDArray[np.int64], c: FloatArray, basis: FloatArray, i: int, k: int):
    """Model of row ``i`` at column ``k`` of ``basis`` (G + 1, K): two exponentials + constant."""
    g = basis.shape[0] - 1
    return c[i, 0] * basis[m[i, 0], k] + c[i, 1] * basis[m[i, 1], k] + c[i, 2] * basis[g, k]


def _tail_eval_rows(
    m: npt.NDArray[np.int64], c: FloatArray, basis: FloatArray, out: FloatArray
) -> None:
    """``out[i, k]`` = model of row ``i`` (:func:`_tail_value`) on every column of ``basis``."""
    for i in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] = _tail_value(m, c, basis, i, k)


def _tail_subtract_rows(
    x: FloatArray, m: npt.NDArray[np.int64], c: FloatArray, basis: FloatArray
) -> None:
    """``x[i, k] -= model`` of row ``i`` on the columns of ``basis`` (in place, a view).

    The model of :func:`_tail_value`, term for term, with the row's two exponentials and the
    constant read as rows of ``basis``.
    """
    g = basis.shape[0] - 1
    n_k = x.shape[1]
    for i in range(x.shape[0]):
        if i + _AHEAD < x.shape[0]:
            prefetch_span(x[i + _AHEAD], 0, n_k)
        xi = x[i]
        e0, e1, e2 = basis[m[i, 0]], basis[m[i, 1]], basis[g]
        a0, a1, a2 = c[i, 0], c[i, 1], c[i, 2]
        for k in range(n_k):
            xi[k] -= a0 * e0[k] + a1 * e1[k] + a2 * e2[k]


def tail_coefs(
    y: FloatArray,
    keep: npt.NDArray[np.bool_],
    w: int,
    design: tuple[FloatArray, FloatArray, npt.NDArray[np.int64], FloatArray],
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Best model (exponentials (N, 2), coefficients (N, 3)) of each row (compiled).

    ``design`` = (smoothed basis, pseudo-inverses, model selections, penalties) of
    :func:`hfs_emg.artifact._tail_design`; see :func:`_tail_coef_rows`. Rows in blocks on
    threads.

    Examples
    --------
    >>> from hfs_emg.artifact import TAIL_TAU_GRID_MS, _tail_design
    >>> tt = np.arange(1, 451) / 1e4
    >>> bk, ginv, sel, pen = _tail_design(tt, np.ones(450, bool), 1, 1.0)[:4]
    >>> y = 500.0 * np.exp(-tt / (TAIL_TAU_GRID_MS[5] * 1e-3))[None] + 3.0
    >>> m, c = tail_coefs(y, np.ones(450, bool), 1, (bk, ginv, sel, pen))
    >>> m[0].tolist(), round(float(c[0, 0] + c[0, 1]), 1), round(float(c[0, 2]), 1)
    ([5, 5], 500.0, 3.0)
    """
    bk, ginv, sel, pen = design
    n_r = y.shape[0]
    out_m = np.zeros((n_r, 2), dtype=np.int64)
    out_c = np.zeros((n_r, 3))
    kidx = np.flatnonzero(keep).astype(np.int64)
    pen = np.ascontiguousarray(pen, dtype=np.float64)
    cls = np.unique(pen, return_inverse=True)[1].astype(np.int64).reshape(-1)  # penalty classes
    args = (
        kidx,
        int(w),
        np.ascontiguousarray(bk, dtype=np.float64),
        np.ascontiguousarray(ginv, dtype=np.float64),
        np.ascontiguousarray(sel, dtype=np.int64),
        pen,
        cls,
    )
    step = task_rows(n_r, 1024, y.shape[1] * 8)

    def run(i: int) -> None:
        _tail_coef_k(y[i : i + step], *args, out_m[i : i + step], out_c[i : i + step])

    run_tasks(run, range(0, n_r, step), n_samples=step * y.shape[1] * 8)
    return out_m, out_c


def tail_eval(m: npt.NDArray[np.int64], c: FloatArray, basis: FloatArray) -> FloatArray:
    """Models (N, K) of rows with exponentials ``m`` and coefficients ``c`` on ``basis``.

    Examples
    --------
    >>> basis = np.array([[1.0, 0.5], [1.0, 0.25], [1.0, 1.0]])
    >>> tail_eval(np.array([[0, 1]]), np.array([[2.0, 4.0, 1.0]]), basis).tolist()
    [[7.0, 3.0]]
    """
    out = np.empty((m.shape[0], basis.shape[1]))
    _tail_eval_k(m, c, np.ascontiguousarray(basis, dtype=np.float64), out)
    return out


def tail_subtract(
    x: FloatArray, m: npt.NDArray[np.int64], c: FloatArray, basis: FloatArray
) -> None:
    """Subtract the models on ``basis`` (G + 1, K) from ``x`` (N, K) in place (``x`` a view).

    Examples
    --------
    >>> x = np.zeros((1, 2))
    >>> basis = np.array([[1.0, 0.5], [1.0, 0.25], [1.0, 1.0]])
    >>> tail_subtract(x, np.array([[0, 1]]), np.array([[2.0, 4.0, 1.0]]), basis)
    >>> x.tolist()
    [[-7.0, -3.0]]
    """
    bas = np.ascontiguousarray(basis, dtype=np.float64)
    step = task_rows(x.shape[0], 4096, x.shape[1])

    def run(i: int) -> None:
        _tail_sub_k(x[i : i + step], m[i : i + step], c[i : i + step], bas)

    run_tasks(run, range(0, x.shape[0], step), n_samples=step * x.shape[1])


def _tail_resid_rows(
    y: FloatArray,
    m: npt.NDArray[np.int64],
    c: FloatArray,
    basis: FloatArray,
    cols: npt.NDArray[np.int64],
    out: FloatArray,
) -> None:
    """RMS about its mean of ``y[i, cols] - model`` (``basis`` holds the model's columns)."""
    n = cols.size
    res = np.empty(n)
    tmp = np.empty(n)
    n_c = y.shape[1]
    for i in range(y.shape[0]):
        if i + _AHEAD < y.shape[0]:
            prefetch_span(y[i + _AHEAD], 0, n_c)
        for k in range(n):
            res[k] = y[i, cols[k]] - _tail_value(m, c, basis, i, k)
        mu = _pairwise_sum(res, 0, n) / n
        out[i] = math.sqrt(_pairwise_sum_sq(res, 0, n, mu, tmp) / n)


def tail_resid_rms(
    y: FloatArray,
    m: npt.NDArray[np.int64],
    c: FloatArray,
    basis: FloatArray,
    cols: npt.NDArray[np.bool_],
) -> FloatArray:
    """RMS of the mean-removed residual of each row's model on ``cols`` (compiled).

    Examples
    --------
    >>> basis = np.array([[1.0, 0.5, 0.2], [1.0, 0.5, 0.2], [0.0, 0.0, 0.0]])
    >>> y = np.array([[2.0, 2.0, 0.0]])
    >>> r = tail_resid_rms(y, np.array([[0, 1]]), np.array([[1.0, 1.0, 0.0]]), basis,
    ...                    np.ones(3, bool))
    >>> round(float(r[0]), 3)
    0.589
    """
    idx = np.flatnonzero(cols).astype(np.int64)
    out = np.empty(y.shape[0])
    bas = np.ascontiguousarray(basis[:, idx], dtype=np.float64)
    step = task_rows(y.shape[0], 4096, y.shape[1])

    def run(i: int) -> None:
        b = slice(i, i + step)
        _tail_resid_k(y[b], m[b], c[b], bas, idx, out[b])

    run_tasks(run, range(0, y.shape[0], step), n_samples=step * y.shape[1])
    return out


def _epoch_gather_rows(
    data: FloatArray,
    chans: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    i0: int,
    i1: int,
    seg: FloatArray,
    mins: FloatArray,
    maxs: FloatArray,
) -> None:
    """Cut ``seg[e, j] = data[chans[j], starts[e]:starts[e] + T]`` with its extremes.

    ``mins``/``maxs`` (E, C) are the extremes of each raw epoch (NaN if it holds one, as
    ``np.min``); with ``i1 > i0`` the mean of ``i0:i1`` (NumPy's pairwise sum) is then
    subtracted from the epoch (the baseline correction of :func:`hfs_emg.make_epochs`).
    """
    n_e, n_c, n_t = seg.shape
    nb = i1 - i0
    for e in range(n_e):
        s0 = starts[e]
        for j in range(n_c):
            src = data[chans[j]]
            row = seg[e, j]
            lo = np.inf
            hi = -np.inf
            nan = False
            for t in range(n_t):
                v = src[s0 + t]
                row[t] = v
                if v < lo:
                    lo = v
                if v > hi:
                    hi = v
                if v != v:
                    nan = True
            mins[e, j] = np.nan if nan else lo
            maxs[e, j] = np.nan if nan else hi
            if nb > 0:
                mu = _pairwise_sum(row, i0, nb) / nb
                for t in range(n_t):
                    row[t] -= mu


def epoch_gather(
    data: FloatArray, chans: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], n_t: int,
    base: tuple[int, int] | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:  # fmt: skip
    """Epochs (E, C, n_t) float64 cut from ``data`` rows ``chans`` at ``starts``, one pass.

    Returns the epochs (baseline-corrected over ``base`` = (i0, i1) sample indices of the
    epoch when given) and the per-epoch extremes of the raw samples (E, C). Blocks of epochs
    run on threads.

    Examples
    --------
    >>> d = np.arange(20.0).reshape(2, 10)
    >>> seg, lo, hi = epoch_gather(d, np.array([1]), np.array([2, 5]), 3, (0, 1))
    >>> seg[:, 0].tolist(), lo[:, 0].tolist(), hi[:, 0].tolist()
    ([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], [12.0, 15.0], [14.0, 17.0])
    """
    ch = np.ascontiguousarray(chans, dtype=np.int64)
    st = np.ascontiguousarray(starts, dtype=np.int64)
    n_e = st.size
    seg = np.empty((n_e, ch.size, int(n_t)))
    mins = np.empty((n_e, ch.size))
    maxs = np.empty((n_e, ch.size))
    i0, i1 = (0, 0) if base is None else (int(base[0]), int(base[1]))
    step = task_rows(n_e, 1024, ch.size * int(n_t))

    def run(i: int) -> None:
        b = slice(i, i + step)
        _epoch_gather_k(data, ch, st[b], i0, i1, seg[b], mins[b], maxs[b])

    if n_e:
        run_tasks(run, range(0, n_e, step), n_samples=step * ch.size * int(n_t))
    return seg, mins, maxs


def measure_rows(
    arr: FloatArray,
    sd_in: FloatArray | None,
    k_row: FloatArray,
    coeffs: FloatArray,
    ipar: npt.NDArray[np.int64],
    fpar: FloatArray,
    ridx: npt.NDArray[np.int64] | None = None,
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Run the compiled kernel over the rows of ``arr``; see :func:`_measure_rows`.

    ``ridx`` (optional) measures only those rows of the 2-D ``arr``, in that order (a subset
    of channels of contiguous epochs, without copying them).

    Examples
    --------
    >>> if enabled():
    ...     x = np.random.default_rng(0).normal(0, 1, (2, 300))
    ...     ipar = np.array([0, 100, 150, 250, 5, 5, 5, 0, 0, 0])
    ...     f, i = measure_rows(x, None, np.full(2, 3.0), np.full(11, 1 / 11), ipar,
    ...                         np.array([2.0, 0.02, 0.04, 20.0]))
    ...     print(f.shape, i.shape)
    ... else:
    ...     print((2, 5), (2, 3))
    (2, 5) (2, 3)
    """
    ri = (
        np.arange(arr.shape[0], dtype=np.int64)
        if ridx is None
        else np.ascontiguousarray(ridx, dtype=np.int64)
    )
    n_r = ri.size
    out_f = np.zeros((n_r, 5))
    out_i = np.zeros((n_r, 3), dtype=np.int64)
    sd = np.zeros(n_r) if sd_in is None else _writable(np.ascontiguousarray(sd_in, np.float64))
    _kernel(
        np.ascontiguousarray(arr, dtype=np.float64),
        ri,
        sd,
        _writable(np.ascontiguousarray(k_row, dtype=np.float64)),
        np.ascontiguousarray(coeffs, dtype=np.float64),
        np.ascontiguousarray(ipar, dtype=np.int64),
        np.ascontiguousarray(fpar, dtype=np.float64),
        out_f,
        out_i,
    )
    return out_f, out_i


if AVAILABLE:
    # error_model="numpy": IEEE division (inf or NaN, as NumPy), no Python zero-division checks
    _opts = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
    _term = njit(**_opts)(_term)
    _pairwise_leaf = njit(**_opts)(_pairwise_leaf)
    _pairwise_split = njit(**_opts)(_pairwise_split)
    _pairwise_split2 = njit(**_opts)(_pairwise_split2)
    _pairwise_split3 = njit(**_opts)(_pairwise_split3)
    _pairwise_stack = njit(**_opts)(_pairwise_stack)
    _pairwise_sum = njit(**_opts)(_pairwise_sum)
    _pairwise_sum_sq = njit(**_opts)(_pairwise_sum_sq)
    _sd = njit(**_opts)(_sd)
    _sd_mu = njit(**_opts)(_sd_mu)
    _sd1 = njit(**_opts)(_sd1)
    _row_std_k = njit(**_opts)(_row_std)
    _kernel = njit(**_opts)(_measure_rows)
    _median_sorted = njit(**_opts)(_median_sorted)
    _insert_sorted = njit(**_opts)(_insert_sorted)
    _remove_sorted = njit(**_opts)(_remove_sorted)
    _mad_sorted = njit(**_opts)(_mad_sorted)
    _trailing_pool_k = njit(**_opts)(_trailing_pool)
    _crosstalk_k = njit(**_opts)(_crosstalk_rows)
    _tail_coef_k = njit(**_opts)(_tail_coef_rows)
    _tail_value = njit(**_opts)(_tail_value)
    _tail_eval_k = njit(**_opts)(_tail_eval_rows)
    _tail_sub_k = njit(**_opts)(_tail_subtract_rows)
    _tail_resid_k = njit(**_opts)(_tail_resid_rows)
    _epoch_gather_k = njit(**_opts)(_epoch_gather_rows)
else:  # pragma: no cover - without numba
    _kernel = _measure_rows
    _row_std_k = _row_std
    _trailing_pool_k = _trailing_pool
    _crosstalk_k = _crosstalk_rows
    _tail_coef_k = _tail_coef_rows
    _tail_eval_k = _tail_eval_rows
    _tail_sub_k = _tail_subtract_rows
    _tail_resid_k = _tail_resid_rows
    _epoch_gather_k = _epoch_gather_rows
