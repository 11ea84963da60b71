"""Which protocol a recording follows, decided from its stimulus events and their labels.

Clinical systems name the test in the marker text or the protocol ("CMAP stim left",
"F-wave", "Blink stim right", "stim zygomatic", "Hreflex"), and the channels of an LSR
session come with the stimulated facial-nerve branch. :func:`decide_protocol` reads only that:

1. Stimuli come from a trigger channel or the recording's events (``find_stim_events`` with
   the ``stim`` options). Jumps found on the EMG alone (``source="artifact"``) are not taken
   as stimuli by ``"auto"``: a spasm that starts on every channel at once looks the same.
   Fewer than ``min_stimuli`` stimuli: ``"spontaneous"``.
2. The labels of the events at the stimulus times (and the recording's ``meta``) are matched
   against the keywords of :data:`PROTOCOL_KEYWORDS`, in that order: blink reflex
   (supraorbital stimulation), F-waves, CMAP / M-wave / ENoG (stylomastoid stimulation),
   facial MEPs (transcranial train stimulation: "FMEP", "MEP", "TES", "transcranial"),
   H-reflex and other generic responses, then the LSR (a named facial-nerve branch, or
   "LSR"; vessel stimuli in the same session are measured as Z-L responses beside it), then
   the Z-L response alone (a stimulated vessel: "stim AICA", "vessel", "ZL"; the vocabulary of
   :data:`hfs_emg.zl_response.ZL_SITE_VOCABULARY`).
3. Stimuli whose labels name no test, site or branch: generic ``"responses"``.
4. No stimuli, but surgical-phase markers (:func:`hfs_emg.phase_markers`) or a meta
   ``protocol``/``test`` naming free-running EMG: ``"free_running"`` (the free-running EMG of
   an operation: A-, B- and C-trains and the A-train time beside the spontaneous analysis).

The decision and its reason go into :attr:`hfs_emg.AnalysisResult.provenance` (``protocol``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import NoStimulusError
from ..events import TriggerRuns, find_stim_events
from ..recording import Recording
from .config import AnalysisConfig, section_kwargs

__all__ = [
    "FREE_RUNNING_PATTERN",
    "PROTOCOL_KEYWORDS",
    "ProtocolDecision",
    "decide_protocol",
    "find_stimuli",
]

#: Keyword patterns (case-insensitive regular expressions on the marker text), tried in order.
PROTOCOL_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("blink_reflex", r"blink|supraorbital|\bbr\b"),
    ("f_waves", r"\bf[-_ ]?waves?\b|\bfwave"),
    ("cmap", r"\bcmap\b|\bm[-_ ]?waves?\b|\benog\b|stylomastoid"),
    ("fmep", r"\bf?n?mep\b|\bfacial[-_ ]mep|\btes\b|transcranial|motor[-_ ]evoked"),
    ("responses", r"h[-_ ]?reflex|\bssep\b|\bsep\b|tibial|popliteal"),
    ("lsr", r"\blsr\b|lateral[-_ ]spread|zygomatic|temporal|buccal|mandibular|marginal"),
    (
        "zl",
        r"\bz[-_ ]?l\b|\bzlr\b|vessel|arter|\baica\b|\bpica\b|\bva\b|vertebral|cerebellar",
    ),
)

#: Meta text (``protocol`` / ``test``) that names a free-running recording.
FREE_RUNNING_PATTERN: str = r"free[-_ ]?run|\bfree[-_ ]running\b|a[-_ ]?trains?|train[-_ ]?time"


@dataclass(frozen=True)
class ProtocolDecision:
    """What :func:`decide_protocol` chose, the stimuli it used and why."""

    protocol: str
    events: pd.DataFrame | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        """Plain form for the provenance."""
        n = 0 if self.events is None else len(self.events)
        source = None
        if self.events is not None and len(self.events) and "source" in self.events:
            source = str(self.events["source"].iloc[0])
        return {
            "protocol": self.protocol,
            "reason": self.reason,
            "n_stimuli": n,
            "stim_source": source,
        }


def find_stimuli(
    rec: Recording,
    config: AnalysisConfig,
    *,
    allow_artifact: bool,
    trigger_runs: Mapping[str, TriggerRuns] | None = None,
) -> tuple[pd.DataFrame | None, str]:
    """The stimuli with the ``stim`` options; artefact-only stimuli only when allowed.

    ``trigger_runs``: trigger channels scanned chunk by chunk (see
    :func:`hfs_emg.find_stim_events`), for a streamed file.
    """
    kw = section_kwargs(config.stim)
    try:
        events = find_stim_events(rec, **kw, trigger_runs=trigger_runs)
    except NoStimulusError as err:
        return None, f"no stimulus found ({err})"
    source = str(events["source"].iloc[0]) if len(events) else ""
    if source.startswith("artifact") and not allow_artifact:
        return None, (
            f"{len(events)} artefact-like jumps on the EMG but no trigger channel or stimulus "
            "event; protocol 'auto' does not take artefacts alone for stimuli (set protocol "
            "to analyse them as stimuli)"
        )
    if len(events) < config.min_stimuli:
        return None, f"{len(events)} stimulus event(s) < min_stimuli={config.min_stimuli}"
    return events, f"{len(events)} stimuli from {source}"


def _label_text(rec: Recording, events: pd.DataFrame) -> str:
    """The marker text at the stimulus times, the stimulated branches and the meta hints."""
    parts: list[str] = []
    ev = rec.events
    if len(ev) and "label" in ev:
        onsets = ev["onset_s"].to_numpy(dtype=float)
        stims = events["onset_s"].to_numpy(dtype=float)
        tol = 1.5 / rec.sfreq
        idx = np.searchsorted(stims, onsets)
        near = np.zeros(onsets.size, bool)
        for j in (idx - 1, idx):  # the nearest stimulus on either side
            ok = (j >= 0) & (j < stims.size)
            near[ok] |= np.abs(onsets[ok] - stims[j[ok]]) <= tol
        parts += sorted(set(ev.loc[near, "label"].astype(str)))
    if "stim_branch" in events:
        parts += [f"branch {b}" for b in events["stim_branch"].dropna().astype(str).unique()]
    for key in ("stim_branch", "protocol", "test"):
        if rec.meta.get(key):
            parts.append(str(rec.meta[key]))
    return " | ".join(parts)


def _free_running_reason(rec: Recording) -> str:
    """Why a recording without stimuli is free-running EMG of an operation ("" if it is not)."""
    from ..phases import phase_markers

    for key in ("protocol", "test"):
        text = str(rec.meta.get(key) or "")
        if text and re.search(FREE_RUNNING_PATTERN, text, flags=re.IGNORECASE):
            return f"meta {key} {text!r} names free-running EMG"
    if len(rec.events):
        marks = phase_markers(rec)
        if len(marks):
            names = ", ".join(dict.fromkeys(marks["phase"].astype(str)))
            return f"surgical-phase markers ({names}) without stimuli: free-running EMG"
    return ""


def decide_protocol(
    rec: Recording,
    config: AnalysisConfig,
    *,
    trigger_runs: Mapping[str, TriggerRuns] | None = None,
) -> ProtocolDecision:
    """Decide the protocol of a recording (``config.protocol``, or from its stimuli if "auto").

    Parameters
    ----------
    rec : Recording
        The recording (only its trigger channels and events are needed).
    config : AnalysisConfig
    trigger_runs : mapping of str to TriggerRuns, optional
        Trigger channels scanned chunk by chunk (:class:`hfs_emg.events.TriggerRuns`): a
        streamed file's, whose samples ``rec`` does not hold.

    Returns
    -------
    ProtocolDecision
        ``protocol``, the stimulus ``events`` (None for ``"spontaneous"`` without stimuli) and
        the ``reason``.

    Raises
    ------
    NoStimulusError
        An evoked protocol was asked for and no stimulus is found.

    Examples
    --------
    >>> import numpy as np
    >>> from hfs_emg import from_array, make_events
    >>> rec = from_array(np.zeros((1, 20000)), 2000.0, ["Mentalis_L"])
    >>> rec = rec.with_events(make_events([1.0, 3.0, 5.0, 7.0], label="F-wave stim left"))
    >>> d = decide_protocol(rec, AnalysisConfig())
    >>> d.protocol
    'f_waves'
    >>> d.reason.split("; ")[1]
    "marker text 'F-wave stim left' names f_waves"
    """
    wanted = config.protocol
    events, found = find_stimuli(
        rec, config, allow_artifact=wanted != "auto", trigger_runs=trigger_runs
    )
    if wanted == "spontaneous":
        why = "protocol set to 'spontaneous'"
        return ProtocolDecision("spontaneous", events, f"{why}; {found}")
    if wanted != "auto":
        if events is None:
            raise NoStimulusError(
                f"{rec.meta.get('source_file') or 'recording'}: protocol {wanted!r} needs "
                f"stimuli, but {found}."
            )
        return ProtocolDecision(wanted, events, f"protocol set to {wanted!r}; {found}")
    if events is None:
        free = _free_running_reason(rec)
        if free:
            return ProtocolDecision("free_running", None, f"{found}; {free}")
        return ProtocolDecision("spontaneous", None, found)
    text = _label_text(rec, events)
    for protocol, pattern in PROTOCOL_KEYWORDS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return ProtocolDecision(
                protocol, events, f"{found}; marker text {text!r} names {protocol}"
            )
    shown = repr(text) if text else "no marker text"
    return ProtocolDecision(
        "responses",
        events,
        f"{found}; {shown} names no test, site or branch: generic evoked responses",
    )
