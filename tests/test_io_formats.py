"""Per-format checks of the readers against other libraries and the data sources' own numbers."""

from __future__ import annotations

import warnings
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest
import wfdb

from hfs_emg import HfsEmgWarning
from hfs_emg.io import read_recording

pytestmark = pytest.mark.shared_data


def _quiet(path: Path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HfsEmgWarning)
        return read_recording(path, **kw)


@pytest.mark.parametrize(
    ("name", "n_events"), [("test.edf", 13), ("test_bdf_stim_channel.bdf", 9), ("test.bdf", 1)]
)
def test_edf_bdf_match_mne(shared_data: Path, name: str, n_events: int) -> None:
    path = shared_data / "mne-edf-bdf" / name
    rec = _quiet(path)
    raw = (
        mne.io.read_raw_edf(path, verbose="error")
        if name.endswith(".edf")
        else (mne.io.read_raw_bdf(path, verbose="error"))
    )
    volt = [i for i, t in enumerate(rec.ch_types) if t != "stim"]
    np.testing.assert_allclose(rec.data[volt], raw.get_data(picks=volt) * 1e6, atol=1e-6)
    found = mne.find_events(raw, stim_channel="Status", verbose="error")
    status = rec.events[rec.events["label"].str.startswith("Status/")]
    assert len(found) == len(status) == n_events
    np.testing.assert_allclose(status["onset_s"], found[:, 0] / raw.info["sfreq"])
    np.testing.assert_array_equal(status["value"], found[:, 2])


def test_edf_plus_annotations(shared_data: Path) -> None:
    rec = _quiet(shared_data / "mne-edf-bdf/test.edf")
    ann = rec.events[~rec.events["label"].str.startswith("Status/")]
    # SOURCE.md: start 0 s, type A 0.134 s, type A 0.39 s, type B 2.0 s, type A 2.5 s.
    assert list(ann["label"]) == ["start", "type A", "type A", "type B", "type A"]
    ref = edfio.read_edf(shared_data / "mne-edf-bdf/test.edf").annotations
    np.testing.assert_allclose(ann["onset_s"], [a.onset for a in ref])  # 0.1344, 0.3904...
    np.testing.assert_allclose(ann["duration_s"], [a.duration or 0.0 for a in ref])


def test_edf_trigger_signal(shared_data: Path) -> None:
    path = shared_data / "mne-edf-bdf/test_edf_stim_channel.edf"
    rec = _quiet(path)
    assert rec.channels.set_index("name").at["DIG DTRIG", "type"] == "stim"
    trig = edfio.read_edf(path).get_signal("DIG DTRIG").data  # physical 0 / 100
    rises = np.flatnonzero((trig[1:] == 100) & (trig[:-1] == 0)) + 1
    np.testing.assert_allclose(rec.events["onset_s"], rises / 128.0)
    assert set(rec.events["label"]) == {"DIG DTRIG/100"}


def test_bdf_status_is_digital(shared_data: Path) -> None:
    rec = _quiet(shared_data / "mne-edf-bdf/test_bdf_stim_channel.bdf")
    status = rec.get_data(picks="Status")[0]
    # As physical values the channel reads ~41009 "uV"; as codes it is 0..4.
    assert set(np.unique(status)) <= {0, 1, 2, 4} and rec.channels["unit"].iloc[-1] == ""


def test_brainvision_units_and_markers(shared_data: Path) -> None:
    path = shared_data / "mne-brainvision/test.vhdr"
    with pytest.warns(HfsEmgWarning, match=r"'CP5' \('BS'\), 'HL' \('ARU'\), 'ReRef' \('C'\)"):
        rec = read_recording(path)
    raw = mne.io.read_raw_brainvision(path, verbose="error")
    chans = rec.channels.set_index("name")
    assert list(chans.loc[["CP5", "CP6", "HL", "HR", "Vb", "ReRef"], "type"]) == ["misc"] * 6
    assert list(chans.loc[["CP6", "HR"], "unit"]) == ["µS", "uS"]
    np.testing.assert_allclose(rec.get_data(picks="eeg"), raw.get_data(picks="eeg") * 1e6)
    # Declared unit kept: raw integer x resolution 0.5, not MNE's rescaled siemens.
    np.testing.assert_allclose(rec.get_data(picks="CP6") * 1e-6, raw.get_data(picks="CP6"))
    np.testing.assert_allclose(rec.events["onset_s"], raw.annotations.onset)
    assert rec.events["label"].iloc[0] == "Stimulus/S253" and rec.events["value"].iloc[0] == 253
    # 14 markers in the .vmrk; "New Segment" sets the start time instead of an event.
    text = path.with_suffix(".vmrk").read_text("utf-8", "replace")
    assert text.count("\nMk") == 14 and len(rec.events) == 13


@pytest.mark.parametrize("name", ["emg_healthy", "emg_myopathy", "emg_neuropathy"])
def test_wfdb_matches_wfdb(shared_data: Path, name: str) -> None:
    base = shared_data / "physionet-emgdb" / name
    rec = read_recording(base.with_suffix(".hea"))
    ref = wfdb.rdrecord(str(base)).p_signal[:, 0] * 1000  # mV (also "mv") -> uV
    np.testing.assert_allclose(rec.data[0], ref)
    assert rec.channels["orig_unit"].iloc[0] in ("mV", "mv")


