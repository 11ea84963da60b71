"""The reader contract: parse a header once, then read any window of samples on demand.

Every format is one subclass of :class:`BaseReader` in its own module. A subclass parses the
header in ``_parse_header`` (filling the attributes below) and implements ``_read_raw`` (a
window of samples in the file's *declared* physical units) and, if the format has them,
``_read_events``. The base class does the rest once for every format: picking channels, turning
seconds into samples, unit conversion to microvolts (through :func:`hfs_emg.from_array`), NaN
checks, chunked iteration with margins, and wrapping library errors in :class:`CorruptFileError`
that names the file.
"""

from __future__ import annotations

import copy
import os
import struct
import warnings
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import (
    ChannelError,
    CorruptFileError,
    DataError,
    HfsEmgError,
    HfsEmgWarning,
    ParameterError,
    SamplingRateError,
    UnsupportedFormatError,
)
from .._validate import finite_rows
from ..anatomy import is_ecg_lead
from ..recording import Recording, from_array, make_events, window_to_samples
from ..units import normalize_unit

#: What parsers typically raise on malformed bytes (zlib: compressed .npz members, struct:
#: binary headers). Any other foreign exception is wrapped too (see :func:`_foreign`); this tuple
#: only documents the common cases.
_PARSE_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    EOFError,
    zlib.error,
    struct.error,
)
#: Exceptions that are never wrapped: the caller must see them as they are.
_PASS_THROUGH = (MemoryError, RecursionError)

#: Files holding more samples than this (all channels together: 2**24, e.g. 8 channels at
#: 10 kHz for 3.5 minutes, 128 MB as float64) are read as float32 by default, which halves
#: their memory; shorter ones as float64. float32 keeps 24 significant bits, as many as a BDF
#: sample has, and every accumulation downstream (running sums, features) is in float64.
FLOAT32_FROM_SAMPLES: int = 1 << 24


def default_dtype(n_values: int) -> np.dtype:
    """Storage dtype a reader uses by default for a file of ``n_values`` samples in total.

    Examples
    --------
    >>> default_dtype(8 * 60 * 10_000), default_dtype(8 * 600 * 10_000)
    (dtype('float64'), dtype('float32'))
    """
    return np.dtype(np.float32 if n_values > FLOAT32_FROM_SAMPLES else np.float64)


def _foreign(path: Path, fmt: str, what: str, err: Exception) -> HfsEmgError:
    """The hfs_emg error for a foreign exception raised inside a reader (chain it with ``from``).

    A library refusing a feature (``NotImplementedError``: e.g. an unknown BrainVision binary
    format) is an :class:`UnsupportedFormatError`; anything else raised while parsing bytes
    (``OverflowError``, ``ZeroDivisionError``, ``AssertionError``, a configparser error, ...) is a
    :class:`CorruptFileError`. The message names the file, the step and the original error.
    """
    detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    if isinstance(err, NotImplementedError):
        return UnsupportedFormatError(
            f"{path}: the {fmt} reader does not support this file ({what}: {detail})."
        )
    return CorruptFileError(f"{path}: could not read the {fmt} {what} ({detail}).")


__all__ = ["KNOWN_UNITS", "BaseReader", "ReadView", "guess_type", "rising_edges"]

#: Units that are not voltages but are understood (values are kept, no warning, type misc).
KNOWN_UNITS: frozenset[str] = frozenset(
    u.lower()
    for u in (
        "deg",
        "degree",
        "degrees",
        "°",
        "degc",
        "°c",
        "bpm",
        "%",
        "l",
        "l/s",
        "ml",
        "pa",
        "na",
        "ua",
        "ma",
        "a",
        "db",
        "g",
        "kg",
        "n",
        "nm",
        "mmhg",
        "s",
        "ms",
        "us",
        "µs",
        "μs",
        "hz",
        "ohm",
        "kohm",
        "code",
        "count",
        "counts",
        "cm",
        "mm",
        "m",
        "m/s",
        "m/s^2",
        "rad",
        "rad/s",
    )
)
_TYPE_PREFIXES = {
    "eeg": "eeg",
    "eog": "eog",
    "ecg": "ecg",
    "ekg": "ecg",
    "emg": "emg",
    "resp": "resp",
}


