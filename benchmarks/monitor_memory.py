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

``--feed --hours 4``: no LSL; a 4-hour session at 1 stimulus per second (14,400 stimuli, 8 EMG
channels + trigger at 10 kHz by default) fed directly (:class:`hfs_emg.live.ArraySource`, as
fast as the monitor takes it) from a 100-stimulus simulated block played again and again on one
clock (the LSR present, fading at stimulus 70 of each block and back at the next block), with
the default LSR options; RSS is reported at 1k / 5k / 10k / 14.4k stimuli, with the CPU time of
the monitor thread per sweep by component (``--no-fsync``: the files are written but not
fsync-ed, so that the run's wall time is its CPU time and not the shared disk's waits).
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


def _probe() -> dict[str, float]:
    """Where the resident memory is (MB): anonymous vs file-backed pages
    (``/proc/self/smaps_rollup``), glibc's heap in use / free / mmap-ed (``mallinfo2``),
    numba's NRT bytes not freed (allocations - frees, counts), gc-tracked objects."""
    out: dict[str, float] = {}
    with open("/proc/self/smaps_rollup") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Anonymous", "Private_Dirty"):
                out[key.lower()] = int(rest.split()[0]) / 1e3
    out["file"] = out.get("rss", 0.0) - out.get("anonymous", 0.0)
    try:
        import ctypes

        class _MI(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]  # fmt: skip

        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MI
        mi = libc.mallinfo2()
        out["heap_used"], out["heap_free"] = mi.uordblks / 1e6, mi.fordblks / 1e6
        out["mmapped"] = mi.hblkhd / 1e6
    except (OSError, AttributeError):
        pass
    try:
        from numba.core.runtime import rtsys

        st = rtsys.get_allocation_stats()
        out["nrt_live"] = float(st.alloc - st.free)
        out["nrt_mi_live"] = float(st.mi_alloc - st.mi_free)
    except Exception:
        pass
    import gc
    import sys

    out["gc_objects"] = float(len(gc.get_objects()))
    out["py_blocks"] = float(sys.getallocatedblocks())  # pymalloc + raw blocks in use
    return out


