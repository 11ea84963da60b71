"""Speed of the evoked-response measurement: 10,000 stimuli x 8 channels.

Run: ``PYTHONPATH=. python benchmarks/evoked.py [--repeat 3]``. Simulates 1,000 stimuli on 8
facial muscles (10 kHz, 100 s), then times, for 10,000 stimuli x 8 channels:

- ``measure_lsr(recording)``: the default path from a continuous recording (epochs -50..50 ms,
  crosstalk, the two-exponential artefact-tail fit of every sweep and channel, calibrated
  single-trial and matched detectors); the recording is the simulated one tiled 10 times in
  time (1,000 s, 80 M samples);
- ``measure_lsr(epochs)``: the same on epochs already cut (no artefact fit), the epochs tiled
  10 times;
- :func:`hfs_emg.responses.measure_responses` on those epochs;
- the reference: one ``scipy.signal.sosfiltfilt`` band-pass pass (``butter(4, [20, 1000])``,
  float64) over the same 80 M samples of the recording, in the same process, so that the ratio
  does not depend on the load of the machine.

Medians of ``--repeat`` runs (the machine is shared: absolute times vary, ratios less), and
the minimum wall and CPU time of each path over the runs (the least disturbed one).
Every path runs once before it is timed (numba kernels compiled or loaded from the cache).

``--live``: the per-sweep cost of the live path, one
:meth:`hfs_emg.lsr_online.LsrStream.push_window` of one sweep x 8 channels at 10 kHz (raw
samples, artefact-tail fit, crosstalk, calibrated and matched detectors, the sweep's rows), over
``--sweeps`` sweeps of a simulated session after ``--warmup`` sweeps; wall and CPU p50/p95/max
(issue 15: the whole per-sweep analysis <= 5 ms).
With ``--numpy-too`` the evoked measurements are also timed with the compiled response kernel
switched off (:mod:`hfs_emg._fastresp`, the NumPy reference path), in the same process.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
import warnings

import numpy as np
from scipy.signal import butter, sosfiltfilt

from hfs_emg import _fastresp
from hfs_emg.epochs import make_epochs
from hfs_emg.lsr import measure_lsr
from hfs_emg.recording import from_array
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


CPU: dict[str, float] = {}
#: (wall, CPU) minimum over the repeats of each timed path (the least disturbed run).
MIN: dict[str, tuple[float, float]] = {}


def _median_time(fn, repeat: int, name: str = "") -> tuple[float, list[float]]:
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[name] = float(np.median(cpu))
    MIN[name] = (float(np.min(times)), float(np.min(cpu)))
    return float(np.median(times)), times


def live(n_sweeps: int = 600, warmup: int = 100) -> None:
    """Per-sweep cost of ``LsrStream.push_window`` (1 sweep x 8 channels, 10 kHz)."""
    from hfs_emg import find_stim_events
    from hfs_emg.lsr_online import LsrStream

    warnings.simplefilter("ignore")
    n = n_sweeps + warmup
    sim = simulate_lsr_session(
        n_stimuli=n, rate_hz=4.0, sfreq=10000.0, muscles=MUSCLES, seed=5, disappearance_index=n // 2
    )
    rec = sim.recording
    events = find_stim_events(rec)
    emg = rec._pick_indices("emg")
    stream = LsrStream.for_recording(rec, stim_branch="zygomatic")
    n0 = round(stream.tmin * rec.sfreq)
    starts = np.round((events["onset_s"].to_numpy() - rec.tstart) * rec.sfreq).astype(int) + n0
    windows = [rec.data[emg, s : s + stream.times.size].copy() for s in starts]
    evs = [events.iloc[i].to_dict() for i in range(len(events))]
    wall, cpu = [], []
    for i, (w, e) in enumerate(zip(windows, evs, strict=True)):
        t0, c0 = time.perf_counter(), time.process_time()
        stream.push_window(w, e)
        if i >= warmup:
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    pw = np.percentile(np.array(wall) * 1e3, [50, 95, 100])
    pc = np.percentile(np.array(cpu) * 1e3, [50, 95, 100])
    print(
        f"push_window, 1 sweep x {len(emg)} channels at 10 kHz, sweeps {warmup}-{n - 1}: "
        f"wall p50 {pw[0]:.2f} p95 {pw[1]:.2f} max {pw[2]:.2f} ms; "
        f"CPU p50 {pc[0]:.2f} p95 {pc[1]:.2f} max {pc[2]:.2f} ms; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def main(repeat: int = 3, numpy_too: bool = False) -> None:
    warnings.simplefilter("ignore")
    sim = simulate_lsr_session(
        n_stimuli=1000, rate_hz=10.0, sfreq=10000.0, muscles=MUSCLES, disappearance_index=600
    )
    rec = sim.recording
    fs = rec.sfreq
    # 10,000 stimuli: the recording tiled 10 times in time (events shifted by its length)
    n = rec.n_samples
    big_rec = from_array(
        np.tile(rec.data, (1, 10)),
        fs,
        rec.ch_names,
        ch_types=list(rec.channels["type"]),
        units=None,
    )
    ev = rec.events
    big_ev = ev.loc[np.tile(np.arange(len(ev)), 10)].reset_index(drop=True)
    big_ev["onset_s"] = big_ev["onset_s"].to_numpy() + np.repeat(np.arange(10), len(ev)) * n / fs
    emg = big_rec.data[big_rec._pick_indices("emg")]
    sos = butter(4, [20.0, 1000.0], btype="bandpass", fs=fs, output="sos")
    t_ref, ref_all = _median_time(lambda: sosfiltfilt(sos, emg, axis=-1), repeat, "ref")
    measure_lsr(big_rec, events=big_ev, stim_branch="zygomatic")  # warm
    t_rec, rec_all = _median_time(
        lambda: measure_lsr(big_rec, events=big_ev, stim_branch="zygomatic"), repeat, "rec"
    )
    n_rows = len(measure_lsr(big_rec, events=big_ev, stim_branch="zygomatic"))
    t_cut, _ = _median_time(
        lambda: make_epochs(big_rec, big_ev, tmin=-0.05, tmax=0.05, baseline=(-0.05, -0.0005)),
        repeat,
        "cut",
    )
    ep = make_epochs(rec, rec.events, tmin=-0.05, tmax=0.05)
    big = dataclasses.replace(
        ep,
        data=np.tile(ep.data, (10, 1, 1)),
        events=ep.events.loc[np.tile(np.arange(ep.n_epochs), 10)].reset_index(drop=True),
        bad=np.tile(ep.bad, (10, 1)),
        bad_reason=np.tile(ep.bad_reason, (10, 1)),
    )
    n_e, n_c, n_t = big.data.shape
    t_resp, _ = _median_time(lambda: measure_responses(big), repeat, "resp")
    measure_lsr(big, stim_branch="zygomatic")  # warm: every kernel compiled or loaded
    t_lsr, lsr_all = _median_time(
        lambda: measure_lsr(big, stim_branch="zygomatic"), repeat, "epochs"
    )
    print(f"10,000 stimuli x {n_c} channels, 10 kHz, epochs -50..50 ms ({n_t} samples)")
    print(
        f"recording: {emg.shape[1] / fs:.0f} s, {emg.size / 1e6:.0f} M EMG samples; {n_rows} rows"
    )
    print(
        f"one sosfiltfilt band-pass pass over the recording: {t_ref:.2f} s  {np.round(ref_all, 2)}"
    )
    print(
        f"measure_lsr(recording): {t_rec:.2f} s  {np.round(rec_all, 2)}  "
        f"= {t_rec / t_ref:.2f}x one sosfiltfilt pass"
    )
    print(
        f"measure_lsr(epochs): {t_lsr:.2f} s  {np.round(lsr_all, 2)}  "
        f"= {t_lsr / t_ref:.2f}x one sosfiltfilt pass"
    )
    print(
        f"CPU time (process_time, BLAS threads counted): sosfiltfilt {CPU['ref']:.2f} s, "
        f"measure_lsr(recording) {CPU['rec']:.2f} s = {CPU['rec'] / CPU['ref']:.2f}x, "
        f"measure_lsr(epochs) {CPU['epochs']:.2f} s = {CPU['epochs'] / CPU['ref']:.2f}x"
    )
    print(
        f"measure_responses(epochs): {t_resp:.2f} s ({n_e * n_c / t_resp / 1e3:.0f} k responses/s)"
    )
    print(f"make_epochs(recording), 10,000 x {n_c}: {t_cut:.2f} s, CPU {CPU['cut']:.2f} s")
    print(
        f"min of {repeat} (wall / CPU s): measure_lsr(recording) {MIN['rec'][0]:.3f} / "
        f"{MIN['rec'][1]:.3f}, measure_lsr(epochs) {MIN['epochs'][0]:.3f} / "
        f"{MIN['epochs'][1]:.3f}, measure_responses(epochs) {MIN['resp'][0]:.3f} / "
        f"{MIN['resp'][1]:.3f}, sosfiltfilt {MIN['ref'][0]:.3f} / {MIN['ref'][1]:.3f}"
    )
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    if numpy_too and _fastresp.AVAILABLE:
        _fastresp.AVAILABLE = False  # the NumPy reference path of the response measurement
        try:
            t_rn, _ = _median_time(lambda: measure_responses(big), repeat, "resp_np")
            t_ln, _ = _median_time(lambda: measure_lsr(big, stim_branch="zygomatic"), repeat, "np")
            t_cn, _ = _median_time(
                lambda: measure_lsr(big_rec, events=big_ev, stim_branch="zygomatic"),
                repeat,
                "rec_np",
            )
        finally:
            _fastresp.AVAILABLE = True
        print(
            f"kernel off (NumPy path), same process: measure_lsr(recording) {t_cn:.2f} s, "
            f"CPU {CPU['rec_np']:.2f} s = {CPU['rec_np'] / CPU['ref']:.2f}x; "
            f"measure_lsr(epochs) {t_ln:.2f} s, CPU {CPU['np']:.2f} s = "
            f"{CPU['np'] / CPU['ref']:.2f}x; measure_responses(epochs) {t_rn:.2f} s"
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--numpy-too", action="store_true", help="also time the NumPy path")
    ap.add_argument("--live", action="store_true", help="only the per-sweep live path")
    ap.add_argument("--sweeps", type=int, default=600)
    ap.add_argument("--warmup", type=int, default=100)
    args = ap.parse_args()
    if args.live:
        live(args.sweeps, args.warmup)
    else:
        main(args.repeat, args.numpy_too)
