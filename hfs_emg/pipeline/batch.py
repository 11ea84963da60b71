"""Analyse many recordings: :func:`run_batch` on a local process pool or on a Dask cluster.

Every file goes through :func:`hfs_emg.analysis.analyze` with one configuration; the per-file
tables are concatenated into tidy tables with a leading ``file`` column. A file that fails becomes
a row of the ``errors`` table and never stops the batch. With ``out=``, every table is written as
Parquet and CSV (atomically), and each file's result is cached under ``out/cache/`` keyed by the
sha256 of the input and the configuration hash, so an interrupted or repeated batch only analyses
what is new or changed.

The cache holds data only (one Parquet file per table and a JSON manifest with the input sha256,
the configuration hash and the hfs_emg version, all checked on load): nothing read from an output
folder is ever executed. Only regular files are analysed (checked with :func:`os.stat` before a
file is hashed or opened), the expansion of folders and globs leaves the batch's own outputs out,
and a lock file keeps two batches from writing one folder at once.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import logging
import os
import shutil
import socket
import stat
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import atomic_path
from .._errors import (
    HfsEmgWarning,
    NotRegularFileError,
    OutputError,
    OutputLockedError,
    ParameterError,
)
from .._version import __version__
from ..io import READERS, file_sha256
from .analysis import TABLES, analyze
from .config import AnalysisConfig

__all__ = ["BATCH_TABLES", "BatchResult", "expand_inputs", "run_batch"]

logger = logging.getLogger("hfs_emg")

#: Tables written by :func:`run_batch`.
BATCH_TABLES: tuple[str, ...] = (*TABLES, "warnings", "errors")
_WARNING_COLUMNS = ["file", "category", "message"]
_ERROR_COLUMNS = ["file", "error_type", "message"]
_CACHE_DIR = "cache"
#: Tables of one file's cache entry (one Parquet file each).
_CACHE_TABLES: tuple[str, ...] = (*TABLES, "warnings")
_CACHE_FORMAT = "hfs_emg batch cache"
_CACHE_FORMAT_VERSION = 1
_MAX_MANIFEST_BYTES = 1 << 16
_LOCK_NAME = ".hfs_emg-batch.lock"
#: Companion files of multi-file formats: opened through their main file, never inputs.
_COMPANIONS = frozenset({".dat", ".vmrk", ".eeg", ".atr", ".json"})
#: Files run_batch writes at the top of its output folder (besides those of its manifest).
_OUTPUT_NAMES = frozenset(
    {f"{t}.{ext}" for t in BATCH_TABLES for ext in ("parquet", "csv")}
    | {"config.toml", "manifest.json", _LOCK_NAME}
)


@dataclass(frozen=True)
class BatchResult:
    """Result of :func:`run_batch`.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        ``bursts``, ``synchronous``, ``summary``, ``lsr``, ``trend`` (each with a leading
        ``file`` column), ``warnings`` (``file``, ``category``, ``message``: the warnings each
        analysis raised, once each) and ``errors`` (``file``, ``error_type``, ``message``).
    stats : dict
        ``n_files``, ``n_analysed`` (run now), ``n_cached`` (skipped: cached result for the same
        input sha256 and configuration hash), ``n_failed``.
    written : list of Path
        Output files (empty without ``out``).
    """

    tables: dict[str, pd.DataFrame]
    stats: dict[str, int]
    written: list[Path] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"<BatchResult | {s['n_files']} files: {s['n_analysed']} analysed, "
            f"{s['n_cached']} cached, {s['n_failed']} failed>"
        )


def expand_inputs(
    spec: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Input files from a folder, a glob pattern, a file, or a list of those (sorted, unique).

    A folder gives the entries directly inside it whose extension hfs_emg reads (companion
    files of multi-file formats, such as ``.dat`` or ``.vmrk``, are left out); a glob gives the
    regular files it matches and any other entry with such an extension. Entries that are not
    regular files (a folder named ``x.edf``, a named pipe, a dangling symbolic link) are kept, so
    that :func:`run_batch` reports each as a row of ``errors`` instead of skipping it silently.

    Parameters
    ----------
    spec : path, glob or iterable of those
        What to analyse.
    out : path, optional
        The batch's output folder: its own outputs (the tables, ``config.toml``,
        ``manifest.json``, every file listed in that manifest, the ``cache/`` folder) are never
        inputs, and when ``out`` lies inside a folder or glob being expanded, nothing in it is.

    Returns
    -------
    list of Path
        The inputs, sorted within each item of ``spec``, without duplicates.

    Examples
    --------
    >>> from hfs_emg.datasets import example_dir
    >>> [p.name for p in expand_inputs(example_dir() / "*.bdf")]
    ['ncs_blink_reflex.bdf', 'ncs_cmap.bdf', 'ncs_f_waves.bdf']
    """
    if isinstance(spec, (str, os.PathLike)):
        specs: list[str | os.PathLike[str]] = [spec]
    else:
        specs = list(spec)
    own = _OwnOutputs(out)
    found: list[Path] = []
    for item in specs:
        path = Path(item)
        if path.is_dir():
            found += [p for p in _recordings_in(path) if not own.excludes(p, base=path)]
        elif os.path.lexists(path):
            found.append(path)  # an explicit file is taken as given (checked when analysed)
        elif glob.has_magic(str(item)):
            base = _glob_base(str(item))
            matches = sorted(Path(p) for p in glob.glob(str(item), recursive=True))
            found += [
                p
                for p in matches
                if (p.is_file() or _is_recording_name(p)) and not own.excludes(p, base=base)
            ]
        else:
            raise ParameterError(f"Input {str(item)!r} is neither a file, a folder nor a glob.")
    return list(dict.fromkeys(found))


