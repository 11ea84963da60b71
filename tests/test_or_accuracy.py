"""Evoked verdicts on operating-room signals (issue 11): simulator, evidence-only stimuli,
calibrated and causal detection, crosstalk, montages, and the "Done when" targets on the
held-out seeds of :data:`hfs_emg.simulate.HELD_OUT_GRID` (full grid:
benchmarks/accuracy_or.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from hfs_emg import NoStimulusError
from hfs_emg.events import find_stim_events
from hfs_emg.lsr import lsr_trend, measure_lsr
from hfs_emg.recording import from_array
from hfs_emg.simulate import (
    HELD_OUT_GRID,
    TUNING_GRID,
    or_condition,
    score_or_session,
    simulate_or_session,
)
from hfs_emg.simulate.evoked import LSR_P2P_UV

NO_LSR_CONDITIONS = (
    "coloured_5uv",
    "coloured_10uv",
    "tail_2ms",
    "tail_3ms",
    "tail_5ms",
    "tail_10ms",
    "crosstalk_5pct",
    "combined",
)
HELD_OUT_SEED = min(e["seed"] for e in HELD_OUT_GRID if not e["lsr"])


def _trend(lsr: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(
        [lsr_trend(s).assign(montage=m) for m, s in lsr.groupby("montage", sort=False)],
        ignore_index=True,
    )


def _session(condition: str, sfreq: float, seed: int, *, lsr: bool, scale: float = 1.0):
    kw = or_condition(condition)
    if lsr:
        kw["lsr_p2p_uv"] = {
            m: scale * LSR_P2P_UV[m]
            for m in ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis")
        }
        kw["disappearance_index"] = 160
    else:
        kw["lsr_p2p_uv"] = 0.0
    return simulate_or_session(n_stimuli=240, rate_hz=2.0, sfreq=sfreq, seed=seed, **kw)


def test_grids_are_disjoint_and_cover_rates():
    tune = {(e["condition"], e["sfreq"], e["seed"]) for e in TUNING_GRID}
    held = {(e["condition"], e["sfreq"], e["seed"]) for e in HELD_OUT_GRID}
    assert not tune & held
    assert {e["sfreq"] for e in HELD_OUT_GRID} == {5000.0, 10000.0, 20000.0}
    assert {e["condition"] for e in HELD_OUT_GRID} >= set(NO_LSR_CONDITIONS)
    assert len({e.get("lsr_scale") for e in HELD_OUT_GRID if e["lsr"]}) >= 2  # several SNRs


def test_or_simulator_truth_and_determinism():
    kw = or_condition("combined")
    a = simulate_or_session(n_stimuli=20, rate_hz=4.0, sfreq=5000.0, seed=3, **kw)
    b = simulate_or_session(n_stimuli=20, rate_hz=4.0, sfreq=5000.0, seed=3, **kw)
    np.testing.assert_array_equal(a.recording.data, b.recording.data)
    assert a.responses.equals(b.responses)
    ev = a.recording.events
    assert ev["label"].iloc[0] == "stim zygomatic 12 mA"
    assert ev["label"].iloc[1] == "stim marginal_mandibular 12 mA"
    r = a.responses.set_index(["stim_index", "channel"])
    # per-event roles: oculi is direct under zygomatic, an LSR channel under marginal mandibular
    assert r.loc[(0, "orbicularis_oculi_L"), "kind"] == "direct"
    assert r.loc[(1, "orbicularis_oculi_L"), "kind"] == "lsr"
    assert r.loc[(1, "mentalis_L"), "kind"] == "direct"
    # 5 % crosstalk of the 2 mV M-wave reaches the neighbour (frontalis next to oculi)
    assert 60 < r.loc[(0, "frontalis_L"), "crosstalk_p2p_uv"] < 140
    assert set(a.trend["montage"]) == {"zygomatic", "marginal_mandibular"}
    # the capacitive tail reaches into the LSR window (what made interpolation fail)
    clean = simulate_or_session(n_stimuli=20, rate_hz=4.0, sfreq=5000.0, seed=3, tail_uv=0.0)
    tail = simulate_or_session(
        n_stimuli=20, rate_hz=4.0, sfreq=5000.0, seed=3, tail_uv=1000.0, tail_tau_ms=5.0
    )
    i = round((1.0 + 0.008) * 5000.0)  # 8 ms after the first stimulus
    assert np.abs(tail.recording.data[:4, i] - clean.recording.data[:4, i]).max() > 100


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "path",
    [
        "physionet-emgdb/emg_neuropathy.hea",
        "physionet-emgdb/emg_healthy.hea",
        "pyabf-abf/16d22006_kim_gapfree.abf",
        "biosppy-emg/emg_1.txt",
    ],
)
def test_no_stimulus_is_invented_in_spontaneous_recordings(shared_data, path):
    from hfs_emg.analysis import analyze
    from hfs_emg.io import read_recording

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = read_recording(shared_data / path)
        with pytest.raises(NoStimulusError):
            find_stim_events(rec)
        # even when asked, the artefact source finds no stimulus train in spontaneous EMG
        with pytest.raises(NoStimulusError):
            find_stim_events(rec, source="artifact")
        res = analyze(rec)
    assert res.stim_events is None and res.lsr is None


def test_artifact_source_keeps_only_a_periodic_train_of_one_waveform():
    sim = simulate_or_session(n_stimuli=30, rate_hz=4.0, sfreq=5000.0, seed=5)
    bare = sim.recording.pick("emg").with_events(None)
    ev = find_stim_events(bare, source="artifact")
    np.testing.assert_allclose(ev["onset_s"], sim.stimuli["stim_time_s"], atol=1e-3)
    # the same jumps at random times (not periodic) are not a stimulus train
    rng = np.random.default_rng(0)
    x = rng.normal(0, 5, (3, 50000))
    for k in np.sort(rng.choice(np.arange(1000, 49000), 30, replace=False)):
        x[:, k : k + 3] += 3000.0
    with pytest.raises(NoStimulusError, match="not periodic"):
        find_stim_events(from_array(x, 5000.0, ["oculi", "oris", "ment"]), source="artifact")


def test_montage_roles_intensity_and_calibration_columns():
    sim = simulate_or_session(
        n_stimuli=40,
        rate_hz=4.0,
        sfreq=5000.0,
        seed=2,
        intensity_ma={"zygomatic": 12.0, "marginal_mandibular": 15.0},
    )
    lsr = measure_lsr(sim.recording)
    r = lsr.set_index(["stim_index", "channel"])
    assert r.loc[(0, "orbicularis_oculi_L"), "kind"] == "direct"
    assert r.loc[(1, "orbicularis_oculi_L"), "kind"] == "lsr"
    assert r.loc[(0, "mentalis_L"), "montage"] == "zygomatic"
    assert r.loc[(1, "mentalis_L"), "montage"] == "marginal_mandibular"
    assert r.loc[(0, "mentalis_L"), "intensity_ma"] == 12.0
    assert r.loc[(1, "mentalis_L"), "intensity_ma"] == 15.0
    m = sim.responses.merge(lsr, on=["stim_index", "channel"], suffixes=("_t", ""))
    assert (m["kind"] == m["kind_t"]).all()  # no direct channel measured as LSR
    lsr_rows = lsr[(lsr["kind"] == "lsr") & (lsr["stim_index"] >= 3)]
    assert lsr_rows["false_alarm_rate"].between(0.0, 0.002 + 1e-12).all()
    assert (lsr_rows["calibration_n"] >= 10).all()
    assert lsr[lsr["kind"] == "direct"]["false_alarm_rate"].isna().all()
    assert {"artifact_residual_uv", "crosstalk", "crosstalk_gain", "crosstalk_r"} <= set(lsr)


def test_per_sweep_decisions_are_causal():
    """A live monitor that has seen only the first 25 sweeps makes the same decisions."""
    sim = _session("coloured_10uv", 5000.0, 7, lsr=True)
    rec = sim.recording
    lsr = measure_lsr(rec)
    cut = rec.crop(0.0, float(sim.stimuli["stim_time_s"].iloc[24]) + 0.2)
    part = measure_lsr(cut)
    cols = ["present", "rejected", "match_present", "false_alarm_rate", "latency_ms", "p2p_uv"]
    a = lsr[lsr["stim_index"] < 25].reset_index(drop=True)[cols]
    b = part[part["stim_index"] < 25].reset_index(drop=True)[cols]
    pd.testing.assert_frame_equal(a, b)


def test_crosstalk_is_classified_not_lsr():
    sim = _session("crosstalk_5pct", 10000.0, HELD_OUT_SEED, lsr=False)
    lsr = measure_lsr(sim.recording)
    s = score_or_session(lsr, sim)
    assert s["false_lsr_rate"] <= 0.01
    m = sim.responses.merge(lsr, on=["stim_index", "channel"], suffixes=("_t", ""))
    big = m[(m["kind_t"] == "lsr") & (m["crosstalk_p2p_uv"] > 80)]
    # without the subtraction these would be LSRs; they are classified crosstalk instead
    assert big["crosstalk"].mean() > 0.2
    assert not big["present"].any()
    np.testing.assert_allclose(big["crosstalk_gain"].median(), 0.05, atol=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("sfreq", [5000.0, 10000.0, 20000.0])
@pytest.mark.parametrize("condition", NO_LSR_CONDITIONS)
def test_no_lsr_held_out_false_lsr_and_not_elicited(condition, sfreq):
    sim = _session(condition, sfreq, HELD_OUT_SEED, lsr=False)
    lsr = measure_lsr(sim.recording)
    trend = _trend(lsr)
    s = score_or_session(lsr, sim, trend=trend.query("channel != 'overall'"))
    assert s["false_lsr_rate"] <= 0.01
    truth = sim.responses.merge(lsr, on=["stim_index", "channel"], suffixes=("_t", ""))
    absent = truth[(truth["kind_t"] == "lsr") & ~truth["contaminated"]]
    assert absent["match_present"].mean() <= 0.01
    assert (trend["status"] == "not_elicited").all()


def _combined_scores(sfreq: float) -> dict:
    entry = next(
        e
        for e in HELD_OUT_GRID
        if e["lsr"] and e["condition"] == "combined" and e["sfreq"] == sfreq
    )
    sim = _session("combined", sfreq, entry["seed"], lsr=True, scale=entry["lsr_scale"])
    lsr = measure_lsr(sim.recording)
    trend = _trend(lsr)
    return score_or_session(lsr, sim, trend=trend.query("channel != 'overall'"))


@pytest.mark.slow
@pytest.mark.parametrize("sfreq", [5000.0, 10000.0, 20000.0])
def test_disappearing_lsr_held_out_combined(sfreq):
    s = _combined_scores(sfreq)
    assert s["presence_accuracy"] >= 0.97
    assert s["p2p_mae_pct"] <= 10.0
    # within 3 stimuli of the channel's own montage (alternating: 6 stimuli of the sequence)
    assert s["disappearance_error_sweeps"] <= 3
    assert s["status_accuracy"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("sfreq", [5000.0, 10000.0, 20000.0])
def test_disappearing_lsr_held_out_combined_latency(sfreq):
    # Issue 11's target is latency MAE <= 0.3 ms. With the template-lag latency (Woody 1967)
    # the held-out seeds give 0.119 / 0.051 / 0.065 ms at 5 / 10 / 20 kHz (0.65 / 0.50 /
    # 0.54 ms with the single-trial walk-back; docs/validation_evoked.md): bound 0.2 ms.
    assert _combined_scores(sfreq)["latency_mae_ms"] <= 0.2
