"""Find stimulus events: from a trigger channel, from the recording's events, or from the artefact.

The result is a tidy events table (``onset_s``, ``duration_s``, ``label``, ``stim_index``,
``source``) on the recording's clock, ready for :func:`hfs_emg.epochs.make_epochs`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import ChannelError, HfsEmgWarning, NoStimulusError
from ._validate import check_option, check_positive
from .anatomy import infer_branch, infer_side
from .recording import Recording, make_events

__all__ = ["STIM_SOURCES", "TriggerRuns", "find_stim_events"]

logger = logging.getLogger("hfs_emg")

_STIM_LABEL_HINTS = ("stim", "trig", "pulse", "shock", "reflex")


def _debounce(
    samples: npt.NDArray[np.int64], min_gap: int, what: str | None = None
) -> npt.NDArray[np.int64]:
    """Keep the first edge of every cluster: drop edges closer than ``min_gap`` to the previous.

    With ``what`` (the source's description) a :class:`HfsEmgWarning` gives the number of
    stimuli dropped, since each dropped edge was a stimulus candidate of its own.
    """
    if samples.size == 0:
        return samples
    keep = np.ones(samples.size, bool)
    keep[1:] = np.diff(samples) >= min_gap
    dropped = int(samples.size - keep.sum())
    if what is not None and dropped:
        warnings.warn(
            f"find_stim_events: {dropped} of {samples.size} {what} lie closer than "
            f"min_interval_s ({min_gap} samples) to the previous one and were dropped "
            f"(debounce); {int(keep.sum())} stimuli kept. Lower min_interval_s if they are real "
            "stimuli.",
            HfsEmgWarning,
            stacklevel=4,
        )
    return samples[keep]


class TriggerRuns:
    """A trigger channel as its runs of equal samples, built chunk by chunk (bounded memory).

    :func:`find_stim_events` finds the rising edges of a trigger channel through a threshold
    halfway between the channel's median and maximum. A trigger channel is constant between
    pulses, so its runs (first sample and value of each stretch of equal samples: a few per
    stimulus) give that median, maximum and those edges exactly, without holding the channel:
    the streamed analysis of a long file feeds the channel chunk by chunk (:meth:`add`) and
    passes the runs to :func:`find_stim_events` (``trigger_runs=``). A channel that is not
    piecewise constant (noise: more than one run per :data:`MAX_SAMPLES_PER_RUN` samples) is
    kept whole instead, which gives the same numbers.

    Examples
    --------
    >>> x = np.zeros(1000, np.float32)
    >>> x[[100, 101, 600]] = 5.0
    >>> runs = TriggerRuns()
    >>> for part in np.array_split(x, 7):
    ...     runs.add(part)
    >>> runs.n_samples, runs.median(), runs.max(), runs.edges(2.5).tolist()
    (1000, 0.0, 5.0, [100, 600])
    """

    #: Fewer samples per run than this on average: the channel is kept whole (not a trigger).
    MAX_SAMPLES_PER_RUN: int = 16

    def __init__(self) -> None:
        self.n_samples = 0
        self._starts: list[npt.NDArray[np.int64]] = []
        self._values: list[np.ndarray] = []
        self._n_runs = 0
        self._last: Any = None  # last sample seen (a 1-element array)
        self._whole: list[np.ndarray] | None = None  # the samples, once runs do not pay

    def add(self, x: npt.ArrayLike) -> None:
        """Append the next samples of the channel (1-D)."""
        x = np.asarray(x)
        if x.ndim != 1:
            raise ValueError(f"TriggerRuns.add takes 1-D samples, got shape {x.shape}.")
        if x.size == 0:
            return
        if self._whole is not None:
            self._whole.append(x.copy())
            self.n_samples += x.size
            return
        change = x[1:] != x[:-1]
        first = self._last is None or not bool(x[0] == self._last[0])
        starts = np.flatnonzero(np.r_[first, change]).astype(np.int64)
        self._starts.append(starts + self.n_samples)
        self._values.append(x[starts].copy())
        self._n_runs += starts.size
        self.n_samples += x.size
        self._last = x[-1:].copy()
        if self._n_runs * self.MAX_SAMPLES_PER_RUN > max(self.n_samples, 1 << 16):
            self._whole = [self._samples()]  # noise, not a trigger: keep the samples
            self._starts, self._values = [], []

    @property
    def holds_samples(self) -> bool:
        """True once the channel is kept whole (not piecewise constant: not a trigger)."""
        return self._whole is not None

    def _runs(self) -> tuple[npt.NDArray[np.int64], np.ndarray, npt.NDArray[np.int64]]:
        starts = np.concatenate(self._starts)
        values = np.concatenate(self._values)
        lengths = np.diff(np.r_[starts, self.n_samples])
        return starts, values, lengths

    def _samples(self) -> np.ndarray:
        if self._whole is not None:
            if len(self._whole) > 1:
                self._whole = [np.concatenate(self._whole)]
            return self._whole[0]
        _, values, lengths = self._runs()
        return np.repeat(values, lengths)

    def median(self) -> float:
        """``float(np.median(x))`` of the samples so far."""
        if self._whole is not None:
            return float(np.median(self._samples()))
        _, values, lengths = self._runs()
        if np.isnan(values).any():
            return float(np.median(values))  # NaN, as np.median of the samples
        order = np.argsort(values, kind="stable")
        cum = np.cumsum(lengths[order])
        n = self.n_samples
        ranks = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
        mid = values[order[np.searchsorted(cum, np.asarray(ranks), side="right")]]
        return float(np.median(mid))  # the mean of the two middle samples, in their dtype

    def max(self) -> float:
        """``float(np.max(x))`` of the samples so far."""
        if self._whole is not None:
            return float(np.max(self._samples()))
        return float(np.max(np.concatenate(self._values)))

    def edges(self, threshold: float) -> npt.NDArray[np.int64]:
        """Samples where the channel rises to ``>= threshold`` (sample 0 if it starts there)."""
        if self._whole is not None:
            return _rising_through(self._samples(), threshold)
        starts, values, _ = self._runs()
        above = values >= threshold  # the comparison of the samples, on the runs' values
        rise = np.flatnonzero(~above[:-1] & above[1:]) + 1
        if above[0]:
            rise = np.r_[0, rise]
        return starts[rise].astype(np.int64)


def _rising_through(x: np.ndarray, threshold: float) -> npt.NDArray[np.int64]:
    """Samples where ``x`` rises to ``>= threshold`` (sample 0 if it starts there)."""
    above = x >= threshold
    edges = np.flatnonzero(~above[:-1] & above[1:]) + 1
    if above.size and above[0]:
        edges = np.r_[0, edges]
    return edges.astype(np.int64)


def _from_trigger(
    rec: Recording,
    channel: str | None,
    threshold: float | None,
    min_gap: int,
    runs: Mapping[str, TriggerRuns] | None = None,
) -> tuple[npt.NDArray[np.int64], str]:
    if channel is None:
        stim = [n for n, t in zip(rec.ch_names, rec.ch_types, strict=False) if t == "stim"]
        if not stim:
            raise NoStimulusError("no channel of type 'stim'")
        channel = stim[0]
    if channel not in rec.ch_names:
        raise ChannelError(f"Trigger channel {channel!r} not found; channels: {rec.ch_names}.")
    if runs is not None and channel in runs:
        scan = runs[channel]
        lo, hi = scan.median(), scan.max()
    else:
        x = rec.data[rec.ch_names.index(channel)]
        lo, hi = float(np.median(x)), float(np.max(x))
    if threshold is None:
        if hi - lo <= 0:
            raise NoStimulusError(f"trigger channel {channel!r} is flat")
        threshold = lo + 0.5 * (hi - lo)
    if runs is not None and channel in runs:
        edges = runs[channel].edges(threshold)
    else:
        edges = _rising_through(x, threshold)
    edges = _debounce(edges, min_gap, f"rising edges of {channel!r}")
    if edges.size == 0:
        raise NoStimulusError(f"no rising edge above {threshold:g} on channel {channel!r}")
    return edges, f"trigger:{channel}"


def _from_events(rec: Recording, label: str | None, min_gap: int) -> tuple[Any, str]:
    ev = rec.events
    if ev.empty:
        raise NoStimulusError("the recording has no events")
    labels = ev["label"].astype(str)
    if label is not None:
        sel = labels == label
        if not sel.any():
            raise NoStimulusError(
                f"no event labelled {label!r} (labels: {sorted(labels.unique())[:10]})"
            )
    else:
        low = labels.str.lower()
        sel = np.zeros(len(ev), bool)
        for hint in _STIM_LABEL_HINTS:
            sel |= low.str.contains(hint, regex=False).to_numpy()
        if not sel.any():
            raise NoStimulusError(
                f"no event label looks like a stimulus (labels: {sorted(labels.unique())[:10]})"
            )
    onsets = np.sort(ev.loc[np.asarray(sel), "onset_s"].to_numpy(float))
    samples = np.round((onsets - rec.tstart) * rec.sfreq).astype(np.int64)
    samples = _debounce(samples, min_gap, "stimulus events")
    return samples, f"events:{label or 'stim-like labels'}"


def _from_artifact(
    rec: Recording,
    threshold: float | None,
    min_gap: int,
    *,
    period_tolerance: float = 0.05,
    min_similarity: float = 0.9,
) -> tuple[npt.NDArray[np.int64], str]:
    try:
        x = rec.get_data("emg")
    except ChannelError:
        raise NoStimulusError("no EMG channel to look for a stimulus artefact") from None
    d = np.abs(np.diff(x, axis=-1))
    med = np.median(d, axis=-1, keepdims=True)
    # robust noise of the first difference (MAD of |diff|, Gaussian-consistent up to a constant)
    scale = 1.4826 * np.median(np.abs(d - med), axis=-1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    z = np.median(d / scale, axis=0)  # an artefact jumps on (most) channels at once
    thr = 10.0 if threshold is None else threshold
    hits = np.flatnonzero(z > thr) + 1
    hits = _debounce(hits.astype(np.int64), min_gap)
    if hits.size == 0:
        raise NoStimulusError(
            f"no simultaneous jump above {thr:g} robust SDs of the first difference on the EMG "
            "channels"
        )
    # hits[i] is the first sample after the jump (diff index + 1)
    return _stimulus_train(x, hits, rec.sfreq, period_tolerance, min_similarity), "artifact"


def _stimulus_train(
    x: npt.NDArray[np.floating],
    hits: npt.NDArray[np.int64],
    fs: float,
    period_tolerance: float,
    min_similarity: float,
) -> npt.NDArray[np.int64]:
    """Keep the jumps that form one stimulus train; raise if they do not.

    A stimulator delivers a periodic train (intervals within ``period_tolerance`` of a multiple
    of the median interval, for alternating montages or a missed stimulus) of artefacts that
    share one waveform (correlation with the median artefact over the first 2 ms on the EMG
    channels >= ``min_similarity``). Muscle bursts, movement and electrocautery do neither, so
    a spontaneous recording yields no stimulus (O'Keeffe et al. 2001 detect artefacts by their
    stereotyped shape).
    """
    if hits.size < 3:
        raise NoStimulusError(f"only {hits.size} artefact-like jump(s); a stimulus train needs 3")
    n_len = max(4, round(2e-3 * fs))
    ok = hits + n_len <= x.shape[1]
    hits = hits[ok]
    seg = x[:, np.maximum(hits - 1, 0)[:, None] + np.arange(n_len)[None, :]]  # (C, E, L)
    seg = seg - seg[..., :1]
    flat = np.moveaxis(seg, 1, 0).reshape(hits.size, -1)  # (E, C * L)
    ref = np.median(flat, axis=0)
    num = flat @ ref
    den = np.linalg.norm(flat, axis=1) * np.linalg.norm(ref)
    sim = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    alike = sim >= min_similarity
    if alike.mean() < 0.8 or alike.sum() < 3:
        raise NoStimulusError(
            f"the {hits.size} artefact-like jumps do not share one waveform (only "
            f"{int(alike.sum())} correlate >= {min_similarity:g} with their median)"
        )
    hits = hits[alike]
    isi = np.diff(hits).astype(float)
    period = float(np.median(isi))
    mult = np.maximum(np.round(isi / period), 1.0)
    periodic = np.abs(isi / mult - period) <= period_tolerance * period
    if periodic.mean() < 0.9:
        raise NoStimulusError(
            f"the {hits.size} artefact-like jumps are not periodic (only "
            f"{100 * periodic.mean():.0f} % of the intervals within {100 * period_tolerance:g} % "
            f"of a multiple of the median {period / fs * 1e3:.1f} ms)"
        )
    return hits


_INTENSITY = re.compile(r"(\d+(?:[.,]\d+)?)\s*m\s*a\b", re.IGNORECASE)


def _intensity_ma(text: str) -> float | None:
    """Stimulus intensity in mA written in a marker ("stim zygomatic 12 mA"), or None."""
    m = _INTENSITY.search(text)
    return float(m.group(1).replace(",", ".")) if m else None


def _attach_extra_columns(df: pd.DataFrame, rec: Recording) -> pd.DataFrame:
    """Copy what the recording's events say about each stimulus at the same time.

    Extra columns (``side``, ``intensity_ma``...) are copied as they are. Where the events have
    no ``side`` / ``stim_branch`` / ``intensity_ma`` column, they are read from the marker text
    ("stim left", "Stim zygomatic 12 mA"), since EDF+ annotations and most vendor markers keep
    only text. Each column is matched on the events that carry a value for it, so a
    trigger-derived event at the same time cannot mask the annotation.
    """
    ev = rec.events
    if ev.empty:
        return df
    ev = ev.sort_values("onset_s", kind="stable")
    labels = ev["label"].astype(str)
    derived = {}
    if "side" not in ev.columns:
        derived["side"] = [infer_side(x) for x in labels]
    if "stim_branch" not in ev.columns:
        derived["stim_branch"] = [infer_branch(x) for x in labels]
    if "intensity_ma" not in ev.columns:
        derived["intensity_ma"] = [_intensity_ma(x) for x in labels]
    ev = ev.assign(**derived)
    skip = ("onset_s", "duration_s", "label", "stim_index", "source")
    tol = 1.5 / rec.sfreq
    for col in (c for c in ev.columns if c not in skip and c not in df.columns):
        right = ev.loc[ev[col].notna(), ["onset_s", col]]
        if right.empty:
            continue
        df = pd.merge_asof(df, right, on="onset_s", direction="nearest", tolerance=tol)
    if "intensity_ma" in df.columns:
        df["intensity_ma"] = pd.to_numeric(df["intensity_ma"], errors="coerce")
    return df


STIM_SOURCES: dict[str, Callable[..., Any]] = {
    "trigger": _from_trigger,
    "events": _from_events,
    "artifact": _from_artifact,
}


def find_stim_events(
    rec: Recording,
    *,
    channel: str | None = None,
    threshold: float | None = None,
    min_interval_s: float = 0.02,
    source: str = "auto",
    label: str | None = None,
    out_label: str = "stim",
    trigger_runs: Mapping[str, TriggerRuns] | None = None,
) -> pd.DataFrame:
    """Find stimulus times in a recording.

    Sources (``source=``):

    - ``"trigger"``: rising edges of a trigger channel (``channel``, default the first channel of
      type ``stim``) through ``threshold`` (default halfway between the channel's median and
      maximum); edges closer than ``min_interval_s`` to the previous edge are dropped (debounce).
    - ``"events"``: the recording's events/annotations with label ``label`` (default: labels
      containing ``stim``, ``trig``, ``pulse``, ``shock`` or ``reflex``).
    - ``"artifact"``: the stimulus artefact itself, a jump that appears at the same sample on
      most EMG channels: the median over channels of ``|diff(x)|`` divided by its robust SD
      exceeds ``threshold`` (default 10). A direct M-response on one channel does not trigger it.
      Only on request (``source="artifact"``), see below.
    - ``"auto"`` (default): trigger, then events; the first that finds stimuli wins. The
      artefact is never used unless asked for: stimuli come from evidence, so a spontaneous
      recording without a trigger or stimulus markers has none (issue 11).

    The artefact source keeps only a train: jumps that share one waveform and whose intervals
    are periodic within 5 % (of a multiple of the median interval); otherwise it finds nothing.

    Parameters
    ----------
    rec : Recording
        The recording.
    channel : str, optional
        Trigger channel name (``source="trigger"``).
    threshold : float, optional
        Trigger level (channel units) or artefact level (robust SDs); see above.
    min_interval_s : float
        Minimum time between two stimuli (debounce), seconds.
    source : {"auto", "trigger", "events", "artifact"}
        Where to look.
    label : str, optional
        Event label to keep (``source="events"``).
    out_label : str
        Label of the returned events.
    trigger_runs : mapping of str to TriggerRuns, optional
        Trigger channels already scanned chunk by chunk (:class:`TriggerRuns`, by channel
        name): their samples are not read from ``rec`` (which then needs only the channel
        names, types, rate, start and events: a long file streamed without holding its
        trigger channel). The same stimuli as from the samples.

    Returns
    -------
    pandas.DataFrame
        ``onset_s``, ``duration_s`` (0), ``label``, ``stim_index`` (0, 1, ...), ``source``, and
        what the recording's events say about each stimulus (``stim_branch``, ``side``,
        ``intensity_ma`` read from marker text such as ``"stim zygomatic 12 mA"``...).

    Raises
    ------
    NoStimulusError
        No stimulus found; the message lists every source tried and why it failed.

    References
    ----------
    .. [1] O'Keeffe DT et al. Stimulus artifact removal using a software-based two-stage peak
       detection algorithm. J Neurosci Methods 2001;109:137 (artefact-based stimulus detection).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=4, sfreq=5000.0).recording
    >>> find_stim_events(rec)["onset_s"].tolist()
    [0.5, 1.5, 2.5, 3.5]
    >>> find_stim_events(rec.pick("emg"), source="artifact")["onset_s"].tolist()
    [0.5, 1.5, 2.5, 3.5]
    """
    check_option("source", source, ["auto", *STIM_SOURCES])
    min_gap = max(1, round(check_positive(min_interval_s, "min_interval_s") * rec.sfreq))
    order = ["trigger", "events"] if source == "auto" else [source]
    tried: list[str] = []
    for name in order:
        try:
            if name == "trigger":
                samples, how = _from_trigger(rec, channel, threshold, min_gap, trigger_runs)
            elif name == "events":
                samples, how = _from_events(rec, label, min_gap)
            else:
                samples, how = _from_artifact(
                    rec, threshold if source == "artifact" else None, min_gap
                )
        except NoStimulusError as err:
            tried.append(f"{name}: {err}")
            continue
        onsets = rec.tstart + samples / rec.sfreq
        logger.info("find_stim_events: %d stimuli from %s", onsets.size, how)
        df = make_events(onsets, labels=out_label)
        df["stim_index"] = np.arange(len(df))
        df["source"] = how
        return _attach_extra_columns(df, rec)
    raise NoStimulusError("No stimulus found. Tried: " + "; ".join(tried) + ".")
