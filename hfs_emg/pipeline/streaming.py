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
  spilled to an anonymous temporary file (``TMPDIR``; page cache, not process memory);
- **detect**: every few cores (:data:`_CORES_PER_WINDOW`), with ``stream_margin_s`` of
  filtered signal on each side read back from the spill, goes through
  :meth:`hfs_emg.detection.BurstDetector.channel` with the whole file's noise levels; a burst
  is kept by the window whose core holds its onset. Bursts shorter than the margin come out as
  in memory (same samples, same thresholds); longer ones are cut at the window's edge and
  dropped;
- **table**: :meth:`hfs_emg.detection.BurstDetector.table`.

When no temporary file can be written, each window is filtered again from the file instead
(same samples, twice the filtering). The read options of the configuration (``picks``,
``units``, ``ch_types``) apply to every read (:class:`hfs_emg.io._base.ReadView`). Only the
hysteresis detector (the default) is streamed; the evoked analysis reads the window from the
first to the last stimulus (found from a trigger channel or the file's events).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from .. import signal as _sig
from .._chunking import run_tasks
from .._errors import DataError, HfsEmgWarning, ParameterError
from .._validate import finite_rows
from ..detection import BurstDetector, burst_filter
from ..io._base import BaseReader
from ..preprocessing import EmgFilter
from ..recording import Recording
from ..synchrony import _rise_columns
from .config import AnalysisConfig, section_kwargs
from .protocol import ProtocolDecision, decide_protocol
from .result import AnalysisResult, build_result
from .steps import evoked_tables

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
    """Filtered cores written block by block to an anonymous temporary file, read back by span.

    A block is the core of one chunk, ``(n_channels, stop - start)`` row after row; each row is
    written (:meth:`write_row`) and read back (:meth:`read_row`) on its own, so the channels'
    threads do it in parallel. The file lives in the page cache (``TMPDIR``), not in the
    process's memory.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._fd = self._file.fileno()
        self._lock = threading.Lock()  # seek + read/write without positional calls
        self._blocks: list[tuple[int, int, int]] = []  # (start, stop, byte offset)
        self._shape: tuple[int, np.dtype] | None = None
        self._end = 0

    def reserve(self, start: int, stop: int, n_ch: int, dtype: np.dtype) -> int:
        """Place the block of file samples ``start:stop``; returns its byte offset."""
        self._shape = (n_ch, np.dtype(dtype))
        offset = self._end
        self._blocks.append((start, stop, offset))
        self._end += n_ch * (stop - start) * np.dtype(dtype).itemsize
        return offset

    def write_row(self, offset: int, c: int, row: np.ndarray) -> None:
        """Row ``c`` (the block's core of one channel) of the block at ``offset``."""
        view = memoryview(np.ascontiguousarray(row)).cast("B")
        pos = offset + c * view.nbytes
        if not _POSITIONAL:
            with self._lock:
                self._file.seek(pos)
                self._file.write(view)
            return
        while view.nbytes:
            done = os.pwrite(self._fd, view, pos)
            view, pos = view[done:], pos + done

    def write(self, start: int, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block)
        offset = self.reserve(start, start + block.shape[1], block.shape[0], block.dtype)
        for c in range(block.shape[0]):  # channels
            self.write_row(offset, c, block[c])

    def read_row(self, lo: int, hi: int, c: int, out: np.ndarray) -> None:
        """Samples ``lo:hi`` of channel ``c`` into ``out`` (1-D, contiguous)."""
        assert self._shape is not None  # internal: written before read
        size = self._shape[1].itemsize
        for start, stop, offset in self._blocks:  # a few blocks, not samples
            a, b = max(lo, start), min(hi, stop)
            if a >= b:
                continue
            pos = offset + (c * (stop - start) + a - start) * size
            view = memoryview(out[a - lo : b - lo]).cast("B")
            if not _POSITIONAL:
                with self._lock:
                    self._file.seek(pos)
                    got = self._file.readinto(view)
            else:
                got = os.preadv(self._fd, [view], pos)
            if got != (b - a) * size:  # pragma: no cover - a temporary file cut short
                raise OSError("the temporary file of the streamed analysis is truncated")

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Samples ``lo:hi`` of every channel (rows read on the channels' threads)."""
        assert self._shape is not None  # internal: written before read
        n_ch, dtype = self._shape
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


def _filtered_windows(
    reader: BaseReader,
    filt: EmgFilter,
    names: list[str],
    config: AnalysisConfig,
) -> tuple[np.ndarray, Iterator[tuple[np.ndarray, int, int, int]]]:
    """Filter the file once: the noise levels, then the detection windows ``(x, lo, start, stop)``.

    ``x`` holds the filtered samples ``lo:lo + x.shape[1]`` around the core ``start:stop``.
    The channels of a chunk are filtered together (:meth:`EmgFilter.apply_rows`), then each is
    summed into its noise windows and written to the spill on one task (channels on every
    core), while the next chunk is read on a thread.
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
        for chunk, core in _prefetched(chunks):
            _check_chunk(chunk)
            dtype = chunk.data.dtype if chunk.data.dtype.kind == "f" else np.dtype(np.float64)
            data = np.array(chunk.data, dtype=dtype)  # filtered in place, rows together
            filt.apply_rows(data)
            start, stop = _core(reader, core)
            lo = round((chunk.tstart - reader.tstart) * fs)
            a, b = start - lo, stop - lo
            bounds, widx, keep = _window_bounds(b - a, start, width, n_win)
            offset = -1 if spill is None else spill.reserve(start, stop, len(names), dtype)

            def one(
                c: int, data: np.ndarray = data, a: int = a, b: int = b,
                bounds: np.ndarray = bounds, widx: np.ndarray = widx, keep: np.ndarray = keep,
                offset: int = offset,
            ) -> None:  # fmt: skip
                seg = data[c, a:b]
                _add_window_row(sums[c], seg, bounds, widx, keep)
                if spill is not None:
                    spill.write_row(offset, c, seg)

            run_tasks(one, range(len(names)), n_samples=data.shape[1])
            cores.append((start, stop))
            del chunk, data
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


def streamed_bursts(reader: BaseReader, config: AnalysisConfig) -> tuple[pd.DataFrame, Recording]:
    """Bursts of a long file, chunk by chunk; also returns a 1-sample Recording (channel info)."""
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
    noise, windows = _filtered_windows(reader, filt, names, config)
    fs = reader.sfreq
    parts = []
    for x, lo, start, stop in windows:

        def one(c: int, x: np.ndarray = x) -> dict[str, Any]:
            return detector.channel(x[c], fs, index=c, noise=float(noise[c]))

        found = run_tasks(one, range(len(names)), n_samples=x.shape[1])
        table = detector.table(found, fs, names, reader.tstart + lo / fs)
        table = _rise_columns(table, x, names, fs, reader.tstart + lo / fs, noise)  # onset order
        onset = np.round((table["onset_s"].to_numpy() - reader.tstart) * fs)
        parts.append(table[(onset >= start) & (onset < stop)])
    bursts = pd.concat(parts, ignore_index=True)
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


def streamed_protocol(reader: BaseReader, config: AnalysisConfig) -> ProtocolDecision:
    """The protocol of a long file, from its trigger channels and events only.

    Only the trigger channels are read whole (the events come with the header), so the
    decision sees what the in-memory :func:`~hfs_emg.pipeline.protocol.decide_protocol` sees,
    except artefact-only stimuli, which are not streamed.
    """
    if config.stim.source == "artifact":
        raise ParameterError(
            f"{reader.path}: stimulus detection from artefacts (stim.source='artifact') is not "
            "streamed; raise max_memory_mb to analyse the file in memory."
        )
    stim = [n for n, t in zip(reader.ch_names, reader.ch_types or [], strict=False) if t == "stim"]
    probe = reader.read(picks=stim or [0], tmax=None if stim else reader.tstart + 1.0)
    probe = probe.with_events(reader.read_events())
    source = config.stim.source
    if source == "auto":
        source = "trigger" if stim else "events"
    cfg = config.replace(stim__source=source)
    decision = decide_protocol(probe, cfg)
    return ProtocolDecision(decision.protocol, decision.events, decision.reason)


def analyze_streamed(
    reader: BaseReader, config: AnalysisConfig, provenance: dict[str, Any]
) -> AnalysisResult:
    """:func:`hfs_emg.analyze` of a long file, chunk by chunk (same tables as in memory).

    ``reader`` may be a :class:`~hfs_emg.io._base.ReadView` (the configuration's read options).
    """
    bursts, probe = streamed_bursts(reader, config)
    decision = streamed_protocol(reader, config)
    evoked: dict[str, pd.DataFrame] = {}
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
