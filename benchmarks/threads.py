"""When do threads over channels pay? Recording-level steps with n_jobs=1 vs n_jobs=2.

8 float32 channels at 10 kHz of white noise, lengths from 2 s to 10 min; best of 3 calls.

Usage::

    python benchmarks/threads.py
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hfs_emg import from_array
from hfs_emg import preprocessing as pp


def best_of(fn: Any, repeat: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    steps = {
        "bandpass_filter": lambda rec, j: pp.bandpass_filter(rec, n_jobs=j),
        "notch_filter (comb)": lambda rec, j: pp.notch_filter(rec, 50.0, n_jobs=j),
        "filter_emg": lambda rec, j: pp.filter_emg(rec, notch=50.0, n_jobs=j),
        "envelope (rms)": lambda rec, j: pp.envelope(rec, n_jobs=j),
    }
    print("| samples per channel | step | n_jobs=1 s | n_jobs=2 s | speed-up |")
    print("|---:|---|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for n in (20_000, 100_000, 300_000, 1_000_000, 6_000_000):
        rec = from_array(rng.standard_normal((8, n), dtype=np.float32), 10_000.0, dtype=np.float32)
        for name, step in steps.items():
            t1 = best_of(lambda s=step, r=rec: s(r, 1))
            t2 = best_of(lambda s=step, r=rec: s(r, 2))
            print(f"| {n:,} | {name} | {t1:.4f} | {t2:.4f} | {t1 / t2:.2f} |", flush=True)


if __name__ == "__main__":
    main()
