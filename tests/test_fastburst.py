"""The compiled per-run kernels of burst detection (hfs_emg._fastburst) against the NumPy paths.

Every comparison is bitwise (``np.array_equal`` of the raw bits, ``assert_frame_equal`` with
``check_exact``), and every one first checks that the compiled kernel did run, then that the
NumPy reference did not, so a comparison can never be of one path with itself. A plain
per-run reference (Python over runs, NumPy over a run's samples) checks the semantics.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hfs_emg import _fastburst, _fastfilt, detection
from hfs_emg import signal as sig
from hfs_emg.detection import (
    BurstDetector,
    _burst_features,
    _hysteresis_runs,
    _refine,
    detect_bursts,
)
from hfs_emg.recording import from_array
from hfs_emg.simulate import simulate_spontaneous

needs_numba = pytest.mark.skipif(not _fastburst.AVAILABLE, reason="numba not installed")
pytestmark = needs_numba


def _both(monkeypatch: Any, name: str, fn: Callable[[], Any]) -> tuple[Any, Any]:
    """``fn()`` with the compiled kernel ``name``, then with the NumPy path (calls counted)."""
    calls: list[int] = []
    real = getattr(_fastburst, name)
    monkeypatch.setattr(_fastburst, name, lambda *a: (calls.append(1), real(*a))[1])
    fast = fn()
    assert calls, f"the compiled kernel {name} was not used"
    n = len(calls)
    monkeypatch.setattr(_fastburst, "AVAILABLE", False)
    ref = fn()
    assert len(calls) == n, "the NumPy reference called the kernel"
    monkeypatch.setattr(_fastburst, "AVAILABLE", True)
    return fast, ref


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")))
    return bool(np.array_equal(a, b))


def _signal_and_runs(
    seed: int, n: int, dtype: Any, *, near_edges: bool, nan: bool, one_sample: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise with amplitude-modulated bursts, and sorted disjoint runs over them."""
    rng = np.random.default_rng(seed)
    gain = np.ones(n)
    starts = np.sort(rng.choice(np.arange(10, n - 60), size=n // 150, replace=False))
    s_list, e_list = [], []
    last = 0
    for a in starts:  # a few runs, not samples
        length = 1 if one_sample and rng.random() < 0.3 else int(rng.integers(2, 50))
        pad = int(rng.integers(0, 5))  # run samples around the loud ones: edges move in
        a = max(int(a), last + 1 + pad)
        b = min(a + length, n - 1 - pad)
        if b <= a:
            continue
        gain[a:b] *= rng.uniform(2.0, 30.0)
        s_list.append(a - pad)
        e_list.append(b + pad)
        last = b + pad
    if near_edges:  # runs whose short window is cut by the row's ends
        s_list, e_list = [1, *s_list, n - 3], [3, *e_list, n - 1]
    x = (rng.standard_normal(n) * gain).astype(dtype)
    if nan:
        x[s_list[len(s_list) // 2] + 0] = np.nan
    return x, np.asarray(s_list, np.intp), np.asarray(e_list, np.intp)


def _plain_refine(
    x: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    half: int,
    high_thr: float,
    rel: float,
    floor_thr: float | None,
    back: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The documented edge refinement, one run at a time (a plain reference)."""
    n = x.size
    sq = x.astype(np.float64) ** 2
    out_s, out_e = [], []
    prev = 0
    for a, b in zip(s.tolist(), e.tolist(), strict=True):
        a0 = max(a - back, prev) if floor_thr is not None else a
        fine = np.array(
            [np.sqrt(sq[max(k - half, 0) : min(k + half + 1, n)].mean()) for k in range(a0, b)]
        )
        own = fine[a - a0 :]
        peak = own.max()
        hits = np.flatnonzero(own >= max(high_thr, rel * peak))
        prev = b
        if hits.size == 0:
            out_s.append(a)
            out_e.append(b)
            continue
        first = a - a0 + hits[0]
        if floor_thr is not None:
            below = np.flatnonzero(fine[:first] < max(floor_thr, 0.5 * rel * peak))
            if below.size:
                first = below[-1] + 1
        out_s.append(a0 + first)
        out_e.append(a + hits[-1] + 1)
    return np.asarray(out_s), np.asarray(out_e)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("onset_floor", [None, 2.5])
@pytest.mark.parametrize("near_edges", [False, True])
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("batch", [1 << 16, 64])
def test_refine_equals_numpy_path(monkeypatch, dtype, onset_floor, near_edges, nan, batch) -> None:
    monkeypatch.setattr(detection, "_RUN_BATCH", batch)  # 64: many batches, many restarts
    fs = 1000.0
    x, s, e = _signal_and_runs(7, 6000, dtype, near_edges=near_edges, nan=nan, one_sample=True)
    kw = {"high": 3.0, "fine_window_s": 0.005, "rel": 0.2, "noise": np.array([1.0])}
    if onset_floor is not None:
        kw.update(onset_floor=onset_floor, backtrack_s=0.01)
    c = np.zeros(s.size, np.intp)
    fast, ref = _both(monkeypatch, "refine_runs", lambda: _refine(x[None], fs, s, e, c, **kw))
    assert _bits_equal(fast[0], ref[0]) and _bits_equal(fast[1], ref[1])
    assert fast[0].dtype == np.intp and fast[1].dtype == np.intp
    assert np.any(fast[0] != s) and np.any(fast[1] != e)  # the refinement did something
    if not nan:
        half, back = round(0.005 * fs) // 2, round(0.01 * fs)
        floor = None if onset_floor is None else onset_floor
        want = _plain_refine(x, s, e, half, 3.0, 0.2, floor, back)
        np.testing.assert_array_equal(fast[0], want[0])
        np.testing.assert_array_equal(fast[1], want[1])


def test_refine_of_no_run_is_no_run(monkeypatch) -> None:
    x = np.zeros(100)
    z = np.zeros(0, np.intp)
    s, e = _refine(x[None], 1000.0, z, z, z, high=3.0, fine_window_s=0.004, rel=0.2)
    assert s.size == 0 and e.size == 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nan", [False, True])
def test_burst_amplitudes_equal_numpy_path(monkeypatch, dtype, nan) -> None:
    rng = np.random.default_rng(3)
    lens = np.r_[1, 1, 2, 7, 8, 9, 127, 128, 129, 130, 1000, 8192, 8193, 40000]
    gaps = rng.integers(1, 30, size=lens.size)
    s = np.cumsum(gaps + np.r_[0, lens[:-1]]).astype(np.intp)
    e = s + lens
    x = (rng.standard_normal(int(e[-1]) + 10) * 1e3).astype(dtype)
    x[s[2]] = -0.0  # a signed zero at the start of a burst
    if nan:
        x[s[8] + 3] = np.nan
    fast, ref = _both(
        monkeypatch, "amplitudes", lambda: _burst_features(x, 10000.0, s, e, (100.0, 500.0))
    )
    assert set(fast) == set(ref)
    for key in fast:
        assert _bits_equal(fast[key], ref[key]), key
    vals = [np.abs(x[a:b]).astype(np.float64) for a, b in zip(s, e, strict=True)]
    np.testing.assert_array_equal(fast["peak"], [v.max() for v in vals])
    np.testing.assert_allclose(fast["area"], [v.sum() / 10000.0 for v in vals], rtol=1e-12)
    np.testing.assert_allclose(fast["rms"], [np.sqrt((v**2).mean()) for v in vals], rtol=1e-12)
    assert np.isnan(fast["peak"][8]) == nan


@pytest.mark.parametrize("method", ["hysteresis", "hodges_bui", "tkeo"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_detect_bursts_equal_numpy_path(monkeypatch, method, dtype) -> None:
    sim = simulate_spontaneous(duration_s=20.0, sfreq=10000.0, seed=5)
    rec = sim.recording
    rec = from_array(rec.data.astype(dtype), rec.sfreq, ch_names=rec.ch_names)
    fast, ref = _both(
        monkeypatch,
        "refine_runs" if method == "hysteresis" else "amplitudes",  # the others: no refinement
        lambda: detect_bursts(rec, method=method, rise_times=True),
    )
    assert len(fast) > 0
    pd.testing.assert_frame_equal(fast, ref, check_exact=True)


def test_channel_without_bursts(monkeypatch) -> None:
    row = np.random.default_rng(0).standard_normal(50000)  # noise only: no run passes
    det = BurstDetector.create()
    fast = det.channel(row, 10000.0, index=2, noise=1e6)
    monkeypatch.setattr(_fastburst, "AVAILABLE", False)
    ref = det.channel(row, 10000.0, index=2, noise=1e6)
    for key in ref:
        assert _bits_equal(fast[key], ref[key]), key
    table = det.table([fast], 10000.0, ["a", "b", "c"], 0.0)
    pd.testing.assert_frame_equal(
        table, det.table([ref], 10000.0, ["a", "b", "c"], 0.0), check_exact=True
    )
    assert table.empty and list(table.columns) == list(detection.BURST_COLUMNS)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("level", [1.0, 3.0, 0.7])
def test_refine_ties_at_the_thresholds(monkeypatch, dtype, level) -> None:
    # plateaus: the short RMS equals the peak (rel=1) and the high and floor thresholds
    # (level x noise) on whole stretches, so the window sums lie inside the kernel's band
    # around the squared thresholds and are decided by the exact RMS, as NumPy does
    n = 4000
    x = np.full(n, 0.1, dtype=dtype)
    s = np.array([300, 900, 1500, 2500], np.intp)
    e = np.array([700, 1300, 2200, 3000], np.intp)
    for a, b in zip(s, e, strict=True):
        x[a + 20 : b - 20] = level * np.where(np.arange(b - a - 40) % 2, 1.0, -1.0)
        x[a + 60 : a + 80] = 2.0 * level  # a louder stretch inside, for rel < 1
    c = np.zeros(s.size, np.intp)
    for rel, floor in ((1.0, None), (0.5, level), (0.2, level)):
        kw: dict[str, Any] = {
            "high": level,
            "fine_window_s": 0.005,
            "rel": rel,
            "noise": np.array([1.0]),
        }
        if floor is not None:
            kw.update(onset_floor=floor, backtrack_s=0.03)
        fast, ref = _both(
            monkeypatch, "refine_runs", lambda kw=kw: _refine(x[None], 1000.0, s, e, c, **kw)
        )
        assert _bits_equal(fast[0], ref[0]) and _bits_equal(fast[1], ref[1]), (rel, floor)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("block", [1 << 16, 97])
@pytest.mark.parametrize("poison", [None, np.nan, np.inf])
def test_hysteresis_scans_equal_numpy_path(monkeypatch, dtype, block, poison) -> None:
    # the compiled hysteresis skips through samples clearly below the low threshold (outside
    # a run) or clearly above it (inside one); plateaus exactly at both thresholds, runs
    # across blocks and one open at the end keep every branch in play; after a NaN or an inf
    # every window sum is NaN (as in NumPy's cumulative sum)
    monkeypatch.setattr(sig, "_BLOCK", block)
    n = 5000
    rng = np.random.default_rng(4)
    x = rng.normal(size=n)
    x[500:900] = np.where(np.arange(400) % 2, 3.0, -3.0)  # envelope = the low threshold
    x[1200:1500] = np.where(np.arange(300) % 2, 6.0, -6.0)  # = the high threshold
    x[1500:1700] = np.where(np.arange(200) % 2, 4.0, -4.0)  # between them
    x[2000:2300] *= 12.0
    x[-200:] *= 9.0
    if poison is not None:
        x[2150] = poison
    x = x.astype(dtype)
    fast = _hysteresis_runs(x, 1000.0, 1.0, window_s=0.011, high=6.0, low=3.0)
    monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    slow = _hysteresis_runs(x, 1000.0, 1.0, window_s=0.011, high=6.0, low=3.0)
    if poison is None:
        assert len(slow[0]) >= 3 and slow[2].any() and not slow[2].all() and slow[1][-1] == n
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)


def test_without_numba_the_module_falls_back(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    spec = importlib.util.spec_from_file_location("_fastburst_no_numba", _fastburst.__file__)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.AVAILABLE is False and mod.enabled() is False
    assert mod.refine_runs is None and mod.amplitudes is None
