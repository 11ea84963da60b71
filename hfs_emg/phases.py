"""Surgical phases of a microvascular decompression (MVD) from event labels.

The LSR's course is read against the stages of the operation: dural opening, arachnoid
dissection, decompression (Teflon placement) and dural closure. Outcome depends on when the LSR
is lost: favourable in 100 % of patients whose LSR disappeared during the opening, 91 % during
arachnoid dissection and 79 % after decompression (Al Menabbawy et al. 2025); a delayed loss
after closure also occurs. Operating-room systems store these stages as free-text markers, so
:func:`phase_markers` maps labels onto the four phases through a configurable vocabulary of
synonyms (:data:`PHASE_VOCABULARY`), case-insensitively and on whole words.

References
----------
.. [1] Al Menabbawy A, et al. Acta Neurochir 2025, doi:10.1007/s00701-025-06642-0 (phase of LSR
   loss and outcome, 214 patients).
.. [2] Kim CH, et al. Neurosurgery 2010;67:1581 (LSR loss before decompression, at dural opening
   and CSF drainage, in 33 %).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._errors import HfsEmgWarning, ParameterError
from .recording import Recording

__all__ = ["PHASES", "PHASE_VOCABULARY", "phase_markers", "phase_onsets"]

#: The four MVD stages, in surgical order.
PHASES: tuple[str, ...] = ("dura_opening", "arachnoid_dissection", "decompression", "dural_closure")

#: Default vocabulary: phase -> phrases that mark its start (case-insensitive, whole words;
#: spaces, hyphens and underscores are interchangeable). Pass your own mapping to
#: :func:`phase_markers` (``vocabulary=``) to add the markers of your system.
PHASE_VOCABULARY: dict[str, tuple[str, ...]] = {
    "dura_opening": (
        "dura opening",
        "dural opening",
        "opening of the dura",
        "open dura",
        "dura opened",
        "dura open",
        "durotomy",
        "dural incision",
        "dura incision",
    ),
    "arachnoid_dissection": (
        "arachnoid dissection",
        "arachnoid opening",
        "arachnoid",
        "cisternal opening",
        "dissection",
    ),
    "decompression": (
        "decompression",
        "teflon",
        "teflon placement",
        "teflon felt",
        "felt",
        "prosthesis",
        "transposition",
        "vessel transposition",
    ),
    "dural_closure": (
        "dural closure",
        "dura closure",
        "closure of the dura",
        "dura closed",
        "dura closing",
        "closure",
        "closing",
    ),
}


def _pattern(phrase: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s_\-]+", phrase.strip().lower()) if w]
    return r"(?<![a-z0-9])" + r"[\s_\-]+".join(words) + r"(?![a-z0-9])"


def _compile(vocabulary: Mapping[str, Sequence[str]]) -> list[tuple[str, str, re.Pattern[str]]]:
    if not isinstance(vocabulary, Mapping):
        raise TypeError(f"vocabulary must be a mapping phase -> phrases, got {type(vocabulary)}.")
    out = []
    for phase, phrases in vocabulary.items():
        if phase not in PHASES:
            raise ParameterError(f"vocabulary names an unknown phase {phase!r}; phases: {PHASES}.")
        if isinstance(phrases, str):
            phrases = (phrases,)
        for phrase in phrases:
            if not str(phrase).strip():
                raise ParameterError(f"vocabulary[{phase!r}] holds an empty phrase.")
            out.append((phase, str(phrase), re.compile(_pattern(str(phrase)))))
    return out


def _winners(label: str, compiled: list[tuple[str, str, re.Pattern[str]]]) -> list[str]:
    """The phases whose longest matching phrase is the longest in ``label`` (lower case)."""
    hits: dict[str, int] = {}
    for phase, phrase, pat in compiled:
        if pat.search(label):
            hits[phase] = max(hits.get(phase, 0), len(phrase))
    best = max(hits.values(), default=0)
    return [p for p, n in hits.items() if n == best]


def phase_markers(
    events: pd.DataFrame | Recording,
    *,
    vocabulary: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Turn event labels into MVD phase markers.

    A label marks a phase when it contains one of that phase's phrases of ``vocabulary`` as
    whole words, ignoring case ("Dural opening", "TEFLON placed", "dura_closure"...). When phrases
    of several phases match one label the longest phrase wins ("arachnoid dissection" over
    "dissection"; "dural closure" over "closure"); an exact tie is reported with a warning and
    the label is skipped. Labels matching no phrase (stimuli, comments) are ignored.

    Parameters
    ----------
    events : pandas.DataFrame or Recording
        Events with ``onset_s`` and ``label`` (for example ``Recording.events``), or a recording.
    vocabulary : mapping, optional
        Phase (one of :data:`PHASES`) -> sequence of phrases; default :data:`PHASE_VOCABULARY`.

    Returns
    -------
    pandas.DataFrame
        One row per matched event, sorted by time: ``phase``, ``onset_s``, ``label``.

    References
    ----------
    .. [1] Al Menabbawy A, et al. Acta Neurochir 2025 (opening, arachnoid dissection and
       decompression phases of LSR loss).

    Examples
    --------
    >>> from hfs_emg import make_events
    >>> ev = make_events([5.0, 60.0, 120.0, 200.0, 300.0],
    ...                  labels=["stim", "Dural opening", "arachnoid dissection", "Teflon",
    ...                          "dura closure"])
    >>> phase_markers(ev)[["phase", "onset_s"]].values.tolist()
    [['dura_opening', 60.0], ['arachnoid_dissection', 120.0], ['decompression', 200.0], \
['dural_closure', 300.0]]
    """
    if isinstance(events, Recording):
        events = events.events
    if not isinstance(events, pd.DataFrame):
        raise TypeError(f"events must be a DataFrame or Recording, got {type(events).__name__}.")
    empty = pd.DataFrame(
        {
            "phase": pd.Series(dtype=object),
            "onset_s": pd.Series(dtype=float),
            "label": pd.Series(dtype=object),
        }
    )
    if events.empty:
        return empty
    for col in ("onset_s", "label"):
        if col not in events.columns:
            raise ParameterError(
                f"events need an {col!r} column; they have {list(events.columns)}."
            )
    compiled = _compile(PHASE_VOCABULARY if vocabulary is None else vocabulary)
    labels = events["label"].astype(str).str.lower().to_numpy(object)
    onsets = events["onset_s"].to_numpy(float)
    rows = []
    # each distinct label is matched once (a session repeats "stim zygomatic" thousands of
    # times; matching every event took ~16 ms per 600 stimuli)
    matched: dict[str, list[str]] = {}
    for label, onset, raw in zip(labels, onsets, events["label"], strict=True):  # one per event
        winners = matched.get(label)
        if winners is None:
            winners = matched[label] = _winners(label, compiled)
        if not winners:
            continue
        if len(winners) > 1:
            warnings.warn(
                f"Event {raw!r} at {onset:g} s matches phases {winners} equally; skipped "
                "(make the vocabulary more specific).",
                HfsEmgWarning,
                stacklevel=2,
            )
            continue
        rows.append({"phase": winners[0], "onset_s": float(onset), "label": str(raw)})
    if not rows:
        return empty
    return pd.DataFrame(rows).sort_values("onset_s", kind="stable").reset_index(drop=True)


