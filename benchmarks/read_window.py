"""Benchmark: read a 10 s window of a 2-hour, 8-channel, 10 kHz EDF without loading the file.

The EDF (1.15 GB) is written record by record (one minute of records at a time), so the writer
never holds the recording in memory either. The window is then read in a fresh Python process,
which reports its peak resident memory (``VmHWM`` from /proc, and ``ru_maxrss``) and the time of
``open_recording`` + ``read``. A second fresh process only imports hfs_emg and opens the file, as
the baseline. Run: ``python benchmarks/read_window.py [--hours 2] [--keep]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_CH, SFREQ = 8, 10_000
PHYS = (-5000.0, 5000.0)  # microvolts

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from hfs_emg.io import open_recording
t_import = time.perf_counter() - t0
path, tmin, tmax = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
t1 = time.perf_counter()
reader = open_recording(path)
t_open = time.perf_counter() - t1
shape = None
if tmax > tmin:
    t2 = time.perf_counter()
    rec = reader.read(tmin=tmin, tmax=tmax)
    t_read = time.perf_counter() - t2
    shape = list(rec.data.shape)
else:
    t_read = 0.0
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"import_s": t_import, "open_s": t_open, "read_s": t_read, "shape": shape,
                  "vmhwm_mb": int(hwm) / 1024,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_long_edf(path: Path, hours: float) -> int:
    """Write the EDF record by record; returns its size in bytes."""
    import edfio

    n_rec = round(hours * 3600)
    template = edfio.Edf(
        [
            edfio.EdfSignal(
                np.zeros(SFREQ),
                SFREQ,
                label=f"emg{i}",
                physical_dimension="uV",
                physical_range=PHYS,
            )
            for i in range(N_CH)
        ]
    ).to_bytes()
    n_head = 256 * (N_CH + 1)
    header = bytearray(template[:n_head])
    header[236:244] = f"{n_rec:<8d}".encode()
    rng = np.random.default_rng(0)
    block = 60  # records (seconds) generated at a time
    t = np.arange(block * SFREQ) / SFREQ
    with open(path, "wb") as fh:
        fh.write(bytes(header))
        for r0 in range(0, n_rec, block):
            nb = min(block, n_rec - r0)
            sig = 200 * np.sin(2 * np.pi * 7 * (t[: nb * SFREQ] + r0))
            dig = (sig + rng.normal(0, 50, (N_CH, nb * SFREQ))) * (32767 / 5000)
            dig = np.clip(np.round(dig), -32768, 32767).astype("<i2")
            # (channels, records, samples) -> records of [ch0 samples, ch1 samples, ...]
            records = dig.reshape(N_CH, nb, SFREQ).transpose(1, 0, 2)
            fh.write(np.ascontiguousarray(records).tobytes())
    return path.stat().st_size


def run_child(path: Path, tmin: float, tmax: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(tmin), str(tmax)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary EDF")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hfs_emg_bench_"))
    path = tmp / "long.edf"
    try:
        t0 = time.perf_counter()
        size = write_long_edf(path, args.hours)
        t_write = time.perf_counter() - t0
        print(
            f"wrote {path.name}: {args.hours:g} h, {N_CH} ch, {SFREQ} Hz, "
            f"{size / 1e9:.2f} GB in {t_write:.1f} s"
        )
        mid = args.hours * 3600 / 2
        base = run_child(path, 0.0, 0.0)
        win = run_child(path, mid, mid + 10.0)
        print(
            f"baseline (import + open, no read): peak RSS {base['vmhwm_mb']:.1f} MB "
            f"(ru_maxrss {base['maxrss_mb']:.1f} MB), open {base['open_s'] * 1e3:.1f} ms"
        )
        print(
            f"10 s window at t={mid:g} s, shape {win['shape']}: peak RSS "
            f"{win['vmhwm_mb']:.1f} MB (ru_maxrss {win['maxrss_mb']:.1f} MB), open "
            f"{win['open_s'] * 1e3:.1f} ms + read {win['read_s'] * 1e3:.1f} ms"
        )
        full_mb = N_CH * args.hours * 3600 * SFREQ * 8 / 1e6
        print(
            f"(the whole file as float64 would be {full_mb:.0f} MB; the window is "
            f"{N_CH * 10 * SFREQ * 8 / 1e6:.1f} MB)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
