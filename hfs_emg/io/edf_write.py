"""Write a Recording as EDF+ (16-bit, ``.edf``) or BDF+ (24-bit, ``.bdf``) through edfio.

Voltage channels are written in microvolts (``uV``), other channels in their own unit. Each
channel's physical range is its data range plus 1 % headroom (so the digital step is as fine as
the format allows); integer trigger codes of stim channels are stored exactly (physical range =
digital range, so a BDF ``Status`` channel keeps its codes). Events become EDF+ annotations
(onset relative to the first sample, duration, label). The file is written atomically.

The written file starts at the Recording's first sample: a window with ``tstart`` > 0 is written
with its events shifted by ``-tstart`` and ``tstart`` kept in the recording-identification field
restored on reading. EDF data records must be whole, so the last record is padded with each
channel's last value and the true length is kept there too: the field ends with
``hfs_emg=<samples>,<tstart>,<signature>``, where the signature
(:func:`hfs_emg.io.edf.private_signature`) binds the values to the channel labels, so the reader
trusts the key only in files hfs_emg wrote (hfs_emg reads only the true samples; other readers
show the padding).
"""

from __future__ import annotations

import datetime as _dt
import math
import unicodedata
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .._errors import HfsEmgWarning, ParameterError
from ..recording import Recording
from .edf import private_key

__all__ = ["digital_step", "write_edf"]

_HEADROOM = 0.01


def _physical_range(x: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(x)), float(np.max(x))
    # At least 1e-3 (of the channel's unit, usually µV): edfio's own 8-character rounding
    # writes smaller values such as -1e-05 as the 10-character "-1.001e-05" and fails.
    pad = max((hi - lo) * _HEADROOM, abs(hi) * 1e-6, abs(lo) * 1e-6, 1e-3)
    lo, hi = lo - pad, hi + pad
    # The header holds 8 characters: round outward to what fits so no sample is clipped.
    return _fit8(lo, math.floor), _fit8(hi, math.ceil)


def _fit8(value: float, rounding: object) -> float:
    for digits in range(8, -1, -1):
        scaled = rounding(value * 10**digits) / 10**digits  # type: ignore[operator]
        text = f"{scaled:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{scaled:.0f}"
        value = float(text)
        # edfio writes str(value) (e.g. "-1.001e-05" for -0.00001001): that must fit too.
        shown = str(int(value)) if value.is_integer() else str(value)
        if len(text) <= 8 and len(shown) <= 8:
            return value
    raise ParameterError(f"value {value} does not fit the 8-character EDF header field.")


def _ascii(text: str, what: str) -> str:
    """``text`` in printable ASCII (EDF header fields are ASCII): transliterated with a warning."""
    if text.isascii() and text.isprintable():
        return text
    out = text.replace("µ", "u").replace("μ", "u").replace("°", "deg")
    out = unicodedata.normalize("NFKD", out)
    out = "".join(c for c in out if c.isascii() and c.isprintable())
    if not out.strip():
        raise ParameterError(
            f"{what} {text!r} has no ASCII characters; EDF header fields are ASCII: rename it "
            "(e.g. rec.rename_channels) before writing."
        )
    warnings.warn(
        f"{what} {text!r} is not ASCII; EDF header fields are ASCII, so it is written as {out!r}.",
        HfsEmgWarning,
        stacklevel=3,
    )
    return out


def digital_step(pmin: float, pmax: float, bdf: bool) -> float:
    """Physical size of one digital step for a physical range (the format's resolution).

    Examples
    --------
    >>> round(digital_step(-100.0, 100.0, bdf=False), 6)
    0.003052
    """
    n = 2**24 - 1 if bdf else 2**16 - 1
    return (pmax - pmin) / n


def write_edf(rec: Recording, path: str | Path) -> None:
    """Write ``rec`` to ``path`` as EDF+ (``.edf``) or BDF+ (``.bdf``), atomically.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from hfs_emg import from_array, read_recording
    >>> rec = from_array(np.sin(np.arange(1000) / 20.0), 1000.0, ["mentalis_L"], units="mV")
    >>> path = tempfile.mkdtemp() + "/x.bdf"
    >>> write_edf(rec, path)
    >>> back = read_recording(path)
    >>> bool(np.abs(back.data - rec.data).max() < 1e-3)
    True
    """
    import edfio

    path = Path(path)
    bdf = path.suffix.lower() == ".bdf"
    sig_cls = edfio.BdfSignal if bdf else edfio.EdfSignal
    # Data records must be whole: pad with the last value; the true length goes in the header.
    frac = Fraction(rec.sfreq).limit_denominator(99999999)
    spr = frac.numerator
    n = rec.n_samples
    n_pad = -(-n // spr) * spr - n
    signals = []
    labels = [_ascii(str(name), "channel name") for name in rec.ch_names]
    if len(set(labels)) != len(labels):
        raise ParameterError(
            f"channel names {rec.ch_names} are not distinct once written in ASCII ({labels})."
        )
    for i, row in enumerate(rec.channels.itertuples(index=False)):
        x = np.asarray(rec.data[i], dtype=np.float64)
        x = np.concatenate([x, np.full(n_pad, x[-1])]) if n_pad else x
        label = labels[i]
        if len(label) > 16:
            raise ParameterError(f"channel name {label!r} is longer than the 16 EDF characters.")
        codes = row.type == "stim" and np.array_equal(x, np.round(x))
        dig = (-(2**23), 2**23 - 1) if bdf else (-(2**15), 2**15 - 1)
        if codes and dig[0] <= x.min() and x.max() <= dig[1]:
            # Trigger codes are stored exactly: physical = digital (BioSemi Status convention).
            prange: tuple[float, float] = (float(dig[0]), float(dig[1]))
        else:
            prange = _physical_range(x)
        unit = _ascii(str(row.unit or ""), f"unit of channel {label!r}")
        try:
            signal = sig_cls(
                x,
                rec.sfreq,
                label=label,
                physical_dimension=unit,
                physical_range=prange,
                digital_range=dig,
            )
        except ValueError as err:  # edfio refuses a header value
            raise ParameterError(f"{path}: cannot write channel {label!r}: {err}") from err
        signals.append(signal)
    annotations = [
        edfio.EdfAnnotation(
            float(ev.onset_s) - rec.tstart, float(ev.duration_s) or None, str(ev.label)
        )
        for ev in rec.events.itertuples(index=False)
    ]
    annotations = [a for a in annotations if a.onset >= 0]
    date = rec.meta.get("meas_date")
    start = date if isinstance(date, _dt.datetime) else None
    recording = edfio.Recording(
        startdate=start.date() if start else None,
        additional=(private_key(n, rec.tstart, labels),),
    )
    cls = edfio.Bdf if bdf else edfio.Edf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # edfio notes rounding of the duration field
        try:
            edf = cls(
                signals,
                recording=recording,
                starttime=start.time().replace(tzinfo=None) if start else None,
                annotations=annotations,
            )
        except ValueError as err:  # edfio refuses a header value (too long, not ASCII...)
            raise ParameterError(f"{path}: cannot write the EDF/BDF header: {err}") from err
    with atomic_path(path) as tmp:
        edf.write(tmp)
