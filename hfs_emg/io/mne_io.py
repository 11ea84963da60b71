"""BrainVision (``.vhdr``) and FIF (``.fif``) files through MNE, opened with ``preload=False``.

MNE parses the header once; a window is read with ``raw.get_data(start=, stop=)``, which touches
only that part of the data file. Units are taken from what the file declares: MNE returns
voltages in volts (converted to microvolts here) and BrainVision micro-siemens in siemens (scaled
back to the declared unit); any other unit is kept as stored, typed ``misc``, with one
:class:`HfsEmgWarning` when it is unknown. Events: MNE annotations (BrainVision markers become
``"Stimulus/S253"``-style labels, with the number in ``value``) and rising edges of FIF stim
channels.
"""

from __future__ import annotations

import re
import warnings
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import CorruptFileError, HfsEmgWarning, UnsupportedFormatError
from ..recording import CH_TYPES, make_events
from ..units import normalize_unit
from ._base import BaseReader, rising_edges

__all__ = ["BrainVisionReader", "FifReader"]

_CHANNEL_LINE = re.compile(r"^Ch(\d+)=(.*)$")
_CODE = re.compile(r"(\d+)\s*$")
#: BinaryFormat values of the BrainVision specification that MNE reads.
_BV_FORMATS = ("INT_16", "INT_32", "IEEE_FLOAT_32")


def _inside_folder(name: str) -> bool:
    """True for a plain relative file name (no absolute path, drive or ``..`` component)."""
    parts = re.split(r"[\\/]", name)
    return not (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts)


