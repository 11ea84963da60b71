"""Compact in-memory tables for a long live session: Arrow-backed columns in one chunk.

With pandas >= 3 the string columns of a table (``channel``, ``muscle``, ``kind``,
``montage``, ``part``, ``reject_reason`` of the LSR rows) are Arrow arrays, and
:func:`pandas.concat` joins them *without copying*: the result holds one Arrow chunk per
frame joined. A live monitor joins its sweeps' small frames into the session's table, so
each sweep's strings stayed a chunk of their own for the whole session, each with its C++
array objects and buffers (allocated by ``malloc``, invisible to :mod:`tracemalloc`, not in
Arrow's memory pool): about 5.5 kB per sweep of 4 channels and 8 kB with 8, 3-4 times the
rows' own bytes (``benchmarks/monitor_memory.py --feed --probe``, ``docs/benchmarks.md``,
"Live monitor memory"). :func:`one_chunk` rewrites such columns as one contiguous chunk;
values and dtypes are unchanged.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["n_chunks", "one_chunk"]


def _chunked(col: pd.Series) -> object | None:
    """The column's Arrow ``ChunkedArray`` when it is Arrow-backed (else None)."""
    arr = col.array
    to_arrow = getattr(arr, "__arrow_array__", None)
    if to_arrow is None or isinstance(arr, pd.arrays.NumpyExtensionArray):
        return None
    try:
        data = to_arrow()
    except (TypeError, ValueError, NotImplementedError):  # a type Arrow cannot take
        return None
    return data if hasattr(data, "num_chunks") else None


def n_chunks(df: pd.DataFrame) -> int:
    """The largest number of Arrow chunks of any column of ``df`` (1 without Arrow columns).

    Parameters
    ----------
    df : pandas.DataFrame
        Any table.

    Returns
    -------
    int
        Chunks of its most fragmented Arrow-backed column.

    Examples
    --------
    >>> import pandas as pd
    >>> parts = [pd.DataFrame({"a": pd.array(["x", "y"], dtype="string[pyarrow]")})] * 3
    >>> n_chunks(pd.concat(parts, ignore_index=True))
    3
    """
    best = 1
    for i in range(df.shape[1]):
        data = _chunked(df.iloc[:, i])
        if data is not None:
            best = max(best, int(data.num_chunks))  # type: ignore[attr-defined]
    return best


def one_chunk(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every Arrow-backed column of several chunks rewritten as one chunk.

    The values, dtypes, column order and index are those of ``df`` (``assert_frame_equal``);
    only the memory layout changes: one set of Arrow buffers per column instead of one per
    joined frame. Columns held by NumPy are left as they are. ``df`` itself is not changed.

    Parameters
    ----------
    df : pandas.DataFrame
        Typically the result of :func:`pandas.concat` of many small frames.

    Returns
    -------
    pandas.DataFrame
        The same table, compact (``df`` itself when nothing needed rewriting).

    Examples
    --------
    >>> import pandas as pd
    >>> parts = [pd.DataFrame({"a": pd.array(["x", None], dtype="string[pyarrow]"),
    ...                        "b": [1.0, 2.0]})] * 64
    >>> joined = pd.concat(parts, ignore_index=True)
    >>> n_chunks(joined), n_chunks(one_chunk(joined))
    (64, 1)
    >>> one_chunk(joined).equals(joined)
    True
    """
    out = None
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        data = _chunked(col)
        if data is None or data.num_chunks <= 1:  # type: ignore[attr-defined]
            continue
        if out is None:
            out = df.copy(deep=False)
        merged = data.combine_chunks()  # type: ignore[attr-defined]
        out.isetitem(i, pd.Series(pd.array(merged, dtype=col.dtype), index=df.index))
    return df if out is None else out
