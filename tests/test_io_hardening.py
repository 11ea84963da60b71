"""Hostile and malformed inputs to the readers (issue 9): clear hfs_emg errors, never silence.

Every malformed file is built in ``tmp_path`` (by editing the bytes of a file this test writes,
of a bundled example, or of a copy of a third-party file), so no input is ever modified.
"""

from __future__ import annotations

import hashlib
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
    UnsupportedFormatError,
    from_array,
)
from hfs_emg.io import open_recording, read_recording, write_recording

edfio = pytest.importorskip("edfio")

# ---------------------------------------------------------------------------------- helpers
_GLOBAL = {
    "recording": (88, 80),
    "startdate": (168, 8),
    "starttime": (176, 8),
    "n_head": (184, 8),
    "n_rec": (236, 8),
    "duration": (244, 8),
    "ns": (252, 4),
}
_SIGNAL = [
    ("label", 16),
    ("transducer", 80),
    ("unit", 8),
    ("pmin", 8),
    ("pmax", 8),
    ("dmin", 8),
    ("dmax", 8),
    ("prefilter", 80),
    ("spr", 8),
    ("reserved", 32),
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edf(tmp_path: Path, ext: str = "edf", *, events: bool = False, name: str = "rec") -> Path:
    """A 4 s, 2-channel 500 Hz recording written by hfs_emg (events as EDF+ annotations)."""
    t = np.arange(2000) / 500
    ev = {"onset_s": [0.5, 1.5, 2.5], "duration_s": [0, 0, 0], "label": ["stim"] * 3}
    rec = from_array(
        np.vstack([100 * np.sin(2 * np.pi * 7 * t), 50 * np.cos(2 * np.pi * 3 * t)]),
        500.0,
        ["oris", "mentalis"],
        events=__import__("pandas").DataFrame(ev) if events else None,
    )
    path = tmp_path / f"{name}.{ext}"
    write_recording(rec, path)
    return path


def _third_party_signal():
    return edfio.EdfSignal(
        np.arange(1000.0), 100, label="oris", physical_range=(-1, 1000), physical_dimension="uV"
    )


def _set(path: Path, field: str, value: str, signal: int | None = None) -> None:
    """Overwrite one header field of an EDF/BDF file in place (left-aligned, space padded)."""
    data = bytearray(path.read_bytes())
    ns = int(data[252:256].decode().strip())
    if signal is None:
        start, width = _GLOBAL[field]
    else:
        start = 256
        for name, w in _SIGNAL:
            if name == field:
                start, width = start + signal * w, w
                break
            start += w * ns
    raw = value.encode("latin-1").ljust(width)[:width]
    data[start : start + width] = raw
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------------------- boundary
@pytest.mark.parametrize("exc", [ZeroDivisionError, AssertionError, OverflowError, AttributeError])
def test_foreign_exception_in_header_becomes_corrupt_file_error(tmp_path, monkeypatch, exc):
    from hfs_emg.io.edf import EdfReader

    path = _edf(tmp_path)

    def boom(self):
        raise exc("library detail")

    monkeypatch.setattr(EdfReader, "_parse_header", boom)
    with pytest.raises(CorruptFileError, match=r"rec\.edf.*header.*library detail") as info:
        read_recording(path)
    assert isinstance(info.value.__cause__, exc)


def test_foreign_exception_in_samples_and_events_is_wrapped(tmp_path, monkeypatch):
    from hfs_emg.io.edf import EdfReader

    path = _edf(tmp_path)
    reader = open_recording(path)
    monkeypatch.setattr(EdfReader, "_read_raw", lambda *a: 1 / 0)
    with pytest.raises(CorruptFileError, match=r"rec\.edf.*samples.*ZeroDivisionError"):
        reader.read()
    monkeypatch.setattr(EdfReader, "_read_events", lambda self: [][1])
    with pytest.raises(CorruptFileError, match=r"rec\.edf.*events.*IndexError"):
        reader.read_events()


def test_not_implemented_becomes_unsupported_and_memory_error_passes(tmp_path, monkeypatch):
    from hfs_emg.io.edf import EdfReader

    path = _edf(tmp_path)

    def unsupported(self):
        raise NotImplementedError("compressed variant")

    monkeypatch.setattr(EdfReader, "_parse_header", unsupported)
    with pytest.raises(UnsupportedFormatError, match=r"does not support.*compressed variant"):
        read_recording(path)

    def oom(self):
        raise MemoryError

    monkeypatch.setattr(EdfReader, "_parse_header", oom)
    with pytest.raises(MemoryError):
        read_recording(path)


# ---------------------------------------------------------------------------------- EDF header
@pytest.mark.parametrize(
    ("field", "signal", "value", "message"),
    [
        ("duration", None, "inf", r"'data record duration' holds 'inf', not a finite"),
        ("n_rec", None, "nan", r"'number of data records' holds 'nan'"),
        ("ns", None, "inf", r"'number of signals' holds 'inf'"),
        ("pmax", 0, "inf", r"physical maximum of 'oris'\" holds 'inf'"),
        ("pmin", 1, "-inf", r"physical minimum of 'mentalis'\" holds '-inf'"),
        ("dmax", 0, "nan", r"digital maximum of 'oris'\" holds 'nan'"),
        ("spr", 0, "500.7", r"samples per record of signal 'oris'.*'500.7'.*integer"),
        ("n_head", None, "768.5", r"'bytes in header' holds '768.5'.*integer"),
        ("n_rec", None, "3.5", r"'number of data records' holds '3.5'.*integer"),
        ("dmin", 1, "-32768.5", r"digital minimum of 'mentalis'\" holds '-32768.5'.*integer"),
        ("duration", None, "0", r"data record duration is 0.0 s.*annotation-only"),
        ("duration", None, "-1", r"data record duration is -1.0 s"),
        ("spr", 1, "0", r"samples per record must be >= 1.*'mentalis'"),
        ("spr", 0, "1_000", r"samples per record of signal 'oris'\" holds '1_000 *', not a number"),
    ],
)
def test_edf_header_field_refused(tmp_path, field, signal, value, message):
    path = _edf(tmp_path)
    _set(path, field, value, signal)
    with pytest.raises(CorruptFileError, match=message):
        read_recording(path)


def test_edf_physical_min_equal_max_refused(tmp_path):
    path = _edf(tmp_path)
    _set(path, "pmin", "100", 1)
    _set(path, "pmax", "100", 1)
    with pytest.raises(CorruptFileError, match=r"physical minimum == maximum \(100\).*'mentalis'"):
        read_recording(path)


@pytest.mark.parametrize(
    ("ext", "field", "value", "bits"),
    [("edf", "dmax", "40000", 16), ("edf", "dmin", "-32769", 16), ("bdf", "dmax", "8388608", 24)],
)
def test_edf_digital_range_beyond_bit_depth(tmp_path, ext, field, value, bits):
    path = _edf(tmp_path, ext)
    _set(path, field, value, 0)
    with pytest.raises(CorruptFileError, match=rf"'oris' exceeds the {bits}-bit samples"):
        read_recording(path)


def test_edf_invalid_start_date_warns(tmp_path):
    path = _edf(tmp_path)
    _set(path, "recording", "Startdate 15-JAN-2026 X X X")  # also drops hfs_emg's key
    _set(path, "startdate", "31.02.26")
    with pytest.warns(HfsEmgWarning, match=r"start date/time '31.02.26'.*meas_date"):
        rec = read_recording(path)
    assert rec.meta["meas_date"] is None
    _set(path, "startdate", "15.01.26")
    _set(path, "starttime", "09.30.05")
    import datetime as dt

    assert read_recording(path).meta["meas_date"] == dt.datetime(2026, 1, 15, 9, 30, 5)


# ---------------------------------------------------------------------------------- private key
def test_private_keys_in_third_party_text_are_not_trusted(tmp_path):
    """A file hfs_emg did not write whose free text mentions hfs_emg's keys: read by the spec."""
    path = tmp_path / "third_party.edf"
    sig = _third_party_signal()
    for text in ("hfs_emg_n=10", "hfs_emg=10,5.0,deadbeef", "hfs_emg_tstart=7.0"):
        edf = edfio.Edf([sig], recording=edfio.Recording(additional=(text,)))
        edf.write(path)
        with pytest.warns(HfsEmgWarning, match="without a valid hfs_emg signature"):
            rec = read_recording(path)
        assert rec.n_samples == 1000 and rec.tstart == 0.0


def test_private_keys_of_hfs_emg_files_are_trusted(tmp_path):
    rec = from_array(np.ones((1, 1234)), 500.0, ["oris"], tstart=2.5)
    path = tmp_path / "mine.edf"
    write_recording(rec, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HfsEmgWarning)
        back = read_recording(path)
    assert back.n_samples == 1234 and back.tstart == 2.5
    # the signature binds the key to the labels: a renamed channel invalidates it
    data = path.read_bytes()
    path.write_bytes(data.replace(b"oris            ", b"ORIS            ", 1))
    with pytest.warns(HfsEmgWarning, match="signature"):
        assert read_recording(path).n_samples == 1500  # padding of the 3 records of 500


def test_non_finite_start_in_edf_header_refused(tmp_path):
    from hfs_emg.io.edf import private_signature

    path = tmp_path / "nan.edf"
    sig = _third_party_signal()
    for tstart in ("nan", "inf"):
        key = f"hfs_emg=1000,{tstart},{private_signature(1000, tstart, ['oris'])}"
        edfio.Edf([sig], recording=edfio.Recording(additional=(key,))).write(path)
        with pytest.raises(CorruptFileError, match=rf"start time '{tstart}' s.*not finite"):
            read_recording(path)


# ---------------------------------------------------------------------------------- times
@pytest.mark.parametrize("tstart", [np.nan, np.inf, -np.inf])
def test_from_array_non_finite_tstart(tstart):
    with pytest.raises(ParameterError, match="tstart must be a finite time"):
        from_array(np.zeros((1, 10)), 100.0, tstart=tstart)


@pytest.mark.parametrize(("tmin", "tmax"), [(np.nan, None), (None, np.inf), (-np.inf, 1.0)])
def test_read_recording_non_finite_window(tmp_path, tmin, tmax):
    path = _edf(tmp_path)
    with pytest.raises(ParameterError, match=r"rec\.edf.*(tmin|tmax)=.*not a finite time"):
        read_recording(path, tmin=tmin, tmax=tmax)


def test_npz_non_finite_tstart(tmp_path):
    import json

    path = tmp_path / "rec.npz"
    header = {"tstart": float("nan")}
    np.savez(path, data=np.zeros((1, 10)), sfreq=np.float64(100.0), header=json.dumps(header))
    with pytest.raises(CorruptFileError, match=r"rec\.npz.*non-finite start time"):
        read_recording(path)


# ---------------------------------------------------------------------------------- annotations
def test_annotation_exactly_at_the_end_is_kept(tmp_path):
    """pyedflib's test_generator.edf case: the second annotation "Recording ends" at the end."""
    path = tmp_path / "generator.edf"
    sig = edfio.EdfSignal(
        np.zeros(60 * 100), 100, label="sig", physical_range=(-1, 1), physical_dimension="uV"
    )
    ann = [edfio.EdfAnnotation(0.0, None, "Recording starts")]
    ann.append(edfio.EdfAnnotation(60.0, None, "Recording ends"))
    edfio.Edf([sig], annotations=ann).write(path)
    rec = read_recording(path)
    assert rec.events["label"].tolist() == ["Recording starts", "Recording ends"]
    assert rec.events["onset_s"].tolist() == [0.0, 60.0]
    # a window ending before the end does not take it; chunks give it exactly once
    assert len(read_recording(path, tmax=30.0).events) == 1
    with open_recording(path) as reader:
        labels = [e for r, _ in reader.iter_chunks(25.0) for e in r.events["label"]]
    assert labels == ["Recording starts", "Recording ends"]


def test_annotation_only_edf_plus(tmp_path):
    path = tmp_path / "annotations.edf"
    ann = [edfio.EdfAnnotation(0.0, None, "lights off"), edfio.EdfAnnotation(5.0, 2.0, "arousal")]
    edfio.Edf([], annotations=ann).write(path)
    with pytest.raises(UnsupportedFormatError, match=r"only annotations \(2 event\(s\)\) and no"):
        read_recording(path)
    with open_recording(path) as reader:
        ev = reader.read_events()
    assert ev["label"].tolist() == ["lights off", "arousal"]
    assert ev["onset_s"].tolist() == [0.0, 5.0] and ev["duration_s"].tolist() == [0.0, 2.0]


def test_malformed_tals_warn_with_count(tmp_path):
    path = _edf(tmp_path, events=True)
    data = path.read_bytes()
    assert data.count(b"stim") == 3
    # break two TALs: the onset's terminator 0x14 becomes a letter
    bad = data.replace(b"+1.5\x14stim", b"+1.5Xstim", 1).replace(b"+2.5\x14stim", b"+2.5Xstim", 1)
    assert bad != data
    path.write_bytes(bad)
    with pytest.warns(HfsEmgWarning, match=r"2 malformed EDF\+ annotation\(s\).*1 well-formed"):
        rec = read_recording(path)
    assert rec.events["onset_s"].tolist() == [0.5]


# ---------------------------------------------------------------------------------- writing
def test_write_edf_non_ascii_channel_name(tmp_path):
    rec = from_array(np.ones((2, 1000)), 500.0, ["orbicularis_é", "mentalis"])
    path = tmp_path / "accent.edf"
    with pytest.warns(HfsEmgWarning, match=r"'orbicularis_é' is not ASCII.*'orbicularis_e'"):
        write_recording(rec, path)
    assert read_recording(path).ch_names == ["orbicularis_e", "mentalis"]
    with pytest.raises(ParameterError, match="no ASCII characters"):
        write_recording(from_array(np.ones((1, 100)), 100.0, ["肌"]), tmp_path / "cjk.edf")


# ---------------------------------------------------------------------------------- WFDB
@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("record_line", "message"),
    [
        ("emg_healthy 1 -4000 50860", r"field 'fs'\) '-4000'; it must be a finite number > 0"),
        ("emg_healthy 1 0 50860", r"field 'fs'\) '0'"),
        ("emg_healthy 1 inf 50860", r"field 'fs'\) 'inf'"),
        ("emg_healthy 1 nan/1 50860", r"field 'fs'\) 'nan/1'"),
        ("emg_healthy 1", r"gives no sampling frequency \(field 'fs'\); wfdb would assume 250"),
    ],
)
def test_wfdb_sampling_frequency_checked(tmp_path, shared_data, record_line, message):
    src = shared_data / "physionet-emgdb"
    before = _sha(src / "emg_healthy.hea")
    for name in ("emg_healthy.hea", "emg_healthy.dat"):
        shutil.copyfile(src / name, tmp_path / name)
    hea = tmp_path / "emg_healthy.hea"
    hea.write_text(hea.read_text().replace("emg_healthy 1 4000 50860", record_line, 1))
    with pytest.raises(CorruptFileError, match=message):
        read_recording(hea)
    assert _sha(src / "emg_healthy.hea") == before


