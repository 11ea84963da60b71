"""CMAP, F-wave and blink-reflex measures against simulator ground truth (errors <= 0.3 ms)."""

from __future__ import annotations

import numpy as np
import pytest

from hfs_emg.ncs import measure_blink_reflex, measure_cmap, measure_f_waves
from hfs_emg.simulate import score_nerve_conduction, simulate_nerve_conduction


@pytest.mark.parametrize("sfreq", [5000.0, 10000.0, 20000.0])
def test_ncs_accuracy(sfreq):
    sim = simulate_nerve_conduction(sfreq=sfreq, n_blink_stimuli=4, seed=5)
    cmap = measure_cmap(sim.cmap)
    f_res = measure_f_waves(sim.f_waves)
    fw, trials = f_res.summary, f_res.trials
    blink = measure_blink_reflex(sim.blink)
    s = score_nerve_conduction(sim, cmap, fw, blink)
    assert s["cmap_latency_err_max_ms"] <= 0.3
    assert s["cmap_p2p_err_max_pct"] <= 5.0
    assert s["decrement_err_pct"] <= 2.0
    assert s["f_persistence_err_pct"] <= 5.0
    assert s["f_min_latency_err_ms"] <= 0.3
    assert s["f_mean_latency_err_ms"] <= 0.3
    assert s["f_max_latency_err_ms"] <= 0.3
    assert s["f_m_ratio_err_pct"] <= 1.5
    assert s["blink_latency_err_max_ms"] <= 0.3
    assert s["blink_presence_accuracy"] == 1.0
    # per-trial F latencies
    truth = sim.f_wave_truth
    both = trials["present"].to_numpy() & truth["present"].to_numpy()
    err = np.abs(trials["latency_ms"].to_numpy()[both] - truth["latency_ms"].to_numpy()[both])
    assert err.mean() <= 0.3


def test_blink_reflex_structure_and_synkinesis():
    sim = simulate_nerve_conduction(sfreq=10000.0, n_blink_stimuli=3, seed=1)
    br = measure_blink_reflex(sim.blink).summary.set_index(["stim_side", "channel", "component"])
    # R1 only ipsilateral, R2 both sides
    assert br.loc[("left", "orbicularis_oculi_L", "R1"), "n_present"] == 3
    assert br.loc[("left", "orbicularis_oculi_R", "R1"), "n_present"] == 0
    assert br.loc[("left", "orbicularis_oculi_R", "R2"), "relation"] == "contralateral"
    assert br.loc[("left", "orbicularis_oculi_R", "R2"), "n_present"] == 3
    # synkinetic responses on the affected (left) lower face only
    assert br.loc[("left", "mentalis_L", "R1"), "synkinetic"]
    assert br.loc[("left", "mentalis_L", "R1"), "n_present"] == 3
    assert br.loc[("right", "orbicularis_oris_L", "R2"), "n_present"] == 3
    assert br.loc[("right", "orbicularis_oris_R", "R2"), "n_present"] == 0
    # R1 side difference: affected side 0.2 ms slower in the simulation
    diff = br.loc[("left", "orbicularis_oculi_L", "R1"), "side_diff_ms"]
    assert abs(diff - 0.2) <= 0.3


def test_cmap_affected_side_and_events_without_side():
    sim = simulate_nerve_conduction(sfreq=10000.0, amplitude_ratio=0.3, seed=2)
    cmap = measure_cmap(sim.cmap, affected_side="left").set_index("channel")
    assert abs(cmap.loc["nasalis_L", "decrement_pct"] - 70.0) < 2.0
    assert np.isnan(cmap.loc["nasalis_R", "decrement_pct"])
    assert cmap.loc["nasalis_L", "neg_peak_uv"] > 0
    truth = sim.cmap_truth.set_index("channel")
    assert (cmap["neg_peak_uv"] / truth["neg_peak_uv"] - 1).abs().max() < 0.05
