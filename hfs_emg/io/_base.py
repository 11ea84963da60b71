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

import os
from collections.abc import Iterator, Sequence
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
    ParameterError,
    SamplingRateError,
)
from ..recording import Recording, from_array, make_events

__all__ = ["BaseReader"]


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
        try:
            self._parse_header()
        except HfsEmgError:
            raise
        except (OSError, ValueError, KeyError, IndexError, EOFError, TypeError) as err:
            raise CorruptFileError(
                f"{self.path}: could not read the {self.format_name} header ({err})."
            ) from err
        self.meta.setdefault("source_file", str(self.path))
        self.meta.setdefault("format", self.format_name)
        if self.n_samples <= 0:
            raise CorruptFileError(f"{self.path}: the file holds no samples.")
        if not self.ch_names:
            raise CorruptFileError(f"{self.path}: the file holds no channel.")

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

    # --------------------------------------------------------------- shared machinery
    @property
    def duration_s(self) -> float:
        """Duration of the file in seconds."""
        return self.n_samples / self.sfreq

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
        if picks is None:
            return np.arange(len(self.ch_names))
        items = [picks] if isinstance(picks, (str, int, np.integer)) else list(picks)
        out = []
        for item in items:
            if isinstance(item, str) and item in self.ch_names:
                out.append(self.ch_names.index(item))
            elif isinstance(item, (int, np.integer)) and 0 <= int(item) < len(self.ch_names):
                out.append(int(item))
            else:
                raise ChannelError(f"{self.path}: no channel {item!r}. Channels: {self.ch_names}.")
        return np.asarray(out, dtype=np.intp)

    def _window(self, tmin: float | None, tmax: float | None) -> tuple[int, int]:
        start = 0 if tmin is None else int(np.ceil(round((tmin - self.tstart) * self.sfreq, 6)))
        stop = (
            self.n_samples
            if tmax is None
            else int(np.floor(round((tmax - self.tstart) * self.sfreq, 6))) + 1
        )
        start, stop = max(start, 0), min(stop, self.n_samples)
        if stop <= start:
            raise ParameterError(
                f"{self.path}: the window tmin={tmin}, tmax={tmax} s holds no sample; the file "
                f"spans {self.tstart:.6g} to {self.tstart + self.duration_s:.6g} s."
            )
        return start, stop

    def read_events(self) -> pd.DataFrame:
        """Events of the whole file: ``onset_s``, ``duration_s``, ``label`` (+ format columns)."""
        try:
            return make_events(self._read_events())
        except HfsEmgError:
            raise
        except (OSError, ValueError, KeyError, IndexError, EOFError) as err:
            raise CorruptFileError(f"{self.path}: could not read events ({err}).") from err

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
            Storage dtype of the samples (default float64).
        """
        idx = self._picks(picks)
        start, stop = self._window(tmin, tmax)
        try:
            data = self._read_raw(start, stop, idx)
        except HfsEmgError:
            raise
        except (OSError, ValueError, KeyError, IndexError, EOFError) as err:
            raise CorruptFileError(f"{self.path}: could not read samples ({err}).") from err
        data = np.asarray(data)
        if data.shape != (len(idx), stop - start):
            raise CorruptFileError(
                f"{self.path}: expected {stop - start} samples for {len(idx)} channel(s), the "
                f"file gave an array of shape {data.shape} (truncated file?)."
            )
        t0 = self.tstart + start / self.sfreq
        t1 = self.tstart + stop / self.sfreq
        events = self.read_events()
        events = events.loc[(events["onset_s"] >= t0) & (events["onset_s"] < t1)]
        names = [self.ch_names[i] for i in idx]
        file_units = [self.units[i] for i in idx] if units is None else units
        file_types = (
            [self.ch_types[i] for i in idx] if ch_types is None and self.ch_types else ch_types
        )
        try:
            return from_array(
                data,
                self.sfreq,
                names,
                units=file_units,
                ch_types=file_types,
                events=events,
                meta=dict(self.meta),
                tstart=t0,
                dtype=dtype,
            )
        except (DataError, ChannelError, SamplingRateError) as err:
            raise type(err)(f"{self.path}: {err}") from err

    def iter_chunks(
        self,
        chunk_s: float,
        *,
        margin_s: float = 0.0,
        picks: Any = None,
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
        """
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
                dtype=dtype,
            )
            core = (self.tstart + start / self.sfreq, self.tstart + stop / self.sfreq)
            yield rec, core
