"""Optional compiled (numba) decoding of EDF/BDF data records: digital samples to physical.

:meth:`hfs_emg.io.edf.EdfReader._read_raw` converts every picked channel of a block of data
records with NumPy in four passes (decode the 16- or 24-bit little-endian integers, subtract
the digital minimum, multiply by the gain, add the physical minimum); compiled, the four are
one pass over the record bytes per channel, GIL-free, so channels are converted on every core.
The float64 operations are NumPy's, in NumPy's order (no fused multiply-add), so the samples
are bitwise those of the NumPy path (``tests/test_io_window.py`` and the EDF round trips hold
either way). Used when :func:`hfs_emg._fastfilt.enabled` is true.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .. import _fastfilt

__all__ = ["decode_scale"]


def _decode_scale(
    view: npt.NDArray[np.uint8],
    off: int,
    spr: int,
    bps: int,
    lo: int,
    hi: int,
    dmin: float,
    gain: float,
    pmin: float,
    dst: npt.NDArray[np.floating],
) -> None:
    # sample k of the block is sample k % spr of record k // spr: record by record
    k = lo
    while k < hi:
        r = k // spr
        j1 = min(spr, hi - r * spr)
        base = k - lo - (k - r * spr)
        for j in range(k - r * spr, j1):
            p = off + bps * j
            if bps == 3:
                v = np.int32(view[r, p]) | (np.int32(view[r, p + 1]) << 8)
                v = v | (np.int32(view[r, p + 2]) << 16)
                if v >= 8388608:  # sign of the 24-bit value
                    v -= 16777216
            else:
                v = np.int32(view[r, p]) | (np.int32(view[r, p + 1]) << 8)
                if v >= 32768:
                    v -= 65536
            w = np.float64(v) - dmin
            w *= gain
            w += pmin
            dst[base + j] = w
        k = (r + 1) * spr


if _fastfilt.AVAILABLE:
    from numba import njit

    decode_scale = njit(cache=True, nogil=True, fastmath=False)(_decode_scale)
else:  # pragma: no cover - without numba
    decode_scale = None
