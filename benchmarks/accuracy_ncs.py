"""Accuracy of the nerve-conduction measures added for HFS, on tuning and HELD-OUT seeds.

Run: ``PYTHONPATH=. python benchmarks/accuracy_ncs.py`` (about 1 min on one core). Prints one
markdown table per measure, with the seeds the rules were chosen on ("tuning") and seeds never
looked at before the rules were fixed ("held-out", >= 1000):

1. F-wave duration (:func:`hfs_emg.measure_f_waves`, ``simulate_f_wave_study``): per-trial
   duration MAE / bias, F-wave sensitivity and false detections, for 9.5 and 13.1 ms.
2. R2 rectified area and duration, synkinesis ratio (:func:`hfs_emg.measure_blink_reflex`,
   ``simulate_blink_study``): relative area error per (stimulated side, channel) row.
3. R2 recovery cycle (:func:`hfs_emg.blink_recovery_cycle`, ``simulate_blink_recovery``):
   absolute error of the test/conditioning ratio per ISI, normal and enhanced curves.
4. CMAP decrement after botulinum toxin (:func:`hfs_emg.measure_cmap`,
   ``simulate_toxin_course``): absolute decrement error over 5 visits.
5. Speed: one call of each measure on the default simulated study.

Targets (issue 13): F-wave duration MAE <= 1.5 ms; R2 area within 10 %.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from hfs_emg.ncs import blink_recovery_cycle, measure_blink_reflex, measure_cmap, measure_f_waves
from hfs_emg.simulate import (
    simulate_blink_recovery,
    simulate_blink_study,
    simulate_f_wave_study,
    simulate_toxin_course,
)

SETS = {
    "f": {"tuning": (0, 1, 2), "held-out": tuple(range(1000, 1010))},
    "blink": {"tuning": tuple(range(6, 14)), "held-out": tuple(range(1000, 1008))},
    "recovery": {"tuning": (3,), "held-out": (1000, 1001, 1002, 1003)},
    "toxin": {"tuning": (0,), "held-out": (1000, 1001, 1002, 1003)},
}
KEYS = ["stim_side", "channel", "component", "relation"]


def to_markdown(df: pd.DataFrame) -> str:
    """Markdown table without the optional tabulate dependency."""
    fmt = [(lambda v: f"{v:.3f}") if pd.api.types.is_float_dtype(t) else str for t in df.dtypes]
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---:" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(f(v) for f, v in zip(fmt, r, strict=True)) + " |" for r in df.values]
    return "\n".join([head, sep, *rows])


#: Harder held-out conditions (seeds 2000-2005): smaller F-waves (F/M 3.8 %, the normal side),
#: more noise (10 uV white + 2 uV coloured instead of 4 + 2), and F-waves made of 2-4 motor-unit
#: potentials (``f_shape="units"``): (shape, duration, noise, F/M).
STRESS = (
    ("sine", 9.5, 4.0, 0.038),
    ("sine", 9.5, 10.0, 0.069),
    ("sine", 9.5, 10.0, 0.038),
    ("units", 9.5, 4.0, 0.069),
    ("units", 13.1, 4.0, 0.069),
    ("units", 13.1, 10.0, 0.069),
)


def f_waves() -> pd.DataFrame:
    rows = []
    conditions = [(name, seeds, "sine", dur, 4.0, 0.069) for name, seeds in SETS["f"].items()
                  for dur in (9.5, 13.1)]  # fmt: skip
    conditions += [("stress", tuple(range(2000, 2006)), *c) for c in STRESS]
    for name, seeds, shape, dur, noise, f_m in conditions:
        err, found, n_true, false = [], 0, 0, 0
        for seed in seeds:
            sim = simulate_f_wave_study(
                f_duration_ms=dur,
                n_stimuli=30,
                noise_uv=noise,
                f_m_ratio=f_m,
                f_shape=shape,
                seed=seed,
            )
            tr = measure_f_waves(sim.recording).trials
            m = tr.merge(sim.truth, on="stim_index", suffixes=("", "_true"))
            both = m[m["present"] & m["present_true"]]
            err.append((both["duration_ms"] - both["duration_ms_true"]).to_numpy())
            found += len(both)
            n_true += int(m["present_true"].sum())
            false += int((m["present"] & ~m["present_true"]).sum())
        e = np.concatenate(err)
        rows.append(
            {
                "seeds": name,
                "shape": shape,
                "noise_uv": noise,
                "f_m_pct": 100 * f_m,
                "true_duration_ms": dur,
                "n_f": n_true,
                "sensitivity": found / n_true,
                "false_f": false,
                "duration_mae_ms": float(np.abs(e).mean()),
                "duration_bias_ms": float(e.mean()),
                "duration_p95_ms": float(np.percentile(np.abs(e), 95)),
            }
        )
    return pd.DataFrame(rows)


def blink() -> pd.DataFrame:
    rows = []
    sets = [(name, seeds, 4.0) for name, seeds in SETS["blink"].items()]
    sets.append(("stress", tuple(range(2000, 2004)), 10.0))
    for name, seeds, noise in sets:
        parts = []
        for seed in seeds:
            sim = simulate_blink_study(seed=seed, noise_uv=noise)
            got = measure_blink_reflex(sim.recording).summary
            m = got.merge(sim.summary, on=KEYS, suffixes=("", "_true"))
            m = m[m["component"] == "R2"].copy()
            oculi = m[m["muscle"] == "orbicularis_oculi"].set_index(["stim_side", "relation"])
            ref = oculi["area_uv_ms_true"].reindex(
                pd.MultiIndex.from_frame(m[["stim_side", "relation"]])
            )
            m["ratio_true"] = m["area_uv_ms_true"].to_numpy() / ref.to_numpy()
            parts.append(m)
        m = pd.concat(parts)
        for group, sel in (
            ("oculi", m["muscle"] == "orbicularis_oculi"),
            ("synkinetic", m["muscle"] != "orbicularis_oculi"),
        ):
            d = m[sel]
            rel = d["area_uv_ms"] / d["area_uv_ms_true"] - 1.0
            rows.append(
                {
                    "seeds": name,
                    "noise_uv": noise,
                    "rows": group,
                    "n_rows": len(d),
                    "area_err_mean_pct": 100 * float(rel.mean()),
                    "area_err_max_abs_pct": 100 * float(rel.abs().max()),
                    "r2_duration_bias_ms": float((d["duration_ms"] - d["duration_ms_true"]).mean()),
                    "r2_duration_mae_ms": float(
                        (d["duration_ms"] - d["duration_ms_true"]).abs().mean()
                    ),
                    "synkinesis_ratio_err_max_pct": (
                        100 * float((d["synkinesis_ratio"] / d["ratio_true"] - 1).abs().max())
                        if group == "synkinetic"
                        else np.nan
                    ),
                }
            )
    return pd.DataFrame(rows)


def recovery() -> pd.DataFrame:
    rows = []
    for name, seeds in SETS["recovery"].items():
        for curve in ("normal", "enhanced"):
            err = []
            for seed in seeds:
                sim = simulate_blink_recovery(curve=curve, seed=seed)
                rc = blink_recovery_cycle(sim.recording)
                m = rc.merge(sim.summary, on=["channel", "isi_ms"], suffixes=("", "_true"))
                err.append((m["recovery_ratio"] - m["recovery_ratio_true"]).to_numpy())
            e = np.concatenate(err)
            rows.append(
                {
                    "seeds": name,
                    "curve": curve,
                    "n_isi_channel": e.size,
                    "ratio_err_mae": float(np.abs(e).mean()),
                    "ratio_err_max": float(np.abs(e).max()),
                }
            )
    return pd.DataFrame(rows)


def toxin() -> pd.DataFrame:
    rows = []
    for name, seeds in SETS["toxin"].items():
        err = []
        for seed in seeds:
            sim = simulate_toxin_course(seed=seed)
            for rec, true in zip(sim.recordings, sim.truth["decrement_pct"], strict=True):
                c = measure_cmap(rec, affected_side="left", context="botulinum_toxin")
                err.append(float(c["decrement_pct"].dropna().iloc[0]) - true)
        e = np.asarray(err)
        rows.append(
            {
                "seeds": name,
                "n_visits": e.size,
                "decrement_err_mae_pct": float(np.abs(e).mean()),
                "decrement_err_max_pct": float(np.abs(e).max()),
            }
        )
    return pd.DataFrame(rows)


def speed() -> pd.DataFrame:
    """Median wall time of one call (5 repeats) on the default simulated studies."""
    f = simulate_f_wave_study(seed=0).recording
    b = simulate_blink_study(seed=0).recording
    r = simulate_blink_recovery(seed=0).recording
    c = simulate_toxin_course(days=(38.0,), seed=0).recordings[0]
    rows = []
    for name, fn, rec in (
        ("measure_f_waves (30 stimuli, 10 kHz)", measure_f_waves, f),
        ("measure_blink_reflex (16 stimuli x 5 ch)", measure_blink_reflex, b),
        ("blink_recovery_cycle (56 stimuli x 2 ch)", blink_recovery_cycle, r),
        ("measure_cmap (8 stimuli x 2 ch)", measure_cmap, c),
    ):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            fn(rec)
            times.append(time.perf_counter() - t)
        rows.append({"call": name, "median_ms": 1e3 * float(np.median(times))})
    return pd.DataFrame(rows)


def main() -> None:
    t0 = time.perf_counter()
    for title, fn in (
        ("F-wave duration (10 kHz, 30 stimuli per study, persistence 60 %)", f_waves),
        ("R2 rectified area / duration and synkinesis ratio (10 kHz, 8 stimuli per side)", blink),
        ("R2 recovery cycle (7 ISIs x 4 pairs, ipsi- and contralateral oculi)", recovery),
        ("CMAP decrement after botulinum toxin (5 visits, days 0-150)", toxin),
        ("Speed (one call, median of 5, recording in memory)", speed),
    ):
        print(f"\n## {title}\n")
        print(to_markdown(fn()))
    print(f"\n(total {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
