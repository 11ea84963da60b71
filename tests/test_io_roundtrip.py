"""Writers: EDF+ / BDF+ / npz round trips within the format's resolution, atomic output."""

from __future__ import annotations

import warnings

import edfio
import mne
import numpy as np
import pandas as pd
import pytest

from hfs_emg import HfsEmgWarning, from_array
from hfs_emg.io import read_recording, write_recording
from hfs_emg.io.edf_write import digital_step


def _rec(n: int = 2345, sfreq: float = 2000.0, tstart: float = 0.0):
    rng = np.random.default_rng(1)
    data = np.vstack(
        [
            rng.normal(0, 40, n),  # uV-scale EMG
            rng.normal(0, 3, n) * 1e3,  # mV-scale response, given in uV
            np.linspace(10, 80, n),  # an angle, not a voltage
        ]
    )
    events = pd.DataFrame(
        {
            "onset_s": tstart + np.array([0.1234, 0.5, 1.0005]),
            "duration_s": [0.0, 0.25, 0.0],
            "label": ["stim", "burst", "R1 onset"],
        }
    )
    return from_array(
        data,
        sfreq,
        ["oculi_L", "mentalis_L", "angle"],
        units=["uV", "uV", "deg"],
        events=events,
        tstart=tstart,
    )


@pytest.mark.parametrize("ext", ["edf", "bdf"])
@pytest.mark.parametrize("tstart", [0.0, 12.5])
def test_edf_bdf_round_trip(tmp_path, ext: str, tstart: float) -> None:
    rec = _rec(tstart=tstart)
    path = tmp_path / f"x.{ext}"
    write_recording(rec, path)
    back = read_recording(path)
    assert back.ch_names == rec.ch_names
    assert list(back.channels["unit"]) == list(rec.channels["unit"])
    assert back.sfreq == rec.sfreq and back.n_samples == rec.n_samples
    assert back.tstart == pytest.approx(tstart)
    # Error <= one digital step of each channel, from the header as edfio reads it.
    header = (edfio.read_bdf if ext == "bdf" else edfio.read_edf)(path)
    for i in range(rec.n_channels):
        lo, hi = header.signals[i].physical_range
        step = digital_step(lo, hi, bdf=ext == "bdf")
        assert np.abs(back.data[i] - rec.data[i]).max() <= step
    # EDF+ annotation onsets are written with 100 us resolution (well below 1 / sfreq).
    np.testing.assert_allclose(back.events["onset_s"], rec.events["onset_s"], atol=1e-4)
    np.testing.assert_allclose(back.events["duration_s"], rec.events["duration_s"], atol=1e-4)
    assert list(back.events["label"]) == list(rec.events["label"])


def test_bdf_is_finer_than_edf(tmp_path) -> None:
    rec = _rec()
    errors = {}
    for ext in ("edf", "bdf"):
        write_recording(rec, tmp_path / f"x.{ext}")
        errors[ext] = np.abs(read_recording(tmp_path / f"x.{ext}").data - rec.data).max()
    assert errors["bdf"] < errors["edf"] / 100


def test_npz_round_trip_exact(tmp_path) -> None:
    rec = _rec(tstart=3.0)
    write_recording(rec, tmp_path / "x.npz")
    back = read_recording(tmp_path / "x.npz")
    np.testing.assert_array_equal(back.data, rec.data)
    pd.testing.assert_frame_equal(back.events, rec.events)
    assert back.tstart == 3.0 and back.ch_names == rec.ch_names


