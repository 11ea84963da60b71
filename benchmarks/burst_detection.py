"""Burst detection alone: CPU of ``BurstDetector.channel`` on the filtered channels of a file.

The file is read and filtered once (the default burst filter, as ``detect_bursts``), then the
detection of every channel is timed with ``time.thread_time`` (one thread, after one warm-up
round that loads the compiled kernels), with the CPU of its steps: the envelope and double
threshold (``_hysteresis_runs``), the edge refinement (``_refine``), the burst features
(``_burst_features``: amplitudes, then the spectral ``discharge_frequency`` and
``median_frequency``). Run it from each tree to compare them (it also runs on trees without
:mod:`hfs_emg._fastburst`)::

    PYTHONPATH=/path/to/tree python benchmarks/burst_detection.py FILE.bdf --repeat 3
"""

from __future__ import annotations

import argparse
import collections
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import hfs_emg
from hfs_emg import detection
from hfs_emg.signal import quiet_noise

STEPS = (
    "_hysteresis_runs",
    "_refine",
    "_burst_features",
    "discharge_frequency",
    "median_frequency",
)


def _timed(
    acc: collections.Counter[str], name: str, func: Callable[..., Any]
) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time()
        try:
            return func(*args, **kwargs)
        finally:
            acc[name] += time.thread_time() - t0

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rec = hfs_emg.read_recording(args.path)
    idx = rec._pick_indices("emg")
    filt = detection.burst_filter(rec, picks=idx)
    rows = [filt.apply(np.asarray(rec.data[i])) for i in idx]
    fs = rec.sfreq
    noise = [float(quiet_noise(r, fs)) for r in rows]
    det = detection.BurstDetector.create()
    acc: collections.Counter[str] = collections.Counter()
    for name in STEPS:
        setattr(detection, name, _timed(acc, name, getattr(detection, name)))
    n_samples = sum(r.size for r in rows)
    print(f"{args.path}: {len(rows)} channels x {rows[0].size} samples ({rows[0].dtype})")
    for k in range(args.repeat + 1):
        acc.clear()
        t0 = time.thread_time()
        found = [det.channel(r, fs, index=i, noise=noise[i]) for i, r in enumerate(rows)]
        total = time.thread_time() - t0
        if k == 0:
            continue  # warm-up: kernels loaded from the cache
        n_bursts = sum(len(f["s"]) for f in found)
        steps = "  ".join(f"{name} {acc[name]:.3f}" for name in STEPS)
        print(
            f"run {k}: detect CPU {total:.3f} s ({1e9 * total / n_samples:.2f} ns/sample), "
            f"{n_bursts} bursts | {steps} | load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
