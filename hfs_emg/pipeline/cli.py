"""Command-line interface: ``hfs-emg info|demo|report|analyze|batch|bids|config``.

Every analysing command goes through :func:`hfs_emg.analyze` with one configuration: the
``--config`` file, then ``--protocol``, ``--stim-branch``, ``--sfreq``, ``--picks``, ``--units``.

Exit codes: 0 success, 1 a file could not be analysed (an :class:`HfsEmgError`; in ``analyze``
and ``batch`` the other files are still analysed and written), 2 usage error (bad arguments,
bad configuration file, no input, an output folder that cannot be written or that another batch
is writing). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import atomic_path
from .._errors import HfsEmgError, OutputError, ParameterError
from .._version import __version__
from ..datasets import example_dir
from ..io import read_recording
from ..recording import Recording
from .batch import BatchResult, _check_input, _recordings_in, expand_inputs, run_batch
from .config import PROTOCOLS, AnalysisConfig, default_toml

logger = logging.getLogger("hfs_emg")


def __getattr__(name: str) -> Any:
    # EXAMPLE_DIR is kept for old code: the folder comes from hfs_emg.datasets.example_dir().
    if name == "EXAMPLE_DIR":
        return example_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def describe(rec: Recording) -> str:
    """Plain-text summary of a recording (channels, muscles, rate, duration, events)."""
    lines = [f"{k:>14}: {v}" for k, v in rec._summary_rows()]
    table = rec.channels[["name", "type", "unit", "muscle", "side", "branch"]].to_string(
        index=False, na_rep="-"
    )
    return "\n".join([*lines, "", table])


def _example_files(folder: Path) -> list[Path]:
    # Multi-file formats are opened through one file: the companions are skipped.
    return [p for p in _recordings_in(folder) if p.is_file()]


def _read_input(path: str | Path) -> Recording:
    """Read a recording named on the command line (regular files only: never a pipe)."""
    if os.path.lexists(path):  # else the reader says the file does not exist
        _check_input(path)
    return read_recording(path)


def _one_line(path: str | Path, err: BaseException) -> str:
    """An error as the one line the CLI prints (the type too when it is not hfs_emg's own)."""
    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, (HfsEmgError, OSError)):
        return f"error: {text}" if str(path) in text else f"error: {path}: {text}"
    return f"error: {path}: {type(err).__name__}: {text}"


def _cmd_info(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            rec = _read_input(path)
        except Exception as err:  # one line per file, never a traceback
            logger.debug("hfs-emg info: %s", path, exc_info=True)
            print(_one_line(path, err), file=sys.stderr)
            status = 1
            continue
        print(f"== {path}")
        print(describe(rec))
    return status


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


_SHOW = {
    "summary": ["channel", "n_bursts", "bursts_per_min", "burden_pct", "discharge_hz_median"],
    "trend": ["channel", "status", "disappearance_stim_index", "reduction_pct"],
    "cmap": ["channel", "side", "latency_ms", "p2p_uv", "amplitude_ratio"],
    "f_waves": ["channel", "persistence_pct", "f_min_latency_ms", "f_duration_mean_ms"],
    "blink_reflex": ["stim_side", "channel", "component", "relation", "latency_ms", "p2p_uv"],
    "zl_trend": ["montage", "channel", "status", "loss_phase", "loss_after_decompression_s"],
    "fmep_trend": ["channel", "muscle", "final_over_baseline_pct", "warning"],
    "train_time": ["channel", "n_a_trains", "train_time_s", "above_warning", "above_severe"],
}


def _cmd_demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_recording
    from ..preprocessing import bandpass_filter
    from .analysis import analyze
    from .report import report, summary_sentence

    folder = Path(args.data) if args.data else example_dir()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"Cannot create the output folder {out}: {err.strerror or err}.") from err
    files = _example_files(folder) if folder.is_dir() else []
    if not files:
        print(f"error: no readable recording in {folder}", file=sys.stderr)
        return 1
    config = _config(args)
    status = 0
    for path in files:
        try:
            # one analysis per file: the report renders it and its tables are the CSVs
            result = analyze(path, config)
            rec = read_recording(path, **config.read.open_options(), **config.read.read_options())
            print(f"== {path.name}")
            print(describe(rec))
            print(f"   protocol: {result.protocol} ({result.provenance['protocol']['reason']})")
            print(f"   {summary_sentence(result)}")
            html = out / f"{path.stem}_report.html"
            report(result, rec, out=html)
            emg = rec.pick(config.bursts.picks)
            lo, hi = (
                float(config.bursts.band[0]),
                min(float(config.bursts.band[1]), 0.45 * rec.sfreq),
            )
            fig = plot_recording(
                bandpass_filter(emg, lo, hi),
                tmax=rec.tstart + min(rec.duration_s, 30.0),
                bursts=result.bursts,
                title=f"{path.name}: EMG band-passed {lo:g}-{hi:g} Hz (as the burst detector)",
            )
            target = out / f"{path.stem}_overview.png"
            with atomic_path(target) as tmp:
                fig.savefig(tmp, dpi=100, format="png")
            plt.close(fig)
            print(f"   overview figure: {target}")
            print(f"   HTML report: {html}")
            for name, table in result.tables().items():
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


