"""Chunked processing equals in-memory processing; per-channel threads change nothing."""

from __future__ import annotations

import numpy as np
import pytest

from hfs_emg import ParameterError, from_array
from hfs_emg import preprocessing as pp
from hfs_emg._chunking import (
    auto_margin_s,
    chunk_bounds,
    map_channels,
    map_chunks,
    process_chunked,
    resolve_n_jobs,
    run_tasks,
)
from hfs_emg.io import open_recording
from hfs_emg.io.numpy_io import write_npz

FS = 2000.0


@pytest.fixture(scope="module")
def long_rec():
    rng = np.random.default_rng(11)
    n = int(90 * FS)
    t = np.arange(n) / FS
    emg = rng.normal(scale=10.0, size=(3, n)) + 20.0 * np.sin(2 * np.pi * 50 * t + 0.3)
    emg[1, 40_000:60_000] *= 8.0  # a long spasm across a chunk edge
    trig = np.zeros(n)
    trig[::2000] = 1.0
    return from_array(np.vstack([emg, trig]), FS, ["oculi", "oris", "mentalis", "trigger"])


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.sqrt(np.mean(b**2)))


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [
        (pp.bandpass_filter, {"l_freq": 20.0, "h_freq": 450.0}),
        (pp.highpass_filter, {"l_freq": 10.0}),
        (pp.notch_filter, {"freq": 50.0}),
        (pp.notch_filter, {"freq": 50.0, "method": "iir"}),
        (pp.envelope, {"window_s": 0.05}),
        (pp.filter_emg, {"l_freq": 20.0, "h_freq": 450.0, "notch": 50.0}),
    ],
)
def test_chunked_recording_equals_in_memory(long_rec, func, kwargs) -> None:
    whole = func(long_rec, **kwargs)
    parts = process_chunked(long_rec, func, chunk_s=20.0, **kwargs)
    assert parts.data.shape == whole.data.shape
    assert _rel_err(parts.data[:3], whole.data[:3]) < 1e-3
    assert np.array_equal(parts.data[3], long_rec.data[3])  # stim untouched
    assert parts.history[-1]["step"] == whole.history[-1]["step"]
    assert parts.history[-1]["params"]["chunk_s"] == 20.0


def test_chunked_from_reader_equals_in_memory(long_rec, tmp_path) -> None:
    path = tmp_path / "long.npz"
    write_npz(long_rec, path)
    whole = pp.bandpass_filter(long_rec, 20.0, 450.0)
    with open_recording(path) as reader:
        parts = process_chunked(
            reader, pp.bandpass_filter, chunk_s=15.0, l_freq=20.0, h_freq=450.0, progress=True
        )
    assert parts.ch_names == whole.ch_names
    assert parts.tstart == whole.tstart
    assert _rel_err(parts.data[:3], whole.data[:3]) < 1e-3


def test_no_margin_is_worse(long_rec) -> None:
    kwargs = {"l_freq": 20.0, "h_freq": 450.0}
    whole = pp.bandpass_filter(long_rec, **kwargs)
    bad = process_chunked(long_rec, pp.bandpass_filter, chunk_s=20.0, margin_s=0.0, **kwargs)
    assert _rel_err(bad.data[:3], whole.data[:3]) > 1e-2  # the test can fail


def test_auto_margin() -> None:
    assert auto_margin_s(pp.bandpass_filter, {}) == pytest.approx(6 / 20.0)
    assert auto_margin_s(pp.highpass_filter, {"l_freq": 5.0}) == pytest.approx(1.2)
    assert auto_margin_s(pp.notch_filter, {"freq": 60.0}) == pytest.approx(12 * 30 / (np.pi * 60))
    assert auto_margin_s(pp.rectify, {}) == 0.0
    # filter_emg: the notch needs the longer margin; without a notch the band-pass rule.
    assert auto_margin_s(pp.filter_emg, {}) == pytest.approx(12 * 30 / (np.pi * 50))
    assert auto_margin_s(pp.filter_emg, {"notch": None}) == pytest.approx(0.3)


def test_chunk_bounds_cover_once() -> None:
    cores = [(s, e) for _, _, s, e in chunk_bounds(1001, 100, 30)]
    covered = np.concatenate([np.arange(s, e) for s, e in cores])
    assert np.array_equal(covered, np.arange(1001))
    with pytest.raises(ParameterError):
        list(chunk_bounds(10, 0, 1))


