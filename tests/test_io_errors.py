"""Bad input: each problem is a clear HfsEmgError subclass naming the file; inputs stay intact."""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from hfs_emg import (
    CorruptFileError,
    DataError,
    HfsEmgWarning,
    ParameterError,
    SamplingRateError,
    UnsupportedFormatError,
    from_array,
)
from hfs_emg.io import READERS, read_recording, write_recording


def _edf(tmp_path: Path, ext: str = "edf", seconds: int = 4) -> Path:
    t = np.arange(seconds * 500) / 500
    rec = from_array(
        np.vstack([100 * np.sin(2 * np.pi * 7 * t), t]), 500.0, ["oris", "ramp"], units=["uV", "uV"]
    )
    path = tmp_path / f"rec.{ext}"
    write_recording(rec, path)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "rec.xyz"
    path.write_bytes(b"123")
    with pytest.raises(UnsupportedFormatError, match=r"rec\.xyz.*'\.xyz'.*\.edf"):
        read_recording(path)


@pytest.mark.parametrize("ext", sorted(READERS))
def test_empty_file(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"empty{ext}"
    path.touch()
    with pytest.raises(CorruptFileError, match=f"empty{ext}: the file is empty"):
        read_recording(path)


@pytest.mark.parametrize("ext", ["edf", "bdf"])
def test_truncated_edf(tmp_path: Path, ext: str) -> None:
    path = _edf(tmp_path, ext)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 700])
    with pytest.raises(CorruptFileError, match=r"rec\.\w+: truncated file.*declares 4 data rec"):
        read_recording(path)
    with pytest.warns(HfsEmgWarning, match="file holds 3"):
        rec = read_recording(path, allow_truncated=True)
    assert rec.n_samples == 1500  # the 3 complete one-second records


def test_truncated_wfdb(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "physionet-emgdb"
    shutil.copy(src / "emg_healthy.hea", tmp_path)
    (tmp_path / "emg_healthy.dat").write_bytes((src / "emg_healthy.dat").read_bytes()[:5000])
    with pytest.raises(CorruptFileError, match=r"truncated record.*5000 bytes"):
        read_recording(tmp_path / "emg_healthy.hea")


@pytest.mark.parametrize("name", ["16d22006_kim_gapfree.abf", "pclamp11_4ch.abf"])
def test_truncated_abf(tmp_path: Path, shared_data: Path, name: str) -> None:
    data = (shared_data / "pyabf-abf" / name).read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match=name):
        read_recording(tmp_path / name)


