"""End-to-end benchmark: ``hfs_emg.analyze(path)`` on long files, next to one SciPy filter pass.

What a user runs is ``hfs.analyze("session.bdf")`` (or ``hfs-emg analyze``): read, filter,
detect, measure, summarise. This script times exactly that on files written to disk, against
the reference of one ``scipy.signal.sosfiltfilt`` band-pass pass (``butter(4, [20, 1000])``)
over the same samples already loaded as float32 (the cost floor of any zero-phase analysis).

Files (8 channels at 10 kHz, BDF+ 24-bit, written in 10-minute blocks through
:class:`hfs_emg.io.bdf_stream.BdfStreamWriter`, so writing a 3-hour file needs little memory;
cached in ``--data-dir`` and reused):

- ``spontaneous``: :func:`benchmarks.spontaneous.make_data` blocks (noise, 50 Hz hum, bursts
  and synchronous events), no stimuli.
- ``lsr``: :func:`hfs_emg.simulate.simulate_lsr_session` blocks at 1 Hz (left and right
  4-muscle sessions side by side = 8 EMG channels, plus the trigger channel and one
  ``"stim zygomatic"`` annotation per stimulus).

Cases, each in its own subprocess (peak memory = ``VmHWM`` after the case minus ``VmRSS``
after imports, so the import of scipy/MNE is not counted):

- ``analyze``: ``hfs_emg.analyze(path)`` with the default configuration.
- ``read``: ``hfs_emg.read_recording(path)`` alone.
- ``sosfiltfilt``: one ``sosfiltfilt`` pass over the loaded (8, n) float32 EMG samples.
- ``lsr10k`` (``--lsr10k``): ``measure_lsr`` of 10,000 stimuli x 8 channels (in memory).

- ``scaling`` (``--scaling``): ``analyze(path)`` on 1, 3, 10, 30, 60 and 180 minutes
  (``--scaling-minutes``) of each kind, each in its own subprocess under the ``--max-memory-gb``
  address-space cap (a MemoryError row instead of the OOM killer on a shared machine). Each
  subprocess first analyses the 1-minute file of the same kind four times, in memory and
  streamed, stored as float64 and as float32 (warm-up: numba compilation or cache load of every
  kernel of both paths and both storage dtypes, first-call imports),
  and only then is timed, so fixed first-run costs do not pollute the per-sample figures. The
  table gives CPU seconds (all threads) and extra peak memory per million samples, and the CPU
  figure's ratio to the 10-minute one (linear within 20 %: 0.8-1.2). ``--repeat N`` runs the
  lengths round-robin N times and shows the run of median CPU time and every run's CPU time.

- ``peers`` (``--peers``): NeuroKit2 ``nk.emg_process`` and BioSPPy ``biosppy.signals.emg.emg``
  on ONE channel x ``--peer-seconds`` of the same file (they loop per channel in Python and
  would take tens of minutes on the whole file), next to one sosfiltfilt pass over that slice
  in the same process; their time is extrapolated linearly to 8 channels x the whole file and
  labelled so (NeuroKit2 scales ~N^1.03 and BioSPPy ~N^1.3, so linear extrapolation flatters
  BioSPPy; see docs/benchmarks.md).

Usage::

    python benchmarks/end_to_end.py --minutes 1 10 60 --kinds spontaneous lsr
    python benchmarks/end_to_end.py --scaling --kinds spontaneous lsr --max-memory-gb 12 --repeat 3
    python benchmarks/end_to_end.py --minutes 10 --kinds spontaneous --peers
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from spontaneous import _reset_peak, _status_kb, make_data  # noqa: E402 - benchmark sibling

SFREQ = 10_000.0
BLOCK_MIN = 10.0
MUSCLES = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis")


# --------------------------------------------------------------------------- files
def _spontaneous_block(minutes: float, seed: int) -> tuple[np.ndarray, list[str], list[Any]]:
    data = make_data(minutes, seed=seed).astype(np.float64)
    names = [
        f"{m}_{s}"[:16]
        for s in ("L", "R")
        for m in ("Frontalis", "OrbOculi", "OrbOris", "Mentalis")
    ]
    return data, names, []


def _lsr_block(minutes: float, seed: int) -> tuple[np.ndarray, list[str], list[Any]]:
    from hfs_emg.simulate import simulate_lsr_session

    n_stim = round(minutes * 60)
    sides = []
    for k, side in enumerate(("left", "right")):
        sim = simulate_lsr_session(
            n_stimuli=n_stim, sfreq=SFREQ, side=side, muscles=MUSCLES, seed=seed * 2 + k
        )
        sides.append(sim.recording)
    left, right = sides
    n = min(left.n_samples, right.n_samples, round(minutes * 60 * SFREQ))
    emg_l = [i for i, t in enumerate(left.channels["type"]) if t == "emg"]
    emg_r = [i for i, t in enumerate(right.channels["type"]) if t == "emg"]
    trig = [i for i, t in enumerate(left.channels["type"]) if t == "stim"]
    data = np.vstack([left.data[emg_l, :n], right.data[emg_r, :n], left.data[trig, :n]])
    short = {"frontalis": "Frontalis", "orbicularis_oculi": "OrbOculi"}
    short |= {"orbicularis_oris": "OrbOris", "mentalis": "Mentalis"}
    names = [f"{short[m]}_{s}" for s in ("L", "R") for m in MUSCLES] + ["trigger"]
    ev = left.events
    ev = ev[ev["label"].str.startswith("stim") & (ev["onset_s"] - left.tstart < n / SFREQ)]
    # the marker text names the stimulated branch, as clinical systems write it ("stim
    # zygomatic"), so analyze() decides the LSR protocol
    branch = str(left.meta.get("stim_branch", "zygomatic"))
    labels = [lab if branch in lab else f"{lab} {branch}" for lab in ev["label"].astype(str)]
    return data, names, list(zip(ev["onset_s"] - left.tstart, labels, strict=True))


def make_file(kind: str, minutes: float, data_dir: Path) -> Path:
    """Write (or reuse) the benchmark file of ``kind`` and length ``minutes``."""
    from hfs_emg.io.bdf_stream import BdfStreamWriter

    path = data_dir / f"{kind}_{minutes:g}min_8ch_10k.bdf"
    if path.exists():
        return path
    tmp = path.with_suffix(".partial.bdf")
    tmp.unlink(missing_ok=True)
    block = _spontaneous_block if kind == "spontaneous" else _lsr_block
    writer = None
    done = 0.0
    seed = 0
    while done < minutes - 1e-9:
        m = min(BLOCK_MIN, minutes - done)
        data, names, marks = block(m, seed)
        if writer is None:
            stim = ["trigger"] if "trigger" in names else []
            writer = BdfStreamWriter(tmp, names, SFREQ, stim=stim, sync_s=60.0)
        for onset, label in marks:
            writer.annotate(done * 60 + float(onset), str(label))
        writer.write(data)
        done += m
        seed += 1
    writer.close()  # type: ignore[union-attr]
    tmp.rename(path)
    return path


# --------------------------------------------------------------------------- cases
def _sosfiltfilt_s(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one sosfiltfilt band-pass pass over the EMG samples as float32."""
    import scipy.signal as ss

    import hfs_emg as hfs

    rec = hfs.read_recording(path)
    x = np.asarray(rec.data[[t == "emg" for t in rec.channels["type"]]], dtype=np.float32)
    del rec
    sos = ss.butter(4, [20, 1000], "bandpass", fs=SFREQ, output="sos")
    t0 = time.perf_counter()
    c0 = time.process_time()
    ss.sosfiltfilt(sos, x, axis=-1)
    return time.perf_counter() - t0, time.process_time() - c0


