"""F-wave duration, R2 area / synkinesis, R2 recovery cycle, CMAP decrement and normal limits.

Accuracy is checked on HELD-OUT seeds (>= 1000): the area and duration rules were chosen on
seeds 0-13 of the same simulators (docs/validation_evoked.md, "Nerve conduction").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hfs_emg
from hfs_emg import NcsResult, NormalLimits, ParameterError
from hfs_emg.ncs import blink_recovery_cycle, measure_blink_reflex, measure_cmap, measure_f_waves
from hfs_emg.simulate import (
    simulate_blink_recovery,
    simulate_blink_study,
    simulate_f_wave_study,
    simulate_nerve_conduction,
    simulate_toxin_course,
)

HELD_OUT = (1000, 1001, 1002, 1003, 1004)
KEYS = ["stim_side", "channel", "component", "relation"]


def _f_duration_errors(f_duration_ms: float, seeds) -> tuple[np.ndarray, list[float]]:
    errs, means = [], []
    for seed in seeds:
        sim = simulate_f_wave_study(f_duration_ms=f_duration_ms, n_stimuli=30, seed=seed)
        res = measure_f_waves(sim.recording)
        both = res.trials.merge(sim.truth, on="stim_index", suffixes=("", "_true"))
        both = both[both["present"] & both["present_true"]]
        assert len(both) >= 0.8 * sim.truth["present"].sum()  # F-waves found
        errs.append((both["duration_ms"] - both["duration_ms_true"]).to_numpy())
        means.append(float(res.summary["f_duration_mean_ms"].iloc[0]))
    return np.concatenate(errs), means


@pytest.mark.parametrize("f_duration_ms", [9.5, 13.1])
def test_f_wave_duration_mae_held_out(f_duration_ms):
    err, means = _f_duration_errors(f_duration_ms, HELD_OUT)
    assert np.abs(err).mean() <= 1.5  # Done-when: MAE <= 1.5 ms
    assert abs(np.mean(means) - f_duration_ms) <= 1.5


def test_f_wave_duration_motor_unit_shape():
    # harder waveform: 2-4 motor-unit potentials with gaps; the last one ends at the true end
    errs = []
    for seed in (3000, 3001, 3002):
        sim = simulate_f_wave_study(f_duration_ms=13.1, f_shape="units", seed=seed)
        both = measure_f_waves(sim.recording).trials.merge(
            sim.truth, on="stim_index", suffixes=("", "_true")
        )
        both = both[both["present"] & both["present_true"]]
        errs.append((both["duration_ms"] - both["duration_ms_true"]).to_numpy())
    assert np.abs(np.concatenate(errs)).mean() <= 1.5
    with pytest.raises(ParameterError, match="f_shape"):
        simulate_f_wave_study(f_shape="square")


def test_f_wave_duration_separates_spasm_side():
    # Ishikawa 1996: 13.1 (spasm side) vs 9.5 ms; the measured difference keeps that gap
    _, spasm = _f_duration_errors(13.1, HELD_OUT[:3])
    _, normal = _f_duration_errors(9.5, HELD_OUT[:3])
    assert abs((np.mean(spasm) - np.mean(normal)) - 3.6) <= 1.0


def test_f_wave_result_type_and_return_trials_removed():
    sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=10, n_blink_stimuli=1, seed=3)
    res = measure_f_waves(sim.f_waves)
    assert isinstance(res, NcsResult)
    assert {"f_duration_mean_ms", "persistence_pct", "f_m_ratio_pct"} <= set(res.summary.columns)
    assert len(res.trials) == 10
    with pytest.raises(ParameterError, match="NcsResult"):
        measure_f_waves(sim.f_waves, return_trials=True)
    with pytest.raises(ParameterError, match="NcsResult"):
        measure_blink_reflex(sim.blink, return_trials=True)


def test_r2_area_within_10_pct_held_out():
    worst = 0.0
    for seed in HELD_OUT:
        sim = simulate_blink_study(seed=seed)
        got = measure_blink_reflex(sim.recording).summary
        m = got.merge(sim.summary, on=KEYS, suffixes=("", "_true"))
        m = m[m["component"] == "R2"]
        assert len(m) == 8  # 2 oculi x 2 stimulated sides + 4 synkinetic rows
        rel = (m["area_uv_ms"] / m["area_uv_ms_true"] - 1.0).abs()
        worst = max(worst, float(rel.max()))
    assert worst <= 0.10


def test_r2_duration_against_truth_held_out():
    """R2 offset = return of the 5 ms forward mean of the rectified signal to the baseline noise
    (searched past the 60 ms onset window): the old last-raw-crossing rule inside 20-60 ms
    measured 2.6-3.5 ms short (held out: mean error -3.0 ms, cut at 60 ms when the R2 lasts
    longer); the envelope rule -1.4 / -2.1 ms (oculi / synkinetic rows), the tail below the
    noise being invisible to any threshold."""
    errs, trial_ends = [], []
    for seed in HELD_OUT:
        sim = simulate_blink_study(seed=seed)
        res = measure_blink_reflex(sim.recording)
        m = res.summary.merge(sim.summary, on=KEYS, suffixes=("", "_true"))
        m = m[m["component"] == "R2"]
        errs.append((m["duration_ms"] - m["duration_ms_true"]).to_numpy())
        tr = res.trials[(res.trials["component"] == "R2") & res.trials["present"]]
        trial_ends.append((tr["latency_ms"] + tr["duration_ms"]).to_numpy())
    e = np.concatenate(errs)
    assert np.abs(e).mean() <= 2.5, np.abs(e).mean()
    assert -2.5 <= e.mean() <= 0.5, e.mean()
    assert np.abs(e).max() <= 5.0, np.abs(e).max()
    assert (np.concatenate(trial_ends) > 62.0).any()  # R2 ending after the onset window


def test_synkinesis_ratio_and_flag():
    sim = simulate_blink_study(seed=1001, synkinesis_ratio=0.4)
    s = measure_blink_reflex(sim.recording).summary.set_index(KEYS)
    truth = sim.summary.set_index(KEYS)["area_uv_ms"]
    for stim in ("left", "right"):
        rel = "ipsilateral" if stim == "left" else "contralateral"
        oculi = truth[(stim, "orbicularis_oculi_L", "R2", rel)]
        for ch in ("orbicularis_oris_L", "mentalis_L"):
            want = truth[(stim, ch, "R2", rel)] / oculi
            got = s.loc[(stim, ch, "R2", rel), "synkinesis_ratio"]
            assert abs(got / want - 1.0) <= 0.1
            assert s.loc[(stim, ch, "R2", rel), "synkinetic"]
    # the healthy (right) side's oris is silent: not synkinetic, ratio 0 (P10 of the review)
    oris_r = s.xs("orbicularis_oris_R", level="channel")
    assert not oris_r["synkinetic"].any()
    assert (oris_r["n_present"] == 0).all()
    # oculi rows are never synkinetic, never carry a ratio
    oculi_rows = s[s["muscle"] == "orbicularis_oculi"]
    assert not oculi_rows["synkinetic"].any() and oculi_rows["synkinesis_ratio"].isna().all()


def test_recovery_cycle_ratios_held_out():
    diffs = []
    curves = {}
    for curve in ("normal", "enhanced"):
        sim = simulate_blink_recovery(curve=curve, n_pairs=4, seed=1002)
        rc = blink_recovery_cycle(sim.recording)
        m = rc.merge(sim.summary, on=["channel", "isi_ms"], suffixes=("", "_true"))
        assert len(m) == 14 and (m["n_pairs"] == 4).all()
        diffs.append((m["recovery_ratio"] - m["recovery_ratio_true"]).abs().to_numpy())
        curves[curve] = m[m["relation"] == "ipsilateral"].set_index("isi_ms")["recovery_ratio"]
    assert np.concatenate(diffs).max() <= 0.1
    normal, enhanced = curves["normal"], curves["enhanced"]
    # suppressed at short ISIs, recovered at long ones; enhanced recovery in BSP / HFS
    # (truth ratios scatter around the curve: R2 varies from trial to trial, 4 pairs per ISI)
    assert normal[100.0] <= 0.1 and normal[1500.0] >= normal[300.0] + 0.3
    assert (enhanced[[200.0, 300.0]] > normal[[200.0, 300.0]] + 0.2).all()


def test_recovery_cycle_needs_pairs():
    sim = simulate_blink_study(n_stimuli=2, seed=3)  # stimuli 3 s apart: no pair
    with pytest.raises(ParameterError, match="No paired stimuli"):
        blink_recovery_cycle(sim.recording)


def test_toxin_decrement_held_out():
    for seed in (1003, 1004):
        sim = simulate_toxin_course(seed=seed)
        for rec, (_, truth) in zip(sim.recordings, sim.truth.iterrows(), strict=True):
            c = measure_cmap(rec, affected_side="left", context="botulinum_toxin")
            row = c.set_index("side").loc["left"]
            assert abs(row["decrement_pct"] - truth["decrement_pct"]) <= 2.0
            assert row["context"] == "botulinum_toxin"
            assert "not axonal loss" in row["interpretation"]
    day38 = sim.truth.set_index("day").loc[38.0, "decrement_pct"]
    assert 37.0 <= day38 <= 43.0  # Glocker 1995: about -40 % at 38 days


def test_cmap_context_and_no_degeneration_column():
    sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=2, n_blink_stimuli=1, seed=4)
    c = measure_cmap(sim.cmap, context="facial_palsy")
    assert "degeneration_pct" not in c.columns
    assert c["interpretation"].iloc[0].startswith("ENoG")
    assert c["context"].iloc[1] is None  # the healthy side's row carries no interpretation
    with pytest.raises(ParameterError, match="context"):
        measure_cmap(sim.cmap, context="axonal")


def test_normal_limits_flags():
    sim = simulate_nerve_conduction(
        sfreq=10000.0,
        n_f_stimuli=2,
        n_blink_stimuli=2,
        cmap_latency_ms=4.4,
        affected_latency_delay_ms=0.6,
        seed=6,
    )
    c = measure_cmap(sim.cmap).set_index("channel")
    # affected 5.0 ms (> 4.5) and 1.8 mV (< 2 mV); healthy 4.4 ms and 3 mV
    assert c.loc["nasalis_L", "latency_abnormal"] and c.loc["nasalis_L", "p2p_abnormal"]
    assert not c.loc["nasalis_R", "latency_abnormal"] and not c.loc["nasalis_R", "p2p_abnormal"]
    lenient = measure_cmap(sim.cmap, limits=NormalLimits(cmap_latency_max_ms=6.0))
    assert not lenient["latency_abnormal"].any()
    # the limits are those of nasalis recordings: other muscles get NA, not a verdict
    oculi = simulate_toxin_course(days=(38.0,), seed=1)
    flags = measure_cmap(oculi.recordings[0])[["latency_abnormal", "p2p_abnormal"]]
    assert flags.isna().all().all()
    b = measure_blink_reflex(sim.blink).summary
    oculi = b[b["muscle"] == "orbicularis_oculi"]
    present = oculi[oculi["n_present"] > 0]
    assert not present["latency_abnormal"].any()
    assert oculi.loc[oculi["n_present"] == 0, "latency_abnormal"].isna().all()
    assert b.loc[b["muscle"] != "orbicularis_oculi", "latency_abnormal"].isna().all()
    strict = measure_blink_reflex(sim.blink, limits=NormalLimits(r1_latency_max_ms=9.0)).summary
    r1 = strict[(strict["component"] == "R1") & (strict["muscle"] == "orbicularis_oculi")]
    r1 = r1[r1["relation"] == "ipsilateral"]
    assert r1["latency_abnormal"].all()


def test_top_level_exports():
    assert hfs_emg.blink_recovery_cycle is blink_recovery_cycle
    assert isinstance(hfs_emg.NormalLimits(), NormalLimits)
    assert pd.api.types.is_bool_dtype(
        measure_cmap(
            simulate_nerve_conduction(sfreq=5000.0, n_f_stimuli=2, n_blink_stimuli=1).cmap
        )["latency_abnormal"]
    )


@pytest.mark.parametrize(("persistence", "synkinetic"), [(0.25, False), (0.85, True)])
def test_synkinesis_persistence_rule(persistence, synkinetic):
    """The 50 % persistence rule (this library's convention, SYNKINESIS_MIN_PCT) on synkinesis
    that varies from stimulus to stimulus (Auger 1979): persistence measured within one stimulus
    of the simulated truth, the flag following the rule and its stored value."""
    from hfs_emg.ncs import SYNKINESIS_MIN_PCT

    assert SYNKINESIS_MIN_PCT == 50.0
    for seed in HELD_OUT[:3]:
        sim = simulate_blink_study(seed=seed, synkinesis_persistence=persistence, n_stimuli=12)
        s = measure_blink_reflex(sim.recording).summary
        assert s.attrs["synkinesis_min_pct"] == 50.0
        rows = s[
            (s["channel"].isin(["orbicularis_oris_L", "mentalis_L"])) & (s["component"] == "R2")
        ]
        t = sim.truth
        for _, r in rows.iterrows():
            n_true = int(
                ((t["channel"] == r["channel"]) & (t["component"] == "R2")
                 & (t["stim_side"] == r["stim_side"])).sum()
            )  # fmt: skip
            assert abs(r["n_present"] - n_true) <= 1, (r["channel"], r["n_present"], n_true)
            assert bool(r["synkinetic"]) == (r["persistence_pct"] >= 50.0)
        mean_p = rows["persistence_pct"].mean()
        assert (mean_p >= 50.0) == synkinetic, mean_p
    # another rule is one option away
    strict = measure_blink_reflex(sim.recording, synkinesis_min_pct=100.0).summary
    assert strict.attrs["synkinesis_min_pct"] == 100.0
    with pytest.raises(ParameterError):
        measure_blink_reflex(sim.recording, synkinesis_min_pct=0.0)
