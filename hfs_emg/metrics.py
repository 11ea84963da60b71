"""Summary metrics of spontaneous HFS EMG: burst rate, burden, duration, discharge, synchrony.

:func:`summarize` turns a burst table (:func:`hfs_emg.detection.detect_bursts`) and, optionally,
its synchronous events (:func:`hfs_emg.synchrony.detect_synchronous_bursts`) into three tidy
tables: one row per channel, one row per recording side, one row for the recording.

References
----------
.. [1] Nielsen VK. Pathophysiology of hemifacial spasm. Neurology 1984;34:418-426.
.. [2] Prell J, Rampp S, Romstöck J, Fahlbusch R, Strauss C. Train time as a quantitative
       electromyographic parameter for facial nerve function. J Neurosurg 2007;106:826-832
       (summed activity duration as a burden measure).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ._errors import DataError, ParameterError
from ._validate import check_positive, validate_type
from .anatomy import infer_side

__all__ = ["SpontaneousSummary", "burst_event_ids", "summarize"]


@dataclasses.dataclass(frozen=True, repr=False)
class SpontaneousSummary:
    """Result of :func:`summarize`.

    Attributes
    ----------
    channels : pandas.DataFrame
        One row per channel: ``channel``, ``side``, ``n_bursts``, ``bursts_per_min``,
        ``burden_pct`` (percent of time in bursts), ``duration_median_ms``,
        ``duration_iqr_ms``, ``discharge_hz_median``, ``tonic_fraction``, ``sync_fraction``
        (share of the channel's bursts inside synchronous events), ``lead_fraction`` (share of
        the events it joins that it leads with a resolved onset order, i.e. whose
        ``lead_muscle`` is neither ``"simultaneous"`` nor ``"tied"``), and per pattern
        (isolated discharges, clonic bursts, tonic spasms) ``n_isolated``, ``n_clonic``,
        ``n_tonic`` and ``isolated_per_min``, ``clonic_per_min``, ``tonic_per_min``.
    sides : pandas.DataFrame
        One row per side (``left``/``right``/``unknown``): ``n_channels``, ``n_bursts``,
        ``bursts_per_min`` (per channel, mean), ``burden_pct`` (mean), ``discharge_hz_median``.
    recording : pandas.DataFrame
        One row: ``duration_s``, ``n_channels``, ``n_bursts``, ``bursts_per_min`` (all
        channels), ``n_sync_events``, ``sync_events_per_min``, ``sync_fraction``,
        ``spread_ms_median``, ``ordered_fraction`` (share of events given a resolved onset
        order), ``lead_muscle`` (most frequent lead muscle of those events, None if none),
        the per-pattern counts and rates as above, ``affected_side``, ``side_asymmetry``
        ((L - R) / (L + R) of the per-channel burst rate; NaN unless both sides were recorded)
        and ``course`` (typical / atypical HFS as given by the caller from the clinical
        history; never inferred from millisecond onset lags).
    """

    channels: pd.DataFrame
    sides: pd.DataFrame
    recording: pd.DataFrame

    def __repr__(self) -> str:
        r = self.recording.iloc[0]
        return (
            f"<SpontaneousSummary | {int(r['n_channels'])} ch, {int(r['n_bursts'])} bursts, "
            f"{r['bursts_per_min']:.3g}/min, {int(r['n_sync_events'])} synchronous events>"
        )


def burst_event_ids(bursts: pd.DataFrame, synchronous: pd.DataFrame) -> np.ndarray:
    """Event id of every burst (-1 outside synchronous events), matched by channel and onset.

    A burst belongs to an event when its channel is listed in the event's ``channels`` and its
    onset lies between the event onset and onset + ``spread_ms`` (the first burst of each
    channel in the event).

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"channel": ["a", "b", "a"], "onset_s": [1.0, 1.01, 3.0]})
    >>> ev = pd.DataFrame({"event_id": [0], "onset_s": [1.0], "channels": ["a,b"],
    ...                    "spread_ms": [10.0]})
    >>> burst_event_ids(b, ev).tolist()
    [0, 0, -1]
    """
    out = np.full(len(bursts), -1, dtype=np.int64)
    if synchronous is None or synchronous.empty or bursts.empty:
        return out
    ev = synchronous[["event_id", "onset_s", "channels", "spread_ms"]].copy()
    ev["channel"] = ev["channels"].str.split(",")
    ev = ev.explode("channel").rename(columns={"onset_s": "ev_onset"})
    b = bursts[["channel", "onset_s"]].reset_index(drop=True)
    b["row"] = np.arange(len(b))
    m = b.merge(ev[["event_id", "ev_onset", "spread_ms", "channel"]], on="channel")
    eps = 1e-9
    inside = (m["onset_s"] >= m["ev_onset"] - eps) & (
        m["onset_s"] <= m["ev_onset"] + m["spread_ms"] / 1000.0 + eps
    )
    m = m[inside].drop_duplicates(["event_id", "channel"])
    out[m["row"].to_numpy()] = m["event_id"].to_numpy()
    return out


def _resolved(events: pd.DataFrame) -> pd.Series:
    """Whether each event has a resolved lead (an onset order with one first muscle)."""
    if "lead_muscle" not in events.columns:
        return pd.Series(False, index=events.index)
    lead = events["lead_muscle"].astype(object)
    return lead.notna() & ~lead.isin(["simultaneous", "tied", "undetermined"])


def _mode(values: pd.Series) -> str | None:
    counts = values.value_counts()
    return None if counts.empty else str(counts.index[0])


def summarize(
    bursts: pd.DataFrame,
    synchronous: pd.DataFrame | None = None,
    *,
    duration_s: float | None = None,
    channels: list[str] | pd.DataFrame | None = None,
    course: str | None = None,
) -> SpontaneousSummary:
    """Per-channel, per-side and per-recording summary of spontaneous bursts.

    Parameters
    ----------
    bursts : pandas.DataFrame
        Burst table with ``channel``, ``onset_s``, ``duration_s`` (and ``discharge_hz``,
        ``kind`` when available). An ``event_id`` column (as in simulator ground truth) is used
        as the synchronous-event membership; otherwise membership comes from ``synchronous``.
    synchronous : pandas.DataFrame, optional
        Synchronous events (:func:`hfs_emg.synchrony.detect_synchronous_bursts`).
    duration_s : float, optional
        Analysed duration in seconds; defaults to ``bursts.attrs["duration_s"]`` (set by
        :func:`hfs_emg.detection.detect_bursts`).
    channels : list of str or pandas.DataFrame, optional
        Channels to report, including silent ones (a list of names, or a channels table with
        ``name`` and ``side``, e.g. ``rec.channels``). Default: ``bursts.attrs["channels"]`` or
        the channels present in ``bursts``.
    course : {"typical", "atypical"} or None
        Clinical course from the history (typical: orbicularis oculi first, spreading down over
        months to years; atypical: lower face first; Conte 2015, Ryu 1998), passed through to
        ``recording["course"]``. The EMG cannot tell it: a spasm's millisecond onset order is
        a different quantity.

    Returns
    -------
    SpontaneousSummary
        ``.channels``, ``.sides`` and ``.recording`` tables.

    References
    ----------
    .. [1] Nielsen VK. Neurology 1984;34:418-426.
    .. [2] Conte A et al. Mov Disord Clin Pract 2015;2:53-55 (spread over the disease course).

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"channel": ["oculi_L", "oris_L", "oculi_L"],
    ...                   "onset_s": [1.0, 1.01, 20.0], "offset_s": [1.1, 1.1, 20.6],
    ...                   "duration_s": [0.1, 0.09, 0.6], "discharge_hz": [250.0, 250.0, 300.0],
    ...                   "kind": ["clonic", "clonic", "tonic"]})
    >>> from hfs_emg.synchrony import detect_synchronous_bursts
    >>> s = summarize(b, detect_synchronous_bursts(b), duration_s=60.0)
    >>> s.channels[["channel", "n_bursts", "bursts_per_min", "sync_fraction"]]
       channel  n_bursts  bursts_per_min  sync_fraction
    0  oculi_L         2             2.0            0.5
    1   oris_L         1             1.0            1.0
    """
    validate_type(bursts, pd.DataFrame, "bursts")
    missing = [c for c in ("channel", "onset_s", "duration_s") if c not in bursts.columns]
    if missing:
        raise DataError(f"bursts lacks column(s) {missing}; it has {list(bursts.columns)}.")
    if duration_s is None:
        duration_s = bursts.attrs.get("duration_s")
        if duration_s is None:
            raise ParameterError(
                "duration_s is required (the bursts table carries no attrs['duration_s'])."
            )
    duration_s = check_positive(duration_s, "duration_s")
    minutes = duration_s / 60.0
    if course not in (None, "typical", "atypical"):
        raise ParameterError(f"course must be 'typical', 'atypical' or None, got {course!r}.")

    side_of: dict[str, str | None] = {}
    if isinstance(channels, pd.DataFrame):
        if "name" not in channels.columns:
            raise DataError("A channels table needs a 'name' column.")
        names = [str(n) for n in channels["name"]]
        if "side" in channels.columns:
            side_of = dict(zip(names, channels["side"], strict=True))
    elif channels is not None:
        names = [str(n) for n in channels]
    else:
        names = list(bursts.attrs.get("channels") or dict.fromkeys(bursts["channel"]))
    extra = [c for c in dict.fromkeys(bursts["channel"]) if c not in names]
    if extra:
        raise DataError(f"bursts has channel(s) {extra} missing from channels={names}.")
    sides = [side_of.get(n) or infer_side(n) or "unknown" for n in names]

    b = bursts.copy()
    if "event_id" in b.columns:
        b["event_id"] = b["event_id"].fillna(-1).astype(int)
    else:
        b["event_id"] = burst_event_ids(b, synchronous)
    for col in ("discharge_hz",):
        if col not in b.columns:
            b[col] = np.nan
    if "kind" not in b.columns:
        b["kind"] = np.where(b["duration_s"] >= 0.5, "tonic", "clonic")
    if "pattern" not in b.columns:
        b["pattern"] = b["kind"]
    for pat in ("isolated", "clonic", "tonic"):
        b[f"is_{pat}"] = b["pattern"] == pat
    b["in_sync"] = b["event_id"] >= 0
    b["tonic"] = b["kind"] == "tonic"
    b["dur_ms"] = b["duration_s"] * 1000.0

    g = b.groupby("channel", sort=False)
    per = pd.DataFrame(
        {
            "n_bursts": g.size(),
            "burden_pct": g["duration_s"].sum() / duration_s * 100.0,
            "duration_median_ms": g["dur_ms"].median(),
            "duration_iqr_ms": g["dur_ms"].quantile(0.75) - g["dur_ms"].quantile(0.25),
            "discharge_hz_median": g["discharge_hz"].median(),
            "tonic_fraction": g["tonic"].mean(),
            "sync_fraction": g["in_sync"].mean(),
            **{f"n_{pat}": g[f"is_{pat}"].sum() for pat in ("isolated", "clonic", "tonic")},
        }
    )
    # synchrony per channel: the events it joins that it leads with a resolved order
    lead = pd.Series(dtype=float)
    if synchronous is not None and not synchronous.empty:
        ev = synchronous.set_index("event_id")
        mem = b.loc[b["in_sync"], ["channel", "event_id"]].drop_duplicates()
        mem = mem[mem["event_id"].isin(ev.index)]
        resolved = _resolved(ev).reindex(mem["event_id"]).to_numpy()
        mem["lead"] = (
            ev.loc[mem["event_id"], "lead_channel"].to_numpy() == mem["channel"]
        ) & resolved
        lead = mem.groupby("channel")["lead"].mean()
    per["lead_fraction"] = lead
    per = per.reindex(names)
    for pat in ("isolated", "clonic", "tonic"):
        per[f"n_{pat}"] = per[f"n_{pat}"].fillna(0).astype(int)
        per[f"{pat}_per_min"] = per[f"n_{pat}"] / minutes
    per["n_bursts"] = per["n_bursts"].fillna(0).astype(int)
    per["burden_pct"] = per["burden_pct"].fillna(0.0)
    per["bursts_per_min"] = per["n_bursts"] / minutes
    per.insert(0, "side", sides)
    per = per.rename_axis("channel").reset_index()
    cols = [
        "channel",
        "side",
        "n_bursts",
        "bursts_per_min",
        "burden_pct",
        "duration_median_ms",
        "duration_iqr_ms",
        "discharge_hz_median",
        "tonic_fraction",
        "sync_fraction",
        "lead_fraction",
        "n_isolated",
        "n_clonic",
        "n_tonic",
        "isolated_per_min",
        "clonic_per_min",
        "tonic_per_min",
    ]
    per = per[cols]

    b["side"] = b["channel"].map(dict(zip(names, sides, strict=True)))
    gs = per.groupby("side", sort=True)
    side_tab = pd.DataFrame(
        {
            "n_channels": gs.size(),
            "n_bursts": gs["n_bursts"].sum(),
            "bursts_per_min": gs["bursts_per_min"].mean(),
            "burden_pct": gs["burden_pct"].mean(),
            "discharge_hz_median": b.groupby("side")["discharge_hz"].median(),
        }
    )
    side_tab["n_bursts"] = side_tab["n_bursts"].fillna(0).astype(int)
    side_tab = side_tab.dropna(subset=["n_channels"]).rename_axis("side").reset_index()

    rate = side_tab.set_index("side")["bursts_per_min"]
    asym = np.nan
    affected = None
    if {"left", "right"} <= set(rate.index):
        total = rate["left"] + rate["right"]
        asym = (rate["left"] - rate["right"]) / total if total > 0 else np.nan
        if total > 0 and rate["left"] != rate["right"]:
            affected = "left" if rate["left"] > rate["right"] else "right"
    elif len(rate) == 1 and rate.index[0] != "unknown" and rate.iloc[0] > 0:
        affected = str(rate.index[0])
    n_ev = 0 if synchronous is None else len(synchronous)
    rec = {
        "duration_s": duration_s,
        "n_channels": len(names),
        "n_bursts": len(b),
        "bursts_per_min": len(b) / minutes,
        "n_sync_events": n_ev,
        "sync_events_per_min": n_ev / minutes,
        "sync_fraction": float(b["in_sync"].mean()) if len(b) else np.nan,
        "spread_ms_median": (
            float(synchronous["spread_ms"].median()) if n_ev else np.nan  # type: ignore[index]
        ),
        "ordered_fraction": float(_resolved(synchronous).mean()) if n_ev else np.nan,  # type: ignore[arg-type]
        "lead_muscle": (
            _mode(synchronous.loc[_resolved(synchronous).to_numpy(), "lead_muscle"])  # type: ignore[union-attr]
            if n_ev
            else None
        ),
        **{f"n_{pat}": int(b[f"is_{pat}"].sum()) for pat in ("isolated", "clonic", "tonic")},
        **{
            f"{pat}_per_min": float(b[f"is_{pat}"].sum()) / minutes
            for pat in ("isolated", "clonic", "tonic")
        },
        "affected_side": affected,
        "side_asymmetry": asym,
        "course": course,
    }
    return SpontaneousSummary(per, side_tab, pd.DataFrame([rec]))
