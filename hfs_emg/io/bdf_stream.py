"""Write a BDF+ file while the samples arrive, so that a crash loses at most the last second.

:class:`BdfStreamWriter` is the recorder of a live session (for example the intraoperative
monitor): samples are appended as whole BDF data records, each carrying its annotations
(stimulus labels, surgical-phase markers, notes) in the record's ``BDF Annotations`` signal,
and the file is flushed and ``fsync``-ed at least every ``sync_s`` seconds. Until
:meth:`~BdfStreamWriter.close` the header says ``-1`` data records, which the EDF
specification defines as "unknown (still recording)"; a reader then counts the complete
records in the file (hfs_emg's reader does, with a warning). On close the header gets the
number of records and, since data records must be whole, the true number of samples of the
padded last record (as :func:`hfs_emg.io.edf_write.write_edf` does).

Why not a library: edfio and MNE write whole files only, and pyedflib/EDFlib keep
annotations in memory until the file is closed, so a killed process would lose every marker.

Values are quantised to the 24-bit digital range exactly as the file stores them, and
:meth:`~BdfStreamWriter.write` returns the physical values a reader will get back, bit for bit:
an online analysis of those values equals the offline analysis of the file.

References
----------
Kemp B, Olivan J. European data format 'plus' (EDF+), an EDF alike standard format for the
exchange of physiological data. Clin Neurophysiol 2003;114:1755-61 (TALs, ``-1`` records).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from .._errors import ParameterError
from .edf import private_key

__all__ = ["BdfStreamWriter"]

_DMIN, _DMAX = -(2**23), 2**23 - 1
_ANN_LABEL = "BDF Annotations"


def _field(text: str, width: int) -> bytes:
    raw = text.encode("ascii", "replace")
    if len(raw) > width:
        raise ParameterError(f"header value {text!r} is longer than its {width} characters.")
    return raw.ljust(width)


def _num8(value: float) -> str:
    text = f"{value:.8g}"
    if len(text) > 8:
        text = f"{value:.0f}"
    if len(text) > 8:
        raise ParameterError(f"value {value} does not fit the 8-character BDF header field.")
    return text


def _tal(onset: float, duration: float | None, text: str) -> bytes:
    head = f"{onset:+.6f}".rstrip("0").rstrip(".") if onset else "+0"
    if duration:
        head += f"\x15{duration:.6f}".rstrip("0").rstrip(".")
    clean = text.replace("\x14", " ").replace("\x15", " ").replace("\x00", " ")
    return head.encode() + b"\x14" + clean.encode("utf-8") + b"\x14\x00"


class BdfStreamWriter:
    """Append samples and annotations to a BDF+ file as they arrive (crash-safe recorder).

    Parameters
    ----------
    path : path-like
        The ``.bdf`` file to create (refused if it exists).
    ch_names : sequence of str
        Channel labels (at most 16 ASCII characters each).
    sfreq : float
        Sampling rate in Hz.
    units : sequence of str, optional
        Physical unit per channel, default ``"uV"``; ``"code"`` (or a channel listed in
        ``stim``) stores integer trigger codes exactly.
    stim : sequence of str
        Names of trigger channels (stored as exact integer codes).
    range_uv : float
        Physical range ``[-range_uv, range_uv]`` of the voltage channels: the resolution is
        ``2 * range_uv / (2**24 - 1)`` (default 80 mV: 0.0095 µV per step). Values beyond the
        range are clipped, as the amplifier would.
    tstart : float
        Time of the first sample in seconds (e.g. the LSL clock); kept in the header and restored
        by :func:`hfs_emg.read_recording`, so event times stay on that clock.
    start : datetime, optional
        Wall-clock start written in the header (default: now, UTC).
    sync_s : float
        Flush and fsync the file at least this often (seconds of data).
    annotation_bytes : int
        Room per data record for annotations; markers that do not fit go into the next record
        (EDF+ annotations may lie outside the record that carries them).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from hfs_emg import read_recording
    >>> path = tempfile.mkdtemp() + "/live.bdf"
    >>> with BdfStreamWriter(path, ["Mentalis_L"], 1000.0) as w:
    ...     stored = w.write(np.sin(np.arange(2500)[None] / 30.0) * 100)
    ...     w.annotate(1.2, "dura opening")
    >>> rec = read_recording(path)
    >>> rec.n_samples, list(rec.events["label"])
    (2500, ['dura opening'])
    >>> bool(np.array_equal(rec.data, stored))
    True
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        ch_names: Sequence[str],
        sfreq: float,
        *,
        units: Sequence[str] | None = None,
        stim: Sequence[str] = (),
        range_uv: float = 80_000.0,
        tstart: float = 0.0,
        start: _dt.datetime | None = None,
        sync_s: float = 1.0,
        annotation_bytes: int = 600,
    ) -> None:
        self.path = Path(path)
        if self.path.exists():
            raise ParameterError(f"{self.path}: exists; a live recording never overwrites a file.")
        if not np.isfinite(sfreq) or sfreq <= 0:
            raise ParameterError(f"sfreq must be a finite positive rate in Hz, got {sfreq!r}.")
        if not np.isfinite(tstart):
            raise ParameterError(f"tstart must be finite, got {tstart!r}.")
        self.ch_names = [str(n) for n in ch_names]
        units = list(units) if units is not None else ["uV"] * len(self.ch_names)
        if len(units) != len(self.ch_names):
            raise ParameterError(f"{len(units)} units for {len(self.ch_names)} channels.")
        self.sfreq = float(sfreq)
        frac = Fraction(self.sfreq).limit_denominator(1000)
        if float(frac) != self.sfreq:
            raise ParameterError(f"sfreq={sfreq} is not a rational rate a BDF record can hold.")
        self._spr, self._rec_dur = frac.numerator, frac.denominator
        is_code = np.array(
            [n in stim or u == "code" for n, u in zip(self.ch_names, units, strict=True)]
        )
        pmin = np.where(is_code, float(_DMIN), -float(range_uv))
        pmax = np.where(is_code, float(_DMAX), float(range_uv))
        # The reader parses the 8-character header fields: use those same parsed values here.
        self._pmin = np.array([float(_num8(v)) for v in pmin])
        self._pmax = np.array([float(_num8(v)) for v in pmax])
        self._gain = (self._pmax - self._pmin) / float(_DMAX - _DMIN)
        self._ann_spr = -(-int(annotation_bytes) // 3)
        self._tstart = float(tstart)
        self._n_written = 0
        self._n_records = 0
        self._pending = np.empty((len(self.ch_names), 0), dtype=np.int32)
        self._queue: list[bytes] = []
        self._since_sync = 0
        self._sync_records = max(1, round(sync_s / self._rec_dur))
        self._start = start or _dt.datetime.now(_dt.timezone.utc)
        self._units = ["" if c else u for c, u in zip(is_code, units, strict=True)]
        self._fh = open(self.path, "xb")  # noqa: SIM115 - kept open for the session
        self._fh.write(self._header(-1, None))
        self._flush()

    # ---------------------------------------------------------------------- header
    def _header(self, n_records: int, n_samples: int | None) -> bytes:
        ns = len(self.ch_names) + 1
        s = self._start
        rec_id = f"Startdate {s.strftime('%d-%b-%Y').upper()} X X hfs_emg_stream"
        # hfs_emg's signed key: true length (unknown, "-", until close) and start time.
        rec_id += " " + private_key(n_samples, self._tstart, self.ch_names)
        head = (
            b"\xffBIOSEMI"
            + _field("X X X X", 80)
            + _field(rec_id, 80)
            + _field(s.strftime("%d.%m.%y"), 8)
            + _field(s.strftime("%H.%M.%S"), 8)
            + _field(str(256 * (ns + 1)), 8)
            + _field("BDF+C", 44)
            + _field(str(n_records), 8)
            + _field(str(self._rec_dur), 8)
            + _field(str(ns), 4)
        )
        labels = [*self.ch_names, _ANN_LABEL]
        units = [*self._units, ""]
        pmin = [_num8(v) for v in self._pmin] + ["-1"]
        pmax = [_num8(v) for v in self._pmax] + ["1"]
        dmin = [str(_DMIN)] * ns
        dmax = [str(_DMAX)] * ns
        spr = [str(self._spr)] * (ns - 1) + [str(self._ann_spr)]
        for values, width in (
            (labels, 16),
            (["hfs_emg live"] * (ns - 1) + [""], 80),
            (units, 8),
            (pmin, 8),
            (pmax, 8),
            (dmin, 8),
            (dmax, 8),
            ([""] * ns, 80),
            (spr, 8),
            ([""] * ns, 32),
        ):
            head += b"".join(_field(v, width) for v in values)
        return head

    # ---------------------------------------------------------------------- data
    def quantize(self, samples: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The physical values the file will hold for ``samples`` (n_channels, n)."""
        return self._physical(self._digital(np.asarray(samples, dtype=np.float64)))

    def _digital(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
        dig = np.rint((x - self._pmin[:, None]) / self._gain[:, None]) + _DMIN
        return np.clip(np.nan_to_num(dig, nan=0.0), _DMIN, _DMAX).astype(np.int32)

    def _physical(self, dig: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        # Same expression, same operand order as the reader: bitwise identical values.
        return (dig - float(_DMIN)) * self._gain[:, None] + self._pmin[:, None]

    def write(self, samples: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Append ``samples`` (n_channels, n) and return the values as stored (physical units).

        Whole records are written at once; the remainder waits for the next call (or
        :meth:`close`).
        """
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != len(self.ch_names):
            raise ParameterError(
                f"{self.path}: samples of shape {x.shape}, expected ({len(self.ch_names)}, n)."
            )
        dig = self._digital(x)
        self._pending = np.concatenate([self._pending, dig], axis=1)
        self._n_written += x.shape[1]
        n_full = self._pending.shape[1] // self._spr
        if n_full:
            self._write_records(self._pending[:, : n_full * self._spr])
            self._pending = self._pending[:, n_full * self._spr :]
        return self._physical(dig)

    def annotate(self, onset_s: float, text: str, *, duration_s: float = 0.0) -> None:
        """Record an annotation (``onset_s`` on the recording's clock, i.e. including ``tstart``).

        It is written with the next data record.
        """
        if not np.isfinite(onset_s) or not np.isfinite(duration_s):
            raise ParameterError(f"annotation times must be finite, got {onset_s}, {duration_s}.")
        tal = _tal(float(onset_s) - self._tstart, float(duration_s) or None, str(text))
        if len(tal) + 8 > self._ann_spr * 3:
            raise ParameterError(f"annotation {text!r} is too long for one data record.")
        self._queue.append(tal)

    def _annotation_block(self, record: int) -> bytes:
        room = self._ann_spr * 3
        block = _tal(record * self._rec_dur, None, "")  # time-keeping TAL: "+t\x14\x14\x00"
        while self._queue and len(block) + len(self._queue[0]) <= room:
            block += self._queue.pop(0)
        return block.ljust(room, b"\x00")

    def _write_records(self, dig: npt.NDArray[np.int32]) -> None:
        n_rec = dig.shape[1] // self._spr
        blocks = dig.reshape(len(self.ch_names), n_rec, self._spr).transpose(1, 0, 2)
        # 24-bit little-endian: the low three bytes of each int32, record by record.
        data = np.ascontiguousarray(blocks, dtype="<i4").view(np.uint8).reshape(n_rec, -1, 4)
        data = np.ascontiguousarray(data[..., :3]).reshape(n_rec, -1)
        for r in range(n_rec):  # one write per record (a record is >= 1 s of samples)
            self._fh.write(data[r].tobytes())
            self._fh.write(self._annotation_block(self._n_records))
            self._n_records += 1
            self._since_sync += 1
        if self._since_sync >= self._sync_records:
            self._flush()

    def _flush(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._since_sync = 0

    @property
    def n_samples(self) -> int:
        """Samples received so far (written or waiting for a whole record)."""
        return self._n_written

    def close(self) -> None:
        """Write the last (padded) record and pending annotations, fix the header, close."""
        if self._fh.closed:
            return
        if self._pending.shape[1] or self._queue:
            if self._pending.shape[1]:
                last = self._pending[:, -1:]
            else:
                last = self._digital(np.zeros((len(self.ch_names), 1)))
            n_pad = (-self._pending.shape[1]) % self._spr
            tail = np.concatenate([self._pending, np.repeat(last, n_pad, axis=1)], axis=1)
            if tail.shape[1]:
                self._write_records(tail)
            while self._queue:  # annotations beyond the room of the last record
                self._write_records(np.repeat(last, self._spr, axis=1))
            self._pending = self._pending[:, :0]
        self._fh.seek(0)
        self._fh.write(self._header(self._n_records, self._n_written))
        self._flush()
        self._fh.close()

    def __enter__(self) -> BdfStreamWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
