"""Streaming (chunked) analysis of long recordings for :func:`hfs_emg.analysis.analyze`.

Two passes over the file, one chunk in memory at a time:

1. every chunk is band-passed (and notched at the hum lines estimated once from the sample
   windows of :func:`hfs_emg.hum.estimate_hum`, the same as in memory) exactly
   as :func:`hfs_emg.detect_bursts` would, with margins of six high-pass periods; the mean
   square of each 50 ms window of the chunk's core is kept (a few floats per second), from
   which each channel's noise level is estimated once for the whole file
   (:func:`hfs_emg.signal.noise_from_window_ms`, identical to the in-memory
   :func:`hfs_emg.signal.quiet_noise`);
2. every chunk, now with ``stream_margin_s`` of extra signal on each side, is filtered again
   and its bursts detected with those noise levels; a burst is kept by the chunk whose core
   holds its onset. Bursts shorter than the margin come out as in memory (same samples, same
   thresholds); longer ones are cut at the chunk's edge and dropped.

Only the hysteresis detector (the default) is streamed; the evoked analysis reads the window
from the first to the last stimulus (found from a trigger channel or the file's events).
"""

from __future__ import annotations

import logging
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from .. import signal as _sig
from .._chunking import resolve_n_jobs
from .._errors import DataError, HfsEmgWarning, ParameterError
from .._validate import finite_rows
from ..detection import (
    BURST_METHODS,
    _burst_features,
    _burst_table,
    _hysteresis,
    _merge_filter,
    _prefilter_fn,
    _refine,
)
from ..io._base import BaseReader
from ..recording import Recording
from ..synchrony import _rise_columns
from .config import AnalysisConfig
from .protocol import ProtocolDecision, decide_protocol
from .result import AnalysisResult, build_result
from .steps import evoked_tables

logger = logging.getLogger("hfs_emg")

_NOISE_WINDOW_S = 0.05  # as hfs_emg.signal.quiet_noise


def _check_chunk(rec: Recording) -> None:
    bad = ~finite_rows(rec.data)
    if bad.any():
        names = [n for n, b in zip(rec.ch_names, bad, strict=True) if b]
        raise DataError(f"Channel(s) {names} hold NaN or infinite samples near t={rec.tstart} s.")


class _Preprocess:
    """The preprocessing detect_bursts applies, with data-driven choices fixed once."""

    def __init__(self, first: Recording, config: AnalysisConfig, reader: BaseReader) -> None:
        from ..hum import estimate_hum
        from ..preprocessing import bandpass_filter, filter_emg

        self.config = config
        b = config.bursts
        sub = first.pick(b.picks)
        fs = sub.sfreq
        self.fs = fs
        self.lines: list[float] = []
        self.mains: float | None = None
        if config.filter.enabled:
            f = config.filter
            self.notch = f.notch
            if f.notch == "auto":
                self.notch = _sig.detect_mains(sub.data, fs) if fs > 140.0 else None
            self.margin_s = filter_emg.margin_s(l_freq=f.l_freq, notch=self.notch, q=f.q)
            return
        self.l_freq, self.h_freq = float(b.band[0]), min(float(b.band[1]), 0.45 * fs)
        self.margin_s = bandpass_filter.margin_s(l_freq=self.l_freq)
        # the same sample windows as detect_bursts takes in memory, read from the file
        picks, t0 = sub.ch_names, reader.tstart

        def read(start: int, stop: int) -> np.ndarray:
            window = reader.read(tmin=t0 + start / fs, tmax=t0 + (stop - 1) / fs, picks=picks)
            return np.asarray(window.data)

        hum = estimate_hum(
            read,
            fs,
            n_samples=reader.n_samples,
            band=(self.l_freq, self.h_freq),
            max_freq=self.h_freq,
        )
        self.mains, self.lines = hum.mains, list(hum.lines)
        self._prefilters: dict[np.dtype, Any] = {}
        if self.lines:  # detect_bursts notches each hum line with q = 30
            self.margin_s += _sig.notch_margin_s(min(self.lines), 30.0)

    def __call__(self, chunk: Recording) -> tuple[np.ndarray, list[str]]:
        from ..preprocessing import filter_emg

        b = self.config.bursts
        sub = chunk.pick(b.picks)
        if self.config.filter.enabled:
            f = self.config.filter
            sub = filter_emg(
                sub, f.l_freq, f.h_freq, notch=self.notch, order=f.order, q=f.q, picks=sub.ch_names
            )
            x = np.asarray(sub.data, dtype=float)
        else:
            # detect_bursts' own per-channel prefilter (band-pass, then the hum-line notches in
            # one buffer, in the chunk's dtype), channels over both cores
            data = sub.data
            dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
            pre = self._prefilters.get(dtype)
            if pre is None:
                kernel = _sig.sosfiltfilt_kernel(
                    _sig.sos_bandpass(self.fs, self.l_freq, self.h_freq), dtype
                )
                pre = _prefilter_fn(kernel, self.fs, dtype, self.mains, self.lines)
                self._prefilters[dtype] = pre
            x = np.empty(data.shape, dtype=np.float64)

            def one(c: int) -> None:
                x[c] = pre(data[c])

            workers = resolve_n_jobs(None, data.shape[0], data.shape[1])
            if workers > 1:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    list(pool.map(one, range(data.shape[0])))
            else:
                for c in range(data.shape[0]):  # channels
                    one(c)
        return x, sub.ch_names


def _core(reader: BaseReader, core: tuple[float, float]) -> tuple[int, int]:
    return (
        round((core[0] - reader.tstart) * reader.sfreq),
        round((core[1] - reader.tstart) * reader.sfreq),
    )