# ---------------------------------------------------------------------------------- BrainVision
@pytest.fixture
def vhdr(tmp_path, shared_data):
    """A copy of MNE's BrainVision test recording in tmp_path; the original is checked intact."""
    src = shared_data / "mne-brainvision"
    before = {p.name: _sha(p) for p in src.glob("test.*")}
    for name in before:
        shutil.copyfile(src / name, tmp_path / name)
    yield tmp_path / "test.vhdr"
    assert {p.name: _sha(p) for p in src.glob("test.*")} == before


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text("utf-8")
    assert old in text
    out = path.with_name("edited.vhdr")
    out.write_text(text.replace(old, new, 1), "utf-8")
    return out


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("old", "new", "error", "message"),
    [
        ("BinaryFormat=INT_16", "BinaryFormat=BOGUS", UnsupportedFormatError, "'BOGUS' is not"),
        ("SamplingInterval=1000", "SamplingInterval=0", CorruptFileError, "'SamplingInterval'"),
        ("SamplingInterval=1000", "SamplingInterval=-5", CorruptFileError, "holds '-5'"),
        ("SamplingInterval=1000", "SamplingInterval=inf", CorruptFileError, "holds 'inf'"),
        ("NumberOfChannels=32", "NumberOfChannels=abc", CorruptFileError, "'NumberOfChannels'"),
        ("DataFile=test.eeg", "DataFile=../x/test.eeg", CorruptFileError, "outside the header"),
        ("DataFile=test.eeg", "DataFile=/etc/passwd", CorruptFileError, "outside the header"),
        ("MarkerFile=test.vmrk", "MarkerFile=..\\test.vmrk", CorruptFileError, "outside"),
        (
            "[Binary Infos]",
            "[Common Infos]\nX=1\n[Binary Infos]",
            CorruptFileError,
            r"BrainVision header \(DuplicateSectionError",
        ),
    ],
)
def test_brainvision_malformed_header(vhdr, old, new, error, message):
    with pytest.raises(error, match=message):
        read_recording(_edit(vhdr, old, new))


