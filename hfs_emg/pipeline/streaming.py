"""Streaming (chunked) analysis of long recordings for :func:`hfs_emg.analysis.analyze`.

The streamed path runs the same public steps as the in-memory one, on one chunk at a time:

- **prepare**: the EMG filter is designed once for the whole file (its mains and hum lines from
  the bounded sample of :func:`hfs_emg.hum.estimate_hum`, the windows the in-memory path takes):
  :func:`hfs_emg.detection.burst_filter`, or :class:`hfs_emg.preprocessing.EmgFilter` with the
  ``filter`` options when ``filter.enabled``;
- **filter, once**: the file is read in chunks of ``chunk_s`` seconds with twice the margin the
  filter declares (:attr:`~hfs_emg.preprocessing.EmgFilter.margin_s`) on each side, each channel is
  filtered (channels on both cores, :func:`hfs_emg._chunking.run_tasks`) and the chunk's core is
  kept: the mean square of each 50 ms window (a few floats per second, from which each channel's
  noise level is estimated once for the whole file: :func:`hfs_emg.signal.noise_from_window_ms`,
  the estimate :func:`hfs_emg.signal.quiet_noise` makes in memory) and the filtered samples,
  spilled to an anonymous temporary file (``TMPDIR``; page cache, not process memory), one
  channel after the other;
- **detect**: every few cores (:data:`_CORES_PER_WINDOW`), with ``stream_margin_s`` of
  filtered signal on each side read back from the spill (one read per channel), goes through
  :meth:`hfs_emg.detection.BurstDetector.channel` with the whole file's noise levels; a burst
  is kept by the window whose core holds its onset. Bursts shorter than the margin come out as
  in memory (same samples, same thresholds); longer ones are cut at the window's edge and
  dropped;
- **table**: :meth:`hfs_emg.detection.BurstDetector.table`, each window's on a thread while
  the next window's channels are detected.

When no temporary file can be written, each window is filtered again from the file instead
(same samples, twice the filtering). The read options of the configuration (``picks``,
``units``, ``ch_types``) apply to every read (:class:`hfs_emg.io._base.ReadView`). Only the
hysteresis detector (the default) is streamed.

The stimuli come first: the trigger channels are scanned as runs of equal samples
(:class:`hfs_emg.events.TriggerRuns`; the same median, maximum and edges as the whole channel;
an EDF/BDF reader scans them once with its trigger events, reading only their bytes), the
protocol is decided on a one-sample probe with all the file's events. An LSR session
(:class:`_LsrSession`) then cuts its epochs from the raw chunks of the filter pass (the file is
read once; cut on the thread that reads the next chunk) and measures them a few hundred sweeps
at a time with one causal :class:`hfs_emg.lsr_online.LsrStream`, the sweep morphology on the
same blocks, on a thread of its own while the file is filtered (the groups in order): memory
bounded by one chunk and a few groups of sweeps, whatever the file's length. The other
evoked protocols (and LSR configurations that need every stimulus at once) read the window
from the first to the last stimulus.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from .. import signal as _sig
from .._chunking import run_tasks
from .._errors import DataError, HfsEmgWarning, ParameterError
from .._validate import finite_rows
from ..detection import BurstDetector, burst_filter
from ..epochs import Epochs, RunningExtremes, concat_epochs
from ..events import TriggerRuns
from ..io._base import BaseReader
from ..lsr import lsr_trend
from ..lsr_online import LsrStream
from ..morphology import (
    isolated_stimuli,
    lsr_morphology,
    morphology_block_epochs,
    summarize_morphology,
)
from ..phases import phase_markers
from ..preprocessing import EmgFilter
from ..recording import Recording
from ..synchrony import _rise_columns
from ..zl_response import vessel_sites
from .config import AnalysisConfig, section_kwargs
from .protocol import ProtocolDecision, decide_protocol
from .result import AnalysisResult, build_result
from .steps import evoked_tables, exclusion_onsets, stimulus_windows, zl_tables

logger = logging.getLogger("hfs_emg")

_NOISE_WINDOW_S = 0.05  # as hfs_emg.signal.quiet_noise
#: The filtered cores are kept for detection, so they must equal whole-file filtering to the
#: float precision of the tables (parity tests: 1e-9), not only the ~1e-5 of the filter's
#: declared margin: twice the margin squares the decay of its transients (~1e-10).
_MARGIN_FACTOR = 2.0
#: Filtered cores detected together (read back from the spill as one window): the detection
#: margin (``stream_margin_s`` on each side) is then paid once per this many chunks.
_CORES_PER_WINDOW = 4


def _check_chunk(rec: Recording) -> None:
    bad = ~finite_rows(rec.data)
    if bad.any():
        names = [n for n, b in zip(rec.ch_names, bad, strict=True) if b]
        raise DataError(f"Channel(s) {names} hold NaN or infinite samples near t={rec.tstart} s.")


def stream_filter(reader: BaseReader, names: list[str], config: AnalysisConfig) -> EmgFilter:
    """The filter of a streamed file, designed once from the bounded hum sample of all of it."""
    fs, t0 = reader.sfreq, reader.tstart

    def read(start: int, stop: int) -> np.ndarray:
        window = reader.read(tmin=t0 + start / fs, tmax=t0 + (stop - 1) / fs, picks=names)
        return np.asarray(window.data)

    if config.filter.enabled:  # filter_emg's filter, as the in-memory path applies it
        kw = section_kwargs(config.filter, drop=("enabled",))
        return EmgFilter.design(read, fs, n_samples=reader.n_samples, **kw)
    filt = burst_filter(read, fs, n_samples=reader.n_samples, band=config.bursts.band)
    assert filt is not None  # internal: a callable source is never "already filtered"
    return filt


#: References to the reader's array while :func:`_own_samples` looks at it (the chunk's view,
#: the local name, the argument of ``sys.getrefcount``): one more means another view of it.
_BASE_REFS = 3


def _own_samples(chunk: Recording) -> np.ndarray:
    """The chunk's samples as a float array to filter in place.

    A chunk read from the file holds a read-only view of the array the reader filled, which
    nothing else references once the chunk is dropped: that array is taken (no copy of the
    chunk; the chunk is not read after, and :meth:`_LsrSession.feed`, which sees it first,
    keeps copies only). Otherwise (another view of it, an integer dtype) a copy is made.
    """
    data = chunk.data
    base = data.base
    if (
        data.dtype.kind == "f"
        and isinstance(base, np.ndarray)
        and base.base is None
        and base.flags.writeable
        and base.flags.c_contiguous
        and base.shape == data.shape
        and base.dtype == data.dtype
        and sys.getrefcount(base) <= _BASE_REFS
    ):
        return base
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
    return np.array(data, dtype=dtype)


def _filter_rows(filt: EmgFilter, data: np.ndarray) -> np.ndarray:
    """The chunk's channels filtered (in their dtype), channels on every core."""
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
    kernel = filt.kernel(dtype)
    out = np.empty(data.shape, dtype=dtype)
    run_tasks(lambda c: kernel(data[c], out[c]), range(data.shape[0]), n_samples=data.shape[1])
    return out


