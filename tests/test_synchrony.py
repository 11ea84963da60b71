"""Synchronous events and chance-corrected coincidence against simulated ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hfs_emg import DataError, ParameterError
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.simulate.score_spontaneous import score_events
from hfs_emg.synchrony import (
    SYNC_COLUMNS,
    channel_ranks,
    detect_synchronous_bursts,
    synchrony_matrix,
)


@pytest.fixture(scope="module")
def sim():
    return simulate_spontaneous(
        duration_s=120.0, sfreq=2000.0, spasm_rate_per_min=20, ascending_fraction=0.4, seed=9
    )


def test_truth_bursts_give_truth_events(sim):
    ev = detect_synchronous_bursts(sim.bursts)
    assert tuple(ev.columns) == SYNC_COLUMNS
    s = score_events(sim.synchronous, ev, tolerance_s=0.001)
    assert s["f1"] == 1.0
    assert s["lead_accuracy"] == 1.0
    assert s["n_channels_accuracy"] == 1.0
    truth = sim.synchronous.set_index("onset_s")
    got = ev.set_index("onset_s")
    np.testing.assert_allclose(got["spread_ms"], truth["spread_ms"], atol=1e-6)
    # exact onsets (no uncertainty): the order is the true one, event by event
    exact = detect_synchronous_bursts(sim.bursts, onset_sd_ms=1e-6, min_lag_ms=0.0)
    assert exact["onset_order"].tolist() == sim.synchronous["onset_order"].tolist()
    assert exact["lead_muscle"].tolist() == sim.synchronous["lead_muscle"].tolist()
    # with the default 3 ms onset uncertainty, 2-6 ms steps are not all resolved
    assert ev["onset_order"].str.contains("=").any()
    assert (ev["onset_order"] != exact["onset_order"]).any()


def test_simultaneous_truth_is_never_ordered():
    sim = simulate_spontaneous(
        duration_s=60.0, sfreq=2000.0, spasm_rate_per_min=20, spread_step_ms=(0.0, 0.0), seed=3
    )
    assert (sim.synchronous["onset_order"] == "simultaneous").all()
    ev = detect_synchronous_bursts(sim.bursts)
    assert (ev["onset_order"] == "simultaneous").all()
    assert (ev["lead_muscle"] == "simultaneous").all()
    assert (ev["lag_ms"] == 0).all() and (ev["lag_ci_low_ms"] < 0).all()


def test_onset_order_rules():
    b = pd.DataFrame(
        {
            "channel": ["mentalis_L", "oris_L", "oculi_L", "oculi_L", "mentalis_L", "Fp1", "Cz"],
            "onset_s": [1.0, 1.004, 1.012, 3.0, 3.002, 6.0, 6.02],
            "offset_s": [1.1] * 3 + [3.1] * 2 + [6.1] * 2,
        }
    )
    ev = detect_synchronous_bursts(b)  # 3 ms SD per onset: +/- 8.3 ms for a difference
    assert ev["onset_order"].tolist() == [
        "mentalis_L=oris_L<oculi_L",
        "simultaneous",
        "Fp1<Cz",
    ]
    assert ev["lead_muscle"].tolist() == ["tied", "simultaneous", "Fp1"]
    assert ev["lead_channel"].tolist() == ["mentalis_L", "oculi_L", "Fp1"]
    np.testing.assert_allclose(ev["lag_ms"], [12.0, 2.0, 20.0], atol=1e-9)
    assert (ev["lag_ci_low_ms"] < ev["lag_ms"]).all() and (
        ev["lag_ms"] < ev["lag_ci_high_ms"]
    ).all()
    sharp = detect_synchronous_bursts(b, onset_sd_ms=0.5)
    assert sharp["onset_order"].iloc[0] == "mentalis_L<oris_L<oculi_L"
    assert sharp["lead_muscle"].iloc[0] == "mentalis"
    # a resolved 2 ms lag is still below min_lag_ms=3: simultaneous
    assert (
        detect_synchronous_bursts(b, onset_sd_ms=0.1, min_lag_ms=3.0)["onset_order"].iloc[1]
        == "simultaneous"
    )
    info = pd.DataFrame({"name": ["Fp1", "Cz"], "muscle": ["frontalis", "mentalis"]})
    ev2 = detect_synchronous_bursts(b, channels=info)
    assert ev2["lead_muscle"].iloc[2] == "frontalis"
    assert "direction" not in ev.columns
    assert detect_synchronous_bursts(b, min_channels=3)["n_channels"].tolist() == [3]
    assert detect_synchronous_bursts(b.iloc[:0]).empty


def test_tolerance_splits_events():
    b = pd.DataFrame({"channel": ["a", "b"], "onset_s": [1.0, 1.05], "offset_s": [1.2, 1.2]})
    assert len(detect_synchronous_bursts(b, tolerance_s=0.03)) == 0
    assert len(detect_synchronous_bursts(b, tolerance_s=0.06)) == 1


def test_bad_input():
    with pytest.raises(DataError):
        detect_synchronous_bursts(pd.DataFrame({"onset_s": [1.0]}))
    with pytest.raises(ParameterError):
        detect_synchronous_bursts(
            pd.DataFrame(columns=["channel", "onset_s", "offset_s"]), min_channels=1
        )
    with pytest.raises(TypeError):
        detect_synchronous_bursts([1, 2])
    with pytest.raises(ParameterError):
        synchrony_matrix(pd.DataFrame({"channel": ["a"], "onset_s": [1.0]}), duration_s=0)
    assert np.isnan(channel_ranks(["xyz"])["xyz"])


def _trains(synchronous: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = np.sort(rng.uniform(0, 300, 60))
    b = a + rng.uniform(0.002, 0.015, a.size) if synchronous else np.sort(rng.uniform(0, 300, 60))
    return pd.DataFrame(
        {"channel": ["oculi_L"] * a.size + ["oris_L"] * b.size, "onset_s": np.r_[a, b]}
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matrix_tells_synchrony_from_coincidence(seed):
    sync = synchrony_matrix(_trains(True, seed), duration_s=300.0, n_surrogates=300, seed=seed)
    ind = synchrony_matrix(_trains(False, seed), duration_s=300.0, n_surrogates=300, seed=seed)
    assert sync["z"].iloc[0] > 10 and sync["p_value"].iloc[0] < 0.01
    assert sync["excess"].iloc[0] > 0.9
    assert abs(ind["z"].iloc[0]) < 3.0
    assert abs(ind["excess"].iloc[0]) < 0.1
    # expected coincidences under independence: n_a * n_b * 2 * tol / T
    assert ind["expected"].iloc[0] == pytest.approx(60 * 60 * 0.06 / 300, rel=0.25)


def test_matrix_on_simulated_recording(sim):
    m = synchrony_matrix(sim.bursts, duration_s=120.0, n_surrogates=100)
    assert len(m) == 6
    assert (m["z"] > 5).all()
    assert list(m.columns) == [
        "channel_a",
        "channel_b",
        "n_a",
        "n_b",
        "observed",
        "expected",
        "z",
        "excess",
        "p_value",
    ]


def test_sides_are_grouped_separately():
    b = pd.DataFrame(
        {
            "channel": ["oculi_L", "oris_L", "oculi_R", "mentalis_R", "oris_R"],
            "onset_s": [1.000, 1.005, 1.002, 1.008, 3.0],
            "offset_s": [1.1, 1.1, 1.1, 1.1, 3.1],
        }
    )
    ev = detect_synchronous_bursts(b)
    assert ev["channels"].tolist() == ["oculi_L,oris_L", "oculi_R,mentalis_R"]
    assert ev["event_id"].tolist() == [0, 1]
    both = detect_synchronous_bursts(b, by_side=False)
    assert both["n_channels"].tolist() == [4]
    info = pd.DataFrame({"name": b["channel"], "side": ["left"] * 5})
    assert len(detect_synchronous_bursts(b, channels=info)) == 1


def test_channels_info_is_the_old_name_of_channels():
    from hfs_emg import detect_bursts

    rec = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=3).recording
    bursts = detect_bursts(rec)
    new = detect_synchronous_bursts(bursts, channels=rec.channels)
    with pytest.warns(DeprecationWarning, match="channels="):
        old = detect_synchronous_bursts(bursts, channels_info=rec.channels)
    pd.testing.assert_frame_equal(new, old)
    with pytest.raises(ValueError, match="channels= only"):
        detect_synchronous_bursts(bursts, channels=rec.channels, channels_info=rec.channels)
