"""Time plot_recording (min/max decimation) on 1 h x 8 channels x 10 kHz float32.

Run: ``PYTHONPATH=$PWD python benchmarks/plotting.py``
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import hfs_emg
from hfs_emg.plotting import minmax_decimate, plot_recording


def main() -> None:
    sfreq, n_ch, n_bins = 10_000.0, 8, 2000
    n = int(3600 * sfreq)
    rng = np.random.default_rng(0)
    data = np.empty((n_ch, n), dtype=np.float32)
    for k in range(n_ch):
        data[k] = rng.standard_normal(n, dtype=np.float32)
    rec = hfs_emg.from_array(data, sfreq, [f"ch{k}" for k in range(n_ch)], dtype=np.float32)
    assert rec.data.dtype == np.float32
    t0 = time.perf_counter()
    minmax_decimate(rec.data, n_bins)
    t1 = time.perf_counter()
    fig = plot_recording(rec, n_bins=n_bins)
    t2 = time.perf_counter()
    fig.savefig("/tmp/hfs_emg_bench_plot.png", dpi=100)
    t3 = time.perf_counter()
    plt.close(fig)
    points = max(len(ln.get_xdata()) for ln in fig.axes[0].lines)
    print(f"1 h x {n_ch} ch x {sfreq:g} Hz float32 ({data.nbytes / 1e9:.2f} GB), n_bins={n_bins}")
    print(f"  minmax_decimate:          {t1 - t0:6.2f} s")
    print(f"  plot_recording (build):   {t2 - t1:6.2f} s  ({points} points per line)")
    print(f"  savefig PNG (render):     {t3 - t2:6.2f} s")


if __name__ == "__main__":
    main()
