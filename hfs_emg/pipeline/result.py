"""The result of one analysis, :class:`AnalysisResult`, and how both analysis paths build it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .config import AnalysisConfig
from .protocol import ProtocolDecision
from .steps import exclusion_onsets, spontaneous_tables

__all__ = ["TABLES", "AnalysisResult", "build_result"]

#: Names of the tables of :meth:`AnalysisResult.tables`, in order.
TABLES: tuple[str, ...] = (
    "recording_summary",
    "summary",
    "summary_sides",
    "bursts",
    "synchronous",
    "stim_events",
    "lsr",
    "trend",
    "cmap",
    "f_waves",
    "f_waves_trials",
    "blink_reflex",
    "blink_reflex_trials",
    "responses",
    "lsr_morphology",
    "morphology_summary",
    "zl",
    "zl_trend",
    "fmep",
    "fmep_trend",
    "trains",
    "train_time",
)


@dataclass(frozen=True)
class AnalysisResult:
    """Result of :func:`analyze`: every table of one recording, its options and provenance.

    Attributes
    ----------
    protocol : str
        ``"spontaneous"``, ``"lsr"``, ``"cmap"``, ``"f_waves"``, ``"blink_reflex"`` or
        ``"responses"``, ``"fmep"``, ``"zl"`` or ``"free_running"`` (why:
        ``provenance["protocol"]["reason"]``).
    bursts : pandas.DataFrame
        One row per spontaneous burst (:func:`hfs_emg.detect_bursts`, stimulus-locked bursts
        left out).
    synchronous : pandas.DataFrame
        One row per synchronous event (:func:`hfs_emg.detect_synchronous_bursts`).
    summary : pandas.DataFrame
        One row per channel (:func:`hfs_emg.summarize`, ``.channels``).
    summary_sides : pandas.DataFrame
        One row per side (``.sides``).
    recording_summary : pandas.DataFrame
        One row: ``protocol``, ``n_stimuli`` and the per-recording summary (``.recording``:
        ``affected_side``, ``side_asymmetry``, ``sync_events_per_min``...), with rates over
        ``analysed_s`` (the recording minus the stimulus-locked windows).
    stim_events : pandas.DataFrame or None
        The stimuli (:func:`hfs_emg.find_stim_events`); None without stimuli.
    lsr, trend : pandas.DataFrame or None
        Protocol ``"lsr"``: :func:`hfs_emg.measure_lsr` and :func:`hfs_emg.lsr_trend`.
    cmap : pandas.DataFrame or None
        Protocol ``"cmap"``: :func:`hfs_emg.measure_cmap`.
    f_waves, f_waves_trials : pandas.DataFrame or None
        Protocol ``"f_waves"``: :func:`hfs_emg.measure_f_waves` (summary, per stimulus).
    blink_reflex, blink_reflex_trials : pandas.DataFrame or None
        Protocol ``"blink_reflex"``: :func:`hfs_emg.measure_blink_reflex`.
    responses : pandas.DataFrame or None
        Protocol ``"responses"``: :func:`hfs_emg.measure_responses`.
    lsr_morphology : pandas.DataFrame or None
        Protocol ``"lsr"``: :func:`hfs_emg.lsr_morphology` of every LSR sweep (phases, turns,
        afterdischarge, late component; measured on the present sweeps).
    morphology_summary : pandas.DataFrame or None
        Protocol ``"lsr"``: :func:`hfs_emg.morphology.summarize_morphology` per channel (is the
        initial AMR polyphasic; afterdischarge), initial window with the trend's ``baseline_n``.
    zl, zl_trend : pandas.DataFrame or None
        Protocol ``"zl"``, or vessel stimuli in an ``"lsr"`` session:
        :func:`hfs_emg.measure_zl_response` and :func:`hfs_emg.zl_trend`.
    fmep, fmep_trend : pandas.DataFrame or None
        Protocol ``"fmep"``: :func:`hfs_emg.measure_fmep` and :func:`hfs_emg.fmep_trend`.
    trains, train_time : pandas.DataFrame or None
        Protocol ``"free_running"``: :func:`hfs_emg.classify_trains` and
        :func:`hfs_emg.train_time`.
    config : AnalysisConfig
        The options used.
    provenance : dict
        ``hfs_emg_version``, ``config`` (dict), ``config_hash``, ``input`` (``path``, ``name``,
        ``sha256`` of the file or of the samples), ``protocol`` (``protocol``, ``reason``,
        ``n_stimuli``, ``stim_source``), ``spontaneous`` (bursts and seconds excluded),
        ``streamed`` and ``chunk_s``. No timestamp: identical inputs give identical provenance.
    """

    protocol: str
    bursts: pd.DataFrame
    synchronous: pd.DataFrame
    summary: pd.DataFrame
    summary_sides: pd.DataFrame
    recording_summary: pd.DataFrame
    stim_events: pd.DataFrame | None
    config: AnalysisConfig
    provenance: dict[str, Any] = field(default_factory=dict)
    lsr: pd.DataFrame | None = None
    trend: pd.DataFrame | None = None
    cmap: pd.DataFrame | None = None
    f_waves: pd.DataFrame | None = None
    f_waves_trials: pd.DataFrame | None = None
    blink_reflex: pd.DataFrame | None = None
    blink_reflex_trials: pd.DataFrame | None = None
    responses: pd.DataFrame | None = None
    lsr_morphology: pd.DataFrame | None = None
    morphology_summary: pd.DataFrame | None = None
    zl: pd.DataFrame | None = None
    zl_trend: pd.DataFrame | None = None
    fmep: pd.DataFrame | None = None
    fmep_trend: pd.DataFrame | None = None
    trains: pd.DataFrame | None = None
    train_time: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that exist (not None), by name, in the order of :data:`TABLES`."""
        return {name: getattr(self, name) for name in TABLES if getattr(self, name) is not None}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(f"{name!r}: the tables are {list(TABLES)}")
        table = getattr(self, name)
        if table is None:
            raise KeyError(f"{name!r}: no such table for protocol {self.protocol!r}")
        return table

    def __repr__(self) -> str:
        n_stim = 0 if self.stim_events is None else len(self.stim_events)
        return (
            f"<AnalysisResult | {self.provenance.get('input', {}).get('name')}: "
            f"{self.protocol}, {len(self.bursts)} bursts, {len(self.synchronous)} synchronous "
            f"events, {n_stim} stimuli>"
        )