def test_write_refuses_overwrite_and_is_atomic(tmp_path) -> None:
    rec = _rec()
    path = tmp_path / "x.edf"
    write_recording(rec, path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_recording(rec, path)
    bad = from_array(np.zeros((1, 10)), 100.0, ["a_name_longer_than_16_chars"])
    with pytest.raises(ValueError, match="16"):
        write_recording(bad, path, overwrite=True)
    assert path.read_bytes() == before  # a failed write leaves the old file
    assert [p.name for p in tmp_path.iterdir()] == ["x.edf"]  # and no temporary file


def test_written_edf_reads_in_mne(tmp_path) -> None:
    rec = _rec()
    write_recording(rec, tmp_path / "x.edf")
    raw = mne.io.read_raw_edf(tmp_path / "x.edf", verbose="error")
    # MNE sees the padded last record; the first n samples agree with ours (volts -> uV).
    np.testing.assert_allclose(
        raw.get_data(picks=[0])[0, : rec.n_samples] * 1e6, rec.data[0], atol=0.01
    )
    assert list(raw.annotations.description) == list(rec.events["label"])


@pytest.mark.parametrize("ext", ["edf", "bdf"])
def test_trigger_codes_round_trip_exactly(tmp_path, ext: str) -> None:
    codes = np.zeros(3000)
    codes[[500, 1500, 2500]] = [1, 4096, 255]
    with warnings.catch_warnings():
        warnings.simplefilter("error", HfsEmgWarning)  # trigger codes need no unit
        rec = from_array(
            np.vstack([np.ones(3000), codes]),
            1000.0,
            ["oris", "Status"],
            units=["uV", None],
            ch_types=["emg", "stim"],
        )
    write_recording(rec, tmp_path / f"t.{ext}")
    back = read_recording(tmp_path / f"t.{ext}")
    np.testing.assert_array_equal(back.get_data(picks="Status")[0], codes)
    assert list(back.events["label"]) == ["Status/1", "Status/4096", "Status/255"]
    np.testing.assert_allclose(back.events["onset_s"], [0.5, 1.5, 2.5])


def test_fif_reader_windows_and_stim_events(tmp_path) -> None:
    rng = np.random.default_rng(2)
    x = np.vstack([rng.normal(0, 50, 5000) * 1e-6, np.zeros(5000)])
    x[1, 1000:1010] = 5
    x[1, 3000:3010] = 3
    info = mne.create_info(["oculi_L", "STI 014"], 1000.0, ["emg", "stim"])
    raw = mne.io.RawArray(x, info, first_samp=2000, verbose="error")
    raw.set_annotations(mne.Annotations([1.0], [0.5], ["blink"]))
    raw.save(tmp_path / "t_raw.fif", verbose="error")
    rec = read_recording(tmp_path / "t_raw.fif")
    assert rec.tstart == 2.0 and rec.ch_types == ["emg", "stim"]
    np.testing.assert_allclose(rec.data[0], x[0] * 1e6)
    # Annotation onsets count from the first sample in MNE (orig_time None): 1 s -> 3 s.
    assert list(rec.events["label"]) == ["blink", "STI 014/5", "STI 014/3"]
    np.testing.assert_allclose(rec.events["onset_s"], [3.0, 3.0, 5.0])
    win = read_recording(tmp_path / "t_raw.fif", tmin=4.5, tmax=5.5)
    np.testing.assert_array_equal(win.data, rec.data[:, 2500:3501])
    assert list(win.events["label"]) == ["STI 014/3"]


def test_edf_units_from_header(tmp_path) -> None:
    """Values are converted from the unit each signal header declares."""
    x = np.sin(np.arange(1000) / 10.0)
    sigs = [
        edfio.EdfSignal(x, 250.0, label=label, physical_dimension=unit, physical_range=(-2, 2))
        for label, unit in [("a_uv", "uV"), ("b_mv", "mV"), ("c_v", "V"), ("temp", "degC")]
    ]
    edfio.Edf(sigs).write(tmp_path / "u.edf")
    rec = read_recording(tmp_path / "u.edf")
    got = rec.data.max(axis=1) / x.max()
    np.testing.assert_allclose(got, [1.0, 1e3, 1e6, 1.0], rtol=1e-3)
    assert list(rec.channels["unit"]) == ["uV", "uV", "uV", "degC"]
    assert rec.ch_types[3] == "misc"


def test_text_time_column_and_unit(tmp_path) -> None:
    t = 5.0 + np.arange(400) / 2000.0
    x = np.sin(2 * np.pi * 50 * t)
    path = tmp_path / "sig.csv"
    pd.DataFrame({"time_s": t, "oris_mV": x, "state": np.repeat(["rest", "spasm"], 200)}).to_csv(
        path, index=False
    )
    rec = read_recording(path, unit="mV", label_column="state")
    assert rec.sfreq == pytest.approx(2000.0) and rec.tstart == pytest.approx(5.0)
    np.testing.assert_allclose(rec.data[0], x * 1e3)
    assert list(rec.events["label"]) == ["state/rest", "state/spasm"]
    np.testing.assert_allclose(rec.events["onset_s"], [5.0, 5.1])
    np.testing.assert_allclose(rec.events["duration_s"], [0.1, 0.1])
    ms = tmp_path / "ms.tsv"
    ms.write_text("t_ms\ta\n0\t1\n2\t2\n4\t3\n")
    assert read_recording(ms, time_column="t_ms", units="uV").sfreq == pytest.approx(500.0)


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_edf_samples_finite_by_construction_are_not_searched_for_nan(
    tmp_path, monkeypatch, suffix
) -> None:
    """Integer EDF/BDF samples scaled by finite header factors cannot be NaN or infinite:
    the read does not pass over them looking for any (the same recording), a text or npz
    file's samples still are, and a header whose scaling could overflow the dtype is not
    trusted."""
    import hfs_emg.io._base as base
    import hfs_emg.recording as recording
    from hfs_emg.io import open_recording

    path = tmp_path / f"x{suffix}"
    write_recording(_rec(), path)
    before = read_recording(path)
    calls = []

    def counted(x, *a, **k):
        calls.append(np.shape(x))
        return np.isfinite(np.asarray(x, dtype=np.float64)).all(axis=-1)

    monkeypatch.setattr(recording, "finite_rows", counted)
    monkeypatch.setattr(base, "finite_rows", counted)
    after = read_recording(path)
    assert calls == []
    np.testing.assert_array_equal(after.data, before.data)
    assert after.channels.equals(before.channels)
    npz = tmp_path / "x.npz"
    write_recording(before, npz)
    read_recording(npz)
    assert calls  # a float format is checked
    with open_recording(path) as r:
        idx = np.arange(len(r.ch_names))
        assert r._finite_by_construction(idx, np.dtype(np.float32))
        r._gain = np.full_like(r._gain, 1e36)  # x 2**24 overflows float32, not float64
        assert not r._finite_by_construction(idx, np.dtype(np.float32))
        assert r._finite_by_construction(idx, np.dtype(np.float64))
