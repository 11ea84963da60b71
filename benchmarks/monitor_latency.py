"""Live monitor speed: per-sweep analysis time and sweep-to-page latency (percentiles).

1. Per-sweep analysis (``LiveMonitor`` runs :func:`hfs_emg.measure_lsr` on the sweeps of the
   part so far, which makes its rows equal to the offline ones): the cost of one sweep's rows
   for 8 channels at 10 kHz as a function of the number of sweeps already recorded.
2. End to end: ``example_data/lsr_session.edf`` replayed at real time through a real LSL
   stream for ``--seconds`` seconds with the live page open in headless chromium; for each
   sweep, the time from the end of its window (``tmax`` after the stimulus) to the page's
   update that carries it (server side; the browser renders a few ms later).

Run: ``python benchmarks/monitor_latency.py [--seconds 40]``.
"""

from __future__ import annotations

import argparse
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


def per_sweep(history: tuple[int, ...] = (25, 50, 100, 200)) -> None:
    sim = simulate_lsr_session(n_stimuli=max(history), rate_hz=4.0, sfreq=10000.0,
                               muscles=MUSCLES, seed=5)  # fmt: skip
    rec = sim.recording
    events = hfs.find_stim_events(rec)
    warnings.simplefilter("ignore")
    print("per-sweep analysis, 8 channels at 10 kHz (measure_lsr on the sweeps so far):")
    for n in history:
        ev = events.iloc[:n]
        sub = rec.crop(0, float(ev["onset_s"].iloc[-1]) + 0.1)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            hfs.measure_lsr(sub, events=ev, stim_branch="zygomatic")
            times.append(time.perf_counter() - t0)
        p = np.percentile(np.array(times) * 1e3, [50, 90])
        print(f"  {n:4d} sweeps so far: median {p[0]:7.1f} ms, p90 {p[1]:7.1f} ms per sweep")


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
    q = [50, 90, 95, 99]
    print(f"end to end, real-time replay of the example session, {len(result)} sweeps:")
    print("  window end -> result row (ms):", np.percentile(np.array(result) * 1e3, q).round(0))
    print("  window end -> page update (ms):", np.percentile(np.array(on_page) * 1e3, q).round(0))
    print("  (percentiles", q, ")")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40.0)
    a = ap.parse_args()
    per_sweep()
    end_to_end(a.seconds)