def _canonical(table: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas' string dtype, so a table read back from Parquet (batch cache,
    ``hfs-emg`` outputs) has the dtypes of the one analysed in memory."""
    out = table
    for col in table.columns:
        values = table[col]
        if values.dtype != object:
            continue
        present = values.dropna()
        if len(present) and all(isinstance(v, str) for v in present):
            if out is table:
                out = table.copy()
                out.attrs = dict(table.attrs)
            out[col] = values.astype("str")
    return out


def build_result(
    *,
    bursts: pd.DataFrame,
    channels: pd.DataFrame,
    tstart: float,
    duration_s: float,
    decision: ProtocolDecision,
    evoked: dict[str, pd.DataFrame],
    config: AnalysisConfig,
    provenance: dict[str, Any],
) -> AnalysisResult:
    """Assemble an :class:`AnalysisResult` (shared by the in-memory and streamed paths)."""
    events = decision.events
    bursts, sync, summary, info = spontaneous_tables(
        bursts,
        channels,
        tstart=tstart,
        duration_s=duration_s,
        stim_onsets_s=exclusion_onsets(events),
        config=config,
    )
    head = pd.DataFrame(
        {
            "protocol": [decision.protocol],
            "n_stimuli": [0 if events is None else len(events)],
            "analysed_s": [info["analysed_s"]],
            "n_bursts_excluded": [info["n_bursts_excluded"]],
        }
    )
    recording = pd.concat([head, summary.recording.reset_index(drop=True)], axis=1)
    provenance = {**provenance, "protocol": decision.as_dict(), "spontaneous": info}
    return AnalysisResult(
        protocol=decision.protocol,
        bursts=_canonical(bursts),
        synchronous=_canonical(sync),
        summary=_canonical(summary.channels),
        summary_sides=_canonical(summary.sides),
        recording_summary=_canonical(recording),
        stim_events=None if events is None else _canonical(events),
        config=config,
        provenance=provenance,
        **{name: _canonical(table) for name, table in evoked.items()},
    )