def phase_onsets(phases: Any) -> dict[str, float]:
    """Start time of each phase: the first marker of each phase, in seconds.

    Parameters
    ----------
    phases : pandas.DataFrame or mapping or None
        Output of :func:`phase_markers` (``phase``, ``onset_s``), an events table (its labels
        are mapped with the default vocabulary), or a mapping phase -> onset (s).

    Returns
    -------
    dict
        Phase -> onset (s), for the phases present, in surgical order. A warning is given when
        the markers are out of surgical order (for example a closure before the decompression).

    Examples
    --------
    >>> phase_onsets({"decompression": 200.0, "dura_opening": 60.0})
    {'dura_opening': 60.0, 'decompression': 200.0}
    """
    if phases is None:
        return {}
    if isinstance(phases, Recording):
        phases = phase_markers(phases)
    if isinstance(phases, pd.DataFrame):
        if "phase" not in phases.columns:
            phases = phase_markers(phases)
        first = phases.groupby("phase")["onset_s"].min() if len(phases) else pd.Series(dtype=float)
        raw = {str(k): float(v) for k, v in first.items()}
    elif isinstance(phases, Mapping):
        raw = {str(k): float(v) for k, v in phases.items() if v is not None}
    else:
        raise TypeError(
            "phases must be a phase_markers table, an events table or a mapping phase -> onset, "
            f"got {type(phases).__name__}."
        )
    unknown = set(raw) - set(PHASES)
    if unknown:
        raise ParameterError(f"Unknown phase(s) {sorted(unknown)}; phases: {PHASES}.")
    out = {p: raw[p] for p in PHASES if p in raw and np.isfinite(raw[p])}
    times = list(out.values())
    if any(b < a for a, b in itertools.pairwise(times)):
        warnings.warn(
            f"Phase markers are out of surgical order: {out}.", HfsEmgWarning, stacklevel=2
        )
    return out
