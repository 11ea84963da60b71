"""Command-line interface: ``hfs-emg info FILE`` and ``hfs-emg demo``.

Exit codes: 0 success, 1 a file could not be analysed (an :class:`HfsEmgError`), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from . import __version__
from ._atomic import atomic_path
from ._errors import HfsEmgError
from .io import READERS, read_recording
from .recording import Recording

logger = logging.getLogger("hfs_emg")

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "example_data"


def describe(rec: Recording) -> str:
    """Plain-text summary of a recording (channels, muscles, rate, duration, events)."""
    lines = [f"{k:>14}: {v}" for k, v in rec._summary_rows()]
    table = rec.channels[["name", "type", "unit", "muscle", "side", "branch"]].to_string(
        index=False, na_rep="-"
    )
    return "\n".join([*lines, "", table])


def _example_files(folder: Path) -> list[Path]:
    # Multi-file formats are opened through one file: skip the companions.
    companions = {".dat", ".vmrk", ".eeg", ".atr", ".json"}
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in READERS and p.suffix.lower() not in companions
    )


def _cmd_info(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            rec = read_recording(path)
        except (HfsEmgError, FileNotFoundError) as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
            continue
        print(f"== {path}")
        print(describe(rec))
    return status


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def _demo_spontaneous(rec: Recording) -> dict[str, pd.DataFrame]:
    from .detection import detect_bursts
    from .metrics import summarize
    from .synchrony import detect_synchronous_bursts

    bursts = detect_bursts(rec)
    sync = detect_synchronous_bursts(bursts, channels_info=rec.channels)
    summary = summarize(bursts, sync, duration_s=rec.duration_s, channels=rec.channels)
    return {"bursts": bursts, "synchronous": sync, "summary": summary.channels}


def _demo_lsr(rec: Recording) -> dict[str, pd.DataFrame]:
    from .lsr import lsr_trend, measure_lsr

    lsr = measure_lsr(rec)
    return {"lsr": lsr, "trend": lsr_trend(lsr)}


def _demo_measure(name: str) -> Callable[[Recording], dict[str, pd.DataFrame]]:
    def run(rec: Recording) -> dict[str, pd.DataFrame]:
        from . import ncs

        return {name: getattr(ncs, f"measure_{name}")(rec)}

    return run


#: What the demo does with each bundled example file.
DEMO_ANALYSES: dict[str, Callable[[Recording], dict[str, pd.DataFrame]]] = {
    "spontaneous_hfs.edf": _demo_spontaneous,
    "lsr_session.edf": _demo_lsr,
    "ncs_cmap.bdf": _demo_measure("cmap"),
    "ncs_f_waves.bdf": _demo_measure("f_waves"),
    "ncs_blink_reflex.bdf": _demo_measure("blink_reflex"),
}
_SHOW = {
    "summary": ["channel", "n_bursts", "bursts_per_min", "burden_pct", "discharge_hz_median"],
    "trend": ["channel", "status", "disappearance_stim_index", "final_baseline_ratio"],
    "cmap": ["channel", "side", "latency_ms", "p2p_uv", "amplitude_ratio"],
    "f_waves": ["channel", "persistence_pct", "f_min_latency_ms", "chronodispersion_ms"],
    "blink_reflex": ["stim_side", "channel", "component", "relation", "latency_ms", "p2p_uv"],
}


def _cmd_demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_recording
    from .preprocessing import filter_emg
    from .reporting import report

    folder = Path(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = _example_files(folder) if folder.is_dir() else []
    if not files:
        print(f"error: no readable recording in {folder}", file=sys.stderr)
        return 1
    status = 0
    for path in files:
        try:
            rec = read_recording(path)
            print(f"== {path.name}")
            print(describe(rec))
            analysis = DEMO_ANALYSES.get(path.name)
            tables = analysis(rec) if analysis else {}
            h_freq = min(1000.0, 0.45 * rec.sfreq)
            fig = plot_recording(
                filter_emg(rec, 20.0, h_freq),
                tmax=rec.tstart + min(rec.duration_s, 30.0),
                bursts=tables.get("bursts"),
                title=f"{path.name}: EMG band-passed 20-{h_freq:g} Hz + mains notch",
            )
            target = out / f"{path.stem}_overview.png"
            with atomic_path(target) as tmp:
                fig.savefig(tmp, dpi=100, format="png")
            plt.close(fig)
            print(f"   overview figure: {target}")
            html = out / f"{path.stem}_report.html"
            report(rec, out=html, evoked=DEMO_EVOKED.get(path.name, "auto"))
            print(f"   HTML report: {html}")
            for name, table in tables.items():
                csv = out / f"{path.stem}_{name}.csv"
                _write_csv(table, csv)
                print(f"   {name}: {len(table)} rows -> {csv}")
                cols = [c for c in _SHOW.get(name, []) if c in table.columns]
                if cols:
                    print(table[cols].to_string(index=False, float_format="%.2f"))
            print()
        except HfsEmgError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
    return status


#: Evoked analysis the demo report runs for each bundled example file.
DEMO_EVOKED: dict[str, str] = {
    "spontaneous_hfs.edf": "none",
    "lsr_session.edf": "lsr",
    "ncs_cmap.bdf": "cmap",
    "ncs_f_waves.bdf": "f_waves",
    "ncs_blink_reflex.bdf": "blink_reflex",
}


def _cmd_report(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .reporting import report

    status = 0
    for name in args.files:
        path = Path(name)
        target = Path(args.out) / f"{path.stem}.html" if args.out else path.with_suffix(".html")
        try:
            rec = read_recording(path)
            report(rec, out=target, evoked=args.evoked, spontaneous=not args.no_spontaneous)
        except (HfsEmgError, OSError) as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
            continue
        print(f"report: {target}")
    return status


def build_parser() -> argparse.ArgumentParser:
    """The ``hfs-emg`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="hfs-emg",
        description="Electrophysiology of hemifacial spasm: read EMG / nerve-conduction "
        "recordings, detect spasms, measure the lateral spread response.",
    )
    parser.add_argument("--version", action="version", version=f"hfs_emg {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p_info = sub.add_parser("info", help="describe recordings: channels, muscles, rate, events")
    p_info.add_argument("files", nargs="+", help="recording files (any supported format)")
    p_info.set_defaults(func=_cmd_info)

    p_demo = sub.add_parser("demo", help="analyse the bundled example data")
    p_demo.add_argument("--data", default=str(EXAMPLE_DIR), help="folder of example recordings")
    p_demo.add_argument("--out", default="demo_output", help="output folder (default: %(default)s)")
    p_demo.set_defaults(func=_cmd_demo)

    from .reporting import EVOKED_ANALYSES

    p_rep = sub.add_parser("report", help="write one self-contained HTML report per recording")
    p_rep.add_argument("files", nargs="+", help="recording files (any supported format)")
    p_rep.add_argument("--out", help="output folder (default: beside each input, FILE.html)")
    p_rep.add_argument(
        "--evoked",
        default="auto",
        choices=EVOKED_ANALYSES,
        help="evoked analysis when stimuli are found (default: %(default)s)",
    )
    p_rep.add_argument(
        "--no-spontaneous", action="store_true", help="skip the burst / synchrony analysis"
    )
    p_rep.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hfs-emg`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO, format="%(message)s")
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