@pytest.mark.filterwarnings("ignore:.*unknown or missing unit")
def test_truncated_brainvision_warns(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "mne-brainvision"
    for ext in ("vhdr", "vmrk"):
        shutil.copy(src / f"test.{ext}", tmp_path)
    eeg = (src / "test.eeg").read_bytes()
    (tmp_path / "test.eeg").write_bytes(eeg[: len(eeg) // 2])
    with pytest.warns(HfsEmgWarning, match="7 marker.*truncated"):
        rec = read_recording(tmp_path / "test.vhdr")
    assert rec.n_samples == 3950


@pytest.mark.parametrize(
    ("offset", "value", "match"),
    [
        (0, b"9       ", "version field"),
        (252, b"xx  ", "'number of signals' holds 'xx  '"),
        (184, b"999     ", "signals but 999 header bytes"),
    ],
)
def test_corrupt_edf_header(tmp_path: Path, offset: int, value: bytes, match: str) -> None:
    path = _edf(tmp_path)
    data = bytearray(path.read_bytes())
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=match):
        read_recording(path)


def test_corrupt_digital_range(tmp_path: Path) -> None:
    path = _edf(tmp_path)
    data = bytearray(path.read_bytes())
    ns = 3  # two signals + annotations
    dmax = 256 + ns * (16 + 80 + 8 + 8 + 8 + 8)
    data[dmax : dmax + 8] = b"-32768  "
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=r"digital maximum <= minimum for \['oris'\]"):
        read_recording(path)


def test_nan_samples(tmp_path: Path) -> None:
    csv = tmp_path / "nan.csv"
    csv.write_text("a,b\n1,2\nnan,3\n4,5\n")
    with pytest.raises(DataError, match=r"nan\.csv: NaN or missing sample in channel 'a', data"):
        read_recording(csv, sfreq=100)
    npz = tmp_path / "nan.npz"
    np.savez(npz, data=np.array([[1.0, np.nan, 2.0]]), sfreq=100.0)
    with pytest.raises(DataError, match=r"nan\.npz: 1 NaN or infinite sample"):
        read_recording(npz)


def test_mismatched_channel_lengths(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    with pytest.raises(DataError, match=r"extra\.csv: rows have different numbers of fields"):
        read_recording(extra, sfreq=100)
    hole = tmp_path / "hole.tsv"
    hole.write_text("a\tb\n1\t2\n3\t\n6\t7\n")
    with pytest.raises(DataError, match="channel 'b', data row 1"):
        read_recording(hole, sfreq=100)
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("a\tb\n1\t2\n3\t4\n\t7\n\t8\n")
    with pytest.raises(DataError, match="different lengths: file lines 4-5"):
        read_recording(ragged, sfreq=100, ragged="error")
    with pytest.warns(HfsEmgWarning, match="2 row.*file lines 4-5.*common length 2"):
        rec = read_recording(ragged, sfreq=100, units="uV")
    np.testing.assert_array_equal(rec.data, [[1, 3], [2, 4]])


def test_text_options_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("time,a,label\n0,1,x\n0.001,2,x\n0.0025,3,y\n0.0035,4,y\n")
    with pytest.raises(DataError, match=r"t\.csv: not a table of samples: line 2 '0,1,x'"):
        read_recording(path, units="uV")  # a text column must be named as the labels
    with pytest.raises(SamplingRateError, match=r"t\.csv: non-uniform time base: 1 of 3"):
        read_recording(path, units="uV", label_column="label")
    rec = read_recording(path, units="uV", label_column="label", resample=True, sfreq=1000.0)
    np.testing.assert_allclose(rec.data[0], [1, 2, 2 + 1 / 1.5, 3.5])
    assert list(rec.events["label"]) == ["label/x", "label/y"]
    with pytest.raises(ParameterError, match="label_column='cls' is not a column"):
        read_recording(path, label_column="cls")
    with pytest.raises(ParameterError, match="time_unit"):
        read_recording(path, time_unit="min", label_column="label")
    with pytest.raises(ParameterError, match="ragged"):
        read_recording(path, ragged="pad", label_column="label")


def test_inputs_are_opened_read_only(tmp_path: Path, shared_data: Path) -> None:
    """Files without write permission read fine and are byte-identical afterwards."""
    paths = [_edf(tmp_path, "edf"), _edf(tmp_path, "bdf")]
    csv = tmp_path / "r.csv"
    csv.write_text("a\n1\n2\n3\n")
    paths.append(csv)
    for name in ("emg_healthy.hea", "emg_healthy.dat"):
        shutil.copy(shared_data / "physionet-emgdb" / name, tmp_path)
    paths += [tmp_path / "emg_healthy.hea", tmp_path / "emg_healthy.dat"]
    digests = {}
    for p in paths:
        os.chmod(p, 0o444)
        digests[p] = _sha(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HfsEmgWarning)
        for p in paths:
            if p.suffix != ".dat":
                read_recording(p, sfreq=10) if p.suffix == ".csv" else read_recording(p)
    assert all(_sha(p) == d for p, d in digests.items())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothere\.edf"):
        read_recording(tmp_path / "nothere.edf")


def _patch(path: Path, offset: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))


def test_edf_plus_d(tmp_path: Path) -> None:
    path = _edf(tmp_path)
    _patch(path, 192, b"EDF+D".ljust(44))
    assert read_recording(path).n_samples == 2000  # contiguous EDF+D reads as EDF+C
    data = path.read_bytes()
    assert data.count(b"+2\x14\x14\x00") == 1  # time-keeping TAL of record 2
    path.write_bytes(data.replace(b"+2\x14\x14\x00", b"+5\x14\x14\x00"))
    with pytest.raises(UnsupportedFormatError, match=r"rec\.edf: discontinuous EDF\+D"):
        read_recording(path)


def test_edf_record_count_leniency(tmp_path: Path) -> None:
    path = _edf(tmp_path)
    _patch(path, 236, b"-1      ")  # "recording in progress"
    with pytest.warns(HfsEmgWarning, match="declares -1 data records, the file holds 4"):
        assert read_recording(path).n_samples == 2000
    _patch(path, 236, b"3       ")  # fewer records declared than stored
    with pytest.warns(HfsEmgWarning, match="bytes after the 3 declared data records"):
        assert read_recording(path).n_samples == 1500
