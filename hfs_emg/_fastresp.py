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

References
----------
.. [1] S. K. Lam, A. Pitrou, S. Seibert, "Numba: a LLVM-based Python JIT compiler", Proc.
   LLVM-HPC (2015).
.. [2] A. Savitzky, M. J. E. Golay, "Smoothing and differentiation of data by simplified least
   squares procedures", Anal. Chem. 36(8), 1627-1639 (1964).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._chunking import run_tasks

try:  # optional accelerator
    from numba import njit
except ImportError:  # pragma: no cover - exercised by the fallback test
    njit = None

__all__ = ["AVAILABLE", "enabled", "measure_rows", "row_std"]

#: True when numba could be imported (the compiled kernel exists).
AVAILABLE: bool = njit is not None

FloatArray = npt.NDArray[np.floating]

#: Block size of NumPy's pairwise summation (``PW_BLOCKSIZE`` in its loops).
_PW = 128


def enabled() -> bool:
    """Whether the compiled kernel is used (numba importable and ``AVAILABLE`` not cleared).

    Examples
    --------
    >>> isinstance(enabled(), bool)
    True
    """
    return AVAILABLE


def _pairwise_leaf(a: FloatArray, lo: int, n: int) -> float:
    """NumPy's pairwise sum of ``a[lo:lo+n]`` for ``n <= 128`` (eight partial sums)."""
    if n < 8:
        s = 0.0
        for i in range(n):
            s += a[lo + i]
        return s
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        s += a[lo + i]
        i += 1
    return s


def _pairwise_sum(a: FloatArray, lo: int, n: int) -> float:
    """Sum of ``a[lo:lo+n]`` in the order of NumPy's pairwise ``add.reduce``.

    NumPy splits ``n > 128`` into ``n2 = n // 2 - (n // 2) % 8`` and ``n - n2`` recursively
    and adds the two halves; the recursion is unrolled here on an explicit stack (numba's
    on-disk cache does not hold recursive functions reliably).
    """
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
    for i in range(n):
        d = a[lo + i] - mu
        tmp[i] = d * d
    return math.sqrt(_pairwise_sum(tmp, 0, n) / (n - ddof))


def _sd1(a: FloatArray, lo: int, n: int, tmp: FloatArray) -> float:
    """``np.std(a[lo:lo+n], ddof=1)``; uses ``tmp``."""
    return _sd(a, lo, n, tmp, 1)


def _row_std(x: FloatArray, lo: int, hi: int, out: FloatArray) -> None:
    """``out[i] = np.std(x[i, lo:hi])`` for every row of the 2-D ``x`` (NumPy's order)."""
    tmp = np.empty(max(hi - lo, 1))
    for i in range(x.shape[0]):
        out[i] = _sd(x[i], lo, hi - lo, tmp, 0)


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
    step = 8192

    def run(i: int) -> None:
        _row_std_k(flat[i : i + step], lo, hi, out[i : i + step])

    run_tasks(run, range(0, flat.shape[0], step), n_samples=step * (hi - lo))
    return out.reshape(x.shape[:-1])


def _highpass_into(x: FloatArray, n: int, g: int, c: FloatArray, out: FloatArray) -> None:
    """``out[:n]`` = :func:`hfs_emg.responses._highpass` of ``x[:n]``; ``c`` holds n+1 sums."""
    w = 2 * g + 1
    c[0] = 0.0
    for i in range(n):
        c[i + 1] = c[i] + x[i]
    for i in range(n):
        out[i] = 0.0
    if n >= w:
        for i in range(g, n - g):
            out[i] = x[i] - (c[i + g + 1] - c[i - g]) / w


