"""Facial MEPs and free-running EMG A-trains: accuracy on held-out simulator seeds.

Done-when of issue 12 (items 4, 5 and 8): A-train F1 >= 0.9 and train time within 15 % per
channel; FMEP final/baseline within 10 % of the truth. Defaults were set on seeds 0-3
(``docs/validation_mvd.md``); the seeds here were not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hfs_emg
from hfs_emg import ParameterError
from hfs_emg.fmep import fmep_trend, group_stimulus_trains, measure_fmep
from hfs_emg.free_running import classify_trains, detect_a_trains, train_time
from hfs_emg.simulate import simulate_fmep, simulate_free_running

# 101-103 were looked at while fixing the FMEP window and the octave error (see
# docs/validation_mvd.md); these were not.
HELD_OUT_SEEDS = (201, 202, 203)


def _match_a_trains(truth: pd.DataFrame, det: pd.DataFrame, min_overlap: float = 0.5):
    """One-to-one matches: same channel, overlap >= min_overlap of the shorter train."""
    tp, used, pairs = 0, set(), []
    for i, t in truth.iterrows():  # a handful of trains
        cand = det[(det["channel"] == t["channel"]) & ~det.index.isin(used)]
        ov = np.minimum(cand["offset_s"], t["offset_s"]) - np.maximum(cand["onset_s"], t["onset_s"])
        frac = ov / np.minimum(cand["duration_s"], t["duration_s"])
        ok = frac >= min_overlap
        if ok.any():
            j = ov[ok].idxmax()
            used.add(j)
            pairs.append((i, j))
            tp += 1
    return tp, len(det) - tp, len(truth) - tp, pairs


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS)
def test_a_trains_f1_and_train_time_on_held_out_seeds(seed):
    sim = simulate_free_running(seed=seed)
    det = detect_a_trains(sim.recording)
    truth = sim.trains[sim.trains["train_type"] == "A"]
    tp, fp, fn, pairs = _match_a_trains(truth, det)
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.9, (tp, fp, fn)
    tt = train_time(det, channels=sim.recording).set_index("channel")["train_time_s"]
    true_tt = sim.train_time.set_index("channel")["train_time_s"]
    rel = ((tt - true_tt) / true_tt).abs()
    assert rel.max() <= 0.15, rel
    # matched trains: frequency and onset
    i, j = (list(x) for x in zip(*pairs, strict=True))
    f_err = det.loc[j, "frequency_hz"].to_numpy() - truth.loc[i, "frequency_hz"].to_numpy()
    assert np.abs(f_err / truth.loc[i, "frequency_hz"].to_numpy()).max() < 0.05
    on_err = det.loc[j, "onset_s"].to_numpy() - truth.loc[i, "onset_s"].to_numpy()
    assert np.abs(on_err).max() < 0.03


def test_b_and_c_trains_are_not_a_trains():
    sim = simulate_free_running(seed=104, n_a_trains=0, n_b_trains=10, n_c_trains=3)
    trains = classify_trains(sim.recording)
    assert (trains["train_type"] != "A").all()
    # most simulated bursts and continuous trains are found, as B and C
    c_true = sim.trains[sim.trains["train_type"] == "C"]
    c_det = trains[trains["train_type"] == "C"]
    assert len(c_det) >= len(c_true)
    assert (trains["train_type"] == "B").sum() >= 0.5 * (sim.trains["train_type"] == "B").sum()
    summary = train_time(trains, channels=sim.recording)
    assert (summary["train_time_s"] == 0).all() and not summary["above_warning"].any()


def test_train_time_thresholds_and_errors():
    a = pd.DataFrame({"channel": ["x"] * 3, "duration_s": [4.0, 4.0, 3.0]})
    out = train_time(a, channels=["x", "y"]).set_index("channel")
    assert out.loc["x", "train_time_s"] == 11.0 and bool(out.loc["x", "above_severe"])
    assert out.loc["y", "n_a_trains"] == 0 and not out.loc["y", "above_warning"]
    with pytest.raises(ParameterError):
        train_time(pd.DataFrame({"channel": ["x"]}))
    rec = simulate_free_running(duration_s=10.0, n_a_trains=1, n_b_trains=0, n_c_trains=0).recording
    with pytest.raises(ParameterError):
        classify_trains(rec, frequency_hz=(200.0, 100.0))
    with pytest.raises(TypeError):
        classify_trains(rec.data)
    slow = hfs_emg.from_array(np.zeros((1, 4000)), 400.0, ["oris"], units="uV", ch_types="emg")
    with pytest.raises(ParameterError, match="too low"):
        classify_trains(slow)


def test_group_stimulus_trains():
    p = pd.DataFrame({"onset_s": [1.0, 1.001, 1.002, 1.003, 2.0, 3.0, 3.004]})
    tr = group_stimulus_trains(p)
    assert tr["n_pulses"].tolist() == [4, 1, 2]
    assert tr["onset_s"].tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_allclose(tr["isi_ms"].to_numpy()[[0, 2]], [1.0, 4.0])
    assert np.isnan(tr["isi_ms"].iloc[1])
    assert group_stimulus_trains(p, max_interval_s=0.0005)["n_pulses"].eq(1).all()
    with pytest.raises(ParameterError):
        group_stimulus_trains(p.iloc[:0])


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS)
def test_fmep_final_over_baseline_on_held_out_seeds(seed):
    sim = simulate_fmep(seed=seed)
    fmep = measure_fmep(sim.recording)
    assert fmep["n_pulses"].eq(4).all()
    assert fmep["stim_index"].nunique() == sim.responses["stim_index"].nunique()
    trend = fmep_trend(fmep, phases=hfs_emg.phase_markers(sim.recording))
    m = trend.merge(sim.trend, on="channel", suffixes=("", "_true"))
    assert len(m) == 3
    rel = (m["final_over_baseline_pct"] - m["final_over_baseline_pct_true"]).abs() / m[
        "final_over_baseline_pct_true"
    ]
    assert rel.max() <= 0.10, m
    # per train: latency after the first pulse and amplitude
    t = sim.responses.merge(fmep, on=["stim_index", "channel"], suffixes=("_true", ""))
    assert t["present"].all()
    # onset within 0.6 ms in at least 98 % of the trains (the worst single train on the
    # held-out seeds was 1.23 ms late: noise on the first, small phase; docs/validation_mvd.md)
    assert ((t["latency_ms"] - t["latency_ms_true"]).abs() > 0.6).mean() <= 0.02
    assert ((t["p2p_uv"] / t["p2p_uv_true"]) - 1).abs().median() <= 0.05
    np.testing.assert_allclose(t["latency_ms"] - t["latency_last_pulse_ms"], 6.0, atol=1e-6)


def test_fmep_warning_follows_the_ratio():
    sim = simulate_fmep(seed=7, final_over_baseline={"orbicularis_oculi": 0.3, "mentalis": 1.0})
    trend = fmep_trend(measure_fmep(sim.recording), phases=sim.phases).set_index("muscle")
    assert bool(trend.loc["orbicularis_oculi", "warning"])
    assert not bool(trend.loc["mentalis", "warning"])
    with pytest.raises(ParameterError):
        fmep_trend(pd.DataFrame({"channel": []}))


def test_mains_interference_switched_on_can_be_rejected():
    sim = simulate_free_running(seed=105, duration_s=40.0, n_a_trains=0, n_b_trains=0, n_c_trains=0)
    rec = sim.recording
    fs = rec.sfreq
    t = np.arange(rec.n_samples) / fs
    x = rec.data.copy()
    on = (t >= 5.0) & (t < 8.0)
    x[:, on] += 80.0 * np.sin(2 * np.pi * 60.0 * t[on])  # 60 Hz hum for 3 s
    on2 = (t >= 15.0) & (t < 17.0)
    x[:, on2] += 60.0 * np.sin(2 * np.pi * 100.0 * t[on2])  # 2nd harmonic of 50 Hz
    on3 = (t >= 25.0) & (t < 27.0)
    x[:, on3] += 60.0 * np.sin(2 * np.pi * 120.8 * t[on3])  # a line 0.8 Hz off a harmonic
    noisy = rec.with_data(x, step="add hum", params={})
    a = detect_a_trains(noisy, mains_hz=(50.0, 60.0))
    assert len(a) == 3 and a["onset_s"].between(24.9, 25.1).all()
    # without the rejection (the default) the 100 Hz line reads as an A-train (the 60 Hz one
    # sits on the lower edge of the band)
    kept = detect_a_trains(noisy)
    assert kept["onset_s"].between(14.9, 15.1).sum() == 3


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name",
    [
        "physionet-emgdb/emg_healthy.hea",
        "physionet-emgdb/emg_myopathy.hea",
        "physionet-emgdb/emg_neuropathy.hea",
        "biosppy-emg/emg_1.txt",
        "biosppy-emg/emg.txt",
    ],
)
def test_no_a_train_in_real_limb_emg(shared_data, name):
    # real needle (healthy, myopathy, neuropathy) and surface EMG with voluntary bursts: no
    # A-trains exist there, and none may be reported (a specificity check on real signals)
    rec = hfs_emg.read_recording(shared_data / name)
    picks = "emg" if "emg" in rec.ch_types else None
    trains = classify_trains(rec, picks=picks)
    assert (trains["train_type"] != "A").all(), trains
