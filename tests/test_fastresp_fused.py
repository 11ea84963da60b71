"""The fused response kernel and the faster tail kernels against their NumPy references.

The compiled response kernel (:func:`hfs_emg._fastresp.measure_rows`) computes the control
statistic and the measurement of a row in a few fused loops (running sums in registers, the
boxcar high-pass and the sum of squares in one loop, squared deviations summed as they form,
the rows ahead prefetched). Every value must still equal the NumPy reference path
(``responses._measure_block_numpy``) **bit for bit**, on the windows measure_lsr uses (the
control window, the LSR window with its 3 ms high-pass, the direct window with its 49 ms
baseline), with NaN samples (the exact NaN rule of the held minimum) and with baselines
longer than the unrolled pairwise sums (> 912 samples: the stack fallback). The expected
values come from NumPy, never from the kernel.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from kernel_paths import kernel_and_numpy

from hfs_emg import _fastresp, _prefetch
from hfs_emg.epochs import make_epochs
from hfs_emg.responses import measure_response_array
from hfs_emg.simulate import or_condition, simulate_or_session
from hfs_emg.simulate.evoked import LSR_P2P_UV

needs_numba = pytest.mark.skipif(not _fastresp.AVAILABLE, reason="numba not installed")

MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis")


def _epochs(condition: str, seed: int, *, n: int = 40, tmin: float = -0.05):
    kw = or_condition(condition)
    kw["lsr_p2p_uv"] = {m: 0.5 * LSR_P2P_UV[m] for m in MUSCLES}  # near threshold: hard
    kw["disappearance_index"] = n // 2
    rec = simulate_or_session(n_stimuli=n, rate_hz=2.0, sfreq=10000.0, seed=seed, **kw).recording
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_epochs(rec, rec.events, tmin=tmin, tmax=0.05, baseline=(tmin, -0.0005))


def _assert_bitwise(fast: dict, ref: dict) -> None:
    assert fast.keys() == ref.keys()
    for k in ref:
        np.testing.assert_array_equal(np.asarray(fast[k]), np.asarray(ref[k]), err_msg=k)


# the option sets of LsrStream's calls: control windows (shifted times, stat only), the LSR
# window (baseline -20..-1 ms, 3 ms high-pass), the direct window (baseline from the epoch start)
_SHIFT_S = 0.0235
LSR_CALLS = [
    ("control", {"window_ms": (6.0, 20.0), "baseline_ms": (-20.0, -1.0), "stat_only": True,
                 "detect_highpass_ms": 3.0}, _SHIFT_S),
    ("lsr", {"window_ms": (6.0, 20.0), "baseline_ms": (-20.0, -1.0), "k_noise": "rows",
             "detect_highpass_ms": 3.0}, 0.0),
    ("direct", {"window_ms": (2.5, 15.0)}, 0.0),
    ("lsr_noise", {"window_ms": (6.0, 20.0), "baseline_ms": (-20.0, -1.0), "k_noise": "rows",
                   "noise_uv": "rows", "detect_highpass_ms": 3.0}, 0.0),
]  # fmt: skip


@needs_numba
@pytest.mark.parametrize(("name", "opts", "shift"), LSR_CALLS, ids=[c[0] for c in LSR_CALLS])
@pytest.mark.parametrize(("condition", "seed"), [("combined", 51), ("coloured_10uv", 52)])
def test_fused_kernel_equals_numpy_bit_for_bit(monkeypatch, name, opts, shift, condition, seed):
    ep = _epochs(condition, seed)
    kw = dict(opts)
    rng = np.random.default_rng(seed)
    shape = ep.data.shape[:2]
    if kw.get("k_noise") == "rows":
        kw["k_noise"] = rng.uniform(2.5, 6.0, shape)
    if kw.get("noise_uv") == "rows":
        kw["noise_uv"] = rng.uniform(1.0, 20.0, shape)
    t = ep.times + shift
    fast, ref = kernel_and_numpy(
        monkeypatch, lambda: measure_response_array(ep.data, t, ep.sfreq, **kw)
    )
    _assert_bitwise(fast, ref)
    if "present" in ref:  # not vacuous: responses found (and, on the LSR window, missed)
        assert ref["present"].any()
        assert name == "direct" or not ref["present"].all()
    # a subset of channels read in place (row indices into the contiguous epochs)
    fast, ref = kernel_and_numpy(
        monkeypatch,
        lambda: measure_response_array(
            ep.data,
            t,
            ep.sfreq,
            channels=[3, 1],
            **{k: (v[:, [3, 1]] if isinstance(v, np.ndarray) else v) for k, v in kw.items()},
        ),
    )
    _assert_bitwise(fast, ref)


@needs_numba
def test_fused_kernel_nan_and_long_baselines_bit_for_bit(monkeypatch):
    ep = _epochs("combined", 53, n=12, tmin=-0.12)  # baselines of 1,190 samples (> 912)
    x = ep.data.copy()
    i0 = int(np.argmin(np.abs(ep.times)))
    x[0, 0, i0 + 100] = np.nan  # in the window: envelope, held level and p2p
    x[1, 1, 50] = np.nan  # in the baseline
    x[2, 2, i0 + 60 : i0 + 70] = np.nan  # a gap at the window start
    x[3, 3, i0 + 195] = np.nan  # in the high-pass reach after the window
    for kw in (
        {"window_ms": (6.0, 20.0), "detect_highpass_ms": 3.0},
        {"window_ms": (2.5, 15.0)},  # baseline from the epoch start: 1,190 samples
        {"window_ms": (6.0, 20.0), "baseline_ms": (-100.0, -1.0), "detect_highpass_ms": 3.0},
        {"window_ms": (6.0, 20.0), "baseline_ms": (-60.0, -1.0), "stat_only": True},
    ):
        fast, ref = kernel_and_numpy(
            monkeypatch, lambda k=kw: measure_response_array(x, ep.times, ep.sfreq, **k)
        )
        _assert_bitwise(fast, ref)
    assert np.isnan(ref["det_stat"][0, 0])


@needs_numba
def test_fused_kernel_fewer_rows_than_prefetch_distance(monkeypatch):
    ep = _epochs("combined", 54, n=4)
    for n in (1, 2, 3):
        d = np.ascontiguousarray(ep.data[:1, :n])
        fast, ref = kernel_and_numpy(
            monkeypatch,
            lambda d=d: measure_response_array(d, ep.times, ep.sfreq, detect_highpass_ms=3.0),
        )
        _assert_bitwise(fast, ref)


@needs_numba
def test_unrolled_pairwise_sums_are_numpys_order():
    x = np.random.default_rng(7).normal(0, 1, 2100) * 1e3 + 7.0
    tmp = np.empty(2100)
    for n in range(1, 2000):
        for lo in (0, 3):
            seg = x[lo : lo + n]
            assert _fastresp._pairwise_sum(x, lo, n) == np.add.reduce(seg)
            mu = np.add.reduce(seg) / n
            d = seg - mu
            assert _fastresp._pairwise_sum_sq(x, lo, n, mu, tmp) == np.add.reduce(d * d)
            if n > 1:
                assert _fastresp._sd(x, lo, n, tmp, 1) == seg.std(ddof=1)


@needs_numba
def test_tail_subtract_and_residual_on_threads_equal_numpy():
    rng = np.random.default_rng(8)
    n, k, g = 9000, 300, 12
    basis = rng.normal(0, 1, (g + 1, k))
    m = rng.integers(0, g, (n, 2))
    c = rng.normal(0, 10, (n, 3))
    model = (c[:, 0, None] * basis[m[:, 0]] + c[:, 1, None] * basis[m[:, 1]]) + c[
        :, 2, None
    ] * basis[g]
    big = rng.normal(0, 50, (n, k + 40))
    x = big[:, 20 : 20 + k]  # a view, as _tail passes it
    ref = x - model
    _fastresp.tail_subtract(x, m, c, basis)
    np.testing.assert_array_equal(x, ref)
    cols = rng.random(k) < 0.4
    y = rng.normal(0, 50, (n, k))
    res = y[:, cols] - model[:, cols]
    # row by row: NumPy's pairwise sum of each row (a 2-D reduction of short rows may run
    # down the columns instead, another order)
    want = np.array([np.sqrt(((r - r.mean()) ** 2).mean()) for r in res])
    got = _fastresp.tail_resid_rms(y, m, c, basis, cols)
    np.testing.assert_array_equal(got, want)


def test_prefetch_is_a_hint_only():
    a = np.arange(100.0)
    _prefetch.prefetch_span(a, 0, 100)
    _prefetch.prefetch_span(a, 40, 40)  # empty span
    assert np.array_equal(a, np.arange(100.0))


@needs_numba
def test_kernel_source_runs_as_python():
    """The kernel's Python source (what runs if numba is absent) gives the compiled values."""
    x = np.random.default_rng(9).normal(0, 5, (4, 400))
    x[1, 250:270] += 80 * np.sin(np.arange(20))
    ipar = np.array([40, 200, 240, 330, 5, 5, 5, 15, 0, 0], dtype=np.int64)
    fpar = np.array([2.0, 0.02, 0.04, 20.0])
    coeffs = np.full(11, 1 / 11)
    args = (x, np.arange(4, dtype=np.int64), np.zeros(4), np.full(4, 3.0), coeffs, ipar, fpar)
    outs = []
    for k in (_fastresp._kernel, _fastresp._kernel.py_func):
        f, i = np.zeros((4, 5)), np.zeros((4, 3), dtype=np.int64)
        k(*args, f, i)
        outs.append((f, i))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    assert outs[0][0][1, 4] == 1.0  # the burst was detected
