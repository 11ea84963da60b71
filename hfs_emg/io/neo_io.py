"""Spike2 ``.smr`` and Axon ``.abf`` files through neo's raw IO layer (chunked reads).

neo parses the header once; a window is read with ``get_analogsignal_chunk``, which reads only
those samples. Units are the strings the file stores (``"v"`` and ``" Volt"`` are volts, although
neo's quantities call ``"v"`` dimensionless), not neo's interpretation of them.

Spike2: waveform channels are grouped by sampling rate; a file with several rates raises
:class:`SamplingRateError` naming the groups unless ``sfreq=`` or ``picks`` choose one. Channels
of one rate are stored with sub-sample start offsets (the ADC scans them in turn); they are read
as one group starting at the earliest channel's first sample (skew < 1 sample, recorded in
``meta["t_start_s"]``). Event and marker channels become events labelled by the channel name
(marker codes in ``value``); spike-train channels (e.g. motor-unit discharges ``MU1``) become
events labelled by the channel name too.

ABF: gap-free files are read as they are. **Episodic files are concatenated**: the sweeps follow
one another without their inter-sweep gaps, a ``"sweep"`` event marks each sweep start (``value`` =
sweep index, ``orig_onset_s`` = its start on the acquisition clock), and times of such a
Recording are on the concatenated clock. ABF tags are not converted to events (neo reports ABF1
tag times and comments as zeros); their number is in ``meta["abf_n_tags"]``, with a warning.
"""

from __future__ import annotations

import struct
import warnings
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import CorruptFileError, HfsEmgWarning, UnsupportedFormatError
from ..recording import make_events
from ._base import BaseReader, guess_type

__all__ = ["AxonReader", "Spike2Reader"]

#: ABF2 section table order (Axon's ABF2 header layout, as neo's AxonRawIO reads it).
_ABF2_SECTIONS = (
    "ProtocolSection",
    "ADCSection",
    "DACSection",
    "EpochSection",
    "ADCPerDACSection",
    "EpochPerDACSection",
    "UserListSection",
    "StatsRegionSection",
    "MathSection",
    "StringsSection",
    "DataSection",
    "TagSection",
    "ScopeSection",
    "DeltaSection",
    "VoiceTagSection",
    "SynchArraySection",
    "AnnotationSection",
    "StatsSection",
)
_ABF2_LOOPED = frozenset(
    ("ADCSection", "DACSection", "EpochSection", "EpochPerDACSection", "TagSection")
)