def test_spike2_h_reflex_latency(shared_data: Path) -> None:
    """Soleus H-wave negative peak at 34.0-34.5 ms after every Hreflex trigger (SOURCE.md)."""
    rec = _quiet(shared_data / "spike2py-smr/physiology.smr", picks="soleus")
    onsets = rec.events.loc[rec.events["label"] == "Hreflex", "onset_s"].to_numpy()
    assert len(onsets) == 20 and onsets[0] == pytest.approx(13.321, abs=1e-3)
    idx = np.round((onsets - rec.tstart) * rec.sfreq).astype(int)
    pre = rec.data[0, idx[:, None] + np.arange(-100, 0)].mean(axis=1, keepdims=True)
    post = rec.data[0, idx[:, None] + np.arange(40, 120)] - pre  # 20-60 ms
    latency_ms = (40 + post.argmin(axis=1)) / rec.sfreq * 1e3
    assert np.all((latency_ms >= 33.5) & (latency_ms <= 35.0))
    p2p_mv = np.ptp(post, axis=1) / 1e3
    assert 7.0 <= np.median(p2p_mv) <= 10.0  # SOURCE.md: median 8.5 mV


def test_spike2_motor_units_and_units(shared_data: Path) -> None:
    rec = _quiet(shared_data / "spike2py-smr/motor_units.smr", sfreq=25_000)
    mu1 = rec.events.loc[rec.events["label"] == "MU1", "onset_s"].to_numpy()
    np.testing.assert_allclose(mu1[:4], [3.99, 4.0599, 4.1167, 4.1717], atol=2e-4)
    bio = _quiet(shared_data / "spike2py-smr/biomech0deg.smr", sfreq=5000)
    # Unit string "v" is volts: SOURCE.md range [-0.00069051, 0.000805612] V.
    assert bio.data[0].min() == pytest.approx(-690.51, abs=0.01)
    assert bio.data[0].max() == pytest.approx(805.61, abs=0.01)
    slow = _quiet(shared_data / "spike2py-smr/biomech0deg.smr", sfreq=200)
    assert slow.ch_names == ["k_angle", "k_torque"] and slow.ch_types == ["misc", "misc"]
    assert slow.data[0].max() == pytest.approx(98.2802, abs=1e-3)  # degrees


def test_abf_values_and_sweeps(shared_data: Path) -> None:
    gap = read_recording(shared_data / "pyabf-abf/16d22006_kim_gapfree.abf")
    # pyabf (SOURCE.md): 'IN 3' range [-0.275879, 0.236206] mV.
    assert gap.data[1].min() == pytest.approx(-275.879, abs=1e-3)
    assert gap.data[1].max() == pytest.approx(236.206, abs=1e-3)
    abf2 = read_recording(shared_data / "pyabf-abf/pclamp11_4ch.abf")
    abf1 = read_recording(shared_data / "pyabf-abf/pclamp11_4ch_abf1.abf")
    assert np.abs(abf2.data - abf1.data).max() <= 1e-3  # same recording, <= 0.0003 pA apart
    sweeps = abf2.events
    np.testing.assert_allclose(sweeps["onset_s"], np.arange(10) * 0.2)
    np.testing.assert_allclose(sweeps["orig_onset_s"], np.arange(10) * 0.2, atol=1e-9)
    with pytest.warns(HfsEmgWarning, match="2 ABF tag"):
        tagged = read_recording(shared_data / "pyabf-abf/multichannelAbf1WithTags.abf")
    np.testing.assert_allclose(tagged.events["orig_onset_s"].iloc[:3], [0.0, 2.0, 4.0])


def test_text_layouts(shared_data: Path) -> None:
    ll = read_recording(shared_data / "uci-emg-lower-limb/3Amar.txt", sfreq=1000)
    assert ll.ch_names[2] == "Vasto Medial" and ll.ch_types[4] == "misc"
    # SOURCE.md: VM [-1.2705, 1.8255] mV; knee angle [1.3, 59.7] deg.
    assert (ll.data[2].min(), ll.data[2].max()) == pytest.approx((-1270.5, 1825.5))
    assert (ll.data[4].min(), ll.data[4].max()) == pytest.approx((1.3, 59.7))
    with pytest.warns(HfsEmgWarning, match="18 row.*file lines 6571-6588"):
        read_recording(shared_data / "uci-emg-lower-limb/5Nmar.txt", sfreq=1000)
    with pytest.warns(HfsEmgWarning, match=r"'EMG' \('ADC'\)"):
        bio = read_recording(shared_data / "biosppy-emg/emg_1.txt")
    assert bio.sfreq == 1000 and (bio.data.min(), bio.data.max()) == (1412, 2443)
    g = read_recording(
        shared_data / "uci-emg-gestures/1_raw_data_11-08_21.03.16.txt",
        time_unit="ms",
        label_column="class",
        resample=True,
        units="V",
    )
    assert g.tstart == pytest.approx(0.001) and g.meta["resampled"]["n_irregular_steps"] == 2189
    per_class = g.events.groupby("value")["duration_s"].sum()
    # SOURCE.md sample counts per class (1 ms each before resampling), within the gaps' effect.
    expected = {0: 41118, 1: 4447, 2: 3213, 3: 3383, 4: 3208, 5: 3136, 6: 3136}
    for cls, n in expected.items():
        assert per_class[cls] == pytest.approx(n / 1000, rel=0.06)
