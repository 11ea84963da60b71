"""Patient timeline over visits: metrics per visit, toxin / MVD days, BIDS sessions, figure."""

from __future__ import annotations

import json
import shutil

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import hfs_emg
from hfs_emg import ParameterError, Visit, patient_timeline
from hfs_emg.bids import bids_timeline
from hfs_emg.plotting import plot_visits
from hfs_emg.simulate import (
    simulate_blink_study,
    simulate_f_wave_study,
    simulate_spontaneous,
    simulate_toxin_course,
    toxin_decrement,
)
from hfs_emg.visits import TIMELINE_COLUMNS, read_sessions_tsv, visit_metrics


@pytest.fixture(scope="module")
def toxin_timeline():
    sim = simulate_toxin_course(days=(0.0, 14.0, 38.0, 90.0, 150.0), seed=7)
    visits = []
    for v, rec in zip(sim.visits.itertuples(), sim.recordings, strict=True):
        cmap = hfs_emg.measure_cmap(rec, affected_side="left", context="botulinum_toxin")
        visits.append(
            Visit(
                date=v.date,
                kind=v.kind,
                analyses={"cmap": cmap},
                dose_units=v.dose_units,
                site=v.site,
            )
        )
    return sim, patient_timeline(visits[::-1], patient="P01")  # order restored by date


def test_toxin_course_timeline(toxin_timeline):
    sim, tl = toxin_timeline
    assert tl["visit"].tolist() == ["v1", "v2", "v3", "v4", "v5"]
    assert tl["days_since_injection"].tolist() == [0.0, 14.0, 38.0, 90.0, 150.0]
    assert tl["dose_units"].iloc[0] == 20.0 and np.isnan(tl["dose_units"].iloc[1])
    err = (tl["cmap_decrement_pct"].to_numpy() - sim.truth["decrement_pct"].to_numpy()).max()
    assert abs(err) <= 2.0
    dec = tl["cmap_decrement_pct"].to_numpy()
    assert dec.argmax() == 2 and dec[-1] < dec[2] / 2  # peak at 38 days, recovering
    assert set(tl["cmap_context"]) == {"botulinum_toxin"}
    assert list(tl.columns[-len(TIMELINE_COLUMNS) :]) == list(TIMELINE_COLUMNS)


def test_visit_metrics_from_every_analysis():
    spont = hfs_emg.analyze(simulate_spontaneous(duration_s=20.0, sfreq=2000.0, seed=4).recording)
    fw = hfs_emg.measure_f_waves(simulate_f_wave_study(seed=5, f_duration_ms=13.1).recording)
    blink = hfs_emg.measure_blink_reflex(simulate_blink_study(seed=5).recording)
    m = visit_metrics([spont, {"f_waves": fw, "blink_reflex": blink}])
    summary = spont.summary
    assert m["bursts_per_min"] == pytest.approx(summary["bursts_per_min"].mean())
    assert m["burden_pct"] == pytest.approx(summary["burden_pct"].mean())
    assert m["n_sync_events"] == len(spont.synchronous)
    assert m["f_duration_mean_ms"] == pytest.approx(fw.summary["f_duration_mean_ms"].iloc[0])
    assert abs(m["blink_synkinesis_ratio"] - 0.5) <= 0.05  # simulated ratio 0.5
    assert m["blink_r2_area_uv_ms"] > 0
    assert m["lsr_status"] is None and np.isnan(m["cmap_amplitude_ratio"])
    left = visit_metrics(spont, side="left")["bursts_per_min"]
    on_left = summary.loc[summary["side"] == "left", "bursts_per_min"].mean()
    assert left == pytest.approx(on_left)


def test_mvd_and_lsr_status(example_dir):
    lsr = hfs_emg.analyze(example_dir / "lsr_session.edf")
    tl = patient_timeline(
        [
            {"date": "2024-03-01", "kind": "pre_mvd"},
            {"date": "2024-03-02", "kind": "intra_mvd", "analyses": lsr},
            {"date": "2024-04-01", "kind": "follow_up", "visit": "1 month"},
        ]
    )
    assert tl["lsr_status"].tolist() == [None, "disappeared", None]
    assert np.isnan(tl["days_since_mvd"].iloc[0])
    assert tl["days_since_mvd"].tolist()[1:] == [0.0, 30.0]
    assert tl["visit"].tolist() == ["v1", "v2", "1 month"]
    fig = plot_visits(tl.assign(bursts_per_min=[np.nan, 3.0, 1.0]))
    assert fig.axes[0].get_ylabel() == "Bursts (/min)"
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "MVD" in texts and "LSR disappeared" in texts


def test_plot_visits_panels_and_ax(toxin_timeline):
    import matplotlib.pyplot as plt

    _, tl = toxin_timeline
    fig = plot_visits(tl)
    assert len(fig.axes) == 1  # only the CMAP decrement has values
    line = fig.axes[0].lines[0]
    assert np.allclose(line.get_ydata(), tl["cmap_decrement_pct"].to_numpy())
    assert "BTX 20 U" in [t.get_text() for t in fig.axes[0].texts]
    fig2, ax = plt.subplots()
    assert plot_visits(tl, metrics=["cmap_decrement_pct", "day"], ax=ax) is fig2
    assert len(ax.lines) >= 1
    with pytest.raises(ParameterError):
        plot_visits(tl[["date", "kind"]])
    plt.close("all")