def guess_type(name: str, unit: str | None) -> str | None:
    """Channel type from a label prefix, an ECG lead name or a non-voltage unit.

    ``"EEG Fp1"`` is eeg, the ECG leads ``"MLII"``, ``"V5"``, ``"aVR"`` are ecg (see
    :func:`hfs_emg.anatomy.is_ecg_lead`), a channel in degrees is misc.

    Returns None when neither tells (the Recording then infers from the name).

    Examples
    --------
    >>> guess_type("EEG Fpz-Cz", "uV"), guess_type("k_angle", "deg"), guess_type("soleus", "mV")
    ('eeg', 'misc', None)
    """
    low = name.strip().lower()
    if is_ecg_lead(name):
        return "ecg"
    for prefix, kind in _TYPE_PREFIXES.items():
        if low.startswith(prefix) and (len(low) == len(prefix) or not low[len(prefix)].isalpha()):
            return kind
    if unit and normalize_unit(unit) is None and not any(h in low for h in ("stim", "trig")):
        return "misc"
    return None


def rising_edges(
    codes: npt.NDArray[np.floating], sfreq: float, tstart: float, name: str
) -> pd.DataFrame:
    """Events at the rising edges of a trigger channel (value increases to a non-zero code).

    Labels are ``"<channel>/<code>"`` and the code is in a ``value`` column. A non-zero value in
    the first sample is not an event (its onset is unknown), as in ``mne.find_events``.

    Examples
    --------
    >>> rising_edges(np.array([0, 4, 4, 0, 0, 2, 6, 0.0]), 1000.0, 0.0, "Status")
       onset_s  duration_s     label  value
    0    0.001         0.0  Status/4      4
    1    0.005         0.0  Status/2      2
    2    0.006         0.0  Status/6      6
    """
    x = np.asarray(codes)
    idx = edge_samples(x)
    return edge_events(idx, x[idx], sfreq, tstart, name)


