"""The live monitor's LSR table in bounded memory: the newest rows held, the rest in a file.

A monitor appends a few rows a sweep for hours (14,400 stimuli x 9 rows in a 4-hour session at
1 Hz with 8 channels, ~30 MB in pandas). :class:`RowStore` holds only the rows not yet in the
session's ``lsr.parquet``: every :attr:`RowStore.take` hands the held rows over as one frame
and a job that appends them to the file as one new row group (:func:`append_parquet`: the
file's row groups copied one at a time into a temporary file, the new group after them, the
temporary file renamed over the old one, so a reader only ever sees a complete file, and the
memory used is that of one row group, not of the table). The whole table (:meth:`RowStore.frame`)
is read back from the file when asked for (the final trend, the report, a page opened late),
joined with the rows held; :meth:`RowStore.since` serves the newest rows from memory.

The rewrite of the whole table as one Arrow table every 2 s (``pandas.DataFrame.to_parquet``)
was most of the monitor's growth (+10.3 MB of resident memory per 1000 stimuli at 8 channels,
+3.6 MB with the file written only at close; ``docs/benchmarks.md``): buffers the size of the
table, made and freed every few seconds, that the allocator kept.

Values and dtypes are those of the rows appended: the row groups of the file read back as the
frames written (the file's pandas metadata is that of its first write; a frame whose dtypes
differ from the file's, e.g. rows read back from ``lsr.csv`` on resume, makes one rewrite of
the whole file from ``pandas.concat`` of both, the join an in-memory store would have made).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .._atomic import atomic_path
from .compact import one_chunk

__all__ = ["RowStore", "append_parquet", "read_parquet_rows"]


def read_parquet_rows(path: Path, n: int, dtypes: pd.Series | None = None) -> pd.DataFrame:
    """The first ``n`` rows of a parquet file, with ``dtypes`` when given.

    Parameters
    ----------
    path : Path
        The file.
    n : int
        Rows wanted (the file may hold more: they are left out).
    dtypes : pandas.Series, optional
        Column dtypes to cast the rows to (those of the frames written).

    Returns
    -------
    pandas.DataFrame
        The rows, index ``0 .. n-1``.
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        groups, got = [], 0
        for i in range(pf.num_row_groups):
            if got >= n:
                break
            groups.append(i)
            got += pf.metadata.row_group(i).num_rows
        table = pf.read_row_groups(groups) if groups else pf.schema_arrow.empty_table()
    df = table.slice(0, n).to_pandas()
    if dtypes is not None and not df.dtypes.equals(dtypes):
        df = df.astype(dtypes.to_dict())
    return df