@pytest.mark.shared_data
def test_brainvision_latin1_header_reads_like_utf8(vhdr):
    """A header saved in latin-1 although it says UTF-8: µV still read as microvolts."""
    latin = vhdr.with_name("latin.vhdr")
    latin.write_bytes(vhdr.read_text("utf-8").encode("latin-1"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HfsEmgWarning)  # the file's non-voltage channels
        ref, got = read_recording(vhdr), read_recording(latin)
    assert got.channels["unit"].tolist() == ref.channels["unit"].tolist()
    np.testing.assert_array_equal(got.data, ref.data)


@pytest.mark.shared_data
@pytest.mark.filterwarnings("ignore:.*unknown or missing unit:hfs_emg.HfsEmgWarning")
def test_brainvision_missing_marker_file_warns(vhdr):
    vhdr.with_name("test.vmrk").unlink()
    with pytest.warns(HfsEmgWarning, match=r"marker file 'test.vmrk' is missing.*without events"):
        rec = read_recording(vhdr)
    assert rec.events.empty


# ---------------------------------------------------------------------------------- ABF
@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "offset", "fmt", "value", "message"),
    [
        # ABF2 section table at byte 76, 16 bytes per section: TagSection (12th) entry count,
        # ADCSection (2nd) entry size; ABF1 tag count at byte 48
        ("pclamp11_4ch.abf", 76 + 16 * 11 + 8, "<q", 2**40, r"TagSection declares 1099511627776"),
        ("pclamp11_4ch.abf", 76 + 16 * 1 + 4, "<I", 0, r"ADCSection declares 4 entries of 0 b"),
        ("multichannelAbf1WithTags.abf", 48, "<i", 2**31 - 1, r"ABF1 header, 2147483647 tag"),
    ],
)
def test_abf_section_counts_beyond_the_file(
    tmp_path, shared_data, name, offset, fmt, value, message
):
    """A bit flip in a section count made neo loop for hours; now an immediate error."""
    import struct

    src = shared_data / "pyabf-abf" / name
    before = _sha(src)
    data = bytearray(src.read_bytes())
    if fmt == "<I":  # an entry size of 0 only matters when the section has entries
        assert struct.unpack_from("<q", data, offset + 4)[0] > 0
    struct.pack_into(fmt, data, offset, value)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=message):
        read_recording(path)
    assert _sha(src) == before