class _NeoReader(BaseReader):
    def _open(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _parse_channels(self) -> None:
        self._io = self._open()
        self._io.parse_header()
        sig = self._io.header["signal_channels"]
        streams = list(self._io.header["signal_streams"]["id"])
        self.ch_names = [str(n) for n in sig["name"]]
        self.units = [str(u).strip() or None for u in sig["units"]]
        self.ch_types = [guess_type(n, u) for n, u in zip(self.ch_names, self.units, strict=True)]
        # Global channel -> (stream index, index inside the stream).
        self._where: list[tuple[int, int]] = []
        seen: dict[int, int] = {}
        for sid in sig["stream_id"]:
            s = streams.index(sid)
            self._where.append((s, seen.get(s, 0)))
            seen[s] = seen.get(s, 0) + 1

    def _chunk(self, seg: int, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        out = np.empty((len(picks), stop - start))
        by_stream: dict[int, list[int]] = {}
        for row, k in enumerate(picks):
            by_stream.setdefault(self._where[k][0], []).append(row)
        for s, rows in by_stream.items():
            inner = [self._where[picks[r]][1] for r in rows]
            raw = self._io.get_analogsignal_chunk(
                block_index=0,
                seg_index=seg,
                i_start=start,
                i_stop=stop,
                stream_index=s,
                channel_indexes=inner,
            )
            out[rows] = self._io.rescale_signal_raw_to_float(
                raw, dtype="float64", stream_index=s, channel_indexes=inner
            ).T
        return out


class Spike2Reader(_NeoReader):
    """Reader for CED Spike2 ``.smr`` (32-bit SON) files.

    Options
    -------
    sfreq : float
        Read only the waveform channels sampled at this rate (mixed-rate files).
    """

    extensions = (".smr",)
    format_name = "Spike2"

    def _open(self) -> Any:
        from neo.rawio import Spike2RawIO

        return Spike2RawIO(filename=str(self.path))

    def _parse_header(self) -> None:
        self._parse_channels()
        io = self._io
        if io.block_count() != 1 or io.segment_count(0) != 1:
            raise UnsupportedFormatError(
                f"{self.path}: Spike2 files with several segments are not supported."
            )
        n_streams = io.signal_streams_count()
        sizes = [io.get_signal_size(0, 0, s) for s in range(n_streams)]
        t0 = [float(io.get_signal_t_start(0, 0, s)) for s in range(n_streams)]
        rates = [float(io.get_signal_sampling_rate(s)) for s in range(n_streams)]
        self.ch_sfreqs = [round(rates[s], 6) for s, _ in self._where]
        self.ch_n_samples = [int(sizes[s]) for s, _ in self._where]
        self._ch_t0 = [t0[s] for s, _ in self._where]
        self.sfreq, self.n_samples = self.ch_sfreqs[0], self.ch_n_samples[0]
        self.meta = {"t_start_s": dict(zip(self.ch_names, self._ch_t0, strict=True))}

    def _restrict(self, rate: float) -> None:
        starts = [self._ch_t0[i] for i in self._rate_groups[rate]]
        super()._restrict(rate)
        self.tstart = min(starts)
        if (max(starts) - self.tstart) * rate >= 1:
            warnings.warn(
                f"{self.path.name}: the {rate:g} Hz channels start up to "
                f"{(max(starts) - self.tstart) * 1e3:.3f} ms apart (more than one sample); "
                "they are read as if aligned at the earliest start.",
                HfsEmgWarning,
                stacklevel=5,
            )

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        return self._chunk(0, start, stop, picks)

    @cached_property
    def _events(self) -> pd.DataFrame:
        io = self._io
        frames = []
        for i, ch in enumerate(io.header["event_channels"]):
            ts, dur, labels = io.get_event_timestamps(0, 0, i, None, None)
            onsets = io.rescale_event_timestamp(ts, "float64", i)
            codes = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce")
            durations = 0.0 if dur is None else io.rescale_epoch_duration(dur, "float64", i)
            frames.append(
                make_events(onsets, durations=durations, labels=str(ch["name"]), value=codes)
            )
        spikes = io.header["spike_channels"]
        names = [str(n) for n in spikes["name"]]
        for i, name in enumerate(names):
            ts = io.get_spike_timestamps(0, 0, i, None, None)
            label = name if names.count(name) == 1 else f"{name}#{spikes['id'][i]}"
            frames.append(make_events(io.rescale_spike_timestamp(ts, "float64"), labels=label))
        frames = [f for f in frames if len(f)]
        return make_events(pd.concat(frames, ignore_index=True)) if frames else make_events()

    def _read_events(self) -> pd.DataFrame:
        return self._events


class AxonReader(_NeoReader):
    """Reader for Axon ``.abf`` files (ABF1 and ABF2; episodic sweeps are concatenated)."""

    extensions = (".abf",)
    format_name = "Axon ABF"

    def _open(self) -> Any:
        from neo.rawio import AxonRawIO

        self._check_sections()
        return AxonRawIO(filename=str(self.path))

    def _check_sections(self) -> None:
        """Section counts that point beyond the file are corrupt (neo would loop over them).

        ABF2 keeps a table of sections at byte 76 (block index, bytes per entry, number of
        entries, 16 bytes each); ABF1 keeps the tag pointer and count at bytes 44/48 and the
        synch array at 92/96. A bit flip in a count makes neo iterate billions of times.
        """
        size = self.path.stat().st_size
        with open(self.path, "rb") as fh:
            head = fh.read(76 + 16 * len(_ABF2_SECTIONS))
        if head[:4] == b"ABF2" and len(head) >= 76 + 16 * len(_ABF2_SECTIONS):
            for k, name in enumerate(_ABF2_SECTIONS):
                block, nbytes, count = struct.unpack_from("<IIq", head, 76 + 16 * k)
                # neo reads the entries of these sections one by one: each is a record of at
                # least 16 bytes (a tag is 64, an ADC entry 128).
                short = name in _ABF2_LOOPED and count > 0 and nbytes < 16
                if count < 0 or short or (count > 0 and block * 512 + nbytes * count > size):
                    raise CorruptFileError(
                        f"{self.path}: corrupt ABF2 header, {name} declares {count} entries of "
                        f"{nbytes} bytes at block {block}, beyond the {size}-byte file."
                    )
        elif head[:4] == b"ABF " and len(head) >= 100:
            tag_ptr, n_tags = struct.unpack_from("<ii", head, 44)
            synch_ptr, n_synch = struct.unpack_from("<ii", head, 92)
            if n_tags < 0 or tag_ptr + 64 * n_tags > size:
                raise CorruptFileError(
                    f"{self.path}: corrupt ABF1 header, {n_tags} tag entries at byte {tag_ptr} lie "
                    f"beyond the {size}-byte file."
                )
            if n_synch < 0 or (n_synch > 0 and synch_ptr * 512 + 8 * n_synch > size):
                raise CorruptFileError(
                    f"{self.path}: corrupt ABF1 header, {n_synch} synch-array entries lie beyond "
                    f"the {size}-byte file."
                )

    def _parse_header(self) -> None:
        self._parse_channels()
        io = self._io
        n_seg = io.segment_count(0)
        self._sizes = np.array([io.get_signal_size(0, s, 0) for s in range(n_seg)])
        self._bounds = np.concatenate([[0], np.cumsum(self._sizes)])
        self._seg_t0 = np.array([float(io.get_signal_t_start(0, s, 0)) for s in range(n_seg)])
        self.sfreq = float(io.get_signal_sampling_rate(0))
        self.n_samples = int(self._bounds[-1])
        info = getattr(io, "_axon_info", {}) or {}
        tags = info.get("listTag", [])
        self.meta = {
            "n_sweeps": n_seg,
            "episodic": n_seg > 1,
            "abf_version": f"{float(info.get('fFileVersionNumber', 0.0)):.2f}",
            "abf_n_tags": len(tags),
        }
        if tags:
            warnings.warn(
                f"{self.path.name}: {len(tags)} ABF tag(s) are not converted to events (neo "
                "reports ABF1 tag times and comments as zeros); read them with pyabf if needed.",
                HfsEmgWarning,
                stacklevel=5,
            )

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        out = np.empty((len(picks), stop - start))
        first = int(np.searchsorted(self._bounds, start, side="right")) - 1
        last = int(np.searchsorted(self._bounds, stop, side="left"))
        for seg in range(first, last):  # one read per sweep the window touches
            lo, hi = max(start, self._bounds[seg]), min(stop, self._bounds[seg + 1])
            out[:, lo - start : hi - start] = self._chunk(
                seg, int(lo - self._bounds[seg]), int(hi - self._bounds[seg]), picks
            )
        return out

    def _read_events(self) -> pd.DataFrame:
        if len(self._sizes) == 1:
            return make_events()
        return make_events(
            self._bounds[:-1] / self.sfreq,
            labels="sweep",
            value=np.arange(len(self._sizes)),
            orig_onset_s=self._seg_t0,
        )
