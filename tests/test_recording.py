"""Recording model: construction, units, selection, cropping, MNE round trip, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hfs_emg
from hfs_emg import ChannelError, DataError, HfsEmgError, HfsEmgWarning, from_array


@pytest.fixture
def rec() -> hfs_emg.Recording:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 2000))
    return from_array(
        data,
        1000.0,
        ["Orbicularis oculi L", "mentalis_L", "trigger"],
        units=["mV", "mV", "V"],
        events=pd.DataFrame({"onset_s": [0.5, 1.5], "label": ["stim", "stim"]}),
    )


def test_units_converted_to_microvolts() -> None:
    data = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])
    rec = from_array(data, 100.0, ["a", "b", "c"], units=["V", "mV", "uV"])
    np.testing.assert_allclose(rec.data, [[1e6, -2e6], [3e3, 4e3], [5.0, 6.0]])
    np.testing.assert_allclose(rec.get_data(units="mV"), data * [[1e3], [1], [1e-3]])
    assert rec.channels["orig_unit"].tolist() == ["V", "mV", "uV"]
    assert set(rec.channels["unit"]) == {"uV"}


def test_input_array_not_modified_and_data_read_only() -> None:
    data = np.ones((1, 10))
    rec = from_array(data, 10.0, ["oris"], units="mV")
    assert np.all(data == 1.0)
    with pytest.raises(ValueError):
        rec.data[0, 0] = 5.0


def test_channel_inference(rec: hfs_emg.Recording) -> None:
    ch = rec.channels.set_index("name")
    assert ch.loc["Orbicularis oculi L", "muscle"] == "orbicularis_oculi"
    assert ch.loc["Orbicularis oculi L", "branch"] == "zygomatic"
    assert ch.loc["mentalis_L", "branch"] == "marginal_mandibular"
    assert ch.loc["mentalis_L", "side"] == "left"
    assert ch.loc["trigger", "type"] == "stim"
    assert ch.loc["trigger", "muscle"] is None


def test_pick_by_type_name_and_index(rec: hfs_emg.Recording) -> None:
    assert rec.pick("emg").ch_names == ["Orbicularis oculi L", "mentalis_L"]
    assert rec.pick(["trigger", 0]).ch_names == ["trigger", "Orbicularis oculi L"]
    np.testing.assert_array_equal(rec.pick("mentalis_L").data[0], rec.data[1])
    with pytest.raises(ChannelError, match="nope"):
        rec.pick("nope")


def test_crop_keeps_file_clock(rec: hfs_emg.Recording) -> None:
    part = rec.crop(1.0, 1.999)
    assert part.tstart == pytest.approx(1.0)
    assert part.n_samples == 1000
    np.testing.assert_array_equal(part.data, rec.data[:, 1000:2000])
    assert part.events["onset_s"].tolist() == [1.5]
    assert part.times[0] == pytest.approx(1.0)
    assert [h["step"] for h in part.history] == ["crop"]
    assert rec.history == ()  # the original is untouched
    again = part.crop(1.5, 1.6)
    np.testing.assert_array_equal(again.data, rec.data[:, 1500:1601])


def test_mne_round_trip(rec: hfs_emg.Recording) -> None:
    part = rec.crop(0.25, None)
    raw = part.to_mne()
    assert raw.get_channel_types() == ["emg", "emg", "stim"]
    np.testing.assert_allclose(raw.get_data()[0], part.data[0] * 1e-6)
    back = hfs_emg.Recording.from_mne(raw)
    np.testing.assert_allclose(back.data, part.data)
    assert back.tstart == pytest.approx(part.tstart)
    np.testing.assert_allclose(back.events["onset_s"], part.events["onset_s"])
    assert back.events["label"].tolist() == part.events["label"].tolist()
    assert back.ch_types == part.ch_types


def test_nan_is_an_error_naming_channel_and_time() -> None:
    data = np.zeros((2, 100))
    data[1, 50] = np.nan
    with pytest.raises(DataError, match=r"'mentalis'.*t=0\.5"):
        from_array(data, 100.0, ["oculi", "mentalis"])


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"ch_names": ["a"]}, ChannelError),
        ({"ch_names": ["a", "a"]}, ChannelError),
        ({"ch_names": ["a", "b"], "units": ["uV"]}, ChannelError),
        ({"ch_names": ["a", "b"], "ch_types": "eggs"}, HfsEmgError),
    ],
)
def test_bad_channel_descriptions(kwargs: dict, exc: type) -> None:
    with pytest.raises(exc):
        from_array(np.zeros((2, 10)), 10.0, **kwargs)


@pytest.mark.parametrize("sfreq", [0, -1, np.nan, np.inf])
def test_bad_sfreq(sfreq: float) -> None:
    with pytest.raises(hfs_emg.SamplingRateError):
        from_array(np.zeros((1, 10)), sfreq)


def test_unknown_unit_warns_and_keeps_values() -> None:
    with pytest.warns(HfsEmgWarning, match="not a voltage"):
        rec = from_array(np.full((1, 4), 2048.0), 1000.0, ["EMG"], units="")
    assert rec.data[0, 0] == 2048.0
    assert rec.channels.loc[0, "type"] == "emg"


def test_repr_and_html(rec: hfs_emg.Recording) -> None:
    assert "3 ch" in repr(rec) and "1000 Hz" in repr(rec) and "2 events" in repr(rec)
    html = rec._repr_html_()
    assert "orbicularis_oculi" in html and "<table" in html


def test_events_sorted_and_validated() -> None:
    ev = hfs_emg.make_events([3.0, 1.0, 2.0], labels=["c", "a", "b"])
    assert ev["label"].tolist() == ["a", "b", "c"]
    with pytest.raises(DataError):
        hfs_emg.make_events([np.nan])


def test_stim_channel_without_unit_does_not_warn() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", HfsEmgWarning)
        rec = from_array(np.zeros((2, 10)), 10.0, ["oris", "trigger"], units=["uV", ""])
    assert rec.ch_types == ["emg", "stim"]
