"""Shared parameter documentation: each entry written once, filled into docstrings.

A docstring names an entry on a line of its own, ``%(key)s`` indented like the parameter lines
around it; :func:`fill_doc` replaces that line by the entry, re-indented to the placeholder's
indentation, when the function is defined. An unknown key is an error at import time (so a typo
cannot reach the rendered documentation), and so is a placeholder left anywhere else in the
docstring. Only own-line placeholders are replaced: the rest of the docstring is not run
through ``%`` formatting, so a literal ``%`` (``"50 %"``) needs no escaping.

The same idea as ``mne.utils.docs`` (``docdict`` + ``fill_doc``) and SciPy's ``doccer``; the
entries here are the parameters that several public functions share with the same meaning.

Examples
--------
>>> @fill_doc
... def f(ax=None, title=None):
...     '''Draw.
...
...     Parameters
...     ----------
...     %(ax)s
...     %(title)s
...     '''
>>> print(f.__doc__.split("----------")[1].rstrip())
<BLANKLINE>
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.
    title : str, optional
        Title (default: a short description of what is drawn).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

__all__ = ["docdict", "fill_doc"]

F = TypeVar("F", bound=Callable[..., object])

#: Parameter entries by key, numpydoc formatted (``name : type`` then the indented description),
#: and whole sections shared by many functions (``returns_figure``), written without
#: indentation; :func:`fill_doc` indents them where they are used.
docdict: dict[str, str] = {}

# --------------------------------------------------------------------------- figures
docdict["ax"] = """
ax : matplotlib.axes.Axes, optional
    Axes to draw into; a new figure is made when omitted."""
docdict["title"] = """
title : str, optional
    Title (default: a short description of what is drawn)."""
docdict["returns_figure"] = """
Returns
-------
matplotlib.figure.Figure
    The figure drawn (the one holding ``ax`` or ``axes`` when they are given)."""
docdict["n_bins"] = """
n_bins : int
    Min/max decimation bins per trace (about the figure width in pixels)."""
docdict["tmin_tmax"] = """
tmin, tmax : float, optional
    Time window in seconds (file clock)."""

# --------------------------------------------------------------------------- result tables
docdict["bursts"] = """
bursts : pandas.DataFrame
    Output of :func:`hfs_emg.detect_bursts`."""
docdict["lsr"] = """
lsr : pandas.DataFrame
    Output of :func:`hfs_emg.measure_lsr`."""
docdict["lsr_trend"] = """
trend : pandas.DataFrame, optional
    Output of :func:`hfs_emg.lsr_trend`."""
docdict["phases"] = """
phases : DataFrame or mapping, optional
    Surgical phase markers, as for :func:`hfs_emg.lsr_trend`: the output of
    :func:`hfs_emg.phase_markers` (``phase``, ``onset_s``), an events table, or a mapping
    phase -> onset (s); each phase is shaded from its marker to the next one."""

# --------------------------------------------------------------------------- signal kernels
docdict["fs"] = """
fs : float
    Sampling rate in Hz."""
docdict["axis"] = """
axis : int
    Time axis."""
docdict["burst_samples"] = """
x : array-like, shape (n_samples,) or (n_channels, n_samples)
    Band-passed EMG.
fs : float
    Sampling rate in Hz.
starts, stops : array-like of int
    Burst sample ranges (``stop`` exclusive).
channels : array-like of int, optional
    Row of ``x`` of each burst (2-D input)."""
docdict["max_len_s"] = """
max_len_s : float
    Longest stretch of each burst analysed, seconds."""

docdict["window_s"] = """
window_s : float
    Window length in seconds."""

# --------------------------------------------------------------------------- evoked measures
docdict["source_label"] = """
source, label : str
    Passed to :func:`hfs_emg.find_stim_events`."""
docdict["measure_kw"] = """
**measure_kw
    Options of :func:`hfs_emg.measure_responses`."""

# --------------------------------------------------------------------------- simulators
docdict["sfreq"] = """
sfreq : float
    Sampling rate (Hz)."""
docdict["seed"] = """
seed : int
    Seed of :func:`numpy.random.default_rng`; the same seed gives the same recording."""
docdict["muscles"] = """
muscles : sequence of str
    Recorded muscles."""
docdict["rate_hz"] = """
rate_hz : float
    Stimulation rate (Hz)."""

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<key>[^)]*)\)s[ \t]*$", re.MULTILINE)
_ANY_PLACEHOLDER = re.compile(r"%\([^)]*\)s")


def _entry(key: str, indent: str, owner: str) -> str:
    try:
        text = docdict[key]
    except KeyError:
        raise KeyError(
            f"{owner}: unknown docdict key {key!r} in its docstring; known keys: "
            f"{', '.join(sorted(docdict))}."
        ) from None
    return textwrap.indent(textwrap.dedent(text).strip("\n"), indent)


def fill_doc(func: F) -> F:
    """Replace each own-line ``%(key)s`` of ``func.__doc__`` by ``docdict[key]``, indented.

    Parameters
    ----------
    func : callable
        A function (or class) whose docstring names :data:`docdict` entries.

    Returns
    -------
    callable
        ``func`` itself, its ``__doc__`` filled (unchanged under ``python -OO``, which strips
        docstrings).

    Raises
    ------
    KeyError
        A placeholder names a key that :data:`docdict` does not have.
    ValueError
        A placeholder is not on a line of its own.
    """
    doc = func.__doc__
    if not doc:
        return func
    owner = getattr(func, "__qualname__", repr(func))
    filled = _PLACEHOLDER.sub(lambda m: _entry(m["key"], m["indent"], owner), doc)
    left = _ANY_PLACEHOLDER.search(filled)
    if left:
        raise ValueError(
            f"{owner}: docdict placeholder {left.group()!r} must stand on a line of its own."
        )
    func.__doc__ = filled
    return func
