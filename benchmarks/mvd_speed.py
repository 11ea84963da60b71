"""Speed of the MVD modalities (issue 12).

Run: ``PYTHONPATH=. python benchmarks/mvd_speed.py``. Times, best of 3:

- :func:`hfs_emg.classify_trains` on 10 minutes of 3-channel free-running EMG at 5 kHz
  (:func:`hfs_emg.simulate.simulate_free_running` with 20 A-trains per channel);
- :func:`hfs_emg.lsr_trend` with phase markers on a 2-hour session at 1 Hz (7,200 sweeps x
  3 channels; the per-stimulus table of a 185 s simulation tiled in time);
- :func:`hfs_emg.measure_fmep` on 34 trains x 3 muscles.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from hfs_emg import classify_trains, lsr_trend, measure_fmep, measure_lsr, phase_markers
from hfs_emg.simulate import simulate_fmep, simulate_free_running, simulate_mvd_lsr


def best_of(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    fr = simulate_free_running(duration_s=600.0, n_a_trains=20, n_b_trains=30, n_c_trains=5)
    t_fr = best_of(lambda: classify_trains(fr.recording))
    sim = simulate_mvd_lsr(scenario="partial", seed=0)
    lsr = measure_lsr(sim.recording)
    n_rep = int(np.ceil(7200 / lsr["stim_index"].nunique()))
    span = float(lsr["stim_time_s"].max()) + 1.0
    n_st = lsr["stim_index"].nunique()
    big = pd.concat(
        [
            lsr.assign(
                stim_index=lsr["stim_index"] + k * n_st, stim_time_s=lsr["stim_time_s"] + k * span
            )
            for k in range(n_rep)
        ],
        ignore_index=True,
    )
    phases = phase_markers(sim.recording).assign(onset_s=lambda d: d["onset_s"] * n_rep)
    t_tr = best_of(lambda: lsr_trend(big, phases=phases))
    fm = simulate_fmep(seed=0)
    t_fm = best_of(lambda: measure_fmep(fm.recording))
    print("| step | data | seconds |")
    print("|---|---|---:|")
    print(f"| classify_trains | 600 s x 3 ch at 5 kHz | {t_fr:.2f} |")
    print(f"| lsr_trend (with phases) | {big['stim_index'].nunique()} sweeps x 3 ch | {t_tr:.3f} |")
    print(f"| measure_fmep | 34 trains x 3 ch, 170 s at 5 kHz | {t_fm:.3f} |")


if __name__ == "__main__":
    main()
