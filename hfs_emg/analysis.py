"""One call for the whole analysis of one recording: :func:`analyze`.

Spontaneous activity (bursts, synchronous events, per-channel summary) is analysed in every
recording; the evoked analysis (LSR per stimulus and its trend) runs only when
:func:`hfs_emg.find_stim_events` finds stimuli. Options come from an
:class:`~hfs_emg.config.AnalysisConfig`; the result carries the configuration and a
timestamp-free provenance record, so the same input and configuration give identical results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import DataError, NoStimulusError
from ._version import __version__
from .config import AnalysisConfig
from .io import file_sha256
from .recording import Recording

__all__ = ["TABLES", "AnalysisResult", "analyze"]

logger = logging.getLogger("hfs_emg")

#: Names of the tables of :meth:`AnalysisResult.tables`, in order.
TABLES: tuple[str, ...] = ("bursts", "synchronous", "summary", "lsr", "trend")


@dataclass(frozen=True)
class AnalysisResult:
    """Result of :func:`analyze`.

    Attributes
    ----------
    bursts : pandas.DataFrame
        One row per burst (:func:`hfs_emg.detect_bursts`).
    synchronous : pandas.DataFrame
        One row per synchronous event (:func:`hfs_emg.detect_synchronous_bursts`).
    summary : pandas.DataFrame
        One row per channel (:func:`hfs_emg.summarize`, ``.channels``).
    lsr : pandas.DataFrame or None
        One row per (stimulus, channel) (:func:`hfs_emg.measure_lsr`); None without stimuli.
    trend : pandas.DataFrame or None
        One row per LSR channel (:func:`hfs_emg.lsr_trend`); None without stimuli.
    stim_events : pandas.DataFrame or None
        The stimuli found (:func:`hfs_emg.find_stim_events`); None without stimuli.
    config : AnalysisConfig
        The options used.
    provenance : dict
        ``hfs_emg_version``, ``config`` (dict), ``config_hash``, ``input`` (``path``, ``name``,
        ``sha256`` of the file or of the samples), ``streamed`` (chunked analysis) and
        ``chunk_s``. No timestamp: identical inputs give identical provenance.
    """

    bursts: pd.DataFrame
    synchronous: pd.DataFrame
    summary: pd.DataFrame
    lsr: pd.DataFrame | None
    trend: pd.DataFrame | None
    stim_events: pd.DataFrame | None
    config: AnalysisConfig
    provenance: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name (:data:`TABLES`); absent evoked tables are empty."""
        return {
            name: (getattr(self, name) if getattr(self, name) is not None else pd.DataFrame())
            for name in TABLES
        }

    def __repr__(self) -> str:
        n_lsr = "-" if self.lsr is None else self.lsr["stim_index"].nunique()
        return (
            f"<AnalysisResult | {self.provenance.get('input', {}).get('name')}: "
            f"{len(self.bursts)} bursts, {len(self.synchronous)} synchronous events, "
            f"{n_lsr} stimuli>"
        )


def _provenance(
    config: AnalysisConfig, path: Path | None, rec: Recording | None, streamed: bool
) -> dict[str, Any]:
    if path is not None:
        source = {"path": str(path), "name": path.name, "sha256": file_sha256(path)}
    else:
        assert rec is not None  # internal: one of the two is always given
        data = np.ascontiguousarray(rec.data)
        digest = hashlib.sha256(data.tobytes())
        digest.update(repr((rec.sfreq, rec.ch_names, rec.tstart)).encode())
        name = rec.meta.get("source_file")
        source = {
            "path": None,
            "name": Path(name).name if name else None,
            "sha256": digest.hexdigest(),
        }
    return {
        "hfs_emg_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "config": config.to_dict(),
        "config_hash": config.hash(),
        "input": source,
        "streamed": streamed,
        "chunk_s": config.chunk_s if streamed else None,
        "stream_margin_s": config.stream_margin_s if streamed else None,
    }


