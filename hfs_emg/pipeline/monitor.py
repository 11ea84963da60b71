"""Live intraoperative LSR monitor: an LSL stream in, the offline numbers out, sweep by sweep.

:class:`LiveMonitor` pulls an EMG stream (:class:`hfs_emg.live.LslSource`, or a replay of a file
it starts itself with :class:`hfs_emg.live.ReplayStream`), records every sample into a
crash-safe BDF+ file (:class:`hfs_emg.io.bdf_stream.BdfStreamWriter`) and analyses **the values
the file stores**:

- stimuli are found on the trigger channel with the rule of :func:`hfs_emg.find_stim_events`
  (rising edges through half way between the channel's resting level and its peak; that code
  is called on the newest samples), debounced across chunks;
- a sweep is measured once its window (``tmax`` after the stimulus) has arrived and the marker
  stream has passed its time (markers may lag the data; at most ``marker_wait_s`` is waited),
  its labels ("stim zygomatic 12 mA") attached by the code of :func:`hfs_emg.find_stim_events`;
- the sweep's rows come from the part's :class:`hfs_emg.lsr_online.LsrStream`, the causal state
  that :func:`hfs_emg.measure_lsr` itself runs on (one implementation). Every decision depends
  on the sweep and earlier sweeps only (issue 11), so the rows equal the offline
  ``measure_lsr(read_recording(part))`` rows, which ``tests/test_monitor.py`` checks on replays
  through a real LSL stream; the cost per sweep and the memory do not grow with the session;
- the trend (:func:`hfs_emg.lsr_trend` of the whole table, with the session's phase markers)
  at once after a sweep that may change the status (a series within a few sweeps of a change
  of presence, the session's first sweeps, a new phase marker), else at most every
  ``trend_every_s`` (1 s); at close, always (the final trend is ``lsr_trend`` of every row).

What a sweep costs does not grow with the session: its rows are appended to an in-memory
store (:class:`hfs_emg.live.row_store.RowStore`, chunks of 64 sweeps), ``lsr.csv`` gets its new
lines, the events of a step go to ``events.csv`` in one write. Nor does the memory: the store
holds only the rows not yet in ``lsr.parquet``; every ``parquet_rows`` rows (2,048), on phase
buttons and at close they are appended to it as one row group (the file's row groups copied one
at a time, the file replaced atomically), and :attr:`LiveMonitor.lsr` reads the file's rows back
when the whole table is wanted (the final trend, the report). No step reads the whole table
while the session runs (the trend grows with the sweeps, above). The session's files are
written by a writer thread of their own (:class:`hfs_emg.pipeline._disk.DiskWriter`), in the
order the monitor hands the writes over and never more than 0.5 s behind it, so the analysis
thread does not wait for the disk and a ``kill -9`` loses at most the rows of the last half
second (``manifest.json``, written after a sweep's lines, never counts a stimulus whose lines
are not on disk).

Session folder (``out``): ``recording.bdf`` (then ``recording-002.bdf``... when a session is
resumed), ``manifest.json`` (parts, sampling rate, channels, stimuli so far), ``events.csv``
(stimuli, markers, phase buttons, notes, signal gaps; append-only, fsync-ed lines,
:class:`hfs_emg.live.EventLog`), ``lsr.csv`` (appended after every sweep, fsync-ed: after a
crash every measured row is there), ``lsr.parquet`` (appended by atomic replacement,
:mod:`hfs_emg._atomic`, every ``parquet_rows`` rows, on phase buttons and at close: a complete
file at any time; a resumed session reads it and the ``lsr.csv`` rows after it)
and ``trend.csv`` (replaced atomically when the trend is recomputed), ``bursts.csv``,
``trains.csv``, ``a_trains.csv`` (the free-running EMG block by block,
:mod:`hfs_emg.live.spontaneous`; appended) and, at the end, ``report.html`` of the whole
session (:meth:`LiveMonitor.write_report`).

Without a trigger channel the stimuli come from the marker stream: a marker whose label looks
like a stimulus (the rule of :func:`hfs_emg.find_stim_events`, ``source="events"``) starts a
sweep at its time stamp, as the offline analysis of the recorded annotations does.

Resume: a monitor started on a folder that has a ``manifest.json`` continues the session in a
new recording part; stimulus numbering and the trend continue (the LSR of a new part is
calibrated on that part's sweeps, exactly as the offline analysis of that part file).
A stream with another sampling rate or channel set than the session is refused
(:class:`hfs_emg.live.StreamChangedError`). A dropout is filled with zeros in the recording
(so that sample times stay true) and recorded as a ``signal lost`` annotation with its duration.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import queue
import threading
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._atomic import atomic_path
from .._errors import DataError, HfsEmgWarning, ParameterError
from .._frames import as_numpy, column_arrays
from ..anatomy import infer_branch, infer_side
from ..events import _STIM_LABEL_HINTS, _debounce, _intensity_ma, _rising_through
from ..io.bdf_stream import BdfStreamWriter
from ..live.event_log import EventLog
from ..live.row_store import RowStore, append_parquet
from ..live.source import LslSource, StreamChangedError
from ..live.spontaneous import TABLES as _BLOCK_TABLES
from ..live.spontaneous import BlockAnalyser
from ..lsr import lsr_trend
from ..lsr_online import LsrStream
from ..phases import PHASES, phase_markers, phase_onsets
from ..recording import from_array, make_events
from ..trend import LsrTrendState
from ._disk import DiskWriter

__all__ = ["PHASE_BUTTONS", "LiveMonitor"]

logger = logging.getLogger("hfs_emg")

#: Phase buttons of the live page: label written into the session -> phase it marks.
PHASE_BUTTONS: dict[str, str] = {
    "dura opening": "dura_opening",
    "decompression": "decompression",
    "dural closure": "dural_closure",
}

_PHASE_KINDS = ("marker", "phase", "note")


def _is_stim_label(label: str) -> bool:
    """A marker that announces a stimulus: the rule of :func:`hfs_emg.find_stim_events`
    (``source="events"``: the label contains "stim", "trig", "pulse", "shock" or "reflex")."""
    low = str(label).lower()
    return any(h in low for h in _STIM_LABEL_HINTS)


class _StimChannels(list[str]):
    """The stream's trigger channels. Without one, ``[0]`` names the marker stream the
    stimuli come from (the sweep measurement labels its events' source with it)."""

    def __init__(self, names: list[str], *, source: str) -> None:
        super().__init__(names)
        self.source = source

    def __getitem__(self, i: Any) -> Any:
        if not len(self) and i == 0:
            return self.source
        return super().__getitem__(i)


def _trigger_edges(x: np.ndarray, threshold: float, min_gap: int, name: str) -> np.ndarray:
    """Rising edges of a trigger segment through ``threshold``, debounced by ``min_gap``
    samples: the rule of :func:`hfs_emg.find_stim_events` (``source="trigger"`` with a given
    threshold; the same lines as its ``_from_trigger``) on the array itself, without building
    a Recording for every pulled chunk (that took ~5 ms a chunk, 20 chunks a second)."""
    return _debounce(_rising_through(x, threshold), min_gap, f"rising edges of {name!r}")


#: Columns :func:`hfs_emg.find_stim_events` reads from the marker text (in its order).
_DERIVED = ("side", "stim_branch", "intensity_ma")


def _label_values(label: str) -> tuple[Any, Any, Any]:
    """Side, stimulated branch and intensity (mA) written in a marker (None where absent)."""
    return infer_side(label), infer_branch(label), _intensity_ma(label)


def _sweep_events(
    onsets: list[float],
    first_index: int,
    source: str,
    markers: list[tuple[float, str]],
    sfreq: float,
    values: Any = _label_values,
) -> list[dict[str, Any]]:
    """The events (as dicts) of stimuli at ``onsets``, numbered from ``first_index``, with
    what the markers near each say (side, branch, intensity).

    The values of ``_attach_extra_columns(make_events(onsets) + stim_index + source,
    markers)`` row by row (the code of :func:`hfs_emg.find_stim_events`; ``tests/test_monitor.py``
    compares both on random markers), without building DataFrames for every sweep (that
    took ~5 ms a sweep): a column is there when a marker has a value for it; each stimulus
    takes the value of the nearest marker that has one within 1.5 samples (ties: the earlier,
    among equal times the last, as ``pandas.merge_asof(direction="nearest")``), else NaN.
    """
    events = [
        {"onset_s": float(o), "duration_s": 0.0, "label": "stim",
         "stim_index": int(first_index + i), "source": source}
        for i, o in enumerate(onsets)
    ]  # fmt: skip
    if not markers:
        return events
    order = sorted(range(len(markers)), key=lambda i: markers[i][0])  # stable, as sort_values
    t_all = np.array([markers[i][0] for i in order], dtype=float)
    vals = [values(str(markers[i][1])) for i in order]
    tol = 1.5 / sfreq
    for j, col in enumerate(_DERIVED):
        has = [k for k, v in enumerate(vals) if v[j] is not None and not pd.isna(v[j])]
        if not has:
            continue
        t = t_all[has]
        for ev in events:
            x = ev["onset_s"]
            b = int(np.searchsorted(t, x, side="right")) - 1  # the last at or before
            f = int(np.searchsorted(t, x, side="left"))  # the first at or after
            bd = x - t[b] if b >= 0 and x - t[b] <= tol else np.inf
            fd = t[f] - x if f < t.size and t[f] - x <= tol else np.inf
            k = None if not np.isfinite(min(bd, fd)) else (b if bd <= fd else f)
            v = np.nan if k is None else vals[has[k]][j]
            ev[col] = float(v) if col == "intensity_ma" else v
    return events


def _csv_lines(df: pd.DataFrame, columns: list[str]) -> str:
    """``df.reindex(columns=columns).to_csv(index=False, header=False)``, the same text, made
    without pandas' CSV machinery (about 1 ms for a sweep's rows; ``tests/test_monitor_feed.py``
    compares both): floats in their shortest repr, NaN and None empty, quoting as the ``csv``
    module's (pandas' own) QUOTE_MINIMAL. Columns of other dtypes go through pandas."""
    out = []
    n = len(df)
    arrays = column_arrays(df)  # as stored (a Series per column cost ~15 us, 30 a sweep)
    for c in columns:
        if c not in arrays:
            out.append([""] * n)
            continue
        col = arrays[c]
        kind = col.dtype.kind
        if kind == "f" and col.dtype.itemsize == 8 and isinstance(col, np.ndarray):
            txt = col.astype(str).astype(object)
            txt[np.isnan(col)] = ""
            out.append(txt.tolist())
        elif kind in "iub" and isinstance(col, np.ndarray):
            out.append([str(x) for x in col.tolist()])
        elif kind in "OU" or pd.api.types.is_string_dtype(col.dtype):
            out.append(["" if pd.isna(x) else str(x) for x in col.tolist()])
        else:  # anything else (categories, nullable integers...): pandas
            return df.reindex(columns=columns).to_csv(index=False, header=False)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(zip(*out, strict=True))
    return buf.getvalue()


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def _append_text(path: Path, text: str) -> None:
    """Append whole lines in one write, flushed and fsync-ed."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _append_csv(df: pd.DataFrame, path: Path) -> None:
    """Append whole lines in one fsync-ed write (header when the file is new); the file's
    columns are kept (a block without rows has fewer)."""
    if path.exists() and path.stat().st_size:
        with open(path, encoding="utf-8") as fh:
            cols = fh.readline().rstrip("\n").split(",")
        text = df.reindex(columns=cols).to_csv(index=False, header=False)
    else:
        if df.empty and len(df.columns) <= 5:
            return  # no rows and not the table's columns yet: the header waits for rows
        text = df.to_csv(index=False)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


#: Length of the in-memory logs (status changes, latencies, per-sweep times): an hour of sweeps
#: at 1 Hz, about 3 MB in all (20,000 entries took ~15 MB and kept growing for 5.5 hours).
_LOG_LEN = 3600

#: The components of a sweep's own work (:attr:`LiveMonitor.sweep_cpu`).
_SWEEP_PARTS = ("labels", "lsr", "lsr_wrap", "rows", "trend", "tables", "manifest")

#: Rows of each block table kept in memory (the files hold them all).
_KEEP_ROWS = 2000


#: The session's LSR rows: the newest in memory, the rest in ``lsr.parquet``
#: (:class:`hfs_emg.live.row_store.RowStore`; the old name kept for callers and tests).
_RowStore = RowStore


class _TrendGate:
    """Whether the trend must be recomputed at once after a sweep (else it waits for its
    period): while any series (montage x channel, and the montage's overall presence) is
    within a few sweeps of a change of presence, or the session is still in its baseline,
    a sweep can change the status (a loss is established ``consecutive_absent`` absent sweeps
    after the last response, a return after ``min_present_run`` present ones; a transient loss
    ends with a return). A long stable run (LSR steadily present or steadily absent) changes
    only the amplitude and reduction figures, which may wait for the next period."""

    def __init__(self, trend_options: dict[str, Any]) -> None:
        o = trend_options
        self.presence = str(o.get("presence", "auto"))
        self.horizon = max(int(o.get("consecutive_absent", 5)), int(o.get("min_present_run", 2)))
        self.horizon += 1
        self.n_early = int(o.get("baseline_n", 10)) + int(o.get("final_n", 20))
        self.runs: dict[tuple[str, str], list[Any]] = {}
        self.n_sweeps = 0

    def push(self, rows: pd.DataFrame) -> bool:
        """Update the runs with one sweep's rows; True when the status may have changed."""
        self.n_sweeps += 1
        col = self.presence
        arrays = column_arrays(rows)  # numpy on the columns: no filtered frames, no Series
        if col == "auto":
            col = "match_present" if "match_present" in arrays else "present"
        keep = np.ones(len(rows), bool)
        if "kind" in arrays:
            keep &= as_numpy(arrays["kind"], object) != "direct"
        if "rejected" in arrays:
            r = as_numpy(arrays["rejected"], object)
            keep &= ~np.where(pd.isna(r), False, r).astype(bool)
        if not keep.any():
            return self.n_sweeps <= self.n_early
        raw = as_numpy(arrays[col], object)[keep]
        pres = np.where(pd.isna(raw), False, raw).astype(bool)
        montage = str(as_numpy(arrays["montage"], object)[keep][0]) if "montage" in arrays else ""
        chans = as_numpy(arrays["channel"], object)[keep]
        series = [((montage, str(c)), bool(p)) for c, p in zip(chans, pres, strict=True)]
        series.append(((montage, "\0overall"), bool(pres.any())))
        near = self.n_sweeps <= self.n_early
        for key, p in series:
            run = self.runs.get(key)
            if run is None or run[0] != p:
                run = self.runs[key] = [p, 0]
            run[1] += 1
            near |= run[1] <= self.horizon
        return near


class LiveMonitor:
    """Follow an LSR session live from an LSL stream; write the session folder as it goes.

    Parameters
    ----------
    out : path-like
        Session folder (created; an existing session there is resumed).
    stream : str, optional
        Name of the LSL EMG stream (its markers: ``<stream>-markers``).
    replay : Recording or path-like, optional
        Instead of ``stream``: play this recording as a real LSL stream on this machine.
    source : object, optional
        Instead of ``stream``: a source with the interface of :class:`hfs_emg.live.LslSource`
        (``pull``, ``status``, ``sfreq``, ``ch_names``, ``ch_types``, ``units``, ``close``),
        e.g. :class:`hfs_emg.live.ArraySource` feeding a recording directly (benchmarks,
        tests); the monitor stops when its ``exhausted`` becomes true.
    speed : float
        Replay speed (``replay`` only).
    stim_branch : str, optional
        Stimulated branch of every stimulus (overrides the markers), as in
        :func:`hfs_emg.measure_lsr`.
    lsr_options : dict, optional
        Keyword arguments of :func:`hfs_emg.measure_lsr` (``tmin``, ``tmax``, ``window_ms``...).
    trend_options : dict, optional
        Keyword arguments of :func:`hfs_emg.lsr_trend`.
    marker_wait_s : float
        Longest wait (wall-clock seconds after a sweep's window has arrived) for the markers
        of that stimulus.
    marker_lag_s : float
        Stream without a trigger channel (stimuli from the marker stream): longest delay
        (wall-clock seconds) of a stimulus marker behind its samples; that much signal
        (times the replay speed) is held for the sweeps still to be announced. liblsl's
        first marker pull alone takes about 1 s (clock offset).
    timeout : float
        Seconds to wait for the stream.
    lost_after_s : float
        Seconds without samples after which the status is ``"signal lost"``.
    block_s : float
        Length of the blocks of free-running EMG analysed for spontaneous bursts, A/B/C
        trains and A-trains (``bursts.csv``, ``trains.csv``, ``a_trains.csv``; rules in
        :mod:`hfs_emg.live.spontaneous`); 0 = none.
    block_margin_s : float
        Margin on both sides of each block (a burst or train starting in a block is kept
        whole if it ends within the margin).
    config : AnalysisConfig, optional
        Its ``lsr`` and ``trend`` sections give the defaults of ``lsr_options``,
        ``trend_options`` and ``stim_branch``.
    trend_every_s : float
        Period of the trend's recomputation while the LSR is stable (longer when
        :func:`hfs_emg.lsr_trend` of the whole table takes more than a tenth of it): a sweep
        that may change the status (a series within a few sweeps of a change of presence, or
        the session's first ``baseline_n + final_n`` sweeps) recomputes it at once, phase
        markers too; the final trend (at close) is :func:`hfs_emg.lsr_trend` of the whole
        table.
    save_every_s : float
        Shortest period between two appends to ``lsr.parquet`` (``lsr.csv`` is appended
        after every sweep, the crash-safe record).
    parquet_rows : int
        Rows held in memory before they are appended to ``lsr.parquet`` as one row group
        (the file replaced atomically: a reader always sees a complete file), also appended
        on phase buttons and at close. The monitor holds at most about twice this many LSR
        rows (2,048 rows: ~4 minutes of sweeps at 1 Hz with 8 channels, ~0.5 MB); the whole
        table (:attr:`lsr`) is read back from the file when asked for.

    Examples
    --------
    >>> import tempfile
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=3, sfreq=5000.0, rate_hz=4.0).recording
    >>> rec = rec.rename_channels({"orbicularis_oculi_L": "OrbOculi_L",  # BDF labels: 16 chars
    ...                            "orbicularis_oris_L": "OrbOris_L"})
    >>> mon = LiveMonitor(tempfile.mkdtemp(), replay=rec, speed=4.0, stim_branch="zygomatic")
    >>> mon.run(timeout=20)
    >>> int(mon.lsr["stim_index"].nunique()), sorted(mon.lsr["kind"].unique())
    (3, ['direct', 'lsr'])
    """

    def __init__(
        self,
        out: str | os.PathLike[str],
        *,
        stream: str | None = None,
        replay: Any = None,
        source: Any = None,
        speed: float = 10.0,
        stim_branch: str | None = None,
        lsr_options: dict[str, Any] | None = None,
        trend_options: dict[str, Any] | None = None,
        marker_wait_s: float = 0.5,
        marker_lag_s: float = 3.0,
        timeout: float = 10.0,
        lost_after_s: float = 1.0,
        config: Any = None,
        block_s: float = 10.0,
        block_margin_s: float = 1.0,
        trend_every_s: float = 1.0,
        save_every_s: float = 2.0,
        parquet_rows: int = 2048,
    ) -> None:
        if config is not None:  # an AnalysisConfig: its lsr and trend sections
            import dataclasses

            skip = {"events", "source", "label", "phases", "stim_branch"}
            lsr_cfg = {f.name: getattr(config.lsr, f.name) for f in dataclasses.fields(config.lsr)}
            trend_cfg = {
                f.name: getattr(config.trend, f.name) for f in dataclasses.fields(config.trend)
            }
            stim_branch = stim_branch or lsr_cfg.get("stim_branch")
            lsr_options = {
                **{k: v for k, v in lsr_cfg.items() if k not in skip},
                **(lsr_options or {}),
            }
            trend_options = {
                **{k: v for k, v in trend_cfg.items() if k not in skip},
                **(trend_options or {}),
            }
        if sum(x is not None for x in (stream, replay, source)) != 1:
            raise ParameterError(
                "give exactly one of stream= (an LSL name), replay= (a file) or source= "
                "(an LslSource-like object)."
            )
        self._given_src = source
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.stim_branch = stim_branch
        self.lsr_options = dict(lsr_options or {})
        self.trend_options = dict(trend_options or {})
        self.marker_wait_s = float(marker_wait_s)
        self.marker_lag_s = float(marker_lag_s)
        self.block_s = float(block_s)
        self.block_margin_s = float(block_margin_s)
        self.trend_every_s = float(trend_every_s)
        self.save_every_s = float(save_every_s)
        self.parquet_rows = int(parquet_rows)
        self.timeout = float(timeout)
        self.lost_after_s = float(lost_after_s)
        self._replay = None
        if replay is not None:
            from ..live.replay import ReplayStream

            name = f"hfs_emg-monitor-{os.getpid()}-{id(self):x}"
            self._replay = ReplayStream(replay, name=name, speed=speed, source_id=name)
            stream = name
        self.stream = str(stream) if source is None else f"source {type(source).__name__}"
        self.lock = threading.RLock()
        self.status = "connecting"
        # logs for the page and the benchmarks, bounded (a session lasts hours)
        self.status_log: deque[tuple[float, str]] = deque(maxlen=_LOG_LEN)
        self.version = 0  # incremented after each change (the page polls it)
        self.latencies_s: deque[float] = deque(maxlen=_LOG_LEN)  # window end -> result
        self.analysis_s: deque[float] = deque(maxlen=_LOG_LEN)  # per-sweep analysis time
        # per-sweep wall time of all the work of a sweep (analysis, trend, every file)
        self.sweep_s: deque[float] = deque(maxlen=_LOG_LEN)
        # CPU time of the monitor thread by component (see step), and per sweep
        self.cpu_s: dict[str, float] = {}
        self._sweep_cpu: deque[tuple[float, ...]] = deque(maxlen=_LOG_LEN)
        self.trend_log: deque[tuple[int, float]] = deque(maxlen=_LOG_LEN)  # (stimuli, s)
        # (window end, result, monitor version) of every sweep, monotonic clock
        self.sweep_log: deque[tuple[float, float, int]] = deque(maxlen=_LOG_LEN)
        self._stop = threading.Event()
        self._actions: queue.Queue[tuple[str, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._src: LslSource | None = None
        self._writer: BdfStreamWriter | None = None
        self._t_end = float("nan")  # recording time of the end of the last part closed
        # the session's file writes, in order, on a thread of their own while running
        self._disk = DiskWriter()
        self._load_session()

    # ------------------------------------------------------------------ session state
    def _load_session(self) -> None:
        man = self.out / "manifest.json"
        self.manifest: dict[str, Any] = json.loads(man.read_text()) if man.exists() else {}
        self.n_stim = int(self.manifest.get("n_stimuli", 0))
        self._events_log = EventLog(self.out / "events.csv", keep_stim_below=self.n_stim)
        # markers (not stimuli), phase buttons and notes: the trend's phases
        self._phase_rows = [
            (r[0], r[3])
            for r in self._events_log.rows
            if r[2] in _PHASE_KINDS and not _is_stim_label(r[3])
        ]
        lsr, n_pq, pq_dtypes = self._read_lsr()
        self.trend = pd.DataFrame()
        # block tables: appended line by line; a torn last line (kill -9) is cut off
        self.spont_totals = {"n_bursts": 0, "n_trains": 0, "n_a_trains": 0, "a_trains_s": 0.0}
        for name in _BLOCK_TABLES:
            df = self._read_table(f"{name}.csv")
            self.spont_totals[f"n_{name}"] = len(df)
            if name == "a_trains" and len(df):
                self.spont_totals["a_trains_s"] = float(df["duration_s"].sum())
            setattr(self, name, df.tail(_KEEP_ROWS).reset_index(drop=True))
        # killed while saving: the tables may hold stimuli the manifest does not count yet
        if not lsr.empty:
            lsr = lsr[lsr["stim_index"] < self.n_stim].reset_index(drop=True)
        pq = self.out / "lsr.parquet"
        if n_pq > len(lsr):  # lsr.parquet holds rows the manifest does not count: cut off
            append_parquet(pq, lsr, keep=0, dtypes=None)
        # the rows in lsr.parquet stay there; the store holds the newer rows only
        self._rows = _RowStore(pq, lsr, on_disk=min(n_pq, len(lsr)), disk_dtypes=pq_dtypes)
        # the trend grown sweep by sweep (equal to lsr_trend of the table; the final trend
        # at close is lsr_trend of the table itself)
        self._trend_state = LsrTrendState(**self.trend_options)
        self._trend_state.push(lsr)
        self._trend_gate = _TrendGate(self.trend_options)
        self._onsets: tuple[Any, dict[str, float]] = (None, {})  # (phase rows, their onsets)
        self._trend_t = -np.inf  # monotonic time of the last trend computation
        self._trend_stale = False
        self._parquet_t = -np.inf  # ... of the last lsr.parquet append
        self._parquet_cost = 0.0  # seconds the last lsr.parquet append took
        self.first_stim_time_s = (
            float(lsr["stim_time_s"].min()) if len(lsr) else float("nan")
        )  # the time origin of the page's trend
        self.part = len(self.manifest.get("parts", []))  # index of the part being written
        # causal LSR state of the part being written (created at its first sweep): the same
        # computation as measure_lsr on the part file, one sweep at a time, bounded memory
        self._stream: LsrStream | None = None
        self._stream_part = -1
        self.lsr_s: deque[float] = deque(maxlen=_LOG_LEN)  # per sweep: LsrStream time
        self._pending: list[dict[str, Any]] = []
        self._early: list[tuple[float, str]] = []
        self._label_cache: dict[str, tuple[Any, Any, Any]] = {}  # marker text -> its values
        self._csv_rows: int | None = None  # rows of lsr.csv written by this monitor
        self._csv_cols: list[str] = []
        # per sweep: seconds from the arrival of its window to its measurement (its markers)
        self.marker_waits_s: deque[float] = deque(maxlen=_LOG_LEN)
        self._markers: list[tuple[float, str]] = []  # (onset_s, label) of this part
        self.sweeps: dict[str, dict[str, Any]] = {}  # montage -> baseline and newest sweeps
        if not lsr.empty:
            self._update_trend()

    @property
    def lsr(self) -> pd.DataFrame:
        """Every LSR row of the session so far (the columns of :func:`hfs_emg.measure_lsr`
        plus ``part``): the rows already in ``lsr.parquet`` read back from it, joined with the
        newer rows held in memory (at most about ``2 * parquet_rows``). O(table): the page
        takes its new rows with :meth:`lsr_since`; cached until the next sweep only while no
        row is in ``lsr.parquet`` yet."""
        return self._rows.frame()

    @property
    def sweep_cpu(self) -> pd.DataFrame:
        """CPU time (s, the monitor thread) of each of the newest sweeps by component
        (``labels``, ``lsr``, ``lsr_wrap``, ``rows``, ``trend``, ``tables``, ``manifest``;
        see :meth:`step`)."""
        return pd.DataFrame(list(self._sweep_cpu), columns=list(_SWEEP_PARTS))

    @property
    def n_lsr_rows(self) -> int:
        """Rows of :attr:`lsr` (without joining the table)."""
        return self._rows.n_rows

    def lsr_since(self, n: int) -> pd.DataFrame:
        """The LSR rows after the first ``n`` (what a page has not drawn yet; O(new rows)).

        Parameters
        ----------
        n : int
            Rows already taken.

        Returns
        -------
        pandas.DataFrame
            Rows ``n`` onwards of :attr:`lsr`, without joining the whole table while they are
            held in memory (the newest rows); older rows are read from ``lsr.parquet``.
        """
        return self._rows.since(n)

    @property
    def last_rows(self) -> pd.DataFrame | None:
        """The newest sweep's LSR rows."""
        return self._rows.last

    def _read_lsr(self) -> tuple[pd.DataFrame, int, pd.Series]:
        """The LSR table of a resumed session: ``lsr.parquet`` (appended every
        ``parquet_rows`` rows, on phase buttons and at close) and the rows of the append-only
        ``lsr.csv`` that came after it; how many rows came from ``lsr.parquet`` and their
        dtypes."""
        pq, csv = self.out / "lsr.parquet", self.out / "lsr.csv"
        lsr = pd.read_parquet(pq) if pq.exists() else pd.DataFrame()
        n_pq, pq_dtypes = len(lsr), lsr.dtypes
        if csv.exists():
            more = self._read_table("lsr.csv")
            if len(more):
                if len(lsr):
                    more = more[more["stim_index"] > lsr["stim_index"].max()]
                if len(more):
                    more = more.reindex(columns=lsr.columns) if len(lsr) else more
                    lsr = more if lsr.empty else pd.concat([lsr, more], ignore_index=True)
        return lsr, n_pq, pq_dtypes

    @property
    def events(self) -> pd.DataFrame:
        """Every event of the session so far (as ``events.csv``): ``onset_s``, ``duration_s``,
        ``kind`` (stimulus, marker, phase, note, gap), ``label``, ``stim_index``, ``part``."""
        return self._events_log.frame()

    def _read_table(self, name: str) -> pd.DataFrame:
        path = self.out / name
        if not path.exists():
            return pd.DataFrame()
        raw = path.read_bytes()
        cut = raw.rfind(b"\n") + 1
        if cut < len(raw):  # a line torn by kill -9: cut off before appending again
            os.truncate(path, cut)
        return pd.read_csv(io.BytesIO(raw[:cut])) if cut > 1 else pd.DataFrame()

    def _part_name(self, k: int) -> str:
        return "recording.bdf" if k == 0 else f"recording-{k + 1:03d}.bdf"

    def _save_manifest(self) -> None:
        text, path = json.dumps(self.manifest, indent=1), self.out / "manifest.json"

        def write() -> None:
            with atomic_path(path) as tmp:
                tmp.write_text(text)

        self._disk.submit(write, key="manifest")  # after this sweep's lines (in order)

    def _add_event(self, onset: float, kind: str, label: str, *, duration: float = 0.0,
                   stim_index: int | None = None, annotate: bool = True) -> None:  # fmt: skip
        with self.lock:
            if annotate and self._writer is not None:
                self._writer.annotate(onset, label, duration_s=duration)
            row = (onset, duration, kind, label, stim_index, self._part_name(self.part))
            self._disk.submit(lambda: self._events_log.append(row))
            if kind in _PHASE_KINDS and not _is_stim_label(label):
                self._phase_rows = [*self._phase_rows, (onset, label)]  # replaced: page reads it
            self.version += 1

    def _add_events(self, rows: list[tuple[float, str, str, int | None]]) -> None:
        """Several events (onset, kind, label, stim_index) of one step: annotated in the
        recording when they are markers, logged in one fsync-ed write."""
        if not rows:
            return
        with self.lock:
            part = self._part_name(self.part)
            for onset, kind, label, _ in rows:
                if kind != "stimulus" and self._writer is not None:
                    self._writer.annotate(onset, label, duration_s=0.0)
            lines = [(o, 0.0, k, lab, si, part) for o, k, lab, si in rows]
            self._disk.submit(lambda: self._events_log.extend(lines))
            new = [(o, lab) for o, k, lab, _ in rows
                   if k in _PHASE_KINDS and not _is_stim_label(lab)]  # fmt: skip
            if new:
                self._phase_rows = [*self._phase_rows, *new]  # replaced: the page reads it
                self._trend_stale = True
                self._trend_t = -np.inf  # a phase marker may change the loss phase: at once
            self.version += 1

    # ------------------------------------------------------------------ public actions
    def now_s(self) -> float:
        """Recording time (s, the stream's clock) of the newest sample received."""
        if self._writer is None:  # closed: the end of the last part (NaN before any sample)
            return self._t_end
        return self._tstart + self._writer.n_samples / self.sfreq

    def add_phase(self, label: str) -> None:
        """Record a surgical-phase marker (e.g. ``"decompression"``) at the newest sample.

        Thread-safe (the page's buttons call it): the marker is written by the monitor's loop
        at its next step, or at once when the monitor is not running.
        """
        if label not in PHASE_BUTTONS and not len(
            phase_markers(pd.DataFrame({"onset_s": [0.0], "label": [label]}))
        ):
            raise ParameterError(f"{label!r} names no surgical phase ({', '.join(PHASES)}).")
        self._actions.put(("phase", label))
        if self._thread is None or not self._thread.is_alive():
            self._do_actions()

    def add_note(self, text: str) -> None:
        """Record a free-text note at the newest sample (thread-safe, as :meth:`add_phase`)."""
        self._actions.put(("note", f"note: {text}"))
        if self._thread is None or not self._thread.is_alive():
            self._do_actions()

    def _do_actions(self) -> None:
        if not np.isfinite(self.now_s()):  # no sample yet: logged with the first one
            return
        while not self._actions.empty():
            kind, label = self._actions.get()
            self._add_event(self.now_s(), kind, label)
            if kind == "phase":
                self._update_trend()
                self._save_tables(force=True)

    # ------------------------------------------------------------------ stream -> file
    def _open(self) -> None:
        if self._replay is not None and self._replay._thread is None:
            self._replay.start()
        if self._given_src is not None:
            self._src = self._given_src
        else:
            self._src = LslSource(self.stream, timeout=self.timeout, lost_after_s=self.lost_after_s)
        src = self._src
        self.sfreq = float(src.sfreq)
        self.ch_names = list(src.ch_names)
        man = self.manifest
        if man and (man["sfreq"] != self.sfreq or man["ch_names"] != self.ch_names):
            raise StreamChangedError(
                f"{self.out}: the session was recorded at {man['sfreq']:g} Hz with "
                f"{man['ch_names']}; stream {self.stream!r} has {self.sfreq:g} Hz "
                f"{self.ch_names}. Start a new session folder for a new montage."
            )
        stim = [n for n, t in zip(self.ch_names, src.ch_types, strict=True) if t == "stim"]
        # without a trigger channel the stimuli come from the marker stream (see _stim_marker)
        self._stim_source = f"trigger:{stim[0]}" if stim else "events:stim-like labels"
        self._stim = _StimChannels(stim, source=f"markers of {self.stream}")
        if not stim and src._markers is None:
            warnings.warn(
                f"LSL stream {self.stream!r} has no trigger channel (LSL channel type 'STIM') "
                "and no marker stream: it is recorded, but no stimulus is found and no LSR "
                "measured.",
                HfsEmgWarning,
                stacklevel=2,
            )
        elif not stim:
            logger.info("monitor: no trigger channel; stimuli from the marker stream")
        self.status = "streaming"
        self._disk.start()

    def _start_part(self, t0: float) -> None:
        self._tstart = round(float(t0), 6)  # the BDF header key holds it in 80 characters
        name = self._part_name(self.part)
        units = ["uV" if (u in (None, "microvolts", "uV")) else u for u in self._src.units]
        units = [
            "code" if n in self._stim else u for n, u in zip(self.ch_names, units, strict=True)
        ]
        self._writer = BdfStreamWriter(
            self.out / name, self.ch_names, self.sfreq, units=units, stim=self._stim,
            tstart=self._tstart,
        )  # fmt: skip
        self.manifest.setdefault("parts", []).append({"file": name, "tstart": self._tstart})
        self.manifest.update(sfreq=self.sfreq, ch_names=self.ch_names, n_stimuli=self.n_stim)
        self._save_manifest()
        # the newest samples: columns [_r0, _r1) of _ring (appended in place, dropped by
        # moving _r0; compacted when the end is reached: amortised O(new samples))
        self._ring = np.zeros((len(self.ch_names), 1 << 14))
        self._r0 = self._r1 = 0
        self._gaps: list[tuple[float, float]] = []  # signal gaps of this part
        emg = [n for n in self.ch_names if n not in self._stim]
        self._blocks = (
            BlockAnalyser(
                self.ch_names, self.sfreq, self._tstart, emg=emg, block_s=self.block_s,
                margin_s=self.block_margin_s, stim_onsets=lambda: self._edges,
                gaps=lambda: self._gaps,
            )
            if self.block_s > 0 and emg
            else None
        )  # fmt: skip
        self._edges: list[float] = []  # stimulus times of this part
        self._buf0 = 0  # sample index of _buf[:, 0]
        self._trig_lo = None
        self._trig_hi = -np.inf
        self._last_edge = -(1 << 60)
        self._last_cand = -(1 << 60)  # previous stimulus marker (marker-driven stimuli)

    def _cpu(self, name: str, c0: float) -> float:
        """Add the monitor thread's CPU time since ``c0`` to component ``name``; return now."""
        c1 = time.thread_time()
        self.cpu_s[name] = self.cpu_s.get(name, 0.0) + (c1 - c0)
        return c1

    def step(self, timeout: float = 0.02) -> int:
        """Pull what arrived, record it, measure the sweeps that are complete; return how many.

        The monitor thread's CPU time goes to :attr:`cpu_s` by component: ``pull`` (the
        source), ``record`` (the BDF file), ``trigger`` (sample buffer, stimulus detection),
        ``spontaneous`` (block analysis), ``markers``, the sweep's ``labels``, ``lsr``
        (:meth:`hfs_emg.lsr_online.LsrStream.push_window` alone), ``lsr_wrap`` (the window
        cut and the ``part`` column around it), ``rows``, ``trend``, ``tables``
        (``lsr.csv``, ``lsr.parquet``), ``manifest``, and ``tick`` (the periodic trend and
        parquet refresh between sweeps); :attr:`sweep_cpu` holds each sweep's share of the
        sweep components.
        """
        c0 = time.thread_time()
        chunk = self._src.pull(timeout=timeout)
        c0 = self._cpu("pull", c0)
        self._do_actions()
        # the loop's thread owns the writer; the page only reads replaced objects
        lost = self._src.status == "signal lost"
        if lost != (self.status == "signal lost"):
            self.status = self._src.status
            self.status_log.append((time.monotonic(), self.status))
            self.version += 1
        if chunk.data.shape[1] == 0 and not chunk.markers:
            n = self._finalise()
            if not n:
                self._tick()
            return n
        if self._writer is None:
            if chunk.data.shape[1] == 0:  # markers before the first sample: keep them
                self._early += chunk.markers
                return 0
            self._start_part(float(chunk.stamps[0]))
        x = chunk.data
        if chunk.gaps:
            x = self._fill_gaps(chunk)
        t_recv = time.monotonic()
        c0 = time.thread_time()
        stored = None
        if x.shape[1]:
            stored = self._writer.write(x)
            c0 = self._cpu("record", c0)
            self._append(stored, t_recv)
            c0 = self._cpu("trigger", c0)
        early, self._early = self._early, []
        logged = []
        for stamp, label in early + chunk.markers:
            k = round((stamp - self._tstart) * self.sfreq)
            onset = self._tstart + k / self.sfreq
            self._markers.append((onset, label))
            logged.append((onset, "marker", label, None))
            if not self._stim and _is_stim_label(label):
                self._stim_marker(k)
        self._add_events(logged)  # one fsync-ed write for the markers of this pull
        self._mark_ready(time.monotonic())
        self._cpu("markers", c0)
        n = self._finalise()
        if stored is not None:  # after the sweeps: a block's analysis never delays one
            c0 = time.thread_time()
            self._spontaneous(stored)
            self._cpu("spontaneous", c0)
        if not n:
            self._tick()
        return n

    def _fill_gaps(self, chunk: Any) -> np.ndarray:
        """Samples of ``chunk`` with each gap filled by zeros; the gap annotated."""
        parts, at = [], 0
        for onset, dur in chunk.gaps:
            n_fill = round(dur * self.sfreq)
            i = int(np.searchsorted(chunk.stamps, onset + dur - 0.5 / self.sfreq))
            parts += [chunk.data[:, at:i], np.zeros((chunk.data.shape[0], n_fill))]
            at = i
            t_gap = self.now_s() + (sum(p.shape[1] for p in parts) - n_fill) / self.sfreq
            self._add_event(t_gap, "gap", "signal lost", duration=n_fill / self.sfreq)
            self._gaps.append((t_gap, n_fill / self.sfreq))
        parts.append(chunk.data[:, at:])
        return np.concatenate(parts, axis=1)

    def _append(self, stored: np.ndarray, t_recv: float) -> None:
        """Keep the newest stored samples and find the stimuli among them."""
        keep = round((0.5 + abs(self._tmin()) + self._tmax()) * self.sfreq)
        n_old = self._r1 - self._r0
        self._buf_append(stored)
        end = self._buf0 + self._buf.shape[1]
        if self._stim:
            c = self.ch_names.index(self._stim[0])
            new = self._buf[c, max(0, n_old - 1) :]
            if self._trig_lo is None:
                self._trig_lo = float(np.median(new))
            self._trig_hi = max(self._trig_hi, float(new.max()))
            if self._trig_hi > self._trig_lo:
                thr = self._trig_lo + 0.5 * (self._trig_hi - self._trig_lo)
                min_gap = self.lsr_options.get("min_interval_s", 0.02)
                edges = _trigger_edges(new, thr, max(1, round(min_gap * self.sfreq)),
                                       self._stim[0])  # fmt: skip
                first = self._buf0 + max(0, n_old - 1)
                for e in edges:
                    if n_old and e == 0:  # the overlap sample: not a new edge
                        continue
                    s = first + int(e)
                    if s - self._last_edge >= round(min_gap * self.sfreq):
                        self._last_edge = s
                        self._pending.append({"sample": s, "t_ready": None})
                        self._edges.append(self._tstart + s / self.sfreq)
        self._mark_ready(t_recv)
        if not self._stim:  # stimulus markers may arrive after their samples
            keep += round(self.marker_lag_s * self._speed() * self.sfreq)
        # keep what the pending sweeps still need
        need = min([p["sample"] for p in self._pending], default=end) + round(
            self._tmin() * self.sfreq
        )
        drop = max(0, min(need - 2, end - keep) - self._buf0)
        if drop > 0:
            self._r0 += drop
            self._buf0 += drop

    @property
    def _buf(self) -> np.ndarray:
        """The samples kept (a view; column 0 is sample ``_buf0`` of the part)."""
        return self._ring[:, self._r0 : self._r1]

    def _buf_append(self, x: np.ndarray) -> None:
        n = x.shape[1]
        if self._r1 + n > self._ring.shape[1]:
            live = self._r1 - self._r0
            cap = max(2 * (live + n), 1 << 14)
            ring = np.empty((self._ring.shape[0], cap))
            ring[:, :live] = self._ring[:, self._r0 : self._r1]
            self._ring, self._r0, self._r1 = ring, 0, live
        self._ring[:, self._r1 : self._r1 + n] = x
        self._r1 += n

    def _mark_ready(self, t_recv: float) -> None:
        """Stamp the pending sweeps whose window has arrived (wall clock of its arrival)."""
        end = self._buf0 + self._buf.shape[1]
        n_after = round(self._tmax() * self.sfreq)
        for p in self._pending:
            if p["t_ready"] is None and end > p["sample"] + n_after:
                p["t_ready"] = t_recv
                lag = (end - (p["sample"] + n_after)) / self.sfreq
                p["t_window_end"] = t_recv - lag / self._speed()

    def _stim_marker(self, k: int) -> None:
        """A stimulus announced by a marker at sample ``k`` (stream without a trigger channel).

        The offline rule of :func:`hfs_emg.find_stim_events` (``source="events"``): labels
        with a stimulus word, in time order, an onset closer than ``min_interval_s`` to the
        previous one dropped (debounce against the previous candidate, as ``_debounce``).
        """
        min_gap = max(1, round(float(self.lsr_options.get("min_interval_s", 0.02)) * self.sfreq))
        prev, self._last_cand = self._last_cand, k
        if k - prev < min_gap:
            return
        first_needed = k + round(self._tmin() * self.sfreq) - 2
        if first_needed < self._buf0:
            warnings.warn(
                f"{self.out}: the stimulus marker at {self._tstart + k / self.sfreq:.3f} s "
                "arrived after the samples of its window were dropped; that sweep is not "
                "measured online (the offline analysis of the recording will measure it).",
                HfsEmgWarning,
                stacklevel=2,
            )
            return
        self._pending.append({"sample": k, "t_ready": None})
        self._pending.sort(key=lambda p: p["sample"])
        self._edges.append(self._tstart + k / self.sfreq)

    def _spontaneous(self, stored: np.ndarray | None) -> None:
        """Spontaneous bursts, trains and A-trains of every completed block (``None``: the
        part is closed, its last blocks). The rules: :mod:`hfs_emg.live.spontaneous`; the
        rows equal :func:`~hfs_emg.live.spontaneous.spontaneous_blocks` on the part file."""
        blk = self._blocks
        if blk is None:
            return
        done = blk.finish() if stored is None else blk.feed(stored)
        # stimuli before the next block's window exclude nothing any more (bounded memory)
        t_keep = blk.tstart + (blk._next - blk._nm) / self.sfreq - 1.0
        self._edges = [t for t in self._edges if t >= t_keep]
        if not done:
            return
        part = self._part_name(self.part)
        for name in _BLOCK_TABLES:
            new = pd.concat([d[name] for d in done], ignore_index=True).assign(part=part)
            _append_csv(new, self.out / f"{name}.csv")
            old = getattr(self, name)
            both = new if old.empty else pd.concat([old, new], ignore_index=True)
            setattr(self, name, both.tail(_KEEP_ROWS).reset_index(drop=True))
            self.spont_totals[f"n_{name}"] += len(new)
            if name == "a_trains" and len(new):
                self.spont_totals["a_trains_s"] += float(new["duration_s"].sum())
        self.version += 1

    def _speed(self) -> float:
        return self._replay.speed if self._replay is not None else 1.0

    def _tmin(self) -> float:
        return float(self.lsr_options.get("tmin", -0.05))

    def _tmax(self) -> float:
        return float(self.lsr_options.get("tmax", 0.05))

    # ------------------------------------------------------------------ sweeps
    def _finalise(self, *, force: bool = False) -> int:
        """Measure every sweep whose window and markers have arrived (the part's LsrStream)."""
        last_marker = self._markers[-1][0] if self._markers else -np.inf
        m_times = np.array([m[0] for m in self._markers[-50:]])
        tol = 1.5 / self.sfreq
        ready = []
        for p in self._pending:
            if p["t_ready"] is None:
                break
            t_stim = self._tstart + p["sample"] / self.sfreq
            # the wait counts from when the marker stream is pulled (its clock estimated)
            live = getattr(self._src, "markers_live_since", 0.0)
            waited = -np.inf if live is None else time.monotonic() - max(p["t_ready"], live)
            # the markers of this stimulus are in once one at (or after) its time has arrived
            marked = last_marker > t_stim + tol or bool((np.abs(m_times - t_stim) <= tol).any())
            if not (force or marked or waited >= self.marker_wait_s or self._src._markers is None):
                break
            p["waited"] = time.monotonic() - p["t_ready"]  # for the latency benchmark
            ready.append(p)
        if ready:
            del self._pending[: len(ready)]
            # the markers older than these stimuli label no sweep any more (bounded memory)
            t_first = self._tstart + ready[0]["sample"] / self.sfreq - 1.0
            n_old = int(np.searchsorted([m[0] for m in self._markers], t_first))
            if n_old > 50:
                del self._markers[: n_old - 50]
            # batches of bounded size (a lagging monitor can have hundreds of sweeps ready);
            # the rows are causal, so the batch size changes none
            cap = 3 * int(self.lsr_options.get("calibration_n", 200)) + 20
            for i in range(0, len(ready), cap):
                self._measure(ready[i : i + cap])
        return len(ready)

    def _window(self, s: int) -> np.ndarray:
        a = s + round(self._tmin() * self.sfreq) - 2 - self._buf0
        b = s + round(self._tmax() * self.sfreq) + 3 - self._buf0
        return self._buf[:, a:b].copy()

    def _measure(self, ready: list[dict[str, Any]]) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        cpu0 = dict(self.cpu_s)
        onsets = [self._tstart + p["sample"] / self.sfreq for p in ready]
        new, logged = [], []
        events = _sweep_events(onsets, self.n_stim, f"trigger:{self._stim[0]}", self._markers,
                               self.sfreq, self._label_values)  # fmt: skip
        for p, onset, event in zip(ready, onsets, events, strict=True):
            new.append((self._window(p["sample"]), event))
            logged.append((onset, "stimulus", "stim", self.n_stim))
            self.n_stim += 1
            self.marker_waits_s.append(float(p.get("waited", 0.0)))
        self._add_events(logged)  # one fsync-ed write for the batch
        t1 = time.perf_counter()
        c0 = self._cpu("labels", c0)
        lsr0 = self.cpu_s.get("lsr", 0.0)
        per_sweep = self._measure_history(new)
        t2 = time.perf_counter()
        c1 = time.thread_time()  # around LsrStream: the window cut, the part column
        self.cpu_s["lsr_wrap"] = self.cpu_s.get("lsr_wrap", 0.0) + (
            c1 - c0 - (self.cpu_s["lsr"] - lsr0)
        )
        c0 = c1
        self.analysis_s.append((t2 - t0) / len(ready))
        self.lsr_s.append((t2 - t1) / len(ready))  # the LSR measurement alone
        if not np.isfinite(self.first_stim_time_s):
            self.first_stim_time_s = float(per_sweep[0]["stim_time_s"].min())
        at_once = False
        for (window, _), sweep_rows in zip(new, per_sweep, strict=True):
            self._rows.append(sweep_rows)  # O(1): joined only when the table is read
            self._trend_state.push(sweep_rows)
            self._keep_sweep(sweep_rows, window)
            at_once |= self._trend_gate.push(sweep_rows)
        self.version += 1  # the page may draw the rows now
        now = time.monotonic()
        self.latencies_s += [now - p["t_window_end"] for p in ready if "t_window_end" in p]
        self.sweep_log += [(p.get("t_window_end", np.nan), now, self.version) for p in ready]
        self._trend_stale = True
        c0 = self._cpu("rows", c0)
        if at_once or now - self._trend_t >= self._trend_every():
            self._update_trend()  # the banner's status within this sweep
            self.version += 1
        c0 = self._cpu("trend", c0)
        self._save_tables(new_rows=per_sweep)
        c0 = self._cpu("tables", c0)
        # the manifest last: on resume, its count says which stimuli are complete everywhere
        self.manifest["n_stimuli"] = self.n_stim
        self._save_manifest()
        self._cpu("manifest", c0)
        self.sweep_s.append((time.perf_counter() - t0) / len(ready))
        share = {k: (v - cpu0.get(k, 0.0)) / len(ready) for k, v in self.cpu_s.items()}
        self._sweep_cpu.append(tuple(share.get(k, 0.0) for k in _SWEEP_PARTS))

    def _label_values(self, label: str) -> tuple[Any, Any, Any]:
        """:func:`_label_values`, cached (a session repeats a few marker texts)."""
        v = self._label_cache.get(label)
        if v is None:
            if len(self._label_cache) > 4096:  # bounded (free-text markers)
                self._label_cache.clear()
            v = self._label_cache[label] = _label_values(label)
        return v

    def _lsr_stream(self, window: np.ndarray) -> LsrStream:
        """The causal LSR state of the part being written (made at the part's first sweep)."""
        if self._stream is None or self._stream_part != self.part:
            rec = from_array(
                window, self.sfreq, self.ch_names,
                ch_types=["stim" if n in self._stim else "emg" for n in self.ch_names],
                units=["" if n in self._stim else "uV" for n in self.ch_names],
            )  # fmt: skip
            opts = {k: v for k, v in self.lsr_options.items() if k != "min_interval_s"}
            self._stream = LsrStream.for_recording(rec, stim_branch=self.stim_branch, **opts)
            self._stream_part = self.part
            self._emg_rows = rec._pick_indices("emg")
        return self._stream

    def _measure_history(self, new: list[tuple[np.ndarray, dict[str, Any]]]) -> list[pd.DataFrame]:
        """Rows of each new sweep (window, event) from the part's :class:`LsrStream`.

        The stream holds what later sweeps depend on (running noise level, calibration,
        artefact-residual null, clipping extremes, template detections), so each sweep costs
        the same whatever the length of the session, and its rows are those of
        ``measure_lsr(read_recording(part))`` (every decision is causal).
        """
        out = []
        for window, event in new:
            stream = self._lsr_stream(window)
            samples = window[self._emg_rows, 2 : 2 + stream.times.size]  # tmin..tmax
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                c0 = time.thread_time()
                rows = stream.push_window(
                    samples, event, extra_columns={"part": self._part_name(self.part)}
                )  # the part column built with the table
                self._cpu("lsr", c0)  # LsrStream alone (hfs_emg.lsr_online)
            out.append(rows)
        return out

    def _keep_sweep(self, rows: pd.DataFrame, w: np.ndarray) -> None:
        """Baseline and newest sweeps per montage, for the page."""
        times = (np.arange(w.shape[1]) - 2) / self.sfreq + self._tmin()
        montage = str(rows["montage"].iloc[0])
        entry = self.sweeps.setdefault(montage, {"baseline": w, "newest": [], "times": times})
        entry["newest"] = [*entry["newest"], w][-20:]

    def phases(self) -> pd.DataFrame:
        """Markers (other than stimuli), phase buttons and notes of the session
        (``onset_s``, ``label``)."""
        return pd.DataFrame(self._phase_rows, columns=["onset_s", "label"]).astype(
            {"onset_s": float, "label": object}
        )

    def _update_trend(self, *, final: bool = False) -> None:
        """The trend of the whole table with the session's phases, written to ``trend.csv``
        (atomically): from the state grown sweep by sweep (:class:`hfs_emg.trend.LsrTrendState`,
        equal to :func:`hfs_emg.lsr_trend` of the table), or ``lsr_trend`` of the table itself
        when ``final`` (at close) or when the state cannot follow the table."""
        if self._rows.n_rows == 0:
            return
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if self._trend_state.exact and not final:
                    if self._onsets[0] is not self._phase_rows:  # replaced when one is added
                        self._onsets = (self._phase_rows, phase_onsets(self.phases()))
                    self.trend = self._trend_state.trend(phases=self._onsets[1])
                else:
                    self.trend = lsr_trend(self.lsr, phases=self.phases(), **self.trend_options)
            except ParameterError:  # every row so far rejected: no trend yet
                self.trend = pd.DataFrame()
        self.trend_log.append((self.n_stim, time.perf_counter() - t0))
        self._trend_t = time.monotonic()
        self._trend_stale = False
        trend, path = self.trend, self.out / "trend.csv"  # replaced, never changed in place
        self._disk.submit(lambda: _write_csv(trend, path), key="trend")

    def _tick(self) -> None:
        """A step without a sweep: bring a stale trend and ``lsr.parquet`` up to date once
        their period has passed."""
        c0 = time.thread_time()
        try:
            self._tick_work()
        finally:
            self._cpu("tick", c0)

    def _tick_work(self) -> None:
        now = time.monotonic()
        if self._trend_stale and now - self._trend_t >= self._trend_every():
            self._update_trend()
            self.version += 1
        if self._rows.n_held >= self.parquet_rows and now - self._parquet_t >= self._pq_every():
            self._save_tables()

    def _trend_every(self) -> float:
        # while the LSR is stable: every trend_every_s, or less often when lsr_trend of the
        # whole table takes more than a tenth of that (hours of sweeps)
        cost = self.trend_log[-1][1] if self.trend_log else 0.0
        return max(self.trend_every_s, 10.0 * cost)

    def _pq_every(self) -> float:
        # the append (a copy of the file's row groups) takes at most ~5 % of the time
        return max(self.save_every_s, 20.0 * self._parquet_cost)

    def _save_tables(
        self, *, new_rows: list[pd.DataFrame] | None = None, force: bool = False
    ) -> None:
        """``lsr.csv``: the new rows appended (one fsync-ed write of whole lines: after a crash
        every measured row is on disk); ``lsr.parquet``: the rows held in memory appended as
        one row group (the file replaced atomically, :func:`hfs_emg.live.row_store.append_parquet`)
        when ``force`` (close, phase buttons) or once :attr:`parquet_rows` rows are held (at
        most every :attr:`save_every_s`). The writes run on the writer thread
        (:class:`~hfs_emg.pipeline._disk.DiskWriter`), in order; the text and the rows written
        are made here (snapshots)."""
        if self._rows.n_rows == 0:
            return
        path = self.out / "lsr.csv"
        done = self._csv_rows
        rows = new_rows or []
        cols = list(rows[0].columns) if rows else self._csv_cols
        if done is None or cols != self._csv_cols:
            lsr = self.lsr
            # whole, atomically (first save, or after a resume)
            self._disk.submit(lambda: _write_csv(lsr, path))
            self._csv_cols = list(lsr.columns)
        elif rows:
            # then appended: one write of whole lines, fsync-ed (the table grows over hours)
            text = "".join(_csv_lines(r, self._csv_cols) for r in rows)
            self._disk.submit(lambda: _append_text(path, text))
        self._csv_rows = self._rows.n_rows
        now = time.monotonic()
        held = self._rows.n_held
        due = held >= self.parquet_rows and now - self._parquet_t >= self._pq_every()
        job = self._rows.take() if held and (force or due) else None
        if job is not None:

            def write() -> None:
                t0 = time.perf_counter()
                job()  # the rows held, appended as one row group
                self._parquet_cost = time.perf_counter() - t0

            self._disk.submit(write)  # no key: every append runs, in order
            self._parquet_t = now

    # ------------------------------------------------------------------ running
    def run(self, duration: float | None = None, *, timeout: float | None = None) -> None:
        """Monitor until ``duration`` seconds have passed, :meth:`stop` is called or (replays)
        the whole recording has been played and measured (``timeout``: wall-clock limit)."""
        limit = time.monotonic() + (timeout if timeout is not None else float("inf"))
        t_end = time.monotonic() + duration if duration is not None else float("inf")
        try:
            if self._src is None:
                self._open()
            while not self._stop.is_set() and time.monotonic() < min(limit, t_end):
                self.step()
                done = getattr(self._src, "exhausted", False)
                if done or (self._replay is not None and self._replay._done.is_set()):
                    while self.step(timeout=0.05) or self._src._inlet.samples_available:
                        pass
                    break
        finally:
            self.close()

    def start(self, duration: float | None = None) -> LiveMonitor:
        """Run in a background thread (for Jupyter and the live page); returns self."""
        self._thread = threading.Thread(
            target=self.run, kwargs={"duration": duration}, name="hfs_emg-monitor", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop monitoring (closes the recording and writes the tables)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def close(self) -> None:
        """Measure what is complete, close the recording part and the stream."""
        with self.lock:
            if self._writer is not None:
                self._finalise(force=True)
                self._spontaneous(None)
                self._update_trend(final=True)  # the final trend: lsr_trend of the whole table
                self._save_tables(force=True)
                self._disk.close()  # every file written before the recording is closed
                self._t_end = self.now_s()
                self._writer.close()
                self._writer = None
                self.part += 1
            self._disk.close()  # (also when no sample came)
            if self._src is not None:
                self._src.close()
                self._src = None
            if self._replay is not None:
                self._replay.stop()
            self.status = "stopped"
            self.version += 1

    # ------------------------------------------------------------------ session report
    def session_result(self, config: Any = None) -> tuple[Any, Any]:
        """The whole session as one :class:`~hfs_emg.AnalysisResult`, for :func:`hfs_emg.report`.

        Every recording part is analysed by :func:`hfs_emg.analyze` (protocol ``"lsr"`` for a
        part with measured stimuli), and the tables are joined: spontaneous bursts and
        synchronous events of all parts (one clock), the per-channel summaries one row per
        part (column ``part``), the stimuli of all parts numbered as in the session (the
        offline stimuli matched to the session's by time; those the monitor never measured,
        e.g. after a ``kill -9``, are left out), and the session's own ``lsr`` table (every
        part, continuing numbering; it equals the offline rows of each part) with its
        ``trend`` over every part and every phase marker.

        Parameters
        ----------
        config : AnalysisConfig, optional
            Options of the offline analysis of each part (default: the defaults).

        Returns
        -------
        (AnalysisResult, Recording or None)
            The result, and the parts joined into one recording on the session clock (the
            time between parts filled with zeros and annotated ``monitor not running``) for
            the figures; None when that would take more than ``config.max_memory_mb``.
        """
        import dataclasses

        from .analysis import analyze
        from .config import AnalysisConfig

        config = config if config is not None else AnalysisConfig()
        if self.stim_branch and not config.lsr.stim_branch:
            config = config.replace(lsr__stim_branch=self.stim_branch)
        paths = [p for p in self.parts if p.exists()]
        if not paths:
            raise DataError(f"{self.out}: the session has no recording part yet.")
        lsr = self.lsr
        if self._trend_stale or self.trend.empty:
            self._update_trend()
        results = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a killed part's header says "-1 records"
            for path in paths:
                measured = not lsr.empty and bool((lsr["part"] == path.name).any())
                cfg = config.replace(protocol="lsr") if measured else config
                results.append(analyze(path, cfg))
        names = [p.name for p in paths]

        def cat(attr: str, *, part_col: bool) -> pd.DataFrame:
            frames = []
            for name, res in zip(names, results, strict=True):
                df = getattr(res, attr)
                if df is None or df.empty:
                    continue
                frames.append(df.assign(part=name) if part_col else df)
            if not frames:
                return getattr(results[0], attr)
            return pd.concat(frames, ignore_index=True)

        stims = None
        if not lsr.empty:
            times = lsr.groupby("stim_index")["stim_time_s"].first()
            frames = []
            for name, res in zip(names, results, strict=True):
                ev = res.stim_events
                if ev is None or ev.empty:
                    continue
                ev = ev.sort_values("onset_s").assign(part=name)
                ours = times[times.index.isin(lsr.loc[lsr["part"] == name, "stim_index"])]
                t = ours.to_numpy(float)
                if t.size == 0:
                    continue
                k = np.clip(np.searchsorted(t, ev["onset_s"].to_numpy(float)), 0, t.size - 1)
                k2 = np.clip(k - 1, 0, t.size - 1)
                on = ev["onset_s"].to_numpy(float)
                best = np.where(np.abs(t[k] - on) <= np.abs(t[k2] - on), k, k2)
                ok = np.abs(t[best] - on) <= 1.5 / self.manifest["sfreq"]
                ev = ev[ok].assign(stim_index=ours.index.to_numpy()[best[ok]])
                frames.append(ev)
            stims = pd.concat(frames, ignore_index=True) if frames else None
        bursts = cat("bursts", part_col=False)
        if len(bursts):
            bursts = bursts.sort_values(["onset_s", "channel"], kind="stable")
            bursts = bursts.reset_index(drop=True)
        first = results[0]
        prov = dict(first.provenance)
        prov["input"] = {"path": None, "name": self.out.name, "parts": names}
        prov["session"] = {
            "folder": str(self.out),
            "parts": self.manifest.get("parts", []),
            "n_stimuli": self.n_stim,
            "per_part_protocols": [r.protocol for r in results],
        }
        result = dataclasses.replace(
            first if lsr.empty else next(r for r in results if r.protocol == "lsr"),
            bursts=bursts,
            synchronous=cat("synchronous", part_col=False),
            summary=cat("summary", part_col=True),
            summary_sides=cat("summary_sides", part_col=True),
            recording_summary=cat("recording_summary", part_col=True),
            stim_events=stims if stims is not None else first.stim_events,
            lsr=lsr if not lsr.empty else first.lsr,
            trend=self.trend if not lsr.empty else first.trend,
            provenance=prov,
        )
        return result, self._joined_recording(paths, config)

    def _joined_recording(self, paths: list[Path], config: Any) -> Any:
        from ..io import read_recording

        sfreq = float(self.manifest["sfreq"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            recs = [read_recording(p) for p in paths]
        # parts never overlap on one clock; a replay faster than real time can make them (its
        # samples outrun the stream's clock): a part then follows the previous one directly
        offsets, end = [], 0
        for r in recs:
            offsets.append(max(round((r.tstart - recs[0].tstart) * sfreq), end))
            end = offsets[-1] + r.n_samples
        n_total = end
        if n_total * recs[0].n_channels * 4 / 1e6 > float(config.max_memory_mb):
            return None
        data = np.zeros((recs[0].n_channels, n_total), dtype=np.float32)
        events = []
        end = 0
        for o, r in zip(offsets, recs, strict=True):
            o = max(o, end)  # parts never overlap on one clock; guard against rounding
            if o > end:
                events.append(
                    pd.DataFrame(
                        {
                            "onset_s": [recs[0].tstart + end / sfreq],
                            "duration_s": [(o - end) / sfreq],
                            "label": ["monitor not running"],
                        }
                    )
                )
            data[:, o : o + r.n_samples] = r.data
            events.append(r.events)
            end = o + r.n_samples
        kept = [e for e in events if len(e)]
        ev = pd.concat(kept, ignore_index=True) if kept else recs[0].events
        # markers, buttons and notes the files lack (logged while no part was being written)
        ph = self.phases()
        have = ev[["onset_s", "label"]].astype({"label": str})
        lost = [
            (t, lab)
            for t, lab in ph.itertuples(index=False)
            if not ((have["label"] == lab) & (np.abs(have["onset_s"] - t) <= 1.5 / sfreq)).any()
        ]
        if lost:
            extra = pd.DataFrame(lost, columns=["onset_s", "label"]).assign(duration_s=0.0)
            ev = pd.concat([ev, extra], ignore_index=True)
        return recs[0]._derive(
            data=data[:, :end],
            events=make_events(ev),
            step="join_session_parts",
            params={"parts": [p.name for p in paths]},
        )

    def write_report(
        self, path: str | os.PathLike[str] | None = None, *, config: Any = None
    ) -> Path:
        """Write the HTML report of the whole session with :func:`hfs_emg.report`.

        Parameters
        ----------
        path : path-like, optional
            Default ``<session folder>/report.html``.
        config : AnalysisConfig, optional
            Options of the offline analysis of each part (see :meth:`session_result`).

        Returns
        -------
        Path
            The report written.
        """
        from .report import report

        target = Path(path) if path is not None else self.out / "report.html"
        result, rec = self.session_result(config)
        report(result, rec, out=target, title=f"hfs_emg live session: {self.out.name}")
        return target

    @property
    def replay(self) -> Any:
        """The :class:`~hfs_emg.live.ReplayStream` of a replay (``.drop()`` simulates dropouts)."""
        return self._replay

    @property
    def parts(self) -> list[Path]:
        """The recording parts of the session."""
        return [self.out / p["file"] for p in self.manifest.get("parts", [])]