def _is_recording_name(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in READERS and suffix not in _COMPANIONS


def _recordings_in(folder: Path) -> list[Path]:
    """Entries of ``folder`` named like a recording, whatever they are (checked later)."""
    return sorted(p for p in folder.iterdir() if _is_recording_name(p))


def _glob_base(pattern: str) -> Path:
    """The folder a glob pattern searches: its leading components without wildcards."""
    parts: list[str] = []
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _real(path: Path) -> Path:
    """``path`` with its folder resolved but its last component kept (links not followed)."""
    return Path(os.path.realpath(path.parent)) / path.name


class _OwnOutputs:
    """The files a batch writes into ``out``, to keep them out of the inputs."""

    def __init__(self, out: str | os.PathLike[str] | None) -> None:
        self.root = None if out is None else Path(os.path.realpath(out))
        self.names = set(_OUTPUT_NAMES)
        if self.root is not None:
            self.names |= _manifest_written(self.root / "manifest.json")

    def excludes(self, path: Path, *, base: Path) -> bool:
        if self.root is None:
            return False
        real = _real(path)
        if real == self.root:
            return True
        if real.parent == self.root and (
            real.name in self.names or (real.name.startswith(".") and ".tmp-" in real.name)
        ):
            return True  # an output (or an output being written) at the top of ``out``
        inside = self.root in real.parents
        if inside and (real.parts[len(self.root.parts)] == _CACHE_DIR):
            return True
        # ``out`` strictly inside the folder being expanded: nothing in it is an input
        base_real = Path(os.path.realpath(base))
        return inside and base_real in self.root.parents


def _manifest_written(manifest: Path) -> set[str]:
    """Names (relative to the output folder) listed as written in a batch manifest."""
    try:
        meta = json.loads(_read_regular(manifest, limit=_MAX_MANIFEST_BYTES))
    except (OSError, ValueError, _BadCache):
        return set()
    written = meta.get("written") if isinstance(meta, dict) else None
    if not isinstance(written, list):
        return set()
    return {w for w in written if isinstance(w, str) and "/" not in w and w not in ("", ".", "..")}


def _read_regular(path: Path, *, limit: int | None = None) -> bytes:
    """Bytes of a regular file; a link, a pipe, a device or a file above ``limit`` is refused.

    The file is opened without following links and without blocking, then checked with fstat,
    so neither a named pipe nor a file swapped in after a check can hang the read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _BadCache(f"{path.name} is not a regular file")
        if limit is not None and st.st_size > limit:
            raise _BadCache(f"{path.name} is larger than {limit} bytes")
        return fh.read()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_input(path: str | os.PathLike[str]) -> None:
    """Refuse an input that is not a regular file, before anything hashes or opens it.

    Raises
    ------
    FileNotFoundError
        Nothing exists at ``path``.
    NotRegularFileError
        ``path`` is a folder, a named pipe, a device or a socket, or a symbolic link to one of
        those or to nothing.
    """
    try:
        st = os.stat(path)  # follows symbolic links; never opens the file
    except FileNotFoundError:
        if os.path.islink(path):
            raise NotRegularFileError(
                f"{os.fspath(path)}: dangling symbolic link (to {os.readlink(path)!r}, which "
                "does not exist); not analysed."
            ) from None
        raise
    if stat.S_ISREG(st.st_mode):
        return
    link = f" (a symbolic link to {os.readlink(path)!r})" if os.path.islink(path) else ""
    raise NotRegularFileError(
        f"{os.fspath(path)}{link} is {_kind(st.st_mode)}, not a regular file; only regular "
        "files are analysed."
    )


class _BadCache(Exception):
    """A cache entry that cannot be used (the reason is the message); never leaves this module."""


def _cache_entry(cache_dir: Path, sha: str, config_hash: str) -> Path:
    return cache_dir / f"{sha[:24]}_{config_hash[:24]}"


def _load_entry(entry: Path, sha: str, config_hash: str) -> dict[str, pd.DataFrame]:
    """The tables of a cache entry, after checking everything its manifest says.

    Raises FileNotFoundError when there is no entry, :class:`_BadCache` when the entry is
    unusable: not a folder, manifest missing, not JSON or not a cache manifest, another cache
    format or hfs_emg version, another input sha256 or configuration hash, a table missing or
    unreadable, or not the bytes the manifest names.
    """
    st = os.lstat(entry)
    if not stat.S_ISDIR(st.st_mode):
        raise _BadCache("it is not a folder")
    try:
        meta = json.loads(_read_regular(entry / "manifest.json", limit=_MAX_MANIFEST_BYTES))
    except FileNotFoundError:
        raise _BadCache("its manifest.json is missing") from None
    except (OSError, ValueError) as err:
        raise _BadCache(f"its manifest.json is unreadable ({type(err).__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != _CACHE_FORMAT:
        raise _BadCache("its manifest.json is not an hfs_emg cache manifest")
    checks = {
        "format_version": _CACHE_FORMAT_VERSION,
        "hfs_emg_version": __version__,
        "input_sha256": sha,
        "config_hash": config_hash,
    }
    for key, expected in checks.items():
        if meta.get(key) != expected:
            raise _BadCache(f"its {key} is {meta.get(key)!r}, expected {expected!r}")
    listed = meta.get("tables")
    if not isinstance(listed, dict) or sorted(listed) != sorted(_CACHE_TABLES):
        raise _BadCache(f"its manifest does not list exactly the tables {list(_CACHE_TABLES)}")
    tables = {}
    for name in _CACHE_TABLES:
        info = listed[name]
        if not isinstance(info, dict):
            raise _BadCache(f"its manifest entry for {name!r} is not a mapping")
        try:
            data = _read_regular(entry / f"{name}.parquet")
        except FileNotFoundError:
            raise _BadCache(f"{name}.parquet is missing") from None
        except OSError as err:
            raise _BadCache(f"{name}.parquet is unreadable ({type(err).__name__})") from None
        if hashlib.sha256(data).hexdigest() != info.get("sha256"):
            raise _BadCache(f"{name}.parquet is not the file its manifest names (sha256)")
        try:
            table = pd.read_parquet(io.BytesIO(data))
        except Exception as err:  # pyarrow raises many types for a corrupt file
            raise _BadCache(f"{name}.parquet is unreadable ({type(err).__name__})") from None
        columns = [str(c) for c in table.columns]
        if len(table) != info.get("rows") or columns != info.get("columns"):
            raise _BadCache(f"{name}.parquet does not hold the rows and columns listed")
        tables[name] = _tidy(table)
    return tables


def _tidy(table: pd.DataFrame) -> pd.DataFrame:
    """One table as a fresh and a cached result both give it.

    Default index, and None for the missing values of object columns (Parquet makes no
    difference between None and NaN there).
    """
    table = table.reset_index(drop=True)
    for col in table.columns:
        if pd.api.types.is_object_dtype(table[col]) and table[col].isna().any():
            table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def _store_entry(entry: Path, tables: dict[str, pd.DataFrame], sha: str, config_hash: str) -> None:
    """Write a cache entry: Parquet tables then the manifest in a temporary folder, renamed."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.tmp-", dir=entry.parent))
    try:
        listed = {}
        for name in _CACHE_TABLES:
            buf = io.BytesIO()
            tables[name].to_parquet(buf, index=False)
            data = buf.getvalue()
            (tmp / f"{name}.parquet").write_bytes(data)
            listed[name] = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": len(tables[name]),
                "columns": [str(c) for c in tables[name].columns],
            }
        meta = {
            "format": _CACHE_FORMAT,
            "format_version": _CACHE_FORMAT_VERSION,
            "hfs_emg_version": __version__,
            "input_sha256": sha,
            "config_hash": config_hash,
            "tables": listed,
        }
        (tmp / "manifest.json").write_text(json.dumps(meta, indent=1))
        _remove_entry(entry)  # an unusable entry left from before
        try:
            os.rename(tmp, entry)
        except OSError:
            if not os.path.isdir(entry):
                raise  # else another worker stored the same input meanwhile: keep its entry
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_entry(entry: Path) -> None:
    try:
        st = os.lstat(entry)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(entry)
    else:
        entry.unlink()


