"""A patient's visits over time: one tidy table of key metrics per visit.

Hemifacial spasm is followed over months to years: botulinum-toxin cycles (the injected
orbicularis oculi CMAP falls by about 40 % at 38 days and recovers; Glocker 1995), the decision
for microvascular decompression (MVD), the intra-operative lateral spread response (LSR), and
the follow-up after MVD, where the spasm and the LSR may resolve only after weeks or months
(Ishikawa 2001; the LSR at one month is prognostic, Neurosurgery 2022;91:159).
:func:`patient_timeline` gathers the analyses of every visit (each an
:class:`~hfs_emg.AnalysisResult`, a dict of result tables such as the one
:func:`hfs_emg.report` returns, or a list of those) with the visit's date and kind into one row
per visit. :func:`read_sessions_tsv` reads the visit metadata of a BIDS subject's
``sessions.tsv``; :func:`hfs_emg.bids.bids_timeline` analyses a BIDS dataset with sessions and
builds the timeline.

This module reads result tables only; it runs no analysis and imports no batch or CLI code.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ParameterError
from ._validate import check_option

__all__ = [
    "TIMELINE_COLUMNS",
    "VISIT_KINDS",
    "Visit",
    "patient_timeline",
    "read_sessions_tsv",
    "visit_metrics",
]

#: Kinds of visit, in their usual order of care.
VISIT_KINDS: tuple[str, ...] = (
    "baseline",
    "toxin_injection",
    "pre_mvd",
    "intra_mvd",
    "follow_up",
)

#: Metric columns of :func:`patient_timeline` (after the visit metadata).
TIMELINE_COLUMNS: tuple[str, ...] = (
    "bursts_per_min",
    "burden_pct",
    "sync_fraction",
    "n_sync_events",
    "cmap_amplitude_ratio",
    "cmap_decrement_pct",
    "cmap_context",
    "f_duration_mean_ms",
    "f_persistence_pct",
    "f_m_ratio_pct",
    "blink_r2_area_uv_ms",
    "blink_synkinesis_ratio",
    "lsr_status",
    "lsr_final_baseline_ratio",
)


@dataclasses.dataclass(frozen=True)
class Visit:
    """One visit: when, what kind, and the analyses of its recordings.

    Attributes
    ----------
    date : str or pandas.Timestamp
        Date of the visit (ISO string or timestamp).
    kind : str
        One of :data:`VISIT_KINDS`.
    analyses : AnalysisResult, dict of DataFrame, or a list of those
        Result tables of the visit's recordings (``bursts``, ``synchronous``, ``summary``,
        ``lsr``, ``trend``, ``cmap``, ``f_waves``, ``blink_reflex``; values may also be
        :class:`~hfs_emg.ncs.NcsResult`).
    visit : str, optional
        Label (default ``v1``, ``v2``... by date).
    dose_units : float, optional
        Botulinum-toxin dose (units) of a ``"toxin_injection"`` visit.
    site : str, optional
        Injected muscle(s) of a ``"toxin_injection"`` visit.
    """

    date: Any
    kind: str
    analyses: Any = None
    visit: str | None = None
    dose_units: float | None = None
    site: str | None = None

    def __post_init__(self) -> None:
        check_option("kind", self.kind, VISIT_KINDS)


def _tables(analyses: Any) -> dict[str, pd.DataFrame]:
    """Merge the result tables of one visit (several analyses: rows concatenated)."""
    if analyses is None:
        return {}
    items = analyses if isinstance(analyses, (list, tuple)) else [analyses]
    out: dict[str, list[pd.DataFrame]] = {}
    for item in items:  # a handful of analyses per visit
        if hasattr(item, "tables") and callable(item.tables):
            tabs = item.tables()
        elif isinstance(item, Mapping):
            tabs = dict(item)
        else:
            raise TypeError(
                "A visit's analyses must be AnalysisResult objects or dicts of tables, got "
                f"{type(item).__name__}."
            )
        for name, tab in tabs.items():
            tab = getattr(tab, "summary", tab)  # NcsResult -> its summary
            tab = getattr(tab, "channels", tab)  # SpontaneousSummary -> per channel
            if isinstance(tab, pd.DataFrame) and not tab.empty:
                out.setdefault(name, []).append(tab)
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def _mean(table: pd.DataFrame | None, col: str, side: str | None) -> float:
    if table is None or col not in table.columns:
        return np.nan
    if side is not None and "side" in table.columns:
        table = table[table["side"] == side]
    vals = pd.to_numeric(table[col], errors="coerce").dropna()
    return float(vals.mean()) if len(vals) else np.nan


def _lsr_status(trend: pd.DataFrame | None) -> str | None:
    if trend is None or "status" not in trend.columns:
        return None
    if "channel" in trend.columns and (trend["channel"] == "overall").any():
        trend = trend[trend["channel"] == "overall"]
    statuses = set(trend["status"].dropna())
    for status in ("persisted", "disappeared", "not_elicited"):
        if status in statuses:
            return status
    return None


def visit_metrics(analyses: Any, *, side: str | None = None) -> dict[str, Any]:
    """Key metrics of one visit from its result tables (the columns :data:`TIMELINE_COLUMNS`).

    - ``bursts_per_min``, ``burden_pct``, ``sync_fraction``: means over the channels of the
      spontaneous summary (only the channels of ``side`` when given); ``n_sync_events``: rows
      of the synchronous-events table.
    - ``cmap_amplitude_ratio``, ``cmap_decrement_pct``, ``cmap_context``: the CMAP row that
      carries a side-to-side ratio (:func:`hfs_emg.measure_cmap`; of ``side`` when given).
    - ``f_duration_mean_ms``, ``f_persistence_pct``, ``f_m_ratio_pct``: means over the
      F-wave channels (:func:`hfs_emg.measure_f_waves`).
    - ``blink_r2_area_uv_ms``: mean R2 area of the orbicularis oculi ipsilateral to the
      stimulus; ``blink_synkinesis_ratio``: mean ``synkinesis_ratio`` of the ipsilateral R2
      rows of the lower facial muscles of ``side`` (without ``side``: of the side where it is
      larger, the affected side of a unilateral HFS) (:func:`hfs_emg.measure_blink_reflex`).
    - ``lsr_status``: the LSR trend's ``overall`` status (persisted, disappeared,
      not_elicited); ``lsr_final_baseline_ratio``: its mean final/baseline ratio.

    Missing tables give NaN (or None). Examples are in :func:`patient_timeline`.

    Parameters
    ----------
    analyses : AnalysisResult, dict of DataFrame, or a list of those
        Result tables of the visit.
    side : {"left", "right"}, optional
        Affected side: restrict channel means and the CMAP row to it.

    Returns
    -------
    dict
        One value per :data:`TIMELINE_COLUMNS` entry.
    """
    t = _tables(analyses)
    out: dict[str, Any] = {c: np.nan for c in TIMELINE_COLUMNS}
    out["cmap_context"] = None
    out["lsr_status"] = None
    summary = t.get("summary")
    for col in ("bursts_per_min", "burden_pct", "sync_fraction"):
        out[col] = _mean(summary, col, side)
    if "synchronous" in t or "bursts" in t:
        out["n_sync_events"] = float(len(t.get("synchronous", [])))
    cmap = t.get("cmap")
    if cmap is not None and "amplitude_ratio" in cmap.columns:
        rows = cmap[cmap["amplitude_ratio"].notna()]
        if side is not None and "side" in rows.columns:
            rows = rows[rows["side"] == side]
        if len(rows):
            r = rows.iloc[0]
            out["cmap_amplitude_ratio"] = float(r["amplitude_ratio"])
            dec = r.get("decrement_pct", 100.0 * (1.0 - float(r["amplitude_ratio"])))
            out["cmap_decrement_pct"] = float(dec)
            out["cmap_context"] = r.get("context")
    fw = t.get("f_waves")
    out["f_duration_mean_ms"] = _mean(fw, "f_duration_mean_ms", None)
    out["f_persistence_pct"] = _mean(fw, "persistence_pct", None)
    out["f_m_ratio_pct"] = _mean(fw, "f_m_ratio_pct", None)
    blink = t.get("blink_reflex")
    if blink is not None and {"component", "relation", "muscle"} <= set(blink.columns):
        r2 = blink[(blink["component"] == "R2") & (blink["relation"] == "ipsilateral")]
        oculi = r2[r2["muscle"] == "orbicularis_oculi"]
        out["blink_r2_area_uv_ms"] = _mean(oculi, "area_uv_ms", None)
        lower = r2[r2["muscle"] != "orbicularis_oculi"]
        if "synkinesis_ratio" in lower.columns and len(lower):
            # ipsilateral rows: the channel is on the stimulated side
            per_side = lower.groupby("stim_side")["synkinesis_ratio"].mean()
            if side is not None:
                out["blink_synkinesis_ratio"] = float(per_side.get(side, np.nan))
            elif per_side.notna().any():
                out["blink_synkinesis_ratio"] = float(per_side.max())
    trend = t.get("trend")
    out["lsr_status"] = _lsr_status(trend)
    if trend is not None and "final_baseline_ratio" in trend.columns:
        lsr_rows = trend[trend["channel"] != "overall"] if "channel" in trend.columns else trend
        out["lsr_final_baseline_ratio"] = _mean(lsr_rows, "final_baseline_ratio", None)
    return out


def _as_visit(v: Visit | Mapping[str, Any]) -> Visit:
    if isinstance(v, Visit):
        return v
    if isinstance(v, Mapping):
        known = {f.name for f in dataclasses.fields(Visit)}
        unknown = set(v) - known
        if unknown:
            raise ParameterError(
                f"Unknown visit field(s) {sorted(unknown)}; known: {sorted(known)}."
            )
        return Visit(**v)
    raise TypeError(f"A visit must be a Visit or a dict, got {type(v).__name__}.")


def patient_timeline(
    visits: Sequence[Visit | Mapping[str, Any]],
    *,
    patient: str | None = None,
    side: str | None = None,
) -> pd.DataFrame:
    """One row of key metrics per visit, in date order.

    Parameters
    ----------
    visits : sequence of Visit or dict
        The visits (dicts take the :class:`Visit` fields: ``date``, ``kind``, ``analyses``,
        ``visit``, ``dose_units``, ``site``).
    patient : str, optional
        Patient identifier, put in a ``patient`` column.
    side : {"left", "right"}, optional
        Affected side (see :func:`visit_metrics`).

    Returns
    -------
    pandas.DataFrame
        One row per visit: ``patient``, ``visit``, ``date``, ``kind``, ``dose_units``,
        ``site``, ``day`` (days since the first visit), ``days_since_injection`` (since the
        latest ``"toxin_injection"`` visit on or before this one), ``days_since_mvd`` (since
        the latest ``"intra_mvd"`` visit), then :data:`TIMELINE_COLUMNS`.

    Raises
    ------
    ParameterError
        No visit, an unknown kind or field, or a date that cannot be parsed.

    Examples
    --------
    >>> from hfs_emg import measure_cmap
    >>> from hfs_emg.simulate import simulate_toxin_course
    >>> sim = simulate_toxin_course(days=(0, 38, 150), sfreq=5000.0)
    >>> visits = [
    ...     {"date": v.date, "kind": v.kind, "dose_units": v.dose_units, "site": v.site,
    ...      "analyses": {"cmap": measure_cmap(rec, affected_side="left",
    ...                                        context="botulinum_toxin")}}
    ...     for v, rec in zip(sim.visits.itertuples(), sim.recordings)
    ... ]
    >>> tl = patient_timeline(visits, patient="P01")
    >>> tl[["visit", "kind", "days_since_injection"]].values.tolist()
    [['v1', 'toxin_injection', 0.0], ['v2', 'follow_up', 38.0], ['v3', 'follow_up', 150.0]]
    >>> err = tl["cmap_decrement_pct"] - sim.truth["decrement_pct"]
    >>> bool(err.abs().max() < 1.5), tl["cmap_context"].iloc[1]
    (True, 'botulinum_toxin')
    """
    if side is not None:
        check_option("side", side, ("left", "right"))
    vs = [_as_visit(v) for v in visits]
    if not vs:
        raise ParameterError("patient_timeline needs at least one visit.")
    rows = []
    for v in vs:  # one row per visit
        try:
            date = pd.Timestamp(v.date)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"Visit date {v.date!r} cannot be parsed: {err}") from None
        if pd.isna(date):
            raise ParameterError(f"Visit {v.visit or ''} has no date.")
        row = {
            "patient": patient,
            "visit": v.visit,
            "date": date,
            "kind": v.kind,
            "dose_units": np.nan if v.dose_units is None else float(v.dose_units),
            "site": v.site,
        }
        row.update(visit_metrics(v.analyses, side=side))
        rows.append(row)
    tl = pd.DataFrame(rows)
    for col in ("cmap_context", "lsr_status", "site"):  # missing text is None, not NaN
        tl[col] = tl[col].astype(object).where(tl[col].notna(), None)
    order = tl["kind"].map({k: i for i, k in enumerate(VISIT_KINDS)})
    tl = tl.assign(_o=order).sort_values(["date", "_o"], kind="stable").drop(columns="_o")
    tl = tl.reset_index(drop=True)
    if tl["visit"].isna().any():
        tl["visit"] = tl["visit"].where(tl["visit"].notna(), [f"v{i + 1}" for i in range(len(tl))])
    days = (tl["date"] - tl["date"].iloc[0]).dt.days.astype(float)
    tl["day"] = days
    tl["days_since_injection"] = days - days.where(tl["kind"] == "toxin_injection").ffill()
    tl["days_since_mvd"] = days - days.where(tl["kind"] == "intra_mvd").ffill()
    meta = ["patient", "visit", "date", "kind", "dose_units", "site", "day"]
    meta += ["days_since_injection", "days_since_mvd"]
    return tl[meta + list(TIMELINE_COLUMNS)]


def read_sessions_tsv(
    path: str | os.PathLike[str],
    *,
    kind_column: str = "visit_kind",
    date_column: str = "acq_time",
) -> pd.DataFrame:
    """Visit metadata from a BIDS ``sub-<label>_sessions.tsv``.

    BIDS keeps one row per session with a ``session_id`` column (``ses-<label>``) and optional
    columns such as ``acq_time``. This reads the visit kind from ``kind_column`` (values in
    :data:`VISIT_KINDS`), the date from ``date_column`` (falling back to a ``date`` column),
    and the optional ``dose_units`` and ``site`` columns (``n/a`` is missing).

    Parameters
    ----------
    path : path
        The sessions file.
    kind_column, date_column : str
        Column names of the visit kind and of the date.

    Returns
    -------
    pandas.DataFrame
        One row per session: ``session`` (label without ``ses-``), ``date``, ``kind``,
        ``dose_units``, ``site``.

    Raises
    ------
    ParameterError
        A required column is missing or a kind is unknown.

    References
    ----------
    .. [1] Gorgolewski KJ et al. The brain imaging data structure. Sci Data 2016;3:160044
       (``sessions.tsv``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sub-01_sessions.tsv"
    >>> _ = p.write_text("session_id\\tacq_time\\tvisit_kind\\tdose_units\\tsite\\n"
    ...                  "ses-01\\t2024-01-15\\ttoxin_injection\\t20\\torbicularis_oculi\\n"
    ...                  "ses-02\\t2024-02-22\\tfollow_up\\tn/a\\tn/a\\n")
    >>> read_sessions_tsv(p)[["session", "kind", "dose_units"]].values.tolist()
    [['01', 'toxin_injection', 20.0], ['02', 'follow_up', nan]]
    """
    path = Path(path)
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=True)
    if date_column not in table.columns and "date" in table.columns:
        date_column = "date"
    missing = [c for c in ("session_id", kind_column, date_column) if c not in table.columns]
    if missing:
        raise ParameterError(f"{path}: sessions file lacks the column(s) {missing}.")
    bad = sorted(set(table[kind_column].dropna()) - set(VISIT_KINDS))
    if bad or table[kind_column].isna().any():
        raise ParameterError(
            f"{path}: unknown or missing visit kind(s) {bad} in {kind_column!r}; "
            f"allowed: {list(VISIT_KINDS)}."
        )
    return pd.DataFrame(
        {
            "session": table["session_id"].astype(str).str.removeprefix("ses-"),
            "date": pd.to_datetime(table[date_column]),
            "kind": table[kind_column].astype(str),
            "dose_units": pd.to_numeric(table.get("dose_units"), errors="coerce")
            if "dose_units" in table.columns
            else np.nan,
            "site": table["site"].astype(object).where(table["site"].notna(), None)
            if "site" in table.columns
            else None,
        }
    )