# ---------------------------------------------------------------------------------- npz
def test_npz_header_json_list(tmp_path):
    path = tmp_path / "rec.npz"
    np.savez(path, data=np.zeros((1, 10)), sfreq=np.float64(100.0), header="[1, 2]")
    with pytest.raises(CorruptFileError, match=r"rec\.npz: the 'header' entry is a JSON list"):
        read_recording(path)
    np.savez(path, data=np.zeros((1, 10)), sfreq=np.float64(100.0), header='{"meta": [1]}')
    with pytest.raises(CorruptFileError, match=r"field 'meta' is a JSON list, not dict"):
        read_recording(path)


def test_npz_data_not_an_array(tmp_path):
    import zipfile

    path = tmp_path / "rec.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data.npy", b"this is not an npy array")
    with pytest.raises(CorruptFileError, match=r"rec\.npz"):
        read_recording(path, sfreq=100.0)
    np.savez(path, data=np.array(["a", "b"]), sfreq=np.float64(100.0))
    with pytest.raises(CorruptFileError, match=r"'data' entry is not a numeric array"):
        read_recording(path)


# ---------------------------------------------------------------------------------- text
def test_csv_rows_with_more_fields_than_header(tmp_path):
    path = tmp_path / "extra.csv"
    x = np.linspace(-1, 1, 200)
    path.write_text("time,emg\n" + "\n".join(f"{i / 100:.2f},{v:.3f}" for i, v in enumerate(x)))
    rec = read_recording(path, units="uV")
    np.testing.assert_allclose(rec.data[0], np.round(x, 3))
    # the same with decimal commas: four fields per row under a two-name header
    comma = tmp_path / "comma.csv"
    comma.write_text(path.read_text().replace(".", ","))
    with pytest.raises(DataError, match=r"comma\.csv.*line 2 has 4 fields.*names 2.*decimal=','"):
        read_recording(comma, units="uV")
    # a leading counter column the header does not name is not taken as the index
    counter = tmp_path / "counter.csv"
    counter.write_text("a,b\n" + "\n".join(f"{i},{i % 7},{i % 5}" for i in range(100)))
    with pytest.raises(DataError, match=r"line 2 has 3 fields but the header names 2"):
        read_recording(counter, sfreq=100.0, units="uV")
    spaced = tmp_path / "spaced.txt"
    spaced.write_text(counter.read_text().replace(",", " "))
    with pytest.raises(DataError, match=r"spaced\.txt.*line 2 has 3 fields but the header names 2"):
        read_recording(spaced, sfreq=100.0, units="uV")


