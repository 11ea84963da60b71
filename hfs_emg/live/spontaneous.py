"""Spontaneous bursts and A-trains of a live stream, block by block, with the offline code.

A live monitor cannot wait for the whole recording, whose noise levels the whole-file
analysis uses; it analyses the free-running EMG in blocks as they complete. The blocks are
defined on the samples of a recording part alone, so that :func:`spontaneous_blocks` run
offline on the recorded file gives the monitor's rows exactly (:class:`BlockAnalyser` is the
incremental form; both call :func:`analyse_block`):

- block ``k`` is the **core** ``[k B, (k + 1) B)`` samples from the part's first sample
  (``B = block_s``); the last core runs to the end of the part and absorbs a remainder
  shorter than the margin;
- each block is analysed on its core widened by ``margin_s`` on both sides (clipped to the
  part) with :func:`hfs_emg.detect_bursts` (bursts) and :func:`hfs_emg.classify_trains`
  (A/B/C trains of Romstöck et al. 2000; the A-trains are :func:`hfs_emg.detect_a_trains`'s
  rows), each with its defaults;
- a burst or train belongs to the block whose core holds its **onset** (so one that crosses a
  core boundary is counted once, whole as long as it ends within the margin; a longer one
  ends at the margin);
- bursts and trains that start in a stimulus window are left out
  (:func:`hfs_emg.stim_locked.exclude_stimulus_locked`, 20 ms before to 100 ms after);
- a block whose window holds a signal gap (a dropout, filled with zeros in the recording) is
  not analysed: its noise level would be that of the zeros.

A block is analysed once ``margin_s`` of signal after its core has arrived; the last one when
the part is closed. These are not the rows of :func:`hfs_emg.analyze` on the whole file,
whose noise levels come from the whole recording.

References
----------
.. [1] Romstöck J, Strauss C, Fahlbusch R. Continuous electromyography monitoring of motor
   cranial nerves during cranial base surgery. J Neurosurg 2000;93:586-593.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import HfsEmgError, NoStimulusError, ParameterError
from ..recording import Recording, from_array

__all__ = ["BlockAnalyser", "analyse_block", "block_cores", "spontaneous_blocks"]

#: Tables of the block analysis.
TABLES = ("bursts", "trains", "a_trains")


def block_cores(
    n_samples: int, sfreq: float, *, block_s: float, margin_s: float
) -> list[tuple[int, int]]:
    """The cores ``(start, stop)`` (samples) of the blocks of a part of ``n_samples``.

    Examples
    --------
    >>> block_cores(20_500, 1000.0, block_s=10.0, margin_s=1.0)
    [(0, 10000), (10000, 20500)]
    >>> block_cores(26_500, 1000.0, block_s=10.0, margin_s=1.0)
    [(0, 10000), (10000, 20000), (20000, 26500)]
    """
    n_b, n_m = _sizes(sfreq, block_s, margin_s)
    starts = list(range(0, max(int(n_samples), 1), n_b))
    if len(starts) > 1 and n_samples - starts[-1] < n_m:
        starts.pop()  # a remainder shorter than the margin joins the previous block
    return [
        (a, starts[i + 1] if i + 1 < len(starts) else int(n_samples)) for i, a in enumerate(starts)
    ]


def _sizes(sfreq: float, block_s: float, margin_s: float) -> tuple[int, int]:
    if not np.isfinite(block_s) or block_s <= 0:
        raise ParameterError(f"block_s must be positive seconds, got {block_s!r}.")
    if not np.isfinite(margin_s) or not 0 <= margin_s < block_s:
        raise ParameterError(f"margin_s must be in [0, block_s), got {margin_s!r}.")
    return round(block_s * sfreq), round(margin_s * sfreq)


def analyse_block(
    window: Recording,
    core_s: tuple[float, float],
    *,
    stim_onsets_s: npt.ArrayLike = (),
    exclude_before_stim_s: float = 0.02,
    exclude_after_stim_s: float = 0.1,
) -> dict[str, pd.DataFrame]:
    """Bursts, trains and A-trains of one block (see the module docstring for the rules).

    Parameters
    ----------
    window : Recording
        The block's core widened by the margin (EMG channels).
    core_s : (float, float)
        Start and end of the core (s, the recording's clock): rows starting there are kept.
    stim_onsets_s : array-like
        Stimulus times; rows starting in their windows are left out.
    exclude_before_stim_s, exclude_after_stim_s : float
        The stimulus window (s), as :func:`hfs_emg.stim_locked.exclude_stimulus_locked`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``bursts`` (:func:`hfs_emg.detect_bursts` columns), ``trains``
        (:func:`hfs_emg.classify_trains`) and ``a_trains`` (its A rows, as
        :func:`hfs_emg.detect_a_trains`), each with ``block_start_s``.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_free_running
    >>> rec = simulate_free_running(duration_s=20.0, n_a_trains=1, n_c_trains=0, seed=2).recording
    >>> out = analyse_block(rec, (rec.tstart, rec.tstart + 10.0))
    >>> bool((out["trains"]["onset_s"] < rec.tstart + 10.0).all())
    True
    """
    from ..detection import detect_bursts
    from ..free_running import classify_trains
    from ..stim_locked import StimulusWindows, exclude_stimulus_locked

    lo, hi = float(core_s[0]), float(core_s[1])
    stims = np.asarray(stim_onsets_s, dtype=float)
    windows = StimulusWindows(
        stims,
        exclude_before_stim_s=exclude_before_stim_s,
        exclude_after_stim_s=exclude_after_stim_s,
    )
    # the bursts left out below are not measured (the rows kept are the same)
    skip = {"bursts": {"skip_windows": windows}, "trains": {}}
    out: dict[str, pd.DataFrame] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short blocks, hum: the same on both paths
        for name, func in (("bursts", detect_bursts), ("trains", classify_trains)):
            try:
                df = func(window, **skip[name])
            except HfsEmgError:  # e.g. a rate too low for A-trains: no rows on both paths
                df = pd.DataFrame(columns=["channel", "onset_s", "offset_s", "duration_s"])
            on = df["onset_s"].to_numpy(float)
            df = df[(on >= lo) & (on < hi)]
            df, _ = exclude_stimulus_locked(
                df, stims, exclude_before_stim_s=exclude_before_stim_s,
                exclude_after_stim_s=exclude_after_stim_s,
            )  # fmt: skip
            out[name] = df.assign(block_start_s=lo).reset_index(drop=True)
    tr = out["trains"]
    if "train_type" in tr.columns:
        out["a_trains"] = tr[tr["train_type"] == "A"].drop(columns="train_type")
    else:
        out["a_trains"] = tr
    out["a_trains"] = out["a_trains"].reset_index(drop=True)
    return out


def _has_gap(a_s: float, b_s: float, gaps: Sequence[tuple[float, float]]) -> bool:
    return any(g0 < b_s and g0 + dur > a_s for g0, dur in gaps)


class BlockAnalyser:
    """Incremental :func:`spontaneous_blocks`: feed the samples of a part as they arrive.

    Parameters
    ----------
    ch_names : sequence of str
        Every channel of the stream.
    sfreq : float
        Sampling rate (Hz).
    tstart : float
        Time of the part's first sample (s).
    emg : sequence of str
        The channels to analyse.
    block_s, margin_s : float
        Block length and margin (s).
    stim_onsets : callable
        Returns the stimulus times known so far (s).
    gaps : callable
        Returns the signal gaps known so far (``(onset_s, duration_s)``).

    Examples
    --------
    >>> import numpy as np
    >>> from hfs_emg.simulate import simulate_free_running
    >>> rec = simulate_free_running(duration_s=25.0, n_a_trains=2, seed=4).recording
    >>> blk = BlockAnalyser(rec.ch_names, rec.sfreq, rec.tstart, emg=rec.ch_names)
    >>> done = [blk.feed(rec.data[:, i : i + 3000]) for i in range(0, rec.n_samples, 3000)]
    >>> online = pd.concat([b["trains"] for d in done for b in d] +
    ...                    [b["trains"] for b in blk.finish()], ignore_index=True)
    >>> online.equals(spontaneous_blocks(rec)["trains"])
    True
    """

    def __init__(
        self,
        ch_names: Sequence[str],
        sfreq: float,
        tstart: float,
        *,
        emg: Sequence[str],
        block_s: float = 10.0,
        margin_s: float = 1.0,
        stim_onsets: Any = None,
        gaps: Any = None,
    ) -> None:
        self.ch_names = list(ch_names)
        self.sfreq = float(sfreq)
        self.tstart = float(tstart)
        self.block_s, self.margin_s = float(block_s), float(margin_s)
        self._nb, self._nm = _sizes(self.sfreq, self.block_s, self.margin_s)
        self._emg = [self.ch_names.index(c) for c in emg]
        self._emg_names = list(emg)
        self._stims = stim_onsets or (lambda: ())
        self._gaps = gaps or (lambda: ())
        self._chunks: list[npt.NDArray[np.float64]] = []  # samples from _buf0 on
        self._n_buf = 0
        self._buf0 = 0  # sample index of the first buffered sample
        self._next = 0  # first sample of the next block's core
        self.skipped: list[float] = []  # core starts of blocks not analysed (signal gaps)

    @property
    def n_samples(self) -> int:
        """Samples fed so far."""
        return self._buf0 + self._n_buf

    def feed(self, samples: npt.ArrayLike) -> list[dict[str, pd.DataFrame]]:
        """Add samples (all channels); return the tables of each block completed by them.

        The block of core ``[a, a + B)`` is final (the same as in the partition of the
        closed part) once ``a + B + margin`` samples have arrived.
        """
        x = np.asarray(samples, dtype=np.float64)[self._emg]
        self._chunks.append(x)
        self._n_buf += x.shape[1]
        done = []
        while self.n_samples >= self._next + self._nb + self._nm:
            done.append(self._run(self._next, self._next + self._nb, self.n_samples))
            self._next += self._nb
        return [d for d in done if d is not None]

    def finish(self) -> list[dict[str, pd.DataFrame]]:
        """The tables of the last blocks (the part is closed)."""
        n = self.n_samples
        out = []
        for a, b in block_cores(n, self.sfreq, block_s=self.block_s, margin_s=self.margin_s):
            if a < self._next:
                continue
            out.append(self._run(a, b, n))
            self._next = b
        return [d for d in out if d is not None]

    def _run(self, a: int, b: int, n: int) -> dict[str, pd.DataFrame] | None:
        w0, w1 = max(0, a - self._nm), min(n, b + self._nm)
        buf = np.concatenate(self._chunks, axis=1) if len(self._chunks) > 1 else self._chunks[0]
        data = buf[:, w0 - self._buf0 : w1 - self._buf0]
        # keep what the next block's window needs
        drop = max(0, b - self._nm - self._buf0)
        self._chunks = [buf[:, drop:]]
        self._buf0 += drop
        self._n_buf -= drop
        return _block(data, self._emg_names, self.sfreq, self.tstart, (a, b, w0, w1),
                      self._stims(), self._gaps(), self.skipped)  # fmt: skip


def _block(
    data: npt.NDArray[np.float64],
    names: list[str],
    sfreq: float,
    tstart: float,
    bounds: tuple[int, int, int, int],
    stims: Any,
    gaps: Any,
    skipped: list[float],
) -> dict[str, pd.DataFrame] | None:
    a, b, w0, w1 = bounds
    core = (tstart + a / sfreq, tstart + b / sfreq)
    if _has_gap(tstart + w0 / sfreq, tstart + w1 / sfreq, list(gaps)):
        skipped.append(core[0])
        return None
    window = from_array(data, sfreq, names, tstart=tstart + w0 / sfreq, ch_types="emg")
    return analyse_block(window, core, stim_onsets_s=np.asarray(list(stims), dtype=float))


def spontaneous_blocks(
    rec: Recording,
    *,
    block_s: float = 10.0,
    margin_s: float = 1.0,
    stim_onsets_s: npt.ArrayLike | None = None,
    gaps: Sequence[tuple[float, float]] | None = None,
) -> dict[str, pd.DataFrame]:
    """The block analysis of a whole recording part, offline (the monitor's rows).

    Parameters
    ----------
    rec : Recording
        One recording part (e.g. ``read_recording("session/recording.bdf")``).
    block_s, margin_s : float
        Block length and margin (s).
    stim_onsets_s : array-like, optional
        Stimulus times; default :func:`hfs_emg.find_stim_events` on ``rec`` (none if it
        finds none).
    gaps : sequence of (float, float), optional
        Signal gaps ``(onset_s, duration_s)``; default the ``signal lost`` events of ``rec``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``bursts``, ``trains``, ``a_trains`` of every block, concatenated.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_free_running
    >>> rec = simulate_free_running(duration_s=25.0, n_a_trains=2, seed=4).recording
    >>> tables = spontaneous_blocks(rec)
    >>> sorted(tables), bool(tables["a_trains"]["block_start_s"].isin([0.0, 10.0]).all())
    (['a_trains', 'bursts', 'trains'], True)
    """
    from ..events import find_stim_events

    if stim_onsets_s is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                stim_onsets_s = find_stim_events(rec)["onset_s"].to_numpy(float)
        except NoStimulusError:
            stim_onsets_s = np.zeros(0)
    if gaps is None:
        ev = rec.events
        lost = ev[ev["label"] == "signal lost"] if len(ev) else ev
        gaps = list(
            zip(lost["onset_s"].astype(float), lost["duration_s"].astype(float), strict=True)
        )
    emg = [n for n, t in zip(rec.ch_names, rec.ch_types, strict=True) if t == "emg"]
    idx = [rec.ch_names.index(c) for c in emg]
    n = rec.n_samples
    nm = _sizes(rec.sfreq, block_s, margin_s)[1]
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    skipped: list[float] = []
    stims = np.asarray(stim_onsets_s, dtype=float)
    for a, b in block_cores(n, rec.sfreq, block_s=block_s, margin_s=margin_s):
        w0, w1 = max(0, a - nm), min(n, b + nm)
        data = np.asarray(rec.data[idx, w0:w1], dtype=np.float64)
        got = _block(data, emg, rec.sfreq, rec.tstart, (a, b, w0, w1), stims, gaps, skipped)
        for t in TABLES:
            if got is not None:
                frames[t].append(got[t])
    return {t: pd.concat(f, ignore_index=True) if f else pd.DataFrame() for t, f in frames.items()}
