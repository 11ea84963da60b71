"""Speed of the evoked-response measurement: 10,000 stimuli x 8 channels.

Run: ``PYTHONPATH=. python benchmarks/evoked.py``. Simulates 1,000 stimuli on 8 facial muscles
(10 kHz), cuts epochs -50..50 ms (the calibrated LSR test needs 41 ms before the stimulus), tiles
them to 10,000 stimuli and times
:func:`hfs_emg.responses.measure_responses` and :func:`hfs_emg.lsr.measure_lsr` (median of 5).
Also times the whole pipeline from the continuous recording (stimulus detection, artefact
suppression, epoching, measurement) for the 1,000 simulated stimuli.
"""

from __future__ import annotations

import dataclasses
import time
import tracemalloc

import numpy as np

from hfs_emg.epochs import make_epochs
from hfs_emg.lsr import measure_lsr
from hfs_emg.responses import measure_responses
from hfs_emg.simulate import simulate_lsr_session

MUSCLES = (
    "frontalis",
    "corrugator",
    "orbicularis_oculi",
    "nasalis",
    "zygomaticus",
    "orbicularis_oris",
    "mentalis",
    "platysma",
)


def _median_time(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    sim = simulate_lsr_session(
        n_stimuli=1000, rate_hz=10.0, sfreq=10000.0, muscles=MUSCLES, disappearance_index=600
    )
    rec = sim.recording
    t_pipe = _median_time(lambda: measure_lsr(rec), repeat=3)
    ep = make_epochs(rec, rec.events, tmin=-0.05, tmax=0.05)
    big = dataclasses.replace(
        ep,
        data=np.tile(ep.data, (10, 1, 1)),
        events=ep.events.loc[np.tile(np.arange(ep.n_epochs), 10)].reset_index(drop=True),
        bad=np.tile(ep.bad, (10, 1)),
        bad_reason=np.tile(ep.bad_reason, (10, 1)),
    )
    n_e, n_c, n_t = big.data.shape
    measure_responses(big)  # warm-up
    t_resp = _median_time(lambda: measure_responses(big))
    t_lsr = _median_time(lambda: measure_lsr(big, stim_branch="zygomatic"))
    tracemalloc.start()
    measure_lsr(big, stim_branch="zygomatic")
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"epochs: {n_e} stimuli x {n_c} channels x {n_t} samples (10 kHz, -50..50 ms)")
    print(f"measure_responses: {t_resp:.3f} s  ({n_e * n_c / t_resp / 1e3:.0f} k responses/s)")
    print(f"measure_lsr (epochs): {t_lsr:.3f} s")
    print(
        f"peak extra memory of measure_lsr (tracemalloc): {peak_mb:.0f} MB "
        f"(the epochs array itself: {big.data.nbytes / 1e6:.0f} MB)"
    )
    print(
        f"measure_lsr from the continuous recording (1,000 stimuli x 8 ch, {rec.duration_s:.0f} s"
        f" at 10 kHz: find stimuli + artefact + epochs + measure): {t_pipe:.3f} s"
    )


if __name__ == "__main__":
    main()