def test_decimal_comma_option(tmp_path):
    path = tmp_path / "semi.csv"
    x = np.linspace(-1, 1, 200)
    rows = [f"{i / 100:.2f};{v:.3f}".replace(".", ",") for i, v in enumerate(x)]
    path.write_text("time;emg\n" + "\n".join(rows))
    with pytest.raises(DataError, match=r"not numeric.*decimal=','"):
        read_recording(path, units="uV")
    rec = read_recording(path, units="uV", decimal=",")
    assert rec.sfreq == pytest.approx(100.0)
    np.testing.assert_allclose(rec.data[0], np.round(x, 3))
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1,2\n")
    with pytest.raises(ParameterError, match="decimal=',' needs ';' or a tab"):
        read_recording(plain, decimal=",")


# ---------------------------------------------------------------------------------- events
def test_debounce_that_drops_stimuli_warns_with_count():
    import pandas as pd

    from hfs_emg import find_stim_events

    sfreq = 10000.0
    # 40 trains 1 s apart of 73 or 74 pulses 1 ms apart: 2,940 stimuli, 40 after debouncing
    sizes = [73, 74] * 20
    starts = np.concatenate([k * 10000 + 500 + np.arange(n) * 10 for k, n in enumerate(sizes)])
    assert starts.size == 2940
    x = np.zeros((2, 41 * 10000))
    x[1, starts] = 5.0
    rec = from_array(x, sfreq, ["oris", "trigger"], ch_types=["emg", "stim"])
    with pytest.warns(HfsEmgWarning, match=r"2900 of 2940 rising edges.*dropped.*40 stimuli kept"):
        ev = find_stim_events(rec, source="trigger", min_interval_s=0.02)
    assert len(ev) == 40
    events = pd.DataFrame({"onset_s": starts / sfreq, "duration_s": 0.0, "label": "stim"})
    rec2 = from_array(x[:1], sfreq, ["oris"], events=events)
    with pytest.warns(HfsEmgWarning, match=r"2900 of 2940 stimulus events.*dropped"):
        assert len(find_stim_events(rec2, source="events", min_interval_s=0.02)) == 40
    with warnings.catch_warnings():
        warnings.simplefilter("error", HfsEmgWarning)
        assert len(find_stim_events(rec, source="trigger", min_interval_s=0.0005)) == 2940


