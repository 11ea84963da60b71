"""Reading and writing recordings: one reader module per format behind :func:`read_recording`."""

from __future__ import annotations

import hashlib
import importlib
import os
import warnings
from pathlib import Path
from typing import Any

from .._errors import HfsEmgWarning, UnsupportedFormatError
from ..recording import Recording
from ._base import BaseReader, rising_edges
from .text import label_segments

__all__ = [
    "READERS",
    "WRITERS",
    "BaseReader",
    "file_sha256",
    "label_segments",
    "open_recording",
    "read_recording",
    "rising_edges",
    "write_recording",
]

#: Extension -> "module:ReaderClass" (modules are imported on first use, so ``import hfs_emg``
#: does not pay for MNE, neo or wfdb).
READERS: dict[str, str] = {
    ".npy": "numpy_io:NumpyReader",
    ".npz": "numpy_io:NumpyReader",
    ".edf": "edf:EdfReader",
    ".bdf": "edf:EdfReader",
    ".vhdr": "mne_io:BrainVisionReader",
    ".fif": "mne_io:FifReader",
    ".hea": "wfdb_io:WfdbReader",
    ".smr": "neo_io:Spike2Reader",
    ".abf": "neo_io:AxonReader",
    ".csv": "text:TextReader",
    ".tsv": "text:TextReader",
    ".txt": "text:TextReader",
    ".xdf": "xdf_io:XdfReader",
    ".xdfz": "xdf_io:XdfReader",
}
#: Extension -> "module:function" writing a Recording to a path.
WRITERS: dict[str, str] = {
    ".npz": "numpy_io:write_npz",
    ".edf": "edf_write:write_edf",
    ".bdf": "edf_write:write_edf",
}
_HINTS: dict[str, str] = {
    ".vmrk": "a BrainVision recording is opened through its header: pass the .vhdr file.",
    ".eeg": "a BrainVision recording is opened through its header: pass the .vhdr file.",
    ".smrx": "Spike2 64-bit .smrx files need CED's sonpy, which is not available; export the "
    "file as .smr (32-bit) or EDF from Spike2.",
}


def _load(spec: str) -> Any:
    module, name = spec.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def file_sha256(path: str | os.PathLike[str], *, block: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in blocks (the file is opened read-only).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def open_recording(path: str | os.PathLike[str], **options: Any) -> BaseReader:
    """Open a recording without reading its samples: the header is parsed once.

    Use the returned reader's ``read(tmin=..., tmax=...)`` to read a window of a long file, or
    ``iter_chunks(chunk_s, margin_s=...)`` to stream it.

    Parameters
    ----------
    path : path-like
        The file. Supported extensions are the keys of :data:`READERS`.
    **options
        Format options (see :func:`read_recording`).

    Returns
    -------
    BaseReader

    Raises
    ------
    UnsupportedFormatError
        The extension is not one hfs_emg reads; the message lists those it does.
    CorruptFileError
        The file is empty, truncated or its header is invalid.
    """
    p = Path(path)
    ext = _suffix(p)
    if ext in _HINTS:
        raise UnsupportedFormatError(f"{p}: {_HINTS[ext]}")
    if ext not in READERS:
        known = ", ".join(sorted(READERS))
        raise UnsupportedFormatError(
            f"{p}: unsupported file extension {ext or '(none)'!r}. hfs_emg reads: {known}."
        )
    reader_cls = _load(READERS[ext])
    return reader_cls(p, **options)


def read_recording(
    path: str | os.PathLike[str],
    *,
    tmin: float | None = None,
    tmax: float | None = None,
    picks: Any = None,
    units: Any = None,
    ch_types: Any = None,
    dtype: Any = None,
    **options: Any,
) -> Recording:
    """Read a recording (or a window of it) into a :class:`~hfs_emg.Recording` in microvolts.

    Parameters
    ----------
    path : path-like
        File to read; the format is chosen by the extension (keys of :data:`READERS`).
    tmin, tmax : float, optional
        Window in seconds (file clock). Formats that allow it read only that window from disk.
    picks : str, int or sequence, optional
        Channels to read (names or indices).
    units : str or sequence, optional
        Override the units the file declares.
    ch_types : str or sequence, optional
        Override channel types (``"emg"``, ``"stim"``, ``"misc"``...).
    dtype : dtype, optional
        Storage dtype (default: float32 for files of more than 2**24 samples in all,
        ``hfs_emg.io._base.FLOAT32_FROM_SAMPLES``, e.g. 8 channels at 10 kHz for over 3.5
        minutes, which halves their memory; float64 for shorter files).
    **options
        Format-specific options, passed to the reader:

        - mixed-rate EDF/BDF and Spike2: ``sfreq`` (read the channels sampled at that rate);
        - EDF/BDF: ``allow_truncated`` (read the complete records of a short file);
        - WFDB: ``annotator`` (annotation file extension, default ``"atr"``);
        - text: ``sfreq``, ``time_column``, ``time_unit`` (``"s"``/``"ms"``), ``label_column``,
          ``resample`` (opt into interpolating a non-uniform time base), ``ragged``
          (``"truncate"``/``"error"``), ``unit``, ``decimal`` (``","`` for decimal commas, with
          ``;`` or tab delimiters);
        - npy/npz: ``sfreq``, ``ch_names``, ``units``.

    Returns
    -------
    Recording

    Raises
    ------
    UnsupportedFormatError
        Unknown extension, or a file the format's reader refuses (e.g. EDF+D with gaps).
    CorruptFileError
        Empty, truncated or corrupt file.
    SamplingRateError
        Channels at several rates without ``sfreq=``/``picks``; non-uniform time column.
    DataError
        NaN samples, mismatched channel lengths, non-numeric text.

    Examples
    --------
    >>> import tempfile, numpy as np, hfs_emg
    >>> path = tempfile.mkdtemp() + "/rec.npz"
    >>> hfs_emg.write_recording(hfs_emg.from_array(np.ones((1, 10)), 1e3, ["oris"]), path)
    >>> read_recording(path)
    <Recording | 1 ch (oris), 1000 Hz, 0.010 s, 0 events>
    """
    with warnings.catch_warnings():
        if units is not None:  # the caller supplies the units the file lacks
            warnings.filterwarnings("ignore", ".*unknown or missing unit", HfsEmgWarning)
        reader = open_recording(path, **options)
    with reader:
        return reader.read(
            tmin=tmin, tmax=tmax, picks=picks, units=units, ch_types=ch_types, dtype=dtype
        )


def write_recording(
    rec: Recording, path: str | os.PathLike[str], *, overwrite: bool = False, **options: Any
) -> None:
    """Write a recording atomically; the format is chosen by the extension (keys of WRITERS).

    The file is written to a temporary name beside ``path`` and renamed when complete, so an
    interrupted write never leaves a half-written file.

    Parameters
    ----------
    rec : Recording
    path : path-like
    overwrite : bool
        Replace an existing file (default False: an existing file is an error).
    **options
        Format-specific options.
    """
    if not isinstance(rec, Recording):
        raise TypeError(f"rec must be a Recording, got {type(rec).__name__}.")
    p = Path(path)
    ext = _suffix(p)
    if ext not in WRITERS:
        raise UnsupportedFormatError(
            f"{p}: cannot write {ext or '(none)'!r}; hfs_emg writes: {', '.join(sorted(WRITERS))}."
        )
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists; pass overwrite=True to replace it.")
    _load(WRITERS[ext])(rec, p, **options)
