"""Facial muscles, the facial-nerve branches that supply them, and channel-name inference.

The facial nerve (cranial nerve VII) leaves the stylomastoid foramen and divides in the parotid
gland into five branches: temporal (frontal), zygomatic, buccal, marginal mandibular and cervical.
Which branch supplies a recorded muscle decides whether an evoked response is a *direct* M-response
(stimulated branch's own muscle) or a *lateral spread response* (a muscle of another branch). The
muscles' rostro-caudal rank orders plots from forehead to chin; it describes where the clinical
spread of hemifacial spasm goes over months to years (eye to mouth in typical, upward in atypical
HFS), which is known from the history, not from the millisecond onset order of one spasm.

References
----------
.. [1] Standring S (ed.). Gray's Anatomy, 42nd ed., chapter "Face and scalp". Elsevier, 2020.
.. [2] Møller AR, Jannetta PJ. Hemifacial spasm: results of electrophysiologic recording during
       microvascular decompression operations. Neurology 1985;35:969-974.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "BRANCHES",
    "MUSCLES",
    "Muscle",
    "infer_branch",
    "infer_channel_info",
    "infer_muscle",
    "infer_side",
    "is_ecg_lead",
]

#: Standard ECG lead names: limb leads, augmented leads, precordial leads V1-V6 (and right-sided
#: V3R-V6R, posterior V7-V9) and the modified limb leads of Holter/MIT-BIH recordings (MLII...).
_ECG_LEADS = re.compile(
    r"^(?:I|II|III|aVR|aVL|aVF|V[1-9]|V[3-6]R|ML(?:I|II|III)|MV[1-6]|D(?:I|II|III))$",
    re.IGNORECASE,
)


def is_ecg_lead(ch_name: str) -> bool:
    """True for a standard ECG lead name (``"MLII"``, ``"V5"``, ``"aVR"``, ``"II"``...).

    The whole label must be the lead name, optionally with an ``ECG``/``EKG`` prefix
    (``"ECG II"``), so muscle names are never mistaken for leads.

    Examples
    --------
    >>> is_ecg_lead("MLII"), is_ecg_lead("V5"), is_ecg_lead("ECG aVF"), is_ecg_lead("oris_L")
    (True, True, True, False)
    """
    name = re.sub(r"^(?:ecg|ekg)[\s_-]*", "", ch_name.strip(), flags=re.IGNORECASE)
    return bool(_ECG_LEADS.match(name))


#: Facial-nerve branches, top of the face to the neck.
BRANCHES: tuple[str, ...] = ("temporal", "zygomatic", "buccal", "marginal_mandibular", "cervical")


@dataclass(frozen=True)
class Muscle:
    """A facial muscle: canonical name, supplying branch and rostro-caudal rank (0 = highest)."""

    name: str
    branch: str
    rank: float
    aliases: tuple[str, ...]


#: Muscles recorded in HFS work. ``rank`` orders them from forehead (0) to neck; the orbicularis
#: oculi is supplied by temporal and zygomatic fibres and is conventionally assigned to the
#: zygomatic branch in lateral-spread montages (zygomatic stimulation, oculi = direct response).
MUSCLES: dict[str, Muscle] = {
    m.name: m
    for m in (
        Muscle("frontalis", "temporal", 0.0, ("frontalis", "front", "fr", "fro")),
        Muscle("corrugator", "temporal", 0.5, ("corrugator", "corr")),
        Muscle(
            "orbicularis_oculi",
            "zygomatic",
            1.0,
            ("orbicularis oculi", "orbicularis_oculi", "orboculi", "oculi", "ooc", "oo", "oc"),
        ),
        Muscle("nasalis", "buccal", 2.0, ("nasalis", "nas")),
        Muscle("zygomaticus", "zygomatic", 2.5, ("zygomaticus", "zygomatic major", "zyg")),
        Muscle(
            "orbicularis_oris",
            "buccal",
            3.0,
            ("orbicularis oris", "orbicularis_oris", "orboris", "oris", "oor", "or"),
        ),
        Muscle("mentalis", "marginal_mandibular", 4.0, ("mentalis", "ment", "men", "mt")),
        Muscle("platysma", "cervical", 5.0, ("platysma", "plat", "pla")),
    )
}

_ALIASES = sorted(
    ((alias, m.name) for m in MUSCLES.values() for alias in m.aliases),
    key=lambda pair: -len(pair[0]),
)
_SPLIT = re.compile(r"[\s_\-\.:/()]+")
_SIDE_TOKENS = {
    "l": "left",
    "left": "left",
    "lt": "left",
    "sin": "left",
    "r": "right",
    "right": "right",
    "rt": "right",
    "dx": "right",
}


def _tokens(name: str) -> list[str]:
    return [t for t in _SPLIT.split(name.lower()) if t]


def infer_muscle(ch_name: str) -> str | None:
    """Guess the facial muscle from a channel name, or None.

    Multi-word aliases are matched on the whole name, short ones on whole tokens only, so
    ``"Fp1"`` or ``"ORBIT"`` do not become muscles by accident.

    Examples
    --------
    >>> infer_muscle("Orbicularis oculi L"), infer_muscle("MENT_R"), infer_muscle("Fp1")
    ('orbicularis_oculi', 'mentalis', None)
    """
    lowered = " ".join(_tokens(ch_name))
    tokens = set(lowered.split())
    for alias, muscle in _ALIASES:
        if " " in alias or "_" in alias:
            if alias.replace("_", " ") in lowered:
                return muscle
        elif alias in tokens or (len(alias) >= 5 and any(t.startswith(alias) for t in tokens)):
            return muscle
    return None


def infer_side(ch_name: str) -> str | None:
    """Guess the side (``"left"`` / ``"right"``) from a channel name, or None.

    Examples
    --------
    >>> infer_side("mentalis_L"), infer_side("Right oculi"), infer_side("Cz")
    ('left', 'right', None)
    """
    for token in _tokens(ch_name):
        if token in _SIDE_TOKENS:
            return _SIDE_TOKENS[token]
    return None


_BRANCH_TOKENS = {
    "temporal": "temporal",
    "frontal": "temporal",
    "zygomatic": "zygomatic",
    "buccal": "buccal",
    "marginal": "marginal_mandibular",
    "mandibular": "marginal_mandibular",
    "cervical": "cervical",
}


def infer_branch(text: str) -> str | None:
    """Guess a facial-nerve branch named in a text such as an event label, or None.

    Stimulators and monitoring systems often annotate the stimulated branch in the marker text
    (``"Stim zygomatic"``); EDF+ annotations keep only that text.

    Examples
    --------
    >>> infer_branch("stim zygomatic"), infer_branch("Marginal mandibular"), infer_branch("stim")
    ('zygomatic', 'marginal_mandibular', None)
    """
    for token in _tokens(text):
        if token in _BRANCH_TOKENS:
            return _BRANCH_TOKENS[token]
    return None


def infer_channel_info(ch_names: list[str]) -> pd.DataFrame:
    """Muscle, side and facial-nerve branch guessed from channel names.

    Parameters
    ----------
    ch_names : list of str
        Channel names.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``muscle``, ``side``, ``branch`` (None where nothing was recognised).

    Examples
    --------
    >>> infer_channel_info(["oculi_L", "mentalis_L"])[["muscle", "branch"]].values.tolist()
    [['orbicularis_oculi', 'zygomatic'], ['mentalis', 'marginal_mandibular']]
    """
    muscles = [infer_muscle(n) for n in ch_names]
    return pd.DataFrame(
        {
            "name": list(ch_names),
            "muscle": muscles,
            "side": [infer_side(n) for n in ch_names],
            "branch": [MUSCLES[m].branch if m else None for m in muscles],
        }
    )
