"""XDF files (Lab Streaming Layer sessions recorded by LabRecorder) through ``pyxdf``.

An XDF file holds several streams, each with its own clock-synchronised time stamps. One
regularly sampled numeric stream becomes the recording (option ``stream=``: its name; default
the regular numeric stream with the most channels, then the highest rate); every *string*
stream (markers: stimulus labels, surgical phases, notes) becomes events, its time stamps put
on the recording's clock. A numeric stream with a nominal rate of 0 (irregular) cannot be a
recording.

Time stamps come from ``pyxdf.load_xdf`` with clock-offset synchronisation and de-jittering
(broken at gaps), so ``tstart`` is the LSL time of the first sample. Gaps in the data stream
(a dropped connection, seen as a time-stamp step far above ``1 / sfreq``) are reported as
events labelled ``"gap"`` (with their duration) and warned about: the samples themselves are
contiguous in the file, so a time after a gap would otherwise be off by the gap's length.
Units come from the stream's ``<desc><channels><channel><unit>`` entries when present.

The file is read whole on first access (XDF has no index for windows); reading a window of a
long session therefore costs the whole file once, then windows are slices.

References
----------
Kothe C, et al. The Lab Streaming Layer for synchronized multimodal recording. bioRxiv 2024.
XDF specification: https://github.com/sccn/xdf/wiki/Specifications
"""

from __future__ import annotations

import warnings
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import CorruptFileError, HfsEmgWarning, UnsupportedFormatError
from ..recording import make_events
from ._base import BaseReader

__all__ = ["XdfReader"]

#: A time-stamp step larger than this many sample periods is a gap in the data stream.
GAP_FACTOR = 5.0


def _first(info: dict[str, Any], key: str, default: str = "") -> str:
    value = info.get(key, [default])
    if isinstance(value, list):
        value = value[0] if value else default
    return default if value is None else str(value)


def _channels(info: dict[str, Any], n: int) -> tuple[list[str], list[str | None], list[str]]:
    """Labels, units and types from ``<desc><channels>`` (missing entries filled)."""
    labels: list[str] = []
    units: list[str | None] = []
    types: list[str] = []
    try:
        chans = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        chans = []
    for i in range(n):
        ch = chans[i] if i < len(chans) and isinstance(chans[i], dict) else {}
        labels.append(_first(ch, "label") or f"ch{i + 1}")
        units.append(_first(ch, "unit") or None)
        types.append(_first(ch, "type").lower())
    return labels, units, types


class XdfReader(BaseReader):
    """Reader for XDF files (``.xdf``, ``.xdfz``).

    Options
    -------
    stream : str
        Name of the stream to read as the recording (default: the regular numeric stream
        with the most channels, then the highest nominal rate).
    """

    extensions = (".xdf", ".xdfz")
    format_name = "XDF"

    def _parse_header(self) -> None:
        streams = self._streams
        numeric = [
            s
            for s in streams
            if _first(s["info"], "channel_format") != "string"
            and np.asarray(s.get("time_series", [])).ndim == 2
        ]
        want = self.options.get("stream")
        if want is not None:
            chosen = [s for s in numeric if _first(s["info"], "name") == want]
            if not chosen:
                names = sorted(_first(s["info"], "name") for s in numeric)
                raise UnsupportedFormatError(
                    f"{self.path}: no numeric stream named {want!r}; numeric streams: {names}."
                )
            data_stream = chosen[0]
        else:
            regular = [s for s in numeric if float(_first(s["info"], "nominal_srate", "0")) > 0]
            if not regular:
                raise UnsupportedFormatError(
                    f"{self.path}: no regularly sampled numeric stream (nominal_srate > 0) to "
                    "read as a recording."
                )
            data_stream = max(
                regular,
                key=lambda s: (
                    int(_first(s["info"], "channel_count", "0")),
                    float(_first(s["info"], "nominal_srate", "0")),
                ),
            )
        info = data_stream["info"]
        sfreq = float(_first(info, "nominal_srate", "0"))
        if not np.isfinite(sfreq) or sfreq <= 0:
            raise CorruptFileError(
                f"{self.path}: stream {_first(info, 'name')!r} has nominal_srate={sfreq!r}; "
                "an irregular stream cannot be read as a recording."
            )
        samples = np.asarray(data_stream["time_series"])
        stamps = np.asarray(data_stream["time_stamps"], dtype=np.float64)
        if samples.ndim != 2 or samples.shape[0] != stamps.size or stamps.size == 0:
            raise CorruptFileError(
                f"{self.path}: stream {_first(info, 'name')!r} holds no samples or its time "
                f"stamps ({stamps.size}) do not match its samples {samples.shape}."
            )
        if not np.all(np.isfinite(stamps)):
            raise CorruptFileError(f"{self.path}: non-finite time stamps in the data stream.")
        labels, units, types = _channels(info, samples.shape[1])
        self._samples = samples
        self._stamps = stamps
        self._stream_name = _first(info, "name")
        self.sfreq = sfreq
        self.n_samples = samples.shape[0]
        self.ch_names = labels
        self.units = units
        self.ch_types = [t if t in ("emg", "stim", "misc", "ecg", "eeg") else None for t in types]
        self.tstart = float(stamps[0])
        self.meta = {
            "stream": self._stream_name,
            "stream_type": _first(info, "type"),
            "n_streams": len(streams),
        }

    @cached_property
    def _streams(self) -> list[dict[str, Any]]:
        import pyxdf

        # De-jitter within segments only: a step above GAP_FACTOR sample periods is a gap (a
        # break), not jitter to be smoothed over (pyxdf's default threshold is 1 s / 500
        # samples, which would spread a shorter dropout over the neighbouring samples).
        streams, _ = pyxdf.load_xdf(
            str(self.path),
            jitter_break_threshold_seconds=0.0,
            jitter_break_threshold_samples=GAP_FACTOR,
        )
        if not streams:
            raise CorruptFileError(f"{self.path}: the XDF file holds no stream.")
        return list(streams)

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        return np.asarray(self._samples[start:stop][:, picks], dtype=np.float64).T

    def _gaps(self) -> pd.DataFrame:
        step = np.diff(self._stamps)
        expected = 1.0 / self.sfreq
        idx = np.flatnonzero(step > GAP_FACTOR * expected)
        if idx.size:
            warnings.warn(
                f"{self.path.name}: {idx.size} gap(s) in stream {self._stream_name!r} (largest "
                f"{step[idx].max():.3f} s); the samples are read contiguously, so times after "
                "a gap are earlier than on the LSL clock. The gaps are events labelled 'gap'.",
                HfsEmgWarning,
                stacklevel=4,
            )
        onset = self.tstart + (idx + 1) / self.sfreq
        return make_events(onset, labels=["gap"] * idx.size, durations=step[idx] - expected)

    def _read_events(self) -> pd.DataFrame:
        rows = [self._gaps()]
        for s in self._streams:
            if _first(s["info"], "channel_format") != "string":
                continue
            stamps = np.asarray(s.get("time_stamps", []), dtype=np.float64)
            values = s.get("time_series", [])
            if stamps.size == 0:
                continue
            labels = [str(v[0]) if isinstance(v, list | tuple) and v else str(v) for v in values]
            # Marker times on the LSL clock -> the recording's sample clock (same origin).
            rows.append(make_events(stamps, labels=labels, stream=_first(s["info"], "name")))
        events = pd.concat([r for r in rows if len(r)], ignore_index=True) if rows else None
        if events is None or events.empty:
            return make_events()
        return events.sort_values("onset_s", kind="stable").reset_index(drop=True)
