"""Live input: Lab Streaming Layer streams in, and recordings replayed as real LSL streams.

A live stream is one more input to the same analysis (see ``DESIGN.md``): :class:`LslSource`
pulls every sample of an EMG stream (and the labels of its marker stream) through mne-lsl's
``StreamInlet``, converted to microvolts, with dropouts and reconnections reported;
:class:`ReplayStream` plays any recording :func:`hfs_emg.read_recording` opens as an LSL data
stream plus a string marker stream on this machine, for demos, training and tests.
"""

from __future__ import annotations

from .replay import ReplayStream
from .source import LslSource, StreamChangedError, StreamChunk, StreamNotFoundError

__all__ = [
    "LslSource",
    "ReplayStream",
    "StreamChangedError",
    "StreamChunk",
    "StreamNotFoundError",
]
