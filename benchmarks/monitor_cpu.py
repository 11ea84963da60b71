"""CPU of the live monitor per sweep, by component, on a session fed directly (no LSL).

A simulated session (``--sweeps`` stimuli at 1 Hz, 8 EMG channels + trigger at 10 kHz, the LSR
lost at two thirds) is fed to :class:`hfs_emg.pipeline.monitor.LiveMonitor` in 50-ms chunks as
fast as it takes them (:class:`hfs_emg.live.ArraySource`), with the default options (blocks of
free-running EMG every 10 s). Printed: the CPU time of the monitor thread per sweep (one sweep
= one second of signal), the wall-clock times the monitor logs, the trend's cost, and, where
the monitor has them (branch ``monitor`` on), its CPU by component: the sweep's own work
(``labels``, ``lsr`` = :meth:`hfs_emg.lsr_online.LsrStream.push_window` alone, ``lsr_wrap``,
``rows``, ``trend``, ``tables``, ``manifest``; p50 / p95 / max), the CPU of the thread that
writes the files (branch ``monitor-speed`` on) and the per-pull work (mean
per second of signal: ``pull``, ``record``, ``trigger``, ``spontaneous``, ``markers``,
``tick``).

The same script runs on an older checkout (``PYTHONPATH=<checkout>``) whose monitor has no
``source=``: the feed then replaces ``LslSource`` in the monitor module, for before / after
numbers in the same conditions.

Run: ``python benchmarks/monitor_cpu.py [--sweeps 300]``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import hfs_emg
import hfs_emg.pipeline.monitor as M
from hfs_emg.simulate import simulate_lsr_session

MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis", "nasalis",
           "zygomaticus", "corrugator", "platysma")  # fmt: skip


def main(n: int) -> None:
    try:
        from hfs_emg.live import ArraySource
    except ImportError:  # an older checkout: the feed of this branch, imported by path
        import importlib.util

        here = Path(__file__).resolve().parents[1] / "hfs_emg" / "live" / "feed.py"
        text = here.read_text().replace("from .source import", "from hfs_emg.live.source import")
        spec = importlib.util.spec_from_loader("feed", loader=None)
        mod = importlib.util.module_from_spec(spec)
        exec(compile(text, str(here), "exec"), mod.__dict__)
        ArraySource = mod.ArraySource
    warnings.simplefilter("ignore")
    sim = simulate_lsr_session(n_stimuli=n, rate_hz=1.0, sfreq=10000.0, muscles=MUSCLES,
                               seed=5, disappearance_index=n * 2 // 3)  # fmt: skip
    short = {"orbicularis_oculi_L": "OrbOculi_L", "orbicularis_oris_L": "OrbOris_L"}
    rec = sim.recording.rename_channels(short)
    src = ArraySource(rec, chunk_s=0.05)
    out = Path(tempfile.mkdtemp())
    if "source" in inspect.signature(M.LiveMonitor).parameters:
        mon = M.LiveMonitor(out, source=src, stim_branch="zygomatic")
    else:
        M.LslSource = lambda *a, **k: src
        mon = M.LiveMonitor(out, stream="feed", stim_branch="zygomatic")
    mon._open()
    c0, t0 = time.thread_time(), time.perf_counter()
    while not src.exhausted:
        mon.step(timeout=0.0)
    mon.close()
    cpu, wall = time.thread_time() - c0, time.perf_counter() - t0
    print(f"{hfs_emg.__file__}: {mon.n_stim} sweeps, 8 EMG + trigger at 10 kHz, load average "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  monitor thread CPU {cpu / mon.n_stim * 1e3:.1f} ms per sweep (everything, one "
          f"second of signal), wall {wall / mon.n_stim * 1e3:.1f} ms")  # fmt: skip
    for name in ("analysis_s", "lsr_s", "sweep_s"):
        v = np.array(getattr(mon, name)) * 1e3
        print(f"  {name} (wall): p50 {np.median(v):.1f} p95 {np.percentile(v, 95):.1f} ms")
    tl = np.array(mon.trend_log)
    print(f"  trend computed {len(tl)} times: p50 {np.median(tl[:, 1]) * 1e3:.1f} ms, "
          f"max {tl[:, 1].max() * 1e3:.1f} ms (the last: at close)")  # fmt: skip
    if hasattr(mon, "cpu_s"):
        sc = mon.sweep_cpu * 1e3
        print("  CPU per sweep of the sweep's own work (ms): p50 / p95 / max")
        for col in sc.columns:
            v = sc[col]
            print(f"    {col:10s} {v.median():7.2f} {v.quantile(0.95):7.2f} {v.max():8.2f}")
        for name, tot in (
            ("sum", sc.sum(axis=1)),
            ("sum - lsr", sc.drop(columns="lsr").sum(axis=1)),
            ("sum - trend", sc.drop(columns="trend").sum(axis=1)),
        ):
            print(f"    {name:10s} {tot.median():7.2f} {tot.quantile(0.95):7.2f} {tot.max():8.2f}")
        disk = getattr(mon, "_disk", None)
        if disk is not None:  # the file writes, on their own thread since branch monitor-speed
            print(f"  writer thread (files, fsyncs) CPU {disk.cpu_s / mon.n_stim * 1e3:.2f} ms "
                  f"per sweep, {disk.n_jobs} writes, {disk.n_skipped} superseded")  # fmt: skip
        per_pull = {k: v for k, v in mon.cpu_s.items() if k not in sc.columns}
        parts = ", ".join(f"{k} {v / mon.n_stim * 1e3:.2f}" for k, v in per_pull.items())
        print(f"  CPU of the per-pull work, mean per sweep (ms): {parts}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweeps", type=int, default=300)
    main(ap.parse_args().sweeps)
