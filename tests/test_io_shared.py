"""Reader compliance battery over every recording file in ../shared/data and example_data/.

Expected values come from the files' SOURCE.md (verified with other libraries) and from the
format documentation, not from this package's output.
"""

from __future__ import annotations

import hashlib
import itertools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hfs_emg import HfsEmgError, HfsEmgWarning
from hfs_emg.io import READERS, open_recording, read_recording
from hfs_emg.io._base import BaseReader

_G1 = "uci-emg-gestures/1_raw_data_11-08_21.03.16.txt"
_G2 = "uci-emg-gestures/2_raw_data_11-10_21.03.16.txt"
_GESTURE_OPTS = {"time_unit": "ms", "label_column": "class", "resample": True, "units": "V"}

# file -> options, n channels, sfreq, n samples, {event label or "prefix*": count},
# {channel: (min, max) of max |x| in microvolts}, bound on max |x| of every microvolt channel.
EXPECTED: dict[str, dict[str, Any]] = {
    "biosppy-emg/emg.txt": dict(n_ch=1, sfreq=1000, n=100_000, events={}),
    "biosppy-emg/emg_1.txt": dict(n_ch=1, sfreq=1000, n=63_880, events={}),
    "mne-brainvision/test.vhdr": dict(
        n_ch=32,
        sfreq=1000,
        n=7900,
        events={
            "Stimulus/*": 7,
            "Event/254": 3,
            "Response/R255": 1,
            "SyncStatus/*": 1,
            "Optic/*": 1,
        },
        uv_max=200,
    ),
    "mne-edf-bdf/test.edf": dict(
        n_ch=139,
        sfreq=512,
        n=3072,
        events={"Status/*": 13, "start": 1, "type A": 3, "type B": 1},
        uv_max=5000,
    ),
    # BioSemi channels are unreferenced, with DC offsets of a few hundred mV.
    "mne-edf-bdf/test.bdf": dict(n_ch=73, sfreq=2048, n=2048, events={"Status/*": 1}, uv_max=3e5),
    "mne-edf-bdf/test_bdf_stim_channel.bdf": dict(
        n_ch=4,
        sfreq=500,
        n=5000,
        events={"Status/1": 7, "Status/2": 1, "Status/4": 1},
        uv_max=1e5,
    ),
    "mne-edf-bdf/test_edf_stim_channel.edf": dict(
        n_ch=25, sfreq=128, n=1228, events={"DIG DTRIG/100": 12}, uv_max=3e5
    ),
    "sleep-edf-short-psg/short_psg.edf": dict(
        opts={"sfreq": 100},
        n_ch=3,
        sfreq=100,
        n=30_000,
        events={},
        uv_max=500,
        ranges={"EEG Fpz-Cz": (100, 200)},
    ),
    "physionet-emgdb/emg_healthy.hea": dict(
        n_ch=1, sfreq=4000, n=50_860, events={}, ranges={"EMG": (1000, 1200)}, uv_max=3300
    ),
    "physionet-emgdb/emg_myopathy.hea": dict(
        n_ch=1, sfreq=4000, n=110_337, events={}, ranges={"EMG": (700, 800)}, uv_max=3300
    ),
    "physionet-emgdb/emg_neuropathy.hea": dict(
        n_ch=1, sfreq=4000, n=147_858, events={}, ranges={"EMG": (3270, 3277)}, uv_max=3300
    ),
    "pyabf-abf/16d22006_kim_gapfree.abf": dict(
        n_ch=2, sfreq=10_000, n=483_000, events={}, ranges={"IN 3": (200, 300)}
    ),
    "pyabf-abf/multichannelAbf1WithTags.abf": dict(
        n_ch=2,
        sfreq=20_000,
        n=187 * 1653,
        events={"sweep": 187},
        ranges={"AO #0": (59_000, 61_000)},
    ),
    "pyabf-abf/pclamp11_4ch.abf": dict(n_ch=4, sfreq=20_000, n=40_000, events={"sweep": 10}),
    "pyabf-abf/pclamp11_4ch_abf1.abf": dict(n_ch=4, sfreq=20_000, n=40_000, events={"sweep": 10}),
    "spike2py-smr/physiology.smr": dict(
        n_ch=5,
        sfreq=2000,
        n=248_016,
        events={"Hreflex": 20, "Magnet": 10, "Keyboard": 5},
        ranges={"soleus": (4000, 6000), "FDI": (20, 40)},
    ),
    "spike2py-smr/motor_units.smr": dict(
        opts={"sfreq": 25_000},
        n_ch=1,
        sfreq=25_000,
        n=327_858,
        events={"MU1": 62, "MU2": 50},
        ranges={"DIA SMU": (1000, 2000)},
        uv_max=3000,
    ),
    "spike2py-smr/biomech0deg.smr": dict(
        opts={"sfreq": 5000},
        n_ch=2,
        sfreq=5000,
        n=562_321,
        events={"Trig": 5},
        ranges={"prox_EMG": (500, 1000), "dist_EMG": (1000, 2000)},
        uv_max=2000,
    ),
    _G1: dict(
        opts=_GESTURE_OPTS, n_ch=8, sfreq=1000, n=64_557, events={"class/*": 24}, uv_max=1300
    ),
    _G2: dict(
        opts=_GESTURE_OPTS, n_ch=8, sfreq=1000, n=63_956, events={"class/*": 25}, uv_max=1300
    ),
    **{
        f"uci-emg-lower-limb/{name}.txt": dict(
            opts={"sfreq": 1000}, n_ch=5, sfreq=1000, n=n, events={}, uv_max=2000
        )
        for name, n in [
            ("3Amar", 43_665),
            ("3Apie", 22_124),
            ("3Asen", 38_971),
            ("5Nmar", 6563),
            ("5Npie", 15_260),
            ("5Nsen", 13_480),
        ]
    },
}
# Files in the folder that are not recordings, and why each is refused.
NOT_RECORDINGS = {"LICENSE-GPL-3.0.txt", "_readme_", "SOURCE.md"}
COMPANIONS = {".dat", ".eeg", ".vmrk"}  # read through their header file


