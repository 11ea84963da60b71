"""The compiled response kernel (hfs_emg._fastresp) against the NumPy reference path.

The data are simulated operating-room sessions under the hard conditions of
:func:`hfs_emg.simulate.or_condition` (coloured background, artefact tails, crosstalk, all
combined); the expected values come from the NumPy implementation
(``responses._measure_block_numpy``), never from the kernel itself.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from kernel_paths import kernel_and_numpy

from hfs_emg import _fastresp, responses
from hfs_emg.epochs import make_epochs
from hfs_emg.lsr import measure_lsr
from hfs_emg.responses import measure_response_array
from hfs_emg.simulate import or_condition, simulate_or_session
from hfs_emg.simulate.evoked import LSR_P2P_UV

needs_numba = pytest.mark.skipif(not _fastresp.AVAILABLE, reason="numba not installed")

RTOL = 1e-9
MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis")


def _session(condition: str, sfreq: float, seed: int, *, n: int = 60):
    kw = or_condition(condition)
    kw["lsr_p2p_uv"] = {m: 0.5 * LSR_P2P_UV[m] for m in MUSCLES}  # near threshold: hard
    kw["disappearance_index"] = n // 2
    return simulate_or_session(n_stimuli=n, rate_hz=2.0, sfreq=sfreq, seed=seed, **kw)


def _assert_same(fast: dict, ref: dict) -> None:
    assert fast.keys() == ref.keys()
    for k in ref:
        a, b = np.asarray(fast[k]), np.asarray(ref[k])
        assert a.shape == b.shape, k
        if b.dtype == bool:
            np.testing.assert_array_equal(a, b, err_msg=k)  # decisions identical
        else:
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=k)
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, equal_nan=True, err_msg=k)


@needs_numba
@pytest.mark.parametrize(
    ("condition", "sfreq", "seed"),
    [
        ("combined", 10000.0, 11),
        ("tail_5ms", 5000.0, 12),
        ("coloured_10uv", 20000.0, 13),
        ("crosstalk_5pct", 10000.0, 14),
    ],
)
@pytest.mark.parametrize(
    "opts",
    [
        {},
        {"detect_highpass_ms": 3.0},
        {"detect_highpass_ms": 3.0, "k_noise": "rows", "noise_uv": "rows"},
        {"detect_highpass_ms": 3.0, "stat_only": True},
        {"min_duration_ms": 40.0},  # held level longer than the window: no detection
    ],
)
def test_kernel_equals_numpy_under_or_conditions(monkeypatch, condition, sfreq, seed, opts):
    rec = _session(condition, sfreq, seed).recording
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = make_epochs(rec, rec.events, tmin=-0.05, tmax=0.05, baseline=(-0.05, -0.001))
    kw = dict(opts)
    rng = np.random.default_rng(seed)
    shape = ep.data.shape[:2]
    if kw.get("k_noise") == "rows":
        kw["k_noise"] = rng.uniform(2.0, 6.0, shape)
    if kw.get("noise_uv") == "rows":
        kw["noise_uv"] = rng.uniform(1.0, 20.0, shape)
    fast, ref = kernel_and_numpy(
        monkeypatch,
        lambda: measure_response_array(ep.data, ep.times, ep.sfreq, window_ms=(5.0, 40.0), **kw),
    )
    _assert_same(fast, ref)
    if "present" in ref and "detect_highpass_ms" in kw:  # not vacuous: both decisions occur
        assert 0 < ref["present"].sum() < ref["present"].size
    elif "present" in ref and kw.get("min_duration_ms", 0) < 35:
        assert ref["present"].any()


@needs_numba
def test_kernel_equals_numpy_on_channel_subsets_float32_and_tiny_windows(monkeypatch):
    rec = _session("combined", 5000.0, 21, n=30).recording
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = make_epochs(rec, rec.events, tmin=-0.02, tmax=0.03, baseline=(-0.02, -0.001))
    x32 = ep.data.astype(np.float32)
    for kw in (
        {"channels": [2, 0]},
        {"channels": np.array([True, False, True, True])},
        {"window_ms": (6.0, 7.0), "smooth_ms": 3.0},  # padded envelope at the window edges
        {"window_ms": (0.0, 30.0), "p2p_smooth_ms": 4.0, "detect_highpass_ms": 8.0},
        {"baseline_ms": (-20.0, -18.0), "detect_highpass_ms": 3.0},  # baseline < boxcar
    ):
        for data in (ep.data, x32):
            fast, ref = kernel_and_numpy(
                monkeypatch, lambda d=data, k=kw: measure_response_array(d, ep.times, ep.sfreq, **k)
            )
            _assert_same(fast, ref)


@needs_numba
def test_measure_lsr_same_frame_with_and_without_kernel(monkeypatch):
    rec = _session("combined", 10000.0, 31, n=40).recording

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return measure_lsr(rec, stim_branch="zygomatic")

    fast, ref = kernel_and_numpy(monkeypatch, run)
    assert list(fast.columns) == list(ref.columns)
    for col in ref.columns:
        a, b = fast[col], ref[col]
        if pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, equal_nan=True, err_msg=col)
        else:
            pd.testing.assert_series_equal(a, b, check_names=False)
    assert 0 < ref["present"].sum() < len(ref)


def test_numpy_path_runs_without_numba(monkeypatch):
    monkeypatch.setattr(_fastresp, "AVAILABLE", False)
    called = []
    monkeypatch.setattr(_fastresp, "measure_rows", lambda *a: called.append(1))
    fs = 10000.0
    t = np.arange(-100, 300) / fs
    x = np.random.default_rng(0).normal(0, 2, (3, t.size))
    x[0, 200:230] += 100 * np.sin(np.pi * np.arange(30) / 15)
    out = measure_response_array(x, t, fs, window_ms=(5, 25))
    assert not called
    assert out["present"].tolist() == [True, False, False]
    assert abs(out["latency_ms"][0] - 10.0) < 0.2
    assert responses._measure_block is not responses._measure_block_numpy


@needs_numba
def test_pairwise_sum_is_numpys_order():
    x = np.random.default_rng(3).normal(0, 1, 5010) * 1e3 + 7.0
    for n in (1, 7, 8, 9, 127, 128, 129, 255, 256, 257, 1001, 4999):
        assert _fastresp._pairwise_sum(x, 0, n) == np.add.reduce(x[:n])
        assert _fastresp._pairwise_sum(x, 3, n) == np.add.reduce(x[3 : 3 + n])


@needs_numba
@pytest.mark.parametrize("shape", [(3, 4, 1001), (40, 8, 300), (5, 200)])
def test_row_std_equals_numpy_bit_for_bit(shape):
    x = np.random.default_rng(4).normal(0, 3, shape) + np.linspace(0, 50, shape[-1])
    for lo, hi in ((0, shape[-1]), (3, 130), (10, 11)):
        ref = x[..., lo:hi].std(axis=-1)
        got = _fastresp.row_std(x, lo, hi)
        assert got.shape == ref.shape
        np.testing.assert_array_equal(got, ref)
    x32 = x.astype(np.float32)  # float32: NumPy's own single-precision path
    np.testing.assert_array_equal(_fastresp.row_std(x32, 0, 50), x32[..., :50].std(axis=-1))


@needs_numba
def test_kernel_equals_numpy_with_nan_samples(monkeypatch):
    rec = _session("combined", 10000.0, 41, n=20).recording
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = make_epochs(rec, rec.events, tmin=-0.05, tmax=0.05, baseline=(-0.05, -0.001))
    x = ep.data.copy()
    x[0, 0, 600] = np.nan  # in the response window
    x[1, 1, 100] = np.nan  # in the baseline
    x[2, 2, 590:700] = np.nan  # a gap
    for kw in ({}, {"detect_highpass_ms": 3.0}):
        fast, ref = kernel_and_numpy(
            monkeypatch, lambda k=kw: measure_response_array(x, ep.times, ep.sfreq, **k)
        )
        _assert_same(fast, ref)
        assert np.isnan(ref["p2p_uv"][0, 0]) and not ref["present"][2, 2]


# ---------------------------------------------------------------- the LSR-stream kernels
# each against the NumPy implementation it replaces (kept as the fallback without numba)


@needs_numba
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trailing_median_pool_equals_nanmedian_bit_for_bit(seed):
    from hfs_emg.crosstalk import _pool_numpy

    rng = np.random.default_rng(seed)
    for trial in range(60):
        pool_n = int(rng.integers(1, 35))
        n_prev = int(rng.integers(0, pool_n))
        n = int(rng.integers(1, 70))
        g = rng.normal(0.02, 0.01, (n_prev + n, 3))
        s = rng.uniform(0.0, 0.01, (n_prev + n, 3))
        g[rng.random(g.shape) < 0.1] = np.nan
        s[rng.random(s.shape) < 0.05] = np.nan
        if trial % 4 == 0:  # ties, and a channel without any gain
            g, s = np.round(g, 2), np.round(s, 3)
            g[:, 0] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # all-NaN windows (nanmedian warns)
            ref = _pool_numpy(g, s, n_prev, pool_n)
        got = _fastresp.trailing_median_pool(g, s, n_prev, pool_n)
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_array_equal(a, b)


@needs_numba
def test_crosstalk_fit_equals_numpy():
    from hfs_emg.crosstalk import _fit_numpy

    rng = np.random.default_rng(5)
    t = np.arange(-100, 300) / 10000.0
    m = np.where(t > 0.003, np.sin(2 * np.pi * 200 * (t - 0.003)), 0.0) * 1000.0
    x = rng.normal(0, 5, (50, 4, t.size)) + 0.03 * m
    x[:, 1] += m  # the direct channel of most sweeps
    direct = np.zeros((50, 4), bool)
    direct[:, 1] = True
    direct[:5] = False  # no direct channel: no reference
    direct[5:10, 2] = True  # two direct channels: the one of largest energy
    noise = rng.uniform(1, 3, (50, 4))
    noise[0, 0] = 0.0
    q = np.linalg.qr(
        np.stack([np.ones(51), np.linspace(-1, 1, 51), np.linspace(-1, 1, 51) ** 2], 1)
    )
    q = q[0]
    got = _fastresp.crosstalk_fit(x, direct, noise, q, (120, 171), (120, 301))
    ref = _fit_numpy(x, direct, noise, q, (120, 171), (120, 301))
    np.testing.assert_array_equal(got[0], ref[0])
    assert (got[0][:5] == -1).all() and (got[0][5:] == 1).all()
    for a, b in zip(got[1:], ref[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@needs_numba
@pytest.mark.parametrize("condition", ["tail_5ms", "combined"])
def test_tail_fit_equals_numpy(monkeypatch, condition):
    from hfs_emg.artifact import suppress_artifact

    rec = _session(condition, 10000.0, 13, n=30).recording
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = make_epochs(rec, rec.events, tmin=-0.05, tmax=0.05, baseline=(-0.05, -0.0005))
    rows = ep.data.reshape(-1, ep.data.shape[-1])
    direct = np.zeros((rows.shape[0], 1), bool)
    direct[::4] = True
    t0 = int(np.argmin(np.abs(ep.times)))

    def run():
        return suppress_artifact(
            rows, ep.sfreq, [t0], method="tail", window_s=(-0.0005, 0.001), direct=direct
        )

    fast = run()
    monkeypatch.setattr(_fastresp, "AVAILABLE", False)
    ref = run()
    monkeypatch.setattr(_fastresp, "AVAILABLE", True)
    assert np.abs(ref - rows).max() > 100  # the artefact was there and was removed
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-9 * np.abs(rows).max())
    # and on a continuous recording (several stimuli per row: the gather path)
    emg = rec.data[:4, : int(6 * rec.sfreq)].astype(np.float64)
    stims = np.round((rec.events["onset_s"].to_numpy() - rec.tstart) * rec.sfreq).astype(int)
    stims = stims[stims < emg.shape[1]]

    def cont():
        return suppress_artifact(emg, rec.sfreq, stims, method="tail", window_s=(-0.0005, 0.001))

    fast = cont()
    monkeypatch.setattr(_fastresp, "AVAILABLE", False)
    ref = cont()
    monkeypatch.setattr(_fastresp, "AVAILABLE", True)
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-9 * np.abs(emg).max())


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("baseline", [(None, -0.001), None])
def test_make_epochs_kernel_equals_numpy_bit_for_bit(monkeypatch, dtype, baseline):
    from hfs_emg.recording import from_array

    rec = _session("combined", 10000.0, 17, n=20).recording
    x = rec.data.astype(dtype)
    stims = np.round((rec.events["onset_s"].to_numpy() - rec.tstart) * rec.sfreq).astype(int)
    x[1, stims[3] + 200 : stims[3] + 206] = x[1].max()  # a clipped run in an epoch
    r = from_array(x, rec.sfreq, rec.ch_names, ch_types=list(rec.channels["type"]), units="uV")
    ev = rec.events
    fast = make_epochs(r, ev, tmin=-0.05, tmax=0.05, baseline=baseline)
    monkeypatch.setattr(_fastresp, "AVAILABLE", False)
    ref = make_epochs(r, ev, tmin=-0.05, tmax=0.05, baseline=baseline)
    monkeypatch.setattr(_fastresp, "AVAILABLE", True)
    np.testing.assert_array_equal(fast.data, ref.data)
    np.testing.assert_array_equal(fast.bad, ref.bad)
    np.testing.assert_array_equal(fast.bad_reason, ref.bad_reason)
    assert fast.baseline == ref.baseline
    assert ref.bad.any() and ref.data.dtype == np.float64  # the clipped run was flagged