def _warm_case(path: Path, warm_path: Path, repeat: int) -> dict[str, Any]:
    """``analyze(path)`` and one sosfiltfilt pass, alternated ``repeat`` times in one process.

    Both are first run once on ``warm_path`` (the 1-minute file of the same kind): the numba
    kernels are loaded, the lazy imports done, and the process has faulted in memory once. A
    process's first large allocations are slow here (the kernel compacts memory for the huge
    pages NumPy asks for: the first sosfiltfilt pass of a fresh process took 2.6 s against
    0.8 s for the next ones, on the same samples), so the cold columns of the main table
    compare a first run with a first run, and these columns a steady-state batch run with a
    steady-state pass. Medians of ``repeat`` alternations.
    """
    import scipy.signal as ss

    import hfs_emg as hfs

    sos = ss.butter(4, [20, 1000], "bandpass", fs=SFREQ, output="sos")

    def samples(p: Path) -> np.ndarray:
        rec = hfs.read_recording(p)
        return np.asarray(rec.data[[t == "emg" for t in rec.channels["type"]]], np.float32)

    hfs.analyze(warm_path)
    ss.sosfiltfilt(sos, samples(warm_path), axis=-1)
    x = samples(path)
    runs: dict[str, list[float]] = {"analyze": [], "analyze_cpu": [], "sff": [], "sff_cpu": []}
    for _ in range(repeat):
        for key, fn in (
            ("analyze", lambda: hfs.analyze(path)),
            ("sff", lambda: ss.sosfiltfilt(sos, x, axis=-1)),
        ):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            runs[key].append(time.perf_counter() - t0)
            runs[f"{key}_cpu"].append(time.process_time() - c0)
    best = {f"{k}_best": float(np.min(v)) for k, v in runs.items()}
    return {k: float(np.median(v)) for k, v in runs.items()} | best | {"runs": runs}