#: Positional reads and writes (no shared file position): the channels' rows of the spill are
#: written and read by the worker threads at once, outside the GIL. Elsewhere one at a time.
_POSITIONAL = hasattr(os, "pwrite") and hasattr(os, "preadv")


class _Spill:
    """Filtered cores written row by row to an anonymous temporary file, read back by span.

    The file is laid out channel after channel (``(n_channels, n_samples)`` of the whole file,
    :meth:`allocate`); each chunk's core of each channel is written at its place
    (:meth:`write_row`) and a span of a channel is read back in one read (:meth:`read_row`),
    positional, so the channels' threads do it at once. The file lives in the page cache
    (``TMPDIR``), not in the process's memory.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._fd = self._file.fileno()
        self._lock = threading.Lock()  # seek + read/write without positional calls
        self._shape: tuple[int, int, np.dtype] | None = None

    def allocate(self, n_ch: int, n: int, dtype: np.dtype) -> None:
        """Room for ``n`` samples of ``n_ch`` channels in ``dtype`` (once, before any write)."""
        self._shape = (n_ch, n, np.dtype(dtype))
        # sparse, not posix_fallocate'd: blocks reserved on disk at once would be allocated
        # (and discarded when the file is closed) even when the pages never leave the cache
        os.ftruncate(self._fd, n_ch * n * np.dtype(dtype).itemsize)

    def write_row(self, c: int, start: int, row: np.ndarray) -> None:
        """Samples ``start:start + row.size`` of channel ``c``."""
        assert self._shape is not None  # internal: allocated before written
        n, dtype = self._shape[1], self._shape[2]
        view = memoryview(np.ascontiguousarray(row, dtype=dtype)).cast("B")
        pos = (c * n + start) * dtype.itemsize
        if not _POSITIONAL:
            with self._lock:
                self._file.seek(pos)
                self._file.write(view)
            return
        while view.nbytes:
            done = os.pwrite(self._fd, view, pos)
            view, pos = view[done:], pos + done

    def read_row(self, lo: int, hi: int, c: int, out: np.ndarray) -> None:
        """Samples ``lo:hi`` of channel ``c`` into ``out`` (1-D, contiguous): one read."""
        assert self._shape is not None  # internal: written before read
        n, dtype = self._shape[1], self._shape[2]
        pos = (c * n + lo) * dtype.itemsize
        view = memoryview(out).cast("B")
        if not _POSITIONAL:
            with self._lock:
                self._file.seek(pos)
                got = self._file.readinto(view)
        else:
            got = os.preadv(self._fd, [view], pos)
        if got != (hi - lo) * dtype.itemsize:  # pragma: no cover - a temporary file cut short
            raise OSError("the temporary file of the streamed analysis is truncated")

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Samples ``lo:hi`` of every channel (rows read on the channels' threads).

        Read into a fresh array, not viewed through a memory map: on the 2-core VM the
        detection over a mapped file's 4 kB pages cost more user time (TLB misses) than the
        copy saves (anonymous arrays get transparent huge pages).
        """
        assert self._shape is not None  # internal: written before read
        n_ch, dtype = self._shape[0], self._shape[2]
        out = np.empty((n_ch, hi - lo), dtype=dtype)
        run_tasks(lambda c: self.read_row(lo, hi, c, out[c]), range(n_ch), n_samples=hi - lo)
        return out

    def close(self) -> None:
        self._file.close()


