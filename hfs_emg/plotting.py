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

from ._docs import fill_doc
from ._errors import ChannelError, ParameterError
from ._validate import check_option, renamed_kwarg
from .anatomy import MUSCLES, infer_channel_info
from .epochs import Epochs
from .recording import Recording

__all__ = [
    "minmax_decimate",
    "plot_blink_reflex",
    "plot_burst_metrics",
    "plot_bursts",
    "plot_cmap",
    "plot_evoked",
    "plot_f_waves",
    "plot_fmep_trend",
    "plot_lsr_latency_trend",
    "plot_lsr_morphology",
    "plot_lsr_trend",
    "plot_mvd_trend",
    "plot_recording",
    "plot_sweep_overlay",
    "plot_synchrony_raster",
    "plot_train_timeline",
    "plot_visits",
    "plot_zl_trend",
]


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


def _unit_label(unit: str | None) -> str:
    """A unit as a clinician reads it: ``uV`` written ``µV``; no unit is ``a.u.``."""
    if not unit:
        return "a.u."
    return "µV" if unit == "uV" else unit


@fill_doc
def plot_recording(
    rec: Recording,
    *,
    picks: Any = None,
    tmin: float | None = None,
    tmax: float | None = None,
    n_bins: int = 2000,
    bursts: pd.DataFrame | None = None,
    scaling: str = "shared",
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Stacked traces of a recording (min/max-decimated), with its events and bursts marked.

    Parameters
    ----------
    rec : Recording
        The recording to draw.
    picks : str, int or sequence, optional
        Channels to draw (default: all).
    %(tmin_tmax)s
    %(n_bins)s
    bursts : pandas.DataFrame, optional
        Bursts from :func:`hfs_emg.detect_bursts` (``channel``, ``onset_s``, ``duration_s``),
        shaded behind each channel's trace.
    scaling : {"shared", "channel"}
        One vertical gain for all channels of the same unit (noise looks like noise), or each
        channel scaled to its own 99.5th percentile.
    %(ax)s
    %(title)s

    %(returns_figure)s

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

    check_option("scaling", scaling, ("shared", "channel"))
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
    if scaling == "shared":  # one gain per unit: quiet channels stay quiet
        units_arr = rec.channels["unit"].to_numpy()
        for unit in set(units_arr):
            same = units_arr == unit
            spans[same] = spans[same].max()
    spans[spans == 0] = 1.0
    offsets = np.arange(rec.n_channels)[::-1] * 2.2
    units = rec.channels["unit"].tolist()
    for k in range(rec.n_channels):
        ax.plot(t, y[k] / spans[k] + offsets[k], lw=0.5, color="k")
    labels = [
        f"{name}\n(±{spans[k]:.3g} {_unit_label(units[k])})" for k, name in enumerate(rec.ch_names)
    ]
    ax.set_yticks(offsets, labels, fontsize=8)
    if bursts is not None and len(bursts):
        rows = {name: k for k, name in enumerate(rec.ch_names)}
        for channel, grp in bursts.groupby("channel"):
            if channel in rows:
                spans = list(zip(grp["onset_s"], grp["duration_s"], strict=True))
                ax.broken_barh(
                    spans,
                    (offsets[rows[channel]] - 1.0, 2.0),
                    color="tab:orange",
                    alpha=0.3,
                    label=f"bursts {channel}",
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


# --------------------------------------------------------------------------- helpers

_ORDER_COLORS = {
    "ordered": "tab:blue",
    "simultaneous": "tab:gray",
}


def _order_class(synchronous: pd.DataFrame) -> pd.Series:
    """``"ordered"`` for events with a resolved onset order, else ``"simultaneous"``."""
    order = synchronous["onset_order"].astype(object)
    return pd.Series(
        np.where(order.isin(["simultaneous", "undetermined"]), "simultaneous", "ordered"),
        index=synchronous.index,
    )


def _new_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _clean(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _require(table: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(f"{name} lacks column(s) {missing}; it has {list(table.columns)}")


def _channel_order(names: list[str], channels_info: pd.DataFrame | None) -> list[str]:
    """Channels sorted by side then anatomical rank (forehead first, chin last)."""
    info = channels_info
    if info is None or "muscle" not in info.columns:
        info = infer_channel_info(list(names))
    info = info.set_index("name") if "name" in info.columns else info
    rank = {}
    for name in names:
        muscle = info["muscle"].get(name) if name in info.index else None
        side = info["side"].get(name) if ("side" in info.columns and name in info.index) else None
        r = MUSCLES[muscle].rank if isinstance(muscle, str) and muscle in MUSCLES else 99.0
        rank[name] = (str(side or ""), r, name)
    return sorted(names, key=lambda n: rank[n])


def _epoch_keys(epochs: Epochs, table: pd.DataFrame) -> tuple[str, npt.NDArray[np.int64]]:
    """Column linking ``table`` rows to epochs and each epoch's value of it."""
    for key in ("stim_index", "epoch"):
        if key in table.columns and key in epochs.events.columns:
            return key, epochs.events[key].to_numpy(dtype=np.int64)
    raise ParameterError(
        "table needs a 'stim_index' or 'epoch' column shared with epochs.events "
        f"(table has {list(table.columns)})"
    )


# --------------------------------------------------------------------------- spontaneous


@fill_doc
def plot_bursts(
    rec: Recording,
    bursts: pd.DataFrame,
    *,
    picks: Any = "emg",
    tmin: float | None = None,
    tmax: float | None = None,
    n_bins: int = 2000,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Traces with each channel's detected bursts shaded behind it.

    Parameters
    ----------
    rec : Recording
        Usually the band-passed recording the bursts were detected on.
    bursts : pandas.DataFrame
        Output of :func:`hfs_emg.detect_bursts` (``channel``, ``onset_s``, ``duration_s``).
    picks : str, int or sequence
        Channels to draw (default: the EMG channels).
    %(tmin_tmax)s
    %(n_bins)s
    %(ax)s
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> rec = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=1).recording
    >>> bursts = hfs_emg.detect_bursts(rec)
    >>> fig = plot_bursts(rec, bursts, tmax=5.0)
    >>> fig.axes[0].get_xlabel()
    'Time (s)'
    """
    _require(bursts, ["channel", "onset_s", "duration_s"], "bursts")
    t0 = rec.tstart if tmin is None else tmin
    t1 = rec.tstart + rec.duration_s if tmax is None else tmax
    off = bursts["onset_s"] + bursts["duration_s"]
    in_view = bursts[(off > t0) & (bursts["onset_s"] < t1)].copy()
    # clip to the view so a burst straddling the edge is drawn inside the axes
    start = in_view["onset_s"].clip(lower=t0)
    in_view["duration_s"] = (in_view["onset_s"] + in_view["duration_s"]).clip(upper=t1) - start
    in_view["onset_s"] = start
    return plot_recording(
        rec, picks=picks, tmin=tmin, tmax=tmax, n_bins=n_bins, bursts=in_view, ax=ax, title=title
    )


def _event_onsets(bursts: pd.DataFrame, synchronous: pd.DataFrame) -> pd.DataFrame:
    """One row per (synchronous event, channel): the channel's first burst onset in the event."""
    members = synchronous[["event_id", "onset_s", "offset_s", "channels"]].copy()
    members["order"] = _order_class(synchronous)
    members["channel"] = members["channels"].str.split(",")
    members = members.explode("channel").drop(columns="channels")
    merged = members.merge(
        bursts[["channel", "onset_s"]].rename(columns={"onset_s": "burst_onset_s"}), on="channel"
    )
    tol = 1e-9
    inside = (merged["burst_onset_s"] >= merged["onset_s"] - tol) & (
        merged["burst_onset_s"] <= merged["offset_s"] + tol
    )
    merged = merged[inside]
    first = merged.groupby(["event_id", "channel"], as_index=False).agg(
        burst_onset_s=("burst_onset_s", "min"),
        onset_s=("onset_s", "first"),
        order=("order", "first"),
    )
    first["delay_ms"] = (first["burst_onset_s"] - first["onset_s"]) * 1e3
    return first


@renamed_kwarg("channels_info", "channels")
@fill_doc
def plot_synchrony_raster(
    bursts: pd.DataFrame,
    synchronous: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Synchronous events across muscles, forehead to chin, onsets marked to show spread order.

    Each synchronous event is one polyline: a marker per recruited muscle at its burst onset
    relative to the event onset (ms), muscles from forehead (top) to chin (bottom) by
    anatomical rank and grouped by side. Colour says whether the event has a resolved
    ``onset_order`` (blue) or is ``"simultaneous"`` within the onset uncertainty (grey); the
    millisecond order is not a clinical spread direction.

    Parameters
    ----------
    %(bursts)s
    synchronous : pandas.DataFrame
        Output of :func:`hfs_emg.detect_synchronous_bursts` (``event_id``, ``onset_s``,
        ``offset_s``, ``channels``, ``onset_order``).
    channels : pandas.DataFrame, optional
        ``rec.channels`` (name, muscle, side); inferred from the channel names otherwise.
    %(ax)s
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> rec = simulate_spontaneous(duration_s=20.0, sfreq=2000.0, seed=2).recording
    >>> bursts = hfs_emg.detect_bursts(rec)
    >>> sync = hfs_emg.detect_synchronous_bursts(bursts, channels=rec.channels)
    >>> fig = plot_synchrony_raster(bursts, sync, channels=rec.channels)
    >>> fig.axes[0].get_xlabel()
    'Onset after event onset (ms)'

    References
    ----------
    .. [1] Nielsen VK. Pathophysiology of hemifacial spasm: I. Ephaptic transmission and
       ectopic excitation. Neurology 1984;34:418-426.
    """
    _require(bursts, ["channel", "onset_s"], "bursts")
    _require(synchronous, ["event_id", "onset_s", "offset_s", "channels", "onset_order"], "sync")
    fig, ax = _new_axes(ax, (7.0, 4.5))
    onsets = _event_onsets(bursts, synchronous)
    names = _channel_order(sorted(set(onsets["channel"])), channels)
    ypos = {name: k for k, name in enumerate(names)}
    onsets["y"] = onsets["channel"].map(ypos)
    onsets = onsets.sort_values(["event_id", "y"])
    counts = _order_class(synchronous).value_counts()
    labelled: set[str] = set()
    for (_event, order), grp in onsets.groupby(["event_id", "order"], sort=False):
        color = _ORDER_COLORS.get(order, "k")
        label = None
        if order not in labelled:
            label = f"{order} (n={counts.get(order, 0)})"
            labelled.add(order)
        ax.plot(grp["delay_ms"], grp["y"], "-o", color=color, alpha=0.6, ms=4, lw=1, label=label)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)  # forehead on top
    ax.set_xlabel("Onset after event onset (ms)")
    ax.set_ylabel("Muscle (forehead → chin)")
    ax.set_title(title or f"{len(synchronous)} synchronous events")
    if labelled:
        ax.legend(fontsize=8, frameon=False, loc="best")
    _clean(ax)
    return fig


@renamed_kwarg("channels_info", "channels")
@fill_doc
def plot_burst_metrics(
    bursts: pd.DataFrame,
    *,
    metrics: tuple[str, ...] = ("duration_s", "discharge_hz"),
    channels: pd.DataFrame | None = None,
    axes: Any = None,
) -> Any:
    """Per-channel distributions of burst metrics (box + individual bursts).

    Parameters
    ----------
    %(bursts)s
    metrics : tuple of str
        Columns to draw, one axes each. Columns ending in ``_s`` are shown in ms.
    channels : pandas.DataFrame, optional
        Channel table, for anatomical ordering.
    axes : sequence of matplotlib.axes.Axes, optional
        One axes per metric; a new figure is made when omitted.

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> rec = simulate_spontaneous(duration_s=20.0, sfreq=2000.0, seed=2).recording
    >>> fig = plot_burst_metrics(hfs_emg.detect_bursts(rec))
    >>> [a.get_xlabel() for a in fig.axes]
    ['Burst duration (ms)', 'Discharge frequency (Hz)']
    """
    import matplotlib.pyplot as plt

    _require(bursts, ["channel", *metrics], "bursts")
    names = _channel_order(sorted(set(bursts["channel"])), channels)
    if axes is None:
        fig, axes = plt.subplots(
            1,
            len(metrics),
            figsize=(4.0 * len(metrics), 1.0 + 0.45 * max(len(names), 2)),
            layout="constrained",
            sharey=True,
            squeeze=False,
        )
        axes = axes[0]
    elif len(axes) != len(metrics):
        raise ParameterError(f"axes: need {len(metrics)} axes (one per metric), got {len(axes)}")
    fig = axes[0].figure
    pretty = {
        "duration_s": "Burst duration (ms)",
        "discharge_hz": "Discharge frequency (Hz)",
        "peak_uv": "Peak amplitude (µV)",
        "rms_uv": "RMS amplitude (µV)",
        "area_uv_s": "Area (µV·s)",
    }
    rng = np.random.default_rng(0)
    for ax, metric in zip(axes, metrics, strict=True):
        scale = 1e3 if metric.endswith("_s") and metric != "area_uv_s" else 1.0
        data = [
            bursts.loc[bursts["channel"] == n, metric].dropna().to_numpy() * scale for n in names
        ]
        pos = np.arange(len(names))
        box = {"positions": pos, "widths": 0.6, "showfliers": False}
        try:  # matplotlib >= 3.10
            ax.boxplot(data, orientation="horizontal", medianprops={"color": "k"}, **box)
        except TypeError:  # older matplotlib
            ax.boxplot(data, vert=False, medianprops={"color": "k"}, **box)
        for k, d in enumerate(data):
            ax.plot(
                d, k + rng.uniform(-0.15, 0.15, d.size), "o", ms=3, alpha=0.5, color="tab:orange"
            )
        ax.set_yticks(pos, names)
        ax.set_ylim(len(names) - 0.5, -0.5)
        if metric == "duration_s":
            ax.set_xscale("log")  # clonic (tens of ms) and tonic (seconds) bursts together
        unit = "ms" if scale == 1e3 else metric.rsplit("_", 1)[-1]
        ax.set_xlabel(pretty.get(metric, f"{metric} ({unit})"))
        _clean(ax)
    return fig


# --------------------------------------------------------------------------- evoked


@fill_doc
def plot_evoked(
    epochs: Epochs,
    responses: pd.DataFrame | None = None,
    *,
    channel: str | None = None,
    style: str = "superimposed",
    window_ms: tuple[float, float] | None = (6.0, 20.0),
    xlim_ms: tuple[float, float] | None = None,
    spacing_uv: float | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Clinical evoked-response display of one channel: superimposed or cascaded trials.

    Parameters
    ----------
    epochs : Epochs
        From :func:`hfs_emg.make_epochs`.
    responses : pandas.DataFrame, optional
        Per-trial table from :func:`hfs_emg.measure_lsr` or :func:`hfs_emg.measure_responses`
        (``channel``, ``stim_index`` or ``epoch``, ``latency_ms``, optional
        ``peak_latency_ms``); onsets (triangles) and peaks (dots) are marked on the traces.
    channel : str, optional
        Channel to draw (default: the first).
    style : {"superimposed", "cascade"}
        Overlay all trials, or stack them top (first) to bottom (last).
    window_ms : (float, float) or None
        Latency window shaded in grey (the LSR window by default).
    xlim_ms : (float, float), optional
        Displayed latency range (default: the whole epoch).
    spacing_uv : float, optional
        Vertical distance between cascaded traces (default: 0.7 x the 75th percentile of the
        trials' peak-to-peak amplitude).
    %(ax)s
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=6, sfreq=5000.0).recording
    >>> ep = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.04)
    >>> lsr = hfs_emg.measure_lsr(ep, stim_branch="zygomatic")
    >>> fig = plot_evoked(ep, lsr, channel=ep.ch_names[0], style="cascade")
    >>> fig.axes[0].get_xlabel()
    'Latency (ms)'

    References
    ----------
    .. [1] Møller AR, Jannetta PJ. Monitoring facial EMG responses during microvascular
       decompression operations for hemifacial spasm. J Neurosurg 1987;66:681-685.
    """
    check_option("style", style, ("superimposed", "cascade"))
    names = list(epochs.ch_names)
    channel = names[0] if channel is None else channel
    if channel not in names:
        raise ChannelError(f"channel {channel!r} is not in the epochs ({names})")
    k = names.index(channel)
    fig, ax = _new_axes(ax, (6.0, 4.5 if style == "superimposed" else 7.0))
    t_ms = epochs.times * 1e3
    y = epochs.data[:, k, :]
    n = y.shape[0]
    if style == "cascade":
        if spacing_uv is None:
            # most trials' responses fit between their neighbours
            spacing_uv = float(np.percentile(np.ptp(y, axis=1), 75)) * 0.7 or 1.0
        offsets = -np.arange(n) * spacing_uv
    else:
        offsets = np.zeros(n)
    traces = y + offsets[:, None]
    color = "k" if style == "cascade" else "0.2"
    alpha = 1.0 if style == "cascade" else max(0.15, min(1.0, 3.0 / n))
    absent = _absent_trials(epochs, responses, channel, n)
    if absent.any():  # absent trials in light grey, behind the present ones
        ax.plot(
            t_ms,
            traces[absent].T,
            color="0.78",
            lw=0.6,
            alpha=1.0 if style == "cascade" else max(0.3, alpha),
            zorder=1,
        )
        ax.plot([], [], color="0.78", lw=1.0, label=f"absent ({int(absent.sum())})")
    if (~absent).any():
        ax.plot(t_ms, traces[~absent].T, color=color, lw=0.6, alpha=alpha, zorder=2)
    if window_ms is not None:
        ax.axvspan(*window_ms, color="0.85", zorder=0, label="latency window")
    ax.axvline(0.0, color="tab:red", lw=0.8, ls="--", label="stimulus")
    if responses is not None and len(responses):
        _require(responses, ["channel", "latency_ms"], "responses")
        key, keys = _epoch_keys(epochs, responses)
        rows = responses[(responses["channel"] == channel) & responses["latency_ms"].notna()]
        pos = pd.Series(np.arange(n), index=keys)
        rows = rows[rows[key].isin(pos.index)]
        trial = pos.loc[rows[key]].to_numpy()
        for col, marker, label, mcolor in (
            ("latency_ms", "v", "onset", "tab:blue"),
            ("peak_latency_ms", "o", "peak", "tab:orange"),
        ):
            if col not in rows.columns:
                continue
            lat = rows[col].to_numpy(dtype=float)
            ok = np.isfinite(lat)
            idx = np.clip(np.searchsorted(t_ms, lat[ok]), 0, t_ms.size - 1)
            yy = traces[trial[ok], idx]
            ax.plot(lat[ok], yy, marker, ls="none", color=mcolor, ms=5, label=label, zorder=3)
    if xlim_ms is not None:
        ax.set_xlim(*xlim_ms)
    else:
        ax.set_xlim(t_ms[0], t_ms[-1])
    ax.set_xlabel("Latency (ms)")
    if style == "cascade":
        ax.set_ylabel(f"Trial (top = first; {spacing_uv:.3g} µV per trace)")
        ax.set_yticks([])
    else:
        ax.set_ylabel("Amplitude (µV)")
    ax.set_title(title or f"{channel}: {n} trials ({style})")
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    _clean(ax)
    return fig


def _absent_trials(
    epochs: Epochs, responses: pd.DataFrame | None, channel: str, n: int
) -> npt.NDArray[np.bool_]:
    """Trials whose response on ``channel`` the table marks ``present == False``."""
    out = np.zeros(n, dtype=bool)
    if responses is None or not len(responses) or "present" not in responses.columns:
        return out
    key, keys = _epoch_keys(epochs, responses)
    rows = responses[responses["channel"] == channel]
    absent = set(rows.loc[~rows["present"].astype(bool), key])
    return np.array([k in absent for k in keys], dtype=bool)


@fill_doc
def plot_lsr_trend(
    lsr: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    *,
    x: str = "stim_index",
    include_direct: bool = False,
    markers: pd.DataFrame | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Peak-to-peak LSR amplitude per channel across stimuli, with disappearance marked.

    Absent responses are drawn as hollow markers at 0 µV; each channel's disappearance
    (from :func:`hfs_emg.lsr_trend`) is a vertical dashed line in the channel's colour.

    Parameters
    ----------
    %(lsr)s
    %(lsr_trend)s
    x : {"stim_index", "stim_time_s", "minutes"}
        Horizontal axis: stimulus number, time (s), or minutes from the first stimulus.
    markers : pandas.DataFrame, optional
        Phase markers (``onset_s``, ``label``; e.g. dural opening, decompression), drawn as
        labelled vertical lines when ``x`` is a time.
    include_direct : bool
        Also draw the direct (stimulated-branch) responses.
    %(ax)s
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=30, disappearance_index=15, sfreq=5000.0).recording
    >>> lsr = hfs_emg.measure_lsr(rec)
    >>> fig = plot_lsr_trend(lsr, hfs_emg.lsr_trend(lsr, baseline_n=5, consecutive_absent=3))
    >>> fig.axes[0].get_ylabel()
    'LSR peak-to-peak (µV)'

    References
    ----------
    .. [1] Kong DS, et al. Prognostic value of the lateral spread response for intraoperative
       electromyography monitoring of the facial musculature during microvascular
       decompression for hemifacial spasm. J Neurosurg 2007;106:384-387.
    """
    check_option("x", x, ("stim_index", "stim_time_s", "minutes"))
    _require(lsr, ["channel", "present", "p2p_uv", "stim_time_s" if x == "minutes" else x], "lsr")
    fig, ax = _new_axes(ax, (8.0, 4.0))
    table = lsr if include_direct or "kind" not in lsr.columns else lsr[lsr["kind"] != "direct"]
    t0 = float(lsr["stim_time_s"].min()) if x == "minutes" else 0.0

    def _x(seconds: Any) -> Any:  # a time (s) on the horizontal axis
        return (np.asarray(seconds, dtype=float) - t0) / 60.0 if x == "minutes" else seconds

    if x == "minutes":
        table = table.assign(minutes=_x(table["stim_time_s"]))
    colors = {}
    for k, (channel, grp) in enumerate(table.groupby("channel", sort=False)):
        color = f"C{k % 10}"
        colors[channel] = color
        present = grp["present"].to_numpy(dtype=bool)
        p2p = np.where(present, grp["p2p_uv"].to_numpy(dtype=float), 0.0)
        xs = grp[x].to_numpy(dtype=float)
        ax.plot(xs, p2p, "-", color=color, lw=0.8, alpha=0.7)
        ax.plot(xs[present], p2p[present], "o", color=color, ms=3, label=channel)
        ax.plot(xs[~present], p2p[~present], "o", mfc="none", color=color, ms=3)
    if trend is not None and len(trend):
        col = "disappearance_stim_index" if x == "stim_index" else "disappearance_time_s"
        _require(trend, ["channel", col], "trend")
        for _, row in trend[trend[col].notna()].iterrows():  # one row per channel (+ overall)
            # a channel's own colour; the session-level "overall" row in black
            color = colors.get(row["channel"], "k")
            pos = float(row[col]) if x == "stim_index" else float(_x(row[col]))
            ax.axvline(pos, color=color, ls="--", lw=1.0)
        ax.plot([], [], "k--", lw=1.0, label="disappearance")
    if markers is not None and len(markers) and x != "stim_index":
        _require(markers, ["onset_s", "label"], "markers")
        for _, row in markers.iterrows():
            pos = float(_x(row["onset_s"]))
            ax.axvline(pos, color="0.4", ls=":", lw=1.0)
            ax.annotate(
                str(row["label"]),
                (pos, 1.0),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color="0.3",
            )
    xlabels = {
        "stim_index": "Stimulus #",
        "stim_time_s": "Time (s)",
        "minutes": "Minutes from the first stimulus",
    }
    ax.set_xlabel(xlabels[x])
    ax.set_ylabel("LSR peak-to-peak (µV)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "Lateral spread response across stimuli")
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    _clean(ax)
    return fig


@fill_doc
def plot_cmap(
    epochs: Epochs,
    cmap: pd.DataFrame | None = None,
    *,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Averaged CMAPs (M-waves) of each channel overlaid, onsets marked, side-to-side ratio shown.

    Parameters
    ----------
    epochs : Epochs
        Epochs around the facial-nerve stimuli.
    cmap : pandas.DataFrame, optional
        Output of :func:`hfs_emg.measure_cmap` (``channel``, ``latency_ms``, ``p2p_uv``,
        optional ``amplitude_ratio``).
    %(ax)s
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> rec = simulate_nerve_conduction(sfreq=10000.0).cmap
    >>> ep = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.03)
    >>> fig = plot_cmap(ep, hfs_emg.measure_cmap(ep))
    >>> fig.axes[0].get_xlabel()
    'Latency (ms)'

    References
    ----------
    .. [1] Esteban A, Molina-Negro P. Primary hemifacial spasm: a neurophysiological study.
       J Neurol Neurosurg Psychiatry 1986;49:58-63.
    """
    fig, ax = _new_axes(ax, (6.0, 4.0))
    evoked = epochs.average()
    t_ms = evoked.times * 1e3
    for k, name in enumerate(evoked.ch_names if hasattr(evoked, "ch_names") else epochs.ch_names):
        label = name
        if cmap is not None and name in set(cmap["channel"]):
            row = cmap[cmap["channel"] == name].iloc[0]
            label = f"{name}: {row['latency_ms']:.1f} ms, {row['p2p_uv']:.0f} µV"
        ax.plot(t_ms, evoked.data[k], lw=1.0, color=f"C{k}", label=label)
        if cmap is not None and name in set(cmap["channel"]):
            lat = float(row["latency_ms"])
            if np.isfinite(lat):
                i = int(np.clip(np.searchsorted(t_ms, lat), 0, t_ms.size - 1))
                ax.plot([lat], [evoked.data[k, i]], "v", color=f"C{k}", ms=7)
    ax.axvline(0.0, color="tab:red", lw=0.8, ls="--")
    ratio = ""
    if (
        cmap is not None
        and "amplitude_ratio" in cmap.columns
        and cmap["amplitude_ratio"].notna().any()
    ):
        ratio = f" (affected/healthy amplitude {cmap['amplitude_ratio'].dropna().iloc[0]:.2f})"
    ax.set_xlim(t_ms[0], t_ms[-1])
    ax.set_xlabel("Latency (ms)")
    ax.set_ylabel("Amplitude (µV)")
    ax.set_title(title or f"CMAP (M-wave){ratio}")
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    _clean(ax)
    return fig


@fill_doc
def plot_f_waves(
    epochs: Epochs,
    trials: pd.DataFrame | None = None,
    *,
    channel: str | None = None,
    f_window_ms: tuple[float, float] = (7.5, 30.0),
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Raster of F-wave trials (first on top), M-wave clipped, F latencies marked.

    The display gain is set from the F window so the small F-waves are visible; the large
    M-wave is clipped to the trace spacing, as on clinical EMG machines.

    Parameters
    ----------
    epochs : Epochs
        Epochs around the nerve stimuli (the F-wave sweeps).
    trials : pandas.DataFrame, optional
        Per-trial table ``measure_f_waves(...).trials`` (``stim_index``,
        ``channel``, ``present``, ``latency_ms``).
    channel : str, optional
        Default: the first channel.
    f_window_ms : (float, float)
        F-wave latency window, shaded.
    %(ax)s
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> rec = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=8).f_waves
    >>> ep = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.04)
    >>> trials = hfs_emg.measure_f_waves(ep).trials
    >>> fig = plot_f_waves(ep, trials)
    >>> fig.axes[0].get_xlabel()
    'Latency (ms)'

    References
    ----------
    .. [1] Ishikawa M, et al. Abnormal F waves in hemifacial spasm. J Neurol Sci 1996.
    """
    names = list(epochs.ch_names)
    channel = names[0] if channel is None else channel
    if channel not in names:
        raise ChannelError(f"channel {channel!r} is not in the epochs ({names})")
    k = names.index(channel)
    fig, ax = _new_axes(ax, (6.0, 7.0))
    t_ms = epochs.times * 1e3
    y = epochs.data[:, k, :]
    n = y.shape[0]
    in_f = (t_ms >= f_window_ms[0]) & (t_ms <= f_window_ms[1])
    gain = float(np.percentile(np.abs(y[:, in_f]), 99)) if in_f.any() else 1.0
    gain = gain or 1.0
    spacing = 2.0 * gain
    offsets = -np.arange(n) * spacing
    traces = np.clip(y, -spacing * 0.6, spacing * 0.6) + offsets[:, None]
    ax.plot(t_ms, traces.T, color="k", lw=0.6)
    ax.axvspan(*f_window_ms, color="0.9", zorder=0, label="F window")
    ax.axvline(0.0, color="tab:red", lw=0.8, ls="--", label="stimulus")
    if trials is not None and len(trials):
        _require(trials, ["channel", "latency_ms"], "trials")
        key, keys = _epoch_keys(epochs, trials)
        pos = pd.Series(np.arange(n), index=keys)
        rows = trials[(trials["channel"] == channel) & trials["latency_ms"].notna()]
        rows = rows[rows[key].isin(pos.index)]
        trial = pos.loc[rows[key]].to_numpy()
        lat = rows["latency_ms"].to_numpy(dtype=float)
        ax.plot(
            lat,
            offsets[trial] + 0.5 * spacing,
            "v",
            color="tab:blue",
            ms=5,
            ls="none",
            label="F latency",
        )
        if "m_latency_ms" in rows.columns:
            m = trials.loc[trials["channel"] == channel, "m_latency_ms"].median()
            if np.isfinite(m):
                ax.axvline(float(m), color="tab:green", lw=0.8, ls=":", label="M latency")
    ax.set_xlim(t_ms[0], t_ms[-1])
    ax.set_xlabel("Latency (ms)")
    ax.set_ylabel(f"Trial (top = first; {spacing:.3g} µV per trace)")
    ax.set_yticks([])
    ax.set_title(title or f"{channel}: F-waves, {n} stimuli")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _clean(ax)
    return fig


@fill_doc
def plot_blink_reflex(
    epochs: Epochs,
    blink: pd.DataFrame | None = None,
    *,
    stim_side: str | None = None,
    artifact_ms: float = 3.0,
    axes: Any = None,
    title: str | None = None,
) -> Any:
    """Blink reflex: superimposed trials of each channel for one stimulated side, R1/R2 marked.

    Parameters
    ----------
    epochs : Epochs
        Epochs around supraorbital stimuli (``epochs.events`` may carry a ``side`` column).
    blink : pandas.DataFrame, optional
        Summary from :func:`hfs_emg.measure_blink_reflex` (``stim_side``, ``channel``,
        ``component`` R1/R2, ``latency_ms``). Each component's mean onset latency is drawn
        as a vertical line labelled R1 / R2.
    stim_side : str, optional
        Stimulated side to draw (default: the first found in ``epochs.events['side']``).
    artifact_ms : float
        The vertical scale is set from the signal after this latency, so the stimulus
        artefact is clipped instead of flattening the reflex.
    axes : sequence of matplotlib.axes.Axes, optional
        One per channel.
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> rec = simulate_nerve_conduction(sfreq=10000.0, n_blink_stimuli=2).blink
    >>> ep = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.01, tmax=0.07)
    >>> fig = plot_blink_reflex(ep, hfs_emg.measure_blink_reflex(ep).summary)
    >>> fig.axes[-1].get_xlabel()
    'Latency (ms)'

    References
    ----------
    .. [1] Kimura J. Electrically elicited blink reflex in diagnosis of multiple sclerosis.
       Brain 1975;98:413-426.
    """
    import matplotlib.pyplot as plt

    ev = epochs.events
    sides = ev["side"] if "side" in ev.columns else pd.Series([None] * len(ev))
    if stim_side is None:
        stim_side = sides.dropna().iloc[0] if sides.notna().any() else None
    sel = (sides == stim_side).to_numpy() if stim_side is not None else np.ones(len(ev), bool)
    names = list(epochs.ch_names)
    if axes is None:
        fig, axes = plt.subplots(
            len(names),
            1,
            figsize=(6.0, 1.4 + 1.3 * len(names)),
            sharex=True,
            layout="constrained",
            squeeze=False,
        )
        axes = axes[:, 0]
    elif len(axes) != len(names):
        raise ParameterError(f"axes: need {len(names)} axes (one per channel), got {len(axes)}")
    fig = axes[0].figure
    t_ms = epochs.times * 1e3
    comp_colors = {"R1": "tab:blue", "R2": "tab:orange", "R2c": "tab:green"}
    for k, (ax, name) in enumerate(zip(axes, names, strict=True)):
        y = epochs.data[sel, k, :]
        ax.plot(t_ms, y.T, color="0.2", lw=0.5, alpha=max(0.2, min(1.0, 3.0 / max(len(y), 1))))
        ax.axvline(0.0, color="tab:red", lw=0.8, ls="--")
        if blink is not None and len(blink):
            _require(blink, ["channel", "component", "latency_ms"], "blink")
            rows = blink[blink["channel"] == name]
            if stim_side is not None and "stim_side" in rows.columns:
                rows = rows[rows["stim_side"] == stim_side]
            rows = rows[rows["latency_ms"].notna()]
            for comp, lat in zip(rows["component"], rows["latency_ms"], strict=True):
                color = comp_colors.get(comp, "k")
                ax.axvline(float(lat), color=color, lw=1.2, label=comp)
                ax.text(
                    float(lat),
                    1.0,
                    f" {comp}",
                    color=color,
                    fontsize=8,
                    transform=ax.get_xaxis_transform(),
                    va="top",
                )
        late = t_ms >= artifact_ms
        if late.any() and y.size:
            lim = 1.2 * float(np.abs(y[:, late]).max()) or 1.0
            ax.set_ylim(-lim, lim)  # the stimulus artefact is clipped, not the reflex
        ax.set_ylabel(f"{name}\n(µV)", fontsize=8)
        _clean(ax)
    axes[-1].set_xlabel("Latency (ms)")
    axes[-1].set_xlim(t_ms[0], t_ms[-1])
    axes[0].set_title(title or f"Blink reflex, stimulus {stim_side or ''} supraorbital".strip())
    return fig


# --------------------------------------------------------------------------- visits over time

#: Metrics drawn by :func:`plot_visits` by default, with their axis labels.
VISIT_METRICS: dict[str, str] = {
    "bursts_per_min": "Bursts (/min)",
    "burden_pct": "Burden (%)",
    "sync_fraction": "Synchronous\nfraction",
    "cmap_decrement_pct": "CMAP\ndecrement (%)",
    "f_duration_mean_ms": "F duration (ms)",
    "blink_synkinesis_ratio": "Blink\nsynkinesis ratio",
    "lsr_final_baseline_ratio": "LSR final /\nbaseline",
}


@fill_doc
def plot_visits(
    timeline: pd.DataFrame,
    *,
    metrics: list[str] | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Key metrics of a patient's visits over time, with toxin injections and MVD marked.

    One panel per metric (the :data:`VISIT_METRICS` the timeline holds values for, or
    ``metrics``), sharing the date axis. Botulinum-toxin injections are dashed green lines
    labelled with the dose, the MVD a solid red line; the LSR status of each visit that has one
    is written above the first panel.

    Parameters
    ----------
    timeline : pandas.DataFrame
        Output of :func:`hfs_emg.visits.patient_timeline`.
    metrics : list of str, optional
        Columns to draw (default: the :data:`VISIT_METRICS` with at least one value).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; then exactly one metric is drawn (the first one).
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import pandas as pd
    >>> tl = pd.DataFrame({"date": pd.to_datetime(["2024-01-15", "2024-02-22", "2024-06-13"]),
    ...                    "kind": ["toxin_injection", "follow_up", "follow_up"],
    ...                    "dose_units": [20.0, None, None],
    ...                    "cmap_decrement_pct": [0.0, 40.0, 8.0]})
    >>> fig = plot_visits(tl)
    >>> fig.axes[0].get_ylabel()
    'CMAP\\ndecrement (%)'
    """
    import matplotlib.pyplot as plt

    _require(timeline, ["date", "kind"], "timeline")
    if metrics is None:
        metrics = [
            m
            for m in VISIT_METRICS
            if m in timeline.columns and pd.to_numeric(timeline[m], errors="coerce").notna().any()
        ]
    else:
        _require(timeline, list(metrics), "timeline")
    if not metrics:
        raise ParameterError(
            f"timeline holds no value of the metrics {list(VISIT_METRICS)}; pass metrics=."
        )
    if ax is not None:
        metrics = list(metrics)[:1]
        fig, axes = ax.figure, [ax]
    else:
        fig, axes = plt.subplots(
            len(metrics),
            1,
            sharex=True,
            figsize=(8.0, 1.1 + 1.4 * len(metrics)),
            layout="constrained",
            squeeze=False,
        )
        axes = list(axes[:, 0])
    dates = pd.to_datetime(timeline["date"])
    kinds = timeline["kind"].astype(str).to_numpy()
    dose = timeline["dose_units"] if "dose_units" in timeline.columns else None
    for a, m in zip(axes, metrics, strict=True):  # one panel per metric
        y = pd.to_numeric(timeline[m], errors="coerce")
        a.plot(dates[y.notna()], y[y.notna()], "o-", color="tab:blue", ms=4, lw=1.2)
        for i in np.flatnonzero(kinds == "toxin_injection"):  # a handful of visits
            a.axvline(dates.iloc[i], color="tab:green", ls="--", lw=0.9)
        for i in np.flatnonzero(kinds == "intra_mvd"):
            a.axvline(dates.iloc[i], color="tab:red", lw=1.2)
        a.set_ylabel(VISIT_METRICS.get(m, m), fontsize=8)
        _clean(a)
    top = axes[0]
    for i in np.flatnonzero(kinds == "toxin_injection"):
        d = "" if dose is None or pd.isna(dose.iloc[i]) else f" {dose.iloc[i]:g} U"
        top.text(dates.iloc[i], 1.0, f"BTX{d}", color="tab:green", fontsize=7,
                 transform=top.get_xaxis_transform(), va="bottom", ha="center")  # fmt: skip
    for i in np.flatnonzero(kinds == "intra_mvd"):
        top.text(dates.iloc[i], 1.0, "MVD", color="tab:red", fontsize=7,
                 transform=top.get_xaxis_transform(), va="bottom", ha="center")  # fmt: skip
    if "lsr_status" in timeline.columns:
        for d, s in zip(dates, timeline["lsr_status"], strict=True):
            if isinstance(s, str):
                top.text(d, 0.92, f"LSR {s}", fontsize=6, rotation=90, va="top", ha="right",
                         transform=top.get_xaxis_transform(), color="0.3")  # fmt: skip
    axes[-1].set_xlabel("Visit date")
    if ax is None:
        fig.autofmt_xdate()
    top.set_title(title or "Visits", fontsize=10, loc="left", pad=14)
    return fig


# --------------------------------------------------------------------------- MVD course

_PHASE_COLORS = {
    "dura_opening": "#dbe9f6",
    "arachnoid_dissection": "#e5f5e0",
    "decompression": "#fde0c5",
    "dural_closure": "#e8e8e8",
}


def _phase_bands(ax: Any, onsets: dict[str, float], t0: float, t_end: float) -> None:
    """Shade each phase from its marker to the next one (x axis in minutes from ``t0``)."""
    items = sorted(onsets.items(), key=lambda kv: kv[1])
    for k, (phase, t) in enumerate(items):  # four phases at most
        stop = items[k + 1][1] if k + 1 < len(items) else max(t_end, t)
        ax.axvspan((t - t0) / 60.0, (stop - t0) / 60.0, color=_PHASE_COLORS[phase], lw=0, zorder=0)
        ax.text(
            (t - t0) / 60.0,
            0.98,
            " " + phase.replace("_", " "),
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            va="top",
            ha="left",
            color="0.3",
        )


def _presence_col(lsr: pd.DataFrame) -> str:
    return "match_present" if "match_present" in lsr.columns else "present"


def _montage_tables(
    lsr: pd.DataFrame, trend: pd.DataFrame | None, montage: Any
) -> list[tuple[Any, pd.DataFrame, pd.DataFrame | None]]:
    """(montage, its LSR rows, its trend rows) per montage to draw."""
    if "montage" not in lsr.columns:
        return [(None, lsr, trend)]
    names = [montage] if montage is not None else sorted(lsr["montage"].dropna().unique())
    out = []
    for m in names:  # one panel per montage
        sub = lsr[lsr["montage"] == m]
        if sub.empty:
            raise ParameterError(
                f"montage {m!r} not in lsr; montages: {sorted(lsr['montage'].unique())}"
            )
        tr = trend[trend["montage"] == m] if trend is not None and "montage" in trend else trend
        out.append((m, sub, tr))
    return out


def _draw_course(
    ax: Any,
    lsr: pd.DataFrame,
    trend: pd.DataFrame | None,
    onsets: dict[str, float],
    t0: float,
    value: str,
) -> None:
    """Amplitude (``value="p2p_uv"``) or latency (``"latency_ms"``) per channel over minutes."""
    pres_col = _presence_col(lsr) if value == "p2p_uv" else "present"
    table = lsr[lsr["kind"] != "direct"] if "kind" in lsr.columns else lsr
    if "rejected" in table.columns:
        table = table[~table["rejected"].to_numpy(bool)]
    t_end = float(lsr["stim_time_s"].max())
    _phase_bands(ax, onsets, t0, t_end)
    colors = {}
    for k, (channel, grp) in enumerate(table.groupby("channel", sort=True)):  # channels
        color = f"C{k % 10}"
        colors[channel] = color
        x = (grp["stim_time_s"].to_numpy(float) - t0) / 60.0
        present = grp[pres_col].fillna(False).to_numpy(bool)
        if value == "p2p_uv":
            y = np.where(present, grp["p2p_uv"].to_numpy(float), 0.0)
            ax.plot(x, y, "-", color=color, lw=0.6, alpha=0.6)
            ax.plot(x[~present], y[~present], "o", mfc="none", color=color, ms=2.5)
        else:
            y = grp["latency_ms"].to_numpy(float)
        ax.plot(x[present], y[present], "o", color=color, ms=2.5, label=channel)
    lost = (
        trend[trend["disappearance_time_s"].notna()]
        if trend is not None and "disappearance_time_s" in trend.columns
        else None
    )
    if lost is not None and len(lost):
        for _, row in lost.iterrows():  # per channel
            color = colors.get(row["channel"], "k")
            xl = (float(row["disappearance_time_s"]) - t0) / 60.0
            ax.axvline(xl, color=color, ls="--", lw=1.0)
            back = row.get("reappearance_time_s", np.nan)
            if pd.notna(back) and row["channel"] == "overall":
                ax.axvspan(
                    xl, (float(back) - t0) / 60.0, facecolor="none", edgecolor="0.5", hatch="//"
                )
            if row["channel"] == "overall" and value == "p2p_uv":
                what = str(row.get("status", "loss")).replace("_", " ")
                phase = str(row.get("loss_phase", "")).replace("_", " ")
                ax.annotate(
                    f"{what}\n{phase}".strip(),
                    (xl, 0.85),
                    xycoords=("data", "axes fraction"),
                    fontsize=7,
                    ha="left",
                    xytext=(3, 0),
                    textcoords="offset points",
                )
        ax.plot([], [], "k--", lw=1.0, label="loss")
    ax.set_xlabel("Time from first stimulus (min)")
    _clean(ax)


@fill_doc
def plot_mvd_trend(
    lsr: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    *,
    phases: Any = None,
    montage: Any = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """The LSR amplitude across an MVD against time, with the surgical phases and the loss.

    Each channel's peak-to-peak LSR is drawn per stimulus (absent responses as hollow markers at
    0 uV, presence as in :func:`hfs_emg.lsr_trend`), on a time axis in minutes from the first
    stimulus; each phase (from :func:`hfs_emg.phase_markers`) is a shaded band from its marker
    to the next; each loss of the trend is a dashed line in the channel's colour (the
    ``overall`` one in black, labelled with its status and loss phase) and a transient loss a
    hatched band up to the LSR's return. With a ``montage`` column, one panel per montage.

    Parameters
    ----------
    %(lsr)s
    %(lsr_trend)s
    %(phases)s
    montage : optional
        Draw only this montage (required with ``ax=`` when there are several).
    %(ax)s
    %(title)s

    %(returns_figure)s

    References
    ----------
    .. [1] Al Menabbawy A, et al. Acta Neurochir 2025 (phase of LSR loss).

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_mvd_lsr
    >>> sim = simulate_mvd_lsr(duration_s=60.0, phase_times_s={"dura_opening": 10.0,
    ...                        "decompression": 30.0, "dural_closure": 50.0})
    >>> lsr = hfs_emg.measure_lsr(sim.recording)
    >>> fig = plot_mvd_trend(lsr, hfs_emg.lsr_trend(lsr, phases=sim.phases), phases=sim.phases)
    >>> fig.axes[0].get_xlabel()
    'Time from first stimulus (min)'
    """
    import matplotlib.pyplot as plt

    from .phases import phase_onsets

    _require(lsr, ["stim_time_s", "channel", "present", "p2p_uv"], "lsr")
    onsets = phase_onsets(phases)
    panels = _montage_tables(lsr, trend, montage)
    if ax is not None and len(panels) > 1:
        raise ParameterError("lsr has several montages: pass montage= to draw one on ax=")
    if ax is None:
        fig, axes = plt.subplots(
            len(panels),
            1,
            figsize=(9.0, 3.2 * len(panels)),
            sharex=True,
            layout="constrained",
            squeeze=False,
        )
        axes = list(axes[:, 0])
    else:
        fig, axes = ax.figure, [ax]
    t0 = float(lsr["stim_time_s"].min())
    for a, (m, sub, tr) in zip(axes, panels, strict=True):
        _draw_course(a, sub, tr, onsets, t0, "p2p_uv")
        a.set_ylabel("LSR peak-to-peak (µV)")
        a.set_ylim(bottom=0)
        if m is not None:
            a.set_title(f"montage {m}", fontsize=9, loc="left")
        a.legend(fontsize=7, frameon=False, loc="upper right")
    if ax is None:
        fig.suptitle(title or "LSR across the operation")
    elif title:
        ax.set_title(title)
    return fig


@fill_doc
def plot_lsr_latency_trend(
    lsr: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    *,
    phases: Any = None,
    montage: Any = None,
    axes: Any = None,
    title: str | None = None,
) -> Any:
    """LSR amplitude trend (left) and onset-latency trend (right) side by side, with phases.

    The latency panel shows the onset latency of the responses the single-trial detector found
    (``present``), with each channel's baseline latency of the trend (``baseline_latency_ms``)
    as a dotted line; the amplitude panel is that of :func:`plot_mvd_trend`.

    Parameters
    ----------
    lsr : pandas.DataFrame
        Output of :func:`hfs_emg.measure_lsr` (needs ``latency_ms``).
    %(lsr_trend)s
    %(phases)s
    montage : optional
        Montage to draw when the table has several.
    axes : sequence of two matplotlib.axes.Axes, optional
        Axes for the amplitude (first) and latency (second) trends; a new figure is made when
        omitted.
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_mvd_lsr
    >>> sim = simulate_mvd_lsr(duration_s=40.0, phase_times_s={"decompression": 20.0})
    >>> lsr = hfs_emg.measure_lsr(sim.recording)
    >>> fig = plot_lsr_latency_trend(lsr, hfs_emg.lsr_trend(lsr), phases=sim.phases)
    >>> [a.get_ylabel() for a in fig.axes]
    ['LSR peak-to-peak (µV)', 'LSR onset latency (ms)']
    """
    import matplotlib.pyplot as plt

    from .phases import phase_onsets

    _require(lsr, ["stim_time_s", "channel", "present", "p2p_uv", "latency_ms"], "lsr")
    panels = _montage_tables(lsr, trend, montage)
    if len(panels) > 1:
        raise ParameterError("lsr has several montages: pass montage=")
    _, sub, tr = panels[0]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11.0, 3.6), layout="constrained")
    elif len(axes) != 2:
        raise ParameterError(f"axes: need 2 axes (amplitude, latency), got {len(axes)}")
    fig = axes[0].figure
    onsets = phase_onsets(phases)
    t0 = float(lsr["stim_time_s"].min())
    _draw_course(axes[0], sub, tr, onsets, t0, "p2p_uv")
    axes[0].set_ylabel("LSR peak-to-peak (µV)")
    axes[0].set_ylim(bottom=0)
    _draw_course(axes[1], sub, tr, onsets, t0, "latency_ms")
    axes[1].set_ylabel("LSR onset latency (ms)")
    if tr is not None and "baseline_latency_ms" in tr.columns:
        chans = sorted(
            sub.loc[
                sub.get("kind", pd.Series("lsr", index=sub.index)) != "direct", "channel"
            ].unique()
        )
        for k, ch in enumerate(chans):  # channels
            row = tr[tr["channel"] == ch]
            if len(row) and pd.notna(row["baseline_latency_ms"].iloc[0]):
                axes[1].axhline(
                    float(row["baseline_latency_ms"].iloc[0]), color=f"C{k % 10}", ls=":", lw=1.0
                )
    axes[0].legend(fontsize=7, frameon=False, loc="upper right")
    axes[0].set_title(title or "LSR amplitude and latency", fontsize=10, loc="left")
    return fig


@fill_doc
def plot_sweep_overlay(
    epochs: Epochs,
    *,
    channel: str,
    baseline: int | Any = 0,
    current: int = -1,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """The baseline sweep overlaid on the current one, as on an IONM display.

    Parameters
    ----------
    epochs : Epochs
        Stimulus-locked sweeps (artefact suppressed), e.g. from :func:`hfs_emg.make_epochs`.
    channel : str
        Channel to draw.
    baseline : int or sequence of int
        Position(s) of the baseline sweep(s) among the epochs; several are averaged.
    current : int
        Position of the current sweep (default the last).
    %(ax)s
    %(title)s

    %(returns_figure)s

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=10, sfreq=5000.0, disappearance_index=5).recording
    >>> ev = hfs_emg.find_stim_events(rec)
    >>> ep = hfs_emg.make_epochs(hfs_emg.blank_stimulus_artifact(rec, ev), ev)
    >>> fig = plot_sweep_overlay(ep, channel="mentalis_L", baseline=[0, 1, 2])
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['baseline (mean of 3)', 'current (#9)']
    """
    if channel not in epochs.ch_names:
        raise ChannelError(f"channel {channel!r} not in the epochs; channels: {epochs.ch_names}")
    c = epochs.ch_names.index(channel)
    n = epochs.n_epochs
    base = np.atleast_1d(np.asarray(baseline, dtype=int))
    if base.size == 0 or np.any((base < -n) | (base >= n)) or not -n <= int(current) < n:
        raise ParameterError(f"baseline/current must be epoch positions in [-{n}, {n}).")
    fig, ax = _new_axes(ax, (6.0, 3.5))
    t_ms = epochs.times * 1e3
    ref = epochs.data[base, c, :].mean(axis=0)
    cur = epochs.data[int(current), c, :]
    stim = epochs.events["stim_index"].to_numpy() if "stim_index" in epochs.events else np.arange(n)
    label = f"baseline (mean of {base.size})" if base.size > 1 else f"baseline (#{stim[base[0]]})"
    ax.plot(t_ms, ref, color="0.6", lw=2.0, label=label)
    ax.plot(t_ms, cur, color="k", lw=0.9, label=f"current (#{stim[int(current)]})")
    ax.axvline(0.0, color="tab:red", lw=0.8, ls="--")
    late = t_ms >= 4.0
    if late.any():
        lim = 1.2 * float(max(np.abs(ref[late]).max(), np.abs(cur[late]).max())) or 1.0
        ax.set_ylim(-lim, lim)  # the stimulus artefact is clipped, not the response
    ax.set_xlabel("Latency (ms)")
    ax.set_ylabel(f"{channel} (µV)")
    ax.set_title(title or f"{channel}: baseline vs current sweep")
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    _clean(ax)
    return fig


# --------------------------------------------------------------------------- other MVD modalities


@fill_doc
def plot_zl_trend(
    zl: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    *,
    phases: Any = None,
    montage: Any = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """The Z-L response amplitude across an MVD, with the surgical phases and its loss.

    :func:`plot_mvd_trend` on the Z-L table (one panel per stimulated vessel).

    Parameters
    ----------
    zl : pandas.DataFrame
        Output of :func:`hfs_emg.measure_zl_response`.
    trend : pandas.DataFrame, optional
        Output of :func:`hfs_emg.zl_trend`.
    %(phases)s
    montage : optional
        Draw only this vessel.
    %(ax)s
    %(title)s

    %(returns_figure)s

    References
    ----------
    .. [1] Zheng X, et al. Discovery of a new waveform for intraoperative monitoring of
       hemifacial spasms (Z-L response; usually cited as BMC Neurol 2012;12:29).

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_zl_response
    >>> sim = simulate_zl_response(duration_s=40.0, seed=1)
    >>> zl = hfs_emg.measure_zl_response(sim.recording)
    >>> fig = plot_zl_trend(zl, hfs_emg.zl_trend(zl, phases=sim.phases), phases=sim.phases)
    >>> fig.axes[0].get_ylabel()
    'Z-L response peak-to-peak (µV)'
    """
    fig = plot_mvd_trend(zl, trend, phases=phases, montage=montage, ax=ax, title=title)
    for a in fig.axes:
        a.set_ylabel("Z-L response peak-to-peak (µV)")
    if ax is None:
        fig.suptitle(title or "Z-L response across the operation")
    return fig


@fill_doc
def plot_fmep_trend(
    fmep: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    *,
    phases: Any = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Facial-MEP amplitude per train and muscle across the operation, final/baseline in %.

    Each channel's peak-to-peak FMEP per train (absent ones hollow at 0 uV) against minutes
    from the first train, with the surgical phases shaded; the legend gives each channel's
    final/baseline ratio of :func:`hfs_emg.fmep_trend` (Fukuda et al. 2010).

    Parameters
    ----------
    fmep : pandas.DataFrame
        Output of :func:`hfs_emg.measure_fmep`.
    trend : pandas.DataFrame, optional
        Output of :func:`hfs_emg.fmep_trend`.
    %(phases)s
    %(ax)s
    %(title)s

    %(returns_figure)s

    References
    ----------
    .. [1] Fukuda M, et al. J Neurol Neurosurg Psychiatry 2010;81:519-523.

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_fmep
    >>> times = {"dura_opening": 5.0, "decompression": 20.0, "dural_closure": 35.0}
    >>> sim = simulate_fmep(duration_s=40.0, phase_times_s=times)
    >>> fmep = hfs_emg.measure_fmep(sim.recording)
    >>> fig = plot_fmep_trend(fmep, hfs_emg.fmep_trend(fmep, phases=sim.phases), phases=times)
    >>> fig.axes[0].get_ylabel()
    'FMEP peak-to-peak (µV)'
    """
    from .phases import phase_onsets

    _require(fmep, ["stim_time_s", "channel", "present", "p2p_uv"], "fmep")
    fig, ax = _new_axes(ax, (9.0, 3.4))
    table = fmep.drop(columns=[c for c in ("kind", "match_present") if c in fmep.columns])
    t0 = float(table["stim_time_s"].min())
    _draw_course(ax, table, None, phase_onsets(phases), t0, "p2p_uv")
    if trend is not None and {"channel", "final_over_baseline_pct"} <= set(trend.columns):
        pct = trend.set_index("channel")["final_over_baseline_pct"]
        for line in ax.get_lines():
            lab = line.get_label()
            if lab in pct.index and np.isfinite(pct[lab]):
                line.set_label(f"{lab} (final/baseline {pct[lab]:.0f} %)")
    ax.set_xlabel("Time from first train (min)")
    ax.set_ylabel("FMEP peak-to-peak (µV)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    ax.set_title(title or "Facial MEP across the operation", fontsize=10, loc="left")
    return fig


_TRAIN_COLORS = {"A": "tab:red", "B": "tab:blue", "C": "tab:gray"}


@fill_doc
def plot_train_timeline(
    trains: pd.DataFrame,
    *,
    train_time: pd.DataFrame | None = None,
    phases: Any = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Free-running EMG trains per channel on a time line (A red, B blue, C grey).

    Each train is a bar from its onset to its offset on its channel's row; the row label gives
    the channel's A-train time (Prell et al. 2007) when ``train_time`` is given; phases shaded.

    Parameters
    ----------
    trains : pandas.DataFrame
        Output of :func:`hfs_emg.classify_trains` (``channel``, ``train_type``, ``onset_s``,
        ``offset_s``).
    train_time : pandas.DataFrame, optional
        Output of :func:`hfs_emg.train_time`.
    %(phases)s
    %(ax)s
    %(title)s

    %(returns_figure)s

    References
    ----------
    .. [1] Romstöck J, Strauss C, Fahlbusch R. J Neurosurg 2000;93:586-593.
    .. [2] Prell J, et al. J Neurosurg 2007;106:826-832.

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_free_running
    >>> sim = simulate_free_running(duration_s=20.0, n_a_trains=1, n_b_trains=2, n_c_trains=1)
    >>> tr = hfs_emg.classify_trains(sim.recording)
    >>> fig = plot_train_timeline(tr, train_time=hfs_emg.train_time(tr))
    >>> fig.axes[0].get_xlabel()
    'Time (min)'
    """
    from .phases import phase_onsets

    _require(trains, ["channel", "train_type", "onset_s", "offset_s"], "trains")
    chans = list(dict.fromkeys(trains["channel"]))
    if train_time is not None and "channel" in train_time.columns:
        chans = list(dict.fromkeys([*train_time["channel"], *chans]))
    fig, ax = _new_axes(ax, (9.0, 0.6 * max(len(chans), 1) + 1.4))
    onsets = phase_onsets(phases)
    t_end = float(trains["offset_s"].max()) if len(trains) else 1.0
    if onsets:
        _phase_bands(ax, onsets, 0.0, t_end)
    row = {c: i for i, c in enumerate(chans)}
    for kind, grp in trains.groupby("train_type", sort=True):  # three types
        y = grp["channel"].map(row).to_numpy(float)
        on = grp["onset_s"].to_numpy(float) / 60.0
        width = np.maximum((grp["offset_s"] - grp["onset_s"]).to_numpy(float) / 60.0, 1e-4)
        ax.barh(
            y,
            width,
            left=on,
            height=0.6,
            color=_TRAIN_COLORS.get(str(kind), "k"),
            label=f"{kind}-trains",
        )
    labels = list(chans)
    if train_time is not None and {"channel", "train_time_s"} <= set(train_time.columns):
        tt = train_time.set_index("channel")["train_time_s"]
        labels = [f"{c}\nA-train time {tt.get(c, 0.0):.2f} s" for c in chans]
    ax.set_yticks(range(len(chans)), labels, fontsize=7)
    ax.set_ylim(-0.7, len(chans) - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(left=0.0)
    ax.set_xlabel("Time (min)")
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    ax.set_title(title or "Free-running EMG trains", fontsize=10, loc="left")
    _clean(ax)
    return fig


@fill_doc
def plot_lsr_morphology(
    morph: pd.DataFrame,
    *,
    phases: Any = None,
    axes: Any = None,
    title: str | None = None,
) -> Any:
    """Phases per LSR sweep (left) and afterdischarge duration (right) across the operation.

    Only the measured sweeps (``measured``) are drawn, per channel, against minutes from the
    first stimulus, with the surgical phases shaded; the dotted line on the left is the
    polyphasic cut of :func:`hfs_emg.lsr_morphology` when the table says it (5 phases).

    Parameters
    ----------
    morph : pandas.DataFrame
        Output of :func:`hfs_emg.lsr_morphology` (``level == "sweep"``).
    %(phases)s
    axes : two matplotlib axes, optional
        Axes for the number of phases (first) and the afterdischarge duration (second); a new
        figure is made when omitted.
    %(title)s

    %(returns_figure)s

    References
    ----------
    .. [1] Neurol Med Chir (Tokyo) 2022;62:513-520 (polyphasic AMR and delayed relief).
    .. [2] Ishikawa M, et al. J Neurol Sci 1996;137:109-116 (afterdischarge).

    Examples
    --------
    >>> import hfs_emg
    >>> from hfs_emg.simulate import simulate_lsr_morphology
    >>> sim = simulate_lsr_morphology(n_stimuli=10)
    >>> fig = plot_lsr_morphology(hfs_emg.lsr_morphology(sim.recording))
    >>> fig.axes[0].get_ylabel()
    'Phases of the initial LSR'
    """
    import matplotlib.pyplot as plt

    from .phases import phase_onsets

    _require(morph, ["stim_time_s", "channel", "measured", "n_phases"], "morph")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11.0, 3.4), layout="constrained")
    else:
        fig = axes[0].figure
    onsets = phase_onsets(phases)
    table = morph[morph["measured"].to_numpy(bool)]
    t0 = float(morph["stim_time_s"].min()) if len(morph) else 0.0
    t_end = float(morph["stim_time_s"].max()) if len(morph) else 1.0
    for a, col, label in (
        (axes[0], "n_phases", "Phases of the initial LSR"),
        (axes[1], "afterdischarge_duration_ms", "Afterdischarge (ms)"),
    ):
        if onsets:
            _phase_bands(a, onsets, t0, t_end)
        for k, (ch, grp) in enumerate(table.groupby("channel", sort=True)):  # channels
            x = (grp["stim_time_s"].to_numpy(float) - t0) / 60.0
            a.plot(x, grp[col].to_numpy(float), "o", ms=2.5, color=f"C{k % 10}", label=ch)
        a.set_xlabel("Time from first stimulus (min)")
        a.set_ylabel(label)
        _clean(a)
    axes[0].axhline(5, color="0.4", ls=":", lw=0.8)
    axes[0].set_ylim(bottom=0)
    axes[1].set_ylim(bottom=0)
    axes[0].legend(fontsize=7, frameon=False, loc="upper right")
    fig.suptitle(title or "LSR morphology across the operation")
    return fig