def _lookup(
    path: str, cache_dir: Path, config_hash: str
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """A cached result of ``path`` (or None) and the warnings about an unusable entry.

    The input must have passed :func:`_check_input`; it is hashed here.
    """
    sha = file_sha256(path)
    entry = _cache_entry(cache_dir, sha, config_hash)
    try:
        tables = _load_entry(entry, sha, config_hash)
    except FileNotFoundError:
        return None, []
    except _BadCache as why:
        note = (
            "HfsEmgWarning",
            f"Cache entry {entry} is unusable ({why}): {path} is analysed again.",
        )
        return None, [note]
    return {"file": path, "tables": tables, "error": None, "cached": True, "notes": []}, []


def _process_file(
    path: str, config_dict: dict[str, Any], cache_dir: str | None, read_cache: bool = True
) -> dict[str, Any]:
    """Analyse one file (runs in a worker); never raises for a bad file.

    ``read_cache=False`` when the caller has already looked the file up in the cache. The
    result's ``notes`` are warnings of this run (an unusable cache entry, a result that could
    not be cached) that belong in the ``warnings`` table but not in the cache.
    """
    config = AnalysisConfig.from_dict(config_dict)
    notes: list[tuple[str, str]] = []
    try:
        _check_input(path)  # before hashing or opening: a named pipe or a device never hangs
        if cache_dir is not None and read_cache:
            hit, notes = _lookup(path, Path(cache_dir), config.hash())
            if hit is not None:
                return hit
        sha = file_sha256(path) if cache_dir is not None else ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = analyze(path, config)
        found = result.tables()  # the tables of the file's protocol; the others are empty
        tables = {name: _tidy(found.get(name, pd.DataFrame())) for name in TABLES}
        seen = dict.fromkeys((w.category.__name__, str(w.message)) for w in caught)
        tables["warnings"] = pd.DataFrame(list(seen), columns=_WARNING_COLUMNS[1:], dtype=object)
        if cache_dir is not None:
            entry = _cache_entry(Path(cache_dir), sha, config.hash())
            try:
                _store_entry(entry, tables, sha, config.hash())
            except Exception as err:  # the result stands; only the cache is missing
                notes.append(
                    ("HfsEmgWarning", f"The result of {path} could not be cached in {entry}: {err}")
                )
        return {"file": path, "tables": tables, "error": None, "cached": False, "notes": notes}
    except Exception as err:  # a failing file is a row of the errors table
        logger.debug("run_batch: %s failed", path, exc_info=True)
        return {
            "file": path,
            "tables": None,
            "error": (type(err).__name__, str(err)),
            "cached": False,
            "notes": notes,
        }


def _outcome(future: Any, path: str) -> dict[str, Any]:
    """A future's result, or an error row when its worker died (crash, out of memory)."""
    try:
        return future.result()
    except Exception as err:
        return {
            "file": path,
            "tables": None,
            "error": (type(err).__name__, str(err)),
            "cached": False,
            "notes": [],
        }


def _run_local(
    paths: list[str], config_dict: dict[str, Any], cache_dir: str | None, workers: int, bar: Any
) -> list[dict[str, Any]]:
    # the files given here were already looked up in the cache by run_batch
    if workers == 1:
        out = []
        for p in paths:
            out.append(_process_file(p, config_dict, cache_dir, False))
            bar.update(1)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_process_file, p, config_dict, cache_dir, False) for p in paths]
        for _ in as_completed(futures):
            bar.update(1)
        return [_outcome(f, p) for f, p in zip(futures, paths, strict=True)]


