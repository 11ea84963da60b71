"""Threads over channels give exactly the serial result (detection and the filters)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import hfs_emg
from hfs_emg.detection import _notch_lines


def test_detect_bursts_parallel_equals_serial(example_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = hfs_emg.read_recording(example_dir / "spontaneous_hfs.edf")
        serial = hfs_emg.detect_bursts(rec, n_jobs=1)
        parallel = hfs_emg.detect_bursts(rec, n_jobs=2)
        r32 = hfs_emg.read_recording(example_dir / "spontaneous_hfs.edf", dtype="float32")
        s32, p32 = hfs_emg.detect_bursts(r32, n_jobs=1), hfs_emg.detect_bursts(r32, n_jobs=2)
    assert len(serial) > 0 and serial.attrs["preprocessing"][1]["freq"] == [50.0, 150.0, 250.0]
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    pd.testing.assert_frame_equal(s32, p32, check_exact=True)


def test_prefilter_in_one_buffer_equals_the_notch_steps(example_dir):
    # the per-channel prefilter notches in place in one padded buffer; the reference is the
    # band-pass followed by _notch_lines (concatenated padding, one new array per notch)
    from hfs_emg import signal as sig
    from hfs_emg.detection import burst_filter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = hfs_emg.read_recording(example_dir / "spontaneous_hfs.edf")
    idx = rec._pick_indices("emg")
    filt = burst_filter(rec, picks=idx, band=(20.0, 1000.0))
    prefilter, lines = filt.apply, list(filt.lines)
    kernel = sig.sosfiltfilt_kernel(sig.sos_bandpass(rec.sfreq, 20.0, 1000.0), np.float64)
    for i in idx[:3]:
        band = np.empty(rec.n_samples)
        kernel(rec.data[i], band)
        expected = _notch_lines(band[np.newaxis], rec.sfreq, 50.0, lines)[0]
        assert np.array_equal(prefilter(rec.data[i]), expected)


def test_analyze_parallel_equals_serial_through_the_filter_threads(example_dir, monkeypatch):
    from hfs_emg import _chunking

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = example_dir / "spontaneous_hfs.edf"
        both = hfs_emg.analyze(path)
        monkeypatch.setattr(_chunking, "resolve_n_jobs", lambda *a, **k: 1)
        one = hfs_emg.analyze(path)
    for name, table in both.tables().items():
        pd.testing.assert_frame_equal(table, one.tables()[name], check_exact=True, obj=name)


def test_run_tasks_nested_three_deep_does_not_wait_on_itself(monkeypatch):
    """Runs nested in a shared-pool task (and in their own pools) never queue on the shared
    pool, whose threads are all waiting for them: three levels finish, with every result."""
    import threading

    from hfs_emg import _chunking

    monkeypatch.setattr(_chunking.os, "cpu_count", lambda: 2)
    big = _chunking.MIN_SAMPLES_FOR_THREADS

    def level(depth: int) -> list:
        if depth == 0:
            return [1]
        parts = _chunking.run_tasks(lambda _: level(depth - 1), range(2), n_samples=big)
        return [x for p in parts for x in p]

    out: list = []
    t = threading.Thread(target=lambda: out.append(level(3)), daemon=True)
    t.start()
    t.join(timeout=60)
    assert not t.is_alive(), "nested run_tasks deadlocked"
    assert out == [[1] * 8]
