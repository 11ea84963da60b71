"""Mains and hum lines from a bounded sample of the recording (:mod:`hfs_emg.hum`)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hfs_emg
from hfs_emg import signal as sig
from hfs_emg.detection import hum_lines
from hfs_emg.hum import estimate_hum, sample_windows

EXAMPLES = [
    "spontaneous_hfs.edf",
    "lsr_session.edf",
    "ncs_blink_reflex.bdf",
    "ncs_cmap.bdf",
    "ncs_f_waves.bdf",
]


def _whole_file(x: np.ndarray, fs: float, h_freq: float) -> tuple[float | None, list[float]]:
    """The former estimate: band-pass all of it, Welch mains, spectrogram-median lines."""
    k = sig.sosfiltfilt_kernel(sig.sos_bandpass(fs, 20.0, h_freq), np.float64)
    filtered = np.empty_like(x)
    for c in range(x.shape[0]):
        k(x[c], filtered[c])
    mains = sig.detect_mains(filtered, fs, max_duration_s=x.shape[1] / fs)
    if mains is None:
        return None, []
    head = filtered  # hum_lines looks at 120 s at most: these files are shorter
    return mains, hum_lines(head, fs, mains, max_freq=h_freq)


@pytest.mark.parametrize("name", EXAMPLES)
def test_sampled_equals_whole_file_on_the_examples(example_dir, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = hfs_emg.read_recording(example_dir / name)
    x = np.asarray(rec.data[rec._pick_indices("emg")], dtype=float)
    fs = rec.sfreq
    h_freq = min(1000.0, 0.45 * fs)
    assert x.shape[1] <= 120 * fs
    expected = _whole_file(x, fs, h_freq)
    # the default sample, and a forced one of 4 windows of 2 s even on the short files
    for kw in ({}, {"n_windows": 4, "window_s": 2.0, "max_whole_s": 0.0}):
        hum = estimate_hum(x, fs, band=(20.0, h_freq), max_freq=h_freq, **kw)
        assert (hum.mains, list(hum.lines)) == expected, kw
    if name == "spontaneous_hfs.edf":  # the one example with hum
        assert expected == (50.0, [50.0, 150.0, 250.0])


def test_sample_is_bounded_and_spread_over_the_file():
    fs = 10_000.0
    hour = round(3600 * fs)
    win = sample_windows(hour, fs)
    assert len(win) == 8 and all(b - a == 40_000 for a, b in win)
    assert win[0][0] == 0 and win[-1][1] == hour
    assert np.all(np.diff([a for a, _ in win]) > 0)
    assert sample_windows(round(30 * fs), fs) == [(0, 300_000)]  # short: whole


def test_hum_starting_late_is_found_and_the_reader_sees_only_the_windows():
    # hum appears after 4 minutes: the old first-two-minutes estimate missed it
    fs = 2000.0
    n = round(600 * fs)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, n))
    t = np.arange(n) / fs
    late = t > 240.0
    x[:, late] += 3.0 * np.sin(2 * np.pi * 60.0 * t[late]) + np.sin(2 * np.pi * 180.0 * t[late])
    assert sig.detect_mains(x, fs) is None  # first 120 s: nothing
    seen = []

    def read(a: int, b: int) -> np.ndarray:
        seen.append((a, b))
        return x[:, a:b]

    hum = estimate_hum(read, fs, n_samples=n, band=(20.0, 900.0))
    assert hum.mains == 60.0 and hum.lines == (60.0, 180.0)
    assert sum(b - a for a, b in seen) <= 8 * (4.0 + 2 * 0.5) * fs  # windows + margins only
    assert hum == estimate_hum(x, fs, band=(20.0, 900.0))  # array and reader agree


def test_no_hum_and_too_low_rates():
    rng = np.random.default_rng(2)
    assert estimate_hum(rng.normal(size=(1, 20_000)), 2000.0).mains is None
    low = estimate_hum(rng.normal(size=(1, 20_000)), 100.0)  # Nyquist 50 Hz: not observable
    assert (low.mains, low.lines) == (None, ())
    with pytest.raises(hfs_emg.ParameterError):
        estimate_hum(lambda a, b: None, 2000.0)


def test_channel_by_channel_spectra_equal_the_batched_ones():
    """The hum sample's spectra, one channel at a time (bounded FFT work), are bitwise the
    spectra of all channels in one batch."""
    from hfs_emg.hum import _channel_power, _segment_power

    x = np.random.default_rng(1).normal(size=(5, 9000)) + 2.0
    for window, step in [("hann", 500), (("tukey", 0.25), 875)]:
        want = _segment_power(x, 1000, window, step)
        got = _channel_power(x, 1000, window, step, 1e-300, lines=False)
        assert want.shape == got.shape == (5, want.shape[1], 501) and want.shape[1] > 5
        assert np.array_equal(got, want)
    tiny = np.finfo(float).tiny
    want = _segment_power(x, 1000, ("tukey", 0.25), 875)
    want = (want / np.maximum(np.median(want, axis=-1, keepdims=True), tiny)).astype(np.float32)
    assert np.array_equal(_channel_power(x, 1000, ("tukey", 0.25), 875, tiny, lines=True), want)
    assert _channel_power(x[:0], 1000, "hann", 500, tiny, lines=False).shape[0] == 0