def edge_samples(codes: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
    """Samples of the rising edges of :func:`rising_edges` (value increases to non-zero)."""
    x = np.asarray(codes)
    return (np.flatnonzero((np.diff(x) > 0) & (x[1:] != 0)) + 1).astype(np.int64)


def edge_events(
    idx: npt.NDArray[np.int64],
    values: npt.NDArray[np.floating],
    sfreq: float,
    tstart: float,
    name: str,
) -> pd.DataFrame:
    """The events of :func:`rising_edges` from its edge samples ``idx`` and their ``values``."""
    ints = np.all(values == np.round(values))
    shown = values.astype(np.int64) if ints else values
    return make_events(
        tstart + idx / sfreq,
        labels=[f"{name}/{v:g}" if not ints else f"{name}/{v}" for v in shown],
        value=shown,
    )


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _channels_key(
    names: list[str], sfreq: float, units: Any, ch_types: Any, dtype: Any
) -> tuple[Any, ...] | None:
    """The memo key of a read's channel table, or None when the read is not memoised.

    Only reads with the file's own units (``units=None``: their unit warnings are silenced, so
    skipping :func:`~hfs_emg.from_array` changes nothing) and with channel types given as
    plain strings (whose ``repr`` is exact).
    """
    if units is not None:
        return None
    if isinstance(ch_types, Mapping):
        if not all(isinstance(k, str) and _plain(v) for k, v in ch_types.items()):
            return None
        types: Any = ("map", tuple(ch_types.items()))
    elif _plain(ch_types):
        types = ch_types
    elif isinstance(ch_types, (list, tuple)) and all(_plain(t) for t in ch_types):
        types = ("seq", tuple(ch_types))
    else:
        return None
    return ("channels", tuple(names), float(sfreq), types, np.dtype(dtype).str)


class BaseReader:
    """Base class of the per-format readers.

    Attributes filled by ``_parse_header``
    --------------------------------------
    sfreq : float
        Sampling rate in Hz of the channels this reader exposes.
    n_samples : int
        Samples per channel.
    ch_names : list of str
    units : list of str or None
        Units as the file declares them (converted to microvolts on read).
    ch_types : list of str or None
        Channel types when the format tells them (``"emg"``, ``"stim"``...), else None to infer.
    tstart : float
        Time of the first sample in seconds (file clock).
    meta : dict
        Format-specific header fields; ``source_file`` and ``format`` are added here.
    """

    #: File extensions (lower case, with the dot) the reader handles.
    extensions: ClassVar[tuple[str, ...]] = ()
    #: Human-readable format name.
    format_name: ClassVar[str] = ""
    #: True for a reader whose ``_read_raw`` takes ``dtype=`` and scales the samples straight
    #: into an array of that dtype (no float64 copy of a float32 read).
    _reads_into_dtype: ClassVar[bool] = False
    #: True for a file that holds events and no signal (an annotation-only EDF+): it opens, its
    #: events can be read, but :meth:`read` refuses it (a Recording needs samples).
    _events_only: bool = False

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        self.path = Path(path)
        self.options = options
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file.")
        if self.path.is_file() and self.path.stat().st_size == 0:
            raise CorruptFileError(f"{self.path}: the file is empty (0 bytes).")
        self.sfreq: float = 0.0
        self.n_samples: int = 0
        self.ch_names: list[str] = []
        self.units: list[str | None] = []
        self.ch_types: list[str | None] | None = None
        self.tstart: float = 0.0
        self.meta: dict[str, Any] = {}
        #: Per-channel sampling rates and lengths, filled by formats whose channels may differ.
        self.ch_sfreqs: list[float] = []
        self.ch_n_samples: list[int] = []
        self._rate_groups: dict[float, list[int]] = {}
        self._unit_misc: set[str] = set()
        try:
            self._parse_header()
        except (HfsEmgError, *_PASS_THROUGH):
            raise
        except Exception as err:  # every foreign error becomes an hfs_emg one
            raise _foreign(self.path, self.format_name, "header", err) from err
        self._check_header()
        self.meta.setdefault("source_file", str(self.path))
        self.meta.setdefault("format", self.format_name)
        self._orig = np.arange(len(self.ch_names))
        if self._events_only:
            return
        if self.ch_sfreqs:
            self._group_rates()
        self._check_units()
        if self.n_samples <= 0:
            raise CorruptFileError(f"{self.path}: the file holds no samples.")
        if not self.ch_names:
            raise CorruptFileError(f"{self.path}: the file holds no channel.")

    def _check_header(self) -> None:
        """Refuse what no format allows: a non-finite or non-positive rate, a non-finite start."""
        rates = [self.sfreq, *self.ch_sfreqs] if self.ch_sfreqs else [self.sfreq]
        bad = [r for r in rates if not (np.isfinite(r) and r > 0)]
        if bad and (self.ch_names or self.n_samples):
            raise CorruptFileError(
                f"{self.path}: the {self.format_name} header gives an invalid sampling rate "
                f"({bad[0]!r} Hz; it must be finite and > 0)."
            )
        if not np.isfinite(self.tstart):
            raise CorruptFileError(
                f"{self.path}: the {self.format_name} header gives a non-finite start time "
                f"({self.tstart!r} s)."
            )

    # --------------------------------------------------------------- to implement per format
    def _parse_header(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        """Samples ``start:stop`` of channels ``picks``, shape (len(picks), stop - start),
        in the file's declared physical units."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _read_events(self) -> pd.DataFrame:
        """Events of the whole file (onset_s on the file clock). Default: none."""
        return make_events()

    # --------------------------------------------------------------- units and rates
    def _check_units(self) -> None:
        """Warn once per file about units that are neither voltages nor known; type them misc."""
        unknown = [
            (name, unit)
            for name, unit in zip(self.ch_names, self.units, strict=True)
            if normalize_unit(unit) is None
            and (unit or "").strip().lower() not in KNOWN_UNITS
            and (self.ch_types is None or self.ch_types[self.ch_names.index(name)] != "stim")
        ]
        if not unknown:
            return
        if self.ch_types is None:
            self.ch_types = [None] * len(self.ch_names)
        for name, _ in unknown:
            i = self.ch_names.index(name)
            # A channel named EMG stays EMG (e.g. ADC counts of an EMG amplifier).
            if self.ch_types[i] in (None, "emg", "eeg") and "emg" not in name.lower():
                self.ch_types[i] = "misc"
                self._unit_misc.add(name)
        listed = ", ".join(f"{n!r} ({u!r})" for n, u in unknown[:12])
        more = f" and {len(unknown) - 12} more" if len(unknown) > 12 else ""
        warnings.warn(
            f"{self.path.name}: unknown or missing unit for channel(s) {listed}{more}: their "
            "values are kept as stored (not microvolts) and typed 'misc'. Pass units= and "
            "ch_types= to read_recording if you know them.",
            HfsEmgWarning,
            stacklevel=4,
        )

    def _group_rates(self) -> None:
        groups: dict[float, list[int]] = {}
        for i, rate in enumerate(self.ch_sfreqs):
            groups.setdefault(float(rate), []).append(i)
        self._rate_groups = groups
        want = self.options.get("sfreq")
        if len(groups) == 1 and want is None:
            self._restrict(next(iter(groups)))
        elif want is not None:
            if float(want) not in groups:
                raise SamplingRateError(
                    f"{self.path}: sfreq={want} matches no channel group; {self._groups_text()}. "
                    "hfs_emg does not resample on load."
                )
            self._restrict(float(want))
        else:
            top = max(groups)
            self.sfreq = top
            self.n_samples = min(self.ch_n_samples[i] for i in groups[top])

    def _groups_text(self) -> str:
        return "channel groups by rate: " + "; ".join(
            f"{rate:g} Hz -> {[self.ch_names[i] for i in idx]}"
            for rate, idx in sorted(self._rate_groups.items(), reverse=True)
        )

    @property
    def is_mixed_rate(self) -> bool:
        """True when the exposed channels have several sampling rates (read one group)."""
        return len({self.ch_sfreqs[i] for i in self._orig}) > 1 if self.ch_sfreqs else False

    def _restrict(self, rate: float) -> None:
        """Expose only the channels sampled at ``rate`` (indices kept for ``_read_raw``)."""
        keep = self._rate_groups[rate]
        lengths = [self.ch_n_samples[i] for i in keep]
        self._orig = np.asarray(keep, dtype=np.intp)
        self.ch_names = [self.ch_names[i] for i in keep]
        self.units = [self.units[i] for i in keep]
        if self.ch_types is not None:
            self.ch_types = [self.ch_types[i] for i in keep]
        self.sfreq = rate
        self.n_samples = min(lengths)
        if max(lengths) != self.n_samples:
            short = [self.ch_names[j] for j, n in enumerate(lengths) if n == self.n_samples]
            warnings.warn(
                f"{self.path.name}: the {rate:g} Hz channels differ in length "
                f"({min(lengths)} to {max(lengths)} samples; shortest: {short}); all are read "
                f"to the common length {self.n_samples}, dropping the last "
                f"{max(lengths) - self.n_samples} sample(s) of the longer ones.",
                HfsEmgWarning,
                stacklevel=5,
            )

    def _pick_names(self, picks: Any) -> list[str] | None:
        return None if picks is None else [self.ch_names[i] for i in self._picks(picks)]

    def _group_reader(self, picks: Any) -> BaseReader:
        """A copy of this reader restricted to the one rate group holding ``picks``."""
        names = self._pick_names(picks) or []
        rates = {self.ch_sfreqs[self._orig[self.ch_names.index(n)]] for n in names}
        if picks is None or len(rates) != 1:
            raise SamplingRateError(
                f"{self.path}: the channels have different sampling rates; "
                f"{self._groups_text()}. Pass sfreq=<rate> to read one group (e.g. "
                f"read_recording(path, sfreq={max(self._rate_groups):g})) or picks= from one "
                "group; hfs_emg does not resample on load."
            )
        clone = copy.copy(self)
        # Restrict from the full channel list, which this (unrestricted) reader still exposes.
        clone._restrict(rates.pop())
        return clone

    # --------------------------------------------------------------- shared machinery
    @property
    def duration_s(self) -> float:
        """Duration of the file in seconds (0 for a file without samples)."""
        return self.n_samples / self.sfreq if self.sfreq > 0 else 0.0

    def __enter__(self) -> BaseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release file handles (a no-op for readers that open the file per read)."""

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} | {self.path.name}, {len(self.ch_names)} ch, "
            f"{self.sfreq:g} Hz, {self.duration_s:.3f} s>"
        )

    def _picks(self, picks: Any) -> npt.NDArray[np.intp]:
        """Indices of ``picks``: channel names, indices, or channel types (``"emg"``...)."""
        if picks is None:
            return np.arange(len(self.ch_names))
        items = [picks] if isinstance(picks, (str, int, np.integer)) else list(picks)
        types = self.ch_types or [None] * len(self.ch_names)
        out = []
        for item in items:
            if isinstance(item, str) and item in self.ch_names:
                out.append(self.ch_names.index(item))
            elif isinstance(item, str) and item in types:
                out.extend(i for i, t in enumerate(types) if t == item)
            elif isinstance(item, (int, np.integer)) and 0 <= int(item) < len(self.ch_names):
                out.append(int(item))
            else:
                raise ChannelError(f"{self.path}: no channel {item!r}. Channels: {self.ch_names}.")
        return np.asarray(out, dtype=np.intp)

    def _refuse_events_only(self) -> None:
        if self._events_only:
            n = len(self.read_events())
            raise UnsupportedFormatError(
                f"{self.path}: the file holds only annotations ({n} event(s)) and no signal, so "
                "there are no samples to read into a Recording. Read its events with "
                "hfs_emg.open_recording(path).read_events()."
            )

    def _window(self, tmin: float | None, tmax: float | None) -> tuple[int, int]:
        try:
            return window_to_samples(
                tmin, tmax, tstart=self.tstart, sfreq=self.sfreq, n_samples=self.n_samples
            )
        except ParameterError as err:
            raise ParameterError(f"{self.path}: {err}") from err

    def read_events(self) -> pd.DataFrame:
        """Events of the whole file: ``onset_s``, ``duration_s``, ``label`` (+ format columns)."""
        try:
            return make_events(self._read_events())
        except (HfsEmgError, *_PASS_THROUGH):
            raise
        except Exception as err:  # every foreign error becomes an hfs_emg one
            raise _foreign(self.path, self.format_name, "events", err) from err

    def read(
        self,
        *,
        tmin: float | None = None,
        tmax: float | None = None,
        picks: Any = None,
        units: str | Sequence[str | None] | None = None,
        ch_types: str | Sequence[str | None] | None = None,
        dtype: npt.DTypeLike | None = None,
    ) -> Recording:
        """Read a window (default: all) of the file into a :class:`Recording`.

        Parameters
        ----------
        tmin, tmax : float, optional
            Window in seconds on the file clock (inclusive). Only that window is read from disk
            where the format allows.
        picks : str, int or sequence, optional
            Channel names or indices.
        units : str or sequence, optional
            Override the units the file declares (for files that declare none or a wrong one).
        ch_types : str or sequence, optional
            Override the channel types.
        dtype : dtype, optional
            Storage dtype of the samples (default: ``default_dtype`` of the whole file,
            float32 for files of more than ``FLOAT32_FROM_SAMPLES`` = 2**24 samples in all,
            else float64; the same for every window of one file).

        Raises
        ------
        DataError
            A channel holds NaN or infinite samples (every row of the result is checked, so
            :func:`hfs_emg.analyze` does not check a file's read again), naming the file, the
            channels and the time of the first.
        """
        self._refuse_events_only()
        if self.is_mixed_rate:
            return self._group_reader(picks).read(
                tmin=tmin,
                tmax=tmax,
                picks=self._pick_names(picks),
                units=units,
                ch_types=ch_types,
                dtype=dtype,
            )
        idx = self._picks(picks)
        start, stop = self._window(tmin, tmax)
        if dtype is None:
            dtype = default_dtype(len(self.ch_names) * self.n_samples)
        try:
            if self._reads_into_dtype:
                data = self._read_raw(start, stop, self._orig[idx], dtype=dtype)
            else:
                data = self._read_raw(start, stop, self._orig[idx])
        except (HfsEmgError, *_PASS_THROUGH):
            raise
        except Exception as err:  # every foreign error becomes an hfs_emg one
            raise _foreign(self.path, self.format_name, "samples", err) from err
        data = np.asarray(data)
        if data.shape != (len(idx), stop - start):
            raise CorruptFileError(
                f"{self.path}: expected {stop - start} samples for {len(idx)} channel(s), the "
                f"file gave an array of shape {data.shape} (truncated file?)."
            )
        t0 = self.tstart + start / self.sfreq
        memo = self._read_memo()
        events = self.window_events(start, stop)
        names = [self.ch_names[i] for i in idx]
        key = _channels_key(names, self.sfreq, units, ch_types, dtype)
        channels = memo.get(key) if key is not None else None
        known_finite = self._finite_by_construction(idx, data.dtype)
        if channels is not None and data.size and (known_finite or finite_rows(data).all()):
            # the channel table of an earlier read with the same options, whose samples
            # from_array kept as read (no unit factor, same dtype): it would keep these too
            return Recording(
                data=data,
                sfreq=self.sfreq,
                channels=channels.copy(),
                events=events.reset_index(drop=True),  # as make_events of a made table
                tstart=float(t0),
                meta=dict(self.meta),
                history=(),
            )
        file_units = [self.units[i] for i in idx] if units is None else units
        file_types = (
            [self.ch_types[i] for i in idx] if ch_types is None and self.ch_types else ch_types
        )
        if isinstance(ch_types, Mapping):  # override some channels, keep the file's others
            declared = [self.ch_types[i] for i in idx] if self.ch_types else [None] * len(idx)
            file_types = [ch_types.get(n, t) for n, t in zip(names, declared, strict=True)]
        if units is not None and ch_types is None and file_types is not None:
            # Typed misc only for want of a unit: let the given unit decide again.
            file_types = [
                None if n in self._unit_misc else t for n, t in zip(names, file_types, strict=True)
            ]
        try:
            with warnings.catch_warnings():
                if units is None:  # the file's unit problems were reported once, on opening
                    warnings.simplefilter("ignore", HfsEmgWarning)
                rec = from_array(
                    data,
                    self.sfreq,
                    names,
                    units=file_units,
                    ch_types=file_types,
                    events=events,
                    meta=dict(self.meta),
                    tstart=t0,
                    dtype=dtype,
                    check_finite=not known_finite,
                )
        except (DataError, ChannelError, SamplingRateError) as err:
            raise type(err)(f"{self.path}: {err}") from err
        if key is not None and (rec.data is data or rec.data.base is data):
            memo[key] = rec.channels.copy()
        return rec

    def _finite_by_construction(self, idx: npt.NDArray[np.intp], dtype: np.dtype) -> bool:
        """Whether the samples of exposed channels ``idx``, read as ``dtype``, cannot be NaN
        or infinite whatever the file holds (then :meth:`read` does not look for them).
        False here: a format that stores floats is checked sample by sample."""
        return False

    def window_events(self, start: int, stop: int) -> pd.DataFrame:
        """The file's events that :meth:`read` keeps for samples ``[start, stop)``.

        Events in ``[t0, t1)``; one exactly at the end of the file is kept in the window that
        reaches the end (EDF+ files often close with a "Recording ends" annotation there). The
        file's events are made once (:meth:`read_events`) and sliced.
        """
        memo = self._read_memo()
        if "events" not in memo:
            memo["events"] = self.read_events()
        events = memo["events"]
        t0 = self.tstart + start / self.sfreq
        t1 = self.tstart + stop / self.sfreq
        onset = events["onset_s"]
        before_end = onset <= t1 if stop == self.n_samples else onset < t1
        return events.loc[(onset >= t0) & before_end]

    def _read_memo(self) -> dict[Any, Any]:
        """What :meth:`read` keeps between calls: the file's events, channel tables by options.

        Shared with the rate-group copies of :meth:`_group_reader` (the keys name the channels
        and the rate). It saves the fixed cost of a read (the channel table's name inference
        and the events table, ~15 ms), which the chunked reads of a long file pay many times.
        """
        memo = self.__dict__.get("_memo")
        if memo is None:
            memo = self.__dict__["_memo"] = {}
        return memo

    def iter_chunks(
        self,
        chunk_s: float,
        *,
        margin_s: float = 0.0,
        picks: Any = None,
        units: str | Sequence[str | None] | None = None,
        ch_types: str | Sequence[str | None] | None = None,
        dtype: npt.DTypeLike | None = None,
    ) -> Iterator[tuple[Recording, tuple[float, float]]]:
        """Iterate over the file in windows of ``chunk_s`` seconds with ``margin_s`` on each side.

        Yields
        ------
        rec : Recording
            The chunk including its margins (clipped at the file's edges).
        core : (float, float)
            The chunk's own time span, without margins: results whose time falls in
            ``[core[0], core[1])`` belong to this chunk, so concatenating them over all chunks
            gives every result exactly once.

        ``picks``, ``units``, ``ch_types`` and ``dtype`` are as in :meth:`read`.
        """
        self._refuse_events_only()
        if self.is_mixed_rate:
            yield from self._group_reader(picks).iter_chunks(
                chunk_s,
                margin_s=margin_s,
                picks=self._pick_names(picks),
                units=units,
                ch_types=ch_types,
                dtype=dtype,
            )
            return
        if chunk_s <= 0 or margin_s < 0:
            raise ParameterError(
                f"chunk_s must be > 0 and margin_s >= 0, got {chunk_s} and {margin_s}."
            )
        step = max(round(chunk_s * self.sfreq), 1)
        margin = int(np.ceil(margin_s * self.sfreq))
        for start in range(0, self.n_samples, step):
            stop = min(start + step, self.n_samples)
            lo, hi = max(start - margin, 0), min(stop + margin, self.n_samples)
            rec = self.read(
                tmin=self.tstart + lo / self.sfreq,
                tmax=self.tstart + (hi - 1) / self.sfreq,
                picks=picks,
                units=units,
                ch_types=ch_types,
                dtype=dtype,
            )
            core = (self.tstart + start / self.sfreq, self.tstart + stop / self.sfreq)
            yield rec, core


