"""detect_bursts on an UNFILTERED recording: its own band-pass + hum-line notches, per channel.

Same synthetic data as ``benchmarks/spontaneous.py`` (8 ch x 10 kHz, float32, seed 0). Two
calls in one process; prints wall time and the peak RSS during each call over the RSS with the
recording loaded (VmHWM reset through /proc/self/clear_refs).

Usage::

    python benchmarks/detect_raw.py --minutes 10
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spontaneous import SFREQ, _reset_peak, _status_kb, make_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args(argv)
    import hfs_emg
    from hfs_emg.detection import detect_bursts

    data = make_data(args.minutes)
    rec = hfs_emg.from_array(data, SFREQ, [f"emg{i}" for i in range(8)], dtype=np.float32)
    before = _status_kb("VmRSS")
    for _ in range(2):
        _reset_peak()
        t0 = time.perf_counter()
        bursts = detect_bursts(rec)
        dt = time.perf_counter() - t0
        extra = (_status_kb("VmHWM") - before) / 1e3
        print(
            f"detect_bursts(unfiltered) {args.minutes:g} min: {dt:.3g} s, peak over the loaded "
            f"recording {extra:,.0f} MB = {extra / (data.nbytes / 1e6):.2f}x its float32 size; "
            f"{len(bursts)} bursts; {bursts.attrs['preprocessing']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
