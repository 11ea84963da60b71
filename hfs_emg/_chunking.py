"""Chunked and per-channel execution: bounded memory for long recordings, threads over channels.

Two tools:

- :func:`map_channels` applies a 1-D kernel to chosen rows of a 2-D array, writing into a
  preallocated output (or letting the kernel write into its output row), optionally on
  several threads. Working one channel at a time keeps temporaries to one channel's worth at
  most (the blocked kernels of :mod:`hfs_emg.signal` need only a few 65,536-sample blocks);
  SciPy's filters release the GIL, so threads over channels use both cores.
- :func:`process_chunked` runs a Recording-level transform over a reader (or a Recording) in
  windows of ``chunk_s`` seconds with ``margin_s`` of extra signal on both sides, keeps each
  window's core and stitches the cores together. With margins of a few time constants of the
  filter, the result equals processing the whole recording in memory (to ~1e-6 of the signal
  RMS with the default margins), while only one window is in memory at a time
  (plus the output).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import ParameterError
from ._validate import check_positive
from .io._base import BaseReader
from .recording import Recording

__all__ = [
    "auto_margin_s",
    "chunk_bounds",
    "map_channels",
    "map_chunks",
    "process_chunked",
    "resolve_n_jobs",
    "run_tasks",
]

logger = logging.getLogger("hfs_emg")

#: Below this many samples per channel, threads cost more than they save: on the idle 2-core
#: machine the filters gained 1.5-1.8x from 100 k samples per channel and nothing (0.8-1.1x)
#: at 20 k (benchmarks/threads.py; docs/benchmarks.md).
MIN_SAMPLES_FOR_THREADS = 100_000


def resolve_n_jobs(n_jobs: int | None, n_tasks: int, n_samples: int) -> int:
    """Number of threads for ``n_tasks`` channels of ``n_samples`` each.

    ``None`` (auto) uses every core (at most one thread per channel) when channels are long
    enough for threads to pay; ``-1`` uses every core; a positive number is used as given.

    Examples
    --------
    >>> resolve_n_jobs(1, 8, 10**7)
    1
    >>> resolve_n_jobs(None, 8, 1000)
    1
    """
    if n_jobs is None and (n_samples < MIN_SAMPLES_FOR_THREADS or n_tasks <= 1):
        # before os.cpu_count (~15 us: a file read), which short or single tasks never need
        # (a live sweep made ~11 such calls: 0.2 ms of its ~4 ms)
        return 1
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return max(1, min(cores, n_tasks))
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ParameterError(f"n_jobs must be a positive integer, -1 or None, got {n_jobs!r}.")
    if n_jobs < 0:
        return max(1, min(cores, n_tasks))
    return max(1, min(int(n_jobs), n_tasks))


def run_tasks(
    func: Callable[[Any], Any],
    tasks: Iterable[Any],
    *,
    n_jobs: int | None = None,
    n_samples: int = MIN_SAMPLES_FOR_THREADS,
) -> list[Any]:
    """``[func(t) for t in tasks]``, on threads over the tasks (the one per-channel executor).

    Every per-channel computation of hfs_emg (filters, burst detection, the streamed chunks)
    runs through here: the kernels release the GIL (SciPy's filters, the numba kernels of
    :mod:`hfs_emg._fastfilt`), so channels run on every core. ``n_samples`` (per task) decides
    whether threads pay (:func:`resolve_n_jobs`). Results keep the order of ``tasks``.

    Examples
    --------
    >>> run_tasks(lambda c: c * c, range(4), n_jobs=2, n_samples=10**6)
    [0, 1, 4, 9]
    """
    items = list(tasks)
    workers = resolve_n_jobs(n_jobs, len(items), n_samples)
    if workers == 1:
        return [func(t) for t in items]
    pool = _shared_pool(workers)
    run = _in_pool(func)  # its tasks, and any run nested in them, never wait on the shared pool
    if pool is None:  # called from a task (a nested run), or more threads than cores
        with ThreadPoolExecutor(max_workers=workers) as own:
            return list(own.map(run, items))
    futures = [pool.submit(run, t) for t in items]
    wait(futures)  # every task done before an error is raised, as a pool of its own would
    return [f.result() for f in futures]


#: The threads of :func:`run_tasks`, started once per process (a chunked file calls it
#: hundreds of times: a new pool each time paid the start of its threads, ~0.1-1 ms each, more
#: on a loaded machine). Used only for as many workers as cores, and never from its own
#: threads (a nested run would wait on itself): those get a pool of their own, as before.
_POOL: dict[str, Any] = {"pool": None, "pid": None, "workers": 0}
_POOL_LOCK = threading.Lock()
_local = threading.local()


def _shared_pool(workers: int) -> ThreadPoolExecutor | None:
    cores = os.cpu_count() or 1
    if getattr(_local, "in_pool", False) or workers != max(1, cores):
        return None
    with _POOL_LOCK:
        if _POOL["pool"] is None or _POOL["pid"] != os.getpid() or _POOL["workers"] != workers:
            # a forked child inherits the executor but not its threads: a new one
            _POOL.update(
                pool=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hfs_emg"),
                pid=os.getpid(),
                workers=workers,
            )
        return _POOL["pool"]


def _in_pool(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(task: Any) -> Any:
        outer = getattr(_local, "in_pool", False)
        _local.in_pool = True
        try:
            return func(task)
        finally:
            _local.in_pool = outer

    return run


def map_channels(
    kernel: Callable[[npt.NDArray[np.floating]], npt.NDArray[np.floating]],
    data: npt.NDArray[np.floating],
    rows: Sequence[int] | npt.NDArray[np.intp],
    *,
    out: npt.NDArray[np.floating] | None = None,
    n_jobs: int | None = 1,
    writes_out: bool = False,
) -> npt.NDArray[np.floating]:
    """Write ``kernel(data[i])`` into ``out[i]`` for every ``i`` in ``rows``.

    Parameters
    ----------
    kernel : callable
        Takes one channel (1-D) and returns an array of the same length.
    data : ndarray, shape (n_channels, n_samples)
    rows : sequence of int
        Channels to process; the others of ``out`` are left as they are.
    out : ndarray, optional
        Output (default: a copy of ``data``, so unprocessed rows keep their samples).
    n_jobs : int or None
        Threads (see :func:`resolve_n_jobs`).
    writes_out : bool
        The kernel is called as ``kernel(data[i], out[i])`` and writes its result into the
        output row itself (no full-length temporary per channel).

    Returns
    -------
    out : ndarray

    Examples
    --------
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> map_channels(lambda r: -r, x, [1])
    array([[ 0.,  1.,  2.],
           [-3., -4., -5.]])
    """
    if out is None:
        out = np.array(data)

    def run(i: int) -> None:
        if writes_out:
            kernel(data[i], out[i])  # type: ignore[call-arg]
        else:
            out[i] = kernel(data[i])

    run_tasks(run, [int(i) for i in rows], n_jobs=n_jobs, n_samples=data.shape[-1])
    return out


def chunk_bounds(
    n_samples: int, chunk_size: int, margin: int
) -> Iterator[tuple[int, int, int, int]]:
    """Windows ``(lo, hi, start, stop)``: core ``[start, stop)`` padded to ``[lo, hi)``.

    Examples
    --------
    >>> list(chunk_bounds(10, 4, 1))
    [(0, 5, 0, 4), (3, 9, 4, 8), (7, 10, 8, 10)]
    """
    if chunk_size < 1 or margin < 0:
        raise ParameterError(
            f"chunk_size must be >= 1 and margin >= 0, got {chunk_size}, {margin}."
        )
    for start in range(0, n_samples, chunk_size):
        stop = min(start + chunk_size, n_samples)
        yield max(start - margin, 0), min(stop + margin, n_samples), start, stop


def map_chunks(
    kernel: Callable[[npt.NDArray[np.floating]], npt.NDArray[np.floating]],
    x: npt.NDArray[np.floating],
    fs: float,
    *,
    chunk_s: float = 30.0,
    margin_s: float,
    progress: bool = False,
) -> npt.NDArray[np.floating]:
    """Apply an array kernel to a long array (time on the last axis) window by window.

    Parameters
    ----------
    kernel : callable
        ``kernel(block) -> block`` of the same shape (e.g. ``lambda b: bandpass(b, fs, 20,
        1000)``).
    x : ndarray, shape (..., n_samples)
        Signal (may be a read-only memory map: only one window is read at a time).
    fs : float
        Sampling rate in Hz.
    chunk_s : float
        Core length of a window in seconds.
    margin_s : float
        Extra signal on each side, discarded after the kernel (use :func:`auto_margin_s` or
        6 periods of the high-pass corner).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    ndarray
        Same shape as ``x``, dtype of the kernel's output.

    References
    ----------
    .. [1] A. P. Buccino et al., "SpikeInterface, a unified framework for spike sorting",
       eLife 9, e61834 (2020) (chunk + margin + trim execution).

    Examples
    --------
    >>> from hfs_emg.signal import bandpass
    >>> x = np.random.default_rng(0).normal(size=(2, 30_000))
    >>> y = map_chunks(lambda b: bandpass(b, 1000.0, 20.0, 400.0), x, 1000.0, chunk_s=4.0,
    ...                margin_s=0.3)
    >>> bool(np.abs(y - bandpass(x, 1000.0, 20.0, 400.0)).max() < 1e-3 * x.std())
    True
    """
    chunk_s = check_positive(chunk_s, "chunk_s")
    margin_s = check_positive(margin_s, "margin_s", allow_zero=True)
    n = x.shape[-1]
    step = max(round(chunk_s * fs), 1)
    margin = int(np.ceil(margin_s * fs))
    bounds = list(chunk_bounds(n, step, margin))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(bounds), unit="chunk")
    out: npt.NDArray[np.floating] | None = None
    try:
        for lo, hi, start, stop in bounds:
            y = kernel(np.asarray(x[..., lo:hi]))
            if out is None:
                out = np.empty(x.shape, dtype=y.dtype)
            out[..., start:stop] = y[..., start - lo : stop - lo]
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if out is None:
        raise ParameterError("x holds no samples.")
    return out


def auto_margin_s(func: Callable[..., Any], kwargs: dict[str, Any]) -> float:
    """Margin (s) long enough for the transients of ``func`` with ``kwargs`` to die out.

    The transform declares it: ``func.margin_s(**params)`` (every filter of
    :mod:`hfs_emg.preprocessing`, and :class:`hfs_emg.preprocessing.EmgFilter`, from
    :func:`hfs_emg.signal.highpass_margin_s` and :func:`hfs_emg.signal.notch_margin_s`:
    SpikeInterface's pattern, the filter knows its margin and the executor asks). A function
    that declares none gets no guess (a renamed argument would silently shrink it): give
    ``margin_s`` explicitly.

    Raises
    ------
    ParameterError
        ``func`` declares no margin.

    Examples
    --------
    >>> from hfs_emg.preprocessing import bandpass_filter
    >>> auto_margin_s(bandpass_filter, {})
    0.3
    """
    declared = getattr(func, "margin_s", None)
    if not callable(declared):
        raise ParameterError(
            f"{getattr(func, '__name__', func)!r} declares no margin_s(**params): pass margin_s= "
            "(the signal it needs on each side of a chunk, in seconds), or attach one "
            "(func.margin_s = lambda **params: seconds)."
        )
    return float(declared(**kwargs))


def process_chunked(
    source: BaseReader | Recording,
    func: Callable[..., Recording],
    *,
    chunk_s: float = 30.0,
    margin_s: float | str = "auto",
    picks: Any = None,
    dtype: npt.DTypeLike | None = None,
    progress: bool = False,
    **kwargs: Any,
) -> Recording:
    """Apply a Recording-level transform window by window and stitch the result.

    Parameters
    ----------
    source : BaseReader or Recording
        A reader (from :func:`hfs_emg.open_recording`; only one window is read at a time) or a
        Recording already in memory.
    func : callable
        ``func(rec, **kwargs) -> Recording`` keeping the number of samples, e.g.
        :func:`hfs_emg.preprocessing.bandpass_filter`. Data-driven choices are made per window:
        give them explicitly (e.g. ``freq=50`` rather than ``"auto"`` for a notch) so every
        window is processed alike.
    chunk_s : float
        Core length of a window in seconds.
    margin_s : float or "auto"
        Extra signal on each side of a window, discarded after ``func``. ``"auto"`` asks the
        transform (:func:`auto_margin_s`: ``func.margin_s(**kwargs)``).
    picks : optional
        Channels to read (readers only).
    dtype : dtype, optional
        Storage dtype when reading (readers only; ``float32`` halves memory).
    progress : bool
        Show a tqdm progress bar.
    **kwargs
        Passed to ``func``.

    Returns
    -------
    Recording
        As ``func`` would return for the whole recording; its last history entry records
        ``chunk_s`` and ``margin_s``.

    References
    ----------
    .. [1] A. P. Buccino et al., "SpikeInterface, a unified framework for spike sorting",
       eLife 9, e61834 (2020) (chunk + margin + trim execution).

    Examples
    --------
    >>> from hfs_emg import from_array
    >>> from hfs_emg.preprocessing import bandpass_filter
    >>> rng = np.random.default_rng(0)
    >>> rec = from_array(rng.normal(size=(2, 20_000)), 1000.0, ["oculi", "oris"])
    >>> whole = bandpass_filter(rec, 20.0, 450.0)
    >>> parts = process_chunked(rec, bandpass_filter, chunk_s=5.0, l_freq=20.0, h_freq=450.0)
    >>> bool(np.abs(parts.data - whole.data).max() < 1e-3 * whole.data.std())
    True
    """
    chunk_s = check_positive(chunk_s, "chunk_s")
    if margin_s == "auto":
        margin_s = auto_margin_s(func, kwargs)
    margin_s = check_positive(margin_s, "margin_s", allow_zero=True)
    if margin_s > 0.2 * chunk_s:
        logger.info("margin_s=%.3g s is more than 20 %% of chunk_s=%.3g s", margin_s, chunk_s)
    if isinstance(source, BaseReader):
        windows = _reader_windows(source, chunk_s, margin_s, picks, dtype)
        n_total, t0, sfreq = source.n_samples, source.tstart, source.sfreq
        n_chunks = -(-n_total // max(round(chunk_s * sfreq), 1))
        events = source.read_events()
    elif isinstance(source, Recording):
        windows = _recording_windows(source, chunk_s, margin_s)
        n_total, t0, sfreq = source.n_samples, source.tstart, source.sfreq
        n_chunks = -(-n_total // max(round(chunk_s * sfreq), 1))
        events = source.events
    else:
        raise TypeError(f"source must be a BaseReader or a Recording, got {type(source).__name__}.")

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_chunks, desc=getattr(func, "__name__", "chunks"), unit="chunk")
    result: npt.NDArray[np.floating] | None = None
    first: Recording | None = None
    try:
        for chunk, core_start, core_stop in windows:
            done = func(chunk, **kwargs)
            if done.n_samples != chunk.n_samples:
                raise ParameterError(
                    f"{getattr(func, '__name__', func)!r} changed the number of samples "
                    f"({chunk.n_samples} -> {done.n_samples}); it cannot run in chunks."
                )
            if result is None:
                first = done
                result = np.empty((done.n_channels, n_total), dtype=done.data.dtype)
            offset = round((chunk.tstart - t0) * sfreq)
            result[:, core_start:core_stop] = done.data[:, core_start - offset : core_stop - offset]
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if first is None or result is None:  # pragma: no cover - a source always has samples
        raise ParameterError("The source holds no samples.")
    history = list(first.history)
    if history:
        last = dict(history[-1])
        last["params"] = {**last.get("params", {}), "chunk_s": chunk_s, "margin_s": margin_s}
        history[-1] = last
    return dataclasses.replace(
        first, data=result, tstart=t0, events=events.reset_index(drop=True), history=tuple(history)
    )


def _reader_windows(
    reader: BaseReader, chunk_s: float, margin_s: float, picks: Any, dtype: Any
) -> Iterator[tuple[Recording, int, int]]:
    for chunk, (c0, c1) in reader.iter_chunks(chunk_s, margin_s=margin_s, picks=picks, dtype=dtype):
        start = round((c0 - reader.tstart) * reader.sfreq)
        stop = round((c1 - reader.tstart) * reader.sfreq)
        yield chunk, start, stop


def _recording_windows(
    rec: Recording, chunk_s: float, margin_s: float
) -> Iterator[tuple[Recording, int, int]]:
    step = max(round(chunk_s * rec.sfreq), 1)
    margin = int(np.ceil(margin_s * rec.sfreq))
    for lo, hi, start, stop in chunk_bounds(rec.n_samples, step, margin):
        chunk = dataclasses.replace(
            rec, data=rec.data[:, lo:hi], tstart=rec.tstart + lo / rec.sfreq
        )
        yield chunk, start, stop
