"""Leave stimulus-locked activity out of the spontaneous analysis of a stimulated recording.

A burst that starts just after a stimulus is an evoked response (the direct M-response, the
lateral spread response near 10 ms, late responses up to ~40 ms in LSR monitoring, the blink
reflex R2 up to ~90 ms), not a spontaneous spasm [1]_ [2]_. One rule, used by every path of
:func:`hfs_emg.analyze` (in memory and streamed): a burst whose onset lies from
``exclude_before_stim_s`` (20 ms: the zero-phase filters' pre-ringing of the stimulus artefact,
which the onset search of :func:`hfs_emg.detect_bursts` follows back) before to
``exclude_after_stim_s`` after a stimulus is dropped, and the rates are computed over the time
that remains. Only stimuli from a trigger channel or the recording's events count: stimuli
guessed from simultaneous EMG jumps can be the onsets of synchronous spasms themselves.
:class:`StimulusWindows` hands the same windows to the burst detection, which then does not
measure the bursts that will be dropped (in an LSR session, every detected burst).

References
----------
.. [1] Møller AR, Jannetta PJ. Microvascular decompression in hemifacial spasm:
   intraoperative electrophysiological observations. Neurosurgery 1985;16:612-618.
.. [2] Kimura J. Electrodiagnosis in Diseases of Nerve and Muscle, 4th ed. Oxford University
   Press 2013 (blink reflex R2 latency 30-40 ms, duration up to ~50 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import ParameterError

__all__ = [
    "StimulusWindows",
    "exclude_stimulus_locked",
    "excluded_duration_s",
    "stimulus_locked_mask",
]


def _check(before_s: float, after_s: float) -> None:
    if not (np.isfinite(before_s) and np.isfinite(after_s)) or before_s < 0 or after_s < 0:
        raise ParameterError(
            "exclude_before_stim_s and exclude_after_stim_s must be finite and >= 0, got "
            f"{before_s!r} and {after_s!r}."
        )


def stimulus_locked_mask(
    onsets_s: npt.ArrayLike,
    stim_onsets_s: npt.ArrayLike,
    *,
    exclude_before_stim_s: float = 0.02,
    exclude_after_stim_s: float = 0.1,
) -> npt.NDArray[np.bool_]:
    """True for onsets from ``exclude_before_stim_s`` before to ``exclude_after_stim_s`` after a
    stimulus.

    Parameters
    ----------
    onsets_s : array_like
        Onsets to test (s).
    stim_onsets_s : array_like
        Stimulus times (s), any order.
    exclude_before_stim_s, exclude_after_stim_s : float
        The window around each stimulus (s).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> stimulus_locked_mask([0.97, 0.99, 1.05, 1.2, 2.0], [1.0, 2.001]).tolist()
    [False, True, True, False, True]
    """
    _check(exclude_before_stim_s, exclude_after_stim_s)
    onsets = np.asarray(onsets_s, dtype=float).ravel()
    stims = np.sort(np.asarray(stim_onsets_s, dtype=float).ravel())
    if not stims.size or not onsets.size:
        return np.zeros(onsets.size, dtype=bool)
    nxt = np.searchsorted(stims, onsets, side="left")
    prev = np.maximum(nxt - 1, 0)
    after = (nxt > 0) & (onsets - stims[prev] <= exclude_after_stim_s)
    nxt_c = np.minimum(nxt, stims.size - 1)
    before = (nxt < stims.size) & (stims[nxt_c] - onsets <= exclude_before_stim_s)
    return after | before


def excluded_duration_s(
    stim_onsets_s: npt.ArrayLike,
    tstart: float,
    duration_s: float,
    *,
    exclude_before_stim_s: float = 0.02,
    exclude_after_stim_s: float = 0.1,
) -> float:
    """Seconds of ``[tstart, tstart + duration_s]`` covered by the stimulus windows (union).

    Examples
    --------
    >>> round(excluded_duration_s([1.0, 1.05, 5.0], 0.0, 10.0), 3)
    0.29
    """
    _check(exclude_before_stim_s, exclude_after_stim_s)
    stims = np.sort(np.asarray(stim_onsets_s, dtype=float).ravel())
    if not stims.size:
        return 0.0
    lo = np.clip(stims - exclude_before_stim_s, tstart, tstart + duration_s)
    hi = np.clip(stims + exclude_after_stim_s, tstart, tstart + duration_s)
    # union of sorted intervals: each one counts only past the furthest end so far
    reach = np.maximum.accumulate(hi)
    prev_reach = np.concatenate([[lo[0]], reach[:-1]])
    return float(np.sum(np.clip(hi - np.maximum(lo, prev_reach), 0.0, None)))


def exclude_stimulus_locked(
    bursts: pd.DataFrame,
    stim_onsets_s: npt.ArrayLike,
    *,
    exclude_before_stim_s: float = 0.02,
    exclude_after_stim_s: float = 0.1,
) -> tuple[pd.DataFrame, int]:
    """Drop the bursts that start in a stimulus window; return them and how many were dropped.

    Parameters
    ----------
    bursts : pandas.DataFrame
        A burst table (:func:`hfs_emg.detect_bursts`), with ``onset_s``.
    stim_onsets_s : array_like
        Stimulus times (s).
    exclude_before_stim_s, exclude_after_stim_s : float
        The window around each stimulus (s); 0 and 0 keep every burst that does not start
        exactly on a stimulus.

    Returns
    -------
    bursts : pandas.DataFrame
        The spontaneous bursts (index reset, ``attrs`` kept).
    n_excluded : int

    Examples
    --------
    >>> b = pd.DataFrame({"onset_s": [0.2, 1.01, 3.0], "channel": ["a", "a", "b"]})
    >>> kept, n = exclude_stimulus_locked(b, [1.0])
    >>> kept["onset_s"].tolist(), n
    ([0.2, 3.0], 1)
    """
    mask = stimulus_locked_mask(
        bursts["onset_s"].to_numpy(dtype=float),
        stim_onsets_s,
        exclude_before_stim_s=exclude_before_stim_s,
        exclude_after_stim_s=exclude_after_stim_s,
    )
    kept = bursts[~mask].reset_index(drop=True)
    kept.attrs = dict(bursts.attrs)
    return kept, int(mask.sum())


@dataclass(frozen=True, eq=False)
class StimulusWindows:
    """The stimulus windows of a recording, as :func:`exclude_stimulus_locked` applies them.

    Handed to the burst detector (:func:`hfs_emg.detect_bursts` ``skip_windows``,
    :meth:`hfs_emg.detection.BurstDetector.channel` ``skip``), so that the bursts the
    spontaneous analysis will drop are not measured first: :meth:`locked` is
    :func:`stimulus_locked_mask` with these stimuli and options, the test
    :func:`exclude_stimulus_locked` makes on the burst table's ``onset_s``.

    Parameters
    ----------
    stim_onsets_s : numpy.ndarray
        Stimulus times (s).
    exclude_before_stim_s, exclude_after_stim_s : float
        The window around each stimulus (s).

    Examples
    --------
    >>> StimulusWindows(np.array([1.0, 2.001])).locked([0.97, 0.99, 1.05, 1.2, 2.0]).tolist()
    [False, True, True, False, True]
    """

    stim_onsets_s: npt.NDArray[np.float64]
    exclude_before_stim_s: float = 0.02
    exclude_after_stim_s: float = 0.1

    def __post_init__(self) -> None:
        _check(self.exclude_before_stim_s, self.exclude_after_stim_s)

    def locked(self, onsets_s: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True for the onsets (s) that lie in a stimulus window (:func:`stimulus_locked_mask`)."""
        return stimulus_locked_mask(onsets_s, self.stim_onsets_s, **self._options())

    def exclude(self, bursts: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """:func:`exclude_stimulus_locked` of ``bursts`` with these stimuli and options."""
        return exclude_stimulus_locked(bursts, self.stim_onsets_s, **self._options())

    def excluded_duration_s(self, tstart: float, duration_s: float) -> float:
        """:func:`excluded_duration_s` of ``[tstart, tstart + duration_s]`` for these windows."""
        return excluded_duration_s(self.stim_onsets_s, tstart, duration_s, **self._options())

    def _options(self) -> dict[str, float]:
        return {
            "exclude_before_stim_s": self.exclude_before_stim_s,
            "exclude_after_stim_s": self.exclude_after_stim_s,
        }
