"""Z-L response and LSR morphology against the simulators' truth (held-out seeds 10-12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hfs_emg import HfsEmgError
from hfs_emg.lsr import measure_lsr
from hfs_emg.morphology import count_phases, count_turns, lsr_morphology, summarize_morphology
from hfs_emg.simulate import simulate_lsr_morphology, simulate_zl_response
from hfs_emg.zl_response import measure_zl_response, vessel_sites, zl_trend

HELD_OUT = (10, 11, 12)


def _scores(sim, zl):
    m = sim.responses.query("kind == 'zlr'").merge(
        zl, on=["stim_index", "channel"], suffixes=("_true", "")
    )
    # sensitivity on responses of at least 60 uV (the mean 80 uV - 1 SD of Zheng 2012): smaller
    # ones approach the noise (about 10 uV RMS) and are reported in docs/validation_mvd.md
    pos = m["present_true"].to_numpy(bool) & (m["p2p_uv_true"].to_numpy(float) >= 60.0)
    det = m["match_present"].to_numpy(bool)
    neg = ~m["present_true"].to_numpy(bool)
    return m, det[pos].mean() if pos.any() else np.nan, det[neg].mean()


@pytest.mark.parametrize("seed", HELD_OUT)
def test_zl_detection_and_latency_against_truth(seed):
    sim = simulate_zl_response(scenario="persisted", duration_s=80.0, seed=seed)
    zl = measure_zl_response(sim.recording)
    assert set(zl["kind"]) == {"zlr"} and set(zl["montage"]) == {"aica"}
    m, sens, fpr = _scores(sim, zl)
    assert sens >= 0.9
    assert fpr <= 0.02
    both = m["present_true"] & m["present"]
    err = (m["latency_ms"] - m["latency_ms_true"])[both]
    assert abs(float(err.median())) < 0.3
    assert float(err.abs().quantile(0.9)) < 0.5


@pytest.mark.parametrize("seed", HELD_OUT)
def test_zl_false_positive_rate_without_response(seed):
    sim = simulate_zl_response(scenario="not_elicited", duration_s=80.0, seed=seed)
    zl = measure_zl_response(sim.recording)
    assert float(zl["match_present"].mean()) <= 0.01
    assert float(zl["present"].mean()) <= 0.01
    tr = zl_trend(zl, phases=sim.phases)
    assert set(tr["status"]) == {"not_elicited"}


@pytest.mark.parametrize("seed", HELD_OUT)
def test_zl_disappears_after_decompression(seed):
    sim = simulate_zl_response(scenario="disappeared", duration_s=100.0, seed=seed)
    tr = zl_trend(measure_zl_response(sim.recording), phases=sim.phases).set_index("channel")
    truth = sim.trend.set_index("channel")
    for ch in truth.index[truth["p2p_uv"] >= 60.0]:  # weaker ZLRs: see _scores
        assert tr.loc[ch, "status"] == "disappeared"
        assert tr.loc[ch, "loss_phase"] == "after_decompression"
        assert abs(tr.loc[ch, "disappearance_time_s"] - truth.loc[ch, "disappearance_time_s"]) <= 5
    assert tr.loc["overall", "status"] == "disappeared"
    assert 0 < tr.loc["overall", "loss_after_decompression_s"] <= 5


def test_zl_mixed_with_lsr_stimuli_measures_vessel_sweeps_only():
    sim = simulate_zl_response(duration_s=100.0, lsr_branch="zygomatic", seed=4)
    zl = measure_zl_response(sim.recording)
    vessel = sim.responses.query("kind == 'zlr'")["stim_index"].unique()
    assert sorted(zl["stim_index"].unique()) == sorted(vessel)
    # no channel is direct for a vessel stimulus, although oculi is on the zygomatic branch
    assert set(zl["kind"]) == {"zlr"}
    _, sens, fpr = _scores(sim, zl)
    assert sens >= 0.9 and fpr <= 0.02


def test_vessel_sites_vocabulary():
    ev = pd.DataFrame(
        {"onset_s": [1.0, 2.0, 3.0, 4.0], "label": ["stim zygomatic", "PICA", "vertebral", "x"]}
    )
    assert vessel_sites(ev).tolist() == [None, "pica", "va", None]
    assert vessel_sites(ev, vocabulary={"sca": ["x"]}).tolist() == [None, None, None, "sca"]
    # repeated texts (each searched once) keep their place among the others
    rep = pd.DataFrame({"onset_s": np.arange(6.0), "label": ["PICA", "stim", "PICA"] * 2})
    assert vessel_sites(rep).tolist() == ["pica", None, "pica"] * 2


def test_zl_without_vessel_stimuli_is_empty_and_trend_refuses():
    sim = simulate_zl_response(duration_s=20.0, seed=0)
    ev = pd.DataFrame({"onset_s": [1.5, 2.5, 3.5], "label": "stim zygomatic"})
    rec = sim.recording.with_events(ev)
    zl = measure_zl_response(rec, events=ev)
    assert zl.empty
    with pytest.raises(HfsEmgError):
        zl_trend(zl)


# ------------------------------------------------------------------- morphology


def test_count_phases_and_turns_on_constructed_waves():
    t = np.linspace(0.0, 1.0, 1000, endpoint=False)
    lobes = np.sin(2 * np.pi * 2.0 * t) * 100  # 4 half-cycles: 4 phases, 4 turns
    assert count_phases(lobes[None, :], 10.0).tolist() == [4]
    assert count_turns(lobes, 10.0) == 4
    # a serrated monophasic wave: one phase, three turns (up, dip of 40 uV, up)
    hump = 100 * np.sin(np.pi * t) - 40 * np.exp(-(((t - 0.5) / 0.05) ** 2))
    assert count_phases(hump[None, :], 10.0).tolist() == [1]
    assert count_turns(hump, 10.0) == 3
    assert count_turns(hump, 50.0) == 1
    # noise inside the band is no phase
    assert count_phases(np.full((1, 50), 5.0), 10.0).tolist() == [0]


@pytest.mark.parametrize("seed", HELD_OUT)
def test_lsr_morphology_against_truth(seed):
    sim = simulate_lsr_morphology(n_stimuli=40, seed=seed)
    morph = lsr_morphology(sim.recording)
    m = morph.merge(sim.truth, on=["stim_index", "channel"], suffixes=("", "_true"))
    assert len(m) == len(sim.truth)
    assert (m["n_phases"] == m["n_phases_true"]).mean() >= 0.95
    assert (m["n_turns"] == m["n_turns_true"]).mean() >= 0.9
    assert float((m["onset_ms"] - m["onset_ms_true"]).abs().median()) < 0.2
    dur = m["initial_duration_ms"] - m["initial_duration_ms_true"]
    assert float(dur.abs().quantile(0.9)) < 0.5
    assert (m["afterdischarge_present"] == m["afterdischarge_present_true"]).mean() >= 0.95
    both = m["afterdischarge_present"] & m["afterdischarge_present_true"]
    ad = m["afterdischarge_duration_ms"] - m["afterdischarge_duration_ms_true"]
    assert float(ad[both].abs().quantile(0.9)) < 1.0
    assert (m["late_present"] == m["late_present_true"]).mean() >= 0.95
    assert (m["polyphasic"] == (m["n_phases_true"] >= 5)).mean() >= 0.95


def test_lsr_morphology_with_lsr_table_and_average():
    sim = simulate_lsr_morphology(n_stimuli=30, seed=3, muscles=("mentalis",), n_phases=(3, 3))
    lsr = pd.DataFrame(
        {
            "stim_index": np.arange(30),
            "channel": "mentalis_L",
            "present": np.arange(30) % 3 != 0,
            "latency_ms": sim.truth["onset_ms"].to_numpy(),
            "montage": "zygomatic",
        }
    )
    morph = lsr_morphology(sim.recording, lsr=lsr)
    assert morph["measured"].tolist() == lsr["present"].tolist()
    assert (morph.loc[~morph["measured"], "n_phases"] == 0).all()
    assert (morph.loc[morph["measured"], "n_phases"] == 3).mean() >= 0.95
    avg = lsr_morphology(sim.recording, lsr=lsr, average=True)
    assert len(avg) == 1 and int(avg["n_sweeps"].iloc[0]) == 20
    assert avg["montage"].iloc[0] == "zygomatic" and int(avg["n_phases"].iloc[0]) == 3


def test_lsr_morphology_on_measure_lsr_output():
    from hfs_emg.simulate import simulate_lsr_session

    sim = simulate_lsr_session(n_stimuli=20, sfreq=10000.0, disappearance_index=10, fade_stimuli=0)
    lsr = measure_lsr(sim.recording)
    morph = lsr_morphology(sim.recording, lsr=lsr)
    ment = morph[morph["channel"] == "mentalis_L"].set_index("stim_index")
    assert ment.loc[:9, "measured"].mean() >= 0.9 and not ment.loc[12:, "measured"].any()
    assert (ment.loc[ment["measured"], "n_phases"] >= 2).all()


def test_lsr_morphology_refuses_short_epochs():
    sim = simulate_lsr_morphology(n_stimuli=5, seed=0)
    with pytest.raises(HfsEmgError, match="late_window_ms"):
        lsr_morphology(sim.recording, tmax=0.03)


def test_summarize_morphology_initial_amr():
    poly = simulate_lsr_morphology(n_stimuli=30, n_phases=(5, 7), seed=11)
    mono = simulate_lsr_morphology(n_stimuli=30, n_phases=(1, 3), seed=11)
    s_poly = summarize_morphology(lsr_morphology(poly.recording))
    s_mono = summarize_morphology(lsr_morphology(mono.recording))
    assert s_poly["initial_polyphasic"].all() and not s_mono["initial_polyphasic"].any()
    assert (s_poly["initial_n"] == 10).all()  # no marker: the first baseline_n sweeps
    truth = poly.truth.groupby("channel")["afterdischarge_present"].mean() * 100
    got = s_poly.set_index("channel")["afterdischarge_pct"]
    assert ((got - truth.reindex(got.index)).abs() <= 5).all()
    # with a decompression marker at 10.5 s, the initial window is the 10 sweeps before it
    s = summarize_morphology(lsr_morphology(poly.recording), phases={"decompression": 10.4})
    assert (s["initial_n"] == 10).all() and (s["n_measured"] == 30).all()


@pytest.mark.parametrize("scenario", ["persisted", "disappeared", "not_elicited"])
def test_zl_running_average_rescues_a_weak_response(scenario):
    """50 +/- 15 uV in 16 uV RMS noise: single sweeps miss it, 5-sweep averages do not."""
    hard = {"p2p_uv": (50.0, 15.0), "white_noise_uv": 12.0, "background_uv": 10.0}
    sim = simulate_zl_response(scenario=scenario, duration_s=100.0, seed=10, **hard)
    zl = measure_zl_response(sim.recording, average_n=5)
    assert set(zl["n_averaged"]) == {1, 2, 3, 4, 5}
    tr = zl_trend(zl, phases=sim.phases).set_index("channel")
    assert tr.loc["overall", "status"] == scenario
    if scenario == "disappeared":
        truth = sim.trend["disappearance_time_s"].max()
        assert 0 <= tr.loc["overall", "disappearance_time_s"] - truth <= 5
    if scenario == "not_elicited":
        assert not zl["match_present"].any() and not zl["present"].any()


def test_lsr_morphology_row_blocks_equal_all_rows_at_once(monkeypatch):
    """lsr_morphology measures its rows in blocks: the same table bitwise whatever the block."""
    import hfs_emg.morphology as morphology

    sim = simulate_lsr_morphology(n_stimuli=40, seed=1)
    whole = lsr_morphology(sim.recording)
    assert whole["measured"].sum() > 7
    monkeypatch.setattr(morphology, "_MEASURE_ROWS", 7)  # blocks that end mid-sweep
    pd.testing.assert_frame_equal(lsr_morphology(sim.recording), whole, check_exact=True)
