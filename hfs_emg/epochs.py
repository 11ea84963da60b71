"""Stimulus-locked epochs: :class:`Epochs`, :class:`Evoked` and :func:`make_epochs`.

Epochs are cut with one fancy-indexing gather per channel (no loop over stimuli). Epochs that
would run past the recording's edges are dropped and listed in ``drop_log``; (epoch, channel)
pairs that are clipped (a flat run at the channel's extreme value so far, the signature of
amplifier saturation) are flagged in ``bad`` with a reason, so measurements can skip them without
losing the other channels. Every flag depends on the epoch and earlier ones only (causal).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _fastresp
from ._errors import DataError, ParameterError
from .recording import Recording

__all__ = ["Epochs", "Evoked", "RunningExtremes", "make_epochs"]

FloatArray = npt.NDArray[np.floating]


@dataclasses.dataclass(frozen=True, eq=False)
class Evoked:
    """Average of epochs.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_times)
        Mean in microvolts (bad (epoch, channel) pairs excluded).
    times : ndarray
        Seconds relative to the stimulus.
    sfreq : float
        Sampling rate (Hz).
    channels : pandas.DataFrame
        Channel table (as in :class:`~hfs_emg.Recording`).
    nave : ndarray of int, shape (n_channels,)
        Number of epochs averaged per channel.
    """

    data: FloatArray
    times: FloatArray
    sfreq: float
    channels: pd.DataFrame
    nave: npt.NDArray[np.int64]

    @property
    def ch_names(self) -> list[str]:
        """Channel names."""
        return list(self.channels["name"])


@dataclasses.dataclass(frozen=True, eq=False)
class Epochs:
    """Stimulus-locked segments ``(n_epochs, n_channels, n_times)`` in microvolts.

    Attributes
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        Samples (baseline-corrected if ``baseline`` is not None).
    times : ndarray, shape (n_times,)
        Seconds relative to the stimulus.
    sfreq : float
        Sampling rate (Hz).
    channels : pandas.DataFrame
        Channel table of the epoched channels.
    events : pandas.DataFrame
        One row per epoch (the stimulus events kept), with ``epoch`` (0..n-1).
    bad : ndarray of bool, shape (n_epochs, n_channels)
        (epoch, channel) pairs rejected (see ``bad_reason``).
    bad_reason : ndarray of str, shape (n_epochs, n_channels)
        ``""`` or the reason (``"clipped"``).
    drop_log : pandas.DataFrame
        Events not epoched: ``onset_s``, ``reason`` (``"outside recording"``).
    baseline : tuple or None
        Baseline window (s) that was subtracted.
    """

    data: FloatArray
    times: FloatArray
    sfreq: float
    channels: pd.DataFrame
    events: pd.DataFrame
    bad: npt.NDArray[np.bool_]
    bad_reason: npt.NDArray[np.str_]
    drop_log: pd.DataFrame
    baseline: tuple[float, float] | None = None

    @property
    def ch_names(self) -> list[str]:
        """Channel names."""
        return list(self.channels["name"])

    @property
    def n_epochs(self) -> int:
        """Number of epochs."""
        return int(self.data.shape[0])

    @property
    def tmin(self) -> float:
        """First time (s)."""
        return float(self.times[0])

    def pick(self, picks: Any) -> Epochs:
        """Epochs of the chosen channels (names or indices)."""
        names = self.ch_names
        items = [picks] if isinstance(picks, (str, int)) else list(picks)
        idx = [names.index(p) if isinstance(p, str) else int(p) for p in items]
        return dataclasses.replace(
            self,
            data=self.data[:, idx],
            channels=self.channels.iloc[idx].reset_index(drop=True),
            bad=self.bad[:, idx],
            bad_reason=self.bad_reason[:, idx],
        )

    def with_data(self, data: FloatArray) -> Epochs:
        """Same epochs with new samples of the same shape (for derived signals)."""
        if data.shape != self.data.shape:
            raise DataError(f"New data has shape {data.shape}, expected {self.data.shape}.")
        return dataclasses.replace(self, data=data)

    def select(self, mask: npt.ArrayLike) -> Epochs:
        """Subset of epochs (boolean mask or indices)."""
        sel = np.asarray(mask)
        return dataclasses.replace(
            self,
            data=self.data[sel],
            events=self.events.iloc[sel].reset_index(drop=True),
            bad=self.bad[sel],
            bad_reason=self.bad_reason[sel],
        )

    def average(self) -> Evoked:
        """Mean over epochs, per channel, leaving out bad (epoch, channel) pairs.

        Examples
        --------
        >>> from hfs_emg.simulate import simulate_lsr_session
        >>> rec = simulate_lsr_session(n_stimuli=4, sfreq=5000.0).recording
        >>> ev = make_epochs(rec, rec.events, tmin=-0.01, tmax=0.03).average()
        >>> ev.data.shape, ev.nave.tolist()
        ((4, 201), [4, 4, 4, 4])
        """
        good = ~self.bad
        n = good.sum(axis=0)
        total = np.einsum("ect,ec->ct", self.data, good.astype(self.data.dtype))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n[:, None]
        return Evoked(
            data=mean,
            times=self.times,
            sfreq=self.sfreq,
            channels=self.channels,
            nave=n.astype(np.int64),
        )

    def __repr__(self) -> str:
        return (
            f"<Epochs | {self.n_epochs} epochs x {len(self.channels)} ch, "
            f"{self.times[0] * 1e3:g} to {self.times[-1] * 1e3:g} ms, {self.sfreq:g} Hz, "
            f"{int(self.bad.sum())} bad>"
        )


class RunningExtremes:
    """Per-channel extremes of the epochs cut so far: the causal reference of the clipping test.

    :func:`make_epochs` compares every epoch with the lowest and highest value of that epoch
    and the earlier ones (never a later one), so a live monitor that cuts the sweeps one by one
    flags the same sweeps as the offline analysis. Pass the same object to successive calls to
    carry the extremes over (it is updated in place).
    """

    def __init__(self) -> None:
        self.lo: FloatArray | None = None
        self.hi: FloatArray | None = None

    def update(self, seg: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Running extremes (E, C) up to and including each epoch of ``seg`` (E, C, T)."""
        return self.update_from(seg.min(axis=-1), seg.max(axis=-1))

    def update_from(
        self, seg_min: FloatArray, seg_max: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """:meth:`update` from the extremes (E, C) of each epoch, already computed."""
        lo = np.minimum.accumulate(seg_min, axis=0)
        hi = np.maximum.accumulate(seg_max, axis=0)
        if self.lo is not None:
            lo = np.minimum(lo, self.lo[None, :])
            hi = np.maximum(hi, self.hi[None, :])
        if seg_min.shape[0]:
            self.lo, self.hi = lo[-1].copy(), hi[-1].copy()
        return lo, hi


def _clipped(
    seg: FloatArray | None,
    lo: FloatArray,
    hi: FloatArray,
    min_run: int,
    *,
    extremes: tuple[FloatArray, FloatArray] | None = None,
    rows: Any = None,
) -> npt.NDArray[np.bool_]:
    """(E, C) True where a run of >= min_run samples sits at the (E, C) extreme ``lo``/``hi``.

    ``extremes`` (each epoch's min and max, (E, C)) and ``rows`` (``rows(e_i, c_i)`` -> the raw
    samples of those epochs and channels) replace ``seg`` when the epochs were cut and
    baseline-corrected in one pass (:func:`hfs_emg._fastresp.epoch_gather`).
    """
    span = np.maximum(hi - lo, 1e-12)
    tol = 1e-6 * span
    out = np.zeros(lo.shape, bool)
    seg_min, seg_max = (seg.min(axis=-1), seg.max(axis=-1)) if extremes is None else extremes
    # only an epoch that reaches the extreme can hold a run at it: test those samples only
    cand = (seg_max >= hi - tol) | (seg_min <= lo + tol)
    e_i, c_i = np.nonzero(cand)
    if not e_i.size:
        return out
    x = seg[e_i, c_i] if rows is None else rows(e_i, c_i)  # (K, T)
    t = tol[e_i, c_i, None]
    at_ext = (x >= hi[e_i, c_i, None] - t) | (x <= lo[e_i, c_i, None] + t)
    c = np.zeros((x.shape[0], x.shape[1] + 1), np.int32)
    np.cumsum(at_ext, axis=-1, dtype=np.int32, out=c[:, 1:])
    runs = c[:, min_run:] - c[:, :-min_run]
    out[e_i, c_i] = (runs >= min_run).any(axis=-1)
    return out


def _finish_epochs(
    seg: FloatArray,
    times: FloatArray,
    sf: float,
    window: tuple[float, float],
    baseline: tuple[float | None, float | None] | None,
    *,
    reject_clipped: bool,
    clip_min_run: int,
    extremes: RunningExtremes | None,
) -> tuple[npt.NDArray[np.bool_], tuple[float, float] | None]:
    """Clipping flags and baseline correction (in place) of cut epochs ``seg`` (E, C, T).

    Shared by :func:`make_epochs` and the live path of :class:`hfs_emg.lsr_online.LsrStream`.
    """
    n_e, n_c = seg.shape[:2]
    bad = np.zeros((n_e, n_c), bool)
    if reject_clipped and n_e:
        lo, hi = (extremes or RunningExtremes()).update(seg)
        bad = _clipped(seg, lo, hi, int(clip_min_run))
    if baseline is None:
        return bad, None
    i0, i1, base = _baseline_index(times, sf, window, baseline)
    seg -= seg[..., i0:i1].mean(axis=-1, keepdims=True)  # a view: no copy of the window
    return bad, base


def _baseline_index(
    times: FloatArray,
    sf: float,
    window: tuple[float, float],
    baseline: tuple[float | None, float | None],
) -> tuple[int, int, tuple[float, float]]:
    """Samples ``i0:i1`` of the baseline window in the epoch, and the window (s)."""
    tmin, tmax = window
    b0 = tmin if baseline[0] is None else float(baseline[0])
    b1 = tmax if baseline[1] is None else float(baseline[1])
    m = (times >= b0 - 0.5 / sf) & (times <= b1 + 0.5 / sf)
    if not m.any():
        raise ParameterError(
            f"baseline={baseline} holds no sample of the epoch window ({tmin}, {tmax}) s."
        )
    i0, i1 = int(np.argmax(m)), int(m.size - np.argmax(m[::-1]))  # m is one run of samples
    return i0, i1, (b0, b1)


def make_epochs(
    rec: Recording,
    events: pd.DataFrame | npt.ArrayLike,
    *,
    tmin: float = -0.02,
    tmax: float = 0.06,
    baseline: tuple[float, float] | None = (None, -0.001),  # type: ignore[assignment]
    picks: Any = "emg",
    reject_clipped: bool = True,
    clip_min_run: int = 3,
    extremes: RunningExtremes | None = None,
) -> Epochs:
    """Cut stimulus-locked epochs out of a recording.

    Parameters
    ----------
    rec : Recording
        The recording.
    events : pandas.DataFrame or array-like
        Events with ``onset_s`` (extra columns are kept) or onsets in seconds (file clock).
    tmin, tmax : float
        Epoch window relative to each stimulus, seconds (both included).
    baseline : (float or None, float or None) or None
        Window whose mean is subtracted per epoch and channel; None in a bound means the epoch
        edge. Default: from ``tmin`` to -1 ms. None = no baseline correction.
    picks : str or list
        Channels (EMG by default).
    reject_clipped : bool
        Flag (epoch, channel) pairs with a flat run of ``clip_min_run`` samples at the channel's
        extreme value (amplifier saturation) as bad. The extreme is that of this epoch and the
        earlier ones (causal, see :class:`RunningExtremes`), not of the whole recording, so the
        flag of an epoch never depends on later data.
    clip_min_run : int
        Samples of the flat run.
    extremes : RunningExtremes, optional
        Extremes carried over from earlier calls (sweeps cut one by one); updated in place.

    Returns
    -------
    Epochs

    References
    ----------
    .. [1] Gramfort A et al. MEG and EEG data analysis with MNE-Python. Front Neurosci
       2013;7:267 (the epochs / evoked data model followed here).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=5, sfreq=5000.0).recording
    >>> ep = make_epochs(rec, rec.events, tmin=-0.01, tmax=0.04)
    >>> ep.data.shape
    (5, 4, 251)
    """
    if not tmax > tmin:
        raise ParameterError(f"tmax ({tmax}) must be greater than tmin ({tmin}).")
    if isinstance(events, pd.DataFrame):
        ev = events.reset_index(drop=True).copy()
    else:
        ev = pd.DataFrame({"onset_s": np.atleast_1d(np.asarray(events, dtype=float))})
    if "onset_s" not in ev.columns:
        raise ParameterError(f"events needs an 'onset_s' column; it has {list(ev.columns)}.")
    sf = rec.sfreq
    first, last = round(tmin * sf), round(tmax * sf)
    rel = np.arange(first, last + 1)
    times = rel / sf
    stims = np.round((ev["onset_s"].to_numpy(float) - rec.tstart) * sf).astype(np.int64)
    inside = (stims + first >= 0) & (stims + last < rec.n_samples)
    drop_log = pd.DataFrame(
        {"onset_s": ev.loc[~inside, "onset_s"].to_numpy(float), "reason": "outside recording"}
    )
    ev = ev.loc[inside].reset_index(drop=True)
    ev["epoch"] = np.arange(len(ev))
    stims = stims[inside]
    ch = rec._pick_indices(picks)
    data = rec.data
    if _fastresp.enabled() and data.dtype in (np.float32, np.float64) and data.flags.c_contiguous:
        # compiled: cut, extremes and baseline correction in one pass over each epoch
        fit = None if baseline is None else _baseline_index(times, sf, (tmin, tmax), baseline)
        seg, seg_min, seg_max = _fastresp.epoch_gather(
            data, np.asarray(ch, dtype=np.int64), stims + first, rel.size,
            None if fit is None else fit[:2],
        )  # fmt: skip
        bad = np.zeros((stims.size, len(ch)), bool)
        if reject_clipped and stims.size:
            lo, hi = (extremes or RunningExtremes()).update_from(seg_min, seg_max)
            chan = np.asarray(ch)

            def raw(e_i: npt.NDArray[np.intp], c_i: npt.NDArray[np.intp]) -> FloatArray:
                return data[chan[c_i][:, None], (stims[e_i] + first)[:, None] + np.arange(rel.size)]

            bad = _clipped(None, lo, hi, int(clip_min_run), extremes=(seg_min, seg_max), rows=raw)
        baseline = None if fit is None else fit[2]
    else:
        seg = np.empty((stims.size, len(ch), rel.size))
        for j, c in enumerate(ch):  # one gather of whole rows per channel, into (E, C, T)
            rows = np.lib.stride_tricks.sliding_window_view(data[c], rel.size)
            seg[:, j, :] = rows[stims + first]
        bad, baseline = _finish_epochs(
            seg,
            times,
            sf,
            (tmin, tmax),
            baseline,
            reject_clipped=reject_clipped,
            clip_min_run=clip_min_run,
            extremes=extremes,
        )
    return Epochs(
        data=seg,
        times=times,
        sfreq=sf,
        channels=rec.channels.iloc[ch].reset_index(drop=True),
        events=ev,
        bad=bad,
        bad_reason=np.where(bad, "clipped", ""),
        drop_log=drop_log,
        baseline=baseline,
    )


def concat_epochs(parts: list[Epochs]) -> Epochs:
    """One :class:`Epochs` from consecutive parts cut with the same window and channels.

    The parts of a long recording cut block by block (:func:`make_epochs` on windows of it,
    the clipping reference carried with ``extremes=``) concatenate to the epochs cut from the
    whole recording at once: samples, clipping flags, events (``epoch`` renumbered 0..n-1)
    and the drop log.

    Parameters
    ----------
    parts : list of Epochs
        At least one; the same ``times``, ``sfreq``, channels and ``baseline``.

    Returns
    -------
    Epochs

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=6, sfreq=5000.0).recording
    >>> whole = make_epochs(rec, rec.events)
    >>> ext = RunningExtremes()
    >>> parts = [make_epochs(rec, rec.events.iloc[i : i + 2], extremes=ext) for i in (0, 2, 4)]
    >>> both = concat_epochs(parts)
    >>> bool((both.data == whole.data).all()), both.events["epoch"].tolist()
    (True, [0, 1, 2, 3, 4, 5])
    """
    if not parts:
        raise ParameterError("concat_epochs needs at least one Epochs.")
    first = parts[0]
    for p in parts[1:]:
        if (
            p.data.shape[1:] != first.data.shape[1:]
            or p.sfreq != first.sfreq
            or not np.array_equal(p.times, first.times)
            or p.ch_names != first.ch_names
            or p.baseline != first.baseline
        ):
            raise ParameterError(
                "concat_epochs: the parts differ in times, rate, channels or baseline."
            )
    if len(parts) == 1:
        return first
    events = pd.concat([p.events for p in parts], ignore_index=True)
    events["epoch"] = np.arange(len(events))
    drops = [p.drop_log for p in parts if len(p.drop_log)]
    return dataclasses.replace(
        first,
        data=np.concatenate([p.data for p in parts]),
        events=events,
        bad=np.concatenate([p.bad for p in parts]),
        bad_reason=np.concatenate([p.bad_reason for p in parts]),
        drop_log=pd.concat(drops, ignore_index=True) if drops else first.drop_log,
    )
