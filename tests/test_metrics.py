"""summarize: numbers against simulator ground truth and hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hfs_emg import DataError, ParameterError
from hfs_emg.detection import detect_bursts
from hfs_emg.metrics import burst_event_ids, summarize
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.synchrony import detect_synchronous_bursts


@pytest.fixture(scope="module")
def sim():
    return simulate_spontaneous(
        duration_s=60.0, sfreq=5000.0, contralateral=True, spasm_rate_per_min=20, seed=3
    )


def test_truth_summary(sim):
    s = summarize(sim.bursts, sim.synchronous, duration_s=60.0, channels=sim.recording.channels)
    ch = s.channels.set_index("channel")
    assert list(ch.index) == sim.recording.ch_names
    counts = sim.bursts["channel"].value_counts()
    for name in sim.recording.ch_names:
        assert ch.loc[name, "n_bursts"] == counts.get(name, 0)
        assert ch.loc[name, "bursts_per_min"] == pytest.approx(counts.get(name, 0))
    burden = sim.bursts.groupby("channel")["duration_s"].sum() / 60 * 100
    np.testing.assert_allclose(ch.loc[burden.index, "burden_pct"], burden)
    sync = (sim.bursts["event_id"] >= 0).groupby(sim.bursts["channel"]).mean()
    np.testing.assert_allclose(ch.loc[sync.index, "sync_fraction"], sync)
    rec = s.recording.iloc[0]
    assert rec["n_sync_events"] == len(sim.synchronous)
    assert rec["affected_side"] == "left"
    assert rec["side_asymmetry"] == 1.0
    assert s.sides.set_index("side").loc["right", "n_bursts"] == 0
    dm = sim.bursts.groupby("channel")["discharge_hz"].median()
    np.testing.assert_allclose(ch.loc[dm.index, "discharge_hz_median"], dm)


def test_detected_summary_close_to_truth(sim):
    b = detect_bursts(sim.recording)
    ev = detect_synchronous_bursts(b)
    got = summarize(b, ev, channels=sim.recording.channels)  # duration from attrs
    ref = summarize(sim.bursts, sim.synchronous, duration_s=60.0, channels=sim.recording.channels)
    g, r = got.channels.set_index("channel"), ref.channels.set_index("channel")
    left = [c for c in g.index if c.endswith("_L")]
    np.testing.assert_allclose(
        g.loc[left, "bursts_per_min"], r.loc[left, "bursts_per_min"], atol=1.0
    )
    np.testing.assert_allclose(g.loc[left, "burden_pct"], r.loc[left, "burden_pct"], rtol=0.1)
    np.testing.assert_allclose(g.loc[left, "sync_fraction"], r.loc[left, "sync_fraction"], atol=0.1)
    np.testing.assert_allclose(
        g.loc[left, "discharge_hz_median"], r.loc[left, "discharge_hz_median"], rtol=0.1
    )
    for pat in ("clonic", "tonic"):
        assert (
            abs(int(got.recording[f"n_{pat}"].iloc[0]) - int(ref.recording[f"n_{pat}"].iloc[0]))
            <= 1
        )
    assert got.recording["course"].iloc[0] is None  # never inferred from the EMG


def test_membership_from_events():
    b = pd.DataFrame(
        {
            "channel": ["oculi_L", "oris_L", "oculi_L", "oris_L"],
            "onset_s": [1.0, 1.01, 1.02, 9.0],
            "duration_s": [0.1, 0.1, 0.05, 0.2],
        }
    )
    ev = pd.DataFrame(
        {
            "event_id": [0],
            "onset_s": [1.0],
            "channels": ["oculi_L,oris_L"],
            "spread_ms": [10.0],
            "lead_channel": ["oculi_L"],
            "onset_order": ["oculi_L<oris_L"],
            "lead_muscle": ["orbicularis_oculi"],
        }
    )
    assert burst_event_ids(b, ev).tolist() == [0, 0, -1, -1]
    s = summarize(b, ev, duration_s=30.0)
    ch = s.channels.set_index("channel")
    assert ch.loc["oculi_L", "lead_fraction"] == 1.0
    assert ch.loc["oris_L", "lead_fraction"] == 0.0
    assert ch.loc["oculi_L", "duration_median_ms"] == pytest.approx(75.0)
    assert ch.loc["oculi_L", "duration_iqr_ms"] == pytest.approx(25.0)
    assert s.recording["sync_fraction"].iloc[0] == 0.5
    assert s.recording["ordered_fraction"].iloc[0] == 1.0
    assert s.recording["lead_muscle"].iloc[0] == "orbicularis_oculi"
    # a simultaneous event has no leader
    s2 = summarize(
        b, ev.assign(onset_order="simultaneous", lead_muscle="simultaneous"), duration_s=30.0
    )
    assert s2.channels.set_index("channel").loc["oculi_L", "lead_fraction"] == 0.0
    assert s2.recording["lead_muscle"].iloc[0] is None


def test_pattern_counts_and_course():
    b = pd.DataFrame(
        {
            "channel": ["oculi_L"] * 4 + ["oris_L"],
            "onset_s": [1.0, 2.0, 3.0, 5.0, 7.0],
            "duration_s": [0.004, 0.012, 0.1, 0.8, 0.003],
            "pattern": ["isolated", "isolated", "clonic", "tonic", "isolated"],
        }
    )
    s = summarize(b, duration_s=120.0, course="atypical")
    ch = s.channels.set_index("channel")
    assert ch.loc["oculi_L", ["n_isolated", "n_clonic", "n_tonic"]].tolist() == [2, 1, 1]
    assert ch.loc["oris_L", "isolated_per_min"] == pytest.approx(0.5)
    rec = s.recording.iloc[0]
    assert (rec["n_isolated"], rec["isolated_per_min"]) == (3, pytest.approx(1.5))
    assert rec["course"] == "atypical"
    with pytest.raises(ParameterError, match="course"):
        summarize(b, duration_s=120.0, course="descending")


def test_errors():
    b = pd.DataFrame({"channel": ["a"], "onset_s": [1.0], "duration_s": [0.1]})
    with pytest.raises(ParameterError, match="duration_s"):
        summarize(b)
    with pytest.raises(DataError):
        summarize(b.drop(columns="duration_s"), duration_s=10.0)
    with pytest.raises(DataError, match="missing"):
        summarize(b, duration_s=10.0, channels=["b"])
    with pytest.raises(TypeError):
        summarize("bursts", duration_s=10.0)