def append_parquet(
    path: Path, df: pd.DataFrame, *, keep: int, dtypes: pd.Series | None
) -> pd.Series:
    """Replace ``path`` atomically by its first ``keep`` rows followed by ``df``.

    When ``df`` has the dtypes the file's rows read back as (``dtypes``), the file's row groups
    are copied one at a time and ``df`` follows as one new row group: the memory used is that
    of a row group, not of the table. Otherwise (no file yet, or other dtypes) the file is
    written whole from ``pandas.concat`` of its rows and ``df`` (``DataFrame.to_parquet``).

    Parameters
    ----------
    path : Path
        The parquet file (need not exist when ``keep`` is 0).
    df : pandas.DataFrame
        The rows to append.
    keep : int
        Rows of the file kept (the rows a crash left beyond them are dropped).
    dtypes : pandas.Series or None
        The dtypes of the file's rows as last written (None: no file).

    Returns
    -------
    pandas.Series
        The dtypes the file's rows read back as now.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> a = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]})
    >>> d = append_parquet(path, a, keep=0, dtypes=None)
    >>> d = append_parquet(path, a.assign(x=[3.0, 4.0]), keep=2, dtypes=d)
    >>> pd.read_parquet(path)["x"].tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if keep and dtypes is not None and df.dtypes.equals(dtypes) and path.exists():
        with pq.ParquetFile(path) as pf, atomic_path(path) as tmp:
            schema = pf.schema_arrow
            new = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
            with pq.ParquetWriter(tmp, schema) as out:
                left = keep
                for i in range(pf.num_row_groups):
                    if left <= 0:
                        break
                    group = pf.read_row_group(i)  # one group at a time: bounded memory
                    out.write_table(group.slice(0, left))
                    left -= group.num_rows
                out.write_table(new)
        return dtypes
    joined = df
    if keep:  # other dtypes: the join an in-memory table would have made, written whole
        old = read_parquet_rows(path, keep, dtypes)
        joined = one_chunk(pd.concat([old, df], ignore_index=True))
    with atomic_path(path) as tmp:
        joined.to_parquet(tmp, index=False)
    return joined.dtypes


class RowStore:
    """The session's LSR rows: the newest in memory, the others in a parquet file.

    Rows are appended sweep by sweep in O(1) (a tail of small frames, joined every ``chunk``
    frames into one compact chunk, :func:`hfs_emg.live.compact.one_chunk`). :meth:`take` hands
    every held row over for the file; they stay readable from memory until the job it returns
    has written them (:meth:`frame` and :meth:`since` never miss a row while the writer is
    behind). Without ``path`` every row stays in memory (the store of a short test session).

    Parameters
    ----------
    path : Path, optional
        The parquet file the rows go to.
    first : pandas.DataFrame, optional
        Rows already in the session (a resume).
    on_disk : int
        How many of ``first``'s rows the file holds already (its first rows).
    disk_dtypes : pandas.Series, optional
        The dtypes those rows read back as from the file (default: ``first``'s).
    chunk : int
        Sweeps joined into one chunk.
    max_chunks : int
        Chunks held before they are joined into one (a store whose rows are not taken).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> store = RowStore(pathlib.Path(tempfile.mkdtemp()) / "lsr.parquet")
    >>> for i in range(5):
    ...     store.append(pd.DataFrame({"stim_index": [i, i], "x": [1.0 * i, 2.0 * i]}))
    >>> store.take()()  # the job: the 10 rows appended to the file
    >>> store.append(pd.DataFrame({"stim_index": [5], "x": [5.0]}))
    >>> store.n_rows, store.n_held, len(store.frame())
    (11, 1, 11)
    """

    def __init__(
        self,
        path: Path | None = None,
        first: pd.DataFrame | None = None,
        *,
        on_disk: int = 0,
        disk_dtypes: pd.Series | None = None,
        chunk: int = 64,
        max_chunks: int = 16,
    ) -> None:
        self.path = path
        self._chunk = int(chunk)
        self._max_chunks = int(max_chunks)
        self._lock = threading.Lock()
        self._chunks: list[pd.DataFrame] = []
        self._tail: list[pd.DataFrame] = []
        self._taken: list[tuple[int, pd.DataFrame]] = []  # (first row, rows) being written
        self._cache: pd.DataFrame | None = pd.DataFrame()
        self._last: pd.DataFrame | None = None
        self._disk_n = 0  # rows the file holds (written)
        self._disk_dtypes: pd.Series | None = None
        self._n_out = 0  # rows in the file or handed over for it
        self.n_rows = 0
        if first is not None and len(first):
            first = first.reset_index(drop=True)
            on_disk = min(int(on_disk), len(first)) if path is not None else 0
            if on_disk:
                self._disk_n = self._n_out = self.n_rows = on_disk
                self._disk_dtypes = first.dtypes if disk_dtypes is None else disk_dtypes
                self._cache = None
                last = first.get("stim_index")
                self._last = first if last is None else first[last == last.iloc[-1]]
            if on_disk < len(first):
                self.append(first.iloc[on_disk:].reset_index(drop=True))

    def append(self, rows: pd.DataFrame) -> None:
        """Add a sweep's rows (O(1))."""
        if rows.empty:
            return
        with self._lock:
            self._tail.append(rows)
            self._last = rows
            self.n_rows += len(rows)
            if len(self._tail) >= self._chunk:
                self._chunks.append(one_chunk(pd.concat(self._tail, ignore_index=True)))
                self._tail = []
                if len(self._chunks) >= self._max_chunks:  # the rows not taken for long
                    self._chunks = [one_chunk(pd.concat(self._chunks, ignore_index=True))]
            self._cache = None

    @property
    def n_held(self) -> int:
        """Rows held in memory that are not handed over for the file yet."""
        return self.n_rows - self._n_out

    @property
    def n_disk(self) -> int:
        """Rows the file holds."""
        return self._disk_n

    def take(self) -> Callable[[], None] | None:
        """Hand the held rows over for the file; return the job that writes them (None if none).

        The jobs must run in the order they were taken (one writer thread); until its job has
        run, a frame's rows are still served from memory.
        """
        if self.path is None:
            return None
        with self._lock:
            pieces = self._chunks + self._tail
            if not pieces:
                return None
            rows = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
            rows = one_chunk(rows)
            start = self.n_rows - len(rows)
            self._taken.append((start, rows))
            self._n_out = self.n_rows
            self._chunks, self._tail = [], []
        path = self.path

        def job() -> None:
            dtypes = append_parquet(path, rows, keep=start, dtypes=self._disk_dtypes)
            with self._lock:
                self._disk_n, self._disk_dtypes = start + len(rows), dtypes
                self._taken = [t for t in self._taken if t[0] >= self._disk_n]

        return job

    def _memory(self) -> tuple[int, list[pd.DataFrame]]:
        """(first row held, the pieces held in order); call with the lock."""
        pieces = [r for _, r in self._taken] + self._chunks + self._tail
        return self.n_rows - sum(len(p) for p in pieces), pieces

    def frame(self) -> pd.DataFrame:
        """The whole table: the file's rows and those held (one joined DataFrame).

        While every row is in memory the joined table is cached (the same object until the
        next append) and replaces the pieces; once rows are in the file, each call reads them
        (the table is not kept: it is what the store bounds).
        """
        with self._lock:
            if self._cache is not None:
                return self._cache
            disk_n, dtypes = self._disk_n, self._disk_dtypes
            if len(self._chunks) + len(self._tail) > 1:  # the held rows joined: fewer pieces
                held = one_chunk(pd.concat(self._chunks + self._tail, ignore_index=True))
                self._chunks, self._tail = [held], []
            _, pieces = self._memory()
            if not disk_n:
                joined = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
                joined = one_chunk(joined)
                if self._taken:  # the first rows on their way to the file: not cached
                    return joined
                self._chunks, self._tail = [joined], []  # the store holds the joined table
                # a shallow copy (copy-on-write): a caller's changes do not reach the store
                self._cache = joined.copy(deep=False)
                return self._cache
        assert self.path is not None  # rows on disk only with a file
        disk = read_parquet_rows(self.path, disk_n, dtypes)
        if not pieces:
            return disk
        return one_chunk(pd.concat([disk, *pieces], ignore_index=True))

    def since(self, n: int) -> pd.DataFrame:
        """Rows number ``n`` onwards (from the newest pieces; O(new rows) while they are held,
        else read with the file's rows)."""
        with self._lock:
            first, held = self._memory()
            end = self.n_rows
        if n < first:
            return self.frame().iloc[n:].reset_index(drop=True)
        pieces = []
        for df in reversed(held):
            if end <= n:
                break
            start = end - len(df)
            pieces.append(df.iloc[max(0, n - start) :])
            end = start
        if not pieces:
            return pd.DataFrame()
        return pd.concat(pieces[::-1], ignore_index=True) if len(pieces) > 1 else pieces[0]

    @property
    def nbytes(self) -> int:
        """Bytes of the rows held in memory (deep; a cached table shares the pieces' data)."""
        with self._lock:
            _, pieces = self._memory()
        return sum(int(p.memory_usage(deep=True).sum()) for p in pieces)

    @property
    def last(self) -> pd.DataFrame | None:
        """The newest sweep's rows (None before any)."""
        return self._last
