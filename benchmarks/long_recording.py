"""Peak memory and time of analyze() on a long recording, streamed vs the file's size.

Writes a plain EDF of ``--hours`` x 8 channels at 2 kHz (int16, 1-s records; simulated HFS EMG,
8 distinct 60-s blocks cycled, so bursts repeat) block by block, then runs
:func:`hfs_emg.analysis.analyze` in a fresh process with ``max_memory_mb`` below the file's
size, so the file is streamed in ``chunk_s`` chunks. Reports the process's peak resident
memory (``ru_maxrss``; it counts the pages of the memory-mapped input that were touched) after
imports and after the analysis, and with ``--trace`` the peak of traced allocations
(``tracemalloc``, which NumPy reports to): the analysis's own working memory.

Usage::

    python benchmarks/long_recording.py --hours 2 [--keep]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

FS = 2000
MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis")
DIG = 32767
PHYS = 6553.5  # uV: 0.2 uV per step


def _field(value: object, width: int) -> bytes:
    return str(value).ljust(width)[:width].encode("ascii")


def write_long_edf(path: Path, hours: float) -> tuple[int, int]:
    """Write the file block by block; returns (n_channels, n_samples)."""
    from hfs_emg.simulate import simulate_spontaneous

    blocks = []
    for seed in range(8):
        sim = simulate_spontaneous(
            duration_s=60.0, sfreq=FS, muscles=MUSCLES, contralateral=True, seed=seed
        )
        blocks.append(sim.recording)
    short = {"orbicularis_oculi": "OrbOculi", "orbicularis_oris": "OrbOris"}
    names = []
    for name in blocks[0].ch_names:
        muscle, side = name.rsplit("_", 1)
        names.append(f"{short.get(muscle, muscle.capitalize())}_{side}")
    ns = len(names)
    n_blocks = round(hours * 60)
    header = b"".join(
        [
            _field("0", 8),
            _field("X X X X", 80),
            _field("Startdate 01-JAN-2026 X hfs_emg long_recording", 80),
            _field("01.01.26", 8),
            _field("00.00.00", 8),
            _field(256 * (ns + 1), 8),
            _field("", 44),
            _field(n_blocks * 60, 8),
            _field(1, 8),
            _field(ns, 4),
        ]
    )
    per = [
        [_field(n, 16) for n in names],
        [_field("AgAgCl", 80)] * ns,
        [_field("uV", 8)] * ns,
        [_field(-PHYS, 8)] * ns,
        [_field(PHYS, 8)] * ns,
        [_field(-DIG - 1, 8)] * ns,
        [_field(DIG, 8)] * ns,
        [_field("", 80)] * ns,
        [_field(FS, 8)] * ns,
        [_field("", 32)] * ns,
    ]
    header += b"".join(b"".join(col) for col in per)
    scale = (2 * DIG + 1) / (2 * PHYS)
    coded = []
    for rec in blocks:
        q = np.clip(np.round(np.asarray(rec.data) * scale - 0.5), -DIG - 1, DIG).astype("<i2")
        coded.append(q.reshape(ns, 60, FS).transpose(1, 0, 2).tobytes())
    with path.open("wb") as fh:
        fh.write(header)
        for i in range(n_blocks):
            fh.write(coded[i % len(coded)])
    return ns, n_blocks * 60 * FS


def run_child(path: str, max_memory_mb: float, chunk_s: float, trace: bool) -> None:
    import warnings

    from hfs_emg.analysis import analyze
    from hfs_emg.config import AnalysisConfig

    warnings.simplefilter("ignore")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    res = analyze(path, AnalysisConfig(max_memory_mb=max_memory_mb, chunk_s=chunk_s))
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    traced = tracemalloc.get_traced_memory()[1] / 1e6 if trace else None
    print(
        json.dumps(
            {
                "streamed": res.provenance["streamed"],
                "n_bursts": len(res.bursts),
                "n_sync": len(res.synchronous),
                "seconds": round(elapsed, 1),
                "rss_after_imports_mb": round(base, 1),
                "peak_rss_mb": round(peak, 1),
                "peak_allocated_mb": None if traced is None else round(traced, 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--max-memory-mb", type=float, default=256.0)
    parser.add_argument("--chunk-s", type=float, default=60.0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--trace", action="store_true", help="also trace allocations (tracemalloc; slower)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.max_memory_mb, args.chunk_s, args.trace)
        return
    folder = Path(tempfile.mkdtemp())
    path = folder / "long.edf"
    t0 = time.perf_counter()
    ns, n = write_long_edf(path, args.hours)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB on disk, {ns} ch x {n} samples = "
        f"{ns * n * 8 / 1e6:.0f} MB as float64) in {time.perf_counter() - t0:.1f} s"
    )
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(path),
        "--max-memory-mb",
        str(args.max_memory_mb),
        "--chunk-s",
        str(args.chunk_s),
    ]
    cmd += ["--trace"] if args.trace else []
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    print(f"analyze (max_memory_mb={args.max_memory_mb}, chunk_s={args.chunk_s}): {out.strip()}")
    if not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
