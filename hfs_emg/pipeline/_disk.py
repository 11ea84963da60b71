"""The live monitor's disk writes, on a thread of their own, in order (:class:`DiskWriter`).

The files of a session (``events.csv`` lines, ``lsr.csv`` lines, ``manifest.json``,
``trend.csv``, ``lsr.parquet``) were written and fsync-ed on the monitor's thread after every
sweep: ~0.6 ms of CPU and 5-10 ms of wall time per sweep spent waiting for the disk (an atomic
``manifest.json`` replace alone waits ~1-6 ms on the journal). Here the monitor thread hands
each write over as a job, and one writer thread runs the jobs in the order they came (the
syscalls release the GIL, so the analysis goes on meanwhile). What the files say after a crash
is unchanged: the jobs run in submission order, so ``manifest.json`` (written last for a sweep)
never counts a stimulus whose ``lsr.csv`` and ``events.csv`` lines are not written yet; and the
writer never lags more than ``max_lag_s`` (0.5 s) behind: a job older than that makes the next
:meth:`DiskWriter.submit` wait for it, so ``kill -9`` loses at most the last half second of
rows (as before, the last second of signal of the BDF file bounds what is lost). Successive
``manifest.json`` writes that are queued together are written once (the last one).

A job's exception is raised again in the monitor thread by the next :meth:`DiskWriter.submit`
or :meth:`DiskWriter.flush`. When the thread is not running (before :meth:`DiskWriter.start`,
after :meth:`DiskWriter.close`) a job runs at once in the caller's thread.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["DiskWriter"]

logger = logging.getLogger("hfs_emg")


class DiskWriter:
    """Run file writes on one background thread, in submission order.

    Parameters
    ----------
    max_lag_s : float
        Longest time a job may wait to be written: :meth:`submit` waits for the writer when
        the oldest job not written yet is older (the bound on what a crash can lose).

    Examples
    --------
    >>> out = []
    >>> w = DiskWriter().start()
    >>> w.submit(lambda: out.append(1))
    >>> w.submit(lambda: out.append(2), key="last")
    >>> w.close()
    >>> out
    [1, 2]
    """

    def __init__(self, *, max_lag_s: float = 0.5) -> None:
        self.max_lag_s = float(max_lag_s)
        self._jobs: collections.deque[tuple[float, str | None, Callable[[], Any]]] = (
            collections.deque()
        )
        self._cond = threading.Condition()
        self._busy = False  # a job is running
        self._busy_since = 0.0  # submission time of the oldest job of the running batch
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._stop = False
        self.cpu_s = 0.0  # CPU time of the writer thread (its jobs)
        self.n_jobs = 0
        self.n_skipped = 0  # superseded keyed jobs (e.g. manifest writes) not run

    def start(self) -> DiskWriter:
        """Start the writer thread (jobs submitted before ran at once); returns self."""
        if self._thread is None or not self._thread.is_alive():
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="hfs_emg-disk", daemon=True)
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True while the writer thread takes jobs."""
        return self._thread is not None and self._thread.is_alive() and not self._stop

    def submit(self, job: Callable[[], Any], *, key: str | None = None) -> None:
        """Queue ``job`` (a callable without arguments) after every job queued before it.

        Parameters
        ----------
        job : callable
            The write.
        key : str, optional
            Jobs with the same key replace each other: of several queued together only the
            last runs (at its own place in the order), e.g. a file rewritten whole.
        """
        self._raise()
        if not self.running:
            job()
            return
        with self._cond:
            now = time.monotonic()
            oldest = self._busy_since if self._busy else self._jobs[0][0] if self._jobs else now
            if now - oldest > self.max_lag_s:
                # the disk is behind: wait for it (bounds what a crash can lose)
                while (self._jobs or self._busy) and self._error is None and self.running:
                    self._cond.wait(0.05)
            self._jobs.append((time.monotonic(), key, job))
            self._cond.notify_all()
        self._raise()

    def flush(self) -> None:
        """Wait until every job queued so far has run (a job's error is raised here)."""
        with self._cond:
            while (self._jobs or self._busy) and self.running and self._error is None:
                self._cond.wait(0.05)
        self._raise()

    def close(self) -> None:
        """Run what is queued, stop the thread (later jobs run at once in the caller)."""
        try:
            self.flush()
        finally:
            with self._cond:
                self._stop = True
                self._cond.notify_all()
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=30)
            self._thread = None
            while self._jobs:  # left by an error: run in order here
                _, _, job = self._jobs.popleft()
                job()

    def _raise(self) -> None:
        err, self._error = self._error, None
        if err is not None:
            raise err

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stop:
                    self._cond.wait()
                if not self._jobs:
                    return
                batch = list(self._jobs)
                self._jobs.clear()
                self._busy, self._busy_since = True, batch[0][0]
            last = {k: i for i, (_, k, _) in enumerate(batch) if k is not None}
            c0 = time.thread_time()
            try:
                for i, (_, key, job) in enumerate(batch):
                    if key is not None and last[key] != i:
                        self.n_skipped += 1
                        continue
                    job()
                    self.n_jobs += 1
            except BaseException as err:  # raised again in the monitor thread
                logger.exception("monitor: a file write failed")
                with self._cond:
                    self._error = err
                    # the jobs after the failed one are dropped: the files must stay in order
                    self._jobs.clear()
            finally:
                self.cpu_s += time.thread_time() - c0
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
