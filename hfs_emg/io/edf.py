"""EDF, EDF+, BDF and BDF+ files (European / BioSemi Data Format).

The fixed-width ASCII header is parsed here and the data records are memory-mapped read-only,
so a window of a multi-hour file touches only the records it spans (edfio memory-maps EDF but
reads a BDF whole, and MNE resamples mixed-rate files silently, so neither is used for reading).
Each signal keeps its own rate: a file whose signals have several rates raises
:class:`SamplingRateError` naming the groups unless ``sfreq=`` or ``picks`` choose one group.

Events come from EDF+/BDF+ annotations (TALs) and from trigger channels: the BioSemi ``Status``
channel is read as raw digital codes (low 16 bits), other trigger-like signals (``trig``,
``stim``, ``status`` in the label) as physical values; their rising edges become events labelled
``"<channel>/<code>"`` with the code in ``value``.

Leniency: a header number field that is not left-aligned, or data bytes beyond the declared
records, are read with a :class:`HfsEmgWarning`; a file shorter than its header declares is a
:class:`CorruptFileError` unless ``allow_truncated=True`` (then the complete records are read).
EDF+D files whose records are not contiguous are refused.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import _fastfilt
from .._errors import CorruptFileError, HfsEmgWarning, UnsupportedFormatError
from ..events import TriggerRuns
from ..recording import make_events
from . import _fastread
from ._base import BaseReader, default_dtype, edge_events, edge_samples, guess_type

__all__ = ["EdfReader"]

_SIG_FIELDS = (
    ("label", 16),
    ("transducer", 80),
    ("unit", 8),
    ("pmin", 8),
    ("pmax", 8),
    ("dmin", 8),
    ("dmax", 8),
    ("prefilter", 80),
    ("spr", 8),
    ("reserved", 32),
)
_TAL = re.compile(rb"([+-]\d+(?:\.\d*)?)(?:\x15(\d+(?:\.\d*)?))?\x14(.*?)\x14\x00", re.DOTALL)
_TRIGGER = re.compile(r"trig|stim|status", re.IGNORECASE)
#: hfs_emg's private key in the recording field: ``hfs_emg=<true length>,<tstart>,<signature>``.
_PRIVATE = re.compile(r"(?:^|\s)hfs_emg=(\d+|-),(\S+?),([0-9a-f]{8})(?:\s|$)")


def _count_malformed(gap: bytes) -> int:
    """Pieces of an annotation record that are neither a TAL nor the NUL padding."""
    if not gap.strip(b"\x00 "):  # only padding (the usual case): no piece to look at
        return 0
    return sum(1 for piece in gap.split(b"\x00") if piece.strip(b" "))


def private_signature(n: int | None, tstart: str, ch_names: list[str]) -> str:
    """Signature of hfs_emg's private header key: 8 hex digits of a sha256.

    It binds the key's values (true length ``n``, None while a live recording is still being
    written, and the start time as written) to the file's signal labels, so free text that
    happens to contain ``hfs_emg=`` in a third-party file is never taken for hfs_emg's own key.
    It guards against accidents, not forgery (anyone can compute it).

    Examples
    --------
    >>> private_signature(1000, "0.0", ["oris"])
    '3992f1e7'
    """
    count = "-" if n is None else str(int(n))
    text = "\x1f".join(["hfs_emg-edf-1", count, tstart, *ch_names])
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]


def private_key(n: int | None, tstart: float, ch_names: list[str]) -> str:
    """The signed key ``hfs_emg=<n>,<tstart>,<signature>`` (``n`` is ``-`` when unknown).

    Examples
    --------
    >>> private_key(1000, 0.0, ["oris"])
    'hfs_emg=1000,0.0,3992f1e7'
    """
    t = repr(float(tstart))
    count = "-" if n is None else str(int(n))
    return f"hfs_emg={count},{t},{private_signature(n, t, ch_names)}"


class EdfReader(BaseReader):
    """Reader for ``.edf`` / ``.bdf`` (EDF, EDF+C, BDF, BDF+, BioSemi 24-bit).

    Options
    -------
    sfreq : float
        Read only the signals sampled at this rate (mixed-rate files).
    allow_truncated : bool
        Read the complete records of a file shorter than its header declares (default False).
    """

    extensions = (".edf", ".bdf")
    format_name = "EDF/BDF"

    # ------------------------------------------------------------------ header
    def _num(self, raw: bytes, field: str, kind: type = float) -> Any:
        """A header number: finite, and integral where the EDF specification says integer."""
        text = raw.decode("latin-1")
        try:
            if "_" in text:  # Python's float() takes "1_000"; the EDF specification does not
                raise ValueError(text)
            value = float(text)
        except ValueError:
            raise CorruptFileError(
                f"{self.path}: corrupt header, field {field!r} holds {text!r}, not a number."
            ) from None
        if not np.isfinite(value):
            raise CorruptFileError(
                f"{self.path}: corrupt header, field {field!r} holds {text.strip()!r}, not a "
                "finite number."
            )
        if kind is int:
            if value != round(value):
                raise CorruptFileError(
                    f"{self.path}: corrupt header, field {field!r} holds {text.strip()!r}; the "
                    "EDF specification requires an integer there."
                )
            value = int(value)
        if text.strip() and text[0] == " ":
            warnings.warn(
                f"{self.path.name}: header field {field!r} is not left-aligned ({text!r}); read "
                f"as {value} (the file does not follow the EDF specification).",
                HfsEmgWarning,
                stacklevel=6,
            )
        return value

    def _parse_header(self) -> None:
        with open(self.path, "rb") as fh:
            head = fh.read(256)
            if len(head) < 256:
                raise CorruptFileError(f"{self.path}: truncated header ({len(head)} bytes).")
            self._bdf = head[:8] == b"\xffBIOSEMI"
            if not self._bdf and head[:8].strip() != b"0":
                raise CorruptFileError(
                    f"{self.path}: corrupt header, version field {head[:8]!r} is neither EDF "
                    "('0') nor BioSemi BDF."
                )
            ns = self._num(head[252:256], "number of signals", int)
            n_head = self._num(head[184:192], "bytes in header", int)
            n_rec = self._num(head[236:244], "number of data records", int)
            self._rec_dur = self._num(head[244:252], "data record duration")
            if ns <= 0 or n_head != 256 * (ns + 1):
                raise CorruptFileError(
                    f"{self.path}: corrupt header, {ns} signals but {n_head} header bytes."
                )
            body = fh.read(256 * ns)
        if len(body) < 256 * ns:
            raise CorruptFileError(f"{self.path}: truncated header (signal descriptions).")
        fields: dict[str, list[bytes]] = {}
        pos = 0
        for name, width in _SIG_FIELDS:
            fields[name] = [body[pos + i * width : pos + (i + 1) * width] for i in range(ns)]
            pos += width * ns
        labels = [b.decode("latin-1").strip() for b in fields["label"]]
        spr = np.array(
            [
                self._num(b, f"samples per record of signal {lab!r}", int)
                for b, lab in zip(fields["spr"], labels, strict=True)
            ],
            dtype=np.int64,
        )
        if np.any(spr <= 0):
            bad = [labels[k] for k in np.flatnonzero(spr <= 0)]
            raise CorruptFileError(
                f"{self.path}: corrupt header, samples per record must be >= 1; signal(s) {bad} "
                f"declare {spr[spr <= 0].tolist()}."
            )
        if n_rec < -1:
            raise CorruptFileError(
                f"{self.path}: corrupt header, number of data records is {n_rec} (must be >= 0, "
                "or -1 while recording)."
            )
        is_ann = [lab in ("EDF Annotations", "BDF Annotations") for lab in labels]
        self._events_only = all(is_ann)
        if self._rec_dur < 0 or (self._rec_dur == 0 and not self._events_only):
            raise CorruptFileError(
                f"{self.path}: corrupt header, data record duration is {self._rec_dur} s; it must "
                "be > 0 (0 is allowed only in an annotation-only EDF+ file)."
            )
        self._bps = 3 if self._bdf else 2
        rec_bytes = int(spr.sum()) * self._bps
        size = self.path.stat().st_size - n_head
        actual = size // rec_bytes if rec_bytes else 0
        if n_rec < 0 or n_rec > actual:
            if n_rec > actual and not self.options.get("allow_truncated", False):
                raise CorruptFileError(
                    f"{self.path}: truncated file, the header declares {n_rec} data records "
                    f"({n_rec * rec_bytes} bytes) but only {size} data bytes ({actual} complete "
                    "records) are present. Pass allow_truncated=True to read those."
                )
            warnings.warn(
                f"{self.path.name}: the header declares {n_rec} data records, the file holds "
                f"{actual}; reading {actual}.",
                HfsEmgWarning,
                stacklevel=5,
            )
            n_rec = actual
        elif size > n_rec * rec_bytes:
            warnings.warn(
                f"{self.path.name}: {size - n_rec * rec_bytes} bytes after the {n_rec} declared "
                "data records are ignored.",
                HfsEmgWarning,
                stacklevel=5,
            )
        if n_rec == 0:
            raise CorruptFileError(f"{self.path}: the file holds no data record.")
        self._mm = np.memmap(self.path, np.uint8, mode="r", offset=n_head, shape=(n_rec, rec_bytes))
        self._data_offset, self._rec_bytes = int(n_head), int(rec_bytes)
        self._offsets = np.concatenate([[0], np.cumsum(spr)[:-1]]) * self._bps
        self._spr = spr
        reserved = head[192:236].decode("latin-1").strip()
        self._ann_idx = [i for i, a in enumerate(is_ann) if a]
        sig = [i for i, a in enumerate(is_ann) if not a]
        self._check_ranges(fields, labels, sig)
        self._sig = np.asarray(sig, dtype=np.intp)
        self.ch_names = [labels[i] for i in sig]
        self._status = np.array(
            [self._bdf and n.lower() == "status" for n in self.ch_names], dtype=bool
        )
        trigger = [bool(_TRIGGER.search(n)) for n in self.ch_names]
        units = [fields["unit"][i].decode("latin-1").strip() for i in sig]
        self.units = [None if t else (u or None) for u, t in zip(units, trigger, strict=True)]
        self.ch_types = [
            "stim" if t else guess_type(n, u)
            for n, u, t in zip(self.ch_names, self.units, trigger, strict=True)
        ]
        self._names_all = list(self.ch_names)
        self._stim_all = [k for k, t in enumerate(trigger) if t]
        self.ch_sfreqs = [float(spr[i] / self._rec_dur) for i in sig]
        self.ch_n_samples = [int(spr[i] * n_rec) for i in sig]
        recording = head[88:168].decode("latin-1")
        private = self._private_keys(recording)
        if private is not None:  # written by hfs_emg: padding of the last record is not data
            n_true, self.tstart = private
            if n_true is not None:
                self.ch_n_samples = [min(n, n_true) for n in self.ch_n_samples]
        if sig:
            self.sfreq, self.n_samples = self.ch_sfreqs[0], self.ch_n_samples[0]
        self.meta = {
            "edf_type": ("BDF" if self._bdf else "EDF")
            + ("+" if reserved[:4] in ("EDF+", "BDF+") else ""),
            "reserved": reserved,
            "patient": head[8:88].decode("latin-1").strip(),
            "recording": head[88:168].decode("latin-1").strip(),
            "startdate": head[168:176].decode("latin-1"),
            "starttime": head[176:184].decode("latin-1"),
            "meas_date": self._start(head[168:176], head[176:184], recording),
            "n_records": n_rec,
            "record_duration_s": self._rec_dur,
            "prefilter": {
                n: fields["prefilter"][i].decode("latin-1").strip()
                for n, i in zip(self.ch_names, sig, strict=True)
            },
        }
        if reserved.endswith("D") and self._ann_idx and not self._events_only:
            onsets = self._record_onsets()
            expected = onsets[0] + np.arange(n_rec) * self._rec_dur
            if not np.allclose(onsets, expected, atol=1e-6):
                raise UnsupportedFormatError(
                    f"{self.path}: discontinuous EDF+D/BDF+D file (records with gaps) is not "
                    "supported; export it as continuous EDF+C."
                )

    def _check_ranges(
        self, fields: dict[str, list[bytes]], labels: list[str], sig: list[int]
    ) -> None:
        """Physical and digital ranges: finite, integer digital limits within the bit depth."""
        lo_bits, hi_bits = (-(2**23), 2**23 - 1) if self._bdf else (-(2**15), 2**15 - 1)
        pmin, pmax, dmin, dmax = [], [], [], []
        for i in sig:
            lab = labels[i]
            pmin.append(self._num(fields["pmin"][i], f"physical minimum of {lab!r}"))
            pmax.append(self._num(fields["pmax"][i], f"physical maximum of {lab!r}"))
            dmin.append(self._num(fields["dmin"][i], f"digital minimum of {lab!r}", int))
            dmax.append(self._num(fields["dmax"][i], f"digital maximum of {lab!r}", int))
            if pmin[-1] == pmax[-1]:
                raise CorruptFileError(
                    f"{self.path}: corrupt header, physical minimum == maximum ({pmin[-1]:g}) for "
                    f"signal {lab!r}: its samples cannot be scaled."
                )
            if dmax[-1] <= dmin[-1]:
                raise CorruptFileError(
                    f"{self.path}: corrupt header, digital maximum <= minimum for {[lab]}."
                )
            if dmin[-1] < lo_bits or dmax[-1] > hi_bits:
                bits = 24 if self._bdf else 16
                raise CorruptFileError(
                    f"{self.path}: corrupt header, digital range {dmin[-1]}..{dmax[-1]} of "
                    f"signal {lab!r} exceeds the {bits}-bit samples of the format "
                    f"({lo_bits}..{hi_bits})."
                )
        self._pmin = np.asarray(pmin, dtype=float)
        self._dmin = np.asarray(dmin, dtype=float)
        self._gain = (np.asarray(pmax, dtype=float) - self._pmin) / (
            np.asarray(dmax, dtype=float) - self._dmin
        )

    def _finite_by_construction(self, idx: npt.NDArray[np.intp], dtype: np.dtype) -> bool:
        """Integer samples (16- or 24-bit) scaled by finite header factors are finite unless
        the largest digital value scaled overflows ``dtype``: that bound is checked per channel
        (a BioSemi ``Status`` channel is its low 16 bits)."""
        k = np.asarray(self._orig)[idx]
        if dtype.kind != "f" or not k.size:
            return False
        bits = 24 if self._bdf else 16
        bound = np.abs(self._pmin[k]) + np.abs(self._gain[k]) * float(2**bits)
        return bool(np.all(np.isfinite(bound) & (bound < 1e-3 * np.finfo(dtype).max)))

    def _private_keys(self, recording: str) -> tuple[int | None, float] | None:
        """hfs_emg's own keys (true length, start time), trusted only with a valid signature."""
        m = _PRIVATE.search(recording)
        if m is not None:
            n = None if m.group(1) == "-" else int(m.group(1))
            sig = m.group(3)
            if sig == private_signature(n, m.group(2), self.ch_names) and n != 0:
                tstart = float(m.group(2))
                if not np.isfinite(tstart):
                    raise CorruptFileError(
                        f"{self.path}: the start time {m.group(2)!r} s in the header is not finite."
                    )
                return n, tstart
        if "hfs_emg" in recording:
            warnings.warn(
                f"{self.path.name}: the recording field mentions hfs_emg keys without a valid "
                "hfs_emg signature; they are ignored and the file is read as the EDF "
                "specification says.",
                HfsEmgWarning,
                stacklevel=6,
            )
        return None

    def _start(self, date: bytes, time: bytes, recording: str) -> _dt.datetime | None:
        """Start date and time of the header (``dd.mm.yy``, ``hh.mm.ss``), None with a warning."""
        d, t = date.decode("latin-1").strip(), time.decode("latin-1").strip()
        if recording.startswith("Startdate X"):  # EDF+: the date is not known
            return None
        try:
            day, month, yy = (int(x) for x in d.split("."))
            hh, mi, ss = (int(x) for x in t.split("."))
            year = 1900 + yy if yy >= 85 else 2000 + yy  # the EDF specification's clipping date
            plus = re.search(r"Startdate \d\d-[A-Z]{3}-(\d{4})", recording)
            if plus:  # EDF+ gives the four-digit year in the recording field
                year = int(plus.group(1))
            return _dt.datetime(year, month, day, hh, mi, ss)
        except ValueError:
            warnings.warn(
                f"{self.path.name}: header start date/time {d!r} {t!r} is not a valid "
                "dd.mm.yy hh.mm.ss; the measurement date is unknown (meta['meas_date'] = None).",
                HfsEmgWarning,
                stacklevel=6,
            )
            return None

    # ------------------------------------------------------------------ samples
    def _decode(self, raw: npt.NDArray[np.uint8]) -> npt.NDArray[np.integer]:
        """Digital samples of the bytes ``raw`` (records x one signal's bytes), flattened."""
        if self._bps == 2:
            return np.ascontiguousarray(raw).reshape(-1).view("<i2")
        # 24-bit little-endian: the three bytes into the top of an int32, then an arithmetic
        # shift brings them down sign-extended (4 bytes per sample of temporary)
        quad = np.zeros((raw.size // 3, 4), dtype=np.uint8)
        quad[:, 1:] = raw.reshape(-1, 3)
        return quad.view("<i4").reshape(-1) >> 8

    def _digital(self, ch: int, start: int, stop: int) -> npt.NDArray[np.integer]:
        """Digital samples ``start:stop`` of header signal ``ch`` (touches only their records)."""
        spr = int(self._spr[ch])
        r0, r1 = start // spr, -(-stop // spr)
        off = int(self._offsets[ch])
        dig = self._decode(self._mm[r0:r1, off : off + spr * self._bps])
        return dig[start - r0 * spr : stop - r0 * spr]

    def _records(
        self, fh: Any, r0: int, r1: int, buf: npt.NDArray[np.uint8]
    ) -> npt.NDArray[np.uint8]:
        """Data records ``r0:r1`` read from the open file ``fh`` into ``buf`` (a view of it)."""
        view = buf[: r1 - r0]
        fh.seek(self._data_offset + r0 * view.shape[1])
        if fh.readinto(memoryview(view).cast("B")) != view.size:
            raise CorruptFileError(f"{self.path}: the file ends inside record {r1 - 1}.")
        return view

    _reads_into_dtype = True
    #: Samples of a trigger channel read at a time for its events (bounds the float64 block).
    _EDGE_BLOCK = 1 << 20
    #: Samples per channel converted per step of :meth:`_read_raw` (bounds its temporaries).
    _BLOCK_SAMPLES = 1 << 18

    def _read_raw(
        self,
        start: int,
        stop: int,
        picks: npt.NDArray[np.intp],
        dtype: npt.DTypeLike = np.float64,
    ) -> np.ndarray:
        """Samples scaled straight into an array of ``dtype``.

        Physical = (digital - dmin) x gain + pmin in float64 (the operations of the float64
        path, so a float32 read is exactly the float64 read rounded once). The data records
        are read from the file in blocks of about :attr:`_BLOCK_SAMPLES` samples per channel
        (plain reads into one reused buffer, not through the memory map, whose pages would
        stay resident and count as the process's memory), and every picked channel of the
        block is converted into its row of the output: no full-length int or float64 copy
        exists.
        """
        dt = np.dtype(dtype)
        out = np.empty((len(picks), stop - start), dtype=dt)
        if stop <= start or len(picks) == 0:
            return out
        sigs = [int(self._sig[k]) for k in picks]
        spr = int(self._spr[sigs[0]])
        if any(int(self._spr[c]) != spr for c in sigs):  # pragma: no cover - one rate per reader
            raise CorruptFileError(f"{self.path}: picked signals differ in samples per record.")
        rec_bytes = self._rec_bytes
        per_block = max(self._BLOCK_SAMPLES // spr, 1)
        r_first, r_last = start // spr, -(-stop // spr)
        buf = np.empty((min(per_block, r_last - r_first), rec_bytes), dtype=np.uint8)
        scale = [(float(self._dmin[k]), float(self._gain[k]), float(self._pmin[k])) for k in picks]
        tmp = None if dt == np.float64 else np.empty(buf.shape[0] * spr, dtype=np.float64)
        fast = _fastread.decode_scale if _fastfilt.enabled() else None
        workers = min(os.cpu_count() or 1, len(picks)) if fast is not None else 1
        pool = ThreadPoolExecutor(workers) if workers > 1 and stop - start >= 100_000 else None
        with ExitStack() as stack:
            if pool is not None:
                stack.callback(pool.shutdown)
            fh = stack.enter_context(open(self.path, "rb"))
            for r0 in range(r_first, r_last, per_block):  # blocks of records, all channels
                r1 = min(r0 + per_block, r_last)
                view = self._records(fh, r0, r1, buf)
                a, b = max(start, r0 * spr), min(stop, r1 * spr)  # samples of this block
                lo, hi = a - r0 * spr, b - r0 * spr
                dst_sl = slice(a - start, b - start)

                def convert(
                    row: int, view: Any = view, lo: int = lo, hi: int = hi, sl: Any = dst_sl
                ) -> None:
                    k, ch = picks[row], sigs[row]
                    off = int(self._offsets[ch])
                    self._convert(view, off, k, lo, hi, out[row, sl], scale[row], tmp)

                if pool is None:
                    for row in range(len(picks)):
                        convert(row)
                else:  # compiled: one pass per channel, channels on every core
                    list(pool.map(convert, range(len(picks))))
        return out

    def _convert(
        self,
        view: npt.NDArray[np.uint8],
        off: int,
        k: int,
        lo: int,
        hi: int,
        dst: np.ndarray,
        scale: tuple[float, float, float],
        tmp: np.ndarray | None,
    ) -> None:
        """Samples ``lo:hi`` of the records ``view`` of exposed signal ``k`` into ``dst``.

        ``view`` holds one record per row, the signal's bytes from byte ``off`` of the row.
        Physical = (digital - dmin) x gain + pmin in float64 (compiled in one pass when
        :func:`hfs_emg._fastfilt.enabled`, else with NumPy in the same order: the same bits),
        ``tmp`` a float64 work array of at least ``hi - lo`` samples when ``dst`` is not
        float64; a BioSemi ``Status`` channel as its low 16 bits.
        """
        spr = int(self._spr[int(self._sig[k])])
        if self._status[k]:
            dig = self._decode(view[:, off : off + spr * self._bps])[lo:hi]
            dst[:] = dig.astype(np.int32) & 0xFFFF
            return
        dmin, gain, pmin = scale
        if _fastfilt.enabled() and _fastread.decode_scale is not None:
            _fastread.decode_scale(view, off, spr, self._bps, lo, hi, dmin, gain, pmin, dst)
            return
        dig = self._decode(view[:, off : off + spr * self._bps])[lo:hi]
        direct = dst.dtype == np.float64
        work = dst if direct else tmp[: hi - lo]  # type: ignore[index]
        np.subtract(dig, dmin, out=work)
        work *= gain
        work += pmin
        if not direct:
            dst[:] = work

    def _signal_records(
        self, fd: int, ch: int, r0: int, r1: int, buf: npt.NDArray[np.uint8]
    ) -> npt.NDArray[np.uint8]:
        """The bytes of header signal ``ch`` in data records ``r0:r1``, one record per row.

        One positional read per record of just that signal's bytes (a trigger channel is 1/9
        of an 8-EMG record): not the whole records, and not through the memory map, whose
        pages would stay resident (see :meth:`_ann_bytes`).
        """
        view = buf[: r1 - r0]
        off = self._data_offset + int(self._offsets[ch])
        for i in range(r1 - r0):  # one read per record, not per sample
            if os.preadv(fd, [view[i]], off + (r0 + i) * self._rec_bytes) != view.shape[1]:
                raise CorruptFileError(f"{self.path}: the file ends inside record {r0 + i}.")
        return view

    def _read_signal(
        self, fd: int, k: int, start: int, stop: int, buf: npt.NDArray[np.uint8]
    ) -> npt.NDArray[np.float64]:
        """Samples ``start:stop`` of exposed signal ``k`` in float64, as ``_read_raw`` gives them.

        Only the signal's bytes of each record are read (:meth:`_signal_records`), into
        ``buf`` (at least the records spanned x the signal's bytes per record).
        """
        ch = int(self._sig[k])
        spr = int(self._spr[ch])
        r0, r1 = start // spr, -(-stop // spr)
        view = self._signal_records(fd, ch, r0, r1, buf)
        out = np.empty(stop - start, dtype=np.float64)
        scale = (float(self._dmin[k]), float(self._gain[k]), float(self._pmin[k]))
        self._convert(view, 0, k, start - r0 * spr, stop - r0 * spr, out, scale, None)
        return out

    # ------------------------------------------------------------------ events
    def _ann_bytes(self) -> list[bytes]:
        """The annotation bytes of every data record, read with one ``pread`` per record.

        Not through the memory map: touching one page per record faults in the pages around
        it (fault-around), which stay resident and count as the process's memory (~230 MB
        for an hour of 8 x 10 kHz BDF+).
        """
        spans = []
        for ch in self._ann_idx:
            off, n = int(self._offsets[ch]), int(self._spr[ch]) * self._bps
            if spans and spans[-1][0] + spans[-1][1] == off:  # adjacent signals: one read
                spans[-1] = (spans[-1][0], spans[-1][1] + n)
            else:
                spans.append((off, n))
        base, size = self._data_offset, self._rec_bytes
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return [  # one loop over records, not samples
                b"".join(os.pread(fd, n, base + r * size + off) for off, n in spans)
                for r in range(self._mm.shape[0])
            ]
        finally:
            os.close(fd)

    def _record_onsets(self) -> npt.NDArray[np.float64]:
        out = []
        for rec in self._ann_bytes():
            m = _TAL.match(rec)
            out.append(float(m.group(1)) if m else np.nan)
        return np.asarray(out)

    @cached_property
    def _annotations(self) -> pd.DataFrame:
        onsets, durations, labels = [], [], []
        first = None
        malformed = 0
        for rec in self._ann_bytes():
            end = 0
            for k, m in enumerate(_TAL.finditer(rec)):
                malformed += _count_malformed(rec[end : m.start()])
                end = m.end()
                onset, duration = float(m.group(1)), float(m.group(2) or 0.0)
                if not (np.isfinite(onset) and np.isfinite(duration)):
                    malformed += 1
                    continue
                texts = m.group(3).split(b"\x14")
                if k == 0 and texts[0] == b"":  # time-keeping TAL of the record
                    first = onset if first is None else first
                    texts = texts[1:]
                for text in texts:
                    if text:
                        onsets.append(onset)
                        durations.append(duration)
                        labels.append(text.decode("utf-8", "replace"))
            malformed += _count_malformed(rec[end:])
        if malformed:
            warnings.warn(
                f"{self.path.name}: {malformed} malformed EDF+ annotation(s) (TALs that do not "
                "follow the EDF+ specification) are ignored; "
                f"{len(onsets)} well-formed annotation(s) are read.",
                HfsEmgWarning,
                stacklevel=2,
            )
        # Annotation times count from the start time, not record 0; events use the file clock.
        shift = (first or 0.0) - self.tstart
        return (
            make_events(np.asarray(onsets) - shift, durations=durations, labels=labels)
            if onsets
            else make_events()
        )

    @cached_property
    def _trigger_scan(self) -> dict[int, tuple[np.ndarray, np.ndarray, TriggerRuns | None]]:
        """Each trigger channel's rising edges (samples, codes) and its runs, in one scan.

        The channel is read in blocks of :attr:`_EDGE_BLOCK` samples (one sample of overlap),
        not as one float64 copy of the whole channel: the same edges as ``rising_edges`` of
        the whole channel. The runs (:class:`hfs_emg.events.TriggerRuns`; None in a mixed-rate
        file, for a channel not exposed at the read's length, and for a channel that is not
        piecewise constant, whose runs would hold its samples) are fed the samples in the
        dtype :meth:`read` stores them in, so their median,
        maximum and edges are those of the channel's row in a whole read.
        """
        single = not self.is_mixed_rate and bool(self.ch_names)
        dtype = default_dtype(len(self.ch_names) * self.n_samples) if single else None
        exposed = {int(i) for i in self._orig}
        out: dict[int, tuple[np.ndarray, np.ndarray, TriggerRuns | None]] = {}
        with ExitStack() as stack:
            fd = os.open(self.path, os.O_RDONLY)
            stack.callback(os.close, fd)
            for k in self._stim_all:
                out[k] = self._scan_channel(fd, k, single and k in exposed, dtype)
        return out

    def _scan_channel(
        self, fd: int, k: int, exposed: bool, dtype: np.dtype | None
    ) -> tuple[np.ndarray, np.ndarray, TriggerRuns | None]:
        """One trigger channel of :meth:`_trigger_scan`: its edges (samples, codes), its runs.

        Read block by block with only its own bytes of each record (:meth:`_read_signal`).
        """
        n, step = self.ch_n_samples[k], self._EDGE_BLOCK
        # runs of the row a whole read gives: an exposed channel of the read's length
        runs = TriggerRuns() if exposed and n == self.n_samples else None
        spr = int(self._spr[int(self._sig[k])])
        width = spr * self._bps
        buf = np.empty((-(-(min(step, n) + 1) // spr) + 1, width), dtype=np.uint8)
        idx_parts, val_parts = [], []
        for a in range(0, n, step):
            lo = max(a - 1, 0)
            codes = self._read_signal(fd, k, lo, min(a + step, n), buf)
            i = edge_samples(codes)
            idx_parts.append(i + lo)
            val_parts.append(codes[i])
            if runs is not None:  # float32 of a read = the float64 samples rounded once
                runs.add(codes[a - lo :].astype(dtype, copy=False))
                if runs.holds_samples:  # not piecewise constant: do not hold the channel
                    runs = None
        idx = np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64)
        values = np.concatenate(val_parts) if val_parts else np.zeros(0)
        return idx, values, runs

    def trigger_runs(self) -> dict[str, TriggerRuns]:
        """The trigger channels (type ``stim``) as :class:`~hfs_emg.events.TriggerRuns`, by name.

        Scanned once with the trigger events (:meth:`read_events`), so an analysis can find
        the stimuli (``find_stim_events(trigger_runs=...)``) without holding the channels'
        samples. Only channels whose whole row :meth:`read` gives (none in a mixed-rate file).
        """
        return {
            self._names_all[k]: runs
            for k, (_, _, runs) in self._trigger_scan.items()
            if runs is not None
        }

    @cached_property
    def _events(self) -> pd.DataFrame:
        frames = [self._annotations] if self._ann_idx else []
        for k, (idx, values, _) in self._trigger_scan.items():
            frames.append(
                edge_events(idx, values, self.ch_sfreqs[k], self.tstart, self._names_all[k])
            )
        frames = [f for f in frames if len(f)]
        return make_events(pd.concat(frames, ignore_index=True)) if frames else make_events()

    def _read_events(self) -> pd.DataFrame:
        return self._events

    def close(self) -> None:
        self._mm = None  # type: ignore[assignment]