def test_map_channels_threads_equal_serial() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 300_000)).astype(np.float32)
    from hfs_emg.signal import bandpass

    def kernel(r):
        return bandpass(r, 10_000.0, 20.0, 1000.0)

    serial = map_channels(kernel, x, range(4), n_jobs=1)
    threaded = map_channels(kernel, x, range(4), n_jobs=2)
    assert np.array_equal(serial, threaded)
    assert serial.dtype == np.float32


def test_resolve_n_jobs() -> None:
    assert resolve_n_jobs(-1, 1, 10**8) == 1
    assert resolve_n_jobs(3, 2, 10) == 2
    with pytest.raises(ParameterError, match="n_jobs"):
        resolve_n_jobs(0, 2, 10)


def test_single_or_short_tasks_never_read_the_cpu_count(monkeypatch) -> None:
    # os.cpu_count reads a file (~15 us): a live sweep's ~11 one-task calls paid it each time
    import os

    def fail() -> int:
        raise AssertionError("os.cpu_count called")

    monkeypatch.setattr(os, "cpu_count", fail)
    assert resolve_n_jobs(None, 1, 10**9) == 1
    assert resolve_n_jobs(None, 8, 1000) == 1
    assert run_tasks(lambda t: t + 1, [41], n_samples=10**9) == [42]
    with pytest.raises(AssertionError, match="cpu_count"):
        resolve_n_jobs(None, 2, 10**9)  # two long tasks: the cores are read


def test_bad_source() -> None:
    with pytest.raises(TypeError, match="BaseReader or a Recording"):
        process_chunked(np.zeros((2, 10)), pp.rectify)


def test_map_chunks_on_memmap_equals_in_memory(tmp_path) -> None:
    from hfs_emg.signal import bandpass, notch

    rng = np.random.default_rng(5)
    x = (rng.normal(size=(2, 200_000)) * 10).astype(np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    mm = np.load(path, mmap_mode="r")
    fs = 5000.0

    def kernel(b):
        return notch(bandpass(b, fs, 20.0, 1000.0), fs, 50.0)

    margin = max(auto_margin_s(pp.bandpass_filter, {}), auto_margin_s(pp.notch_filter, {}))
    got = map_chunks(kernel, mm, fs, chunk_s=7.0, margin_s=margin, progress=True)
    assert got.dtype == np.float32
    assert _rel_err(got, kernel(x)) < 1e-3


@pytest.mark.shared_data
def test_chunked_over_a_real_needle_emg_file(shared_data) -> None:
    """PhysioNet emgdb neuropathy record (WFDB, 4 kHz, 37 s, clipped MUAPs): filter_emg window
    by window from the reader equals filter_emg of the whole file read into memory."""
    path = shared_data / "physionet-emgdb" / "emg_neuropathy.hea"
    kwargs = {"l_freq": 20.0, "h_freq": 1500.0, "notch": 50.0}
    with open_recording(path) as reader:
        whole = pp.filter_emg(reader.read(dtype=np.float32), **kwargs)
        parts = process_chunked(reader, pp.filter_emg, chunk_s=8.0, dtype=np.float32, **kwargs)
    assert parts.data.dtype == np.float32
    assert parts.n_samples == whole.n_samples == 147_858
    assert _rel_err(parts.data.astype(float), whole.data.astype(float)) < 1e-3
    assert [h["step"] for h in parts.history] == ["bandpass_filter", "notch_filter"]


def test_filters_declare_their_margins():
    from hfs_emg import signal as sig

    # every filter of hfs_emg.preprocessing states its margin; auto_margin_s asks it
    for name in (
        "bandpass_filter",
        "highpass_filter",
        "lowpass_filter",
        "notch_filter",
        "filter_emg",
        "rectify",
        "envelope",
    ):
        assert callable(getattr(pp, name).margin_s), name
    assert pp.filter_emg.margin_s(l_freq=10.0, notch=60.0, q=30.0) == pytest.approx(
        max(sig.highpass_margin_s(10.0), sig.notch_margin_s(60.0, 30.0))
    )
    assert pp.filter_emg.margin_s(notch=None) == pytest.approx(0.3)
    assert auto_margin_s(pp.envelope, {"window_s": 0.1}) == pytest.approx(0.1)

    def user_filter(rec, l_freq=5.0):  # no declaration: no guess, an explicit margin is asked
        return rec

    with pytest.raises(ParameterError, match="declares no margin_s"):
        auto_margin_s(user_filter, {})
    user_filter.margin_s = lambda l_freq=5.0, **_: 6.0 / l_freq
    assert auto_margin_s(user_filter, {}) == pytest.approx(1.2)
