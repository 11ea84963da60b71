"""Live monitor memory over a long session replayed at high speed, and bytes written per event.

A simulated LSR session (``--minutes`` of recording, 4 stimuli/s, 4 EMG channels + trigger at
5 kHz, blocks of free-running EMG analysed every 10 s) is replayed through a real LSL stream
at ``--speed``; the monitor runs with small calibration and template windows
(``calibration_n=30``, ``template_n=4``) so that its causal LSR state
(:class:`hfs_emg.lsr_online.LsrStream`: templates complete, calibration windows full) reaches
its final size within the first minute. Every ``--every`` seconds
the process's resident memory and the sizes of what the monitor keeps are sampled.

What may grow: the session's tables (``lsr`` in memory, the events log), by design; what must
not: everything else (LSR state, sample buffers, block buffer, marker list, page data).
The script prints RSS against stimuli, the growth per 1000 stimuli in the second half and
the in-memory size of the ``lsr`` table over the same stretch, and the bytes appended to
``events.csv`` per event.

Run: ``python benchmarks/monitor_memory.py [--minutes 10] [--speed 20]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from hfs_emg.pipeline.monitor import LiveMonitor
from hfs_emg.simulate import simulate_lsr_session

SHORT = {"orbicularis_oculi_L": "OrbOculi_L", "orbicularis_oris_L": "OrbOris_L"}


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * 4096 / 1e6


def main(minutes: float, speed: float, every: float, trace: bool = False) -> None:
    warnings.simplefilter("ignore")
    if trace:
        import tracemalloc

        tracemalloc.start(8)
    n = int(minutes * 60 * 4)
    sim = simulate_lsr_session(n_stimuli=n, rate_hz=4.0, sfreq=5000.0, seed=11)
    rec = sim.recording.rename_channels(SHORT)
    out = Path(tempfile.mkdtemp())
    opts = {"calibration_n": 30, "template_n": 4}
    mon = LiveMonitor(out, replay=rec, speed=speed, stim_branch="zygomatic", lsr_options=opts)
    samples: list[tuple[float, ...]] = []
    done = threading.Event()

    snaps: list = []

    def sample() -> None:
        while not done.wait(every):
            if trace and len(snaps) < 2 and mon.n_stim >= (len(snaps) + 1) * n / 3:
                snaps.append(tracemalloc.take_snapshot())
            buf = getattr(mon, "_buf", np.zeros((0, 0)))
            blk = getattr(mon, "_blocks", None)
            n_blk = blk._n_buf if blk is not None else 0
            lsr_mb = mon.lsr.memory_usage(deep=True).sum() / 1e6 if len(mon.lsr) else 0.0
            stream = getattr(mon, "_stream", None)  # the causal LSR state (bytes -> kB)
            state_kb = stream.nbytes // 1000 if stream is not None else 0
            row = (mon.n_stim, _rss_mb(), state_kb, buf.shape[1], n_blk)
            samples.append((*row, len(mon._markers), lsr_mb))

    t0 = time.monotonic()
    threading.Thread(target=sample, daemon=True).start()
    mon.run(timeout=minutes * 60 / speed * 4 + 60)
    done.set()
    wall = time.monotonic() - t0
    print(f"{n} stimuli ({minutes:g} min of recording) replayed at {speed:g}x in {wall:.0f} s")
    print("stimuli   RSS MB  LSR-state kB  buffer  block-buffer  markers  lsr-table MB")
    for s in samples[:: max(1, len(samples) // 12)] + samples[-1:]:
        print(f"{s[0]:7d} {s[1]:8.1f} {s[2]:13d} {s[3]:7d} {s[4]:13d} {s[5]:8d} {s[6]:13.2f}")
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) >= 2 and half[-1][0] > half[0][0]:
        k = 1000 / (half[-1][0] - half[0][0])
        print(
            f"second half: RSS {k * (half[-1][1] - half[0][1]):+.2f} MB per 1000 stimuli, "
            f"of which the lsr table {k * (half[-1][6] - half[0][6]):+.2f} MB"
        )
    if trace and len(snaps) == 2:
        print("largest growth between 1/3 and 2/3 of the session (tracemalloc):")
        for st in snaps[1].compare_to(snaps[0], "traceback")[:6]:
            print(f"  {st.size_diff / 1e6:+.2f} MB", "\n    ".join(st.traceback.format()[-6:]))
    # the work of a sweep (analysis, trend, table and event writes) against the session length
    cost = np.array(mon.sweep_s) * 1e3
    lat = np.array(mon.latencies_s) * 1e3
    k = len(cost) // 3
    for name, part in (("first third", slice(0, k)), ("last third", slice(-k, None))):
        print(
            f"{name} of the sweeps: all the work of a sweep p50 {np.median(cost[part]):.1f} "
            f"p95 {np.percentile(cost[part], 95):.1f} ms; window end -> result row p50 "
            f"{np.median(lat[part]):.0f} p95 {np.percentile(lat[part], 95):.0f} ms"
        )
    tl = np.array(mon.trend_log)
    if len(tl) > 2:
        first, last = tl[: len(tl) // 3], tl[-(len(tl) // 3) :]
        print(
            f"trend recomputed {len(tl)} times for {mon.n_stim} sweeps; lsr_trend took p50 "
            f"{np.median(first[:, 1]) * 1e3:.0f} ms (stimuli {int(first[0, 0])}-"
            f"{int(first[-1, 0])}), {np.median(last[:, 1]) * 1e3:.0f} ms (stimuli "
            f"{int(last[0, 0])}-{int(last[-1, 0])})"
        )
    size = (out / "events.csv").stat().st_size
    n_ev = len(mon.events)
    print(f"events.csv: {n_ev} events, {size} bytes, {size / max(n_ev, 1):.1f} bytes per event")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--speed", type=float, default=20.0)
    ap.add_argument("--every", type=float, default=2.0)
    ap.add_argument("--trace", action="store_true", help="tracemalloc: what grows")
    a = ap.parse_args()
    main(a.minutes, a.speed, a.every, a.trace)