def _check_finite(rec: Recording) -> None:
    bad = ~np.isfinite(np.asarray(rec.data)).all(axis=1)
    if bad.any():
        names = [n for n, b in zip(rec.ch_names, bad, strict=True) if b]
        raise DataError(
            f"Channel(s) {names} hold NaN or infinite samples: interpolate or drop them "
            "(rec.pick([...])) before the analysis."
        )


def _spontaneous(
    rec: Recording, config: AnalysisConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from .detection import detect_bursts
    from .metrics import summarize
    from .preprocessing import filter_emg
    from .synchrony import detect_synchronous_bursts

    b = config.bursts
    if config.filter.enabled:
        f = config.filter
        rec = filter_emg(
            rec, f.l_freq, f.h_freq, notch=f.notch, order=f.order, q=f.q, picks=b.picks
        )
    bursts = detect_bursts(
        rec,
        method=b.method,
        picks=b.picks,
        min_duration_s=b.min_duration_s,
        merge_gap_s=b.merge_gap_s,
        tonic_min_s=b.tonic_min_s,
        band=b.band,
        discharge_range_hz=b.discharge_range_hz,
        **b.options,
    )
    sync = detect_synchronous_bursts(
        bursts, channels_info=rec.channels, **dataclasses.asdict(config.sync)
    )
    summary = summarize(bursts, sync, duration_s=rec.duration_s, channels=rec.channels).channels
    return bursts, sync, summary


#: Bursts starting from this long before to this long after a stimulus are evoked responses
#: (M-wave, LSR, F-wave, blink R1/R2), not spontaneous activity, seconds. The 20 ms before
#: cover the zero-phase filters' pre-ringing of the stimulus artefact, which the onset search
#: of :func:`~hfs_emg.detect_bursts` follows back.
STIMULUS_LOCKED_S: tuple[float, float] = (0.02, 0.1)


def _without_evoked(
    bursts: pd.DataFrame,
    sync: pd.DataFrame,
    summary: pd.DataFrame,
    events: pd.DataFrame | None,
    channels: pd.DataFrame,
    duration_s: float,
    config: AnalysisConfig,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Drop stimulus-locked bursts (isolated-discharge detection keeps M-waves otherwise).

    Only stimuli from a trigger channel or the recording's annotations count: stimuli guessed
    from simultaneous EMG jumps (``source="artifact"``) can be the onsets of synchronous
    spasms themselves.
    """
    if events is None or events.empty or bursts.empty:
        return bursts, sync, summary
    if "source" in events.columns:
        events = events[~events["source"].astype(str).str.startswith("artifact")]
        if events.empty:
            return bursts, sync, summary
    from .metrics import summarize
    from .synchrony import detect_synchronous_bursts

    stims = np.sort(events["onset_s"].to_numpy(float))
    on = bursts["onset_s"].to_numpy(float)
    nxt = np.searchsorted(stims, on, side="left")
    prev = nxt - 1
    before, after = STIMULUS_LOCKED_S
    locked = (prev >= 0) & (on - stims[np.maximum(prev, 0)] <= after)
    locked |= (nxt < stims.size) & (stims[np.minimum(nxt, stims.size - 1)] - on <= before)
    if not locked.any():
        return bursts, sync, summary
    attrs = dict(bursts.attrs)
    bursts = bursts[~locked].reset_index(drop=True)
    bursts.attrs = {**attrs, "stimulus_locked_excluded": int(locked.sum())}
    sync = detect_synchronous_bursts(
        bursts, channels_info=channels, **dataclasses.asdict(config.sync)
    )
    summary = summarize(bursts, sync, duration_s=duration_s, channels=channels).channels
    return bursts, sync, summary


def _evoked(
    rec: Recording, config: AnalysisConfig
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    from .events import find_stim_events
    from .lsr import lsr_trend, measure_lsr
    from .phases import phase_markers

    try:
        events = find_stim_events(rec, **dataclasses.asdict(config.stim))
    except NoStimulusError as err:
        logger.info("analyze: no stimulus, evoked analysis skipped (%s)", err)
        return None, None, None
    if len(events) < config.min_stimuli:
        logger.info(
            "analyze: %d stimulus event(s) < min_stimuli=%d, evoked analysis skipped",
            len(events),
            config.min_stimuli,
        )
        return None, None, None
    lsr = measure_lsr(
        rec,
        events=events,
        source=config.stim.source,
        label=config.stim.label,
        **dataclasses.asdict(config.lsr),
    )
    # the recording's own surgical-phase markers ("dural opening", "Teflon", "closure"...)
    trend = lsr_trend(lsr, phases=phase_markers(rec), **dataclasses.asdict(config.trend))
    return lsr, trend, events


def analyze(
    rec_or_path: Recording | str | os.PathLike[str],
    config: AnalysisConfig | None = None,
) -> AnalysisResult:
    """Analyse one recording: spontaneous bursts and synchrony, and the LSR if it was stimulated.

    Parameters
    ----------
    rec_or_path : Recording or path-like
        A recording in memory, or a file in any supported format (opened read-only). A file
        whose samples would take more than ``config.max_memory_mb`` is streamed in chunks of
        ``config.chunk_s`` seconds, with the same results as in memory.
    config : AnalysisConfig, optional
        Options of every step (default: every function's defaults).

    Returns
    -------
    AnalysisResult
        ``bursts``, ``synchronous``, ``summary``, ``lsr``, ``trend`` (None when no stimulus is
        found), ``config``, ``provenance``; ``.tables()`` gives the tables by name.

    Raises
    ------
    DataError
        A channel holds NaN or infinite samples.
    HfsEmgError
        Any error of the reader or of an analysis step (bad file, bad option).

    References
    ----------
    .. [1] Møller AR, Jannetta PJ. Microvascular decompression in hemifacial spasm:
       intraoperative electrophysiological observations. Neurosurgery 1985;16:612-618.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> sim = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=3)
    >>> res = analyze(sim.recording)
    >>> len(res.bursts) == len(sim.bursts), res.lsr is None
    (True, True)
    >>> sorted(res.tables())
    ['bursts', 'lsr', 'summary', 'synchronous', 'trend']
    """
    config = AnalysisConfig() if config is None else config
    if not isinstance(config, AnalysisConfig):
        raise TypeError(f"config must be an AnalysisConfig, got {type(config).__name__}.")
    path: Path | None = None
    streamed = False
    if isinstance(rec_or_path, Recording):
        rec = rec_or_path
    elif isinstance(rec_or_path, (str, os.PathLike)):
        from .io import open_recording

        path = Path(rec_or_path)
        with open_recording(path) as reader:
            size_mb = len(reader.ch_names) * reader.n_samples * 8 / 1e6
            if size_mb > config.max_memory_mb:
                from ._stream import analyze_streamed

                streamed = True
                bursts, sync, summary, lsr, trend, events = analyze_streamed(reader, config)
                first = reader.read(tmax=reader.tstart + 1.0)
                bursts, sync, summary = _without_evoked(
                    bursts, sync, summary, events, first.channels, reader.duration_s, config
                )
                return AnalysisResult(
                    bursts,
                    sync,
                    summary,
                    lsr,
                    trend,
                    events,
                    config,
                    _provenance(config, path, None, streamed),
                )
            rec = reader.read()
    else:
        raise TypeError(
            f"rec_or_path must be a Recording or a path, got {type(rec_or_path).__name__}."
        )
    _check_finite(rec)
    bursts, sync, summary = _spontaneous(rec, config)
    lsr, trend, events = _evoked(rec, config)
    bursts, sync, summary = _without_evoked(
        bursts, sync, summary, events, rec.channels, rec.duration_s, config
    )
    return AnalysisResult(
        bursts, sync, summary, lsr, trend, events, config, _provenance(config, path, rec, streamed)
    )
