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
- the trend (:func:`hfs_emg.lsr_trend`, with the session's phase markers) after every sweep.

Session folder (``out``): ``recording.bdf`` (then ``recording-002.bdf``... when a session is
resumed), ``manifest.json`` (parts, sampling rate, channels, stimuli so far), ``events.csv``
(stimuli, markers, phase buttons, notes, signal gaps), ``lsr.csv`` / ``lsr.parquet`` and
``trend.csv``, each replaced atomically (:mod:`hfs_emg._atomic`) after every change.

Resume: a monitor started on a folder that has a ``manifest.json`` continues the session in a
new recording part; stimulus numbering and the trend continue (the LSR of a new part is
calibrated on that part's sweeps, exactly as the offline analysis of that part file).
A stream with another sampling rate or channel set than the session is refused
(:class:`hfs_emg.live.StreamChangedError`). A dropout is filled with zeros in the recording
(so that sample times stay true) and recorded as a ``signal lost`` annotation with its duration.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from .._atomic import atomic_path
from .._errors import HfsEmgWarning, NoStimulusError, ParameterError
from ..events import _attach_extra_columns, find_stim_events
from ..io.bdf_stream import BdfStreamWriter
from ..live.source import LslSource, StreamChangedError
from ..lsr import lsr_trend
from ..lsr_online import LsrStream
from ..phases import PHASES, phase_markers
from ..recording import from_array, make_events

__all__ = ["PHASE_BUTTONS", "LiveMonitor"]

logger = logging.getLogger("hfs_emg")

#: Phase buttons of the live page: label written into the session -> phase it marks.
PHASE_BUTTONS: dict[str, str] = {
    "dura opening": "dura_opening",
    "decompression": "decompression",
    "dural closure": "dural_closure",
}

_EVENT_COLUMNS = ["onset_s", "duration_s", "kind", "label", "stim_index", "part"]


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


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
    timeout : float
        Seconds to wait for the stream.
    lost_after_s : float
        Seconds without samples after which the status is ``"signal lost"``.
    prune_history : bool
        Unused (kept for compatibility): the analysis keeps no history of sweeps, only the
        bounded causal state of :class:`hfs_emg.lsr_online.LsrStream`.
    block_s : float
        Length of the blocks of free-running EMG analysed for spontaneous bursts and A/B/C
        trains (``bursts.csv``, ``trains.csv``); 0 = none.
    config : AnalysisConfig, optional
        Its ``lsr`` and ``trend`` sections give the defaults of ``lsr_options``,
        ``trend_options`` and ``stim_branch``.

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
        speed: float = 10.0,
        stim_branch: str | None = None,
        lsr_options: dict[str, Any] | None = None,
        trend_options: dict[str, Any] | None = None,
        marker_wait_s: float = 0.5,
        timeout: float = 10.0,
        lost_after_s: float = 1.0,
        config: Any = None,
        prune_history: bool = True,
        block_s: float = 10.0,
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
        if (stream is None) == (replay is None):
            raise ParameterError("give exactly one of stream= (an LSL name) or replay= (a file).")
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.stim_branch = stim_branch
        self.lsr_options = dict(lsr_options or {})
        self.trend_options = dict(trend_options or {})
        self.marker_wait_s = float(marker_wait_s)
        self.prune_history = bool(prune_history)
        self.block_s = float(block_s)
        self.timeout = float(timeout)
        self.lost_after_s = float(lost_after_s)
        self._replay = None
        if replay is not None:
            from ..live.replay import ReplayStream

            name = f"hfs_emg-monitor-{os.getpid()}-{id(self):x}"
            self._replay = ReplayStream(replay, name=name, speed=speed, source_id=name)
            stream = name
        self.stream = str(stream)
        self.lock = threading.RLock()
        self.status = "connecting"
        self.status_log: list[tuple[float, str]] = []  # (monotonic time, status) changes
        self.version = 0  # incremented after each change (the page polls it)
        self.latencies_s: list[float] = []  # window end -> result, wall clock (replays)
        self.analysis_s: list[float] = []  # per-sweep analysis time
        # (window end, result, monitor version) of every sweep, monotonic clock
        self.sweep_log: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._actions: queue.Queue[tuple[str, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._src: LslSource | None = None
        self._writer: BdfStreamWriter | None = None
        self._load_session()

    # ------------------------------------------------------------------ session state
    def _load_session(self) -> None:
        man = self.out / "manifest.json"
        self.manifest: dict[str, Any] = json.loads(man.read_text()) if man.exists() else {}
        ev = self.out / "events.csv"
        self.events = (
            pd.read_csv(ev, keep_default_na=False, na_values=[""])
            if ev.exists()
            else pd.DataFrame(columns=_EVENT_COLUMNS)
        )
        lsr = self.out / "lsr.parquet"
        self.lsr = pd.read_parquet(lsr) if lsr.exists() else pd.DataFrame()
        self.trend = pd.DataFrame()
        self.bursts = self._read_table("bursts.csv")
        self.trains = self._read_table("trains.csv")
        self.n_stim = int(self.manifest.get("n_stimuli", 0))
        # killed while saving: the tables may hold stimuli the manifest does not count yet
        if not self.lsr.empty:
            self.lsr = self.lsr[self.lsr["stim_index"] < self.n_stim].reset_index(drop=True)
        if len(self.events):
            idx = pd.to_numeric(self.events["stim_index"], errors="coerce")
            self.events = self.events[~(idx >= self.n_stim)].reset_index(drop=True)
        self.part = len(self.manifest.get("parts", []))  # index of the part being written
        # causal LSR state of the part being written (created at its first sweep): the same
        # computation as measure_lsr on the part file, one sweep at a time, bounded memory
        self._stream: LsrStream | None = None
        self._stream_part = -1
        self.lsr_s: list[float] = []  # per-sweep time of the LSR measurement (LsrStream)
        self._pending: list[dict[str, Any]] = []
        self._early: list[tuple[float, str]] = []
        self._csv_rows: int | None = None  # rows of lsr.csv written by this monitor
        self._csv_cols: list[str] = []
        self._markers: list[tuple[float, str]] = []  # (onset_s, label) of this part
        self.sweeps: dict[str, dict[str, Any]] = {}  # montage -> baseline and newest sweeps
        if not self.lsr.empty:
            self._update_trend()

    def _read_table(self, name: str) -> pd.DataFrame:
        path = self.out / name
        return pd.read_csv(path) if path.exists() and path.stat().st_size > 1 else pd.DataFrame()

    def _part_name(self, k: int) -> str:
        return "recording.bdf" if k == 0 else f"recording-{k + 1:03d}.bdf"

    def _save_manifest(self) -> None:
        with atomic_path(self.out / "manifest.json") as tmp:
            tmp.write_text(json.dumps(self.manifest, indent=1))

    def _save_events(self) -> None:
        _write_csv(self.events, self.out / "events.csv")

    def _add_event(self, onset: float, kind: str, label: str, *, duration: float = 0.0,
                   stim_index: int | None = None, annotate: bool = True) -> None:  # fmt: skip
        with self.lock:
            if annotate and self._writer is not None:
                self._writer.annotate(onset, label, duration_s=duration)
            row = {"onset_s": onset, "duration_s": duration, "kind": kind, "label": label,
                   "stim_index": stim_index, "part": self._part_name(self.part)}  # fmt: skip
            self.events = pd.concat(
                [self.events.astype(object), pd.DataFrame([row]).astype(object)],
                ignore_index=True,
            )
            self._save_events()
            self.version += 1

    # ------------------------------------------------------------------ public actions
    def now_s(self) -> float:
        """Recording time (s, the stream's clock) of the newest sample received."""
        if self._writer is None:
            return float("nan")
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
        while not self._actions.empty():
            kind, label = self._actions.get()
            self._add_event(self.now_s(), kind, label)
            if kind == "phase":
                self._update_trend()
                self._save_tables()

    # ------------------------------------------------------------------ stream -> file
    def _open(self) -> None:
        if self._replay is not None and self._replay._thread is None:
            self._replay.start()
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
        self._stim = [n for n, t in zip(self.ch_names, src.ch_types, strict=True) if t == "stim"]
        if not self._stim:
            warnings.warn(
                f"LSL stream {self.stream!r} has no trigger channel (LSL channel type 'STIM'): "
                "it is recorded, but no stimulus is found and no LSR measured.",
                HfsEmgWarning,
                stacklevel=2,
            )
        self.status = "streaming"

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
        self._buf = np.zeros((len(self.ch_names), 0))
        self._blk: list[np.ndarray] = []  # stored samples of the current spontaneous block
        self._blk_n = 0
        self._blk_start = 0  # sample index of the block's first sample
        self._edges: list[float] = []  # stimulus times of this part
        self._buf0 = 0  # sample index of _buf[:, 0]
        self._trig_lo = None
        self._trig_hi = -np.inf
        self._last_edge = -(1 << 60)

    def step(self, timeout: float = 0.02) -> int:
        """Pull what arrived, record it, measure the sweeps that are complete; return how many."""
        chunk = self._src.pull(timeout=timeout)
        self._do_actions()
        if True:  # the loop's thread owns the writer; the page only reads replaced objects
            lost = self._src.status == "signal lost"
            if lost != (self.status == "signal lost"):
                self.status = self._src.status
                self.status_log.append((time.monotonic(), self.status))
                self.version += 1
            if chunk.data.shape[1] == 0 and not chunk.markers:
                return self._finalise()
            if self._writer is None:
                if chunk.data.shape[1] == 0:  # markers before the first sample: keep them
                    self._early += chunk.markers
                    return 0
                self._start_part(float(chunk.stamps[0]))
            x = chunk.data
            if chunk.gaps:
                x = self._fill_gaps(chunk)
            t_recv = time.monotonic()
            if x.shape[1]:
                stored = self._writer.write(x)
                self._append(stored, t_recv)
                self._spontaneous(stored)
            early, self._early = self._early, []
            for stamp, label in early + chunk.markers:
                k = round((stamp - self._tstart) * self.sfreq)
                onset = self._tstart + k / self.sfreq
                self._markers.append((onset, label))
                self._add_event(onset, "marker", label)
            return self._finalise()

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
        parts.append(chunk.data[:, at:])
        return np.concatenate(parts, axis=1)

    def _append(self, stored: np.ndarray, t_recv: float) -> None:
        """Keep the newest stored samples and find the stimuli among them."""
        keep = round((0.5 + abs(self._tmin()) + self._tmax()) * self.sfreq)
        n_old = self._buf.shape[1]
        self._buf = np.concatenate([self._buf, stored], axis=1)
        end = self._buf0 + self._buf.shape[1]
        if self._stim:
            c = self.ch_names.index(self._stim[0])
            new = self._buf[c, max(0, n_old - 1) :]
            if self._trig_lo is None:
                self._trig_lo = float(np.median(new))
            self._trig_hi = max(self._trig_hi, float(new.max()))
            if self._trig_hi > self._trig_lo:
                seg = from_array(
                    new[None], self.sfreq, [self._stim[0]], ch_types="stim", units=None
                )
                thr = self._trig_lo + 0.5 * (self._trig_hi - self._trig_lo)
                min_gap = self.lsr_options.get("min_interval_s", 0.02)
                try:
                    found = find_stim_events(seg, source="trigger", threshold=thr,
                                             min_interval_s=min_gap)  # fmt: skip
                    edges = np.round(found["onset_s"].to_numpy() * self.sfreq).astype(np.int64)
                except NoStimulusError:
                    edges = np.zeros(0, np.int64)
                first = self._buf0 + max(0, n_old - 1)
                for e in edges:
                    if n_old and e == 0:  # the overlap sample: not a new edge
                        continue
                    s = first + int(e)
                    if s - self._last_edge >= round(min_gap * self.sfreq):
                        self._last_edge = s
                        self._pending.append({"sample": s, "t_ready": None})
                        self._edges.append(self._tstart + s / self.sfreq)
        for p in self._pending:
            if p["t_ready"] is None and end > p["sample"] + round(self._tmax() * self.sfreq):
                p["t_ready"] = t_recv
                lag = (end - (p["sample"] + round(self._tmax() * self.sfreq))) / self.sfreq
                p["t_window_end"] = t_recv - lag / self._speed()
        # keep what the pending sweeps still need
        need = min([p["sample"] for p in self._pending], default=end) + round(
            self._tmin() * self.sfreq
        )
        drop = max(0, min(need - 2, end - keep) - self._buf0)
        if drop > 0:
            self._buf = self._buf[:, drop:]
            self._buf0 += drop

    def _spontaneous(self, stored: np.ndarray) -> None:
        """Spontaneous bursts and A/B/C trains of every completed ``block_s`` block.

        The offline code on each block (:func:`hfs_emg.detect_bursts`,
        :func:`hfs_emg.classify_trains`) with the stimulus-locked windows left out
        (:func:`hfs_emg.stim_locked.exclude_stimulus_locked`); the same calls on the same
        block of the recorded file give the same rows.
        """
        if self.block_s <= 0:
            return
        n_blk = round(self.block_s * self.sfreq)
        self._blk.append(stored)
        self._blk_n += stored.shape[1]
        while self._blk_n >= n_blk:
            data = np.concatenate(self._blk, axis=1)
            block, rest = data[:, :n_blk], data[:, n_blk:]
            self._blk, self._blk_n = [rest], rest.shape[1]
            t0 = self._tstart + self._blk_start / self.sfreq
            self._blk_start += n_blk
            self._analyse_block(block, t0)

    def _analyse_block(self, block: np.ndarray, t0: float) -> None:
        from ..detection import detect_bursts
        from ..free_running import classify_trains
        from ..stim_locked import exclude_stimulus_locked

        emg = [i for i, n in enumerate(self.ch_names) if n not in self._stim]
        if not emg:
            return
        rec = from_array(block[emg], self.sfreq, [self.ch_names[i] for i in emg], tstart=t0)
        stims = [t for t in self._edges if t0 - 0.2 <= t < t0 + self.block_s]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bursts, _ = exclude_stimulus_locked(detect_bursts(rec), stims)
            trains, _ = exclude_stimulus_locked(classify_trains(rec), stims)
        for name, df in (("bursts", bursts), ("trains", trains)):
            df = df.assign(block_start_s=t0, part=self._part_name(self.part))
            old = getattr(self, name)
            new = df if old.empty else pd.concat([old, df], ignore_index=True)
            setattr(self, name, new)
            _write_csv(new, self.out / f"{name}.csv")
        self.version += 1

    def _speed(self) -> float:
        return self._replay.speed if self._replay is not None else 1.0

    def _tmin(self) -> float:
        return float(self.lsr_options.get("tmin", -0.05))

    def _tmax(self) -> float:
        return float(self.lsr_options.get("tmax", 0.05))

    # ------------------------------------------------------------------ sweeps
    def _finalise(self, *, force: bool = False) -> int:
        """Measure every sweep whose window and markers have arrived (one ``measure_lsr`` call)."""
        last_marker = self._markers[-1][0] if self._markers else -np.inf
        m_times = np.array([m[0] for m in self._markers[-50:]])
        tol = 1.5 / self.sfreq
        ready = []
        for p in self._pending:
            if p["t_ready"] is None:
                break
            t_stim = self._tstart + p["sample"] / self.sfreq
            waited = time.monotonic() - p["t_ready"]
            # the markers of this stimulus are in once one at (or after) its time has arrived
            marked = last_marker > t_stim + tol or bool((np.abs(m_times - t_stim) <= tol).any())
            if not (force or marked or waited >= self.marker_wait_s or self._src._markers is None):
                break
            ready.append(p)
        if ready:
            del self._pending[: len(ready)]
            self._measure(ready)
        return len(ready)

    def _window(self, s: int) -> np.ndarray:
        a = s + round(self._tmin() * self.sfreq) - 2 - self._buf0
        b = s + round(self._tmax() * self.sfreq) + 3 - self._buf0
        return self._buf[:, a:b].copy()

    def _measure(self, ready: list[dict[str, Any]]) -> None:
        t0 = time.perf_counter()
        marks = pd.DataFrame(self._markers, columns=["onset_s", "label"])
        marks["duration_s"] = 0.0
        new = []
        for p in ready:
            onset = self._tstart + p["sample"] / self.sfreq
            ev = make_events([onset], labels="stim")
            ev["stim_index"] = self.n_stim
            ev["source"] = f"trigger:{self._stim[0]}"
            ev = _attach_extra_columns(ev, SimpleNamespace(events=marks, sfreq=self.sfreq))
            new.append((self._window(p["sample"]), ev.iloc[0].to_dict()))
            self._add_event(onset, "stimulus", "stim", stim_index=self.n_stim, annotate=False)
            self.n_stim += 1
        t1 = time.perf_counter()
        per_sweep = self._measure_history(new)
        t2 = time.perf_counter()
        self.analysis_s.append((t2 - t0) / len(ready))
        self.lsr_s.append((t2 - t1) / len(ready))  # the LSR measurement alone
        rows = per_sweep[0] if len(per_sweep) == 1 else pd.concat(per_sweep, ignore_index=True)
        self.lsr = rows if self.lsr.empty else pd.concat([self.lsr, rows], ignore_index=True)
        for (window, _), sweep_rows in zip(new, per_sweep, strict=True):
            self._keep_sweep(sweep_rows, window)
        self._update_trend()
        self.version += 1  # the page may draw now; the files follow at once
        now = time.monotonic()
        self.latencies_s += [now - p["t_window_end"] for p in ready if "t_window_end" in p]
        self.sweep_log += [(p.get("t_window_end", np.nan), now, self.version) for p in ready]
        self._save_tables()
        # the manifest last: on resume, its count says which stimuli are complete everywhere
        self.manifest["n_stimuli"] = self.n_stim
        self._save_manifest()

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
                rows = stream.push_window(samples, event)
            rows.insert(2, "part", self._part_name(self.part))
            out.append(rows)
        return out

    def _keep_sweep(self, rows: pd.DataFrame, w: np.ndarray) -> None:
        """Baseline and newest sweeps per montage, for the page."""
        times = (np.arange(w.shape[1]) - 2) / self.sfreq + self._tmin()
        montage = str(rows["montage"].iloc[0])
        entry = self.sweeps.setdefault(montage, {"baseline": w, "newest": [], "times": times})
        entry["newest"] = [*entry["newest"], w][-20:]

    def phases(self) -> pd.DataFrame:
        """Markers, phase buttons and notes of the session (``onset_s``, ``label``)."""
        ev = self.events
        sel = ev["kind"].isin(["marker", "phase", "note"]) if len(ev) else []
        return ev.loc[sel, ["onset_s", "label"]].astype({"onset_s": float})

    def _update_trend(self) -> None:
        if self.lsr.empty:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.trend = lsr_trend(self.lsr, phases=self.phases(), **self.trend_options)

    def _save_tables(self) -> None:
        if self.lsr.empty:
            return
        path = self.out / "lsr.csv"
        done = self._csv_rows
        if done is None or not path.exists() or list(self.lsr.columns) != self._csv_cols:
            _write_csv(self.lsr, path)  # whole, atomically (first save, or after a resume)
        elif len(self.lsr) > done:
            # then appended: one write of whole lines, fsync-ed (the table grows over hours)
            text = self.lsr.iloc[done:].to_csv(index=False, header=False)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        self._csv_rows, self._csv_cols = len(self.lsr), list(self.lsr.columns)
        _write_parquet(self.lsr, self.out / "lsr.parquet")
        _write_csv(self.trend, self.out / "trend.csv")

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
                if self._replay is not None and self._replay._done.is_set():
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
                self._writer.close()
                self._writer = None
                self.part += 1
            if self._src is not None:
                self._src.close()
                self._src = None
            if self._replay is not None:
                self._replay.stop()
            self.status = "stopped"
            self.version += 1

    @property
    def replay(self) -> Any:
        """The :class:`~hfs_emg.live.ReplayStream` of a replay (``.drop()`` simulates dropouts)."""
        return self._replay

    @property
    def parts(self) -> list[Path]:
        """The recording parts of the session."""
        return [self.out / p["file"] for p in self.manifest.get("parts", [])]
