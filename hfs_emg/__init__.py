"""hfs_emg: electrophysiology of hemifacial spasm.

Load EMG and nerve-conduction recordings, filter them, detect (synchronous) spasm bursts, epoch
around stimuli, measure the lateral spread response and other evoked responses, and summarise.
"""

from __future__ import annotations

import logging

from ._errors import (
    ChannelError,
    CorruptFileError,
    DataError,
    HfsEmgError,
    HfsEmgWarning,
    NoStimulusError,
    ParameterError,
    SamplingRateError,
    UnitsError,
    UnsupportedFormatError,
)
from ._version import __version__
from .io import open_recording, read_recording, write_recording
from .recording import Recording, from_array, make_events

logging.getLogger("hfs_emg").addHandler(logging.NullHandler())

__all__ = [
    "ChannelError",
    "CorruptFileError",
    "DataError",
    "HfsEmgError",
    "HfsEmgWarning",
    "NoStimulusError",
    "ParameterError",
    "Recording",
    "SamplingRateError",
    "UnitsError",
    "UnsupportedFormatError",
    "__version__",
    "from_array",
    "make_events",
    "open_recording",
    "read_recording",
    "write_recording",
]
