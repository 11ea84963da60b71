"""The orchestration layer: one analysis of a recording, and everything that runs or shows it.

:func:`~hfs_emg.pipeline.analysis.analyze` is the only orchestrator; streaming (long files),
the HTML report, batch and BIDS runs and the ``hfs-emg`` command line all go through it. One
import rule holds (``tests/test_layering.py``): nothing outside ``hfs_emg.pipeline`` imports
it (except the package's public re-exports and the old-path shims), and no import cycle exists.

Modules: :mod:`~hfs_emg.pipeline.config` (options), :mod:`~hfs_emg.pipeline.analysis`,
:mod:`~hfs_emg.pipeline.steps` (the steps both paths share), :mod:`~hfs_emg.pipeline.streaming`,
:mod:`~hfs_emg.pipeline.report`, :mod:`~hfs_emg.pipeline.batch`, :mod:`~hfs_emg.pipeline.bids`,
:mod:`~hfs_emg.pipeline.cli`.
"""

from __future__ import annotations

from .analysis import AnalysisResult, analyze
from .batch import BatchResult, run_batch
from .config import AnalysisConfig

__all__ = ["AnalysisConfig", "AnalysisResult", "BatchResult", "analyze", "run_batch"]