def _recording_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in READERS and p.name not in NOT_RECORDINGS
    )


def _read(path: Path, opts: dict[str, Any], **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HfsEmgWarning)
        return read_recording(path, **opts, **kw)


def _open(path: Path, opts: dict[str, Any]) -> BaseReader:
    opts = {k: v for k, v in opts.items() if k != "units"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HfsEmgWarning)
        return open_recording(path, **opts)


def _count(labels: list[str], key: str) -> int:
    if key.endswith("*"):
        return sum(lab.startswith(key[:-1]) for lab in labels)
    return labels.count(key)


@pytest.mark.shared_data
def test_battery_covers_every_recording_file(shared_data: Path) -> None:
    assert set(_recording_files(shared_data)) == set(EXPECTED)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reader_compliance(shared_data: Path, name: str) -> None:
    exp = EXPECTED[name]
    opts = exp.get("opts", {})
    path = shared_data / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rec = _read(path, opts)
    assert rec.n_channels == exp["n_ch"]
    assert rec.sfreq == pytest.approx(exp["sfreq"], rel=1e-9)
    assert rec.n_samples == exp["n"]
    assert np.isfinite(rec.data).all()
    labels = list(rec.events["label"])
    for key, count in exp["events"].items():
        assert _count(labels, key) == count, key
    assert len(labels) == sum(exp["events"].values())
    peak = np.abs(rec.data).max(axis=1)
    uv = (rec.channels["unit"] == "uV").to_numpy()
    if "uv_max" in exp:
        assert uv.any() and peak[uv].max() <= exp["uv_max"]
    for ch, (lo, hi) in exp.get("ranges", {}).items():
        assert rec.channels.set_index("name").at[ch, "unit"] == "uV"
        assert lo <= peak[rec.ch_names.index(ch)] <= hi, ch

    # A window read equals the slice of the full read, events included.
    t0 = rec.tstart + 0.3 * rec.duration_s
    t1 = rec.tstart + 0.6 * rec.duration_s
    win = _read(path, opts, tmin=t0, tmax=t1)
    i0 = round((win.tstart - rec.tstart) * rec.sfreq)
    np.testing.assert_array_equal(win.data, rec.data[:, i0 : i0 + win.n_samples])
    assert win.tstart == pytest.approx(t0, abs=1 / rec.sfreq)
    inside = rec.events[(rec.events.onset_s >= win.tstart) & (rec.events.onset_s < t1 + 1e-9)]
    assert list(win.events["label"]) == list(inside["label"])

    # iter_chunks covers the file exactly once (cores), margins included around them.
    reader = _open(path, opts)
    parts, cores = [], []
    chunks = reader.iter_chunks(rec.duration_s / 3.3, margin_s=0.05, units=opts.get("units"))
    for chunk, (c0, c1) in chunks:
        j0 = round((c0 - chunk.tstart) * rec.sfreq)
        n = round((c1 - c0) * rec.sfreq)
        parts.append(chunk.data[:, j0 : j0 + n])
        cores.append((c0, c1))
    reader.close()
    assert cores[0][0] == pytest.approx(rec.tstart)
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(cores))
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), rec.data)
    # The input file is never written to.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


