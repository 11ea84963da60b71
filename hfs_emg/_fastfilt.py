"""Optional compiled (numba) kernels for the zero-phase filters of :mod:`hfs_emg.signal`.

The IIR recursions are latency-bound: SciPy's ``sosfilt`` steps one sample at a time through
every section and returns to Python per block. Compiled, the whole forward-backward pass of a
channel (edge padding, steady-state initial conditions, forward pass, backward pass) runs in one
call that releases the GIL, so the per-channel thread pool of :mod:`hfs_emg._chunking` uses
both cores.

The kernels reproduce the SciPy paths operation for operation:

- :func:`sosfiltfilt_row` is :func:`scipy.signal.sosfiltfilt` of one row (odd extension of
  ``padlen`` samples at both ends, ``sosfilt_zi``-scaled initial conditions, the direct form II
  transposed update of ``scipy.signal.sosfilt``), written into ``out`` (which may be ``x``).
- :func:`sosfiltfilt_parts` is the same of a row given as three parts ``(head, x, tail)``,
  filtered in place (the notches' edge continuations without a padded copy of the row);
  :func:`sosfiltfilt_parts_rows` does it for :data:`ROWS` channels at once with a one-section
  filter (a hum-line notch), the recursions interleaved sample by sample: a one-section
  recursion is latency-bound, so four rows cost about what one does; each row's samples are
  bitwise those of the one-row kernel.
- :func:`comb_row` is the zero-phase comb notch of :func:`hfs_emg.signal._comb_row`
  (periodic continuation at both ends, ``lfilter``'s update).
- :func:`hysteresis_runs` is the envelope and double threshold of
  :func:`hfs_emg.detection._hysteresis_runs` in one pass over the row: the centred moving RMS
  of :func:`hfs_emg.signal.running_window_blocks` (the same float64 block sums, in the same
  order, rounded to the row's dtype), compared with both thresholds sample by sample; only
  the runs above the low threshold and whether each reaches the high one are stored.

float32 rows are filtered in single precision as SciPy does. numba is optional: without it
(``AVAILABLE`` is False) the SciPy paths run unchanged. Compiled code is cached on disk
(``cache=True``), so only the first call after installation pays the compile time.

References
----------
.. [1] F. Gustafsson, "Determining the initial states in forward-backward filtering", IEEE
   Trans. Signal Process. 44(4), 988-992 (1996).
.. [2] S. K. Lam, A. Pitrou, S. Seibert, "Numba: a LLVM-based Python JIT compiler", Proc.
   LLVM-HPC (2015).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

try:  # optional accelerator
    from numba import njit
except ImportError:  # pragma: no cover - exercised by the fallback test
    njit = None

__all__ = [
    "AVAILABLE",
    "comb_row",
    "enabled",
    "hysteresis_runs",
    "sosfiltfilt_parts",
    "sosfiltfilt_parts_rows",
    "sosfiltfilt_row",
]

#: True when numba could be imported (the compiled kernels exist).
AVAILABLE: bool = njit is not None

FloatArray = npt.NDArray[np.floating]


def enabled() -> bool:
    """Whether the compiled kernels are used (numba importable and ``AVAILABLE`` not cleared).

    Examples
    --------
    >>> isinstance(enabled(), bool)
    True
    """
    return AVAILABLE


def _step4(sos: FloatArray, z: FloatArray, s0: int, x: FloatArray, out: FloatArray) -> None:
    """Sections ``s0:s0+4`` of ``sosfilt`` over ``x`` into ``out``, the state in registers."""
    b00, b01, b02, a01, a02 = sos[s0, 0], sos[s0, 1], sos[s0, 2], sos[s0, 4], sos[s0, 5]
    b10, b11, b12, a11, a12 = (
        sos[s0 + 1, 0],
        sos[s0 + 1, 1],
        sos[s0 + 1, 2],
        sos[s0 + 1, 4],
        sos[s0 + 1, 5],
    )
    b20, b21, b22, a21, a22 = (
        sos[s0 + 2, 0],
        sos[s0 + 2, 1],
        sos[s0 + 2, 2],
        sos[s0 + 2, 4],
        sos[s0 + 2, 5],
    )
    b30, b31, b32, a31, a32 = (
        sos[s0 + 3, 0],
        sos[s0 + 3, 1],
        sos[s0 + 3, 2],
        sos[s0 + 3, 4],
        sos[s0 + 3, 5],
    )
    p0, q0, p1, q1 = z[s0, 0], z[s0, 1], z[s0 + 1, 0], z[s0 + 1, 1]
    p2, q2, p3, q3 = z[s0 + 2, 0], z[s0 + 2, 1], z[s0 + 3, 0], z[s0 + 3, 1]
    for i in range(x.shape[0]):
        c = x[i]
        n = b00 * c + p0
        p0 = b01 * c - a01 * n + q0
        q0 = b02 * c - a02 * n
        c = n
        n = b10 * c + p1
        p1 = b11 * c - a11 * n + q1
        q1 = b12 * c - a12 * n
        c = n
        n = b20 * c + p2
        p2 = b21 * c - a21 * n + q2
        q2 = b22 * c - a22 * n
        c = n
        n = b30 * c + p3
        p3 = b31 * c - a31 * n + q3
        q3 = b32 * c - a32 * n
        out[i] = n
    z[s0, 0], z[s0, 1], z[s0 + 1, 0], z[s0 + 1, 1] = p0, q0, p1, q1
    z[s0 + 2, 0], z[s0 + 2, 1], z[s0 + 3, 0], z[s0 + 3, 1] = p2, q2, p3, q3


def _step2(sos: FloatArray, z: FloatArray, s0: int, x: FloatArray, out: FloatArray) -> None:
    """Sections ``s0:s0+2`` (see :func:`_step4`)."""
    b00, b01, b02, a01, a02 = sos[s0, 0], sos[s0, 1], sos[s0, 2], sos[s0, 4], sos[s0, 5]
    b10, b11, b12, a11, a12 = (
        sos[s0 + 1, 0],
        sos[s0 + 1, 1],
        sos[s0 + 1, 2],
        sos[s0 + 1, 4],
        sos[s0 + 1, 5],
    )
    p0, q0, p1, q1 = z[s0, 0], z[s0, 1], z[s0 + 1, 0], z[s0 + 1, 1]
    for i in range(x.shape[0]):
        c = x[i]
        n = b00 * c + p0
        p0 = b01 * c - a01 * n + q0
        q0 = b02 * c - a02 * n
        c = n
        n = b10 * c + p1
        p1 = b11 * c - a11 * n + q1
        q1 = b12 * c - a12 * n
        out[i] = n
    z[s0, 0], z[s0, 1], z[s0 + 1, 0], z[s0 + 1, 1] = p0, q0, p1, q1


def _step1(sos: FloatArray, z: FloatArray, s0: int, x: FloatArray, out: FloatArray) -> None:
    """Section ``s0`` (see :func:`_step4`)."""
    b0, b1, b2, a1, a2 = sos[s0, 0], sos[s0, 1], sos[s0, 2], sos[s0, 4], sos[s0, 5]
    p, q = z[s0, 0], z[s0, 1]
    for i in range(x.shape[0]):
        c = x[i]
        n = b0 * c + p
        p = b1 * c - a1 * n + q
        q = b2 * c - a2 * n
        out[i] = n
    z[s0, 0], z[s0, 1] = p, q


def _group(sos: FloatArray, z: FloatArray, s0: int, x: FloatArray, out: FloatArray) -> int:
    """Run the next 4, 2 or 1 sections from ``s0``; return how many."""
    left = sos.shape[0] - s0
    if left >= 4:
        _step4(sos, z, s0, x, out)
        return 4
    if left >= 2:
        _step2(sos, z, s0, x, out)
        return 2
    _step1(sos, z, s0, x, out)
    return 1


def _sosfilt_step(sos: FloatArray, z: FloatArray, x: FloatArray, out: FloatArray) -> None:
    """``sosfilt`` of ``x`` into ``out`` (same length, may alias), state ``z`` updated in place.

    Groups of up to four sections run over the whole segment with their state in registers
    (a 4-section band-pass is one pass); every section does SciPy's operations in SciPy's
    order, so the result does not depend on the grouping. Runs backwards over reversed views.
    """
    s = _group(sos, z, 0, x, out)
    while s < sos.shape[0]:
        s += _group(sos, z, s, out, out)


def _sosfiltfilt_row(
    sos: FloatArray, zi: FloatArray, x: FloatArray, padlen: int, out: FloatArray
) -> None:
    n = x.shape[0]
    dt = x.dtype
    # Odd extensions (read before ``out``, which may be ``x``, is written).
    x0 = x[0]
    xn = x[n - 1]
    front = np.empty(padlen, dtype=dt)
    back = np.empty(padlen, dtype=dt)
    for j in range(padlen):
        front[j] = (x0 + x0) - x[padlen - j]
        back[j] = (xn + xn) - x[n - 2 - j]
    z = np.empty_like(zi)
    e0 = front[0]
    for s in range(zi.shape[0]):
        z[s, 0] = zi[s, 0] * e0
        z[s, 1] = zi[s, 1] * e0
    _sosfilt_step(sos, z, front, front)
    _sosfilt_step(sos, z, x, out)
    _sosfilt_step(sos, z, back, back)
    # Backward: starts at the end of the forward output of the padded signal.
    e1 = back[padlen - 1]
    for s in range(zi.shape[0]):
        z[s, 0] = zi[s, 0] * e1
        z[s, 1] = zi[s, 1] * e1
    _sosfilt_step(sos, z, back[::-1], back[::-1])
    _sosfilt_step(sos, z, out[::-1], out[::-1])


def _sosfiltfilt_parts(
    sos: FloatArray, zi: FloatArray, head: FloatArray, x: FloatArray, tail: FloatArray, padlen: int
) -> None:
    # sosfiltfilt of the concatenation (head, x, tail), in place in the three parts: the same
    # operations in the same order as _sosfiltfilt_row over one array holding them (the state
    # is carried from part to part in the row's dtype), without that array.
    nt = tail.shape[0]
    dt = x.dtype
    x0 = head[0]
    xn = tail[nt - 1]
    front = np.empty(padlen, dtype=dt)
    back = np.empty(padlen, dtype=dt)
    for j in range(padlen):
        front[j] = (x0 + x0) - head[padlen - j]
        back[j] = (xn + xn) - tail[nt - 2 - j]
    z = np.empty_like(zi)
    e0 = front[0]
    for s in range(zi.shape[0]):
        z[s, 0] = zi[s, 0] * e0
        z[s, 1] = zi[s, 1] * e0
    _sosfilt_step(sos, z, front, front)
    _sosfilt_step(sos, z, head, head)
    _sosfilt_step(sos, z, x, x)
    _sosfilt_step(sos, z, tail, tail)
    _sosfilt_step(sos, z, back, back)
    e1 = back[padlen - 1]
    for s in range(zi.shape[0]):
        z[s, 0] = zi[s, 0] * e1
        z[s, 1] = zi[s, 1] * e1
    _sosfilt_step(sos, z, back[::-1], back[::-1])
    _sosfilt_step(sos, z, tail[::-1], tail[::-1])
    _sosfilt_step(sos, z, x[::-1], x[::-1])
    _sosfilt_step(sos, z, head[::-1], head[::-1])


#: Rows filtered together by :func:`sosfiltfilt_parts_rows`.
ROWS = 4


def _section_rows(
    sos: FloatArray,
    z: FloatArray,
    a: FloatArray,
    r0: int,
    r1: int,
    r2: int,
    r3: int,
    lo: int,
    hi: int,
    forward: bool,
) -> None:
    # One-section sosfilt of a[r0..r3, lo:hi] in place (forward or backward in time), the four
    # recursions interleaved sample by sample: each is _step1's, the four chains overlap in
    # the pipeline (a one-section recursion is latency-bound), so four rows cost about one.
    b0, b1, b2, a1, a2 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    p0, q0, p1, q1 = z[0, 0], z[0, 1], z[1, 0], z[1, 1]
    p2, q2, p3, q3 = z[2, 0], z[2, 1], z[3, 0], z[3, 1]
    x0 = a[r0]
    x1 = a[r1]
    x2 = a[r2]
    x3 = a[r3]
    for k in range(hi - lo):
        i = lo + k if forward else hi - 1 - k
        v = x0[i]
        n = b0 * v + p0
        p0 = b1 * v - a1 * n + q0
        q0 = b2 * v - a2 * n
        x0[i] = n
        v = x1[i]
        n = b0 * v + p1
        p1 = b1 * v - a1 * n + q1
        q1 = b2 * v - a2 * n
        x1[i] = n
        v = x2[i]
        n = b0 * v + p2
        p2 = b1 * v - a1 * n + q2
        q2 = b2 * v - a2 * n
        x2[i] = n
        v = x3[i]
        n = b0 * v + p3
        p3 = b1 * v - a1 * n + q3
        q3 = b2 * v - a2 * n
        x3[i] = n
    z[0, 0], z[0, 1], z[1, 0], z[1, 1] = p0, q0, p1, q1
    z[2, 0], z[2, 1], z[3, 0], z[3, 1] = p2, q2, p3, q3


def _sosfiltfilt_parts_rows(
    sos: FloatArray,
    zi: FloatArray,
    head: FloatArray,
    a: FloatArray,
    rows: npt.NDArray[np.int64],
    tail: FloatArray,
    padlen: int,
) -> None:
    # _sosfiltfilt_parts of ROWS channels at once for a one-section ``sos``:
    # (head[k], a[rows[k]], tail[k]) in place, every row bitwise as the one-row kernel.
    t = tail.shape[1]
    h = head.shape[1]
    n = a.shape[1]
    dt = a.dtype
    front = np.empty((ROWS, padlen), dtype=dt)
    back = np.empty((ROWS, padlen), dtype=dt)
    z = np.empty((ROWS, 2), dtype=dt)
    for k in range(ROWS):
        x0 = head[k, 0]
        xn = tail[k, t - 1]
        for j in range(padlen):
            front[k, j] = (x0 + x0) - head[k, padlen - j]
            back[k, j] = (xn + xn) - tail[k, t - 2 - j]
        e0 = front[k, 0]
        z[k, 0] = zi[0, 0] * e0
        z[k, 1] = zi[0, 1] * e0
    r0, r1, r2, r3 = rows[0], rows[1], rows[2], rows[3]
    _section_rows(sos, z, front, 0, 1, 2, 3, 0, padlen, True)
    _section_rows(sos, z, head, 0, 1, 2, 3, 0, h, True)
    _section_rows(sos, z, a, r0, r1, r2, r3, 0, n, True)
    _section_rows(sos, z, tail, 0, 1, 2, 3, 0, t, True)
    _section_rows(sos, z, back, 0, 1, 2, 3, 0, padlen, True)
    for k in range(ROWS):
        e1 = back[k, padlen - 1]
        z[k, 0] = zi[0, 0] * e1
        z[k, 1] = zi[0, 1] * e1
    _section_rows(sos, z, back, 0, 1, 2, 3, 0, padlen, False)
    _section_rows(sos, z, tail, 0, 1, 2, 3, 0, t, False)
    _section_rows(sos, z, a, r0, r1, r2, r3, 0, n, False)
    _section_rows(sos, z, head, 0, 1, 2, 3, 0, h, False)


def _comb_row(coef: FloatArray, x: FloatArray, period: int, n_tail: int, out: FloatArray) -> None:
    # coef = (b0, b1, a1, zi) of the first-order filter in z^-period, in the dtype of x.
    b0 = coef[0]
    b1 = coef[1]
    a1 = coef[2]
    zi = coef[3]
    n = x.shape[0]
    dt = x.dtype
    n_full = n // period
    rest = n - n_full * period
    # Tail, copied before ``out`` (which may be ``x``) is written: the partial last period
    # completed by the last full period, then n_tail periods.
    tail_len = (n_tail + 1) * period
    tail = np.empty(tail_len, dtype=dt)
    end = n_full * period
    for j in range(rest):
        tail[j] = x[end + j]
    for j in range(rest, tail_len):
        tail[j] = x[n - period + (j - rest) % period]
    z = np.empty(period, dtype=dt)
    # Steady state before the start, then the first period (the periodic continuation).
    for c in range(period):
        v = x[c]
        z[c] = zi * v
        y = b0 * v + z[c]
        z[c] = b1 * v - a1 * y
    for p in range(n_full):
        base = p * period
        for c in range(period):
            v = x[base + c]
            y = b0 * v + z[c]
            z[c] = b1 * v - a1 * y
            out[base + c] = y
    # Forward over the tail.
    for p in range(n_tail + 1):
        base = p * period
        for c in range(period):
            v = tail[base + c]
            y = b0 * v + z[c]
            z[c] = b1 * v - a1 * y
            tail[base + c] = y
    # Backward over periods (each column is its own time series).
    last = n_tail * period
    for c in range(period):
        z[c] = zi * tail[last + c]
    for p in range(n_tail, -1, -1):
        base = p * period
        for c in range(period):
            v = tail[base + c]
            y = b0 * v + z[c]
            z[c] = b1 * v - a1 * y
            tail[base + c] = y
    for j in range(rest):
        out[end + j] = tail[j]
    for p in range(n_full - 1, -1, -1):
        base = p * period
        for c in range(period):
            v = out[base + c]
            y = b0 * v + z[c]
            z[c] = b1 * v - a1 * y
            out[base + c] = y


def _env_above(
    total: float,
    i: int,
    n: int,
    half: int,
    width: int,
    lo_thr: float,
    hi_thr: float,
    f32: bool,
) -> tuple[bool, bool]:
    """Exact envelope of window sum ``total`` at sample ``i`` against both thresholds."""
    total /= width
    if i < half or i >= n - half:  # edge windows hold fewer samples
        count = min(i + half, n - 1) - max(i - half, 0) + 1
        total *= width / count
    total = max(total, 0.0)
    env = np.sqrt(total)
    if f32:
        env = np.float64(np.float32(env))
    return env > lo_thr, env > hi_thr


def _hysteresis_runs(
    row: FloatArray, half: int, lo_thr: float, hi_thr: float, block: int, f32: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    n = row.shape[0]
    cap = 1024
    starts = np.empty(cap, dtype=np.int64)
    stops = np.empty(cap, dtype=np.int64)
    hits = np.zeros(cap, dtype=np.bool_)
    n_run = 0
    if n == 0:
        return starts[:0], stops[:0], hits[:0]
    half = min(half, n - 1)
    width = 2 * half + 1
    buf = np.empty(min(block + 2 * half + 1, n))
    lo_below = lo_thr * lo_thr * width * (1.0 - 1e-6)
    lo_above = lo_thr * lo_thr * width * (1.0 + 1e-6)
    hi_below = hi_thr * hi_thr * width * (1.0 - 1e-6)
    hi_above = hi_thr * hi_thr * width * (1.0 + 1e-6)
    on = False
    hit = False
    base = 0.0  # float64 sum of the squares of row[:s0], as running_window_blocks keeps it
    s0 = 0
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        s1 = min(b1 + half, n)
        acc = 0.0
        for j in range(s1 - s0):  # np.cumsum of the squares, then + base
            v = np.float64(row[s0 + j])
            acc += v * v
            buf[j] = acc + base  # (the cumulative sum, then + base: one pass)
        # room for every run that can start in this block, grown here and not in the loop
        # over samples (re-binding the arrays there made every sample inside a run pay
        # reference counting: ~35 ns instead of ~2)
        if n_run + (b1 - b0) // 2 + 2 > cap:
            cap = max(2 * cap, n_run + (b1 - b0) // 2 + 2)
            starts = np.concatenate((starts, np.empty(cap - starts.shape[0], np.int64)))
            stops = np.concatenate((stops, np.empty(cap - stops.shape[0], np.int64)))
            hits = np.concatenate((hits, np.zeros(cap - hits.shape[0], np.bool_)))
        # samples whose window lies inside the row and after its first sample
        i0 = min(max(b0, half + 1), b1)
        i1 = max(min(b1, n - half), i0)
        i = b0
        while i < b1:
            if i0 <= i < i1:
                # fast scans over samples whose state cannot change: clearly below the low
                # threshold outside a run, clearly above it (noting the high one) inside one
                if not on:
                    while i < i1 and buf[i + half - s0] - buf[i - half - 1 - s0] < lo_below:
                        i += 1
                else:
                    while i < i1:
                        total = buf[i + half - s0] - buf[i - half - 1 - s0]
                        if total > hi_above:
                            hit = True
                        elif not (total > lo_above and total < hi_below):
                            break
                        i += 1
                if i >= i1:
                    continue
                total = buf[i + half - s0] - buf[i - half - 1 - s0]
                # the window sum far from both thresholds decides without the exact envelope
                # (1e-6 relative bands around the squared thresholds; exact inside them)
                if total < lo_below:
                    above_lo, above_hi = False, False
                elif total > hi_above:
                    above_lo, above_hi = True, True
                elif total > lo_above and total < hi_below:
                    above_lo, above_hi = True, False
                else:
                    above_lo, above_hi = _env_above(total, i, n, half, width, lo_thr, hi_thr, f32)
            else:  # edge windows, and the first ones (no sample before the window)
                total = buf[min(i + half, n - 1) - s0]
                if i >= half + 1:
                    total -= buf[i - half - 1 - s0]
                above_lo, above_hi = _env_above(total, i, n, half, width, lo_thr, hi_thr, f32)
            if above_lo:
                if not on:
                    on = True
                    hit = False
                    starts[n_run] = i
                if above_hi:
                    hit = True
            elif on:
                on = False
                stops[n_run] = i
                hits[n_run] = hit
                n_run += 1
            i += 1
        nxt = max(b1 - half - 1, 0)
        if nxt > s0:
            base = buf[nxt - 1 - s0]
            s0 = nxt
    if on:
        stops[n_run] = n
        hits[n_run] = hit
        n_run += 1
    return starts[:n_run], stops[:n_run], hits[:n_run]


if AVAILABLE:
    _opts = {"cache": True, "nogil": True, "fastmath": False}
    _step4 = njit(**_opts)(_step4)
    _step2 = njit(**_opts)(_step2)
    _step1 = njit(**_opts)(_step1)
    _group = njit(**_opts)(_group)
    _sosfilt_step = njit(**_opts)(_sosfilt_step)
    sosfiltfilt_row = njit(**_opts)(_sosfiltfilt_row)
    sosfiltfilt_parts = njit(**_opts)(_sosfiltfilt_parts)
    _section_rows = njit(**_opts)(_section_rows)
    sosfiltfilt_parts_rows = njit(**_opts)(_sosfiltfilt_parts_rows)
    comb_row = njit(**_opts)(_comb_row)
    _env_above = njit(**_opts)(_env_above)
    hysteresis_runs = njit(**_opts)(_hysteresis_runs)
else:  # pragma: no cover - without numba
    sosfiltfilt_row = None
    sosfiltfilt_parts = None
    sosfiltfilt_parts_rows = None
    comb_row = None
    hysteresis_runs = None
