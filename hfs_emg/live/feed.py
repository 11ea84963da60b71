"""Feed a recording to :class:`~hfs_emg.pipeline.monitor.LiveMonitor` directly, without LSL.

:class:`ArraySource` has the interface of :class:`~hfs_emg.live.LslSource` (``pull``,
``status``, ``sfreq``, ``ch_names``, ``ch_types``, ``units``, ``close``) and hands out a
recording's samples in chunks of ``chunk_s`` seconds, as fast as they are pulled (or paced at
``speed`` times real time), optionally ``repeat`` times in a row on one clock (a 4-hour session
from a one-minute recording, without holding 4 hours of samples). The recording's annotations
come out as markers with the chunk that holds them. For benchmarks (the CPU of a sweep without
the LSL threads, memory over 14,400 stimuli) and deterministic tests; a real session uses
:class:`~hfs_emg.live.LslSource`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .source import StreamChunk

__all__ = ["ArraySource"]


class ArraySource:
    """A recording served in chunks with the interface of :class:`~hfs_emg.live.LslSource`.

    Parameters
    ----------
    recording : Recording
        What to serve (samples in microvolts; its stim channels are the trigger).
    chunk_s : float
        Seconds of signal per pull.
    repeat : int
        Times the recording is served in a row (the clock continues; annotations repeat).
    speed : float or None
        Pace the chunks at this many times real time; None: as fast as pulled.
    markers : bool
        Serve the recording's annotations as markers (else the source has no marker stream).

    Examples
    --------
    >>> import numpy as np, hfs_emg as hfs
    >>> rec = hfs.from_array(np.ones((2, 1000)), 1000.0, ["Mentalis_L", "OrbOculi_L"])
    >>> src = ArraySource(rec, chunk_s=0.1, repeat=3)
    >>> n = 0
    >>> while not src.exhausted:
    ...     n += src.pull().data.shape[1]
    >>> n
    3000
    """

    def __init__(
        self,
        recording: Any,
        *,
        chunk_s: float = 0.05,
        repeat: int = 1,
        speed: float | None = None,
        markers: bool = True,
    ) -> None:
        self._rec = recording
        self.sfreq = float(recording.sfreq)
        self.ch_names = list(recording.ch_names)
        self.ch_types = [str(t).lower() for t in recording.ch_types]
        self.units = ["uV" if t != "stim" else None for t in self.ch_types]
        self._n = int(recording.n_samples)
        self._step = max(1, round(float(chunk_s) * self.sfreq))
        self._repeat = int(repeat)
        self._speed = speed
        self._pos = 0  # samples served, over all repetitions
        self._t0 = float(recording.tstart)
        ev = recording.events
        self._m_on = np.asarray(ev["onset_s"], float) - self._t0 if markers and len(ev) else None
        self._m_lab = [str(x) for x in ev["label"]] if self._m_on is not None else []
        # the monitor asks for the marker stream (None: no marker stream) and its start
        self._markers = object() if self._m_on is not None else None
        self.markers_live_since = 0.0
        self.status = "streaming"
        self._wall0: float | None = None

    @property
    def exhausted(self) -> bool:
        """Every sample has been served."""
        return self._pos >= self._n * self._repeat

    @property
    def samples_available(self) -> int:
        """Samples not served yet (the monitor drains them at the end)."""
        return self._n * self._repeat - self._pos

    @property
    def _inlet(self) -> ArraySource:  # LiveMonitor.run asks the inlet what is left
        return self

    def pull(self, timeout: float = 0.0) -> StreamChunk:
        """The next chunk (``chunk_s`` seconds; empty once exhausted)."""
        a, b = self._pos, min(self._pos + self._step, self._n * self._repeat)
        if self._speed is not None:
            if self._wall0 is None:
                self._wall0 = time.monotonic()
            due = self._wall0 + b / self.sfreq / self._speed
            wait = due - time.monotonic()
            if wait > timeout:
                time.sleep(max(0.0, timeout))
                return StreamChunk(np.zeros((len(self.ch_names), 0)), np.zeros(0))
            time.sleep(max(0.0, wait))
        if b <= a:
            return StreamChunk(np.zeros((len(self.ch_names), 0)), np.zeros(0))
        rep, i = divmod(a, self._n)
        j = min(b - rep * self._n, self._n)  # a chunk never spans two repetitions
        b = rep * self._n + j
        data = np.asarray(self._rec.data[:, i:j], dtype=np.float64)
        stamps = self._t0 + np.arange(a, b) / self.sfreq
        markers: list[tuple[float, str]] = []
        if self._m_on is not None:
            lo, hi = i / self.sfreq, j / self.sfreq
            k = np.flatnonzero((self._m_on >= lo) & (self._m_on < hi))
            off = self._t0 + rep * self._n / self.sfreq
            markers = [(float(off + self._m_on[m]), self._m_lab[m]) for m in k]
        self._pos = b
        return StreamChunk(data, stamps, markers, [])

    def close(self) -> None:
        """Nothing to close (the interface of :class:`~hfs_emg.live.LslSource`)."""
