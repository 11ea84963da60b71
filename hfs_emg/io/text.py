"""Delimited text recordings (``.csv``, ``.tsv``, ``.txt``): a row per sample, a column per channel.

Recognised layouts (the file is parsed whole on opening with pandas; windows are slices of it):

- **Generic table**: optional header row of column names, delimiter from the extension (``.csv``
  comma, ``.tsv`` tab, ``.txt`` sniffed). The sampling rate comes from ``sfreq=`` or from a time
  column (``time_column=``; a column named ``time``/``t``/``time_s``/``time_ms`` is used
  automatically) in seconds or milliseconds (``time_unit="s"`` or ``"ms"``; default ``"ms"``
  when the column name ends in ``ms``, else ``"s"``). The first time value becomes ``tstart``.
  A **non-uniform time base** (a step deviating from the median step by more than 1 %) is a
  :class:`SamplingRateError` unless ``resample=True``: the samples are then linearly
  interpolated onto a uniform grid at ``sfreq`` (default: 1 / median step), labels take the value
  of the preceding original sample, and ``meta["resampled"]`` records the gaps.
- **Labels**: ``label_column="class"`` removes that column from the channels and turns each run of
  equal values into one event (onset, duration, label ``"class/<value>"``, ``value``).
- **OpenSignals / BioSPPy "Simple Text Format"**: ``#`` header lines with
  ``Sampling Rate (Hz):= 1000.00`` and ``Labels:= EMG``. The values are ADC counts (unit
  ``"ADC"``: an unknown unit, so a warning; pass ``units=`` when the gain is known).
- **UCI "EMG dataset in Lower Limb"**: a ``File Name:`` line, one ``Channel n: 'name', N values,
  engineering units: mV`` line per column, a blank line; needs ``sfreq=`` (1000 Hz per the dataset).

Units: declared header units, else ``unit=`` (one for all channels), else unknown (warning).
**Ragged tails** (the last rows lack values in some columns, e.g. a goniometer column longer
than the EMG columns) are truncated to the common length with a warning naming the dropped file
lines; pass ``ragged="error"`` to refuse them. A missing or NaN value before the tail, or a row
with more fields than the header, is a :class:`DataError` naming the line (pandas would silently
take the extra leading fields as an index).

**Decimal commas** (``0,841``) are read only with ``decimal=","``, and then the fields must be
separated by ``;`` or a tab; without the option such a file is refused with a message suggesting
it.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import (
    CorruptFileError,
    DataError,
    HfsEmgWarning,
    ParameterError,
    SamplingRateError,
)
from .._validate import check_option, check_sfreq
from ..recording import make_events
from ._base import BaseReader, guess_type

__all__ = ["TextReader", "label_segments"]

_TIME_NAMES = ("time", "t", "time_s", "time_ms", "times", "time (s)", "time (ms)")
_UCI_CHANNEL = re.compile(r"^Channel\s+\d+:\s*'([^']*)'.*engineering units:\s*([^,]+)", re.I)
_KEYVAL = re.compile(r"^#\s*([^:=]+?)\s*:=\s*(.*)$")
_TOLERANCE = 0.01


def label_segments(
    labels: npt.ArrayLike, times: npt.ArrayLike, sfreq: float, name: str
) -> pd.DataFrame:
    """Events for runs of equal labels: onset, duration (run length / sfreq), ``name/value``.

    Examples
    --------
    >>> label_segments([0, 0, 1, 1, 1, 0], np.arange(6) / 10.0, 10.0, "class")
       onset_s  duration_s    label  value
    0      0.0         0.2  class/0      0
    1      0.2         0.3  class/1      1
    2      0.5         0.1  class/0      0
    """
    lab = np.asarray(labels)
    t = np.asarray(times, dtype=float)
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    lengths = np.diff(np.r_[starts, len(lab)])
    values = lab[starts]
    shown = [f"{v:g}" if isinstance(v, float) else str(v) for v in values.tolist()]
    return make_events(
        t[starts], durations=lengths / sfreq, labels=[f"{name}/{s}" for s in shown], value=values
    )


class TextReader(BaseReader):
    """Reader for delimited text recordings (see the module documentation for the options)."""

    extensions = (".csv", ".tsv", ".txt")
    format_name = "text"

    def _parse_header(self) -> None:
        opts = self.options
        ragged = check_option("ragged", opts.get("ragged", "truncate"), ["truncate", "error"])
        text = self.path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        n_head, names, units, sfreq = self._header(lines)
        sfreq = opts.get("sfreq", sfreq)
        body = lines[n_head:]
        first = next((ln for ln in body if ln.strip()), None)
        if first is None:
            raise CorruptFileError(f"{self.path}: no data rows after the header.")
        decimal = check_option("decimal", opts.get("decimal", "."), [".", ","])
        sep = self._sep(first, decimal)
        label_col = opts.get("label_column")
        has_names = names is None and _numeric_fields(first, sep, decimal).sum() == 0
        header = [f.strip() for f in _split(first, sep)] if has_names else (names or [])
        if label_col is not None and header and label_col not in header:
            raise ParameterError(
                f"{self.path}: label_column={label_col!r} is not a column: {header}."
            )
        skip = header.index(label_col) if label_col in header else None
        rows = [(k, ln) for k, ln in enumerate(body) if ln.strip()][int(has_names) :][:1]
        if rows:
            numeric = _numeric_fields(rows[0][1], sep, decimal)
            if skip is not None and skip < len(numeric):
                numeric[skip] = True
        if not rows or not numeric.all():
            where = f"line {n_head + rows[0][0] + 1} {rows[0][1][:60]!r}" if rows else "no row"
            hint = (
                " Decimal commas? Pass decimal=',' (the delimiter must then be ';' or a tab)."
                if decimal == "." and rows and re.search(r"\d,\d", rows[0][1])
                else ""
            )
            raise DataError(f"{self.path}: not a table of samples: {where} is not numeric.{hint}")
        if has_names:
            self._too_many_fields(body, n_head, sep, len(header), decimal, check=True)
        try:
            df = pd.read_csv(
                io.StringIO("\n".join(body)),
                sep=sep,
                header=0 if has_names else None,
                skip_blank_lines=False,
                engine="c",
                decimal=decimal,
            )
        except (pd.errors.ParserError, ValueError) as err:
            raise DataError(
                f"{self.path}: rows have different numbers of fields (mismatched channel "
                f"lengths?): {err}"
            ) from err
        if not isinstance(df.index, pd.RangeIndex):  # pandas took leading fields as an index
            self._too_many_fields(body, n_head, sep, len(df.columns), decimal)
        if has_names:
            df.columns = [str(c).strip() for c in df.columns]
        elif names is not None and len(names) == df.shape[1]:
            df.columns = names
        else:
            df.columns = [f"ch{i}" for i in range(df.shape[1])]
        df = self._drop_tail(df, n_head + (1 if has_names else 0), ragged)
        labels = None
        if label_col is not None:
            if label_col not in df.columns:
                raise ParameterError(
                    f"{self.path}: label_column={label_col!r} is not a column: {list(df.columns)}."
                )
            labels = df.pop(label_col).to_numpy()
        bad = df.apply(pd.to_numeric, errors="coerce").isna() & df.notna()
        if bad.to_numpy().any():
            row, col = np.argwhere(bad.to_numpy())[0]
            raise DataError(
                f"{self.path}: non-numeric value {df.iat[row, col]!r} in column "
                f"{df.columns[col]!r}, data row {row}."
            )
        df = df.apply(pd.to_numeric)
        tcol = opts.get("time_column")
        if tcol is None:
            tcol = next((c for c in df.columns if c.lower() in _TIME_NAMES), None)
        elif tcol not in df.columns:
            raise ParameterError(f"{self.path}: time_column={tcol!r} is not a column.")
        data = df.drop(columns=[tcol]) if tcol else df
        values = data.to_numpy(dtype=np.float64).T
        if not np.isfinite(values).all():
            ch, row = np.argwhere(~np.isfinite(values))[0]
            raise DataError(
                f"{self.path}: NaN or missing sample in channel {data.columns[ch]!r}, data row "
                f"{row} (before the end of the file, so not a ragged tail)."
            )
        if tcol is not None:
            unit = opts.get("time_unit", "ms" if tcol.lower().endswith("ms") else "s")
            scale = {"s": 1.0, "ms": 1e-3}[check_option("time_unit", unit, ["s", "ms"])]
            times = df[tcol].to_numpy(dtype=np.float64) * scale
            values, labels, times, sfreq = self._time_base(values, labels, times, sfreq)
        elif sfreq is None:
            raise ParameterError(
                f"{self.path}: no sampling rate: pass sfreq= (Hz) or time_column= (a column of "
                "sample times)."
            )
        else:
            sfreq = check_sfreq(sfreq)
            times = np.arange(values.shape[1]) / sfreq
        self.sfreq = float(sfreq)
        self.tstart = float(times[0])
        self._values = values
        self.n_samples = values.shape[1]
        self.ch_names = [str(c) for c in data.columns]
        unit = opts.get("unit")
        self.units = units if units is not None else [unit] * len(self.ch_names)
        if len(self.units) != len(self.ch_names):
            self.units = [units[0] if units else None] * len(self.ch_names)
        self.ch_types = [guess_type(n, u) for n, u in zip(self.ch_names, self.units, strict=True)]
        self._events = (
            label_segments(labels, times, self.sfreq, str(label_col))
            if labels is not None
            else make_events()
        )
        self.meta.update({"time_column": tcol, "label_column": label_col})

    # ------------------------------------------------------------------ helpers
    def _header(self, lines: list[str]) -> tuple[int, list[str] | None, Any, float | None]:
        """Header lines to skip, channel names, units and sampling rate the header declares."""
        if lines and lines[0].startswith("File Name:"):  # UCI lower-limb layout
            n, matches = 1, []
            while n < len(lines) and (m := _UCI_CHANNEL.match(lines[n])):
                matches.append(m)
                n += 1
            if not matches:
                raise CorruptFileError(f"{self.path}: 'File Name:' header without channel lines.")
            while n < len(lines) and not lines[n].strip():
                n += 1
            self.meta["header"] = lines[:n]
            names = [m.group(1).strip() for m in matches]
            return n, names, [m.group(2).strip() for m in matches], None
        n = 0
        info: dict[str, str] = {}
        while n < len(lines) and lines[n].lstrip().startswith("#"):
            m = _KEYVAL.match(lines[n].strip())
            if m:
                info[m.group(1).strip().lower()] = m.group(2).strip()
            n += 1
        self.meta["header"] = lines[:n]
        rate = next((v for k, v in info.items() if k.startswith("sampling rate")), None)
        names = info["labels"].split() if "labels" in info else None
        units = ["ADC"] * len(names) if names and "resolution" in info else None
        return n, names, units, float(rate) if rate else None

    def _too_many_fields(
        self,
        body: list[str],
        n_head: int,
        sep: str,
        n_names: int,
        decimal: str,
        *,
        check: bool = False,
    ) -> None:
        """Refuse rows with more fields than the header names, naming the first such line.

        pandas would silently take the extra leading fields as the index. With ``check=True``
        nothing is raised when every row fits. Fields are counted with vectorized string
        operations (no loop over rows).
        """
        raw = pd.Series(body, dtype=object).astype(str)
        lines = raw.str.strip()
        if sep == r"\s+":
            counts = lines.str.count(r"\s+").to_numpy() + 1
        else:  # a trailing delimiter is an extra (empty) field for pandas too
            counts = raw.str.count(re.escape(sep)).to_numpy() + 1
        filled = (lines.str.len() > 0).to_numpy()
        over = np.flatnonzero(filled & (counts > n_names))
        if check and not over.size:
            return
        k = int(over[0]) if over.size else 0
        line = body[k] if body else ""
        hint = (
            " Decimal commas (e.g. '0,841')? Pass decimal=',' (the delimiter must then be ';' or "
            "a tab)."
            if sep == "," and decimal == "." and re.search(r"\d,\d", line)
            else ""
        )
        raise DataError(
            f"{self.path}: rows have different numbers of fields: line {n_head + k + 1} has "
            f"{int(counts[k]) if over.size else 'more'} fields but the header names {n_names} "
            f"column(s) ({line[:60]!r}).{hint}"
        )

    def _sep(self, line: str, decimal: str = ".") -> str:
        ext = self.path.suffix.lower()
        if decimal == ",":
            if "\t" in line or ext == ".tsv":
                return "\t"
            if ";" in line:
                return ";"
            if ext == ".csv":
                raise ParameterError(
                    f"{self.path}: decimal=',' needs ';' or a tab between the fields, but the "
                    f"first line {line[:60]!r} has neither."
                )
            return r"\s+"
        if ext == ".csv":
            return ","
        if ext == ".tsv" or "\t" in line:
            return "\t"
        if "," in line:
            return ","
        if ";" in line:
            return ";"
        return r"\s+"

    def _drop_tail(self, df: pd.DataFrame, offset: int, ragged: str) -> pd.DataFrame:
        """Remove the ragged tail (rows missing a value, up to the end) with a warning."""
        complete = df.notna().all(axis=1).to_numpy()
        if complete.all() or not complete.any():
            return df
        last = int(np.flatnonzero(complete)[-1])
        if last == len(df) - 1:
            return df
        dropped = len(df) - 1 - last
        lines = (offset + last + 2, offset + len(df))
        if ragged == "error":
            raise DataError(
                f"{self.path}: channels have different lengths: file lines {lines[0]}-{lines[1]} "
                "lack values in some columns."
            )
        if df.iloc[last + 1 :].notna().any(axis=None):
            warnings.warn(
                f"{self.path.name}: ragged tail, the columns have different lengths; "
                f"{dropped} row(s) at file lines {lines[0]}-{lines[1]} are dropped so all channels "
                f"keep the common length {last + 1}.",
                HfsEmgWarning,
                stacklevel=5,
            )
        return df.iloc[: last + 1]

    def _time_base(
        self, values: np.ndarray, labels: Any, times: np.ndarray, sfreq: Any
    ) -> tuple[np.ndarray, Any, np.ndarray, float]:
        dt = np.diff(times)
        if len(dt) == 0 or np.any(dt <= 0):
            raise SamplingRateError(f"{self.path}: the time column is not strictly increasing.")
        step = float(np.median(dt))
        off = np.abs(dt - step) > _TOLERANCE * step
        if not off.any():
            return values, labels, times, 1.0 / float(np.mean(dt))
        if not self.options.get("resample", False):
            raise SamplingRateError(
                f"{self.path}: non-uniform time base: {int(off.sum())} of {len(dt)} steps differ "
                f"from the median step {step * 1e3:.4g} ms by more than {_TOLERANCE:.0%} (largest "
                f"{dt.max() * 1e3:.4g} ms). Pass resample=True to interpolate linearly onto a "
                "uniform grid (sfreq= chooses its rate, default 1 / median step)."
            )
        rate = check_sfreq(sfreq) if sfreq is not None else 1.0 / step
        grid = times[0] + np.arange(int(np.floor((times[-1] - times[0]) * rate)) + 1) / rate
        out = np.stack([np.interp(grid, times, v) for v in values])
        if labels is not None:
            labels = labels[np.searchsorted(times, grid, side="right") - 1]
        self.meta["resampled"] = {
            "method": "linear interpolation",
            "n_irregular_steps": int(off.sum()),
            "max_step_s": float(dt.max()),
            "median_step_s": step,
            "n_original_samples": len(times),
        }
        return out, labels, grid, rate

    def _read_raw(self, start: int, stop: int, picks: npt.NDArray[np.intp]) -> np.ndarray:
        return self._values[picks, start:stop]

    def _read_events(self) -> pd.DataFrame:
        return self._events


def _split(line: str, sep: str) -> list[str]:
    parts = re.split(sep, line.strip()) if sep == r"\s+" else line.split(sep)
    return [f for f in parts if sep != r"\s+" or f]


def _numeric_fields(line: str, sep: str, decimal: str = ".") -> npt.NDArray[np.bool_]:
    """Which fields of a line parse as numbers (empty fields count as numeric: missing)."""
    out = []
    for field in _split(line, sep):
        try:
            float(field.replace(decimal, ".")) if field.strip() else None
            out.append(True)
        except ValueError:
            out.append(False)
    return np.asarray(out, dtype=bool)
