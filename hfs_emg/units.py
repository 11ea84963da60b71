"""Physical units: parse the unit strings files declare and convert voltages to microvolts.

Files spell units many ways (``"uV"``, ``"µV"``, ``"μV"``, ``"mv"``, ``"v"``, ``"Volts"``). The
parser is deliberately strict: only spellings of volts with an SI prefix are voltages; anything
else (``"ADC"``, ``"deg"``, ``"bpm"``, an empty string) is *not* a voltage and is reported as such,
so a reader can warn instead of returning a silently wrong number.
"""

from __future__ import annotations

import re

__all__ = ["VOLTAGE_UNITS", "is_voltage", "normalize_unit", "scale_to_uv"]

#: Factor that converts a value in the key's unit to microvolts.
VOLTAGE_UNITS: dict[str, float] = {
    "nV": 1e-3,
    "uV": 1.0,
    "mV": 1e3,
    "V": 1e6,
    "kV": 1e9,
}

_PREFIX = {"n": "nV", "u": "uV", "µ": "uV", "μ": "uV", "m": "mV", "": "V", "k": "kV"}
_WORDS = {
    "volt": "V",
    "volts": "V",
    "millivolt": "mV",
    "millivolts": "mV",
    "microvolt": "uV",
    "microvolts": "uV",
    "nanovolt": "nV",
    "nanovolts": "nV",
}
_SPELLING = re.compile(r"^\s*([nuµμmk]?)\s*[vV]\s*$")


def normalize_unit(unit: str | None) -> str | None:
    """Return the canonical spelling of a voltage unit (``"uV"``, ``"mV"``, ``"V"``...), else None.

    Parameters
    ----------
    unit : str or None
        A unit string as a file declares it.

    Returns
    -------
    str or None
        One of the keys of :data:`VOLTAGE_UNITS`, or None when ``unit`` is not a voltage.

    Examples
    --------
    >>> normalize_unit("µV"), normalize_unit("mv"), normalize_unit("Volts"), normalize_unit("deg")
    ('uV', 'mV', 'V', None)
    """
    if unit is None:
        return None
    text = str(unit).strip()
    if not text:
        return None
    word = _WORDS.get(text.lower())
    if word is not None:
        return word
    match = _SPELLING.match(text)
    if match is None:
        return None
    # Only lower-case prefixes: "MV" would be megavolts, which no EMG file means; guessing milli
    # would hide a factor of 1e9, so it is reported as unknown instead.
    return _PREFIX[match.group(1)]


def is_voltage(unit: str | None) -> bool:
    """Return True when ``unit`` is a spelling of volts with an SI prefix.

    Examples
    --------
    >>> is_voltage("mV"), is_voltage("pA")
    (True, False)
    """
    return normalize_unit(unit) is not None


def scale_to_uv(unit: str | None) -> float | None:
    """Factor that converts values in ``unit`` to microvolts, or None when it is not a voltage.

    Examples
    --------
    >>> scale_to_uv("mV"), scale_to_uv("V"), scale_to_uv("uV"), scale_to_uv("counts")
    (1000.0, 1000000.0, 1.0, None)
    """
    key = normalize_unit(unit)
    return None if key is None else VOLTAGE_UNITS[key]
