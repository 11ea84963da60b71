"""Streaming (chunked) analysis of long recordings for :func:`hfs_emg.analysis.analyze`."""

from __future__ import annotations

from typing import Any

from .config import AnalysisConfig
from .io._base import BaseReader


def analyze_streamed(reader: BaseReader, config: AnalysisConfig) -> tuple[Any, ...]:
    """Placeholder: reads the whole file (chunked analysis not written yet)."""
    from .analysis import _check_finite, _evoked, _spontaneous

    rec = reader.read()
    _check_finite(rec)
    return (*_spontaneous(rec, config), *_evoked(rec, config))
