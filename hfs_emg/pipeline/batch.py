"""Analyse many recordings: :func:`run_batch` on a local process pool or on a Dask cluster.

Every file goes through :func:`hfs_emg.analysis.analyze` with one configuration; the per-file
tables are concatenated into tidy tables with a leading ``file`` column. A file that fails becomes
a row of the ``errors`` table and never stops the batch. With ``out=``, every table is written as
Parquet and CSV (atomically), and each file's result is cached under ``out/cache/`` keyed by the
sha256 of the input and the configuration hash, so an interrupted or repeated batch only analyses
what is new or changed.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import pickle
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._atomic import atomic_path
from .._errors import ParameterError
from ..io import file_sha256
from .analysis import TABLES, analyze
from .config import AnalysisConfig

__all__ = ["BATCH_TABLES", "BatchResult", "expand_inputs", "run_batch"]

logger = logging.getLogger("hfs_emg")

#: Tables written by :func:`run_batch`.
BATCH_TABLES: tuple[str, ...] = (*TABLES, "warnings", "errors")
_WARNING_COLUMNS = ["file", "category", "message"]
_ERROR_COLUMNS = ["file", "error_type", "message"]
_CACHE_DIR = "cache"


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


def expand_inputs(spec: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Input files from a folder, a glob pattern, a file, or a list of those (sorted, unique).

    A folder gives the recordings directly inside it whose extension hfs_emg reads (companion
    files of multi-file formats, such as ``.dat`` or ``.vmrk``, are left out).

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
    found: list[Path] = []
    for item in specs:
        path = Path(item)
        if path.is_dir():
            from ..datasets import recording_files

            found += recording_files(path)
        elif path.exists():
            found.append(path)
        elif glob.has_magic(str(item)):
            found += sorted(
                Path(p) for p in glob.glob(str(item), recursive=True) if Path(p).is_file()
            )
        else:
            raise ParameterError(f"Input {str(item)!r} is neither a file, a folder nor a glob.")
    return list(dict.fromkeys(found))


def _cache_file(cache_dir: Path, sha: str, config_hash: str) -> Path:
    return cache_dir / f"{sha[:24]}_{config_hash[:24]}.pkl"


def _cached(path: str, cache_dir: Path, config_hash: str) -> dict[str, Any] | None:
    try:
        cache = _cache_file(cache_dir, file_sha256(path), config_hash)
        if not cache.is_file():
            return None
        with cache.open("rb") as fh:
            tables = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError):
        return None  # the worker reports a missing/unreadable input; a bad cache is redone
    return {"file": path, "tables": tables, "error": None, "cached": True}


def _process_file(path: str, config_dict: dict[str, Any], cache_dir: str | None) -> dict[str, Any]:
    """Analyse one file (runs in a worker); never raises for a bad file."""
    config = AnalysisConfig.from_dict(config_dict)
    try:
        cache = None
        if cache_dir is not None:
            hit = _cached(path, Path(cache_dir), config.hash())
            if hit is not None:
                return hit
            cache = _cache_file(Path(cache_dir), file_sha256(path), config.hash())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = analyze(path, config)
        tables = {name: df.reset_index(drop=True) for name, df in result.tables().items()}
        seen = dict.fromkeys((w.category.__name__, str(w.message)) for w in caught)
        tables["warnings"] = pd.DataFrame(list(seen), columns=_WARNING_COLUMNS[1:], dtype=object)
        if cache is not None:
            with atomic_path(cache) as tmp, tmp.open("wb") as fh:
                pickle.dump(tables, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return {"file": path, "tables": tables, "error": None, "cached": False}
    except Exception as err:  # a failing file is a row of the errors table
        logger.debug("run_batch: %s failed", path, exc_info=True)
        return {
            "file": path,
            "tables": None,
            "error": (type(err).__name__, str(err)),
            "cached": False,
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
        }


def _run_local(
    paths: list[str], config_dict: dict[str, Any], cache_dir: str | None, workers: int, bar: Any
) -> list[dict[str, Any]]:
    if workers == 1:
        out = []
        for p in paths:
            out.append(_process_file(p, config_dict, cache_dir))
            bar.update(1)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_process_file, p, config_dict, cache_dir) for p in paths]
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
        if r["tables"] is not None and "warnings" in r["tables"]
        for w in r["tables"]["warnings"].itertuples(index=False)
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
    for name, table in tables.items():
        pq, csv = out / f"{name}.parquet", out / f"{name}.csv"
        with atomic_path(pq) as tmp:
            table.to_parquet(tmp, index=False)
        with atomic_path(csv) as tmp:
            table.to_csv(tmp, index=False)
        written += [pq, csv]
    written.append(config.to_toml(out / "config.toml"))
    return written


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
        :func:`expand_inputs`). Inputs are only read.
    config : AnalysisConfig, optional
        Options of :func:`hfs_emg.analysis.analyze` (default: defaults).
    out : path, optional
        Output folder: ``<table>.parquet`` and ``<table>.csv`` for each of :data:`BATCH_TABLES`,
        ``config.toml``, and the per-file result cache ``cache/`` (keyed by the input's sha256
        and the configuration hash). Files whose result is cached are not analysed again.
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
    from tqdm.auto import tqdm

    config = AnalysisConfig() if config is None else config
    if not isinstance(config, AnalysisConfig):
        raise TypeError(f"config must be an AnalysisConfig, got {type(config).__name__}.")
    files = (
        [str(p) for p in expand_inputs(paths)]
        if isinstance(paths, (str, os.PathLike))
        else [str(p) for p in paths]
    )
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}.")
    workers = min(workers, max(len(files), 1))
    out_dir = None if out is None else Path(out)
    cache_dir = None
    if out_dir is not None:
        cache_dir = str(out_dir / _CACHE_DIR)
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
    cfg = config.to_dict()
    done: dict[str, dict[str, Any]] = {}
    if cache_dir is not None and scheduler is None:
        # finished files are taken from the cache here, without starting workers for them
        for f in files:
            hit = _cached(f, Path(cache_dir), config.hash())
            if hit is not None:
                done[f] = hit
    todo = [f for f in files if f not in done]
    with tqdm(total=len(files), unit="file", disable=not progress, desc="hfs-emg") as bar:
        bar.update(len(done))
        if not todo:
            new: list[dict[str, Any]] = []
        elif scheduler is not None:
            new = _run_dask(todo, cfg, cache_dir, scheduler, bar)
        else:
            new = _run_local(todo, cfg, cache_dir, min(workers, len(todo)), bar)
    done.update(zip(todo, new, strict=True))
    results = [done[f] for f in files]
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
    written = [] if out_dir is None else _write(tables, out_dir, config)
    if out_dir is not None:
        manifest = {"config_hash": config.hash(), "stats": stats, "files": files}
        with atomic_path(out_dir / "manifest.json") as tmp:
            tmp.write_text(json.dumps(manifest, indent=2))
        written.append(out_dir / "manifest.json")
    return BatchResult(tables, stats, written)
