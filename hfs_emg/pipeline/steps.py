"""The analysis steps shared by the in-memory and the streamed path of :func:`analyze`.

:mod:`hfs_emg.pipeline.analysis` and :mod:`hfs_emg.pipeline.streaming` both call these, so the
streamed path never imports the analysis module (no import cycle).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from .._errors import DataError, NoStimulusError
from ..recording import Recording
from .config import AnalysisConfig

logger = logging.getLogger("hfs_emg")


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
    from ..detection import detect_bursts
    from ..metrics import summarize
    from ..preprocessing import filter_emg
    from ..synchrony import detect_synchronous_bursts

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


def _evoked(
    rec: Recording, config: AnalysisConfig
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    from ..events import find_stim_events
    from ..lsr import lsr_trend, measure_lsr

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
    trend = lsr_trend(lsr, **dataclasses.asdict(config.trend))
    return lsr, trend, events
