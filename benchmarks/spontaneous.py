"""Spontaneous-EMG benchmark: the hfs_emg pipeline against SciPy, NeuroKit2 and BioSPPy.

Synthetic recording: 8 channels at 10 kHz, float32, in microvolts: white noise (5 uV RMS),
50 Hz hum (10-30 uV) and spasm bursts (50-500 ms, 5-30x the noise, 0.3/s per channel plus
synchronous events at 0.1/s), seed 0.

Cases (each in its own subprocess; peak RSS from VmHWM, reset through /proc/self/clear_refs
right after the recording is built):

- ``pipeline``: hfs_emg ``filter_emg`` (band-pass 20-1000 Hz + 50 Hz comb notch, one pass per
  channel) -> ``detect_bursts`` (its moving-RMS envelope, thresholds, edge refinement and burst
  features, one channel at a time) -> ``detect_synchronous_bursts`` -> ``summarize`` (the last
  three when the installed hfs_emg has them), every stage timed. The envelope is computed once,
  inside ``detect_bursts``, streamed in blocks (no separate ``envelope`` call: its output was
  never used). ``pipeline_steps``: the same with separate ``bandpass_filter`` and
  ``notch_filter`` calls.
- ``sosfiltfilt``: one ``scipy.signal.sosfiltfilt`` pass of ``butter(4, [20, 1000],
  "bandpass", output="sos")`` over the whole (8, n) float32 array, as a user would write it
  (float64 coefficients, so the output is float64).
- ``sosfiltfilt32``: the same with the coefficients cast to float32 (float32 output).
- ``neurokit2`` / ``biosppy``: ``nk.emg_process`` and ``biosppy.signals.emg.emg`` on ONE channel
  for ``--peer-seconds`` (default 60 s) of the same data, extrapolated linearly to the whole
  recording (8 channels x the duration) and labelled so. BioSPPy grows faster than linearly,
  so its extrapolation is a lower bound.

Benchmark-only dependencies: neurokit2, biosppy, peakutils (not runtime dependencies).

Usage::

    python benchmarks/spontaneous.py --minutes 10
    python benchmarks/spontaneous.py --minutes 10 60 --markdown docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SFREQ = 10_000.0
N_CHANNELS = 8
BAND = (20.0, 1000.0)
MAINS = 50.0
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- memory
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:  # pragma: no cover - not Linux
        pass


# --------------------------------------------------------------------------- data
def make_data(minutes: float, *, seed: int = 0, n_channels: int = N_CHANNELS) -> np.ndarray:
    """(n_channels, n) float32 uV: noise + 50 Hz hum + independent and synchronous bursts."""
    rng = np.random.default_rng(seed)
    n = round(minutes * 60 * SFREQ)
    data = np.empty((n_channels, n), dtype=np.float32)
    period = round(SFREQ / MAINS)
    one_period = np.sin(2 * np.pi * np.arange(period) / period).astype(np.float32)
    duration = n / SFREQ
    sync_on = np.sort(rng.uniform(2.0, duration - 1.0, size=rng.poisson(0.1 * duration)))
    for ch in range(n_channels):
        row = data[ch]
        rng.standard_normal(out=row, dtype=np.float32)
        row *= 5.0
        shift = int(rng.integers(period))
        hum = np.resize(np.roll(one_period, shift), n) * np.float32(rng.uniform(10.0, 30.0))
        row += hum
        del hum
        own = rng.uniform(2.0, duration - 1.0, size=rng.poisson(0.3 * duration))
        hit = sync_on[rng.random(sync_on.size) < 0.6] + rng.uniform(0, 0.005)
        onsets = np.sort(np.concatenate([own, hit]))
        lengths = rng.uniform(0.05, 0.5, size=onsets.size)
        gains = np.exp(rng.uniform(np.log(5.0), np.log(30.0), size=onsets.size))
        starts = (onsets * SFREQ).astype(np.int64)
        stops = np.minimum(starts + (lengths * SFREQ).astype(np.int64), n)
        # Burst gain profile without a loop over bursts: +gain at the start, -gain at the stop.
        step = np.zeros(n + 1, dtype=np.float32)
        np.add.at(step, starts, gains - 1.0)
        np.add.at(step, stops, -(gains - 1.0))
        gain = np.cumsum(step[:n], dtype=np.float32)
        del step
        gain += 1.0
        row *= gain
        del gain
    return data


# --------------------------------------------------------------------------- cases
def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def case_pipeline(data: np.ndarray, *, fused: bool = True) -> dict[str, Any]:
    import hfs_emg
    from hfs_emg import preprocessing as pp

    names = [f"emg{i}" for i in range(data.shape[0])]
    rec = hfs_emg.from_array(data, SFREQ, names, dtype=np.float32)  # no float64 copy
    stages: dict[str, float] = {}
    peaks: dict[str, float] = {}
    missing: list[str] = []

    failed: list[str] = []

    def stage(name: str, fn: Any) -> Any:
        _reset_peak()
        try:
            out, stages[name] = _timed(fn)
        except MemoryError:
            failed.append(name)
            out = None
        peaks[name] = _status_kb("VmHWM") / 1e3
        return out

    if fused:
        filt = stage("filter_emg", lambda: pp.filter_emg(rec, *BAND, notch=MAINS))
    else:
        filt = stage("bandpass_filter", lambda: pp.bandpass_filter(rec, *BAND))
        filt = stage("notch_filter", lambda: pp.notch_filter(filt, MAINS))
    # No separate envelope stage: detect_bursts streams its own moving-RMS envelope (15 ms,
    # the hysteresis method's) block by block, so computing pp.envelope here as well would only
    # add a pass and a recording-sized array that nothing reads.
    bursts = sync = None
    try:
        from hfs_emg.detection import detect_bursts
    except ImportError:
        missing.append("detect_bursts")
    else:
        bursts = stage("detect_bursts", lambda: detect_bursts(filt))
        if bursts is None:
            missing.append("detect_bursts (MemoryError under the --max-memory-gb cap)")
    try:
        from hfs_emg.synchrony import detect_synchronous_bursts
    except ImportError:
        missing.append("detect_synchronous_bursts")
    else:
        if bursts is not None:
            sync = stage("detect_synchronous_bursts", lambda: detect_synchronous_bursts(bursts))
    try:
        from hfs_emg.metrics import summarize
    except ImportError:
        missing.append("summarize")
    else:
        if bursts is not None:
            stage("summarize", lambda: _call_summarize(summarize, filt, bursts, sync))
    return {
        "time_s": sum(stages.values()),
        "stages": stages,
        "failed": failed,
        "stage_peak_rss_mb": peaks,
        "missing": missing,
        "n_bursts": None if bursts is None else len(bursts),
        "n_sync": None if sync is None else len(sync),
    }


def _call_summarize(summarize: Any, rec: Any, bursts: Any, sync: Any) -> Any:
    import inspect

    params = list(inspect.signature(summarize).parameters)
    kwargs = {}
    if "sync" in params or "synchronous" in params:
        kwargs["sync" if "sync" in params else "synchronous"] = sync
    if params and params[0] in ("rec", "recording"):
        return summarize(rec, bursts, **kwargs)
    return summarize(bursts, **kwargs)


def case_sosfiltfilt(data: np.ndarray, *, f32: bool = False) -> dict[str, Any]:
    from scipy import signal as sps

    sos = sps.butter(4, BAND, "bandpass", fs=SFREQ, output="sos")
    if f32:
        sos = sos.astype(np.float32)
    out, t = _timed(lambda: sps.sosfiltfilt(sos, data, axis=-1))
    return {"time_s": t, "out_dtype": str(out.dtype)}


def case_neurokit2(data: np.ndarray, seconds: float) -> dict[str, Any]:
    import warnings

    import neurokit2 as nk

    x = data[0, : round(seconds * SFREQ)].astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (signals, _), t = _timed(lambda: nk.emg_process(x, sampling_rate=int(SFREQ)))
    return {"time_s": t, "seconds": seconds, "onsets": int(signals["EMG_Onsets"].sum())}


def case_biosppy(data: np.ndarray, seconds: float) -> dict[str, Any]:
    from biosppy.signals import emg

    x = data[0, : round(seconds * SFREQ)].astype(np.float64)
    out, t = _timed(lambda: emg.emg(signal=x, sampling_rate=SFREQ, show=False))
    return {"time_s": t, "seconds": seconds, "onsets": len(out["onsets"])}


def run_case(case: str, minutes: float, peer_seconds: float, repeat: int = 3) -> dict[str, Any]:
    """Run one case in this process and return its measurements."""
    # Import everything the case needs first, so the baseline RSS holds the libraries.
    if case.startswith("pipeline"):
        import hfs_emg.preprocessing  # noqa: F401

        for name in ("detection", "synchrony", "metrics"):
            with contextlib.suppress(ImportError):
                __import__(f"hfs_emg.{name}")
    elif case.startswith("sosfiltfilt"):
        import scipy.signal  # noqa: F401
    elif case == "neurokit2":
        import neurokit2  # noqa: F401
    elif case == "biosppy":
        import biosppy.signals.emg  # noqa: F401
    rss_start = _status_kb("VmRSS")
    if case in ("neurokit2", "biosppy"):
        data = make_data(peer_seconds / 60.0, n_channels=1)
    else:
        data = make_data(minutes)
    rss_data = _status_kb("VmRSS")
    # Warm-up on a short slice (imports, FFT plans) so the timed call measures the work.
    warm = make_data(0.1, n_channels=2, seed=1)
    if case.startswith("pipeline"):
        case_pipeline(warm, fused=case == "pipeline")
    elif case.startswith("sosfiltfilt"):
        case_sosfiltfilt(warm, f32=case.endswith("32"))
    del warm
    rss_before = _status_kb("VmRSS")
    runs = []
    peak_kb = 0
    for _ in range(repeat if case not in ("neurokit2", "biosppy") else 1):
        _reset_peak()
        if case == "pipeline":
            res = case_pipeline(data)
        elif case == "pipeline_steps":
            res = case_pipeline(data, fused=False)
        elif case == "sosfiltfilt":
            res = case_sosfiltfilt(data)
        elif case == "sosfiltfilt32":
            res = case_sosfiltfilt(data, f32=True)
        elif case == "neurokit2":
            res = case_neurokit2(data, peer_seconds)
        elif case == "biosppy":
            res = case_biosppy(data, peer_seconds)
        else:
            raise SystemExit(f"unknown case {case!r}")
        peak_kb = max(peak_kb, _status_kb("VmHWM"))
        if "stage_peak_rss_mb" in res:
            peak_kb = max(peak_kb, int(max(res["stage_peak_rss_mb"].values()) * 1e3))
        runs.append(res)
    times = [r["time_s"] for r in runs]
    res = dict(runs[int(np.argsort(times)[len(times) // 2])])  # the median run
    res["all_times_s"] = times
    peak = peak_kb
    res.update(
        case=case,
        minutes=minutes,
        n_samples=int(data.size),
        data_mb=data.nbytes / 1e6,
        rss_start_mb=rss_start / 1e3,
        rss_data_mb=rss_data / 1e3,
        rss_before_mb=rss_before / 1e3,
        peak_rss_mb=peak / 1e3,
    )
    return res


# --------------------------------------------------------------------------- driver
def _subprocess(
    case: str, minutes: float, peer_seconds: float, repeat: int, max_memory_gb: float | None
) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [
        sys.executable,
        __file__,
        "--case",
        case,
        "--minutes",
        str(minutes),
        "--peer-seconds",
        str(peer_seconds),
        "--repeat",
        str(repeat),
    ]

    def limit() -> None:  # a MemoryError in the case instead of the OOM killer on a shared box
        if max_memory_gb:
            import resource

            cap = int(max_memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, check=False, preexec_fn=limit
    )
    if proc.returncode != 0:
        return {"case": case, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def build_table(minutes: float, results: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown lines for one recording length."""
    n_total = N_CHANNELS * round(minutes * 60 * SFREQ)
    f32_mb = n_total * 4 / 1e6
    lines = [
        f"### {N_CHANNELS} ch x {SFREQ / 1000:g} kHz x {minutes:g} min "
        f"({n_total / 1e6:,.0f} M samples, float32 {f32_mb:,.0f} MB)",
        "",
        "| case | time s | Msamples/s | peak MB over interpreter (x float32 size) | "
        "peak RSS MB | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    full: dict[str, float] = {}
    for case, res in results.items():
        if "error" in res:
            lines.append(f"| {case} | error | | | | {' '.join(res['error'])} |")
            continue
        if case in ("neurokit2", "biosppy"):
            per_ch_hour = res["time_s"] * 3600.0 / res["seconds"]
            t = per_ch_hour * N_CHANNELS * minutes / 60.0
            full[case] = t
            note = (
                f"EXTRAPOLATED from 1 ch x {res['seconds']:g} s ({_fmt(res['time_s'])} s, "
                f"{res['onsets']} onsets): {per_ch_hour:,.0f} s per channel-hour"
            )
            if case == "biosppy":
                note += " (superlinear: a lower bound)"
            mem = res["peak_rss_mb"] - res["rss_start_mb"]
            lines.append(
                f"| {case} | {_fmt(t)} | {_fmt(n_total / t / 1e6)} | "
                f"{_fmt(mem)} (1 ch, {res['seconds']:g} s) | {_fmt(res['peak_rss_mb'])} | "
                f"{note} |"
            )
            continue
        t = res["time_s"]
        full[case] = t
        mem = res["peak_rss_mb"] - res["rss_start_mb"]
        note = ""
        if case.startswith("pipeline"):
            note = ", ".join(
                f"{k} {v:.3g} s / {res['stage_peak_rss_mb'][k] - res['rss_start_mb']:,.0f} MB"
                for k, v in res["stages"].items()
            )
            if res.get("failed"):
                note += f"; FAILED (MemoryError): {', '.join(res['failed'])}"
            if res["n_bursts"] is not None:
                note += f"; {res['n_bursts']} bursts"
            if res["n_sync"] is not None:
                note += f", {res['n_sync']} sync events"
            if res["missing"]:
                note += f"; NOT TIMED (missing): {', '.join(res['missing'])}"
        elif case.startswith("sosfiltfilt"):
            note = f"output {res['out_dtype']}"
        if len(res.get("all_times_s", [])) > 1:
            note += f"; median of {', '.join(f'{x:.3g}' for x in res['all_times_s'])} s"
        lines.append(
            f"| {case} | {_fmt(t)} | {_fmt(n_total / t / 1e6)} | {_fmt(mem)} "
            f"({mem / f32_mb:.2f}x) | {_fmt(res['peak_rss_mb'])} | {note} |"
        )
    lines.append("")
    pipe = full.get("pipeline")
    sff = full.get("sosfiltfilt")
    partial = results.get("pipeline", {}).get("missing")
    if pipe and partial:
        done = ", ".join(results["pipeline"]["stages"])
        lines.append(
            f"- PARTIAL pipeline: only {done} were timed ({', '.join(partial)} missing); the "
            "ratios below cover those stages only"
        )
    if pipe and sff:
        r = pipe / sff
        lines.append(
            f"- pipeline / sosfiltfilt = **{r:.2f}x** (target <= 1.5x: "
            f"{'met' if r <= 1.5 else 'MISSED'})"
        )
        if full.get("sosfiltfilt32"):
            lines.append(f"- pipeline / sosfiltfilt32 = {pipe / full['sosfiltfilt32']:.2f}x")
    if pipe and full.get("neurokit2"):
        r = full["neurokit2"] / pipe
        lines.append(
            f"- NK2 / pipeline = **{r:,.0f}x** (extrapolated; target >= 200x: "
            f"{'met' if r >= 200 else 'MISSED'})"
        )
    if pipe and full.get("biosppy"):
        lines.append(f"- BioSPPy / pipeline = **{full['biosppy'] / pipe:,.0f}x** (extrapolated)")
    res = results.get("pipeline", {})
    if "peak_rss_mb" in res:
        mem = res["peak_rss_mb"] - res["rss_start_mb"]
        extra = res["peak_rss_mb"] - res["rss_before_mb"]
        lines.append(
            f"- pipeline peak memory over the loaded recording = {extra:,.0f} MB = "
            f"**{extra / f32_mb:.2f}x** the recording's float32 size (target <= 3x: "
            f"{'met' if extra <= 3 * f32_mb else 'MISSED'}); including the recording itself "
            f"{mem:,.0f} MB = {mem / f32_mb:.2f}x; absolute peak RSS {res['peak_rss_mb']:,.0f} MB "
            f"(interpreter and libraries {res['rss_start_mb']:,.0f} MB)"
        )
        stage_mem = {
            k: v - res["rss_before_mb"] for k, v in res.get("stage_peak_rss_mb", {}).items()
        }
        if stage_mem:
            worst = max(stage_mem, key=stage_mem.__getitem__)
            slowest = max(res["stages"], key=res["stages"].__getitem__)
            lines.append(
                f"- largest stage: time {slowest} ({res['stages'][slowest]:.3g} s of "
                f"{res['time_s']:.3g} s), memory {worst} ({stage_mem[worst]:,.0f} MB over the "
                "loaded recording)"
            )
        if res.get("missing"):
            lines.append(f"- stages missing from this build: {', '.join(res['missing'])}")
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0])
    parser.add_argument("--peer-seconds", type=float, default=60.0)
    parser.add_argument(
        "--cases",
        nargs="+",
        default=[
            "pipeline",
            "pipeline_steps",
            "sosfiltfilt",
            "sosfiltfilt32",
            "neurokit2",
            "biosppy",
        ],
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument(
        "--max-memory-gb", type=float, default=None, help="address-space cap per case"
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)
    if args.case:
        res = run_case(args.case, args.minutes[0], args.peer_seconds, args.repeat)
        print(json.dumps(res))
        return 0
    import scipy

    import hfs_emg

    header = [
        "# Benchmarks: spontaneous EMG",
        "",
        f"Run {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC with "
        f"`python benchmarks/spontaneous.py {' '.join(sys.argv[1:] if argv is None else argv)}`"
        f" on {os.cpu_count()} cores ({platform.processor() or platform.machine()}; load "
        f"average {os.getloadavg()[0]:.2f} at the start), "
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__},"
        f" hfs_emg {hfs_emg.__version__}. Each case runs alone in a subprocess; the median of "
        f"--repeat {args.repeat} timed calls after a warm-up on a 6 s slice (the peers: one "
        "call). Peak memory = peak RSS during the calls minus the RSS of the interpreter with "
        "its libraries before the recording was built (so it includes the float32 recording "
        "itself); per stage, the peak RSS during that stage on the same basis. Stage names: "
        "filter_emg = band-pass 20-1000 Hz + 50 Hz comb notch in one pass per channel; "
        "pipeline_steps = the same with separate bandpass_filter and notch_filter calls; "
        "the envelope (15 ms moving RMS) is computed inside detect_bursts, streamed.",
        "",
    ]
    out = list(header)
    print("\n".join(header), flush=True)
    for minutes in args.minutes:
        results = {}
        for case in args.cases:
            results[case] = _subprocess(
                case, minutes, args.peer_seconds, args.repeat, args.max_memory_gb
            )
            print(f"  done {case} ({minutes:g} min)", file=sys.stderr, flush=True)
        table = build_table(minutes, results)
        table.append(f"(load average {os.getloadavg()[0]:.2f} after these cases)")
        table.append("")
        print("\n".join(table), flush=True)
        out.extend(table)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
