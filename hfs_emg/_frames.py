"""A DataFrame from ready columns without pandas' per-column inference (the live hot path).

``pd.DataFrame(columns)`` sanitizes and infers every column and then groups the columns into
blocks by dtype; for the ~30 columns of one sweep's LSR rows that took ~0.5-1 ms, more than
the measurement it reports. :func:`frame_from_columns` does the grouping itself (one 2-D block
per numpy dtype, one block per extension array) and hands the blocks to
:func:`pandas.api.internals.create_dataframe_from_blocks`: the same DataFrame
(``tests/test_frames.py`` compares it with ``pd.DataFrame(columns)``), ~5x faster. Any column
it does not know how to place as it is (object arrays, which pandas would infer, scalars,
lists) sends the whole table through ``pd.DataFrame``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

try:  # pandas >= 3.0
    from pandas.api.internals import create_dataframe_from_blocks
except ImportError:  # pragma: no cover - older pandas: the constructor
    create_dataframe_from_blocks = None

__all__ = ["as_numpy", "column_arrays", "frame_from_columns"]

#: numpy kinds taken as they are (bool, signed and unsigned integers, floats).
_PLAIN_KINDS = frozenset("biuf")


@functools.lru_cache(maxsize=64)
def _columns_index(names: tuple[str, ...]) -> pd.Index:
    """The column Index of ``names`` (immutable: shared by the frames of one layout)."""
    return pd.Index(list(names))


def frame_from_columns(columns: Mapping[str, Any]) -> pd.DataFrame:
    """``pd.DataFrame(columns)`` for 1-D numpy arrays and extension arrays, built by blocks.

    Parameters
    ----------
    columns : mapping of str to array
        The columns in order, all of the same length: numpy arrays of bool, integer or float
        dtype (copied into the table's blocks) or pandas extension arrays (shallow-copied:
        the table never shares an array object with the caller). Anything else (object
        arrays, lists, scalars) and an empty table go through ``pd.DataFrame(columns)``.

    Returns
    -------
    pandas.DataFrame
        Equal to ``pd.DataFrame(columns)`` (same dtypes, values, RangeIndex, column Index).

    Examples
    --------
    >>> df = frame_from_columns({"a": np.arange(3), "b": np.array([0.5, 1.0, 2.0])})
    >>> df.equals(pd.DataFrame({"a": np.arange(3), "b": np.array([0.5, 1.0, 2.0])}))
    True
    """
    names = tuple(columns)
    values = list(columns.values())
    n = len(values[0]) if values else 0
    if create_dataframe_from_blocks is None or not n:
        return pd.DataFrame(dict(columns))
    groups: dict[np.dtype, list[int]] = {}
    ext: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, np.ndarray):
            if v.ndim != 1 or len(v) != n or v.dtype.kind not in _PLAIN_KINDS:
                return pd.DataFrame(dict(columns))
            if not v.dtype.isnative:
                return pd.DataFrame(dict(columns))
            groups.setdefault(v.dtype, []).append(i)
        elif isinstance(v, ExtensionArray) and len(v) == n:
            ext.append(i)
        else:
            return pd.DataFrame(dict(columns))
    blocks: list[tuple[Any, np.ndarray]] = []
    for dtype, pos in groups.items():
        blk = np.empty((len(pos), n), dtype=dtype)
        for j, p in enumerate(pos):
            blk[j] = values[p]
        blocks.append((blk, np.array(pos, dtype=np.intp)))
    for p in ext:
        blocks.append((values[p].copy(), np.array([p], dtype=np.intp)))
    return create_dataframe_from_blocks(
        blocks, index=pd.RangeIndex(n), columns=_columns_index(names)
    )


def column_arrays(df: pd.DataFrame) -> dict[str, Any]:
    """The columns of ``df`` as their stored arrays (numpy or extension), without a Series each.

    ``df[col]`` builds a Series per access (~15 µs; a sweep's rows were read ~20 times a
    sweep by the live trend, its gate and the ``lsr.csv`` writer). The arrays are the table's
    own: read them, never write them.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan], "c": ["x", None]})
    >>> cols = column_arrays(df)
    >>> cols["a"].tolist(), cols["b"].dtype.kind, list(cols)
    ([1, 2], 'f', ['a', 'b', 'c'])
    """
    get = getattr(df, "_get_column_array", None)  # pandas' own accessor, no Series made
    if get is None or not df.columns.is_unique:  # pragma: no cover - older or unusual frames
        return {c: df[c].array for c in df.columns}
    return {c: get(i) for i, c in enumerate(df.columns)}


def as_numpy(arr: Any, dtype: Any = None) -> np.ndarray:
    """``Series.to_numpy(dtype)`` of a column array of :func:`column_arrays` (the same values).

    Examples
    --------
    >>> col = column_arrays(pd.DataFrame({"s": ["x", None]}))["s"]
    >>> as_numpy(col, object).tolist() == pd.Series(col).to_numpy(object).tolist()
    True
    """
    if isinstance(arr, ExtensionArray):
        return arr.to_numpy(dtype)
    return np.asarray(arr, dtype=dtype)