def _peers(path: Path, seconds: float) -> dict[str, Any]:
    """NeuroKit2 and BioSPPy on one channel x ``seconds``, extrapolated to the whole file."""
    import warnings

    import neurokit2 as nk
    import scipy.signal as ss
    from biosppy.signals import emg

    import hfs_emg as hfs

    rec = hfs.read_recording(path)
    emg_rows = [i for i, t in enumerate(rec.channels["type"]) if t == "emg"]
    n = round(seconds * rec.sfreq)
    x = np.asarray(rec.data[emg_rows[0], :n], dtype=np.float64)
    scale = len(emg_rows) * rec.n_samples / n
    sos = ss.butter(4, [20, 1000], "bandpass", fs=SFREQ, output="sos")
    t0 = time.perf_counter()
    ss.sosfiltfilt(sos, x.astype(np.float32))
    sff = time.perf_counter() - t0
    out: dict[str, Any] = {"slice_s": seconds, "scale": scale, "sff_slice_s": sff}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        signals, _ = nk.emg_process(x, sampling_rate=int(rec.sfreq))
        out["neurokit2_s"] = time.perf_counter() - t0
        out["neurokit2_onsets"] = int(signals["EMG_Onsets"].sum())
        t0 = time.perf_counter()
        res = emg.emg(signal=x, sampling_rate=rec.sfreq, show=False)
        out["biosppy_s"] = time.perf_counter() - t0
        out["biosppy_onsets"] = len(res["onsets"])
    return out


