"""Recording-level preprocessing: right kernels on the right channels, new objects, history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import signal as sps

from hfs_emg import ChannelError, HfsEmgWarning, ParameterError, from_array
from hfs_emg import preprocessing as pp
from hfs_emg import signal as hs

FS = 4000.0
N = 16_000


@pytest.fixture
def rec():
    rng = np.random.default_rng(3)
    t = np.arange(N) / FS
    emg = rng.normal(scale=[[5.0], [20.0]], size=(2, N)) + 30.0 * np.sin(2 * np.pi * 50 * t)
    trig = np.zeros(N)
    trig[::400] = 5.0
    return from_array(np.vstack([emg, trig]), FS, ["orbicularis_oculi_L", "mentalis_L", "trigger"])


def _stim_untouched(a, b) -> None:
    assert np.array_equal(a.get_data("stim"), b.get_data("stim"))


def test_bandpass_filter_equals_scipy_on_emg_only(rec) -> None:
    out = pp.bandpass_filter(rec, 20.0, 1000.0)
    sos = sps.butter(4, [20.0, 1000.0], "bandpass", fs=FS, output="sos")
    assert_allclose(out.get_data("emg"), sps.sosfiltfilt(sos, rec.get_data("emg")), atol=1e-9)
    _stim_untouched(out, rec)
    assert out is not rec and out.history[-1]["step"] == "bandpass_filter"
    assert out.history[-1]["params"] == {
        "l_freq": 20.0,
        "h_freq": 1000.0,
        "order": 4,
        "picks": ["orbicularis_oculi_L", "mentalis_L"],
    }
    assert rec.history == ()


def test_high_low_pass_and_threads_identical(rec) -> None:
    hp1 = pp.highpass_filter(rec, 30.0, n_jobs=1)
    hp2 = pp.highpass_filter(rec, 30.0, n_jobs=2)
    assert np.array_equal(hp1.data, hp2.data)
    sos = sps.butter(4, 30.0, "highpass", fs=FS, output="sos")
    assert_allclose(hp1.data[:2], sps.sosfiltfilt(sos, rec.data[:2]), atol=1e-9)
    lp = pp.lowpass_filter(rec, 300.0, order=2, picks="mentalis_L")
    sos = sps.butter(2, 300.0, "lowpass", fs=FS, output="sos")
    assert_allclose(lp.data[1], sps.sosfiltfilt(sos, rec.data[1]), atol=1e-9)
    assert np.array_equal(lp.data[[0, 2]], rec.data[[0, 2]])


def test_float32_recording_stays_float32(rec) -> None:
    r32 = from_array(rec.data, FS, rec.ch_names, dtype=np.float32)
    out = pp.envelope(pp.notch_filter(pp.bandpass_filter(r32), 50.0))
    assert out.data.dtype == np.float32


def test_band_above_nyquist_is_a_clear_error(rec) -> None:
    with pytest.raises(ParameterError, match=r"h_freq=3000.*Nyquist.*2000"):
        pp.bandpass_filter(rec, 20.0, 3000.0)


def test_no_emg_channel_is_a_channel_error() -> None:
    r = from_array(np.zeros((1, 1000)), 1000.0, ["trigger"])
    with pytest.raises(ChannelError):
        pp.bandpass_filter(r, 20.0, 400.0)


def test_notch_auto_detects_and_removes_hum(rec) -> None:
    bp = pp.bandpass_filter(rec, 20.0, 1000.0)
    out = pp.notch_filter(bp)
    assert out.history[-1]["params"]["freq"] == 50.0
    assert out.history[-1]["params"]["detected"] is True
    core = slice(4000, -4000)
    sigma = np.array([5.0, 20.0]) * np.sqrt(980 / 2000)  # white noise through 20-1000 Hz
    assert_allclose(out.get_data("emg")[:, core].std(axis=1), sigma, rtol=0.1)
    _stim_untouched(out, rec)


def test_notch_auto_without_hum_warns_and_returns_data() -> None:
    rng = np.random.default_rng(0)
    r = from_array(rng.normal(size=(1, 8000)), 2000.0, ["oris"])
    with pytest.warns(HfsEmgWarning, match="no 50 or 60 Hz"):
        out = pp.notch_filter(r)
    assert np.array_equal(out.data, r.data)
    assert out.history[-1]["params"]["freq"] is None


def test_notch_method_recorded_and_comb_needs_integer_period(rec) -> None:
    assert pp.notch_filter(rec, 50.0).history[-1]["params"]["method"] == "comb"
    assert pp.notch_filter(rec, 60.0).history[-1]["params"]["method"] == "iir"  # 66.7 samples
    with pytest.raises(ParameterError, match="integer number of samples"):
        pp.notch_filter(rec, 60.0, method="comb")


def test_notch_iir_stops_at_lowpass_corner(rec) -> None:
    bp = pp.bandpass_filter(rec, 20.0, 200.0)
    out = pp.notch_filter(bp, 50.0, method="iir")
    expected = hs.notch(bp.data[:2], FS, 50.0, method="iir", max_freq=200.0)
    assert_allclose(out.data[:2], expected)


def test_rectify_and_envelope_methods(rec) -> None:
    r = pp.rectify(rec)
    assert_allclose(r.data[:2], np.abs(rec.data[:2]))
    _stim_untouched(r, rec)
    bp = pp.bandpass_filter(rec, 20.0, 1000.0)
    rms = pp.envelope(bp, method="rms", window_s=0.05)
    assert_allclose(rms.data[:2], hs.moving_rms(bp.data[:2], FS, 0.05), rtol=1e-12)
    for method in pp.ENVELOPE_METHODS:
        env = pp.envelope(bp, method=method)
        assert env.history[-1]["params"]["method"] == method
        assert (env.data[:2] >= 0).all()
        _stim_untouched(env, rec)


def test_envelope_amplitude_of_a_sine() -> None:
    fs = 2000.0
    t = np.arange(8000) / fs
    r = from_array(8.0 * np.sin(2 * np.pi * 100 * t), fs, ["oris"])
    core = slice(1000, -1000)
    assert_allclose(pp.envelope(r, method="rms", window_s=0.1).data[0, core], 8 / np.sqrt(2), 0.01)
    assert_allclose(pp.envelope(r, method="hilbert", window_s=0.1).data[0, core], 8.0, 0.01)
    # TKEO of A sin(w n): A^2 sin^2(w) -> envelope A |sin(w)|.
    w = 2 * np.pi * 100 / fs
    tk = pp.envelope(r, method="tkeo", window_s=0.1).data[0, core]
    assert_allclose(tk, 8.0 * np.sin(w), rtol=1e-6)


def test_envelope_bad_method_lists_options(rec) -> None:
    with pytest.raises(ParameterError, match=r"'rms', 'tkeo', 'hilbert'"):
        pp.envelope(rec, method="lowpass")


def test_estimate_noise_quiet_vs_mad_with_spasms() -> None:
    rng = np.random.default_rng(7)
    fs, n, sigma = 2000.0, 120_000, 6.0
    x = rng.normal(scale=sigma, size=(2, n))
    x[1, : int(0.6 * n)] *= 10.0  # spasm 60 % of the time on the second channel
    r = pp.bandpass_filter(from_array(x, fs, ["oculi", "oris"]), 10.0, 990.0)
    band = np.sqrt((990 - 10) / (fs / 2))
    quiet = pp.estimate_noise(r)
    assert list(quiet.columns) == ["channel", "noise_uv", "method"]
    assert quiet["channel"].tolist() == ["oculi", "oris"]
    assert_allclose(quiet["noise_uv"], sigma * band, rtol=0.06)
    mad = pp.estimate_noise(r, method="mad")
    assert mad.loc[1, "noise_uv"] > 3 * sigma  # MAD is swamped by the spasms
    assert_allclose(mad.loc[0, "noise_uv"], sigma * band, rtol=0.03)
    assert isinstance(mad, pd.DataFrame)


def test_estimate_noise_warns_on_unfiltered(rec) -> None:
    with pytest.warns(HfsEmgWarning, match="high-passed"):
        pp.estimate_noise(rec)


def test_type_error_for_non_recording() -> None:
    with pytest.raises(TypeError, match="Recording"):
        pp.bandpass_filter(np.zeros((2, 100)))


def test_filter_emg_equals_the_two_steps(rec) -> None:
    fused = pp.filter_emg(rec, 20.0, 1000.0, notch="auto")  # comb at every harmonic
    steps = pp.notch_filter(pp.bandpass_filter(rec, 20.0, 1000.0), 50.0)
    assert_allclose(fused.data, steps.data, atol=1e-9)
    assert [h["step"] for h in fused.history] == ["bandpass_filter", "notch_filter"]
    assert fused.history[-1]["params"]["freq"] == 50.0
    _stim_untouched(fused, rec)
    plain = pp.filter_emg(rec, 20.0, 1000.0, notch=None)
    assert [h["step"] for h in plain.history] == ["bandpass_filter"]
    assert_allclose(plain.data, pp.bandpass_filter(rec, 20.0, 1000.0).data)


def test_filter_emg_60hz_at_non_integer_period_uses_iir_up_to_h_freq() -> None:
    fs, n = 10_000.0, 50_000  # 166.7 samples per 60 Hz period: no comb
    t = np.arange(n) / fs
    rng = np.random.default_rng(2)
    x = rng.normal(size=n) + 10 * np.sin(2 * np.pi * 60 * t) + 5 * np.sin(2 * np.pi * 180 * t)
    r = from_array(x, fs, ["oris"], dtype=np.float32)
    fused = pp.filter_emg(r, 20.0, 1000.0, notch="auto")
    assert fused.history[-1]["params"]["freq"] == 60.0
    steps = pp.notch_filter(pp.bandpass_filter(r, 20.0, 1000.0), 60.0, method="iir")
    assert_allclose(fused.data, steps.data, atol=1e-4)
    assert fused.data[0, 10_000:-10_000].std() < 1.0


def test_filter_emg_auto_without_hum_skips_notch() -> None:
    rng = np.random.default_rng(1)
    r = from_array(rng.normal(size=(1, 8000)), 2000.0, ["oris"])
    for notch in ("lines", "auto"):
        out = pp.filter_emg(r, 20.0, 500.0, notch=notch)
        assert [h["step"] for h in out.history] == ["bandpass_filter"]


def test_filter_emg_default_is_the_detection_filter() -> None:
    """One default EMG filter: filter_emg's default output is what detect_bursts filters, and
    equals the band-pass followed by one narrow IIR notch per hum line (computed here with
    hfs_emg.signal.notch, independent of the fused kernel)."""
    from hfs_emg.detection import _notch_lines, burst_filter
    from hfs_emg.signal import bandpass

    fs, n = 4000.0, 4000 * 60
    t = np.arange(n) / fs
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, n)) + 4 * np.sin(2 * np.pi * 50 * t) + 2 * np.sin(2 * np.pi * 250 * t)
    r = from_array(x, fs, ["oris", "oculi"])
    out = pp.filter_emg(r)
    notch_step = out.history[-1]
    assert notch_step["step"] == "notch_filter" and notch_step["params"]["freq"] == [50.0, 250.0]
    assert notch_step["params"]["harmonics"] is False
    filt = burst_filter(r, band=(20.0, 1000.0))
    assert (filt.mains, filt.lines) == (50.0, (50.0, 250.0))
    for c in range(2):
        assert np.array_equal(out.data[c], filt.apply(r.data[c]))
    ref = _notch_lines(bandpass(x, fs, 20.0, 1000.0), fs, 50.0, [50.0, 250.0])
    assert_allclose(out.data, ref, atol=1e-9)
    # the 250 Hz line is gone, an HFS-like 200 Hz discharge fundamental is kept
    spec = np.abs(np.fft.rfft(out.data[0])) / np.abs(np.fft.rfft(x[0] - x[0].mean()))
    f = np.fft.rfftfreq(n, 1 / fs)
    assert spec[np.argmin(np.abs(f - 250.0))] < 0.05
    assert np.median(spec[(f > 195) & (f < 205)]) > 0.9