def _type_counts() -> dict[str, int]:
    """gc-tracked objects by type name."""
    import gc
    from collections import Counter

    return dict(Counter(type(o).__name__ for o in gc.get_objects()))


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
            lsr_mb = mon._rows.nbytes / 1e6  # the rows held (mon.lsr would read the file)
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
    print("stimuli   RSS MB  LSR-state kB  buffer  block-buffer  markers  lsr-held MB")
    for s in samples[:: max(1, len(samples) // 12)] + samples[-1:]:
        print(f"{s[0]:7d} {s[1]:8.1f} {s[2]:13d} {s[3]:7d} {s[4]:13d} {s[5]:8d} {s[6]:13.2f}")
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) >= 2 and half[-1][0] > half[0][0]:
        k = 1000 / (half[-1][0] - half[0][0])
        print(
            f"second half: RSS {k * (half[-1][1] - half[0][1]):+.2f} MB per 1000 stimuli, "
            f"of which the lsr rows held {k * (half[-1][6] - half[0][6]):+.2f} MB"
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


MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis", "nasalis",
           "zygomaticus", "corrugator", "platysma")  # fmt: skip


def feed(
    hours: float,
    n_channels: int,
    sfreq: float,
    trace: bool,
    every_stim: int,
    fsync: bool,
    save_every_s: float = 2.0,
    *,
    kernels: bool = True,
    trend: bool = True,
    block_s: float = 10.0,
    tables: bool = True,
    probe: bool = False,
    parquet_rows: int | None = None,
) -> None:
    """A long session fed directly (no LSL): RSS against stimuli, CPU per sweep by part.

    The switches bisect the growth: ``kernels=False`` runs the NumPy paths
    (``hfs_emg._fastresp`` / ``_fastfilt`` ``AVAILABLE`` cleared), ``trend=False`` skips
    the trend state and its recomputation, ``block_s=0`` the spontaneous block analysis,
    ``tables=False`` the ``lsr.csv`` / ``lsr.parquet`` writes; ``probe`` adds, at every
    sample, where the memory is (:func:`_probe`).
    """
    import os

    import pyarrow as pa

    if not kernels:
        from hfs_emg import _fastfilt, _fastresp

        _fastresp.AVAILABLE = _fastfilt.AVAILABLE = False

    if not fsync:  # the disk waits of a shared machine, not memory: off on request
        os.fsync = lambda fd: None

    from hfs_emg.live import ArraySource

    warnings.simplefilter("ignore")
    block = 100
    sim = simulate_lsr_session(n_stimuli=block, rate_hz=1.0, sfreq=sfreq, seed=11,
                               muscles=MUSCLES[:n_channels], disappearance_index=70)  # fmt: skip
    rec = sim.recording
    short = {"orbicularis_oculi": "OrbOculi", "orbicularis_oris": "OrbOris"}
    names = {c: c.replace(*next(iter(short.items()))) for c in rec.ch_names}
    names = {c: n.replace("orbicularis_oris", "OrbOris") for c, n in names.items()}
    rec = rec.rename_channels(names)
    n_rep = max(1, round(hours * 3600 / (rec.n_samples / rec.sfreq)))
    out = Path(tempfile.mkdtemp())
    src = ArraySource(rec, chunk_s=0.05, repeat=n_rep)
    kw = {} if parquet_rows is None else {"parquet_rows": parquet_rows}
    mon = LiveMonitor(out, source=src, stim_branch="zygomatic", save_every_s=save_every_s,
                      block_s=block_s, **kw)  # fmt: skip
    if not trend:
        mon._trend_state.push = lambda rows: None  # type: ignore[method-assign]
        mon._update_trend = lambda **kw: None  # type: ignore[method-assign]
    if not tables:
        mon._save_tables = lambda **kw: None  # type: ignore[method-assign]
    probes: list[dict[str, float]] = []
    types: list[dict[str, int]] = []  # gc-tracked objects by type at 1000 stimuli, at the end
    if trace:
        import tracemalloc

        tracemalloc.start(1)  # allocation sites only (10 frames made a run ~10x slower)
    marks = sorted({1000, 5000, 10000, 14400, *range(every_stim, 10**6, every_stim)})
    samples, snaps = [], []
    t0, c0 = time.monotonic(), time.process_time()
    mon._open()
    while not src.exhausted or src.samples_available:
        mon.step(timeout=0.0)
        if marks and mon.n_stim >= marks[0]:
            k = marks.pop(0)
            lsr_mb = mon._rows.nbytes / 1e6  # the rows held in memory
            samples.append((mon.n_stim, _rss_mb(), lsr_mb, len(mon._events_log.rows),
                            time.monotonic() - t0, pa.total_allocated_bytes() / 1e6,
                            mon.n_lsr_rows))  # fmt: skip
            if probe:
                probes.append({"stimuli": mon.n_stim, **_probe()})
                if mon.n_stim >= 1000 and not types:
                    types.append(_type_counts())
            if trace and k in (1000, 2500):
                snaps.append(tracemalloc.take_snapshot())
        if src.exhausted:
            break
    mon.close()
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    print(f"{mon.n_stim} stimuli ({n_rep * rec.n_samples / rec.sfreq / 3600:.2f} h of signal, "
          f"{n_channels} EMG + trigger at {sfreq:g} Hz) fed directly in {wall:.0f} s "
          f"(CPU {cpu:.0f} s)")  # fmt: skip
    pool = pa.default_memory_pool().backend_name
    print(f"stimuli   RSS MB  lsr-held MB  lsr rows  events   wall s  arrow MB ({pool} pool, "
          "allocated)")  # fmt: skip
    for n, rss, lsr_mb, n_ev, t, arrow_mb, n_rows in samples:
        print(f"{n:7d} {rss:8.1f} {lsr_mb:12.2f} {n_rows:9d} {n_ev:7d} {t:8.0f} {arrow_mb:9.2f}")
    ref = [s for s in samples if s[0] >= 1000]
    if len(ref) >= 2:
        k = 1000 / (ref[-1][0] - ref[0][0])
        d_rss, d_lsr = k * (ref[-1][1] - ref[0][1]), k * (ref[-1][2] - ref[0][2])
        print(f"from {ref[0][0]} to {ref[-1][0]} stimuli: RSS {d_rss:+.2f} MB per 1000 "
              f"stimuli, of which the lsr rows held in memory {d_lsr:+.2f}")  # fmt: skip
    if probes:
        keys = [k for k in probes[0] if k != "stimuli"]
        print("stimuli " + " ".join(f"{k:>12s}" for k in keys))
        for pr in probes:
            print(
                f"{int(pr['stimuli']):7d} " + " ".join(f"{pr.get(k, np.nan):12.1f}" for k in keys)
            )
        ref_p = [pr for pr in probes if pr["stimuli"] >= 1000]
        if len(ref_p) >= 2:
            k = 1000 / (ref_p[-1]["stimuli"] - ref_p[0]["stimuli"])
            print("per 1000 stimuli: " + ", ".join(
                f"{key} {k * (ref_p[-1][key] - ref_p[0][key]):+.2f}" for key in keys))  # fmt: skip
    if types:
        end, first = _type_counts(), types[0]
        grow = sorted(((end.get(k, 0) - first.get(k, 0), k) for k in end), reverse=True)[:8]
        print("gc-tracked objects that grew since 1000 stimuli: " + ", ".join(
            f"{k} {d:+d}" for d, k in grow if d > 0))  # fmt: skip
    if trace and len(snaps) == 2:
        print("largest growth between 1000 and 2500 stimuli (tracemalloc, allocation sites):")
        for st in snaps[1].compare_to(snaps[0], "lineno")[:12]:
            print(f"  {st.size_diff / 1e6:+.3f} MB {st.count_diff:+7d} blocks", st.traceback[0])
    sc = mon.sweep_cpu * 1e3
    tot = sc.sum(axis=1)
    print("CPU of the monitor thread per sweep (ms): the sweep's own work, p50 / p95 / max")
    for col in [*sc.columns, "sum"]:
        v = tot if col == "sum" else sc[col]
        print(f"  {col:10s} {v.median():7.2f} {v.quantile(0.95):7.2f} {v.max():8.2f}")
    print("mean CPU per sweep of everything (ms; per second of signal for the per-chunk parts):")
    print("  " + ", ".join(f"{k} {v / mon.n_stim * 1e3:.2f}" for k, v in mon.cpu_s.items()))
    tl = np.array(mon.trend_log)
    if len(tl):
        print(
            f"trend computed {len(tl)} times; p50 {np.median(tl[:, 1]) * 1e3:.1f} ms, "
            f"p95 {np.percentile(tl[:, 1], 95) * 1e3:.1f} ms, last {tl[-1, 1] * 1e3:.1f} ms"
        )
    size = (out / "events.csv").stat().st_size
    print(f"events.csv: {size / max(len(mon._events_log.rows), 1):.1f} bytes per event")
    pq_path = out / "lsr.parquet"
    if pq_path.exists():
        import pyarrow.parquet as pq

        print(f"lsr.parquet: {pq.ParquetFile(pq_path).num_row_groups} row groups; its last write "
              f"{mon._parquet_cost * 1e3:.0f} ms; the writer thread's CPU {mon._disk.cpu_s:.1f} s "
              f"({mon._disk.n_jobs} writes)")  # fmt: skip
    import shutil

    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--speed", type=float, default=20.0)
    ap.add_argument("--every", type=float, default=2.0)
    ap.add_argument("--trace", action="store_true", help="tracemalloc: what grows")
    ap.add_argument("--feed", action="store_true", help="direct feed, no LSL (see above)")
    ap.add_argument("--hours", type=float, default=4.0)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--sfreq", type=float, default=10000.0)
    ap.add_argument("--every-stim", type=int, default=1000)
    ap.add_argument("--no-fsync", action="store_true", help="feed: files not fsync-ed")
    ap.add_argument("--save-every", type=float, default=2.0, help="feed: save_every_s")
    ap.add_argument("--no-kernels", action="store_true", help="feed: NumPy paths (no numba)")
    ap.add_argument("--no-trend", action="store_true", help="feed: no trend state / trend")
    ap.add_argument("--block-s", type=float, default=10.0, help="feed: 0 = no block analysis")
    ap.add_argument("--no-tables", action="store_true", help="feed: no lsr.csv / lsr.parquet")
    ap.add_argument("--probe", action="store_true", help="feed: smaps, mallinfo2, NRT, gc")
    ap.add_argument("--parquet-rows", type=int, default=None, help="feed: parquet_rows")
    a = ap.parse_args()
    if a.feed:
        feed(a.hours, a.channels, a.sfreq, a.trace, a.every_stim, not a.no_fsync, a.save_every,
             kernels=not a.no_kernels, trend=not a.no_trend, block_s=a.block_s,
             tables=not a.no_tables, probe=a.probe, parquet_rows=a.parquet_rows)  # fmt: skip
    else:
        main(a.minutes, a.speed, a.every, a.trace)
