"""The live LSR monitor: online rows == offline rows on the recording it kept, crash safety,
resume, dropouts, refused montage changes, and the CLI.

Every test plays a recording through a real LSL stream on this machine (mne-lsl's liblsl) with
a unique stream name, and cleans up its stream and processes.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hfs_emg as hfs
from hfs_emg.live import StreamChangedError
from hfs_emg.pipeline.monitor import LiveMonitor
from hfs_emg.simulate import simulate_lsr_session

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example_data" / "lsr_session.edf"
SHORT = {"orbicularis_oculi_L": "OrbOculi_L", "orbicularis_oris_L": "OrbOris_L"}
# held-out seed: never used to choose a default of the monitor or of measure_lsr
HELD_OUT_SEED = 83_311


def _sim(n: int = 60, seed: int = HELD_OUT_SEED, disappear: int = 35, sfreq: float = 10000.0):
    sim = simulate_lsr_session(
        n_stimuli=n,
        rate_hz=4.0,
        sfreq=sfreq,
        disappearance_index=disappear,
        fade_stimuli=0,
        seed=seed,
    )
    return sim, sim.recording.rename_channels(SHORT)


def _offline(path: Path, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hfs.measure_lsr(hfs.read_recording(path), **kw)


def _assert_same_rows(online: pd.DataFrame, offline: pd.DataFrame) -> None:
    a = online.set_index(["stim_index", "channel"]).sort_index()
    b = offline.set_index(["stim_index", "channel"]).sort_index()
    assert a.index.equals(b.index)
    for col in ("present", "match_present", "rejected", "kind", "montage"):
        assert (a[col].to_numpy() == b[col].to_numpy()).all(), col
    for col in ("latency_ms", "p2p_uv", "stim_time_s"):
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), col
        np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=0, atol=1e-9)


def _trend(lsr: pd.DataFrame, phases: pd.DataFrame | None = None) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hfs.lsr_trend(lsr, phases=phases)


def test_example_session_online_equals_offline(tmp_path: Path) -> None:
    mon = LiveMonitor(tmp_path, replay=EXAMPLE, speed=20.0)
    mon.run(timeout=90)
    rec = hfs.read_recording(tmp_path / "recording.bdf")
    offline = _offline(tmp_path / "recording.bdf")
    assert offline["stim_index"].nunique() == 100
    _assert_same_rows(mon.lsr, offline)
    on, off = mon.trend, _trend(offline, rec.events)
    cols = ["montage", "channel", "status", "disappearance_stim_index", "n_present"]
    pd.testing.assert_frame_equal(on[cols].reset_index(drop=True), off[cols], check_dtype=False)
    overall = on.set_index("channel").loc["overall"]
    assert overall["status"] == "disappeared"
    assert abs(int(overall["disappearance_stim_index"]) - 70) <= 3  # the example's truth
    # the session folder: tables as written, events with the marker labels
    assert (pd.read_parquet(tmp_path / "lsr.parquet")["present"] == mon.lsr["present"]).all()
    csv = pd.read_csv(tmp_path / "lsr.csv")  # appended batch by batch
    assert len(csv) == len(mon.lsr) and (csv["present"] == mon.lsr["present"]).all()
    np.testing.assert_allclose(csv["latency_ms"], mon.lsr["latency_ms"], equal_nan=True)
    ev = pd.read_csv(tmp_path / "events.csv")
    assert (ev["kind"] == "stimulus").sum() == 100
    assert ev["label"].str.contains("stim zygomatic").any()
    assert set(mon.lsr["montage"]) == {"zygomatic"}  # labels attached from the markers


def test_held_out_simulation_online_equals_offline_and_truth(tmp_path: Path) -> None:
    _, rec = _sim()
    mon = LiveMonitor(tmp_path, replay=rec, speed=10.0, stim_branch="zygomatic")
    mon.run(timeout=60)
    offline = _offline(tmp_path / "recording.bdf", stim_branch="zygomatic")
    _assert_same_rows(mon.lsr, offline)
    trend = mon.trend.set_index("channel")
    assert trend.loc["overall", "status"] == "disappeared"
    assert abs(int(trend.loc["overall", "disappearance_stim_index"]) - 35) <= 3


def test_bounded_history_keeps_online_equal_to_offline(tmp_path: Path) -> None:
    # small calibration and template windows, so that every template completes and every
    # calibration window slides well within the session; the offline analysis of the whole
    # file must still agree
    opts = {"calibration_n": 15, "template_n": 4}
    _, rec = _sim(n=150, disappear=110, sfreq=5000.0, seed=HELD_OUT_SEED + 1)
    mon = LiveMonitor(tmp_path, replay=rec, speed=12.0, stim_branch="zygomatic", lsr_options=opts)
    mon.run(timeout=60)
    # no sweep history: the causal state is bounded (template rows, running sums of
    # calibration_n sweeps); it is the same size after 150 sweeps as after 40
    state = mon._stream
    assert state.n_sweeps == 150
    assert all(s.ring is None and len(s.det_row) == 4 for s in state._series.values())
    assert state.nbytes < 150 * 1000
    offline = _offline(tmp_path / "recording.bdf", stim_branch="zygomatic", **opts)
    _assert_same_rows(mon.lsr, offline)
    trend = mon.trend.set_index("channel")
    assert abs(int(trend.loc["overall", "disappearance_stim_index"]) - 110) <= 3


def test_dropout_signal_lost_gap_annotated_and_continued(tmp_path: Path) -> None:
    _, rec = _sim(n=52, disappear=45, sfreq=5000.0)
    mon = LiveMonitor(tmp_path, replay=rec, speed=2.0, stim_branch="zygomatic", lost_after_s=0.3)
    # 3.5 s of recording (1.75 s at 2x) never sent; late enough to fall after liblsl's first
    # pull, which waits ~1 s for its clock offset
    mon.replay.drop(6.0, 3.5)
    mon.run(timeout=60)
    log = [s for _, s in mon.status_log]
    assert log[:2] == ["signal lost", "streaming"]  # lost, then back (then the replay's end)
    ev = pd.read_csv(tmp_path / "events.csv")
    gap = ev[ev["kind"] == "gap"]
    assert len(gap) == 1
    assert gap["duration_s"].iloc[0] == pytest.approx(3.5, abs=2e-3)
    back = hfs.read_recording(tmp_path / "recording.bdf")
    lost = back.events[back.events["label"] == "signal lost"]
    assert len(lost) == 1 and lost["duration_s"].iloc[0] == pytest.approx(3.5, abs=2e-3)
    # the gap is kept as time: the file is as long as the recording played
    assert back.n_samples == pytest.approx(rec.n_samples, abs=round(0.05 * rec.sfreq))
    # stimuli inside the gap are lost, those after it are measured
    on_times = mon.lsr["stim_time_s"].unique() - back.tstart
    assert (on_times > 9.55).sum() >= 10 and not ((on_times > 6.05) & (on_times < 9.45)).any()
    _assert_same_rows(mon.lsr, _offline(tmp_path / "recording.bdf", stim_branch="zygomatic"))


def test_changed_montage_is_refused(tmp_path: Path) -> None:
    _, rec = _sim(n=6, sfreq=5000.0)
    LiveMonitor(tmp_path, replay=rec, speed=6.0, stim_branch="zygomatic").run(timeout=30)
    other = rec.pick(["frontalis_L", "OrbOculi_L", "mentalis_L", "trigger"])
    with pytest.raises(StreamChangedError, match="Start a new session folder"):
        LiveMonitor(tmp_path, replay=other, speed=6.0).run(timeout=30)


def _cli(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "hfs_emg", "monitor", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_kill9_leaves_a_readable_session_and_resume_continues(tmp_path: Path) -> None:
    _, rec = _sim(n=80, disappear=60, sfreq=5000.0)
    src = tmp_path / "sim.bdf"
    hfs.write_recording(rec, src)
    out = tmp_path / "session"
    args = ["--replay", str(src), "--out", str(out), "--stim-branch", "zygomatic"]
    proc = _cli([*args, "--speed", "2", "--port", "-1", "--no-browser"])
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if (out / "lsr.csv").exists() and pd.read_csv(out / "lsr.csv")[
                "stim_index"
            ].max() >= 15:
                break
            time.sleep(0.2)
        time.sleep(1.2)  # past one fsync period
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    lsr1 = pd.read_csv(out / "lsr.csv")
    n1 = json.loads((out / "manifest.json").read_text())["n_stimuli"]  # complete everywhere
    assert set(range(n1)) <= set(lsr1["stim_index"])
    assert n1 >= 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        part1 = hfs.read_recording(out / "recording.bdf")  # header still says -1 records
    # at most the last second (one BDF data record, fsync-ed each) is lost
    file_end = part1.tstart + part1.n_samples / part1.sfreq
    assert file_end >= lsr1["stim_time_s"].max() + 0.05 - 1.0 - 1e-6
    # and the sweeps that are in the file analyse offline as they did online
    off1 = _offline(out / "recording.bdf", stim_branch="zygomatic")
    n_common = min(off1["stim_index"].nunique(), lsr1["stim_index"].nunique())
    assert n_common >= 16
    _assert_same_rows(lsr1[lsr1["stim_index"] < n_common], off1[off1["stim_index"] < n_common])
    assert len(pd.read_csv(out / "events.csv")) >= n1
    # resume: a second part, stimulus numbering and the trend continue
    proc = _cli([*args, "--speed", "8", "--port", "-1", "--no-browser", "--duration", "6"])
    _stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr[-2000:]
    man = json.loads((out / "manifest.json").read_text())
    assert [p["file"] for p in man["parts"]] == ["recording.bdf", "recording-002.bdf"]
    lsr = pd.read_parquet(out / "lsr.parquet")
    second = lsr[lsr["part"] == "recording-002.bdf"]
    assert second["stim_index"].min() == n1
    assert (np.diff(np.sort(lsr["stim_index"].unique())) == 1).all()
    trend = pd.read_csv(out / "trend.csv")
    assert trend.set_index("channel").loc["overall", "n_stimuli"] == lsr["stim_index"].nunique()
    # the resumed part equals its own offline analysis (numbered from n1)
    off2 = _offline(out / "recording-002.bdf", stim_branch="zygomatic")
    off2["stim_index"] += n1
    _assert_same_rows(second, off2)
    assert (out / "report.html").exists()


def test_spontaneous_blocks_equal_the_offline_block_analysis(tmp_path: Path) -> None:
    from hfs_emg.live.spontaneous import spontaneous_blocks
    from hfs_emg.simulate import simulate_free_running

    sim = simulate_free_running(duration_s=30.5, n_a_trains=3, n_b_trains=3, n_c_trains=0, seed=7)
    rec = sim.recording.rename_channels(
        {n: n.replace("orbicularis_", "orb_") for n in sim.recording.ch_names}
    )
    mon = LiveMonitor(tmp_path, replay=rec, speed=10.0, block_s=10.0)
    mon.run(timeout=60)
    assert mon.lsr.empty
    back = hfs.read_recording(tmp_path / "recording.bdf")
    assert back.n_samples == rec.n_samples
    offline = spontaneous_blocks(back, block_s=10.0, margin_s=1.0)
    # every block: the last (10.5 s: a remainder shorter than the margin joins it) is
    # analysed when the part is closed
    assert sorted(offline["trains"]["block_start_s"].unique() - back.tstart) == [0, 10, 20]
    for name in ("bursts", "trains", "a_trains"):
        on = pd.read_csv(tmp_path / f"{name}.csv")
        off = offline[name]
        assert len(on) == len(off) > 0, name
        assert on["channel"].tolist() == off["channel"].tolist()
        for col in ("onset_s", "offset_s", "duration_s", "block_start_s"):
            np.testing.assert_allclose(on[col], off[col], rtol=0, atol=1e-9, err_msg=name)
    on_t = pd.read_csv(tmp_path / "trains.csv")
    assert on_t["train_type"].tolist() == offline["trains"]["train_type"].tolist()
    # the A-trains are detect_a_trains' rows on each block: against the simulator's truth
    truth_a = sim.trains.query("train_type == 'A'")
    assert mon.spont_totals["n_a_trains"] >= len(truth_a) - 1
    assert mon.spont_totals["n_a_trains"] == len(offline["a_trains"])
    # the block rule: one row per event, by the block holding its onset
    a = offline["a_trains"]
    assert ((a["onset_s"] >= a["block_start_s"]) & (a["onset_s"] < a["block_start_s"] + 10)).all()


def test_resumed_session_report_covers_every_part(tmp_path: Path) -> None:
    _, rec = _sim(n=14, sfreq=5000.0, disappear=40)
    first = LiveMonitor(tmp_path, replay=rec, speed=8.0, stim_branch="zygomatic")
    first.run(timeout=30)
    first.add_phase("dura opening")  # after the run: logged at the last sample of part 1
    # an 8x replay's samples outrun the stream's clock: wait until part 1 has ended on it
    time.sleep(rec.duration_s)
    mon = LiveMonitor(tmp_path, replay=rec, speed=8.0, stim_branch="zygomatic")
    mon.run(timeout=30)
    assert [p.name for p in mon.parts] == ["recording.bdf", "recording-002.bdf"]
    result, joined = mon.session_result()
    assert result.protocol == "lsr"
    assert sorted(result.lsr["part"].unique()) == ["recording-002.bdf", "recording.bdf"]
    assert result.stim_events["stim_index"].tolist() == list(range(28))
    assert (result.stim_events["part"] == "recording-002.bdf").sum() == 14
    # the offline stimuli of both parts sit at the session's stimulus times
    times = result.lsr.groupby("stim_index")["stim_time_s"].first()
    np.testing.assert_allclose(result.stim_events["onset_s"], times.to_numpy(), atol=1e-6)
    assert set(result.summary["part"]) == {"recording.bdf", "recording-002.bdf"}
    # one recording on the session clock: both parts and the pause between them
    p1, p2 = (hfs.read_recording(p) for p in mon.parts)
    assert joined.tstart == p1.tstart
    assert joined.n_samples == round((p2.tstart - p1.tstart) * p1.sfreq) + p2.n_samples
    assert "monitor not running" in joined.events["label"].tolist()
    # the button pressed between the parts reaches the session's phases and the figures
    assert mon.phases()["label"].tolist() == ["dura opening"]
    assert "dura opening" in joined.events["label"].tolist()
    html = mon.write_report().read_text()
    assert "Stimuli (28)" in html and "recording-002.bdf" in html
    assert html.count("data:image/png;base64,") >= 3  # trend and sweeps of the session


def _marker_only(n: int = 40, disappear: int = 28, seed: int = HELD_OUT_SEED + 2):
    """A session whose stream has no trigger channel: stimuli, their labels (branch,
    intensity) and the surgical phases come from the marker stream only."""
    sim, rec = _sim(n=n, disappear=disappear, sfreq=5000.0, seed=seed)
    stim = rec.events.loc[rec.events["label"] == "stim", "onset_s"].to_numpy(float)
    assert stim.size == n
    t_dec = stim[disappear - 4] + 0.1  # decompression just before the LSR disappears
    ev = hfs.make_events(
        [*stim, 1.1, t_dec],
        labels=[*["stim zygomatic 12 mA"] * len(stim), "Dural opening", "decompression"],
    )
    return sim, rec.pick("emg").with_events(ev)


def test_stimuli_from_the_marker_stream_end_to_end(tmp_path: Path) -> None:
    _, rec = _marker_only()
    assert "stim" not in rec.ch_types  # no trigger channel in the stream
    mon = LiveMonitor(tmp_path, replay=rec, speed=8.0)  # no stim_branch: from the labels
    mon.run(timeout=60)
    assert mon.lsr["stim_index"].nunique() == 40
    # labels of the markers reach the rows: montage (branch) and intensity
    assert set(mon.lsr["montage"]) == {"zygomatic"}
    assert (mon.lsr["intensity_ma"] == 12.0).all()
    # every row equals measure_lsr on the kept recording (stimuli from its annotations)
    back = hfs.read_recording(tmp_path / "recording.bdf")
    offline = _offline(tmp_path / "recording.bdf")
    assert offline["stim_index"].nunique() == 40
    _assert_same_rows(mon.lsr, offline)
    np.testing.assert_allclose(
        mon.lsr.groupby("stim_index")["stim_time_s"].first() - back.tstart,
        rec.events.query("label.str.startswith('stim')")["onset_s"] - rec.tstart,
        atol=0.5 / rec.sfreq,
    )
    # the phase markers of the stream reach the trend: the loss follows "decompression"
    assert mon.phases()["label"].tolist() == ["Dural opening", "decompression"]
    trend = mon.trend.set_index("channel").loc["overall"]
    assert trend["status"] == "disappeared"
    assert abs(int(trend["disappearance_stim_index"]) - 28) <= 3
    assert trend["loss_phase"] == "after_decompression"
    off_trend = _trend(offline, back.events).set_index("channel").loc["overall"]
    assert off_trend["loss_phase"] == "after_decompression"
    assert int(off_trend["disappearance_stim_index"]) == int(trend["disappearance_stim_index"])
    ev = pd.read_csv(tmp_path / "events.csv")
    assert (ev["kind"] == "stimulus").sum() == 40
    assert (ev["label"] == "stim zygomatic 12 mA").sum() == 40


def test_events_log_appends_one_line_per_event_and_survives_a_torn_line(tmp_path: Path) -> None:
    from hfs_emg.live.event_log import EventLog

    path = tmp_path / "events.csv"
    log = EventLog(path)
    inode, sizes = path.stat().st_ino, [path.stat().st_size]
    rows = [
        (10.5, 0.0, "stimulus", "stim", 0, "recording.bdf"),
        (11.0, 0.0, "phase", "dura opening", None, "recording.bdf"),
        (11.5, 0.0, "note", 'note: bleeding, "bipolar"', None, "recording.bdf"),
        (12.0, 0.0, "stimulus", "stim", 1, "recording.bdf"),
    ]
    for r in rows:
        log.append(r)
        sizes.append(path.stat().st_size)
        assert path.stat().st_ino == inode  # appended, never replaced
    assert all(0 < b - a < 100 for a, b in itertools.pairwise(sizes))
    back = pd.read_csv(path, keep_default_na=False)
    assert back["label"].tolist() == [r[3] for r in rows]  # quoting survives
    with open(path, "a") as fh:  # kill -9 in the middle of a write
        fh.write("12.5,0.0,note,note: half a li")
    # reopened on resume: the torn line and the stimulus the manifest does not count are gone
    again = EventLog(path, keep_stim_below=1)
    assert again.n_dropped == 2
    assert again.frame()["label"].tolist() == ["stim", "dura opening", rows[2][3]]
    again.append((13.0, 0.0, "phase", "decompression", None, "recording-002.bdf"))
    lines = path.read_text().splitlines()
    assert lines[-1] == "13.0,0.0,phase,decompression,,recording-002.bdf"
    assert len(pd.read_csv(path)) == 4


def test_resume_reads_the_rows_lsr_parquet_had_not_caught_up_with(tmp_path: Path) -> None:
    # lsr.parquet is rewritten every few seconds; lsr.csv is appended after every sweep. A
    # monitor killed between two parquet writes leaves the newest rows in lsr.csv only: the
    # resumed session must hold every row the manifest counts, with the parquet's dtypes
    _, rec = _sim(n=12, sfreq=5000.0, disappear=40)
    first = LiveMonitor(tmp_path, replay=rec, speed=8.0, stim_branch="zygomatic")
    first.run(timeout=30)
    full = first.lsr
    assert full["stim_index"].nunique() == 12
    stale = full[full["stim_index"] < 5]
    stale.to_parquet(tmp_path / "lsr.parquet", index=False)  # as if killed after sweep 5
    again = LiveMonitor(tmp_path, replay=rec, speed=8.0, stim_branch="zygomatic")
    back = again.lsr
    assert len(back) == len(full)
    _assert_same_rows(back, full)
    assert back["present"].dtype == bool
    # and the trend of the resumed session is that of the whole table
    cols = ["channel", "status", "n_stimuli", "n_present"]
    pd.testing.assert_frame_equal(again.trend[cols], _trend(full, first.phases())[cols])


def test_row_store_appends_in_constant_time_and_joins_lazily() -> None:
    from hfs_emg.pipeline.monitor import _RowStore, _TrendGate

    store = _RowStore(chunk=4)
    frames = [
        pd.DataFrame({"stim_index": [i, i], "channel": ["a", "b"], "x": [2.0 * i, 2.0 * i + 1]})
        for i in range(10)
    ]
    for f in frames:
        store.append(f)
    assert store.n_rows == 20 and len(store._chunks) == 2 and len(store._tail) == 2
    whole = store.frame()
    assert whole["x"].tolist() == [float(v) for v in range(20)]
    assert store.frame() is whole  # cached until the next append
    assert store.since(13)["x"].tolist() == [float(v) for v in range(13, 20)]
    assert store.since(5)["x"].tolist() == [float(v) for v in range(5, 20)]  # across chunks
    assert store.since(20).empty
    assert store.last["stim_index"].tolist() == [9, 9]
    # the trend gate: at once near a change of presence, not during a long stable run
    gate = _TrendGate({"baseline_n": 1, "final_n": 1, "consecutive_absent": 3})
    flags = []
    for present in [True] * 8 + [False] * 8:
        rows = pd.DataFrame({"channel": ["a"], "present": [present], "kind": ["lsr"]})
        flags.append(gate.push(rows))
    # first 2 sweeps (baseline + final) and the runs' first horizon (4) sweeps: at once;
    # the 5th-8th present and the 5th-8th absent sweeps may wait for the period
    assert flags == [True] * 4 + [False] * 4 + [True] * 4 + [False] * 4