# ---------------------------------------------------------------------------------- typing
def test_ecg_lead_names_typed_ecg(tmp_path):
    names = ["MLII", "V5", "aVR", "II", "oris_L"]
    rec = from_array(np.ones((5, 100)), 100.0, names, units="mV")
    assert rec.ch_types == ["ecg", "ecg", "ecg", "ecg", "emg"]
    path = tmp_path / "ecg.edf"
    write_recording(rec, path)
    assert read_recording(path).ch_types == ["ecg", "ecg", "ecg", "ecg", "emg"]


def test_write_edf_flat_channel(tmp_path):
    """A flat channel's tiny physical range must still fit the 8-character header field."""
    rec = from_array(np.zeros((2, 1000)), 500.0, ["oris", "mentalis"], units="mV")
    path = tmp_path / "flat.edf"
    write_recording(rec, path)
    np.testing.assert_allclose(read_recording(path).data, 0.0, atol=1e-6)


# ---------------------------------------------------------------------------------- inputs intact
def test_inputs_unchanged(tmp_path, example_dir):
    src = example_dir / "lsr_session.edf"
    before = _sha(src)
    copy = tmp_path / "lsr.edf"
    shutil.copyfile(src, copy)
    _set(copy, "pmax", "inf", 0)
    with pytest.raises(CorruptFileError):
        read_recording(copy)
    read_recording(src, tmax=1.0)
    assert _sha(src) == before


def test_values_that_overflow_once_converted_to_microvolts_are_refused() -> None:
    # Found by the third-party fuzzer: a finite 1e308 stored in mV is inf in µV.
    from hfs_emg import DataError, from_array

    x = np.zeros((2, 100))
    x[1, 40] = 1e308
    with pytest.raises(DataError, match=r"'b'.*overflow.*t=0\.04"):
        from_array(x, 1000.0, ["a", "b"], units="mV")
    with pytest.raises(DataError, match="overflow the float32"):
        from_array(np.full((1, 10), 1e39), 1000.0, ["a"], units="uV", dtype="float32")
    ok = from_array(np.full((1, 10), 1e300), 1000.0, ["a"], units="uV")  # finite stays
    assert np.isfinite(ok.data).all()