def _run_dask(
    paths: list[str], config_dict: dict[str, Any], cache_dir: str | None, scheduler: Any, bar: Any
) -> list[dict[str, Any]]:
    from distributed import Client, as_completed

    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else scheduler
    if not isinstance(client, Client):
        raise ParameterError(
            "scheduler must be a Dask scheduler address (e.g. 'tcp://10.0.0.5:8786') or a "
            f"distributed.Client, got {type(scheduler).__name__}."
        )
    try:
        futures = [
            client.submit(_process_file, p, config_dict, cache_dir, pure=False, key=f"hfs-{i}-{p}")
            for i, p in enumerate(paths)
        ]
        for _ in as_completed(futures):
            bar.update(1)
        return [_outcome(f, p) for f, p in zip(futures, paths, strict=True)]
    finally:
        if own:
            client.close()


def _concat(results: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parts = []
        for r in results:
            df = (r["tables"] or {}).get(name)
            if df is None or (df.empty and len(df.columns) == 0):
                continue
            parts.append(df.assign(file=r["file"])[["file", *df.columns]])
        non_empty = [p for p in parts if len(p)]
        if non_empty:
            table = pd.concat(non_empty, ignore_index=True)
        elif parts:
            table = parts[0].iloc[0:0].reset_index(drop=True)
        else:
            table = pd.DataFrame({"file": pd.Series(dtype=str)})
        table.attrs = {}
        tables[name] = table
    caught = [
        (r["file"], *w)
        for r in results
        for w in [
            *(r.get("notes") or []),
            *(
                r["tables"]["warnings"].itertuples(index=False)
                if r["tables"] is not None and "warnings" in r["tables"]
                else []
            ),
        ]
    ]
    tables["warnings"] = pd.DataFrame(caught, columns=_WARNING_COLUMNS).astype(
        {c: object for c in _WARNING_COLUMNS}
    )
    errors = [(r["file"], *r["error"]) for r in results if r["error"] is not None]
    tables["errors"] = pd.DataFrame(errors, columns=_ERROR_COLUMNS).astype(
        {c: object for c in _ERROR_COLUMNS}
    )
    return tables


def _write(tables: dict[str, pd.DataFrame], out: Path, config: AnalysisConfig) -> list[Path]:
    written = []
    try:
        for name, table in tables.items():
            pq, csv = out / f"{name}.parquet", out / f"{name}.csv"
            with atomic_path(pq) as tmp:
                table.to_parquet(tmp, index=False)
            with atomic_path(csv) as tmp:
                table.to_csv(tmp, index=False)
            written += [pq, csv]
        written.append(config.to_toml(out / "config.toml"))
    except OSError as err:
        raise OutputError(f"Cannot write the batch's tables into {out}: {err}") from err
    return written


@contextlib.contextmanager
def _output_lock(out: Path) -> Iterator[Path]:
    """Hold ``out/.hfs_emg-batch.lock`` (created with O_CREAT | O_EXCL) while a batch writes.

    The lock file holds the owner's pid and host. A lock whose process is gone (same host) is
    stale: it is taken over with a warning. A live one raises :class:`OutputLockedError`.
    """
    lock = out / _LOCK_NAME
    mine = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})
    for _ in range(5):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            _take_over_stale_lock(lock)
            continue
        except OSError as err:
            raise OutputError(
                f"Cannot write into the output folder {out}: {err.strerror or err}."
            ) from err
        with os.fdopen(fd, "w") as fh:
            fh.write(mine)
        break
    else:
        raise OutputLockedError(f"Could not take the lock {lock}: other batches keep taking it.")
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError, _BadCache):
            if _read_regular(lock, limit=_MAX_MANIFEST_BYTES).decode() == mine:
                lock.unlink()


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def _take_over_stale_lock(lock: Path) -> None:
    """Remove ``lock`` if its process is dead; raise OutputLockedError if it may be alive."""
    try:
        text = _read_regular(lock, limit=_MAX_MANIFEST_BYTES).decode("utf-8", "replace")
        age = time.time() - os.lstat(lock).st_mtime
    except FileNotFoundError:
        return  # released meanwhile: try again
    except (OSError, _BadCache) as err:
        raise OutputLockedError(
            f"The output folder {lock.parent} is locked ({lock}: {err})."
        ) from None
    try:
        owner = json.loads(text)
        pid, host = int(owner["pid"]), str(owner["host"])
    except (ValueError, TypeError, KeyError):
        if age < 10.0:  # being written by a batch that just created it
            raise OutputLockedError(
                f"The output folder {lock.parent} is being locked by another batch ({lock})."
            ) from None
        pid, host = -1, socket.gethostname()
    if host != socket.gethostname() or _pid_alive(pid):
        raise OutputLockedError(
            f"The output folder {lock.parent} is in use by another hfs-emg batch (pid {pid} on "
            f"{host}); wait until it ends, or choose another output folder. If no batch is "
            f"running, delete {lock}."
        )
    warnings.warn(
        f"Taking over the stale lock {lock}: its process ({pid}) is no longer running.",
        HfsEmgWarning,
        stacklevel=4,
    )
    stale = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
    try:
        os.rename(lock, stale)
    except FileNotFoundError:
        return
    try:
        if _read_regular(stale, limit=_MAX_MANIFEST_BYTES).decode("utf-8", "replace") != text:
            # another batch replaced the stale lock in between: give its lock back
            with contextlib.suppress(FileExistsError):
                os.link(stale, lock)
    finally:
        with contextlib.suppress(OSError):
            stale.unlink()


