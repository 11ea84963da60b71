"""Accuracy of the MVD modalities against simulator ground truth (issue 12).

Run: ``PYTHONPATH=. python benchmarks/accuracy_mvd.py``. Prints markdown tables for:

1. The LSR course (:func:`hfs_emg.lsr_trend` with the phase markers, default options) on the
   grid of :func:`hfs_emg.simulate.simulate_mvd_lsr` scenarios: status and loss phase right,
   ``reduction_pct`` error, loss-time error; tuning seeds 0-3 and held-out seeds 101-102.
2. Two stress conditions not in the Done-when grid: no LSR at all (``not_elicited``) and a
   slow amplitude drift of 5 % instead of 2 %.
3. A-trains (:func:`hfs_emg.detect_a_trains`, :func:`hfs_emg.train_time`) on
   :func:`hfs_emg.simulate.simulate_free_running`: F1, train-time error, frequency error.
4. Facial MEPs (:func:`hfs_emg.measure_fmep`, :func:`hfs_emg.fmep_trend`) on
   :func:`hfs_emg.simulate.simulate_fmep`: final/baseline error, latency error.
5. The Z-L response (:func:`hfs_emg.measure_zl_response`, :func:`hfs_emg.zl_trend`) on
   :func:`hfs_emg.simulate.simulate_zl_response`: per-sweep sensitivity and false-positive
   rate, status and loss time, latency error; default and a hard condition (smaller ZLR, more
   noise).
6. LSR morphology (:func:`hfs_emg.lsr_morphology`) on
   :func:`hfs_emg.simulate.simulate_lsr_morphology`: phases and turns exactly right,
   onset/duration/afterdischarge errors, afterdischarge and late-component detection.

Seed groups: 0-3 = tuning (defaults chosen on them); 101-103 = looked at while fixing two
failures (FMEP window, octave error of the A-train frequency); 201-203 (modalities) and
101-102 (LSR course) = held out. Z-L and morphology: seeds 0-1 were looked at while writing
them (no default was tuned on them; the defaults come from the literature values or are
conventions); 201-205 are held out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hfs_emg import (
    detect_a_trains,
    fmep_trend,
    lsr_morphology,
    lsr_trend,
    measure_fmep,
    measure_lsr,
    measure_zl_response,
    phase_markers,
    train_time,
    zl_trend,
)
from hfs_emg.simulate import (
    simulate_fmep,
    simulate_free_running,
    simulate_lsr_morphology,
    simulate_mvd_lsr,
    simulate_zl_response,
)

GRID = [
    ("persisted", 0.0),
    ("partial", 30.0),
    ("partial", 50.0),
    ("partial", 70.0),
    ("disappeared_before_opening", 0.0),
    ("disappeared_before_decompression", 0.0),
    ("disappeared_after_decompression", 0.0),
    ("disappeared_after_closure", 0.0),
    ("transient_loss", 0.0),
]
GROUPS = {"tuning 0-3": (0, 1, 2, 3), "held-out 101-102": (101, 102)}
MOD_GROUPS = {
    "tuning 0-3": (0, 1, 2, 3),
    "seen 101-103": (101, 102, 103),
    "held-out 201-203": (201, 202, 203),
}


def to_markdown(df: pd.DataFrame) -> str:
    """Markdown table without the optional tabulate dependency."""
    fmt = [(lambda v: f"{v:.3f}") if pd.api.types.is_float_dtype(t) else str for t in df.dtypes]
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---:" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(f(v) for f, v in zip(fmt, row, strict=True)) + " |"
        for row in df.itertuples(False)
    ]
    return "\n".join([head, sep, *body])


def lsr_case(scenario: str, red: float, seed: int, **sim_kw) -> pd.DataFrame:
    sim = simulate_mvd_lsr(scenario=scenario, reduction_pct=red, seed=seed, **sim_kw)
    lsr = measure_lsr(sim.recording)
    trend = lsr_trend(lsr, phases=phase_markers(sim.recording))
    m = trend.merge(sim.trend, on="channel", suffixes=("", "_true"))
    m["case"] = scenario if scenario != "partial" else f"partial {red:.0f} %"
    m["ok"] = (m["status"] == m["status_true"]) & (m["loss_phase"] == m["loss_phase_true"])
    m["red_err"] = (m["reduction_pct"] - m["reduction_pct_true"]).abs()
    m["t_err"] = (m["disappearance_time_s"] - m["disappearance_time_s_true"]).abs()
    return m


def lsr_tables() -> None:
    rows = []
    for group, seeds in GROUPS.items():
        for scenario, red in GRID:
            ms = pd.concat([lsr_case(scenario, red, s) for s in seeds])
            rows.append(
                {
                    "seeds": group,
                    "case": ms["case"].iloc[0],
                    "status_phase_right": ms["ok"].mean(),
                    "reduction_err_max": ms["red_err"].max(),
                    "loss_time_err_max_s": ms["t_err"].max(),
                    "n_rows": len(ms),
                }
            )
    print("## LSR course (per-channel and overall rows; errors = |measured - true|)\n")
    print(to_markdown(pd.DataFrame(rows)))
    extra = []
    for label, scenario, kw in (
        ("no LSR (not_elicited)", "not_elicited", {}),
        ("persisted, drift 5 %", "persisted", {"drift_cv": 0.05}),
        ("partial 30 %, drift 5 %", "partial", {"drift_cv": 0.05}),
    ):
        ms = pd.concat([lsr_case(scenario, 30.0, s, **kw) for s in range(101, 106)])
        extra.append(
            {
                "condition (seeds 101-105)": label,
                "status_right": (ms["status"] == ms["status_true"]).mean(),
                "statuses": ", ".join(sorted(ms["status"].unique())),
                "reduction_min": ms["reduction_pct"].min(),
                "reduction_max": ms["reduction_pct"].max(),
            }
        )
    print("\n## Stress conditions outside the grid\n")
    print(to_markdown(pd.DataFrame(extra)))


def _match(truth: pd.DataFrame, det: pd.DataFrame) -> tuple[int, int, int, list]:
    tp, used, pairs = 0, set(), []
    for i, t in truth.iterrows():
        cand = det[(det["channel"] == t["channel"]) & ~det.index.isin(used)]
        ov = np.minimum(cand["offset_s"], t["offset_s"]) - np.maximum(cand["onset_s"], t["onset_s"])
        ok = ov / np.minimum(cand["duration_s"], t["duration_s"]) >= 0.5
        if ok.any():
            j = ov[ok].idxmax()
            used.add(j)
            pairs.append((i, j))
            tp += 1
    return tp, len(det) - tp, len(truth) - tp, pairs


def a_train_table() -> None:
    rows = []
    for group, seeds in MOD_GROUPS.items():
        tp = fp = fn = 0
        tt_err, f_err, on_err = [], [], []
        for s in seeds:
            sim = simulate_free_running(seed=s)
            det = detect_a_trains(sim.recording)
            truth = sim.trains[sim.trains["train_type"] == "A"]
            a, b, c, pairs = _match(truth, det)
            tp, fp, fn = tp + a, fp + b, fn + c
            tt = train_time(det, channels=sim.recording).set_index("channel")["train_time_s"]
            true_tt = sim.train_time.set_index("channel")["train_time_s"]
            tt_err += list(((tt - true_tt) / true_tt).abs())
            for i, j in pairs:
                f_err.append(abs(det.loc[j, "frequency_hz"] / truth.loc[i, "frequency_hz"] - 1))
                on_err.append(abs(det.loc[j, "onset_s"] - truth.loc[i, "onset_s"]))
        rows.append(
            {
                "seeds": group,
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "f1": 2 * tp / (2 * tp + fp + fn),
                "train_time_err_max_pct": 100 * max(tt_err),
                "frequency_err_max_pct": 100 * max(f_err),
                "onset_err_max_ms": 1e3 * max(on_err),
            }
        )
    print("\n## A-trains (5 A, 8 B, 2 C trains per channel, 3 channels, 120 s per seed)\n")
    print(to_markdown(pd.DataFrame(rows)))


def fmep_table() -> None:
    rows = []
    for group, seeds in MOD_GROUPS.items():
        rel, lat = [], []
        for s in seeds:
            sim = simulate_fmep(seed=s)
            fmep = measure_fmep(sim.recording)
            trend = fmep_trend(fmep, phases=phase_markers(sim.recording))
            m = trend.merge(sim.trend, on="channel", suffixes=("", "_true"))
            rel += list(
                (m["final_over_baseline_pct"] / m["final_over_baseline_pct_true"] - 1).abs()
            )
            t = sim.responses.merge(fmep, on=["stim_index", "channel"], suffixes=("_true", ""))
            lat += list(t["latency_ms"] - t["latency_ms_true"])
        lat = np.asarray(lat)
        rows.append(
            {
                "seeds": group,
                "final_over_baseline_err_max_pct": 100 * max(rel),
                "latency_bias_ms": float(lat.mean()),
                "latency_abs_max_ms": float(np.abs(lat).max()),
                "latency_over_0.6ms_pct": 100 * float((np.abs(lat) > 0.6).mean()),
            }
        )
    print("\n## Facial MEP (34 trains of 4 pulses, 3 muscles per seed; error relative)\n")
    print(to_markdown(pd.DataFrame(rows)))


ZL_GROUPS = {"looked at 0-1": (0, 1), "held-out 201-205": (201, 202, 203, 204, 205)}
ZL_CONDITIONS = {
    "default (80+-20 uV; noise 8 + 6 uV)": {},
    "hard (50+-15 uV; noise 12 + 10 uV)": {
        "p2p_uv": (50.0, 15.0),
        "white_noise_uv": 12.0,
        "background_uv": 10.0,
    },
    "hard, average_n=5": {
        "p2p_uv": (50.0, 15.0),
        "white_noise_uv": 12.0,
        "background_uv": 10.0,
        "average_n": 5,
    },
}


def zl_table() -> None:
    rows = []
    for cond, kw_all in ZL_CONDITIONS.items():
        kw = {k: v for k, v in kw_all.items() if k != "average_n"}
        n_avg = int(kw_all.get("average_n", 1))
        for group, seeds in ZL_GROUPS.items():
            sens, sens60, fp_m, fp_1, ok, n_ok, t_err, lat = [], [], [], [], 0, 0, [], []
            ch_ok, ch_n = 0, 0
            for s in seeds:
                for scen in ("disappeared", "persisted", "not_elicited"):
                    sim = simulate_zl_response(scenario=scen, duration_s=100.0, seed=s, **kw)
                    zl = measure_zl_response(sim.recording, average_n=n_avg)
                    m = sim.responses.query("kind == 'zlr'").merge(
                        zl, on=["stim_index", "channel"], suffixes=("_true", "")
                    )
                    pos = m["present_true"].to_numpy(bool)
                    if n_avg > 1:  # an average holds a response while the ZLR exists
                        t = m["stim_time_s"].to_numpy(float)
                        t_loss = sim.params["t_loss_design_s"]
                        pos = np.full(t.size, scen != "not_elicited") & (t < t_loss)
                        keep = ~((t >= t_loss) & (t < t_loss + n_avg))  # mixed windows
                        m, pos = m[keep], pos[keep]
                        m = m.assign(present_true=pos)
                    det = m["match_present"].to_numpy(bool)
                    if pos.any():
                        sens.append(det[pos].mean())
                        big = pos & (m["p2p_uv_true"].to_numpy(float) >= 60.0)
                        if big.any():
                            sens60.append(det[big].mean())
                    fp_m += list(det[~pos])
                    fp_1 += list(m["present"].to_numpy(bool)[~pos])
                    both = pos & m["present"].to_numpy(bool)
                    lat += list((m["latency_ms"] - m["latency_ms_true"])[both])
                    tr = zl_trend(zl, phases=sim.phases).set_index("channel")
                    n_ok += 1
                    ok += int(tr.loc["overall", "status"] == scen)
                    big_ch = sim.trend.loc[sim.trend["p2p_uv"] >= 60.0, "channel"]
                    ch_n += len(big_ch)
                    ch_ok += int((tr.loc[big_ch, "status"] == scen).sum())
                    if scen == "disappeared" and tr.loc["overall", "status"] == scen:
                        t_true = sim.trend["disappearance_time_s"].max()
                        t_err.append(abs(tr.loc["overall", "disappearance_time_s"] - t_true))
            lat = np.asarray(lat)
            rows.append(
                {
                    "condition": cond,
                    "seeds": group,
                    "sensitivity": float(np.mean(sens)),
                    "sensitivity_ge_60uv": float(np.mean(sens60)) if sens60 else np.nan,
                    "fpr_matched": float(np.mean(fp_m)),
                    "fpr_single_trial": float(np.mean(fp_1)),
                    "overall_status_right": f"{ok}/{n_ok}",
                    "channel_status_right_ge_60uv": f"{ch_ok}/{ch_n}",
                    "loss_time_err_max_s": float(max(t_err)) if t_err else np.nan,
                    "latency_median_err_ms": float(np.median(lat)),
                    "latency_p95_abs_err_ms": float(np.quantile(np.abs(lat), 0.95)),
                }
            )
    print("\n## Z-L response (3 scenarios x 3 muscles x 99 vessel sweeps per seed)\n")
    print("(average_n rows: truth = the ZLR exists at that time; windows spanning the loss")
    print("are left out of sensitivity and false-positive rate)\n")
    print(to_markdown(pd.DataFrame(rows)))


MORPH_CONDITIONS = {
    "default (150-400 uV; noise 5 + 4 uV)": {},
    "noisy (150-400 uV; noise 10 + 8 uV)": {"white_noise_uv": 10.0, "background_uv": 8.0},
    "hard (80-200 uV; noise 10 + 8 uV)": {
        "p2p_uv": (80.0, 200.0),
        "white_noise_uv": 10.0,
        "background_uv": 8.0,
    },
}


def morphology_table() -> None:
    rows = []
    for cond, kw in MORPH_CONDITIONS.items():
        for group, seeds in ZL_GROUPS.items():
            parts = []
            for s in seeds:
                sim = simulate_lsr_morphology(n_stimuli=60, seed=s, **kw)
                morph = lsr_morphology(sim.recording)
                parts.append(
                    morph.merge(sim.truth, on=["stim_index", "channel"], suffixes=("", "_true"))
                )
            m = pd.concat(parts, ignore_index=True)
            both = m["afterdischarge_present"] & m["afterdischarge_present_true"]
            ad = (m["afterdischarge_duration_ms"] - m["afterdischarge_duration_ms_true"])[both]
            late = m["late_present"] & m["late_present_true"]
            rows.append(
                {
                    "condition": cond,
                    "seeds": group,
                    "sweeps": len(m),
                    "phases_exact_pct": 100 * float((m["n_phases"] == m["n_phases_true"]).mean()),
                    "turns_exact_pct": 100 * float((m["n_turns"] == m["n_turns_true"]).mean()),
                    "polyphasic_agree_pct": 100
                    * float((m["polyphasic"] == (m["n_phases_true"] >= 5)).mean()),
                    "onset_p90_err_ms": float(
                        (m["onset_ms"] - m["onset_ms_true"]).abs().quantile(0.9)
                    ),
                    "duration_p90_err_ms": float(
                        (m["initial_duration_ms"] - m["initial_duration_ms_true"])
                        .abs()
                        .quantile(0.9)
                    ),
                    "afterdischarge_detect_pct": 100
                    * float(
                        (m["afterdischarge_present"] == m["afterdischarge_present_true"]).mean()
                    ),
                    "afterdischarge_p90_err_ms": float(ad.abs().quantile(0.9)),
                    "late_detect_pct": 100
                    * float((m["late_present"] == m["late_present_true"]).mean()),
                    "late_latency_p90_err_ms": float(
                        (m["late_latency_ms"] - m["late_latency_ms_true"])[late].abs().quantile(0.9)
                    ),
                }
            )
    print("\n## LSR morphology (60 sweeps x 2 muscles per seed; 1-7 phases, 50 % with AD)\n")
    print(to_markdown(pd.DataFrame(rows)))


if __name__ == "__main__":
    import sys

    only = set(sys.argv[1:])
    if not only or "lsr" in only:
        lsr_tables()
    if not only or "a_trains" in only:
        a_train_table()
    if not only or "fmep" in only:
        fmep_table()
    if not only or "zl" in only:
        zl_table()
    if not only or "morphology" in only:
        morphology_table()