def _window_bounds(
    n_seg: int, start: int, width: int, n_win: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the 50-ms windows of file samples ``start:start + n_seg`` begin in the segment."""
    j0 = (-start) % width  # first window boundary inside the segment
    bounds = np.unique(np.r_[0, np.arange(j0, n_seg, width)])
    widx = (start + bounds) // width
    keep = widx < n_win
    return bounds, widx, keep


def _add_window_ms(sums: np.ndarray, seg: np.ndarray, start: int, width: int) -> None:
    """Add the squares of ``seg`` (file samples ``start:``) to the window sums ``sums``."""
    bounds, widx, keep = _window_bounds(seg.shape[1], start, width, sums.shape[1])
    for c in range(seg.shape[0]):  # channels
        _add_window_row(sums[c], seg[c], bounds, widx, keep)


def _add_window_row(
    sums: np.ndarray, row: np.ndarray, bounds: np.ndarray, widx: np.ndarray, keep: np.ndarray
) -> None:
    """One channel of :func:`_add_window_ms`."""
    part = np.add.reduceat(np.square(row, dtype=np.float64), bounds)
    sums[widx[keep]] += part[keep]


def _core(reader: BaseReader, core: tuple[float, float]) -> tuple[int, int]:
    return (
        round((core[0] - reader.tstart) * reader.sfreq),
        round((core[1] - reader.tstart) * reader.sfreq),
    )


def _prefetched(items: Iterator[Any]) -> Iterator[Any]:
    """``items``, the next one produced on a thread while the caller works on this one.

    The reader decodes outside the GIL (file reads, compiled decoding), so the next chunk is
    read while this one is filtered (or the next window read back while this one is detected).
    """
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        nxt = pool.submit(next, items, _DONE)
        while True:
            item = nxt.result()
            if item is _DONE:
                return
            nxt = pool.submit(next, items, _DONE)
            yield item
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_DONE = object()


def _locked(items: Iterator[Any], lock: threading.Lock) -> Iterator[Any]:
    """``items``, each produced while holding ``lock``."""
    while True:
        with lock:
            item = next(items, _DONE)
        if item is _DONE:
            return
        yield item


def _fed(
    chunks: Iterator[tuple[Recording, tuple[float, float]]],
    feed: Callable[[Recording, int], None],
    reader: BaseReader,
) -> Iterator[tuple[Recording, tuple[float, float]]]:
    """``chunks``, each given to ``feed(chunk, stop)`` (the end sample of its core) first."""
    for chunk, core in chunks:
        feed(chunk, _core(reader, core)[1])
        yield chunk, core


def _filtered_windows(
    reader: BaseReader,
    filt: EmgFilter,
    names: list[str],
    config: AnalysisConfig,
    *,
    feed: Callable[[Recording, int], None] | None = None,
    reader_lock: threading.Lock | None = None,
) -> tuple[np.ndarray, Iterator[tuple[np.ndarray, int, int, int]]]:
    """Filter the file once: the noise levels, then the detection windows ``(x, lo, start, stop)``.

    ``x`` holds the filtered samples ``lo:lo + x.shape[1]`` around the core ``start:stop``.
    The channels of a chunk are filtered together (:meth:`EmgFilter.apply_rows`), then each is
    summed into its noise windows and written to the spill on one task (channels on every
    core), while the next chunk is read on a thread (not when ``feed`` is given: it may read
    the file too). ``feed(chunk, stop)`` sees each raw chunk once (see
    :func:`streamed_bursts`).
    """
    fs, n = reader.sfreq, reader.n_samples
    width = max(round(_NOISE_WINDOW_S * fs), 1)
    n_win = n // width
    if n_win < 1:
        raise DataError(f"{reader.path}: shorter than one noise window ({_NOISE_WINDOW_S} s).")
    sums = np.zeros((len(names), n_win))
    try:
        spill: _Spill | None = _Spill()
    except OSError as err:  # no temporary file: filter every window twice instead
        logger.info("streamed analysis: no temporary file (%s); filtering twice", err)
        spill = None
    cores: list[tuple[int, int]] = []
    try:
        margin_s = _MARGIN_FACTOR * filt.margin_s
        chunks = reader.iter_chunks(config.chunk_s, margin_s=margin_s, picks=names)
        # the next chunk read on a thread, unless ``feed`` reads the file from this one without
        # ``reader_lock`` (one reader, and its warning filters, used by one thread at a time)
        if feed is None:
            chunks = _prefetched(chunks)
        elif reader_lock is not None:  # fed on the read-ahead thread too, as soon as read
            chunks = _prefetched(_fed(_locked(chunks, reader_lock), feed, reader))
            feed = None
        for chunk, core in chunks:
            # the reader's chunks are finite (read() checks them as from_array does)
            start, stop = _core(reader, core)
            if feed is not None:  # the raw chunk, before its samples are filtered in place
                feed(chunk, stop)
            lo = round((chunk.tstart - reader.tstart) * fs)
            data = _own_samples(chunk)
            del chunk
            filt.apply_rows(data)
            a, b = start - lo, stop - lo
            bounds, widx, keep = _window_bounds(b - a, start, width, n_win)
            if spill is not None and not cores:
                spill.allocate(len(names), n, data.dtype)

            def one(
                c: int, data: np.ndarray = data, a: int = a, b: int = b,
                bounds: np.ndarray = bounds, widx: np.ndarray = widx, keep: np.ndarray = keep,
                start: int = start,
            ) -> None:  # fmt: skip
                seg = data[c, a:b]
                _add_window_row(sums[c], seg, bounds, widx, keep)
                if spill is not None:
                    spill.write_row(c, start, seg)

            run_tasks(one, range(len(names)), n_samples=data.shape[1])
            cores.append((start, stop))
            del data
    except BaseException:
        if spill is not None:
            spill.close()
        raise
    noise = _sig.noise_from_window_ms(sums / width, width)
    margin = int(np.ceil(config.stream_margin_s * fs))

    def spans() -> Iterator[tuple[int, int, int, int]]:
        for k in range(0, len(cores), _CORES_PER_WINDOW):
            start = cores[k][0]
            stop = cores[min(k + _CORES_PER_WINDOW, len(cores)) - 1][1]
            yield max(start - margin, 0), min(stop + margin, n), start, stop

    def windows() -> Iterator[tuple[np.ndarray, int, int, int]]:
        try:
            if spill is not None:
                read = ((spill.read(lo, hi), lo, start, stop) for lo, hi, start, stop in spans())
                yield from _prefetched(read)
                return
            margin_s = _MARGIN_FACTOR * filt.margin_s + config.stream_margin_s
            for chunk, core in reader.iter_chunks(config.chunk_s, margin_s=margin_s, picks=names):
                start, stop = _core(reader, core)
                lo = round((chunk.tstart - reader.tstart) * fs)
                yield _filter_rows(filt, chunk.data), lo, start, stop
        finally:
            if spill is not None:
                spill.close()

    return noise, windows()


def streamed_bursts(
    reader: BaseReader,
    config: AnalysisConfig,
    *,
    feed: Callable[[Recording, int], None] | None = None,
    reader_lock: threading.Lock | None = None,
    stim_onsets_s: np.ndarray | None = None,
) -> tuple[pd.DataFrame, Recording]:
    """Bursts of a long file, chunk by chunk; also returns a 1-sample Recording (channel info).

    ``feed(chunk, stop)``, if given, sees every raw chunk of the filter pass (with its margins)
    and the end sample of its core, in file order (the streamed LSR analysis cuts its epochs
    from them). The chunks are read ahead on a thread when ``feed`` is None or reads the file
    only while holding ``reader_lock`` (which every read ahead then holds too).
    ``stim_onsets_s`` (:func:`~hfs_emg.pipeline.steps.exclusion_onsets`): the bursts in their
    windows, which the spontaneous tables drop, are not measured (as in memory).
    """
    b = config.bursts
    if b.method != "hysteresis":
        raise ParameterError(
            f"Streaming a long recording supports method='hysteresis' only, got {b.method!r}; "
            "raise max_memory_mb to analyse it in memory."
        )
    kw = section_kwargs(b, drop=("options", "picks", "band"))
    detector = BurstDetector.create(**kw, **b.options)
    probe = reader.read(tmax=reader.tstart)  # one sample: the channels
    names = [probe.ch_names[i] for i in probe._pick_indices(b.picks)]
    filt = stream_filter(reader, names, config)
    noise, windows = _filtered_windows(
        reader, filt, names, config, feed=feed, reader_lock=reader_lock
    )
    fs = reader.sfreq
    skip = stimulus_windows(stim_onsets_s, config)

    def finish(found: list[dict[str, Any]], x: np.ndarray, lo: int, start: int, stop: int) -> Any:
        t0 = reader.tstart + lo / fs
        table = detector.table(found, fs, names, t0)
        onset = np.round((table["onset_s"].to_numpy() - reader.tstart) * fs)
        table = table[(onset >= start) & (onset < stop)]
        # onset order: the rise of the bursts kept by this window and measured (each burst's
        # own window of samples)
        rows = None if skip is None else ~skip.locked(table["onset_s"].to_numpy())
        return _rise_columns(table, x, names, fs, t0, noise, rows=rows)

    parts: list[Future[pd.DataFrame]] = []
    # a window's table is made on a thread while the channels of the next one are detected
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfs_emg-table") as tables:
        for x, lo, start, stop in windows:

            def one(c: int, x: np.ndarray = x, t0: float = reader.tstart + lo / fs) -> Any:
                return detector.channel(
                    x[c], fs, index=c, noise=float(noise[c]), tstart=t0, skip=skip
                )

            found = run_tasks(one, range(len(names)), n_samples=x.shape[1])
            if parts:
                parts[-1].result()  # one table at a time: the window before is done
            parts.append(tables.submit(finish, found, x, lo, start, stop))
            del x
        bursts = pd.concat([part.result() for part in parts], ignore_index=True)
    bursts = bursts.sort_values(["onset_s", "channel"], kind="stable", ignore_index=True)
    steps = [{"step": step, **params} for step, params in filt.steps()]
    bursts.attrs.update(
        {
            "method": "hysteresis",
            "options": detector.options,
            "preprocessing": [
                *steps,
                {
                    "step": "streamed",
                    "chunk_s": config.chunk_s,
                    "margin_s": _MARGIN_FACTOR * filt.margin_s,
                },
            ],
            "duration_s": reader.duration_s,
            "tstart": reader.tstart,
            "channels": names,
        }
    )
    return bursts, probe


def _stim_names(reader: BaseReader) -> list[str]:
    return [n for n, t in zip(reader.ch_names, reader.ch_types or [], strict=False) if t == "stim"]


def streamed_protocol(reader: BaseReader, config: AnalysisConfig) -> ProtocolDecision:
    """The protocol of a long file, from its trigger channels and events only.

    The trigger channels are scanned chunk by chunk (:class:`hfs_emg.events.TriggerRuns`: the
    runs of equal samples give the median, maximum and rising edges of the whole channel; the
    events come with the header), so the decision sees what the in-memory
    :func:`~hfs_emg.pipeline.protocol.decide_protocol` sees, except artefact-only stimuli,
    which are not streamed.
    """
    return _streamed_decision(reader, config)[0]


def _scanned_runs(reader: BaseReader, stim: list[str]) -> dict[str, TriggerRuns]:
    """The runs of the trigger channels ``stim`` that the reader scanned with its events.

    A reader with ``trigger_runs`` (:meth:`hfs_emg.io.edf.EdfReader.trigger_runs`) scans its
    trigger channels once for their events, feeding the runs the samples a whole read gives
    (same dtype): those runs are the ones a scan of the read chunks would build, so the file
    is not read again for them. Not through a :class:`~hfs_emg.io._base.ReadView` (its read
    options may change the rows) nor for a mixed-rate file; missing channels are scanned by
    the caller.
    """
    scan = getattr(reader, "trigger_runs", None)
    if not stim or scan is None or not isinstance(reader, BaseReader) or reader.is_mixed_rate:
        return {}
    found = scan()
    return {name: found[name] for name in stim if name in found}


def _streamed_decision(
    reader: BaseReader, config: AnalysisConfig
) -> tuple[ProtocolDecision, Recording]:
    """:func:`streamed_protocol` and the probe it decided on (one sample, all the events)."""
    if config.stim.source == "artifact":
        raise ParameterError(
            f"{reader.path}: stimulus detection from artefacts (stim.source='artifact') is not "
            "streamed; raise max_memory_mb to analyse the file in memory."
        )
    stim = _stim_names(reader)
    runs = _scanned_runs(reader, stim)
    left = [name for name in stim if name not in runs]
    if left:
        runs.update({name: TriggerRuns() for name in left})
        # long chunks of the trigger channels only: a read has a fixed cost (~16 ms CPU)
        chunk_s = max(config.chunk_s, _TRIGGER_CHUNK_SAMPLES / (reader.sfreq * len(left)))
        for chunk, _ in reader.iter_chunks(chunk_s, picks=left):
            for name, row in zip(chunk.ch_names, chunk.data, strict=True):
                runs[name].add(row)
    # one sample of every channel (names, types, meta) with the file's events
    probe = reader.read(tmax=reader.tstart).with_events(reader.read_events())
    source = config.stim.source
    if source == "auto":
        source = "trigger" if stim else "events"
    cfg = config.replace(stim__source=source)
    decision = decide_protocol(probe, cfg, trigger_runs=runs)
    return ProtocolDecision(decision.protocol, decision.events, decision.reason), probe


#: Samples (all trigger channels) of one chunk of the streamed trigger scan (32 MB as float32).
_TRIGGER_CHUNK_SAMPLES = 1 << 23
#: Sweeps measured together by the streamed LSR analysis: one push of the causal stream per this
#: many sweeps (a push of a few hundred costs per sweep what one push of all of them does, a
#: few dozen twice that); their raw and morphology epochs take ~120 kB each (8 channels).
_SWEEPS_PER_PUSH = 512
#: Groups of sweeps cut and waiting for the session's worker thread (with the one it measures):
#: ~60 MB each (8 channels), so the read of the file is never held up by a slow group.
_GROUPS_AHEAD = 2
#: Seconds read on each side of a block's epochs (rounding of the window's edges, the two
#: samples the artefact interpolation reads beyond its window).
_BLOCK_PAD_S = 0.01


class _LsrSession:
    """The LSR tables of :func:`~hfs_emg.pipeline.steps.evoked_tables` for a streamed file.

    Fed with consecutive windows of the file (:meth:`feed`: the raw chunks of the filter pass,
    :func:`_filtered_windows`, or windows read for the purpose, :meth:`read_rest`), it cuts the
    epochs of the stimuli whose onset falls in each window's core and measures them a few
    hundred at a time (:data:`_SWEEPS_PER_PUSH`):

    - the LSR by one causal :class:`hfs_emg.lsr_online.LsrStream` pushed group after group
      (the rows of one push of every sweep: equal decisions, floats to the last bits of the
      BLAS products of the artefact fit);
    - the sweep morphology on the epochs of :func:`hfs_emg.morphology.morphology_block_epochs`
      (clipping reference carried), sweep by sweep as :func:`hfs_emg.lsr_morphology`;
    - at the end (:meth:`tables`) the trend and summaries on the whole tables, with the phase
      markers of all the file's events, and the Z-L tables of vessel stimuli (from the window
      of those stimuli).

    Only one window and the epochs of one group are held (bounded, whatever the file's length).
    :meth:`create` returns None when the configuration needs every stimulus at once (averaged
    or non-interpolated morphology, stimuli too close for epoch-wise interpolation, unsorted
    stimuli): the caller then reads the window of all stimuli.
    """

    def __init__(
        self, reader: BaseReader, probe: Recording, events: pd.DataFrame, config: AnalysisConfig
    ) -> None:
        self.reader, self.probe, self.config = reader, probe, config
        vessel = vessel_sites(events, probe).notna().to_numpy()
        self.zl_events = events[vessel] if vessel.any() else None
        self.events = events[~vessel] if vessel.any() else events
        mc = config.morphology
        self.names = [probe.ch_names[i] for i in probe._pick_indices("emg")]
        self.span = (min(config.lsr.tmin, mc.tmin), max(config.lsr.tmax, mc.tmax))
        fs = reader.sfreq
        self._onset = np.round((self.events["onset_s"].to_numpy(float) - reader.tstart) * fs)
        self._first = round(self.span[0] * fs) - 3  # epoch reach, interpolation's 2 samples
        self._last = round(self.span[1] * fs) + 3
        self._next = 0  # first stimulus not yet cut
        self._stream: LsrStream | None = None
        self._extremes = RunningExtremes()  # the morphology epochs' clipping reference
        self._raw: list[Epochs] = []  # cut, waiting to be measured together
        self._cut: list[Epochs] = []
        self._lsr: list[pd.DataFrame] = []
        self._morph: list[pd.DataFrame] = []
        #: The groups of sweeps are measured on a thread of their own, in order (one worker:
        #: the causal stream sees them as one thread would), while this thread goes on
        #: filtering the file; at most :data:`_GROUPS_AHEAD` groups wait (bounded memory).
        self._worker: ThreadPoolExecutor | None = None
        self._pending: deque[Future[Any]] = deque()
        self._summary: Future[dict[str, pd.DataFrame]] | None = None
        #: Held by every read of the file while the session is fed (the chunks of the filter
        #: pass are read ahead on a thread: one thread uses the reader at a time).
        self.reader_lock = threading.Lock()

    @classmethod
    def create(
        cls, reader: BaseReader, probe: Recording, events: pd.DataFrame, config: AnalysisConfig
    ) -> _LsrSession | None:
        """The session, or None when its tables need every stimulus at once."""
        onsets = events["onset_s"].to_numpy(dtype=float)
        if onsets.size == 0 or np.any(np.diff(onsets) < 0):
            return None
        self = cls(reader, probe, events, config)
        mc = config.morphology
        if self.events.empty or mc.artifact_method not in ("interpolate", None):
            return None
        if mc.artifact_method == "interpolate" and not isolated_stimuli(
            self.events["onset_s"].to_numpy(dtype=float),
            reader.sfreq,
            reader.tstart,
            artifact_window_s=mc.artifact_window_s,
            tmin=mc.tmin,
            tmax=mc.tmax,
        ):
            return None
        return self

    def feed(self, window: Recording, stop: int) -> None:
        """Cut the stimuli with onset before sample ``stop`` (file samples) from ``window``.

        ``window`` holds file samples from ``lo`` on; a stimulus whose epoch it does not hold
        is cut from a window read for it.
        """
        fs, n = self.reader.sfreq, self.reader.n_samples
        i0 = self._next
        i1 = int(np.searchsorted(self._onset, stop, side="left"))
        if i1 <= i0:
            return
        lo = round((window.tstart - self.reader.tstart) * fs)
        hi = lo + window.n_samples
        on = self._onset[i0:i1]
        inside = ((on + self._first >= lo) | (lo == 0)) & ((on + self._last < hi) | (hi == n))
        if not inside.all() or not set(self.names) <= set(window.ch_names):
            window = self._read(int(on.min()), int(on.max()))  # these stimuli's own window
        elif window.ch_names != self.names:
            window = window.pick(self.names)
        self._cut_block(window, self.events.iloc[i0:i1])
        self._next = i1
        if i1 >= self._onset.size:  # the last stimulus cut: measure now, not after the bursts
            self._submit()
            self._pending_summaries()

    def read_rest(self, block_s: float) -> None:
        """Cut the stimuli not yet cut from windows read for them (``block_s`` s of stimuli)."""
        fs = self.reader.sfreq
        step = max(round(block_s * fs), 1)
        while self._next < self._onset.size:
            start = int(self._onset[self._next])
            i1 = int(np.searchsorted(self._onset, start + step, side="left"))
            window = self._read(start, int(self._onset[i1 - 1]))
            self.feed(window, int(self._onset[i1 - 1]) + 1)

    def _read(self, first: int, last: int) -> Recording:
        """The EMG channels around the stimuli at file samples ``first`` to ``last``."""
        r, fs = self.reader, self.reader.sfreq
        lo = max(first + self._first - 1, 0)
        hi = min(last + self._last + 1, r.n_samples - 1)
        with self.reader_lock:
            window = r.read(tmin=r.tstart + lo / fs, tmax=r.tstart + hi / fs, picks=self.names)
        _check_chunk(window)
        return window

    def _cut_block(self, window: Recording, block: pd.DataFrame) -> None:
        mc = self.config.morphology
        if self._stream is None:  # as measure_lsr builds it, once for the session
            self._stream = LsrStream.for_recording(window, **section_kwargs(self.config.lsr))
        self._raw.append(self._stream.cut(window, block))  # clipping reference carried
        self._cut.append(
            morphology_block_epochs(
                window,
                block,
                artifact_method=mc.artifact_method,
                artifact_window_s=mc.artifact_window_s,
                tmin=mc.tmin,
                tmax=mc.tmax,
                extremes=self._extremes,
            )
        )
        if sum(e.n_epochs for e in self._raw) >= _SWEEPS_PER_PUSH:
            self._submit()

    def _submit(self) -> None:
        """Measure the sweeps cut so far as one group, on the session's worker thread."""
        if not self._raw:
            return
        raw, cut = self._raw, self._cut
        self._raw, self._cut = [], []
        while len(self._pending) >= _GROUPS_AHEAD:  # bounded: wait for the oldest group
            self._pending.popleft().result()
        self._pending.append(self._executor().submit(self._measure, raw, cut))

    def _executor(self) -> ThreadPoolExecutor:
        """The session's one worker thread (started with its first job)."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfs_emg-lsr")
        return self._worker

    def _measure(self, raw: list[Epochs], cut: list[Epochs]) -> None:
        """Measure one group of sweeps, as one push (the stream is faster so)."""
        assert self._stream is not None  # internal: created with the first block
        lsr = self._stream.push(concat_epochs(raw))
        raw.clear()
        morph_kw = section_kwargs(self.config.morphology)
        self._morph.append(lsr_morphology(concat_epochs(cut), lsr=lsr, **morph_kw))
        self._lsr.append(lsr)

    def _wait(self) -> None:
        """Every group submitted measured (the first error of a group raised here)."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker thread (groups not yet started are dropped)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)
            self._worker = None
        self._pending.clear()

    def _summaries(self) -> dict[str, pd.DataFrame]:
        """The LSR, trend, morphology and morphology-summary tables of the sweeps measured."""
        config = self.config
        lsr = pd.concat(self._lsr, ignore_index=True)
        phases = phase_markers(self.probe)
        out = {"lsr": lsr, "trend": lsr_trend(lsr, phases=phases, **section_kwargs(config.trend))}
        out["lsr_morphology"] = pd.concat(self._morph, ignore_index=True)
        out["morphology_summary"] = summarize_morphology(
            out["lsr_morphology"], phases=phases, baseline_n=config.trend.baseline_n
        )
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """The LSR tables (every stimulus cut: :meth:`read_rest` first)."""
        try:
            self.read_rest(self.config.chunk_s)
            self._submit()
            # the summaries on the worker too, after the last group (in order)
            summaries = self._pending_summaries()
        finally:
            self._wait()
        out = summaries.result()
        config = self.config
        if self.zl_events is not None:
            r, zc = self.reader, config.zl
            on = self.zl_events["onset_s"].to_numpy(dtype=float)
            t_end = r.tstart + (r.n_samples - 1) / r.sfreq
            lo = max(r.tstart, float(on.min()) + zc.tmin - 1.0)
            hi = min(t_end, float(on.max()) + zc.tmax + 1.0)
            window = r.read(tmin=lo, tmax=hi, picks=self.names).with_events(self.probe.events)
            out.update(zl_tables(window, self.zl_events, config))
        return out

    def _pending_summaries(self) -> Future[dict[str, pd.DataFrame]]:
        """:meth:`_summaries` submitted after the groups (once: when the last one is cut)."""
        if self._summary is None:
            self._summary = self._executor().submit(self._summaries)
            self._pending.append(self._summary)
        return self._summary


def analyze_streamed(
    reader: BaseReader, config: AnalysisConfig, provenance: dict[str, Any]
) -> AnalysisResult:
    """:func:`hfs_emg.analyze` of a long file, chunk by chunk (same tables as in memory).

    ``reader`` may be a :class:`~hfs_emg.io._base.ReadView` (the configuration's read options).
    """
    decision, events_probe = _streamed_decision(reader, config)
    session = None
    if decision.events is not None and decision.protocol == "lsr":
        session = _LsrSession.create(reader, events_probe, decision.events, config)
    # the LSR epochs are cut from the raw chunks of the filter pass (the file is read once)
    evoked: dict[str, pd.DataFrame] = {}
    if session is not None:  # the next chunk read on a thread: the session's reads take its lock
        try:
            bursts, probe = streamed_bursts(
                reader,
                config,
                feed=session.feed,
                reader_lock=session.reader_lock,
                stim_onsets_s=exclusion_onsets(decision.events),
            )
            evoked = session.tables()
        finally:
            session.close()  # its measuring thread stopped, also on an error
    else:
        bursts, probe = streamed_bursts(
            reader, config, stim_onsets_s=exclusion_onsets(decision.events)
        )
        if decision.events is not None and decision.protocol != "spontaneous":
            onsets = decision.events["onset_s"].to_numpy(dtype=float)
            section = getattr(config, decision.protocol)
            pad = max(1.0, -float(section.tmin), float(section.tmax)) + 1.0
            tmin = max(reader.tstart, float(onsets.min()) - pad)
            tmax = min(reader.tstart + reader.duration_s, float(onsets.max()) + pad)
            window = reader.read(tmin=tmin, tmax=tmax)
            evoked = evoked_tables(window, decision.events, decision.protocol, config)
    if decision.protocol == "free_running":
        warnings.warn(
            f"{reader.path}: the A-, B- and C-trains of a free-running EMG are not computed when "
            f"the file is streamed (more than max_memory_mb={config.max_memory_mb:g} MB): no "
            "'trains' and 'train_time' tables; raise max_memory_mb to analyse it in memory.",
            HfsEmgWarning,
            stacklevel=2,
        )
    return build_result(
        bursts=bursts,
        channels=probe.pick(config.bursts.picks).channels,
        tstart=reader.tstart,
        duration_s=reader.duration_s,
        decision=decision,
        evoked=evoked,
        config=config,
        provenance=provenance,
    )
