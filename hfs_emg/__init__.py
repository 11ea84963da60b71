"""hfs_emg: electrophysiology of hemifacial spasm.

Load EMG and nerve-conduction recordings, filter them, detect (synchronous) spasm bursts, epoch
around stimuli, measure the lateral spread response and other evoked responses, and summarise.

Data flow: ``read_recording`` -> preprocessing (``filter_emg``, ``envelope``...) ->
``detect_bursts`` -> ``detect_synchronous_bursts`` -> ``summarize``; and for evoked work
``find_stim_events`` -> ``blank_stimulus_artifact`` -> ``make_epochs`` -> ``measure_lsr`` ->
``lsr_trend`` with the surgical ``phase_markers`` (plus ``measure_cmap``, ``measure_f_waves``,
``measure_blink_reflex``, ``blink_recovery_cycle``, the facial MEP ``measure_fmep`` ->
``fmep_trend``, the Z-L response ``measure_zl_response`` -> ``zl_trend``, the LSR morphology
``lsr_morphology`` and the free-running ``detect_a_trains`` -> ``train_time``). Visits over time:
``patient_timeline``.
"""

from __future__ import annotations

import logging

from . import _moved, datasets, plotting, signal, simulate
from ._chunking import process_chunked
from ._errors import (
    ChannelError,
    CorruptFileError,
    DataError,
    HfsEmgError,
    HfsEmgWarning,
    NoStimulusError,
    NotRegularFileError,
    OutputError,
    OutputLockedError,
    ParameterError,
    SamplingRateError,
    UnitsError,
    UnsupportedFormatError,
)
from ._version import __version__
from .artifact import blank_stimulus_artifact
from .detection import BURST_METHODS, detect_bursts
from .epochs import Epochs, Evoked, make_epochs
from .events import find_stim_events
from .fmep import fmep_trend, group_stimulus_trains, measure_fmep
from .free_running import classify_trains, detect_a_trains, train_time
from .io import open_recording, read_recording, write_recording
from .lsr import lsr_running_amplitude, lsr_trend, measure_lsr
from .metrics import summarize
from .morphology import lsr_morphology, summarize_morphology
from .motor_units import detect_units
from .ncs import (
    NcsResult,
    NormalLimits,
    blink_recovery_cycle,
    measure_blink_reflex,
    measure_cmap,
    measure_f_waves,
)
from .phases import phase_markers, phase_onsets
from .pipeline.analysis import AnalysisResult, analyze
from .pipeline.batch import BatchResult, run_batch
from .pipeline.config import AnalysisConfig, default_toml
from .pipeline.report import report
from .preprocessing import (
    bandpass_filter,
    envelope,
    estimate_noise,
    filter_emg,
    highpass_filter,
    lowpass_filter,
    notch_filter,
    rectify,
)
from .recording import Recording, from_array, make_events
from .responses import measure_responses
from .synchrony import detect_synchronous_bursts, synchrony_matrix
from .visits import Visit, patient_timeline
from .zl_response import measure_zl_response, vessel_sites, zl_trend

logging.getLogger("hfs_emg").addHandler(logging.NullHandler())

_moved.install()  # old module paths (hfs_emg.config, hfs_emg.batch...) still import

__all__ = [
    "BURST_METHODS",
    "AnalysisConfig",
    "AnalysisResult",
    "BatchResult",
    "ChannelError",
    "CorruptFileError",
    "DataError",
    "Epochs",
    "Evoked",
    "HfsEmgError",
    "HfsEmgWarning",
    "NcsResult",
    "NoStimulusError",
    "NormalLimits",
    "NotRegularFileError",
    "OutputError",
    "OutputLockedError",
    "ParameterError",
    "Recording",
    "SamplingRateError",
    "UnitsError",
    "UnsupportedFormatError",
    "Visit",
    "__version__",
    "analyze",
    "bandpass_filter",
    "blank_stimulus_artifact",
    "blink_recovery_cycle",
    "classify_trains",
    "datasets",
    "default_toml",
    "detect_a_trains",
    "detect_bursts",
    "detect_synchronous_bursts",
    "detect_units",
    "envelope",
    "estimate_noise",
    "filter_emg",
    "find_stim_events",
    "fmep_trend",
    "from_array",
    "group_stimulus_trains",
    "highpass_filter",
    "lowpass_filter",
    "lsr_morphology",
    "lsr_running_amplitude",
    "lsr_trend",
    "make_epochs",
    "make_events",
    "measure_blink_reflex",
    "measure_cmap",
    "measure_f_waves",
    "measure_fmep",
    "measure_lsr",
    "measure_responses",
    "measure_zl_response",
    "notch_filter",
    "open_recording",
    "patient_timeline",
    "phase_markers",
    "phase_onsets",
    "plotting",
    "process_chunked",
    "read_recording",
    "rectify",
    "report",
    "run_batch",
    "signal",
    "simulate",
    "summarize",
    "summarize_morphology",
    "synchrony_matrix",
    "train_time",
    "vessel_sites",
    "write_recording",
    "zl_trend",
]
