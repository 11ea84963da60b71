"""analyze(): one call per recording, scored against the example data's and simulator's truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from hfs_emg import DataError, from_array
from hfs_emg.analysis import TABLES, AnalysisResult, analyze
from hfs_emg.config import AnalysisConfig, BurstConfig, SyncConfig
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.simulate.score_spontaneous import score_bursts


def test_spontaneous_example_against_truth(example_dir):
    res = analyze(example_dir / "spontaneous_hfs.edf")
    truth = pd.read_csv(example_dir / "truth" / "spontaneous_hfs_bursts.csv")
    score = score_bursts(truth, res.bursts)
    assert score["f1"] >= 0.9, score
    assert score["onset_mae_ms"] < 5.0, score
    true_sync = pd.read_csv(example_dir / "truth" / "spontaneous_hfs_synchronous.csv")
    assert abs(len(res.synchronous) - len(true_sync)) <= 1
    assert res.lsr is None and res.trend is None and res.stim_events is None
    assert set(res.summary["channel"]) == set(truth["channel"]) | set(res.summary["channel"])
    assert res.summary["n_bursts"].sum() == len(res.bursts)
    tables = res.tables()
    assert set(tables) == {"recording_summary", "summary", "summary_sides", "bursts", "synchronous"}
    assert tuple(tables) == tuple(t for t in TABLES if t in tables)
    row = res.recording_summary.iloc[0]
    # the simulated HFS is left-sided (example_data/README.md); the right side is quiet
    assert row["protocol"] == "spontaneous" and row["affected_side"] == "left"
    assert row["n_bursts"] == len(res.bursts) and row["side_asymmetry"] > 0.9


def test_lsr_example_against_truth(example_dir):
    res = analyze(example_dir / "lsr_session.edf")
    truth = pd.read_csv(example_dir / "truth" / "lsr_session_trend.csv")
    assert res.stim_events is not None and len(res.stim_events) == 100
    got = res.trend.set_index("channel").loc[truth["channel"]]
    assert (got["status"].to_numpy() == truth["status"].to_numpy()).all()
    err = np.abs(
        got["disappearance_stim_index"].to_numpy(float) - truth["disappearance_stim_index"]
    )
    assert err.max() <= 3, err


def test_simulated_with_config_changes_result():
    sim = simulate_spontaneous(duration_s=20.0, sfreq=2000.0, seed=5)
    res = analyze(sim.recording)
    assert score_bursts(sim.bursts, res.bursts)["f1"] >= 0.9
    # one spasm on every channel at once looks like a stimulus artefact: not an LSR session
    assert res.lsr is None
    strict = AnalysisConfig(bursts=BurstConfig(min_duration_s=1.0), sync=SyncConfig(min_channels=3))
    res2 = analyze(sim.recording, strict)
    assert (res2.bursts["duration_s"] >= 1.0).all()
    assert len(res2.bursts) < len(res.bursts)
    assert res2.provenance["config_hash"] == strict.hash() != res.provenance["config_hash"]


def test_provenance_is_reproducible(example_dir):
    a = analyze(example_dir / "ncs_cmap.bdf")
    b = analyze(example_dir / "ncs_cmap.bdf")
    assert a.provenance == b.provenance
    assert a.provenance["input"]["name"] == "ncs_cmap.bdf"
    assert len(a.provenance["input"]["sha256"]) == 64
    assert a.provenance["config"] == AnalysisConfig().to_dict()
    assert a.protocol == "cmap" and set(a.tables()) == set(b.tables())
    for name, table in a.tables().items():
        pd.testing.assert_frame_equal(table, b.tables()[name])
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.bursts = None  # type: ignore[misc]
    assert isinstance(a, AnalysisResult)


def test_nan_samples_give_clear_error(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 4000))
    x[1, 100:200] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, data=x, sfreq=2000.0)
    # a file's samples are checked once, by the reader: the error names the file and channel
    with pytest.raises(DataError, match=r"nan\.npz: 100 NaN .*'ch1'.*t=0\.05 s"):
        analyze(path)
    with pytest.raises(DataError, match=r"nan\.npz: 100 NaN .*'ch1'"):
        analyze(path, AnalysisConfig(max_memory_mb=0.01))  # streamed
    with pytest.raises(DataError, match="OrbOris_L"):
        analyze(from_array(x, 2000.0, ["OrbOculi_L", "OrbOris_L"]))


def test_bad_arguments():
    with pytest.raises(TypeError):
        analyze(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        analyze(simulate_spontaneous(duration_s=2.0, sfreq=2000.0).recording, {"a": 1})  # type: ignore[arg-type]


def test_a_recording_given_in_memory_is_not_modified(example_dir):
    from hfs_emg import read_recording

    path = example_dir / "spontaneous_hfs.edf"
    rec = read_recording(path)
    before = np.array(rec.data)
    res = analyze(rec)
    assert np.array_equal(rec.data, before)  # only analyze's own read is filtered in place
    res_path = analyze(path)  # which gives the same tables
    for name, table in res.tables().items():
        pd.testing.assert_frame_equal(table, res_path.tables()[name], check_exact=True)


def test_a_file_read_into_a_read_only_array_is_analysed_without_overwriting(
    example_dir, monkeypatch
):
    from hfs_emg.io import _base

    path = example_dir / "spontaneous_hfs.edf"
    want = analyze(path)
    real = _base.from_array

    handed = []

    def frozen(data, *args, **kwargs):  # a reader that hands out a read-only array
        data = np.array(data)
        data.flags.writeable = False
        handed.append(data.shape)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(_base, "from_array", frozen)
    got = analyze(path)
    assert handed  # the reader's recordings were made read-only
    for name, table in want.tables().items():
        pd.testing.assert_frame_equal(table, got.tables()[name], check_exact=True)