def _noise_pass(reader: BaseReader, pre: _Preprocess, chunk_s: float) -> np.ndarray:
    fs = reader.sfreq
    width = max(round(_NOISE_WINDOW_S * fs), 1)
    n_win = reader.n_samples // width
    if n_win < 1:
        raise DataError(f"{reader.path}: shorter than one noise window ({_NOISE_WINDOW_S} s).")
    sums: np.ndarray | None = None
    for chunk, core in reader.iter_chunks(chunk_s, margin_s=pre.margin_s):
        _check_chunk(chunk)
        x, _ = pre(chunk)
        start, stop = _core(reader, core)
        lo = round((chunk.tstart - reader.tstart) * fs)
        seg = x[:, start - lo : stop - lo]
        win = np.arange(start, stop) // width
        valid = win < n_win
        if sums is None:
            sums = np.zeros((x.shape[0], n_win))
        for i in range(x.shape[0]):  # loop over channels only
            sums[i] += np.bincount(win[valid], weights=seg[i, valid] ** 2, minlength=n_win)
    assert sums is not None
    return _sig.noise_from_window_ms(sums / width, width)


def _detect_chunk(
    x: np.ndarray,
    fs: float,
    names: list[str],
    tstart: float,
    noise: np.ndarray,
    config: AnalysisConfig,
    opts: dict[str, Any],
) -> pd.DataFrame:
    """The body of detect_bursts after preprocessing, with the whole file's noise."""
    b = config.bursts
    low, high = _hysteresis(
        x, fs, window_s=opts["window_s"], high=opts["high"], low=opts["low"], noise=noise
    )
    s, e, c = _sig.mask_to_intervals(low)
    inner = (s > 0) & (e < x.shape[-1])
    s, e, c = s[inner], e[inner], c[inner]
    if s.size:
        n = x.shape[-1]
        bounds = np.ravel([c * n + s, c * n + e], "F")
        hits = np.logical_or.reduceat(high.ravel(), bounds)[::2]
        s, e, c = s[hits], e[hits], c[hits]
        s, e = _refine(
            x,
            fs,
            s,
            e,
            c,
            high=opts["high"],
            fine_window_s=opts["fine_window_s"],
            rel=opts["rel"],
            noise=noise,
            onset_floor=opts.get("onset_floor"),
            backtrack_s=opts.get("backtrack_s", 0.0),
        )
    s, e, c = _merge_filter(
        s, e, c, round(b.merge_gap_s * fs), max(round(_min_duration(b) * fs), 1)
    )
    rng = tuple(map(float, b.discharge_range_hz))
    parts = []
    for i in range(x.shape[0]):  # per-channel features, as detect_bursts computes them
        sel = c == i
        feats = _burst_features(x[i], fs, s[sel], e[sel], rng)
        feats["c"] = np.full(int(sel.sum()), i, dtype=np.intp)
        parts.append(feats)
    return _burst_table(parts, fs, names, tstart, b.tonic_min_s)


def streamed_bursts(reader: BaseReader, config: AnalysisConfig) -> tuple[pd.DataFrame, Recording]:
    """Bursts of a long file, chunk by chunk; also returns a 1-sample Recording (channel info)."""
    b = config.bursts
    if b.method != "hysteresis":
        raise ParameterError(
            f"Streaming a long recording supports method='hysteresis' only, got {b.method!r}; "
            "raise max_memory_mb to analyse it in memory."
        )
    _, defaults = BURST_METHODS["hysteresis"]
    unknown = sorted(set(b.options) - set(defaults))
    if unknown:
        raise ParameterError(f"Unknown option(s) {unknown} for method='hysteresis'.")
    opts = {**defaults, **b.options}
    chunk_s = config.chunk_s
    first = reader.read(tmax=reader.tstart + min(chunk_s, reader.duration_s))
    _check_chunk(first)
    pre = _Preprocess(first, config, reader)
    noise = _noise_pass(reader, pre, chunk_s)
    margin_s = pre.margin_s + config.stream_margin_s
    fs = reader.sfreq
    parts = []
    for chunk, core in reader.iter_chunks(chunk_s, margin_s=margin_s):
        x, names = pre(chunk)
        table = _detect_chunk(x, fs, names, chunk.tstart, noise, config, opts)
        table = _rise_columns(table, x, names, fs, chunk.tstart, noise)  # onset order
        start, stop = _core(reader, core)
        onset = np.round((table["onset_s"].to_numpy() - reader.tstart) * fs)
        parts.append(table[(onset >= start) & (onset < stop)])
    bursts = pd.concat(parts, ignore_index=True)
    bursts = bursts.sort_values(["onset_s", "channel"], kind="stable", ignore_index=True)
    bursts.attrs.update(
        {
            "method": "hysteresis",
            "options": opts,
            "preprocessing": [{"step": "streamed", "margin_s": margin_s, "lines": pre.lines}],
            "duration_s": reader.duration_s,
            "tstart": reader.tstart,
            "channels": first.pick(b.picks).ch_names,
        }
    )
    return bursts, first


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


def _min_duration(b: Any) -> float:
    """The burst config's minimum duration, or the method's default (as detect_bursts)."""
    from ..detection import MIN_DURATION_S

    return MIN_DURATION_S[b.method] if b.min_duration_s is None else float(b.min_duration_s)


def analyze_streamed(
    reader: BaseReader, config: AnalysisConfig, provenance: dict[str, Any]
) -> AnalysisResult:
    """:func:`hfs_emg.analyze` of a long file, chunk by chunk (same tables as in memory)."""
    bursts, first = streamed_bursts(reader, config)
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
        channels=first.pick(config.bursts.picks).channels,
        tstart=reader.tstart,
        duration_s=reader.duration_s,
        decision=decision,
        evoked=evoked,
        config=config,
        provenance=provenance,
    )