def run_batch(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    config: AnalysisConfig | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> BatchResult:
    """Analyse many recordings with one configuration; failures become rows of ``errors``.

    Parameters
    ----------
    paths : path, glob or sequence of paths
        Recordings (any supported format), a folder of them or a glob (see
        :func:`expand_inputs`; the batch's own outputs are never inputs). Inputs are only read,
        and only regular files are analysed: a folder, a named pipe, a device or a dangling
        symbolic link is a row of ``errors`` (checked before the file is hashed or opened).
    config : AnalysisConfig, optional
        Options of :func:`hfs_emg.analysis.analyze` (default: defaults).
    out : path, optional
        Output folder: ``<table>.parquet`` and ``<table>.csv`` for each of :data:`BATCH_TABLES`,
        ``config.toml``, ``manifest.json`` (the inputs, counts and files written), and the
        per-file result cache ``cache/`` (keyed by the input's sha256 and the configuration
        hash; data only: Parquet tables and a JSON manifest checked on load). Files whose result
        is cached are not analysed again; an unusable cache entry is recomputed with an
        :class:`~hfs_emg.HfsEmgWarning`. The folder is locked while the batch runs
        (``.hfs_emg-batch.lock``).
    workers : int, optional
        Processes of the local pool (default ``min(2, cpu_count)``; 1 runs in this process).
        Ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        Run on Dask: a scheduler address (``"tcp://host:8786"``) or a client. Workers must see
        the inputs (and ``out``, for the cache) at the same paths.
    progress : bool
        Show a tqdm progress bar (one step per file).

    Returns
    -------
    BatchResult
        ``tables`` (with a leading ``file`` column), ``stats`` and ``written``.

    Raises
    ------
    OutputError
        ``out`` cannot be created or written.
    OutputLockedError
        Another running batch holds the lock of ``out``.

    References
    ----------
    .. [1] Rocklin M. Dask: parallel computation with blocked algorithms and task scheduling.
       Proc. 14th Python in Science Conf. 2015:130-136.

    Examples
    --------
    >>> from hfs_emg.datasets import example_dir
    >>> EXAMPLE_DIR = example_dir()
    >>> res = run_batch([EXAMPLE_DIR / "ncs_cmap.bdf", EXAMPLE_DIR / "nothing.edf"],
    ...                 workers=1, progress=False)
    >>> res.stats["n_failed"], res["errors"]["error_type"].tolist()
    (1, ['FileNotFoundError'])
    """
    config = AnalysisConfig() if config is None else config
    if not isinstance(config, AnalysisConfig):
        raise TypeError(f"config must be an AnalysisConfig, got {type(config).__name__}.")
    files = (
        [str(p) for p in expand_inputs(paths, out=out)]
        if isinstance(paths, (str, os.PathLike))
        else [str(p) for p in paths]
    )
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}.")
    workers = min(workers, max(len(files), 1))
    if out is None:
        return _run_batch(files, config, None, None, workers, scheduler, progress)
    out_dir = Path(out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as err:
        raise OutputError(f"The output folder {out_dir} exists and is not a folder.") from err
    except OSError as err:
        raise OutputError(
            f"Cannot create the output folder {out_dir}: {err.strerror or err}."
        ) from err
    with _output_lock(out_dir):
        cache_dir = out_dir / _CACHE_DIR
        try:
            cache_dir.mkdir(exist_ok=True)
        except OSError as err:
            raise OutputError(f"Cannot create the cache folder {cache_dir}: {err}") from err
        return _run_batch(files, config, out_dir, str(cache_dir), workers, scheduler, progress)


def _run_batch(
    files: list[str],
    config: AnalysisConfig,
    out_dir: Path | None,
    cache_dir: str | None,
    workers: int,
    scheduler: Any,
    progress: bool,
) -> BatchResult:
    from tqdm.auto import tqdm

    cfg = config.to_dict()
    done: dict[str, dict[str, Any]] = {}
    notes: dict[str, list[tuple[str, str]]] = {}
    if scheduler is None:
        # inputs that are not regular files and finished files are settled here, without
        # starting workers for them
        for f in files:
            try:
                _check_input(f)
                if cache_dir is not None:
                    hit, notes[f] = _lookup(f, Path(cache_dir), config.hash())
                    if hit is not None:
                        done[f] = hit
            except Exception as err:
                done[f] = {
                    "file": f,
                    "tables": None,
                    "error": (type(err).__name__, str(err)),
                    "cached": False,
                    "notes": [],
                }
    todo = [f for f in files if f not in done]
    with tqdm(total=len(files), unit="file", disable=not progress, desc="hfs-emg") as bar:
        bar.update(len(done))
        if not todo:
            new: list[dict[str, Any]] = []
        elif scheduler is not None:
            new = _run_dask(todo, cfg, cache_dir, scheduler, bar)
        else:
            new = _run_local(todo, cfg, cache_dir, min(workers, len(todo)), bar)
    for r in new:
        r["notes"] = [*notes.get(r["file"], []), *(r.get("notes") or [])]
    done.update(zip(todo, new, strict=True))
    results = [done[f] for f in files]
    for r in results:
        for _, message in r.get("notes") or []:
            warnings.warn(message, HfsEmgWarning, stacklevel=3)
    stats = {
        "n_files": len(files),
        "n_analysed": sum(r["error"] is None and not r["cached"] for r in results),
        "n_cached": sum(bool(r["cached"]) for r in results),
        "n_failed": sum(r["error"] is not None for r in results),
    }
    logger.info(
        "run_batch: %(n_files)d files, %(n_analysed)d analysed, %(n_cached)d skipped (cached), "
        "%(n_failed)d failed",
        stats,
    )
    tables = _concat(results)
    if out_dir is None:
        return BatchResult(tables, stats, [])
    written = _write(tables, out_dir, config)
    manifest_path = out_dir / "manifest.json"
    manifest = {
        "hfs_emg_version": __version__,
        "config_hash": config.hash(),
        "stats": stats,
        "files": files,
        "written": sorted({p.name for p in written} | {manifest_path.name}),
    }
    try:
        with atomic_path(manifest_path) as tmp:
            tmp.write_text(json.dumps(manifest, indent=2))
    except OSError as err:
        raise OutputError(f"Cannot write {manifest_path}: {err}") from err
    written.append(manifest_path)
    return BatchResult(tables, stats, written)
