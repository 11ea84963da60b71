"""A software prefetch hint for the compiled kernels (``llvm.prefetch``), a no-op without numba.

The per-row kernels of :mod:`hfs_emg._fastresp` read a few hundred samples of each row of a
large array (80,000 epochs x channels of 1,001 samples: 640 MB). Every row starts in a new
4 kB page, where the hardware prefetchers have to start over, so a row's first cache lines
arrive at memory latency; a kernel that asks for the next rows' lines while it measures the
current one (:func:`prefetch_span`) does not wait for them. A hint only: it changes no value.

References
----------
.. [1] LLVM Language Reference Manual, "'llvm.prefetch' Intrinsic".
"""

from __future__ import annotations

from typing import Any

__all__ = ["prefetch", "prefetch_span"]

try:  # optional accelerator
    from llvmlite import ir
    from numba import njit, types
    from numba.core import cgutils
    from numba.extending import intrinsic
except ImportError:  # pragma: no cover - without numba
    intrinsic = None


def _prefetch_py(a: Any, i: int) -> None:
    """Without numba: nothing (the pure-Python kernels read what they read)."""


if intrinsic is not None:

    @intrinsic
    def prefetch(typingctx: Any, a: Any, i: Any) -> Any:
        """Hint that element ``a[i]`` (1-D array, ``0 <= i``) will be read soon (into L1)."""
        sig = types.void(a, i)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = cgutils.get_item_pointer(
                context, builder, aryty, ary, [args[1]], wraparound=False
            )
            i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p.type, i32, i32, i32])
            # the intrinsic's name mangles the pointer type: "p0i8" for typed pointers, "p0"
            # once llvmlite's IR uses opaque pointers ("ptr")
            mangled = "p0" if str(i8p.type) == "ptr" else "p0i8"
            fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.prefetch.{mangled}")
            # read (0), high temporal locality (3), data cache (1)
            builder.call(fn, [i8p, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
            return context.get_dummy_value()

        return sig, codegen

    @njit(cache=True, nogil=True)
    def prefetch_span(a: Any, lo: int, hi: int) -> None:
        """Hint the cache lines of ``a[lo:hi]`` (1-D, ``0 <= lo``), one hint each 64 bytes."""
        step = max(1, 64 // a.itemsize)
        for j in range(lo, hi, step):
            prefetch(a, j)
        if hi > lo:
            prefetch(a, hi - 1)

else:  # pragma: no cover - without numba
    prefetch = _prefetch_py

    def prefetch_span(a: Any, lo: int, hi: int) -> None:
        """Without numba: nothing."""
