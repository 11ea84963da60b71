"""WFDB records (PhysioNet ``.hea`` header + signal files) through the ``wfdb`` package.

The header is read once with ``wfdb.rdheader``; a window is read with
``wfdb.rdrecord(sampfrom=, sampto=)``, which reads only those samples. Units are the header's
(``mv`` in lower case, as in PhysioNet emgdb, is millivolts). Annotations are read from the
annotation file ``<record>.<annotator>`` when it exists (option ``annotator=``, default ``"atr"``):
each becomes an event labelled by its symbol (or aux note when the symbol is ``"+"``).
Records with several samples per frame (channels at different rates) are refused, because
``wfdb`` would average them silently.
"""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import CorruptFileError, UnsupportedFormatError
from ..recording import make_events
from ._base import BaseReader, guess_type

__all__ = ["WfdbReader"]

_BYTES = {
    "8": 1,
    "16": 2,
    "61": 2,
    "80": 1,
    "160": 2,
    "212": 1.5,
    "310": 4 / 3,
    "311": 4 / 3,
    "24": 3,
    "32": 4,
}


class WfdbReader(BaseReader):
    """Reader for WFDB records: pass the ``.hea`` file.

    Options
    -------
    annotator : str
        Extension of the annotation file to read (default ``"atr"``; ignored when absent).
    """

    extensions = (".hea",)
    format_name = "WFDB"

    def _parse_header(self) -> None:
        import wfdb

        self._record = str(self.path.with_suffix(""))
        self._check_record_line()
        hdr = wfdb.rdheader(self._record)
        spf = [int(s or 1) for s in (hdr.samps_per_frame or [])]
        if any(s > 1 for s in spf):
            raise UnsupportedFormatError(
                f"{self.path}: channels with several samples per frame (different rates, "
                f"samps_per_frame={spf}) are not supported; wfdb would average them."
            )
        if not hdr.sig_len:
            raise UnsupportedFormatError(f"{self.path}: the header declares no signal length.")
        self._check_size(hdr)
        self.sfreq = float(hdr.fs)
        self.n_samples = int(hdr.sig_len)
        self.ch_names = [str(n) for n in hdr.sig_name]
        self.units = [str(u) if u else None for u in hdr.units]
        self.ch_types = [guess_type(n, u) for n, u in zip(self.ch_names, self.units, strict=True)]
        self.meta = {
            "comments": list(hdr.comments or []),
            "meas_date": hdr.base_datetime,
            "fmt": list(hdr.fmt or []),
            "adc_gain": list(hdr.adc_gain or []),
        }

    def _check_record_line(self) -> None:
        """The sampling frequency of the record line, checked on the raw text.

        wfdb silently uses 250 Hz when the field is missing and accepts a negative or zero one;
        the WFDB header specification makes it the third field of the record line
        (``name nsig fs[/counter][(base)] nsamp ...``).
        """
        text = self.path.read_bytes().decode("latin-1")
        line = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
        tokens = line.split()
        if len(tokens) < 2:
            raise CorruptFileError(f"{self.path}: the WFDB header has no record line.")
        if len(tokens) < 3:
            raise CorruptFileError(
                f"{self.path}: the WFDB record line {line.strip()!r} gives no sampling frequency "
                "(field 'fs'); wfdb would assume 250 Hz. Add it to the header."
            )
        field = re.split(r"[/(]", tokens[2], maxsplit=1)[0]
        try:
            fs = float(field)
        except ValueError:
            fs = float("nan")
        if not (np.isfinite(fs) and fs > 0):
            raise CorruptFileError(
                f"{self.path}: the WFDB record line gives sampling frequency (field 'fs') "
                f"{tokens[2]!r}; it must be a finite number > 0 Hz."
            )

    def _check_size(self, hdr: object) -> None:
        """A signal file shorter than the header's length is a truncated record."""
        files: dict[str, list[int]] = {}
        for i, name in enumerate(hdr.file_name or []):  # type: ignore[attr-defined]
            files.setdefault(name, []).append(i)
        for name, chans in files.items():
            fmt = str(hdr.fmt[chans[0]])  # type: ignore[attr-defined]
            if fmt not in _BYTES:
                continue
            offset = int((hdr.byte_offset or [0] * (chans[0] + 1))[chans[0]] or 0)  # type: ignore[attr-defined]
            need = offset + int(np.ceil(hdr.sig_len * len(chans) * _BYTES[fmt]))  # type: ignore[attr-defined]
            path = self.path.parent / name
            have = path.stat().st_size if path.exists() else 0
            if have < need:
                raise CorruptFileError(
                    f"{self.path}: truncated record, {name} holds {have} bytes but the header "
                    f"declares {hdr.sig_len} samples ({need} bytes)."  # type: ignore[attr-defined]
                )

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        import wfdb

        rec = wfdb.rdrecord(
            self._record, sampfrom=start, sampto=stop, channels=[int(p) for p in picks]
        )
        return np.asarray(rec.p_signal, dtype=np.float64).T

    @cached_property
    def _events(self) -> pd.DataFrame:
        import wfdb

        ext = self.options.get("annotator", "atr")
        if not self.path.with_suffix(f".{ext}").exists():
            return make_events()
        ann = wfdb.rdann(self._record, ext)
        symbols = list(ann.symbol or [""] * len(ann.sample))
        notes = list(ann.aux_note or [""] * len(ann.sample))
        labels = [
            (n.strip("\x00 ") or s) if s == "+" else s for s, n in zip(symbols, notes, strict=True)
        ]
        return make_events(
            np.asarray(ann.sample, dtype=float) / self.sfreq, labels=labels, aux_note=notes
        )

    def _read_events(self) -> pd.DataFrame:
        return self._events