# Options for example files that need them (mixed rates, text without a rate...).
EXAMPLE_OPTIONS: dict[str, dict[str, Any]] = {}


def test_example_data_files_load(example_dir: Path) -> None:
    """Every supported file that appears in example_data/ loads and windows consistently."""
    names = [n for n in _recording_files(example_dir) if not n.startswith("truth/")]
    assert len(names) >= 5  # spontaneous, LSR session, CMAP, F-waves, blink reflex
    for name in names:
        rec = _read(example_dir / name, EXAMPLE_OPTIONS.get(name, {}))
        assert rec.n_samples > 0 and np.isfinite(rec.data).all()
        emg = rec.get_data(picks="emg")
        # Facial surface EMG and evoked responses: tens of uV to a few mV; stimulus artefacts
        # stay below ~10 mV in the simulator.
        assert 20.0 < np.abs(emg).max() < 20_000.0, name
        assert set(rec.channels.loc[rec.channels["type"] == "emg", "unit"]) == {"uV"}
        mid = rec.tstart + rec.duration_s / 2
        win = _read(example_dir / name, EXAMPLE_OPTIONS.get(name, {}), tmin=mid)
        i0 = round((win.tstart - rec.tstart) * rec.sfreq)
        np.testing.assert_array_equal(win.data, rec.data[:, i0:])


# ----------------------------------------------------------------------------- refusals
@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "opts", "error", "match"),
    [
        ("sleep-edf-short-psg/short_psg.edf", {}, "SamplingRateError", r"100 Hz -> \['EEG"),
        ("spike2py-smr/motor_units.smr", {}, "SamplingRateError", r"25000 Hz -> \['DIA SMU'\]"),
        ("spike2py-smr/biomech0deg.smr", {"sfreq": 1000}, "SamplingRateError", "matches no"),
        (_G1, {"time_unit": "ms"}, "SamplingRateError", "non-uniform time base: 2189"),
        ("uci-emg-lower-limb/3Amar.txt", {}, "ParameterError", "pass sfreq="),
        ("spike2py-smr/LICENSE-GPL-3.0.txt", {}, "DataError", "not a table of samples"),
        ("uci-emg-gestures/_readme_", {}, "UnsupportedFormatError", "extension"),
        ("mne-brainvision/test.eeg", {}, "UnsupportedFormatError", "vhdr"),
        ("mne-brainvision/test.vmrk", {}, "UnsupportedFormatError", "vhdr"),
        ("physionet-emgdb/emg_healthy.dat", {}, "UnsupportedFormatError", "extension"),
    ],
)
def test_refusals(shared_data: Path, name: str, opts: dict, error: str, match: str) -> None:
    with pytest.raises(HfsEmgError, match=match) as info:
        _read(shared_data / name, opts)
    assert type(info.value).__name__ == error
    assert str(shared_data / name) in str(info.value)


@pytest.mark.shared_data
def test_mixed_rate_picks_of_one_group(shared_data: Path) -> None:
    path = shared_data / "sleep-edf-short-psg/short_psg.edf"
    rec = _read(path, {}, picks=["EMG submental", "Temp rectal"])
    assert rec.sfreq == 1 and rec.n_samples == 300
    # Range from SOURCE.md (pyedflib): 3.216 ... 3.652 uV.
    assert rec.data[0].min() == pytest.approx(3.216, abs=1e-3)
    assert rec.data[0].max() == pytest.approx(3.652, abs=1e-3)
    with pytest.raises(HfsEmgError, match="1 Hz -> "):
        _read(path, {}, picks=["EMG submental", "EEG Fpz-Cz"])
    by_index = _read(path, {}, picks=[4, 5])  # indices into the file's full channel list
    assert by_index.ch_names == ["EMG submental", "Temp rectal"]
    assert _read(path, {}, picks="eeg").ch_names == ["EEG Fpz-Cz", "EEG Pz-Oz"]
    reader = _open(path, {})
    cores = [core for _, core in reader.iter_chunks(120.0, picks=[3, 4])]
    assert cores == [(0.0, 120.0), (120.0, 240.0), (240.0, 300.0)]


@pytest.mark.shared_data
def test_lenient_bdf_header_warns(shared_data: Path) -> None:
    with pytest.warns(HfsEmgWarning, match="number of data records.*not left-aligned"):
        rec = read_recording(shared_data / "mne-edf-bdf/test.bdf")
    assert rec.n_samples == 2048
