"""analyze(path) of an LSR session reads the EMG rows only and scans the trigger as runs.

The reference is the whole read (``reader.read()``: every channel, the trigger row included)
and :func:`hfs_emg.analyze` of that Recording (the in-memory route, which finds the stimuli on
the trigger row's samples): the lean read must give bitwise the same EMG samples, the same
events, the same trigger median / maximum / edges, and the same tables.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hfs_emg as hfs
from hfs_emg import _fastfilt
from hfs_emg.events import _rising_through
from hfs_emg.io import _base
from hfs_emg.io.bdf_stream import BdfStreamWriter
from hfs_emg.pipeline import analysis
from hfs_emg.pipeline.config import AnalysisConfig
from hfs_emg.simulate import simulate_lsr_session


def _write_lsr(path: Path, *, noisy_trigger: bool = False) -> Path:
    sim = simulate_lsr_session(n_stimuli=12, sfreq=5000.0, seed=4)
    rec = sim.recording
    data = np.array(rec.data, dtype=float)
    trig = rec.ch_types.index("stim")
    if noisy_trigger:  # not piecewise constant: its runs would hold the samples
        data[trig] += np.random.default_rng(0).normal(0.0, 0.01 * np.ptp(data[trig]), rec.n_samples)
    # the trigger first, so dropping its row shifts every EMG row
    order = [trig] + [i for i in range(len(rec.ch_names)) if i != trig]
    short = {"orbicularis_oculi": "OrbOculi", "orbicularis_oris": "OrbOris"}
    names = [rec.ch_names[i] for i in order]
    for long, abbrev in short.items():
        names = [n.replace(long, abbrev) for n in names]
    writer = BdfStreamWriter(path, names, rec.sfreq, stim=[names[0]])
    for onset, label in zip(rec.events["onset_s"], rec.events["label"], strict=True):
        if str(label).startswith("stim"):
            writer.annotate(float(onset) - rec.tstart, f"{label} zygomatic")
    writer.write(data[order])
    writer.close()
    return path


@pytest.fixture(params=["float64", "float32"])
def stored(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "float32":  # a long file's storage dtype, on a short file
        monkeypatch.setattr(_base, "FLOAT32_FROM_SAMPLES", 1000)
    return str(request.param)


@pytest.mark.parametrize("compiled", [True, False])
def test_lean_read_same_samples_events_and_stimuli(
    tmp_path: Path, stored: str, compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not compiled:  # the NumPy decoding of the reader
        monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    path = _write_lsr(tmp_path / "lsr.bdf")
    config = AnalysisConfig()
    with hfs.open_recording(path) as reader:
        whole = reader.read()  # reference: every row
    with hfs.open_recording(path) as reader:
        lean = analysis._read_without_triggers(reader, config)
    assert lean is not None and str(whole.data.dtype) == stored
    rec, decision = lean
    emg = [i for i, t in enumerate(whole.ch_types) if t != "stim"]
    assert rec.ch_names == [whole.ch_names[i] for i in emg]
    assert rec.data.dtype == whole.data.dtype
    assert np.array_equal(rec.data, whole.data[emg])  # bitwise
    pd.testing.assert_frame_equal(rec.events, whole.events, check_exact=True)
    # the runs give the statistics of the whole trigger row
    trig = whole.ch_types.index("stim")
    x = whole.data[trig]
    with hfs.open_recording(path) as reader:
        runs = reader.trigger_runs()[whole.ch_names[trig]]
    assert (runs.n_samples, runs.median(), runs.max()) == (x.size, np.median(x), np.max(x))
    thr = float(np.median(x)) + 0.5 * (float(np.max(x)) - float(np.median(x)))
    assert np.array_equal(runs.edges(thr), _rising_through(x, thr))
    reference = analysis.decide_protocol(whole, config)
    assert decision.protocol == reference.protocol == "lsr"
    pd.testing.assert_frame_equal(decision.events, reference.events, check_exact=True)


def test_analyze_path_equals_analyze_of_whole_read(tmp_path: Path, stored: str) -> None:
    path = _write_lsr(tmp_path / "lsr.bdf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = hfs.read_recording(path)
        before = whole.data.copy()
        ref = hfs.analyze(whole)  # the in-memory route on every row
        res = hfs.analyze(path)
    assert np.array_equal(whole.data, before)  # a Recording passed in is never modified
    assert res.protocol == ref.protocol == "lsr"
    assert list(res.tables()) == list(ref.tables())
    for name, table in ref.tables().items():
        pd.testing.assert_frame_equal(res.tables()[name], table, check_exact=True)


def test_lean_read_falls_back(tmp_path: Path) -> None:
    noisy = _write_lsr(tmp_path / "noisy.bdf", noisy_trigger=True)
    with hfs.open_recording(noisy) as reader:
        assert reader.trigger_runs() == {}  # the channel is not held
        assert len(reader.read_events())  # its edges are still events
        assert analysis._read_without_triggers(reader, AnalysisConfig()) is None
    path = _write_lsr(tmp_path / "lsr.bdf")
    for config in (
        AnalysisConfig().replace(stim__source="artifact"),
        AnalysisConfig().replace(bursts__picks=[0, 1]),  # indices would shift
        AnalysisConfig().replace(protocol="spontaneous"),
    ):
        with hfs.open_recording(path) as reader:
            assert analysis._read_without_triggers(reader, config) is None
