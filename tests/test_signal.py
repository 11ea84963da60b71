"""Kernels of hfs_emg.signal against scipy and against signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from scipy import signal as sps

from hfs_emg import DataError, ParameterError
from hfs_emg import signal as hs

RNG = np.random.default_rng(42)


def _tone(freq: float, fs: float, n: int, amp: float = 1.0, phase: float = 0.0) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(n) / fs + phase)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# ----------------------------------------------------------------------------- design
def test_sos_matches_scipy_butter() -> None:
    assert_allclose(
        hs.sos_bandpass(10_000.0, 20.0, 1000.0),
        sps.butter(4, [20.0, 1000.0], "bandpass", fs=10_000.0, output="sos"),
    )
    assert_allclose(
        hs.sos_highpass(2000.0, 10.0, order=2),
        sps.butter(2, 10.0, "highpass", fs=2000.0, output="sos"),
    )
    assert_allclose(
        hs.sos_lowpass(2000.0, 500.0), sps.butter(4, 500.0, "lowpass", fs=2000.0, output="sos")
    )


@pytest.mark.parametrize(
    ("l_freq", "h_freq", "match"),
    [(20.0, 1000.0, "Nyquist"), (500.0, 100.0, "below"), (0.0, 100.0, "l_freq"), (20, 1e4, "fs/2")],
)
def test_bad_band_names_values_and_nyquist(l_freq: float, h_freq: float, match: str) -> None:
    with pytest.raises(ParameterError, match=match) as err:
        hs.sos_bandpass(2000.0 if h_freq != 1e4 else 5000.0, l_freq, h_freq)
    if match == "Nyquist":
        assert "1000" in str(err.value)


def test_bad_order() -> None:
    with pytest.raises(ParameterError, match="order"):
        hs.sos_lowpass(1000.0, 100.0, order=0)


# ----------------------------------------------------------------------------- filtering
@pytest.mark.parametrize("axis", [-1, 0])
def test_bandpass_equals_scipy_sosfiltfilt(axis: int) -> None:
    x = RNG.normal(size=(3, 4000))
    if axis == 0:
        x = x.T
    sos = sps.butter(4, [20.0, 450.0], "bandpass", fs=2000.0, output="sos")
    assert_allclose(hs.bandpass(x, 2000.0, 20.0, 450.0, axis=axis), sps.sosfiltfilt(sos, x, axis))
    sos = sps.butter(4, 30.0, "highpass", fs=2000.0, output="sos")
    assert_allclose(hs.highpass(x, 2000.0, 30.0, axis=axis), sps.sosfiltfilt(sos, x, axis))
    sos = sps.butter(2, 300.0, "lowpass", fs=2000.0, output="sos")
    assert_allclose(hs.lowpass(x, 2000.0, 300.0, order=2, axis=axis), sps.sosfiltfilt(sos, x, axis))


def test_float32_kept_and_close_to_float64() -> None:
    x = RNG.normal(scale=50.0, size=(2, 50_000))
    y64 = hs.bandpass(x, 10_000.0, 20.0, 1000.0)
    y32 = hs.bandpass(x.astype(np.float32), 10_000.0, 20.0, 1000.0)
    assert y32.dtype == np.float32
    assert np.abs(y32 - y64).max() < 2e-3 * y64.std()
    assert hs.bandpass(x[0].astype(int), 10_000.0, 20.0, 1000.0).dtype == np.float64


def test_bandpass_passes_in_band_tone_and_removes_out_of_band() -> None:
    fs, n = 10_000.0, 50_000
    inside = _tone(200.0, fs, n)
    y = hs.bandpass(inside + _tone(3.0, fs, n, 5.0) + _tone(3000.0, fs, n, 5.0), fs, 20.0, 1000.0)
    core = slice(10_000, -10_000)
    assert_allclose(_rms(y[core]), _rms(inside[core]), rtol=0.01)


def test_short_signal_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="samples"):
        hs.bandpass(np.ones(10), 1000.0, 20.0, 200.0)


# ----------------------------------------------------------------------------- mains
@pytest.mark.parametrize("method", ["iir", "comb"])
@pytest.mark.parametrize(("mains", "tone"), [(50.0, 175.0), (60.0, 150.0)])
def test_notch_removes_hum_and_harmonics_keeps_tone(mains: float, tone: float, method: str) -> None:
    fs, n = 6000.0, 100_003  # not a whole number of mains periods
    hum = sum(_tone(k * mains, fs, n, 1.0 / k, phase=k) for k in range(1, 8))
    keep = _tone(tone, fs, n, 0.5)
    core = slice(20_000, -20_000)
    removed = hs.notch(hum, fs, mains, method=method)
    assert removed.shape == hum.shape
    assert 20 * np.log10(_rms(hum[core]) / _rms(removed[core])) >= 30.0
    kept = hs.notch(keep, fs, mains, method=method)
    assert _rms(kept[core]) >= 0.95 * _rms(keep[core])
    # Float32 data: the same attenuation.
    removed32 = hs.notch(hum.astype(np.float32), fs, mains, method=method)
    assert removed32.dtype == np.float32
    assert 20 * np.log10(_rms(hum[core]) / _rms(removed32[core])) >= 30.0


def test_notch_comb_2d_axis_and_errors() -> None:
    fs, n = 2000.0, 20_000
    x = np.stack([_tone(50.0, fs, n), _tone(100.0, fs, n, 2.0)])
    y = hs.notch(x.T, fs, 50.0, method="comb", axis=0).T
    assert np.abs(y[:, 5000:-5000]).max() < 0.03
    with pytest.raises(ParameterError, match="integer"):
        hs.notch(x, 2000.0, 60.0, method="comb")
    with pytest.raises(ParameterError, match=r"'method'.*'comb'"):
        hs.notch(x, 2000.0, 60.0, method="fir")


def test_notch_without_harmonics_leaves_them() -> None:
    fs, n = 2000.0, 40_000
    y = hs.notch(_tone(100.0, fs, n), fs, 50.0, harmonics=False)
    assert _rms(y[5000:-5000]) > 0.95 * _rms(_tone(100.0, fs, n))


def test_notch_sos_harmonics_below_nyquist_and_max_freq() -> None:
    sos = hs.notch_sos(10_000.0, 50.0)
    assert len(sos) == 99  # 50 ... 4950 Hz
    assert len(hs.notch_sos(10_000.0, 50.0, max_freq=1000.0)) == 20
    assert len(hs.notch_sos(10_000.0, 60.0, harmonics=False)) == 1
    # Every section is a stable notch whose zeros sit on the unit circle at k * 50 Hz.
    zeros = np.angle(np.roots(sos[4, :3])) * 10_000.0 / (2 * np.pi)
    assert_allclose(np.sort(np.abs(zeros)), [250.0, 250.0])


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_detect_mains(mains: float) -> None:
    fs, n = 2000.0, 40_000
    x = RNG.normal(scale=10.0, size=(3, n))
    x[1] += _tone(mains, fs, n, 3.0) + _tone(2 * mains, fs, n, 1.0)
    assert hs.detect_mains(x, fs) == mains
    assert hs.detect_mains(x[[0, 2]], fs) is None


def test_detect_mains_low_fs() -> None:
    with pytest.raises(ParameterError, match="mains"):
        hs.detect_mains(np.zeros(1000), 100.0)


# ----------------------------------------------------------------------------- envelopes
def test_rectify() -> None:
    x = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    out = hs.rectify(x)
    assert out.dtype == np.float32
    assert_allclose(out, [[1, 2], [3, 4]])


def test_moving_rms_of_sine_and_brute_force() -> None:
    fs = 1000.0
    x = _tone(50.0, fs, 3000, 4.0)
    env = hs.moving_rms(x, fs, 0.2)  # 201 samples ~ 10 periods
    assert_allclose(env[500:-500], 4.0 / np.sqrt(2), rtol=0.01)
    # Brute force, edges included (truncated windows).
    y = RNG.normal(size=(2, 300))
    half = 7
    got = hs.moving_rms(y, fs, 0.014)
    for i in (0, 3, 7, 150, 292, 299):
        lo, hi = max(i - half, 0), min(i + half + 1, 300)
        assert_allclose(got[:, i], np.sqrt(np.mean(y[:, lo:hi] ** 2, axis=1)), rtol=1e-10)


def test_moving_rms_float32_accumulates_in_float64() -> None:
    fs = 10_000.0
    x = (RNG.normal(size=2_000_000) * 100.0 + 0.0).astype(np.float32)
    env = hs.moving_rms(x, fs, 0.05)
    assert env.dtype == np.float32
    tail = x[-501:].astype(np.float64)
    assert_allclose(env[-251], np.sqrt(np.mean(tail**2)), rtol=1e-5)


def test_moving_rms_window_longer_than_signal() -> None:
    x = np.array([3.0, -4.0, 0.0])
    assert_allclose(hs.moving_rms(x, 100.0, 10.0), np.sqrt(25.0 / 3.0))


def test_tkeo_of_sinusoid_is_exact() -> None:
    n = np.arange(500)
    for amp, w in [(1.0, 0.1), (3.0, 0.7), (0.5, 2.0)]:
        x = amp * np.sin(w * n + 0.3)
        assert_allclose(hs.tkeo(x), amp**2 * np.sin(w) ** 2, rtol=1e-9, atol=1e-12)
    x2 = RNG.normal(size=(2, 50))
    psi = hs.tkeo(x2.T, axis=0).T
    assert_allclose(psi[:, 1:-1], x2[:, 1:-1] ** 2 - x2[:, :-2] * x2[:, 2:])
    assert_allclose(psi[:, 0], psi[:, 1])


def test_hilbert_envelope_of_sine_and_scipy() -> None:
    x = _tone(40.0, 1000.0, 1000, 2.5)
    assert_allclose(hs.hilbert_envelope(x)[100:-100], 2.5, rtol=1e-3)
    y = RNG.normal(size=(2, 1024))  # fast length: identical to scipy
    assert_allclose(hs.hilbert_envelope(y), np.abs(sps.hilbert(y)), rtol=1e-10)
    assert hs.hilbert_envelope(y.astype(np.float32)).dtype == np.float32


# ----------------------------------------------------------------------------- noise
def test_mad_noise_gaussian() -> None:
    x = RNG.normal(scale=[[2.0], [7.0]], size=(2, 200_000))
    assert_allclose(hs.mad_noise(x), [2.0, 7.0], rtol=0.02)


def test_quiet_noise_with_bursts_most_of_the_time() -> None:
    fs = 2000.0
    sigma = 3.0
    x = RNG.normal(scale=sigma, size=(2, 240_000))
    busy = np.zeros(240_000, bool)
    busy[: int(0.7 * 240_000)] = True  # bursts during 70 % of the time
    x[0, busy] *= 15.0
    est = hs.quiet_noise(x, fs)
    assert_allclose(est, sigma, rtol=0.05)
    assert hs.mad_noise(x[0]) > 2 * sigma  # why the quiet estimate exists


def test_quiet_noise_errors() -> None:
    with pytest.raises(ParameterError, match="quantile"):
        hs.quiet_noise(np.ones(100), 100.0, quantile=2.0)
    with pytest.raises(DataError, match="window"):
        hs.quiet_noise(np.ones(3), 100.0)


# ----------------------------------------------------------------------------- intervals
def _brute_intervals(row: np.ndarray) -> list[tuple[int, int]]:
    out, start = [], None
    for i, v in enumerate(row):
        if v and start is None:
            start = i
        if not v and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(row)))
    return out


@settings(max_examples=200, deadline=None)
@given(arrays(np.bool_, st.integers(0, 60)))
def test_mask_to_intervals_1d_matches_brute_force(mask: np.ndarray) -> None:
    starts, stops = hs.mask_to_intervals(mask)
    assert list(zip(starts.tolist(), stops.tolist(), strict=True)) == _brute_intervals(mask)


@settings(max_examples=100, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 4), st.integers(0, 30))))
def test_mask_to_intervals_2d_matches_brute_force(mask: np.ndarray) -> None:
    starts, stops, ch = hs.mask_to_intervals(mask)
    expected = [(c, a, b) for c in range(mask.shape[0]) for a, b in _brute_intervals(mask[c])]
    assert list(zip(ch.tolist(), starts.tolist(), stops.tolist(), strict=True)) == expected
    s0, e0, c0 = hs.mask_to_intervals(mask.T, axis=0)
    assert_allclose(np.c_[s0, e0, c0], np.c_[starts, stops, ch])


def test_mask_to_intervals_bad_input() -> None:
    with pytest.raises(DataError, match="boolean"):
        hs.mask_to_intervals(np.array([0.5, 1.0]))
    with pytest.raises(DataError, match="1-D or 2-D"):
        hs.mask_to_intervals(np.zeros((2, 2, 2), bool))


@pytest.mark.parametrize("block", [7, 16, 1 << 16])
def test_running_windows_across_blocks_match_brute_force(monkeypatch, block: int) -> None:
    monkeypatch.setattr(hs, "_BLOCK", block)
    rng = np.random.default_rng(block)
    y = rng.normal(size=(2, 103)).astype(np.float32)
    for half in (0, 1, 5, 60, 200):
        window_s = (2 * half + 0.5) / 1000.0  # 2 * half (+0.5 rounds to even) samples
        rms = hs.moving_rms(y, 1000.0, window_s)
        avg = hs.moving_average(y, 1000.0, window_s)
        assert rms.dtype == np.float32
        h = min(half, 102)
        for i in range(103):
            seg = y[:, max(i - h, 0) : min(i + h + 1, 103)].astype(np.float64)
            assert_allclose(rms[:, i], np.sqrt(np.mean(seg**2, axis=1)), rtol=2e-6)
            assert_allclose(avg[:, i], np.mean(seg, axis=1), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("block", [16, 1 << 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_short_rows_at_once_bitwise_equal_each_row_alone(monkeypatch, block: int, dtype) -> None:
    """Rows no longer than a block are windowed many at once (hfs_emg.signal._window_blocks),
    in batches of rows: each row's values are bitwise those of the row alone (the per-row
    block loop), for every window half-width, including the edges and a window wider than
    the row."""
    monkeypatch.setattr(hs, "_BLOCK", block)
    rng = np.random.default_rng(3)
    for n in (1, 2, 13, 16):
        y = (rng.normal(size=(11, n)) * 50).astype(dtype)  # 11 rows: several batches at n=16
        y[3] = 0.0
        for half in (0, 1, 5, 7, 40):
            for square in (True, False):
                both = hs._running_window(y, half, square=square)
                assert both.dtype == dtype
                for r in range(y.shape[0]):
                    alone = hs._running_window(y[r : r + 1], half, square=square)
                    np.testing.assert_array_equal(both[r], alone[0])
                    assert np.array_equal(np.signbit(both[r]), np.signbit(alone[0]))