class _MneReader(BaseReader):
    def _open(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _orig_units(self) -> list[str | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _parse_header(self) -> None:
        self._raw = self._open()
        raw = self._raw
        self.sfreq = float(raw.info["sfreq"])
        self.n_samples = int(raw.n_times)
        self.ch_names = list(raw.ch_names)
        self.tstart = float(raw.first_time)
        types = raw.get_channel_types()
        self.ch_types = [t if t in CH_TYPES else "misc" for t in types]
        declared = self._orig_units()
        self.units = []
        self._scale = np.ones(len(self.ch_names))
        for i, (unit, kind) in enumerate(zip(declared, self.ch_types, strict=True)):
            if kind == "stim":
                self.units.append(None)
            elif normalize_unit(unit) is not None:
                self.units.append("V")  # MNE returns volts
                self.ch_types[i] = kind if kind != "misc" else "emg"
            else:
                # MNE multiplies by a per-unit "range" (1e-6 for µS...): undo it so the values
                # are in the unit the file declares.
                self.units.append(unit)
                self._scale[i] = 1.0 / float(raw.info["chs"][i]["range"] or 1.0)
                self.ch_types[i] = "misc"
        date = raw.info["meas_date"]
        self.meta = {"meas_date": date, "mne_types": dict(zip(self.ch_names, types, strict=True))}

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        data = self._raw.get_data(picks=picks, start=start, stop=stop)
        return data * self._scale[picks, None]

    @cached_property
    def _events(self) -> pd.DataFrame:
        ann = self._raw.annotations
        labels = [str(d) for d in ann.description]
        codes = [_CODE.search(lab) for lab in labels]
        frames = [
            make_events(
                np.asarray(ann.onset, dtype=float),
                durations=np.asarray(ann.duration, dtype=float),
                labels=labels,
                value=[float(m.group(1)) if m else np.nan for m in codes],
            )
        ]
        for k, kind in enumerate(self.ch_types or []):
            if kind == "stim":
                codes_k = self._raw.get_data(picks=[k])[0]
                frames.append(rising_edges(codes_k, self.sfreq, self.tstart, self.ch_names[k]))
        frames = [f for f in frames if len(f)]
        return make_events(pd.concat(frames, ignore_index=True)) if frames else make_events()

    def _read_events(self) -> pd.DataFrame:
        return self._events


class BrainVisionReader(_MneReader):
    """Reader for BrainVision ``.vhdr`` (+ ``.vmrk``, ``.eeg``) through MNE."""

    extensions = (".vhdr",)
    format_name = "BrainVision"

    def _open(self) -> Any:
        import mne

        self._check_vhdr()
        raw = mne.io.read_raw_brainvision(self.path, preload=False, verbose="error")
        self._check_markers(raw.n_times)
        return raw

    def _text(self) -> str:
        """The header text decoded as MNE does: its ``Codepage`` (ANSI = cp1252), else latin-1."""
        raw = self.path.read_bytes()
        cp = re.search(r"Codepage=(.+)", raw.decode("ascii", "ignore"), re.IGNORECASE)
        codepage = cp.group(1).strip() if cp else "utf-8"
        codepage = "cp1252" if codepage.upper() == "ANSI" else codepage
        try:
            return raw.decode(codepage)
        except (UnicodeDecodeError, LookupError):
            return raw.decode("latin-1")

    def _setting(self, key: str) -> str | None:
        m = re.search(rf"^\s*{key}\s*=(.*)$", self._text(), re.MULTILINE | re.IGNORECASE)
        return m.group(1).strip() if m else None

    def _check_vhdr(self) -> None:
        """Header fields MNE would misread or fail on obscurely, and files outside the folder."""
        interval = self._setting("SamplingInterval")
        try:
            value = float(interval) if interval is not None else None
        except ValueError:
            value = float("nan")
        if value is not None and not (np.isfinite(value) and value > 0):
            raise CorruptFileError(
                f"{self.path}: corrupt header, field 'SamplingInterval' holds {interval!r}; it "
                "must be a finite number of microseconds > 0."
            )
        n_ch = self._setting("NumberOfChannels")
        if n_ch is not None and not (n_ch.isdigit() and int(n_ch) > 0):
            raise CorruptFileError(
                f"{self.path}: corrupt header, field 'NumberOfChannels' holds {n_ch!r}, not a "
                "positive integer."
            )
        fmt = self._setting("BinaryFormat")
        data_format = (self._setting("DataFormat") or "BINARY").upper()
        if data_format == "BINARY" and fmt is not None and fmt.upper() not in _BV_FORMATS:
            raise UnsupportedFormatError(
                f"{self.path}: BinaryFormat={fmt!r} is not supported; BrainVision binary data "
                f"must be one of {', '.join(_BV_FORMATS)}."
            )
        for key in ("DataFile", "MarkerFile"):
            name = self._setting(key)
            if name is not None and not _inside_folder(name):
                raise CorruptFileError(
                    f"{self.path}: {key}={name!r} points outside the header's own folder; "
                    "hfs_emg reads only files beside the .vhdr (a plain file name)."
                )

    def _check_markers(self, n_times: int) -> None:
        """A missing marker file, or markers after the last sample (truncated data): warn."""
        mrk = self._setting("MarkerFile")
        path = self.path.parent / mrk if mrk else None
        if path is None or not path.is_file():
            what = f"its marker file {mrk!r} is missing" if mrk else "it names no MarkerFile"
            warnings.warn(
                f"{self.path.name}: {what}, so the recording is read without events (markers).",
                HfsEmgWarning,
                stacklevel=6,
            )
            return
        text = path.read_text("utf-8", "replace")
        pos = [int(m.group(1)) for m in re.finditer(r"^Mk\d+=[^,]*,[^,]*,(\d+)", text, re.M)]
        late = [p for p in pos if p > n_times]
        if late:
            warnings.warn(
                f"{self.path.name}: {len(late)} marker(s) lie after the last of the {n_times} "
                "samples (is the data file truncated?); they are dropped.",
                HfsEmgWarning,
                stacklevel=6,
            )

    def _orig_units(self) -> list[str | None]:
        # Read the unit strings from the header ourselves: MNE reports some as "n/a".
        text = self._text()
        section = text.split("[Channel Infos]", 1)[-1].split("\n[", 1)[0]
        units: dict[int, str] = {}
        for line in section.splitlines():
            m = _CHANNEL_LINE.match(line.strip())
            if m:
                props = m.group(2).split(",")
                units[int(m.group(1))] = props[3].strip() if len(props) > 3 else ""
        # The BrainVision specification: no or an empty unit means microvolts.
        out = [units.get(i + 1, "") or "µV" for i in range(len(self._raw.ch_names))]
        return [u.replace("μ", "µ") for u in out]


class FifReader(_MneReader):
    """Reader for MNE/Neuromag ``.fif`` raw files (``preload=False``)."""

    extensions = (".fif",)
    format_name = "FIF"

    def _open(self) -> Any:
        import mne

        return mne.io.read_raw_fif(self.path, preload=False, verbose="error")

    def _orig_units(self) -> list[str | None]:
        from mne.io.constants import FIFF

        return ["V" if ch["unit"] == FIFF.FIFF_UNIT_V else None for ch in self._raw.info["chs"]]
