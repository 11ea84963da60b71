"""Live monitor speed: per-sweep analysis time and sweep-to-page latency (percentiles).

1. Per-sweep analysis: ``LiveMonitor`` measures each sweep with the causal state of its
   recording part (:class:`hfs_emg.lsr_online.LsrStream.push_window`, the computation
   :func:`hfs_emg.measure_lsr` itself runs), so the cost does not depend on how many sweeps
   came before. Timed here on a simulated session, 8 channels at 10 kHz, 600 sweeps, wall
   clock and CPU time per sweep, by ranges of the sweep number; the state's size; and a check
   that the rows equal ``measure_lsr`` on the whole recording.
2. End to end: ``example_data/lsr_session.edf`` replayed at real time through a real LSL
   stream for ``--seconds`` seconds with the live page open in headless chromium; for each
   sweep, the time from the end of its window (``tmax`` after the stimulus) to the page's
   update that carries it (server side; the browser renders a few ms later).

Run: ``python benchmarks/monitor_latency.py [--seconds 40] [--sweeps 600]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import hfs_emg as hfs
from hfs_emg.pipeline.live_page import LivePage
from hfs_emg.pipeline.monitor import LiveMonitor
from hfs_emg.simulate import simulate_lsr_session

ROOT = Path(__file__).resolve().parents[1]
MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis", "nasalis",
           "zygomaticus", "corrugator", "platysma")  # fmt: skip


def per_sweep(n_sweeps: int = 600) -> None:
    import pandas as pd

    from hfs_emg.lsr_online import LsrStream

    sim = simulate_lsr_session(n_stimuli=n_sweeps, rate_hz=4.0, sfreq=10000.0, muscles=MUSCLES,
                               seed=5, disappearance_index=n_sweeps // 2)  # fmt: skip
    rec = sim.recording
    events = hfs.find_stim_events(rec)
    warnings.simplefilter("ignore")
    stream = LsrStream.for_recording(rec, stim_branch="zygomatic")
    emg = rec._pick_indices("emg")
    n0 = round(stream.tmin * rec.sfreq)
    wall, cpu, rows, sizes = [], [], [], []
    for i in range(len(events)):
        s = round((events["onset_s"].iloc[i] - rec.tstart) * rec.sfreq)
        samples = rec.data[emg, s + n0 : s + n0 + stream.times.size].copy()
        event = events.iloc[i].to_dict()
        t0, c0 = time.perf_counter(), time.process_time()
        rows.append(stream.push_window(samples, event))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        sizes.append(stream.nbytes)
    wall_ms, cpu_ms = np.array(wall) * 1e3, np.array(cpu) * 1e3
    print(f"per-sweep analysis, {len(emg)} channels at 10 kHz (LsrStream.push_window):")
    print("  sweeps      wall p50   p95    max  |  CPU p50   p95    max  (ms)")
    edges = sorted({0, 1, *(e for e in (100, 300) if e < len(events)), len(events)})
    for lo, hi in itertools.pairwise(edges):
        w, c = wall_ms[lo:hi], cpu_ms[lo:hi]
        pw, pc = np.percentile(w, [50, 95, 100]), np.percentile(c, [50, 95, 100])
        print(f"  {lo:4d}-{hi - 1:<4d}  {pw[0]:8.2f} {pw[1]:6.2f} {pw[2]:6.2f}  |  "
              f"{pc[0]:7.2f} {pc[1]:6.2f} {pc[2]:6.2f}")  # fmt: skip
    pw, pc = np.percentile(wall_ms[1:], [50, 95, 100]), np.percentile(cpu_ms[1:], [50, 95, 100])
    print(f"  all but the first: wall p50 {pw[0]:.2f} p95 {pw[1]:.2f} max {pw[2]:.2f} ms; "
          f"CPU p50 {pc[0]:.2f} p95 {pc[1]:.2f} max {pc[2]:.2f} ms")  # fmt: skip
    print(f"  state: {sizes[99] / 1e3:.0f} kB after 100 sweeps, {sizes[-1] / 1e3:.0f} kB after "
          f"{len(events)}")  # fmt: skip
    online = pd.concat(rows, ignore_index=True)
    offline = hfs.measure_lsr(rec, events=events, stim_branch="zygomatic")
    same = all((online[c] == offline[c]).all() for c in ("present", "match_present", "rejected"))
    lat = np.nanmax(np.abs(online["latency_ms"] - offline["latency_ms"]))
    print(f"  rows equal measure_lsr on the whole recording: decisions {same}, "
          f"max latency difference {lat:.1e} ms")  # fmt: skip


def end_to_end(seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    out = Path(tempfile.mkdtemp())
    mon = LiveMonitor(out, replay=ROOT / "example_data" / "lsr_session.edf", speed=1.0)
    page = LivePage(mon, port=0, refresh_ms=50).start()
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        tab = browser.new_page()
        tab.goto(page.url)
        tab.wait_for_selector(".hfs-banner", state="attached", timeout=15000)
        mon.start(duration=seconds)
        mon._thread.join(seconds + 30)
        time.sleep(0.5)
        browser.close()
    page.stop()
    shown = np.array(page.shown_versions)
    result, on_page = [], []
    for t_end, t_res, version in mon.sweep_log:
        if not np.isfinite(t_end):
            continue
        result.append(t_res - t_end)
        later = shown[(shown[:, 1] >= version) & (shown[:, 0] >= t_res)]
        if len(later):
            on_page.append(later[0, 0] - t_end)
    q = [50, 90, 95, 99, 100]
    print(f"end to end, real-time replay of the example session, {len(result)} sweeps:")
    print("  window end -> result row (ms):", np.percentile(np.array(result) * 1e3, q).round(0))
    print("  window end -> page update (ms):", np.percentile(np.array(on_page) * 1e3, q).round(0))
    print("  ... the same without the first 2 sweeps (connection start-up):")
    print("    result row (ms):", np.percentile(np.array(result[2:]) * 1e3, q).round(0))
    print("    page update (ms):", np.percentile(np.array(on_page[2:]) * 1e3, q).round(0))
    print("  every sweep, page update (ms):", (np.array(on_page) * 1e3).round(0).tolist())
    waits = np.array(mon.marker_waits_s) * 1e3
    print(
        "  window arrived -> measured (rest of its step, marker wait included), ms:",
        np.percentile(waits, q).round(0),
        f"; > 5 ms: {int((waits > 5).sum())} sweeps",
    )
    print(f"  page draws: {len(shown)}; CPU time of this process {time.process_time():.1f} s")
    print("  per-sweep analysis in the monitor, events included (ms):",
          np.percentile(np.array(mon.analysis_s) * 1e3, q).round(1))  # fmt: skip
    print("  of which the LSR measurement, LsrStream.push_window (ms):",
          np.percentile(np.array(mon.lsr_s) * 1e3, q).round(1))  # fmt: skip
    print("  (percentiles", q, ")")

    sc = mon.sweep_cpu * 1e3
    print("  CPU of the monitor thread per sweep by component (ms), p50 / p95:")
    for col in sc.columns:
        print(f"    {col:10s} {sc[col].median():6.2f} {sc[col].quantile(0.95):6.2f}")
    tot = sc.sum(axis=1)
    print(f"    {'sweep sum':10s} {tot.median():6.2f} {tot.quantile(0.95):6.2f}")
    n = max(mon.n_stim, 1)
    print("  mean CPU per sweep of the per-pull work (ms): "
          + ", ".join(f"{k} {v / n * 1e3:.2f}" for k, v in mon.cpu_s.items()
                      if k not in sc.columns))  # fmt: skip
    up = np.array(page.update_cpu_s) * 1e3
    if up.size:
        print(
            f"  page update (Bokeh thread) CPU per drawing update: p50 {np.median(up):.2f} "
            f"p95 {np.percentile(up, 95):.2f} ms ({up.size} updates)"
        )
    print(f"  load average during the run: {os.getloadavg()}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--sweeps", type=int, default=600)
    ap.add_argument("--no-page", action="store_true", help="only the per-sweep part")
    ap.add_argument("--no-sweeps", action="store_true", help="only the end-to-end part")
    a = ap.parse_args()
    if not a.no_sweeps:
        per_sweep(a.sweeps)
    if not a.no_page:
        end_to_end(a.seconds)
