"""Pull a live EMG stream (and its markers) from Lab Streaming Layer without losing samples.

:class:`LslSource` resolves an LSL data stream by name (numeric, regular rate) and, when there
is one, its marker stream (a string stream named ``<name>-markers`` or of type ``Markers``
from the same host), and hands out :class:`StreamChunk` objects: the new samples in
microvolts (converted from each channel's declared LSL unit), their time stamps on the local
LSL clock (liblsl's ``clocksync`` processing, so they agree with the markers), and the markers that
arrived. mne-lsl's ``StreamInlet`` buffers up to ``max_buffered_s`` seconds inside liblsl, so
pulling every few tens of milliseconds never drops a sample.

Dropouts: when no sample arrives for ``lost_after_s``, :attr:`LslSource.status` becomes
``"signal lost"``; liblsl reconnects by itself when the same source comes back (``recover``),
and the first chunk after the return carries the gap (start and duration). A stream that comes
back with another sampling rate or channel set is refused with :class:`StreamChangedError`:
an analysis never mixes two montages silently.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np
import numpy.typing as npt

from .._errors import HfsEmgError
from ..units import scale_to_uv

__all__ = ["LslSource", "StreamChangedError", "StreamChunk", "StreamNotFoundError"]


class StreamNotFoundError(HfsEmgError, LookupError):
    """No LSL stream of that name answered within the timeout."""


class StreamChangedError(HfsEmgError, ValueError):
    """The stream came back with another sampling rate or channel set."""


@dataclass(frozen=True)
class StreamChunk:
    """Samples and markers that arrived since the previous pull.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n)
        Samples in microvolts (channels without a voltage unit as sent).
    stamps : ndarray, shape (n,)
        Time stamps in seconds on the local LSL clock.
    markers : list of (float, str)
        Marker time stamps (same clock) and labels.
    gaps : list of (float, float)
        ``(onset_s, duration_s)`` of each dropout that ended in this chunk.
    """

    data: npt.NDArray[np.float64]
    stamps: npt.NDArray[np.float64]
    markers: list[tuple[float, str]] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)


def _signature(sinfo: object) -> tuple[float, tuple[str, ...]]:
    return float(sinfo.sfreq), tuple(sinfo.get_channel_names() or [])  # type: ignore[attr-defined]


def _warm_clock(inlet: object, timeout: float) -> float:
    """The inlet's first clock-offset estimate (liblsl blocks the first pull for it);
    returns the monotonic time it was done."""
    with contextlib.suppress(Exception):  # not answered: the first pull estimates it
        inlet.time_correction(timeout=min(timeout, 2.0))  # type: ignore[attr-defined]
    return time.monotonic()


class LslSource:
    """Receive an LSL EMG stream and its marker stream.

    Parameters
    ----------
    name : str
        Name of the LSL data stream.
    timeout : float
        Seconds to wait for the stream to be found.
    marker_name : str or None
        Name of the marker stream (default ``f"{name}-markers"``; if absent, no markers).
    lost_after_s : float
        Seconds without a sample after which :attr:`status` is ``"signal lost"``.
    max_buffered_s : float
        Seconds of data liblsl keeps for this receiver between pulls.

    Examples
    --------
    >>> import os, numpy as np, hfs_emg as hfs
    >>> from hfs_emg.live import ReplayStream
    >>> rec = hfs.from_array(np.ones((2, 2000)), 1000.0, ["Mentalis_L", "OrbOculi_L"])
    >>> name = f"doc-src-{os.getpid()}"  # unique on this machine's LSL network
    >>> with ReplayStream(rec, name=name, speed=5.0) as player:
    ...     with LslSource(name, timeout=10) as src:
    ...         player.wait(timeout=20)
    ...         n = sum(src.pull(timeout=0.5).data.shape[1] for _ in range(4))
    True
    >>> n
    2000
    """

    def __init__(
        self,
        name: str,
        *,
        timeout: float = 10.0,
        marker_name: str | None = None,
        lost_after_s: float = 1.0,
        max_buffered_s: float = 360.0,
    ) -> None:
        from mne_lsl.lsl import StreamInlet, resolve_streams

        self.name = name
        self.lost_after_s = float(lost_after_s)
        found = [s for s in resolve_streams(timeout=timeout, name=name) if s.sfreq > 0]
        if not found:
            raise StreamNotFoundError(
                f"no regular LSL stream named {name!r} found within {timeout:g} s; streams "
                "are resolved on this machine's network interfaces (is the amplifier app or "
                "`hfs-emg monitor --replay` running?)."
            )
        self._inlet = StreamInlet(
            found[0],
            max_buffered=int(max_buffered_s),
            recover=True,
            processing_flags=("clocksync",),
        )
        # (the samples' inlet estimates its clock offset at its first pull, which holds that
        # pull ~0.6 s; estimated earlier, liblsl's next estimate, a few microseconds off, would
        # fall inside the first seconds of the stream and step the time stamps there)
        self._inlet.open_stream(timeout=timeout)
        sinfo = self._inlet.get_sinfo(timeout=timeout)
        self.sfreq, names = _signature(sinfo)
        self.ch_names = list(names) or [f"ch{i + 1}" for i in range(sinfo.n_channels)]
        units = sinfo.get_channel_units() or [None] * len(self.ch_names)
        self.units = [None if u in (None, "", "none") else str(u) for u in units]
        self._scale = np.array(
            [scale_to_uv("uV" if u == "microvolts" else u) or 1.0 for u in self.units]
        )[:, None]
        ch_types = sinfo.get_channel_types() or [None] * len(self.ch_names)
        self.ch_types = [str(t).lower() if t else None for t in ch_types]
        mname = marker_name or f"{name}-markers"
        markers = [s for s in resolve_streams(timeout=min(timeout, 2.0), name=mname)]
        self._markers = None
        #: Monotonic time from which markers are pulled (None while the marker inlet's clock
        #: offset is not estimated yet; 0 without a marker stream).
        self.markers_live_since: float | None = 0.0 if not markers else None
        if markers:
            self._markers = StreamInlet(
                markers[0],
                max_buffered=int(max_buffered_s),
                recover=True,
                processing_flags=("clocksync",),
            )
            # liblsl estimates the clock offset at the first pull of each inlet with
            # "clocksync", which holds that pull (and so the labels of the first sweeps) for
            # ~0.6 s: asked for here, before the stream is opened (liblsl's time service
            # answers without it; a replay starts sending once this inlet is open)
            self.markers_live_since = _warm_clock(self._markers, timeout)
            self._markers.open_stream(timeout=timeout)
        self._last_stamp: float | None = None
        self._last_arrival = time.monotonic()
        self.status = "streaming"

    def pull(self, timeout: float = 0.0) -> StreamChunk:
        """Everything that arrived since the last pull (waits up to ``timeout`` for data)."""
        # liblsl's pull_chunk with a timeout blocks until max_samples have arrived or the
        # stream pauses; wait for the first sample in liblsl itself instead (pull_sample with
        # the timeout: no polling, which cost ~25 ms of CPU per second under load), then pull
        # what else is there at once.
        first = None
        if timeout > 0 and not self._inlet.samples_available:
            sample, stamp = self._inlet.pull_sample(timeout=timeout)
            if stamp is not None:  # (a view of mne-lsl's buffer: copied)
                first = (np.array(sample, dtype=np.float64), float(stamp))
        data, stamps = self._inlet.pull_chunk(timeout=0.0, max_samples=1 << 20)
        # mne-lsl returns views of buffers it reuses on the next pull: copy before keeping them.
        x = np.array(data, dtype=np.float64).reshape(-1, len(self.ch_names))
        t = np.array(stamps, dtype=np.float64)
        if first is not None:
            x = np.concatenate([first[0][None, :], x])
            t = np.concatenate([[first[1]], t])
        x = x.T * self._scale
        gaps: list[tuple[float, float]] = []
        now = time.monotonic()
        if t.size:
            if self._last_stamp is not None:
                step = np.diff(np.concatenate([[self._last_stamp], t]))
                idx = np.flatnonzero(step > 5.0 / self.sfreq)
                gaps = [(float(t[i] - step[i] + 1 / self.sfreq), float(step[i] - 1 / self.sfreq))
                        for i in idx]  # fmt: skip
            if gaps or self.status == "signal lost":  # back after a dropout: same stream?
                self._check_signature()
            self._last_stamp = float(t[-1])
            self._last_arrival = now
            self.status = "streaming"
        elif now - self._last_arrival > self.lost_after_s:
            self.status = "signal lost"
        markers: list[tuple[float, str]] = []
        # markers only when there are some, 64 at a time: mne-lsl frees every pointer of a
        # string chunk's buffer (1024 by default) in a Python loop at each pull, which cost
        # the monitor thread ~35 ms of CPU per second when pulled at every step
        while self._markers is not None and self.markers_live_since is not None:
            if not self._markers.samples_available:
                break
            labels, mstamps = self._markers.pull_chunk(timeout=0.0, max_samples=64)
            mstamps = np.array(mstamps, dtype=np.float64)
            markers += [
                (float(s), str(lab[0] if isinstance(lab, list | tuple) else lab))
                for lab, s in zip(labels, mstamps, strict=True)
            ]
            if len(labels) < 64:
                break
        return StreamChunk(x, t, markers, gaps)

    def _check_signature(self) -> None:
        sinfo = self._inlet.get_sinfo(timeout=1.0)
        sfreq, names = _signature(sinfo)
        if sfreq != self.sfreq or (names and list(names) != self.ch_names):
            raise StreamChangedError(
                f"LSL stream {self.name!r} changed: {self.sfreq:g} Hz {self.ch_names} -> "
                f"{sfreq:g} Hz {list(names)}; start a new session for a new montage."
            )

    def close(self) -> None:
        """Close the inlets."""
        for inlet in (self._inlet, self._markers):
            if inlet is not None:
                inlet.close_stream()

    def __enter__(self) -> LslSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
