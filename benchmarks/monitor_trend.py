"""The monitor's trend: :class:`hfs_emg.trend.LsrTrendState` against ``lsr_trend`` of the table.

An LSR table of 8 channels (``measure_lsr`` of a 200-stimulus simulated session at 10 kHz, the
LSR lost at stimulus 140) is repeated on one clock up to 14,400 stimuli (4 hours at 1 Hz). The
sweeps are pushed one by one into ``LsrTrendState`` (and the monitor's ``_TrendGate``); at
720, 1000, 5000 and 14,400 stimuli the state's trend and ``lsr_trend`` of the rows so far are
timed in the same process (CPU time of this thread; the state's trend: the median of 20
calls, with the phase onsets as the monitor passes them, parsed once) and checked equal
(``pandas.testing.assert_frame_equal``, exact); ``LsrTrendState.nbytes`` is what the state
holds.

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


def _state_mb(st: LsrTrendState) -> float:
    """MB the state holds: ``nbytes``, or (older states) the arrays of its accumulators."""
    if hasattr(st, "nbytes"):
        return st.nbytes / 1e6
    accs = [*st._groups.values(), *([st._whole] if st._whole is not None else [])]
    n = 0
    for acc in accs:
        n += acc.stim.nbytes + acc.times.nbytes + acc.rej.nbytes
        n += sum(m.nbytes for m in acc.mats.values())
    return n / 1e6


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
        t0 = time.thread_time()
        state.push(s)
        push_t.append(time.thread_time() - t0)
        t0 = time.thread_time()
        gate.push(s)
        gate_t.append(time.thread_time() - t0)
    p_ms, g_ms = np.median(push_t) * 1e3, np.median(gate_t) * 1e3
    print(f"load average {os.getloadavg()[0]:.1f}; CPU per sweep: LsrTrendState.push p50 "
          f"{p_ms:.3f} ms, _TrendGate.push p50 {g_ms:.3f} ms")  # fmt: skip
    phases = {"decompression": 100.0}
    for n in (720, 1000, 3600, 5000, 14400):
        st = LsrTrendState()
        for s in sweeps[:n]:
            st.push(s)
        rows = big[big["stim_index"] < n]
        cost = []
        for _ in range(20):
            t0 = time.thread_time()
            a = st.trend(phases=phases)
            cost.append(time.thread_time() - t0)
        t1 = time.thread_time()
        b = lsr_trend(rows, phases=phases)
        t2 = time.thread_time()
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        nb = _state_mb(st)
        print(f"{n:6d} stimuli: LsrTrendState.trend {1e3 * np.median(cost):6.2f} ms (max "
              f"{1e3 * max(cost):5.2f}), lsr_trend of the table {1e3 * (t2 - t1):7.1f} ms, "
              f"equal; state {nb:.2f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
