"""The monitor's trend: :class:`hfs_emg.trend.LsrTrendState` against ``lsr_trend`` of the table.

An LSR table of 8 channels (``measure_lsr`` of a 200-stimulus simulated session at 10 kHz, the
LSR lost at stimulus 140) is repeated on one clock up to 14,400 stimuli (4 hours at 1 Hz). The
sweeps are pushed one by one into ``LsrTrendState`` (and the monitor's ``_TrendGate``); at
720, 1000, 5000 and 14,400 stimuli the state's trend and ``lsr_trend`` of the rows so far are
timed in the same process and checked equal (``pandas.testing.assert_frame_equal``).

Run: ``python benchmarks/monitor_trend.py``.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pandas as pd

import hfs_emg as hfs
from hfs_emg.pipeline.monitor import _TrendGate
from hfs_emg.simulate import simulate_lsr_session
from hfs_emg.trend import LsrTrendState, lsr_trend

MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis", "nasalis",
           "zygomaticus", "corrugator", "platysma")  # fmt: skip


def main() -> None:
    warnings.simplefilter("ignore")
    sim = simulate_lsr_session(n_stimuli=200, rate_hz=1.0, sfreq=10000.0, muscles=MUSCLES,
                               seed=5, disappearance_index=140)  # fmt: skip
    one = hfs.measure_lsr(sim.recording, stim_branch="zygomatic")
    reps = []
    for r in range(72):
        x = one.copy()
        x["stim_index"] += 200 * r
        x["stim_time_s"] += 200.5 * r
        reps.append(x)
    big = pd.concat(reps, ignore_index=True)
    sweeps = [g for _, g in big.groupby("stim_index", sort=True)]
    state, gate, push_t, gate_t = LsrTrendState(), _TrendGate({}), [], []
    for s in sweeps:
        t0 = time.perf_counter()
        state.push(s)
        push_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        gate.push(s)
        gate_t.append(time.perf_counter() - t0)
    p_ms, g_ms = np.median(push_t) * 1e3, np.median(gate_t) * 1e3
    print(f"load average {os.getloadavg()[0]:.1f}; per sweep: LsrTrendState.push p50 "
          f"{p_ms:.3f} ms, _TrendGate.push p50 {g_ms:.3f} ms")  # fmt: skip
    for n in (720, 1000, 5000, 14400):
        st = LsrTrendState()
        for s in sweeps[:n]:
            st.push(s)
        rows = big[big["stim_index"] < n]
        t0 = time.perf_counter()
        a = st.trend(phases={"decompression": 100.0})
        t1 = time.perf_counter()
        b = lsr_trend(rows, phases={"decompression": 100.0})
        t2 = time.perf_counter()
        pd.testing.assert_frame_equal(a, b)
        print(f"{n:6d} stimuli: LsrTrendState.trend {1e3 * (t1 - t0):7.1f} ms, lsr_trend of the "
              f"table {1e3 * (t2 - t1):7.1f} ms, equal")  # fmt: skip


if __name__ == "__main__":
    main()
