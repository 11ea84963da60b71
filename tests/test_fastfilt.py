"""The compiled (numba) filter kernels equal SciPy and the SciPy fallback of hfs_emg."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from scipy import signal as sps

import hfs_emg
from hfs_emg import _fastfilt
from hfs_emg import preprocessing as pp
from hfs_emg import signal as sig
from hfs_emg._errors import DataError

needs_numba = pytest.mark.skipif(not _fastfilt.AVAILABLE, reason="numba not installed")


def _padlen(sos: np.ndarray) -> int:
    return 3 * (2 * len(sos) + 1)


BANDS = [
    (2000.0, 20.0, 450.0, 4),
    (10_000.0, 30.0, 3000.0, 4),
    (1000.0, 5.0, 100.0, 2),
]


@needs_numba
@pytest.mark.parametrize(("fs", "lo", "hi", "order"), BANDS)
@pytest.mark.parametrize("shape", [(3001,), (3, 2500)])
def test_float64_equals_scipy_sosfiltfilt(fs, lo, hi, order, shape) -> None:
    rng = np.random.default_rng(int(fs))
    x = rng.normal(size=shape) + 3.0  # an offset makes the edge handling matter
    sos = sig.sos_bandpass(fs, lo, hi, order=order).copy()  # scipy needs a writeable SOS
    ref = sps.sosfiltfilt(sos, x, axis=-1)
    got = sig.sosfiltfilt(sos, x)
    assert np.abs(got - ref).max() <= 1e-6 * np.abs(ref).max()


@needs_numba
@pytest.mark.parametrize(("fs", "lo", "hi", "order"), BANDS)
def test_float32_equals_the_scipy_float32_path(monkeypatch, fs, lo, hi, order) -> None:
    x = np.random.default_rng(1).normal(size=(2, 4000)).astype(np.float32)
    sos = sig.sos_bandpass(fs, lo, hi, order=order).copy()  # scipy needs a writeable SOS
    fast = sig.sosfiltfilt(sos, x)
    monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    slow = sig.sosfiltfilt(sos, x)
    assert fast.dtype == slow.dtype == np.float32
    # Same operations in the same order: equal up to a few float32 roundings.
    assert np.abs(fast - slow).max() <= 1e-5 * np.abs(slow).max()
    # And close to SciPy in float64.
    ref = sps.sosfiltfilt(sos, x.astype(np.float64))
    assert np.abs(fast - ref).max() <= 1e-4 * np.abs(ref).max()


@needs_numba
def test_notch_iir_sections_equal_scipy() -> None:
    x = np.random.default_rng(2).normal(size=5000)
    sos = np.concatenate([sig.sos_bandpass(5000.0, 20.0, 1000.0), sig.notch_sos(5000.0, 60.0)])
    ref = sps.sosfiltfilt(sos, x)
    assert np.abs(sig.sosfiltfilt(sos, x) - ref).max() <= 1e-6 * np.abs(ref).max()


@needs_numba
@pytest.mark.parametrize("extra", [1, 2, 7])
def test_short_signals_near_padlen(extra: int) -> None:
    sos = sig.sos_bandpass(2000.0, 20.0, 450.0).copy()  # scipy needs a writeable SOS
    x = np.random.default_rng(extra).normal(size=_padlen(sos) + extra)
    ref = sps.sosfiltfilt(sos, x)
    assert np.abs(sig.sosfiltfilt(sos, x) - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("accelerated", [True, False])
def test_too_short_is_the_same_error(monkeypatch, accelerated: bool) -> None:
    monkeypatch.setattr(_fastfilt, "AVAILABLE", accelerated and _fastfilt.AVAILABLE)
    sos = sig.sos_bandpass(2000.0, 20.0, 450.0).copy()  # scipy needs a writeable SOS
    x = np.ones(_padlen(sos))
    with pytest.raises(ValueError):  # scipy refuses as well
        sps.sosfiltfilt(sos, x)
    with pytest.raises(DataError, match="needs more than 27"):
        sig.sosfiltfilt(sos, x)
    with pytest.raises(DataError, match="needs more than 27"):
        sig.sosfiltfilt_kernel(sos, x.dtype)(x, np.empty_like(x))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [4000, 4123])  # whole and partial last mains period
def test_comb_notch_equals_fallback_in_place(monkeypatch, dtype, n: int) -> None:
    x = np.random.default_rng(n).normal(size=n).astype(dtype) + 2.0
    kern = sig.notch_kernel(1000.0, 50.0, dtype)
    fast = x.copy()
    kern(fast, fast)  # in place, as filter_emg runs it
    monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    slow = np.empty_like(x)
    sig.notch_kernel(1000.0, 50.0, dtype)(x, slow)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert np.abs(fast - slow).max() <= tol * np.abs(slow).max()


@pytest.mark.parametrize(("sfreq", "notch"), [(4000.0, 50.0), (2500.0, 60.0), (3000.0, None)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_filter_emg_equal_with_and_without_accelerator(monkeypatch, sfreq, notch, dtype) -> None:
    rng = np.random.default_rng(3)
    t = np.arange(12_000) / sfreq
    data = rng.normal(size=(2, t.size)) + 8.0 * np.sin(2 * np.pi * 50.0 * t)
    rec = hfs_emg.from_array(data, sfreq, ["oculi_L", "oris_L"], dtype=dtype)
    calls: list[str] = []
    if _fastfilt.AVAILABLE:  # count the compiled calls, so the comparison is not vacuous
        for name in ("sosfiltfilt_row", "comb_row"):
            real = getattr(_fastfilt, name)
            monkeypatch.setattr(
                _fastfilt, name, lambda *a, _f=real, _n=name: (calls.append(_n), _f(*a))[1]
            )
    fast = pp.filter_emg(rec, 20.0, 900.0, notch=notch, n_jobs=2)
    if _fastfilt.AVAILABLE:
        assert calls.count("sosfiltfilt_row") >= 2
        assert ("comb_row" in calls) == (notch is not None and (sfreq / notch).is_integer())
    monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    slow = pp.filter_emg(rec, 20.0, 900.0, notch=notch, n_jobs=1)
    assert fast.data.dtype == slow.data.dtype == np.dtype(dtype)
    tol = 1e-10 if dtype == np.float64 else 1e-5
    assert np.abs(fast.data - slow.data).max() <= tol * np.abs(slow.data).max()
    assert [h["step"] for h in fast.history] == [h["step"] for h in slow.history]


def test_without_numba_the_module_falls_back(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    spec = importlib.util.spec_from_file_location("_fastfilt_no_numba", _fastfilt.__file__)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.AVAILABLE is False and mod.enabled() is False
    assert mod.sosfiltfilt_row is None and mod.comb_row is None


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("n", "window_s", "low", "high"),
    [
        (400_001, 0.015, 3.0, 6.0),  # several 65,536-sample blocks, realistic thresholds
        (200_000, 0.004, 1.0, 1.05),  # thresholds at the noise level: runs everywhere
        (1000, 0.05, 2.0, 4.0),  # window wider than a tenth of the row: edge windows
        (7, 0.002, 0.5, 0.6),
    ],
)
def test_compiled_hysteresis_equals_the_blocked_numpy_envelope(
    monkeypatch, dtype, n, window_s, low, high
) -> None:
    """The one-pass compiled envelope + double threshold finds exactly the runs (and their hits)
    of the blocked NumPy envelope (hfs_emg.signal.running_window_blocks) it replaces."""
    from hfs_emg.detection import _hysteresis_runs

    rng = np.random.default_rng(n)
    x = rng.normal(size=n) * np.where(np.sin(np.arange(n) * 20.0 / n) > 0.7, 8.0, 1.0)
    x = x.astype(dtype)
    fast = _hysteresis_runs(x, 10_000.0, 1.0, window_s=window_s, high=high, low=low)
    monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    slow = _hysteresis_runs(x, 10_000.0, 1.0, window_s=window_s, high=high, low=low)
    assert len(slow[0]) > 0 or n < 100
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)


def _padded_reference(filt: pp.EmgFilter, x: np.ndarray) -> np.ndarray:
    """The hum-line notches over one padded copy of the row (the algorithm before the parts)."""
    fs, dt, n = filt.sfreq, x.dtype, x.size
    band = sig.sosfiltfilt_kernel(sig.sos_bandpass(fs, filt.l_freq, filt.h_freq), dt)
    period = round(fs / filt.mains)
    pad = int(np.ceil(0.6 * fs / period)) * period
    ext = np.empty(n + 2 * pad, dtype=dt)
    band(x, ext[pad : pad + n])
    ext[:pad] = ext[2 * pad : 3 * pad]
    ext[pad + n :] = ext[n - pad : n]
    for f in filt.lines:
        q = filt.q * f / filt.mains
        sig.sosfiltfilt_kernel(sig.notch_sos(fs, f, harmonics=False, q=q), dt)(ext, ext)
    return ext[pad : pad + n]


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("fs", "extra"), [(10_000.0, 1), (10_000.0, 30_001), (2000.0, 5)])
def test_hum_notches_in_place_equal_the_padded_copy(monkeypatch, dtype, fs, extra) -> None:
    period = round(fs / 50.0)
    n = 2 * int(np.ceil(0.6 * fs / period)) * period + extra  # just above the padded length
    t = np.arange(n) / fs
    rng = np.random.default_rng(int(fs) + extra)
    x = rng.normal(size=n) + 6 * np.sin(2 * np.pi * 50 * t) + 2 * np.sin(2 * np.pi * 150 * t)
    x = (x + 4.0).astype(dtype)
    filt = pp.EmgFilter(fs, 20.0, min(1000.0, 0.45 * fs), notch="lines", mains=50.0,
                        lines=(50.0, 150.0))  # fmt: skip
    calls: list[int] = []
    real = _fastfilt.sosfiltfilt_parts
    monkeypatch.setattr(_fastfilt, "sosfiltfilt_parts", lambda *a: (calls.append(1), real(*a))[1])
    got = filt.apply(x)
    inplace = x.copy()
    assert filt.apply(inplace, out=inplace) is inplace
    assert len(calls) == 4  # two lines, two calls: the compiled parts ran
    ref = _padded_reference(filt, x)
    assert got.dtype == ref.dtype == np.dtype(dtype)
    assert np.array_equal(got, ref)  # bitwise: the same operations in the same order
    assert np.array_equal(inplace, ref)


@needs_numba
def test_parts_kernel_equals_the_row_kernel_over_the_concatenation() -> None:
    rng = np.random.default_rng(5)
    sos = sig.notch_sos(1000.0, 50.0, harmonics=False).astype(np.float64)
    whole = rng.normal(size=3000) + 2.0
    ref = whole.copy()
    sig.sosfiltfilt_kernel(sos, np.float64)(ref, ref)
    head, x, tail = whole[:400].copy(), whole[400:2600].copy(), whole[2600:].copy()
    pp._parts_filter(sos, np.dtype(np.float64))(head, x, tail)
    assert np.array_equal(np.concatenate([head, x, tail]), ref)
    with pytest.raises(hfs_emg.ParameterError):  # continuations shorter than the extension
        pp._parts_filter(sos, np.dtype(np.float64))(head[:5], x, tail)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n_ch", "n"), [(8, 40_000), (5, 13_000), (3, 12_001), (6, 11_999)])
def test_apply_rows_in_place_equals_apply_per_row(monkeypatch, dtype, n_ch, n) -> None:
    fs = 10_000.0
    t = np.arange(n) / fs
    rng = np.random.default_rng(n_ch)
    x = rng.normal(size=(n_ch, n)) + 6 * np.sin(2 * np.pi * 50 * t) + 2.0
    x = x.astype(dtype)
    filt = pp.EmgFilter(fs, 20.0, 1000.0, notch="lines", mains=50.0, lines=(50.0, 150.0))
    want = np.stack([filt.apply(row) for row in x])
    calls: list[int] = []
    real = _fastfilt.sosfiltfilt_parts_rows
    monkeypatch.setattr(
        _fastfilt, "sosfiltfilt_parts_rows", lambda *a: (calls.append(1), real(*a))[1]
    )
    got = x.copy()
    filt.apply_rows(got)
    assert np.array_equal(got, want)  # bitwise: each row's operations are the one-row kernel's
    # four rows per call, two notches; rows too short for the continuations go one by one
    assert len(calls) == (2 * (n_ch // 4) if n > 12_000 else 0)
    picked = np.vstack([x, x[:1]])
    filt.apply_rows(picked, [n_ch, 0, 2])  # a subset, in any order; the others untouched
    assert np.array_equal(picked[[n_ch, 0, 2]], want[[0, 0, 2]])
    assert np.array_equal(picked[1], x[1])
    with pytest.raises(hfs_emg.ParameterError, match="2-D float"):
        filt.apply_rows(np.zeros((2, 100), dtype=np.int16))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_hysteresis_with_thousands_of_runs_across_blocks(monkeypatch, dtype) -> None:
    """More runs than the kernel's first capacity (1024), runs across its blocks of
    hfs_emg.signal._BLOCK samples and one open at the end: the runs of the NumPy envelope."""
    from hfs_emg.detection import _hysteresis_runs

    n = 3 * sig._BLOCK + 123
    rng = np.random.default_rng(9)
    x = rng.normal(size=n)
    x[sig._BLOCK - 500 : sig._BLOCK + 500] *= 6.0  # a run across the first block boundary
    x[-300:] *= 6.0  # a run still open at the end
    x = x.astype(dtype)
    fast = _hysteresis_runs(x, 10_000.0, 1.0, window_s=0.001, high=1.6, low=1.02)
    monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    slow = _hysteresis_runs(x, 10_000.0, 1.0, window_s=0.001, high=1.6, low=1.02)
    assert len(slow[0]) > 3000 and slow[1][-1] == n and slow[2].any() and not slow[2].all()
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)
