"""Live input: Lab Streaming Layer streams in, and recordings replayed as real LSL streams.

A live stream is one more input to the same analysis (see ``DESIGN.md``): :class:`LslSource`
pulls every sample of an EMG stream (and the labels of its marker stream) through mne-lsl's
``StreamInlet``, converted to microvolts, with dropouts and reconnections reported;
:class:`ReplayStream` plays any recording :func:`hfs_emg.read_recording` opens as an LSL data
stream plus a string marker stream on this machine, for demos, training and tests;
:class:`ArraySource` feeds a recording directly (no LSL: benchmarks, tests);
:class:`EventLog` appends a session's events crash-safely;
:class:`hfs_emg.live.row_store.RowStore` keeps a session's LSR table in bounded memory (the
newest rows held, the others appended to ``lsr.parquet``); :func:`spontaneous_blocks` /
:class:`BlockAnalyser` analyse free-running EMG block by block with the offline code.
"""

from __future__ import annotations

from .event_log import EventLog
from .feed import ArraySource
from .replay import ReplayStream
from .source import LslSource, StreamChangedError, StreamChunk, StreamNotFoundError
from .spontaneous import BlockAnalyser, spontaneous_blocks

__all__ = [
    "ArraySource",
    "BlockAnalyser",
    "EventLog",
    "LslSource",
    "ReplayStream",
    "StreamChangedError",
    "StreamChunk",
    "StreamNotFoundError",
    "spontaneous_blocks",
]
