"""NumPy ``.npy`` / ``.npz`` recordings.

``.npz`` files written by :func:`write_npz` carry everything a Recording holds (samples in
microvolts, sampling rate, channel table, events, metadata and history as JSON), so they round-trip
exactly. Other ``.npz`` files need a ``data`` array and either an ``sfreq`` entry or ``sfreq=``;
a bare ``.npy`` array always needs ``sfreq=``. ``.npy`` files are memory-mapped, so a window of a
large one is read without loading the rest.
"""

from __future__ import annotations

import datetime as _dt
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._atomic import atomic_path
from .._errors import CorruptFileError, ParameterError
from .._validate import check_sfreq
from ..recording import Recording, make_events
from ._base import BaseReader

__all__ = ["NumpyReader", "write_npz"]

_FORMAT_TAG = "hfs_emg-npz-1"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


class NumpyReader(BaseReader):
    """Reader for ``.npy`` (needs ``sfreq=``) and ``.npz`` files.

    Options
    -------
    sfreq : float
        Sampling rate, required unless the ``.npz`` stores one.
    ch_names : list of str
        Channel names for arrays that store none.
    units : str
        Unit of the stored values for arrays that declare none (default ``"uV"``).
    """

    extensions = (".npy", ".npz")
    format_name = "NumPy"

    def _parse_header(self) -> None:
        opts = self.options
        self._channels: pd.DataFrame | None = None
        self._events = make_events()
        self._history: tuple[dict[str, Any], ...] = ()
        if self.path.suffix.lower() == ".npy":
            try:
                arr = np.load(self.path, mmap_mode="r", allow_pickle=False)
            except ValueError as err:
                raise CorruptFileError(f"{self.path}: not a valid .npy file ({err}).") from err
            stored_sfreq = None
            meta: dict[str, Any] = {}
        else:
            try:
                with np.load(self.path, allow_pickle=False) as npz:
                    if "data" not in npz.files:
                        raise CorruptFileError(
                            f"{self.path}: an .npz recording needs a 'data' array; it has "
                            f"{npz.files}."
                        )
                    arr = npz["data"]
                    stored_sfreq = float(npz["sfreq"]) if "sfreq" in npz.files else None
                    header = json.loads(str(npz["header"])) if "header" in npz.files else {}
                    if not isinstance(header, dict):
                        raise CorruptFileError(
                            f"{self.path}: the 'header' entry is a JSON {type(header).__name__}, "
                            "not an object of header fields."
                        )
                    if "ch_names" in npz.files and "ch_names" not in header:
                        header["ch_names"] = [str(n) for n in npz["ch_names"]]
            except CorruptFileError:
                raise
            except (zipfile.BadZipFile, EOFError, OSError) as err:
                raise CorruptFileError(f"{self.path}: not a valid .npz file ({err}).") from err
            self._check_header_types(header)
            meta = dict(header.get("meta", {}))
            if "channels" in header:
                self._channels = pd.DataFrame(header["channels"])
            if "events" in header:
                self._events = make_events(pd.DataFrame(header["events"]))
            self._history = tuple(header.get("history", ()))
            if "ch_names" in header:
                opts = {"ch_names": header["ch_names"], **opts}
            self.tstart = float(header.get("tstart", 0.0))
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiub":
            kind = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise CorruptFileError(
                f"{self.path}: the 'data' entry is not a numeric array (got {kind})."
            )
        if arr.ndim == 1:
            arr = arr[np.newaxis, :]
        if arr.ndim != 2:
            raise CorruptFileError(
                f"{self.path}: expected a (n_channels, n_samples) array, got shape {arr.shape}."
            )
        sfreq = opts.get("sfreq", stored_sfreq)
        if sfreq is None:
            raise ParameterError(
                f"{self.path}: the array stores no sampling rate; pass sfreq= (in Hz)."
            )
        self.sfreq = check_sfreq(sfreq)
        self._arr = arr
        n_ch = arr.shape[0]
        if self._channels is not None:
            self.ch_names = [str(n) for n in self._channels["name"]]
            self.units = [str(u) if u else None for u in self._channels["unit"]]
            self.ch_types = list(self._channels["type"])
        else:
            self.ch_names = [str(n) for n in opts.get("ch_names", [f"ch{i}" for i in range(n_ch)])]
            self.units = [opts.get("units", "uV")] * n_ch
        if len(self.ch_names) != n_ch:
            raise CorruptFileError(
                f"{self.path}: {len(self.ch_names)} channel names for {n_ch} data rows."
            )
        self.n_samples = int(arr.shape[1])
        self.meta = meta

    def _check_header_types(self, header: dict[str, Any]) -> None:
        """Each header field has the JSON type :func:`write_npz` gives it."""
        kinds: dict[str, tuple[type, ...]] = {
            "meta": (dict,),
            "channels": (dict,),
            "events": (dict,),
            "history": (list,),
            "ch_names": (list,),
            "tstart": (int, float),
        }
        for key, types in kinds.items():
            if key in header and (
                not isinstance(header[key], types) or isinstance(header[key], bool)
            ):
                raise CorruptFileError(
                    f"{self.path}: corrupt header, field {key!r} is a JSON "
                    f"{type(header[key]).__name__}, not {' or '.join(t.__name__ for t in types)}."
                )

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        return np.asarray(self._arr[picks, start:stop])

    def _read_events(self) -> pd.DataFrame:
        return self._events

    def read(self, **kwargs: Any) -> Recording:
        rec = super().read(**kwargs)
        if self._channels is None:
            return rec
        # Restore the stored anatomy (muscle, side, branch) and history of an hfs_emg file.
        stored = self._channels.set_index("name")
        channels = rec.channels.copy()
        for col in ("muscle", "side", "branch", "orig_unit"):
            if col in stored.columns:
                channels[col] = [stored.at[n, col] for n in channels["name"]]
        channels = channels.astype(object).where(channels.notna(), None)
        import dataclasses

        return dataclasses.replace(rec, channels=channels, history=self._history + rec.history)


def write_npz(rec: Recording, path: str | Path, *, compress: bool = True) -> None:
    """Write a Recording to ``.npz`` (lossless; channel table, events, meta and history as JSON).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from hfs_emg import from_array, read_recording
    >>> rec = from_array(np.arange(6.0).reshape(2, 3), 100.0, ["oculi", "mentalis"])
    >>> path = tempfile.mkdtemp() + "/x.npz"
    >>> write_npz(rec, path)
    >>> bool(np.array_equal(read_recording(path).data, rec.data))
    True
    """
    header = {
        "format": _FORMAT_TAG,
        "tstart": rec.tstart,
        "channels": rec.channels.to_dict(orient="list"),
        "events": rec.events.to_dict(orient="list"),
        "meta": dict(rec.meta),
        "history": list(rec.history),
    }
    text = json.dumps(header, default=_json_default)
    save = np.savez_compressed if compress else np.savez
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        save(fh, data=np.asarray(rec.data), sfreq=np.float64(rec.sfreq), header=np.array(text))
