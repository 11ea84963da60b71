"""The live-session recorder: BDF+ appended record by record, readable after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mne
import numpy as np
import pytest

import hfs_emg as hfs
from hfs_emg import HfsEmgWarning, ParameterError
from hfs_emg.io.bdf_stream import BdfStreamWriter

FS = 2000.0


def _signal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    emg = rng.normal(0, 50, (2, n)) + 3000 * np.sin(np.arange(n) / 7.0)
    trig = np.zeros(n)
    trig[::500] = 1
    return np.vstack([emg, trig])


def test_values_read_back_bitwise_and_events_on_the_file_clock(tmp_path: Path) -> None:
    x = _signal(7300)
    path = tmp_path / "s.bdf"
    with BdfStreamWriter(
        path, ["Mentalis_L", "OrbOculi_L", "trigger"], FS, stim=["trigger"], tstart=5000.25
    ) as w:
        stored = np.hstack([w.write(x[:, i : i + 333]) for i in range(0, x.shape[1], 333)])
        w.annotate(5001.0, "stim zygomatic 12 mA")
        w.annotate(5002.5, "dura opening", duration_s=0.5)
    # the stored values are the input to within half a digital step, and exactly what is read
    step = 2 * 80_000 / (2**24 - 1)
    assert np.abs(stored[:2] - x[:2]).max() <= step / 2 + 1e-9
    np.testing.assert_array_equal(stored[2], x[2])  # trigger codes exact
    rec = hfs.read_recording(path)
    assert rec.n_samples == x.shape[1]  # the padded last record is not data
    assert rec.tstart == 5000.25
    np.testing.assert_array_equal(rec.data[:2], stored[:2])
    ann = rec.events[~rec.events["label"].str.startswith("trigger/")]
    assert list(ann["label"]) == ["stim zygomatic 12 mA", "dura opening"]
    np.testing.assert_allclose(ann["onset_s"], [5001.0, 5002.5], atol=1e-6)
    assert ann["duration_s"].iloc[1] == pytest.approx(0.5)
    # an independent reader (MNE) agrees on the samples and the annotations
    raw = mne.io.read_raw_bdf(path, preload=True, verbose="error")
    mne_uv = raw.get_data(picks=[0])[0] * 1e6  # MNE shows the padding of the last record
    np.testing.assert_allclose(mne_uv[: x.shape[1]], stored[0], atol=1e-6)
    assert "dura opening" in list(raw.annotations.description)


def test_many_annotations_overflow_into_later_records(tmp_path: Path) -> None:
    path = tmp_path / "m.bdf"
    labels = [f"note {i} " + "x" * 40 for i in range(60)]
    with BdfStreamWriter(path, ["Mentalis_L"], FS, annotation_bytes=300) as w:
        w.write(np.zeros((1, 4000)))
        for i, lab in enumerate(labels):
            w.annotate(0.01 * i, lab)
        w.write(np.zeros((1, 100)))
    rec = hfs.read_recording(path)
    assert list(rec.events["label"]) == labels
    assert rec.n_samples == 4100


def _writer_script(path: Path) -> str:
    return f"""
import time, numpy as np
from hfs_emg.io.bdf_stream import BdfStreamWriter
w = BdfStreamWriter({str(path)!r}, ["Mentalis_L"], {FS}, sync_s=0.5)
i = 0
while True:
    w.write(np.full((1, 200), float(i % 100)))
    if i % 10 == 0:
        w.annotate(i * 200 / {FS}, f"mark {{i}}")
    i += 1
    time.sleep(0.01)
"""


def test_kill_9_loses_at_most_the_last_second(tmp_path: Path) -> None:
    path = tmp_path / "crash.bdf"
    proc = subprocess.Popen(
        [sys.executable, "-c", _writer_script(path)],
        env={**os.environ, "PYTHONPATH": str(Path(hfs.__file__).parent.parent)},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size > 256 * 3 + 5 * (3 * 2000 + 600):
                break
            time.sleep(0.2)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # header still says -1 records: the reader counts the complete ones, with a warning
    with pytest.warns(HfsEmgWarning, match="-1 data records"):
        rec = hfs.read_recording(path)
    assert rec.n_samples >= 5 * FS and rec.n_samples % int(FS) == 0
    # the samples are what was written, in order (value = chunk index mod 100)
    chunk = np.arange(rec.n_samples) // 200 % 100
    np.testing.assert_allclose(rec.data[0], chunk, atol=0.01)
    labels = list(rec.events["label"])
    assert labels[:3] == ["mark 0", "mark 10", "mark 20"]


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "x.bdf"
    path.write_bytes(b"")
    with pytest.raises(ParameterError, match="never overwrites"):
        BdfStreamWriter(path, ["a"], FS)
    with pytest.raises(ParameterError, match="sfreq"):
        BdfStreamWriter(tmp_path / "y.bdf", ["a"], float("nan"))
    with BdfStreamWriter(tmp_path / "z.bdf", ["a"], FS) as w:
        with pytest.raises(ParameterError, match="shape"):
            w.write(np.zeros((2, 10)))
        with pytest.raises(ParameterError, match="finite"):
            w.annotate(float("inf"), "x")