def case(name: str, path: Path) -> dict[str, Any]:
    import warnings

    import scipy.signal as ss

    import hfs_emg as hfs

    warnings.simplefilter("ignore")
    base_kb = _status_kb("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    c0 = time.process_time()
    out: dict[str, Any] = {}
    if name == "analyze":
        res = hfs.analyze(path)
        out["n_bursts"] = len(res.bursts) if getattr(res, "bursts", None) is not None else None
        lsr = getattr(res, "lsr", None)
        out["n_lsr_rows"] = None if lsr is None else len(lsr)
        out["streamed"] = bool(res.provenance.get("streamed"))
        out["seconds"] = time.perf_counter() - t0
        out["cpu_s"] = time.process_time() - c0
        out["extra_peak_mb"] = (_status_kb("VmHWM") - base_kb) / 1024
        del res
        # the reference in the same process, right after (same machine conditions)
        out["sff_same_process_s"], out["sff_same_process_cpu_s"] = _sosfiltfilt_s(path)
        return out
    elif name == "read":
        rec = hfs.read_recording(path)
        out["dtype"] = str(rec.data.dtype)
    elif name == "sosfiltfilt":
        rec = hfs.read_recording(path)
        emg = np.asarray(rec.data[[t == "emg" for t in rec.channels["type"]]], dtype=np.float32)
        del rec
        base_kb = _status_kb("VmRSS")
        _reset_peak()
        sos = ss.butter(4, [20, 1000], "bandpass", fs=SFREQ, output="sos")
        t0 = time.perf_counter()
        c0 = time.process_time()
        ss.sosfiltfilt(sos, emg, axis=-1)
    elif name == "peers":
        return _peers(path, float(os.environ.get("HFS_BENCH_PEER_S", "10")))
    elif name == "lsr10k":
        from hfs_emg.simulate import simulate_lsr_session

        sims = [
            simulate_lsr_session(n_stimuli=10_000, rate_hz=20.0, sfreq=SFREQ, side=s, seed=i)
            for i, s in enumerate(("left", "right"))
        ]
        rec = sims[0].recording
        base_kb = _status_kb("VmRSS")
        _reset_peak()
        t0 = time.perf_counter()
        c0 = time.process_time()
        hfs.measure_lsr(rec)
        out["note"] = "one 4-muscle side (the 8-channel figure doubles it)"
    out["seconds"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0  # all threads of the process
    out["extra_peak_mb"] = (_status_kb("VmHWM") - base_kb) / 1024
    return out


# --------------------------------------------------------------------------- scaling
SCALING_MINUTES = (1.0, 3.0, 10.0, 30.0, 60.0, 180.0)


class _AnonPeak:
    """Peak ``RssAnon`` of this process, sampled every ``every_s`` on a thread.

    ``VmHWM`` also counts the pages of a memory-mapped file that were read (the EDF/BDF reader
    maps the file): clean file pages that the kernel drops under pressure. The anonymous
    memory (arrays, tables) is what a recording costs; the kernel keeps no peak of it, so it
    is sampled (a peak shorter than ``every_s`` can be missed).
    """

    def __init__(self, every_s: float = 0.01) -> None:
        import threading

        self.every_s = every_s
        self.peak_kb = _status_kb("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak_kb = max(self.peak_kb, _status_kb("RssAnon"))

    def __enter__(self) -> _AnonPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, _status_kb("RssAnon"))


def _reference_cpu_per_m(repeat: int = 3) -> float:
    """Gauge: CPU s per M samples of one sosfiltfilt band-pass over 8 x 1 min of float32 noise.

    Timed in the process of a scaling case, just before and after the analysis (best of 3
    each): the machine's speed at that moment, which the load of other sessions changes for
    both alike, so analyze's CPU per sample over the gauge is load-normalised. The 1-minute
    rows stay in cache: the gauge is ~3-4x faster per sample than a whole-file sosfiltfilt
    pass, so it is a normaliser, not the issue's "one sosfiltfilt pass" unit.
    """
    import scipy.signal as ss

    x = np.random.default_rng(0).standard_normal((8, round(60 * SFREQ)), dtype=np.float32)
    sos = ss.butter(4, [20, 1000], "bandpass", fs=SFREQ, output="sos")
    best = np.inf
    for _ in range(repeat):
        c0 = time.process_time()
        ss.sosfiltfilt(sos, x, axis=-1)
        best = min(best, time.process_time() - c0)
    return best / (x.size / 1e6)


def _scaling_case(path: Path, warm_path: Path) -> dict[str, Any]:
    """``analyze(path)`` timed after a warm-up on ``warm_path`` in memory and streamed."""
    import gc
    import warnings

    import hfs_emg as hfs
    from hfs_emg.io import _base
    from hfs_emg.pipeline.config import AnalysisConfig

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    # the reader stores files of more than FLOAT32_FROM_SAMPLES samples as float32 (the
    # 1-minute file as float64): warm the kernels of both dtypes, in memory and streamed
    limit = _base.FLOAT32_FROM_SAMPLES
    for float32_from in (limit, 0):
        _base.FLOAT32_FROM_SAMPLES = float32_from
        try:
            hfs.analyze(warm_path)  # in memory
            hfs.analyze(warm_path, AnalysisConfig(max_memory_mb=1.0))  # streamed
        finally:
            _base.FLOAT32_FROM_SAMPLES = limit
    warm_s = time.perf_counter() - t0
    ref_before = _reference_cpu_per_m()
    gc.collect()
    base_kb = _status_kb("VmRSS")
    base_anon_kb = _status_kb("RssAnon")
    _reset_peak()
    with _AnonPeak() as anon:
        t0 = time.perf_counter()
        c0 = time.process_time()
        res = hfs.analyze(path)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out: dict[str, Any] = {
        "seconds": wall,
        "cpu_s": cpu,  # all threads of the process
        "extra_peak_mb": (_status_kb("VmHWM") - base_kb) / 1024,
        "extra_anon_mb": (anon.peak_kb - base_anon_kb) / 1024,
        "sff_cpu_per_m": (ref_before + _reference_cpu_per_m()) / 2,
        "warm_up_s": warm_s,
        "streamed": bool(res.provenance.get("streamed")),
        "protocol": res.protocol,
        "n_bursts": None if res.bursts is None else len(res.bursts),
        "n_lsr_rows": None if getattr(res, "lsr", None) is None else len(res.lsr),
    }
    return out


def _run_capped(args: list[str], max_memory_gb: float | None) -> dict[str, Any]:
    """This script with ``args`` in a subprocess under an address-space cap (GB)."""

    def limit() -> None:  # a MemoryError in the case instead of the OOM killer on a shared box
        if max_memory_gb:
            import resource

            cap = int(max_memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    cmd = [sys.executable, __file__, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, preexec_fn=limit)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() if proc.stderr else []
        return {"error": lines[-1] if lines else f"exit code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scaling(
    kinds: list[str],
    minutes: list[float],
    data_dir: Path,
    max_memory_gb: float | None,
    repeat: int = 1,
) -> None:
    """Print the scaling table of ``analyze(path)`` over ``minutes`` for each kind.

    With ``repeat`` > 1 the lengths run round-robin ``repeat`` times (so a change of machine
    load falls on every length alike) and each row is the run of median CPU time.
    """
    cap = f"{max_memory_gb:g} GB" if max_memory_gb else "none"
    print(
        f"\nScaling of analyze(path), 8 EMG ch x {SFREQ / 1000:g} kHz BDF+; each length in its "
        f"own process after a warm-up (1-minute file analysed in memory and streamed, as "
        f"float64 and float32, in that process); address-space cap {cap}; {repeat} run(s) per "
        f"length, round-robin, the row is the run of median CPU. CPU = all threads; "
        f"ratio = CPU s per M samples / that of 10 min (linear within 20 %: 0.80-1.20). "
        f"VmHWM counts the mapped file pages read; anon = RssAnon peak sampled every 10 ms. "
        f"gauge = CPU per sample of sosfiltfilt over 8 x 1 min of float32 noise, timed in the "
        f"same process before and after the analysis (load-normalised scaling)."
    )
    print(
        "\n| file | minutes | M samples | analyze wall s | CPU s | CPU s / M samples | "
        "ratio to 10 min | within 20 % | extra peak MB (VmHWM) | MB / M samples | "
        "extra peak anon MB | anon MB / M samples | CPU s of each run | "
        "CPU per sample / gauge | its ratio to 10 min |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|")
    for kind in kinds:
        warm = make_file(kind, 1.0, data_dir)
        runs: dict[float, list[dict[str, Any]]] = {m: [] for m in minutes}
        for k in range(repeat):
            for m in minutes:
                path = make_file(kind, m, data_dir)
                t0 = time.perf_counter()
                runs[m].append(
                    _run_capped(
                        ["--case", "scaling", "--path", str(path), "--warm-path", str(warm)],
                        max_memory_gb,
                    )
                )
                took = time.perf_counter() - t0
                print(f"  {kind} {m:g} min, run {k + 1}: {took:.0f} s", file=sys.stderr)
        rows = {m: _median_run(r, m * 60 * SFREQ * 8 / 1e6) for m, r in runs.items()}
        for m in sorted(rows):
            _print_scaling_row(kind, m, rows[m], rows.get(10.0))
        _print_scaling_fit(kind, rows)


def _median_run(runs: list[dict[str, Any]], m_samples: float) -> dict[str, Any]:
    """The run of median CPU time (the first error if any run failed), with every CPU time."""
    bad = [r for r in runs if "error" in r]
    by_cpu = sorted(runs, key=lambda r: r.get("cpu_s", 0.0))
    row = dict(bad[0]) if bad else dict(by_cpu[(len(runs) - 1) // 2])
    row["m_samples"] = m_samples
    row["cpu_runs"] = [r.get("cpu_s") for r in runs]
    return row


def _print_scaling_fit(kind: str, rows: dict[float, dict[str, Any]]) -> None:
    """Least-squares CPU s = fixed + slope x M samples over the rows that ran."""
    ok = [r for r in rows.values() if "error" not in r]
    if len(ok) < 2:
        return
    n = np.array([r["m_samples"] for r in ok])
    cpu = np.array([r["cpu_s"] for r in ok])
    slope, fixed = np.polyfit(n, cpu, 1)
    dev = np.abs(fixed + slope * n - cpu) / cpu
    worst = int(np.argmax(dev))
    minutes = n[worst] * 1e6 / (60 * SFREQ * 8)
    print(
        f"| {kind} | fit | CPU s = {fixed:.2f} + {slope:.4f} x M samples; largest deviation "
        f"of a row from the fit {100 * dev[worst]:.0f} % ({minutes:g} min)"
        " | | | | | | | | | | | | |",
        flush=True,
    )


def _print_scaling_row(
    kind: str, minutes: float, r: dict[str, Any], ref: dict[str, Any] | None
) -> None:
    label = f"{minutes:g} (streamed)" if r.get("streamed") else f"{minutes:g}"
    n_m = r["m_samples"]
    if "error" in r:
        print(f"| {kind} | {minutes:g} | {n_m:.0f} | error: {r['error']} | | | | | | | | | | | |")
        return
    per_m = r["cpu_s"] / n_m
    in_sff = per_m / r["sff_cpu_per_m"]
    ratio_s, ok, sff_ratio = "-", "-", "-"
    if ref is not None and "error" not in ref:
        ratio = per_m / (ref["cpu_s"] / ref["m_samples"])
        ratio_s, ok = f"{ratio:.2f}", "yes" if abs(ratio - 1.0) <= 0.2 else "**no**"
        sff_ratio = f"{in_sff / (ref['cpu_s'] / ref['m_samples'] / ref['sff_cpu_per_m']):.2f}"
    print(
        f"| {kind} | {label} | {n_m:.0f} | {r['seconds']:.2f} | {r['cpu_s']:.2f} | "
        f"{per_m:.4f} | {ratio_s} | {ok} | {r['extra_peak_mb']:.0f} | "
        f"{r['extra_peak_mb'] / n_m:.2f} | {r['extra_anon_mb']:.0f} | "
        f"{r['extra_anon_mb'] / n_m:.2f} | {', '.join(f'{c:.2f}' for c in r['cpu_runs'])} | "
        f"{in_sff:.2f} | {sff_ratio} |",
        flush=True,
    )


def _print_steady(rows: list[tuple[Any, ...]]) -> None:
    """The steady-state table (``_warm_case``) and the split of the cold extra peak memory.

    The cold extra peak holds a fixed first-run part (numba's LLVM runtime and kernels, lazy
    imports: what the 1-minute file costs) and a part that grows with the samples; the slope
    between the 1-minute and the longer file, over the float32 samples, is the second.
    """
    print(
        "\nSteady state (one process, after a warm-up on the 1-minute file; median and best of "
        "the alternated runs; the ratios are of the bests):\n\n| file | minutes | analyze s "
        "(median, best) | sosfiltfilt s (median, best) | ratio | analyze CPU s (best) | "
        "sosfiltfilt CPU s (best) | CPU ratio | cold extra MB (1 min) | "
        "extra MB per float32 MB (slope 1 min -> file) |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for kind, label, n, _f32_mb, a, w, a1 in rows:
        if "error" in w:
            print(f"| {kind} | {label} | error: {w['error']} |")
            continue
        fixed = slope = "-"
        if a1 is not None and "error" not in a1:
            n1 = 60 * SFREQ * 8
            per_mb = (a["extra_peak_mb"] - a1["extra_peak_mb"]) / ((n - n1) * 4 / 2**20)
            fixed, slope = f"{a1['extra_peak_mb']:.0f}", f"{per_mb:.2f}x"
        print(
            f"| {kind} | {label} | {w['analyze']:.2f}, {w['analyze_best']:.2f} | "
            f"{w['sff']:.2f}, {w['sff_best']:.2f} | {w['analyze_best'] / w['sff_best']:.2f}x | "
            f"{w['analyze_cpu_best']:.2f} | {w['sff_cpu_best']:.2f} | "
            f"{w['analyze_cpu_best'] / w['sff_cpu_best']:.2f}x | {fixed} | {slope} |",
            flush=True,
        )


def run(name: str, path: Path, *extra: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--case", name, "--path", str(path), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    p.add_argument("--kinds", nargs="+", default=["spontaneous", "lsr"])
    p.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "hfs_bench"
    )
    p.add_argument("--lsr10k", action="store_true")
    p.add_argument("--peers", action="store_true", help="NeuroKit2 and BioSPPy (extrapolated)")
    p.add_argument("--peer-seconds", type=float, default=10.0)
    p.add_argument("--scaling", action="store_true", help="scaling table, 1 minute to 3 hours")
    p.add_argument("--scaling-minutes", type=float, nargs="+", default=list(SCALING_MINUTES))
    p.add_argument(
        "--max-memory-gb", type=float, default=None, help="address-space cap per --scaling case"
    )
    p.add_argument("--repeat", type=int, default=1, help="--scaling runs per length (median)")
    p.add_argument("--warm-path", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.case == "scaling":
        print(json.dumps(_scaling_case(args.path, args.warm_path)))
        return 0
    if args.case == "warm":
        print(json.dumps(_warm_case(args.path, args.warm_path, args.repeat)))
        return 0
    if args.case:
        print(json.dumps(case(args.case, args.path)))
        return 0
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.scaling:
        scaling(args.kinds, args.scaling_minutes, args.data_dir, args.max_memory_gb, args.repeat)
        return 0
    print(
        "| file | minutes | M samples | analyze s | sosfiltfilt s (same process) | ratio | "
        "analyze CPU s | sosfiltfilt CPU s | CPU ratio | sosfiltfilt s (own process) | read s | "
        "analyze extra MB | float32 MB | mem ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    steady: list[tuple[Any, ...]] = []
    for kind in args.kinds:
        for minutes in args.minutes:
            path = make_file(kind, minutes, args.data_dir)
            n = minutes * 60 * SFREQ * 8
            res = {c: run(c, path) for c in ("analyze", "sosfiltfilt", "read")}
            if any("error" in r for r in res.values()):
                print(f"| {kind} | {minutes:g} | errors: {res} |")
                continue
            a, f, r = res["analyze"], res["sosfiltfilt"], res["read"]
            f32_mb = n * 4 / 2**20
            same, cpu = a["sff_same_process_s"], a["sff_same_process_cpu_s"]
            label = f"{minutes:g} (streamed)" if a.get("streamed") else f"{minutes:g}"
            print(
                f"| {kind} | {label} | {n / 1e6:.0f} | {a['seconds']:.2f} | {same:.2f} | "
                f"{a['seconds'] / same:.2f}x | {a['cpu_s']:.2f} | {cpu:.2f} | "
                f"{a['cpu_s'] / cpu:.2f}x | {f['seconds']:.2f} | {r['seconds']:.2f} | "
                f"{a['extra_peak_mb']:.0f} | {f32_mb:.0f} | {a['extra_peak_mb'] / f32_mb:.2f}x |",
                flush=True,
            )
            warm = make_file(kind, 1.0, args.data_dir)
            w = run("warm", path, "--warm-path", str(warm), "--repeat", str(max(args.repeat, 3)))
            a1 = run("analyze", warm) if minutes > 1 and not a.get("streamed") else None
            steady.append((kind, label, n, f32_mb, a, w, a1))
    if steady:
        _print_steady(steady)
    if args.peers:
        os.environ["HFS_BENCH_PEER_S"] = str(args.peer_seconds)
        print(
            "\n| file | minutes | peer (1 channel x slice) | slice s | peer s | sff slice s "
            "| peer / sosfiltfilt | extrapolated to the file s (label: extrapolated) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for kind in args.kinds:
            for minutes in args.minutes:
                r = run("peers", make_file(kind, minutes, args.data_dir))
                if "error" in r:
                    print(f"| {kind} | {minutes:g} | error: {r['error']} |")
                    continue
                for peer in ("neurokit2", "biosppy"):
                    t = r[f"{peer}_s"]
                    print(
                        f"| {kind} | {minutes:g} | {peer} ({r[f'{peer}_onsets']} onsets) | "
                        f"{r['slice_s']:g} | {t:.2f} | {r['sff_slice_s']:.4f} | "
                        f"{t / r['sff_slice_s']:,.0f}x | {t * r['scale']:,.0f} (extrapolated) |",
                        flush=True,
                    )
    if args.lsr10k:
        res = run("lsr10k", Path("."))
        print(f"\nmeasure_lsr, 10,000 stimuli x 4 EMG channels + trigger: {res}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