def _cmd_report(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .analysis import analyze
    from .report import report

    config = _config(args)
    status = 0
    for name in args.files:
        path = Path(name)
        target = Path(args.out) / f"{path.stem}.html" if args.out else path.with_suffix(".html")
        try:
            if os.path.lexists(path):  # regular files only: never a pipe
                _check_input(path)
            report(analyze(path, config), out=target)
        except Exception as err:  # one line per file, never a traceback
            logger.debug("hfs-emg report: %s", path, exc_info=True)
            print(_one_line(path, err), file=sys.stderr)
            status = 1
            continue
        print(f"report: {target}")
    return status


def _cmd_monitor(args: argparse.Namespace) -> int:
    import signal
    import webbrowser

    import matplotlib

    matplotlib.use("Agg")
    from .live_page import LivePage
    from .monitor import LiveMonitor

    config = _config(args)
    mon = LiveMonitor(
        args.out,
        stream=args.stream,
        replay=args.replay,
        speed=args.speed,
        stim_branch=args.stim_branch,
        config=config,
    )
    page = None
    if args.port >= 0:
        page = LivePage(mon, port=args.port).start()
        print(f"live page: {page.url}", flush=True)
        if not args.no_browser:
            webbrowser.open(page.url)
    signal.signal(signal.SIGTERM, lambda *_: mon.stop())
    try:
        mon.run(duration=args.duration)
    except KeyboardInterrupt:
        mon.close()
    finally:
        if page is not None:
            page.stop()
    print(f"session: {args.out} ({mon.n_stim} stimuli)", flush=True)
    if mon.parts:
        # the whole session (every part, event and LSR row) through the normal report
        target = mon.write_report(Path(args.out) / "report.html", config=config)
        print(f"report: {target}")
    return 0


def _picks(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def analysis_options() -> argparse.ArgumentParser:
    """The options every analysing command takes (``analyze``, ``report``, ``batch``, ``demo``,
    ``bids``): a configuration file and the few overrides users need from the shell."""
    opts = argparse.ArgumentParser(add_help=False)
    group = opts.add_argument_group("analysis options (override the --config file)")
    group.add_argument("--config", metavar="TOML", help="analysis options (default: defaults)")
    group.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        help="what the recordings are (default: auto, decided from the stimulus markers)",
    )
    group.add_argument(
        "--stim-branch",
        metavar="BRANCH",
        help="stimulated facial-nerve branch for the LSR (e.g. zygomatic, marginal_mandibular)",
    )
    group.add_argument(
        "--sfreq", type=float, metavar="HZ", help="read the channels sampled at this rate"
    )
    group.add_argument(
        "--picks", type=_picks, metavar="CH[,CH...]", help="channels to read (names, commas)"
    )
    group.add_argument("--units", metavar="UNIT", help="unit of every channel read (e.g. mV)")
    return opts


def _config(args: argparse.Namespace) -> AnalysisConfig:
    """The configuration of a command: the --config file, then the command-line overrides."""
    config = _load_config(getattr(args, "config", None))
    changes: dict[str, object] = {}
    if getattr(args, "protocol", None):
        changes["protocol"] = args.protocol
    if getattr(args, "stim_branch", None):
        changes["lsr__stim_branch"] = args.stim_branch
    for key in ("sfreq", "picks", "units"):
        if getattr(args, key, None) is not None:
            changes[f"read__{key}"] = getattr(args, key)
    return config.replace(**changes) if changes else config


EXIT_CODES = """exit codes:
  0  every file analysed
  1  some files failed (listed in errors.csv and on stderr; the others are written)
  2  usage error: bad arguments, bad configuration file, no input file, an output folder
     that cannot be written or that another batch is writing (its lock file is held)
errors are printed as one line on stderr"""


def _load_config(path: str | None) -> AnalysisConfig:
    return AnalysisConfig() if path is None else AnalysisConfig.from_toml(path)


def _report(result: BatchResult, quiet: bool) -> int:
    errors = result["errors"]
    for row in errors.itertuples(index=False):
        print(f"error: {row.file}: {row.error_type}: {row.message}", file=sys.stderr)
    if not quiet:
        counts = {
            name: result[name].groupby("file").size() if len(result[name]) else pd.Series()
            for name in ("bursts", "synchronous")
        }
        rsum = result["recording_summary"]
        for row in rsum.itertuples(index=False):
            f = row.file
            print(
                f"{f}: {row.protocol}, {int(counts['bursts'].get(f, 0))} bursts, "
                f"{int(counts['synchronous'].get(f, 0))} synchronous events, "
                f"{int(row.n_stimuli)} stimuli"
            )
        s = result.stats
        print(
            f"{s['n_files']} file(s): {s['n_analysed']} analysed, {s['n_cached']} cached, "
            f"{s['n_failed']} failed"
        )
        if result.written:
            print(f"tables written to {result.written[0].parent}")
    return 1 if len(errors) else 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    config = _config(args)
    result = run_batch(list(args.files), config, out=args.out, workers=1, progress=not args.quiet)
    return _report(result, args.quiet)


def _cmd_batch(args: argparse.Namespace) -> int:
    config = _config(args)
    files = expand_inputs(args.inputs, out=args.out)  # never the batch's own outputs
    if not files:
        print(f"error: no recording matches {' '.join(args.inputs)}", file=sys.stderr)
        return 2
    result = run_batch(
        files,
        config,
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    return _report(result, args.quiet)


def _cmd_bids(args: argparse.Namespace) -> int:
    from .bids import run_bids

    result = run_bids(
        args.root,
        _config(args),
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    return _report(result, args.quiet)


def _cmd_config(args: argparse.Namespace) -> int:
    if args.check:
        cfg = AnalysisConfig.from_toml(args.check)
        if not args.quiet:
            print(f"{args.check}: valid, hash {cfg.hash()[:16]}")
        return 0
    print(default_toml(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``hfs-emg`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="hfs-emg",
        description="Electrophysiology of hemifacial spasm: read EMG / nerve-conduction "
        "recordings, detect spasms, measure the lateral spread response.",
        epilog="examples:\n"
        "  hfs-emg info session.edf\n"
        "  hfs-emg demo --out demo_output\n"
        "  hfs-emg config --default > analysis.toml\n"
        "  hfs-emg analyze a.edf b.bdf --config analysis.toml --out results/\n"
        "  hfs-emg batch 'recordings/*.edf' --out results/ --workers 2\n"
        "  hfs-emg report session.edf --out reports/\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hfs_emg {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    sub = parser.add_subparsers(dest="command", required=True)
    # --quiet is accepted after the sub-command too (``hfs-emg batch ... --quiet``)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only print errors"
    )
    raw = argparse.RawDescriptionHelpFormatter

    p_info = sub.add_parser("info", help="describe recordings: channels, muscles, rate, events")
    p_info.add_argument("files", nargs="+", help="recording files (any supported format)")
    p_info.set_defaults(func=_cmd_info)

    opts = analysis_options()
    p_demo = sub.add_parser(
        "demo", parents=[opts], help="analyse the bundled example data: tables, figures, reports"
    )
    p_demo.add_argument(
        "--data", default=None, help="folder of recordings (default: the bundled examples)"
    )
    p_demo.add_argument("--out", default="demo_output", help="output folder (default: %(default)s)")
    p_demo.set_defaults(func=_cmd_demo)

    p_rep = sub.add_parser(
        "report", parents=[opts], help="write one self-contained HTML report per recording"
    )
    p_rep.add_argument("files", nargs="+", help="recording files (any supported format)")
    p_rep.add_argument("--out", help="output folder (default: beside each input, FILE.html)")
    p_rep.set_defaults(func=_cmd_report)

    p_an = sub.add_parser(
        "analyze",
        parents=[common, opts],
        formatter_class=raw,
        help="analyse recordings: protocol, bursts, synchrony, summaries, evoked responses",
        description=textwrap.fill(
            "Analyse each FILE: its protocol (decided from the stimulus markers unless "
            "--protocol is given), spontaneous bursts, synchronous events and summaries per "
            "channel, side and recording, plus the evoked tables of the protocol (LSR and its "
            "trend and morphology, CMAP, F-waves, blink reflex, responses, facial MEPs, the Z-L "
            "response or the A-, B- and C-trains of a free-running EMG). Tables get a 'file' "
            "column and are written as Parquet and CSV into --out."
        ),
        epilog="examples:\n"
        "  hfs-emg analyze session.edf\n"
        "  hfs-emg analyze a.edf b.bdf --config analysis.toml --out results/\n\n"
        "The configuration is a TOML file; start from `hfs-emg config --default`.\n\n" + EXIT_CODES,
    )
    p_an.add_argument("files", nargs="+", help="recording files (any supported format)")
    p_an.add_argument("--out", metavar="DIR", help="write the tables (and a result cache) here")
    p_an.set_defaults(func=_cmd_analyze)

    p_batch = sub.add_parser(
        "batch",
        parents=[common, opts],
        formatter_class=raw,
        help="analyse a folder or glob of recordings in parallel (local processes or Dask)",
        description=textwrap.fill(
            "Analyse every recording of the folders / globs given, on --workers local "
            "processes or on a Dask cluster (--scheduler). A file that fails is listed in "
            "errors.csv and does not stop the batch. Results are cached in DIR/cache by input "
            "sha256 and configuration hash: re-running skips files already done."
        ),
        epilog="examples:\n"
        "  hfs-emg batch recordings/ --out results/\n"
        "  hfs-emg batch 'recordings/**/*.edf' --out results/ --workers 2 --config a.toml\n"
        "  hfs-emg batch recordings/ --out results/ --scheduler tcp://10.0.0.5:8786\n\n"
        + EXIT_CODES,
    )
    p_batch.add_argument("inputs", nargs="+", help="folders, glob patterns or files")
    p_batch.add_argument("--out", metavar="DIR", required=True, help="output folder")
    p_batch.add_argument(
        "--workers", type=int, default=None, metavar="N", help="local processes (default: 2)"
    )
    p_batch.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"
    )
    p_batch.set_defaults(func=_cmd_batch)

    p_bids = sub.add_parser(
        "bids",
        parents=[common, opts],
        formatter_class=raw,
        help="analyse an EMG-BIDS dataset, write BIDS derivatives",
        description=textwrap.fill(
            "Analyse every EMG recording (emg/*.edf, *.bdf) of a BIDS dataset, found with "
            "mne-bids, and write one TSV per table and recording into "
            "ROOT/derivatives/hfs_emg (or --out), named after the source with a desc-<table> "
            "entity, e.g. sub-01_task-rest_desc-bursts_emg.tsv."
        ),
        epilog="examples:\n"
        "  hfs-emg bids /data/hfs_bids --workers 2\n"
        "  hfs-emg bids /data/hfs_bids --config analysis.toml --out /results/hfs_emg\n\n"
        + EXIT_CODES,
    )
    p_bids.add_argument("root", help="BIDS dataset root (holds dataset_description.json)")
    p_bids.add_argument("--out", metavar="DIR", help="derivatives folder")
    p_bids.add_argument("--workers", type=int, default=None, metavar="N", help="local processes")
    p_bids.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    p_bids.set_defaults(func=_cmd_bids)

    p_mon = sub.add_parser(
        "monitor",
        parents=[common, opts],
        formatter_class=raw,
        help="live LSR monitor of an LSL stream (or a replayed file), with a live page",
        description=textwrap.fill(
            "Follow an LSR session live: pull the LSL stream NAME (or replay FILE as a real LSL "
            "stream), record it into DIR (recording.bdf, events.csv, lsr.csv/.parquet, "
            "trend.csv, bursts.csv, trains.csv, a_trains.csv, manifest.json), measure every "
            "sweep as offline measure_lsr does (stimuli from the trigger channel, or from the "
            "markers without one) and serve the live page on 127.0.0.1:PORT. A folder that "
            "holds a session is resumed. At the end (--duration, end of the replay or Ctrl-C) "
            "DIR/report.html of the whole session is written."
        ),
        epilog="examples:\n"
        "  hfs-emg monitor --replay example_data/lsr_session.edf --speed 5 --out session/\n"
        "  hfs-emg monitor --stream BrainAmpSeries --out /data/mvd_0412 --stim-branch zygomatic"
        "\n\n" + EXIT_CODES,
    )
    src = p_mon.add_mutually_exclusive_group(required=True)
    src.add_argument("--stream", metavar="NAME", help="LSL stream name (markers: NAME-markers)")
    src.add_argument("--replay", metavar="FILE", help="play FILE as a real LSL stream")
    p_mon.add_argument("--speed", type=float, default=1.0, help="replay speed (default 1)")
    p_mon.add_argument("--out", metavar="DIR", required=True, help="session folder")
    p_mon.add_argument(
        "--port", type=int, default=5006, help="page port (0: a free one; -1: no page)"
    )
    p_mon.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S s")
    p_mon.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p_mon.set_defaults(func=_cmd_monitor)

    p_cfg = sub.add_parser(
        "config",
        parents=[common],
        formatter_class=raw,
        help="print the default analysis configuration, or check one",
        description="Analysis configuration files (TOML).",
        epilog="examples:\n"
        "  hfs-emg config --default > analysis.toml\n"
        "  hfs-emg config --check analysis.toml",
    )
    group = p_cfg.add_mutually_exclusive_group(required=True)
    group.add_argument("--default", action="store_true", help="print the commented defaults")
    group.add_argument("--check", metavar="TOML", help="validate a configuration file")
    p_cfg.set_defaults(func=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hfs-emg`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO, format="%(message)s")
    try:
        return int(args.func(args))
    except (ParameterError, OutputError) as err:
        # bad configuration file, option or input pattern; unwritable or locked output folder
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except HfsEmgError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