def _measure_rows(
    arr: FloatArray,
    sd_in: FloatArray,
    k_row: FloatArray,
    coeffs: FloatArray,
    ipar: npt.NDArray[np.int64],
    fpar: FloatArray,
    out_f: FloatArray,
    out_i: npt.NDArray[np.int64],
) -> None:
    """Measure every row of ``arr`` (n_rows, n_times) into ``out_f`` and ``out_i``.

    ``ipar`` = (b0, b1, w0, w1, h, m, q, g, use_sd_in, stat_only); ``fpar`` = (band,
    band_frac, 2 * band_frac, min_p2p_uv). ``out_f[:, :]`` = (det_stat, noise_uv, p2p, area
    (sum of ``|x|`` from onset to offset, not yet scaled), has_sustained); ``out_i[:, :]`` =
    (onset, offset, peak) as window indices. Same arithmetic as
    :func:`hfs_emg.responses._measure_block`.
    """
    b0, b1, w0, w1 = ipar[0], ipar[1], ipar[2], ipar[3]
    h, m, q, g = ipar[4], ipar[5], ipar[6], ipar[7]
    use_sd, stat_only = ipar[8] != 0, ipar[9] != 0
    band, band_frac, band_frac2 = fpar[0], fpar[1], fpar[2]  # fpar[3] (min_p2p_uv): caller
    n_r, n_t = arr.shape
    nb = b1 - b0
    n_w = w1 - w0
    r = max(h, q) + g
    e0 = w0 - r
    ne = n_w + 2 * r
    s0, s1 = max(e0, 0), min(w1 + r, n_t)
    nbig = max(ne, nb) + 1
    base = np.empty(nbig)
    tmp = np.empty(nbig)
    cs = np.empty(nbig + 1)
    xe = np.empty(ne)
    xd = np.empty(ne)
    env = np.empty(max(n_w, 1))
    held = np.empty(max(n_w, 1))
    xs = np.empty(max(n_w, 1))
    nt = len(coeffs)
    for i in range(n_r):
        row = arr[i]
        mu = _pairwise_sum(row, b0, nb) / nb
        if use_sd:
            sd = sd_in[i]
        elif nb > 1:
            sd = _sd1(row, b0, nb, tmp)
        else:
            sd = 0.0
        if not sd > 0:
            sd = 1e-9
        for j in range(ne):
            xe[j] = 0.0
        for j in range(s0, s1):
            xe[j - e0] = row[j] - mu
        if g > 0:
            _highpass_into(xe, ne, g, cs, xd)
            for j in range(nb):
                base[j] = row[b0 + j] - mu
            _highpass_into(base, nb, g, cs, tmp)
            nd = nb - 2 * g
            if nd > 1:
                for j in range(nd):
                    base[j] = tmp[g + j]
                sd_d = _sd1(base, 0, nd, tmp)
            else:
                sd_d = sd
            if not sd_d > 0:
                sd_d = 1e-9
        else:
            for j in range(ne):
                xd[j] = xe[j]
            sd_d = sd
        # moving RMS envelope from the running sum of squares (np.cumsum order)
        cs[0] = 0.0
        for j in range(ne):
            cs[j + 1] = cs[j] + xd[j] * xd[j]
        for j in range(n_w):
            pos = w0 + j
            cnt = min(pos + h + 1, n_t) - max(pos - h, 0)
            env[j] = math.sqrt((cs[r + h + 1 + j] - cs[r - h + j]) / cnt)
        k = k_row[i]
        thr_d = k * sd_d
        has = False
        det = 0
        if m <= n_w:
            # running minimum over m taps, tap by tap as np.minimum does (NaN propagates)
            n_h = n_w - m + 1
            for j in range(n_h):
                held[j] = env[j]
            for t in range(1, m):
                for j in range(n_h):
                    e = env[j + t]
                    if e < held[j] or e != e:
                        held[j] = e
            best = held[0]
            for j in range(n_h):
                v = held[j]
                if v > best or v != v:
                    best = v
                if not has and v > thr_d:
                    has = True
                    det = j
            stat = best / sd_d
        else:
            stat = 0.0
        out_f[i, 0] = stat
        out_f[i, 1] = sd
        if stat_only:
            continue
        # Savitzky-Golay smoothing, taps accumulated in the NumPy loop's order
        for j in range(n_w):
            xs[j] = 0.0
        for t in range(nt):  # tap by tap (each sample's sum in the same order as NumPy's)
            c_t = coeffs[t]
            o_t = r - q + t
            for j in range(n_w):
                xs[j] += c_t * xe[o_t + j]
        lo = np.inf
        hi = -np.inf
        peak = -1
        apeak = -1.0
        for j in range(n_w):  # max, min and argmax(|xs|) as NumPy's: a NaN wins
            acc = xs[j]
            if acc != acc:
                lo = hi = acc
                peak = j
                break
            if acc > hi:
                hi = acc
            if acc < lo:
                lo = acc
            a = abs(acc)
            if a > apeak:
                apeak = a
                peak = j
        p2p = hi - lo
        thr = k * sd
        big_thr = max(thr, band_frac2 * p2p) if p2p == p2p else p2p  # np.maximum: NaN wins
        start = max(det - h, 0)
        t1 = det
        prev_big = False
        for j in range(n_w - 1, -1, -1):  # first j >= start with |x| above at j and j + 1
            b = abs(xe[r + j]) > big_thr and j >= start
            if b and (prev_big or j == n_w - 1):
                t1 = j
            prev_big = b
        # a pure forward scan gives the same first index; the backward one keeps it branch-light
        band_thr = max(band * sd, band_frac * p2p) if p2p == p2p else p2p
        t0 = -1
        if t1 > 0:
            for j in range(t1 - 1, -1, -1):
                if abs(xe[r + j]) <= band_thr:
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
            c += abs(xe[r + j])
        out_f[i, 2] = p2p
        out_f[i, 3] = c - c_on
        out_f[i, 4] = 1.0 if has else 0.0
        out_i[i, 0] = onset
        out_i[i, 1] = offset
        out_i[i, 2] = peak


def measure_rows(
    arr: FloatArray,
    sd_in: FloatArray | None,
    k_row: FloatArray,
    coeffs: FloatArray,
    ipar: npt.NDArray[np.int64],
    fpar: FloatArray,
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Run the compiled kernel over the rows of ``arr``; see :func:`_measure_rows`.

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
    n_r = arr.shape[0]
    out_f = np.zeros((n_r, 5))
    out_i = np.zeros((n_r, 3), dtype=np.int64)
    sd = np.zeros(n_r) if sd_in is None else np.ascontiguousarray(sd_in, dtype=np.float64)
    _kernel(
        np.ascontiguousarray(arr, dtype=np.float64),
        sd,
        np.ascontiguousarray(k_row, dtype=np.float64),
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
    _pairwise_leaf = njit(**_opts)(_pairwise_leaf)
    _pairwise_sum = njit(**_opts)(_pairwise_sum)
    _sd = njit(**_opts)(_sd)
    _sd1 = njit(**_opts)(_sd1)
    _row_std_k = njit(**_opts)(_row_std)
    _highpass_into = njit(**_opts)(_highpass_into)
    _kernel = njit(**_opts)(_measure_rows)
else:  # pragma: no cover - without numba
    _kernel = _measure_rows
    _row_std_k = _row_std
