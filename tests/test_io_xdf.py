"""XDF (LabRecorder) reading: the data stream, marker streams as events, gaps, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from xdf_writer import write_xdf

import hfs_emg as hfs
from hfs_emg import CorruptFileError, HfsEmgWarning, UnsupportedFormatError

FS = 2000.0


def _session(tmp_path: Path, *, gap_s: float = 0.0) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 4000
    data = rng.normal(0, 10, (n, 3)).astype(np.float32)
    stamps = 1000.0 + np.arange(n) / FS
    stamps[n // 2 :] += gap_s
    markers = [(1000.25, "stim zygomatic"), (1001.5, "dura opening"), (1001.75, "decompression")]
    path = write_xdf(
        tmp_path / "s.xdf",
        data,
        stamps,
        sfreq=FS,
        labels=["Mentalis_L", "OrbOculi_L", "trigger"],
        markers=markers,
    )
    return path, data, stamps


def test_data_stream_and_markers(tmp_path: Path) -> None:
    path, data, _ = _session(tmp_path)
    rec = hfs.read_recording(path)
    assert rec.sfreq == FS
    assert rec.ch_names == ["Mentalis_L", "OrbOculi_L", "trigger"]
    assert rec.tstart == pytest.approx(1000.0, abs=1e-6)
    # microvolts declared in the stream description: values unchanged
    np.testing.assert_allclose(rec.data, data.T, rtol=0, atol=1e-4)
    ev = rec.events
    assert list(ev["label"]) == ["stim zygomatic", "dura opening", "decompression"]
    np.testing.assert_allclose(ev["onset_s"], [1000.25, 1001.5, 1001.75], atol=1e-6)
    # a window on the file clock
    win = hfs.read_recording(path, tmin=1000.5, tmax=1001.0)
    assert win.n_samples == pytest.approx(0.5 * FS, abs=1)
    np.testing.assert_allclose(win.data[0], data[1000 : 1000 + win.n_samples, 0], atol=1e-4)


def test_gap_is_an_event_and_warns(tmp_path: Path) -> None:
    path, _, _ = _session(tmp_path, gap_s=0.5)
    with pytest.warns(HfsEmgWarning, match="gap"):
        rec = hfs.read_recording(path)
    gaps = rec.events[rec.events["label"] == "gap"]
    assert len(gaps) == 1
    assert gaps["onset_s"].iloc[0] == pytest.approx(1000.0 + 2000 / FS, abs=1e-6)
    assert gaps["duration_s"].iloc[0] == pytest.approx(0.5, abs=1e-3)


def test_unknown_stream_name_is_refused(tmp_path: Path) -> None:
    path, _, _ = _session(tmp_path)
    with pytest.raises(UnsupportedFormatError, match="no numeric stream named 'EEG'"):
        hfs.read_recording(path, stream="EEG")


def test_garbage_xdf_is_a_clean_error(tmp_path: Path) -> None:
    path, _, _ = _session(tmp_path)
    raw = path.read_bytes()
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"NOPE" + raw[4:200])
    with pytest.raises(CorruptFileError, match=r"bad\.xdf"):
        hfs.read_recording(bad)
