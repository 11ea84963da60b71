"""Chunked vs in-memory processing: the largest difference at the seams, by margin.

3 channels x 90 s at 2 kHz (white noise 10 uV, 50 Hz hum 20 uV, an 8x spasm across a seam),
processed whole and in 20 s windows with margins of 1-12 periods of the high-pass corner
(filters) or 0.5-3 s (notches); the error is max |chunked - whole| / RMS(whole).

Usage::

    python benchmarks/chunking_accuracy.py
"""

from __future__ import annotations

import numpy as np

from hfs_emg import from_array
from hfs_emg import preprocessing as pp
from hfs_emg._chunking import auto_margin_s, process_chunked


def main() -> None:
    rng = np.random.default_rng(11)
    fs, n = 2000.0, 180_000
    t = np.arange(n) / fs
    emg = rng.normal(scale=10.0, size=(3, n)) + 20.0 * np.sin(2 * np.pi * 50 * t + 0.3)
    emg[1, 40_000:60_000] *= 8.0
    rec = from_array(emg, fs, ["oculi", "oris", "mentalis"])
    cases = [
        (pp.bandpass_filter, {"l_freq": 20.0, "h_freq": 450.0}, [0.05, 0.15, 0.6]),
        (pp.notch_filter, {"freq": 50.0, "method": "comb"}, [0.5, 1.34, 3.0]),
        (pp.notch_filter, {"freq": 50.0, "method": "iir"}, [0.5, 1.34, 3.0]),
        (pp.envelope, {"window_s": 0.05}, [0.0, 0.025]),
        (pp.filter_emg, {"l_freq": 20.0, "h_freq": 450.0, "notch": 50.0}, [0.3, 1.34]),
    ]
    print("| step | margin s | max abs error / RMS | auto margin s |")
    print("|---|---:|---:|---:|")
    for func, kwargs, margins in cases:
        whole = func(rec, **kwargs)
        rms = np.sqrt(np.mean(whole.data**2))
        auto = auto_margin_s(func, kwargs)
        label = func.__name__ + (f" ({kwargs['method']})" if "method" in kwargs else "")
        for margin in sorted({*margins, auto}):
            part = process_chunked(rec, func, chunk_s=20.0, margin_s=margin, **kwargs)
            err = np.abs(part.data - whole.data).max() / rms
            tag = " (auto)" if margin == auto else ""
            print(f"| {label} | {margin:.3g}{tag} | {err:.2e} | {auto:.3g} |", flush=True)


if __name__ == "__main__":
    main()
