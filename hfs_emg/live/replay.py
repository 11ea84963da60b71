"""Play a recording as a real LSL stream (data + string markers), at any speed.

mne-lsl's ``PlayerLSL`` plays a Raw at its real rate only and stamps each chunk with the
current clock; a replay for training and tests needs a speed factor and time stamps that keep
the recording's own timing (so that stimulus times, gaps and the analysis of what arrives
equal the offline analysis of the file). :class:`ReplayStream` therefore pushes through
mne-lsl's public ``StreamOutlet`` directly: sample ``i`` is stamped ``t0 + i / sfreq`` and
sent when the wall clock reaches ``t0 + i / (sfreq * speed)``; each event of the recording is
pushed on the marker stream (``<name>-markers``, type ``Markers``, one string channel) with
the time stamp of its onset.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

import numpy as np

from .._errors import ParameterError
from ..recording import Recording

__all__ = ["ReplayStream"]

_LSL_TYPES = {"emg": "EMG", "stim": "STIM", "ecg": "ECG", "eeg": "EEG"}


class ReplayStream:
    """Replay a recording as an LSL EMG stream and a marker stream, in a background thread.

    Parameters
    ----------
    rec : Recording or path-like
        What to play (a path is read with :func:`hfs_emg.read_recording`).
    name : str
        LSL stream name; the marker stream is ``f"{name}-markers"``.
    speed : float
        Playback speed (1 = real time; 10 = ten times faster). Time stamps keep the recording's
        timing whatever the speed.
    chunk_s : float
        Duration of each pushed chunk in seconds of recording.
    source_id : str
        LSL source id (a receiver recovers a lost stream by it).
    wait_consumer_s : float
        Seconds to wait for a receiver to connect before the first sample is sent (LSL delivers
        only what is pushed after a receiver connects; a replay meant to be analysed whole waits
        for it). 0 plays at once.

    Examples
    --------
    >>> import os, numpy as np, hfs_emg as hfs
    >>> rec = hfs.from_array(np.zeros((1, 1000)), 1000.0, ["Mentalis_L"])
    >>> name = f"doc-replay-{os.getpid()}"
    >>> with ReplayStream(rec, name=name, speed=20.0, wait_consumer_s=0) as player:
    ...     player.wait(timeout=10)
    True
    """

    def __init__(
        self,
        rec: Recording | str | os.PathLike[str],
        *,
        name: str = "hfs_emg-replay",
        speed: float = 1.0,
        chunk_s: float = 0.02,
        source_id: str = "hfs_emg-replay",
        wait_consumer_s: float = 10.0,
    ) -> None:
        if not isinstance(rec, Recording):
            from ..io import read_recording

            rec = read_recording(Path(rec))
        if not np.isfinite(speed) or speed <= 0:
            raise ParameterError(f"speed must be a positive number, got {speed!r}.")
        if not np.isfinite(chunk_s) or chunk_s <= 0:
            raise ParameterError(f"chunk_s must be positive seconds, got {chunk_s!r}.")
        self.rec = rec
        self.name = name
        self.speed = float(speed)
        self.chunk = max(1, round(chunk_s * rec.sfreq))
        self.source_id = source_id
        self.wait_consumer_s = float(wait_consumer_s)
        self._stop = threading.Event()
        self._done = threading.Event()
        self._drop: list[tuple[float, float]] = []
        self._thread: threading.Thread | None = None
        self.t0: float | None = None
        self.error: BaseException | None = None

    # ------------------------------------------------------------------ outlets
    def _outlets(self) -> tuple[object, object]:
        from mne_lsl.lsl import StreamInfo, StreamOutlet

        rec = self.rec
        info = StreamInfo(self.name, "EMG", rec.n_channels, rec.sfreq, "float32", self.source_id)
        info.set_channel_names(list(rec.ch_names))
        info.set_channel_types([_LSL_TYPES.get(t, "MISC") for t in rec.channels["type"]])
        info.set_channel_units(
            ["microvolts" if u == "uV" else (u or "none") for u in rec.channels["unit"]]
        )
        markers = StreamInfo(
            f"{self.name}-markers", "Markers", 1, 0.0, "string", f"{self.source_id}-markers"
        )
        return StreamOutlet(info, chunk_size=self.chunk), StreamOutlet(markers)

    def drop(self, start_s: float, duration_s: float) -> None:
        """Simulate a dropout: the samples of ``[start_s, start_s + duration_s)`` (recording
        time from the first sample) are never sent, as when an amplifier link fails."""
        self._drop.append((float(start_s), float(start_s) + float(duration_s)))

    def _run(self) -> None:
        from mne_lsl.lsl import local_clock

        try:
            data_out, marker_out = self._outlets()
            rec = self.rec
            x = np.ascontiguousarray(rec.data.T, dtype=np.float32)
            ev = rec.events.sort_values("onset_s")
            ev_samples = np.rint((ev["onset_s"].to_numpy() - rec.tstart) * rec.sfreq)
            ev_labels = ev["label"].astype(str).to_list()
            k = 0
            if self.wait_consumer_s > 0:
                data_out.wait_for_consumers(timeout=self.wait_consumer_s)
                # a receiver opens the marker stream just after the data stream
                marker_out.wait_for_consumers(timeout=min(self.wait_consumer_s, 3.0))
            t0 = self.t0 = local_clock()
            for start in range(0, rec.n_samples, self.chunk):
                if self._stop.is_set():
                    return
                stop = min(start + self.chunk, rec.n_samples)
                wait = t0 + stop / (rec.sfreq * self.speed) - local_clock()
                if wait > 0:
                    self._stop.wait(wait)
                stamps = t0 + np.arange(start, stop) / rec.sfreq
                rel = np.arange(start, stop) / rec.sfreq
                keep = np.ones(stop - start, dtype=bool)
                for a, b in self._drop:
                    keep &= ~((rel >= a) & (rel < b))
                if keep.sum() > 1:
                    data_out.push_chunk(x[start:stop][keep], timestamp=stamps[keep])
                elif keep.any():
                    data_out.push_sample(x[start:stop][keep][0], timestamp=stamps[keep][0])
                while k < len(ev_samples) and ev_samples[k] < stop:
                    marker_out.push_sample([ev_labels[k]], timestamp=t0 + ev_samples[k] / rec.sfreq)
                    k += 1
            self._done.set()
            self._stop.wait()  # the outlets live until stop(): receivers pull what is left
        except BaseException as err:  # reported to the caller through .error and wait()
            self.error = err
        finally:
            self._done.set()

    # ------------------------------------------------------------------ control
    def start(self) -> ReplayStream:
        """Start playing in a background thread (returns self)."""
        self._thread = threading.Thread(target=self._run, name=f"replay-{self.name}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the whole recording has been sent; True when it has."""
        done = self._done.wait(timeout)
        if self.error is not None:
            raise self.error
        return done

    def stop(self) -> None:
        """Stop playing and close the outlets."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ReplayStream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
