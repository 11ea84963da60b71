"""Test helper: a computation run with the compiled response kernel and with the NumPy path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hfs_emg import _fastresp


def kernel_and_numpy(monkeypatch: Any, fn: Callable[[], Any]) -> tuple[Any, Any]:
    """``fn()`` with the compiled kernel, then with the NumPy path (kernel calls counted).

    Fails when the first run did not use ``_fastresp.measure_rows`` or the second did.
    """
    calls: list[int] = []
    real = _fastresp.measure_rows
    monkeypatch.setattr(
        _fastresp, "measure_rows", lambda *a: (calls.append(1), real(*a))[1], raising=True
    )
    fast = fn()
    assert calls, "the compiled kernel was not used"
    monkeypatch.setattr(_fastresp, "AVAILABLE", False)
    n = len(calls)
    ref = fn()
    assert len(calls) == n, "the NumPy reference called the kernel"
    monkeypatch.setattr(_fastresp, "AVAILABLE", True)
    return fast, ref