def test_bad_visits():
    with pytest.raises(ParameterError, match="kind"):
        Visit(date="2024-01-01", kind="surgery")
    with pytest.raises(ParameterError, match="Unknown visit field"):
        patient_timeline([{"date": "2024-01-01", "kind": "baseline", "dose": 5}])
    with pytest.raises(ParameterError, match="at least one"):
        patient_timeline([])
    with pytest.raises(ParameterError, match="cannot be parsed"):
        patient_timeline([{"date": "not a date", "kind": "baseline"}])
    with pytest.raises(TypeError):
        visit_metrics(42)


def test_sessions_tsv(tmp_path):
    p = tmp_path / "sub-01_sessions.tsv"
    p.write_text("session_id\tdate\tvisit_kind\nses-a\t2024-01-01\tbaseline\n")
    s = read_sessions_tsv(p)
    assert s["session"].tolist() == ["a"] and s["date"].iloc[0] == pd.Timestamp("2024-01-01")
    p.write_text("session_id\tdate\tvisit_kind\nses-a\t2024-01-01\tsurgery\n")
    with pytest.raises(ParameterError, match="surgery"):
        read_sessions_tsv(p)
    p.write_text("session_id\tdate\nses-a\t2024-01-01\n")
    with pytest.raises(ParameterError, match="visit_kind"):
        read_sessions_tsv(p)


def test_bids_timeline(example_dir, tmp_path):
    root = tmp_path / "bids"
    root.mkdir()
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "t", "BIDSVersion": "1.10.0"})
    )
    layout = {
        "sub-01/ses-pre/emg/sub-01_ses-pre_task-rest_emg.edf": "spontaneous_hfs.edf",
        "sub-01/ses-mvd/emg/sub-01_ses-mvd_task-lsr_emg.edf": "lsr_session.edf",
    }
    for rel, name in layout.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(example_dir / name, root / rel)
    (root / "sub-01" / "sub-01_sessions.tsv").write_text(
        "session_id\tacq_time\tvisit_kind\tdose_units\tsite\n"
        "ses-pre\t2024-02-20T09:00:00\tpre_mvd\tn/a\tn/a\n"
        "ses-mvd\t2024-03-01T08:00:00\tintra_mvd\tn/a\tn/a\n"
        "ses-fu\t2024-04-01T10:00:00\tfollow_up\tn/a\tn/a\n"
    )
    tl = bids_timeline(root, "01", workers=1, progress=False)
    assert tl["visit"].tolist() == ["ses-pre", "ses-mvd", "ses-fu"]
    assert tl["patient"].unique().tolist() == ["sub-01"]
    assert tl["bursts_per_min"].iloc[0] > 0 and np.isnan(tl["bursts_per_min"].iloc[2])
    assert tl["lsr_status"].tolist()[1] == "disappeared"
    (root / "sub-01" / "sub-01_sessions.tsv").write_text(
        "session_id\tacq_time\tvisit_kind\nses-pre\t2024-02-20\tpre_mvd\n"
    )
    with pytest.raises(ParameterError, match="mvd"):
        bids_timeline(root, "01", workers=1, progress=False)
    with pytest.raises(ParameterError, match="sessions file"):
        bids_timeline(root, "02", workers=1, progress=False)


def test_two_toxin_cycles():
    sim = simulate_toxin_course(
        days=(-10.0, 0.0, 38.0, 120.0, 158.0), injection_days=(0.0, 120.0), seed=8
    )
    visits = [
        {"date": v.date, "kind": v.kind, "dose_units": v.dose_units,
         "analyses": {"cmap": hfs_emg.measure_cmap(rec, affected_side="left")}}
        for v, rec in zip(sim.visits.itertuples(), sim.recordings, strict=True)
    ]  # fmt: skip
    tl = patient_timeline(visits)
    assert tl["kind"].tolist() == [
        "baseline", "toxin_injection", "follow_up", "toxin_injection", "follow_up",
    ]  # fmt: skip
    assert np.isnan(tl["days_since_injection"].iloc[0])
    assert tl["days_since_injection"].tolist()[1:] == [0.0, 38.0, 0.0, 38.0]
    dec = tl["cmap_decrement_pct"].to_numpy()
    assert abs(dec[0]) <= 2.0 and abs(dec[2] - 40.0) <= 2.0
    # the second cycle adds to what is left of the first (model: Glocker-shaped course)
    d = toxin_decrement
    second_peak = 100 * (1 - (1 - d(158.0) / 100) * (1 - d(38.0) / 100))
    assert dec[3] > 10.0 and abs(dec[4] - second_peak) <= 2.0 and dec[4] > dec[2]
    assert np.allclose(dec, sim.truth["decrement_pct"], atol=2.0)