class ReadView:
    """A reader seen through fixed read options: ``picks``, ``units`` and ``ch_types``.

    Every :meth:`read` and :meth:`iter_chunks` of the view reads the file as
    ``reader.read(picks=..., units=..., ch_types=...)`` would (the options of
    :func:`hfs_emg.read_recording`), so a file streamed chunk by chunk is read exactly as it is
    read whole. Within the view, ``picks`` choose among the view's channels; ``units`` and
    ``ch_types`` given per channel follow them by name.

    Parameters
    ----------
    reader : BaseReader
        An open reader (from :func:`hfs_emg.open_recording`).
    picks, units, ch_types : optional
        As :meth:`BaseReader.read`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from hfs_emg import from_array, open_recording
    >>> from hfs_emg.io.numpy_io import write_npz
    >>> rec = from_array(np.ones((3, 1000)), 1000.0, ["a", "b", "c"], units="uV")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.npz"
    >>> write_npz(rec, path)
    >>> with open_recording(path) as reader:
    ...     view = ReadView(reader, picks=["c", "a"], units=["mV", "uV"])
    ...     part = view.read(tmax=0.1, picks="a")
    ...     whole = view.read()
    >>> view.ch_names, part.ch_names, float(whole.data[0, 0]), float(whole.data[1, 0])
    (['c', 'a'], ['a'], 1000.0, 1.0)
    """

    def __init__(
        self,
        reader: BaseReader,
        *,
        picks: Any = None,
        units: str | Sequence[str | None] | None = None,
        ch_types: str | Sequence[str | None] | Mapping[str, str] | None = None,
    ) -> None:
        self._reader = reader
        probe = reader.read(tmax=reader.tstart, picks=picks, units=units, ch_types=ch_types)
        self._probe = probe
        self.ch_names: list[str] = list(probe.ch_names)
        self.ch_types: list[str] = [str(t) for t in probe.channels["type"]]
        self._units = self._by_name(units)
        self._types = dict(ch_types) if isinstance(ch_types, Mapping) else self._by_name(ch_types)
        for name in ("path", "sfreq", "tstart", "n_samples", "duration_s", "meta", "format_name"):
            setattr(self, name, getattr(reader, name))

    def _by_name(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return dict(zip(self.ch_names, value, strict=True))

    def _options(self, picks: Any) -> dict[str, Any]:
        names = (
            self.ch_names
            if picks is None
            else [self.ch_names[i] for i in self._probe._pick_indices(picks)]
        )
        units = self._units
        if isinstance(units, dict):
            units = [units[n] for n in names]
        # per-channel types go as a {name: type} mapping, which the reader applies by name
        return {"picks": names, "units": units, "ch_types": self._types}

    def read_events(self) -> pd.DataFrame:
        """Events of the whole file (as :meth:`BaseReader.read_events`)."""
        return self._reader.read_events()

    def read(
        self,
        *,
        tmin: float | None = None,
        tmax: float | None = None,
        picks: Any = None,
        dtype: npt.DTypeLike | None = None,
    ) -> Recording:
        """:meth:`BaseReader.read` with the view's options (``picks`` among its channels)."""
        return self._reader.read(tmin=tmin, tmax=tmax, dtype=dtype, **self._options(picks))

    def iter_chunks(
        self,
        chunk_s: float,
        *,
        margin_s: float = 0.0,
        picks: Any = None,
        dtype: npt.DTypeLike | None = None,
    ) -> Iterator[tuple[Recording, tuple[float, float]]]:
        """:meth:`BaseReader.iter_chunks` with the view's options."""
        yield from self._reader.iter_chunks(
            chunk_s, margin_s=margin_s, dtype=dtype, **self._options(picks)
        )
