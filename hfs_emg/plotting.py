"""Figures. Every function returns a :class:`matplotlib.figure.Figure`, accepts ``ax=`` where it
draws a single axes, labels axes with units and never calls ``plt.show()``.

Long recordings are drawn through a min/max decimation: each screen column shows the minimum and
maximum of the samples it covers, so a one-hour recording draws as fast as a short one and no
spike is lost to subsampling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .recording import Recording

__all__ = ["minmax_decimate", "plot_recording"]


def minmax_decimate(
    x: npt.NDArray[np.floating], n_bins: int, *, axis: int = -1
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.floating]]:
    """Reduce ``x`` to the min and max of ``n_bins`` equal bins, interleaved, along ``axis``.

    Parameters
    ----------
    x : ndarray
        Signal(s).
    n_bins : int
        Number of bins (about the plot's width in pixels).
    axis : int
        Time axis.

    Returns
    -------
    index : ndarray of int, shape (2 * n_bins,)
        Sample index each output value is drawn at (bin start for the min, bin end for the max).
    y : ndarray
        ``x`` reduced to ``2 * n_bins`` values along ``axis`` (min, max, min, max...). When
        ``x`` is shorter than ``2 * n_bins`` it is returned unchanged with ``arange`` indices.

    Examples
    --------
    >>> idx, y = minmax_decimate(np.array([0.0, 5, 1, -3, 2, 2]), 2)
    >>> y.tolist()
    [0.0, 5.0, -3.0, 2.0]
    """
    x = np.moveaxis(np.asarray(x), axis, -1)
    n = x.shape[-1]
    if n <= 2 * n_bins:
        return np.arange(n), np.moveaxis(x, -1, axis)
    edges = np.linspace(0, n, n_bins + 1).astype(np.intp)
    starts = edges[:-1]
    lo = np.minimum.reduceat(x, starts, axis=-1)
    hi = np.maximum.reduceat(x, starts, axis=-1)
    y = np.stack([lo, hi], axis=-1).reshape(*x.shape[:-1], 2 * n_bins)
    index = np.stack([starts, edges[1:] - 1], axis=-1).reshape(-1)
    return index, np.moveaxis(y, -1, axis)


def plot_recording(
    rec: Recording,
    *,
    picks: Any = None,
    tmin: float | None = None,
    tmax: float | None = None,
    n_bins: int = 2000,
    bursts: pd.DataFrame | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Stacked traces of a recording (min/max-decimated), with its events and bursts marked.

    Parameters
    ----------
    rec : Recording
    picks : str, int or sequence, optional
        Channels to draw (default: all).
    tmin, tmax : float, optional
        Time window in seconds.
    n_bins : int
        Decimation bins per trace (about the figure width in pixels).
    bursts : pandas.DataFrame, optional
        Bursts from :func:`hfs_emg.detect_bursts` (``channel``, ``onset_s``, ``duration_s``),
        shaded behind each channel's trace.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, hfs_emg
    >>> rec = hfs_emg.from_array(np.random.default_rng(0).normal(size=(2, 5000)), 1000.0,
    ...                          ["oculi_L", "mentalis_L"], events=[1.0, 3.0])
    >>> fig = plot_recording(rec)
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt

    if tmin is not None or tmax is not None:
        rec = rec.crop(tmin, tmax)
    if picks is not None:
        rec = rec.pick(picks)
    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 1.0 + 0.9 * rec.n_channels), layout="constrained")
    else:
        fig = ax.figure
    idx, y = minmax_decimate(rec.data, n_bins)
    t = rec.tstart + idx / rec.sfreq
    y = y - np.median(y, axis=1, keepdims=True)
    spans = np.percentile(np.abs(y), 99.5, axis=1)
    spans[spans == 0] = 1.0
    offsets = np.arange(rec.n_channels)[::-1] * 2.2
    units = rec.channels["unit"].tolist()
    for k in range(rec.n_channels):
        ax.plot(t, y[k] / spans[k] + offsets[k], lw=0.5, color="k")
    labels = [
        f"{name}\n(±{spans[k]:.3g} {units[k] or 'a.u.'})" for k, name in enumerate(rec.ch_names)
    ]
    ax.set_yticks(offsets, labels, fontsize=8)
    if bursts is not None and len(bursts):
        rows = {name: k for k, name in enumerate(rec.ch_names)}
        for channel, grp in bursts.groupby("channel"):
            if channel in rows:
                spans = list(zip(grp["onset_s"], grp["duration_s"], strict=True))
                ax.broken_barh(
                    spans, (offsets[rows[channel]] - 1.0, 2.0), color="tab:orange", alpha=0.3
                )
    for onset in rec.events["onset_s"]:
        ax.axvline(onset, color="tab:red", lw=0.5, alpha=0.6)
    ax.set_xlabel("Time (s)")
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(-1.5, offsets[0] + 1.5)
    ax.set_title(title or str(rec.meta.get("source_file", "")).split("/")[-1])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
