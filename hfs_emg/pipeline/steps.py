"""The analysis steps shared by the in-memory and the streamed path of :func:`analyze`.

:mod:`hfs_emg.pipeline.analysis` and :mod:`hfs_emg.pipeline.streaming` both call these, so the
streamed path never imports the analysis module (no import cycle), and every option reaches
its function through :func:`~hfs_emg.pipeline.config.section_kwargs` (one way).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError
from .._validate import finite_rows
from ..detection import detect_bursts
from ..fmep import fmep_trend, measure_fmep
from ..free_running import classify_trains, train_time
from ..lsr import lsr_trend, measure_lsr
from ..metrics import SpontaneousSummary, summarize
from ..morphology import lsr_morphology, summarize_morphology
from ..ncs import measure_blink_reflex, measure_cmap, measure_f_waves
from ..phases import phase_markers
from ..preprocessing import filter_emg
from ..recording import Recording
from ..responses import measure_responses, stimulus_epochs
from ..stim_locked import StimulusWindows
from ..synchrony import detect_synchronous_bursts
from ..zl_response import measure_zl_response, vessel_sites, zl_trend
from .config import AnalysisConfig, section_kwargs

logger = logging.getLogger("hfs_emg")

#: The evoked tables of each protocol, as :class:`~hfs_emg.AnalysisResult` fields.
EVOKED_TABLES: dict[str, tuple[str, ...]] = {
    "spontaneous": (),
    "lsr": ("lsr", "trend"),
    "cmap": ("cmap",),
    "f_waves": ("f_waves", "f_waves_trials"),
    "blink_reflex": ("blink_reflex", "blink_reflex_trials"),
    "responses": ("responses",),
    "fmep": ("fmep", "fmep_trend"),
    "zl": ("zl", "zl_trend"),
    "free_running": ("trains", "train_time"),
}
#: Tables of the LSR protocol beside ``lsr`` and ``trend``: the morphology of the present LSR
#: sweeps, and the Z-L response when some stimuli of the session are on a vessel.
LSR_EXTRA_TABLES: tuple[str, ...] = ("lsr_morphology", "morphology_summary", "zl", "zl_trend")


def check_finite(rec: Recording) -> None:
    """Raise :class:`DataError` naming the channels that hold NaN or infinite samples."""
    bad = ~finite_rows(rec.data)
    if bad.any():
        names = [n for n, b in zip(rec.ch_names, bad, strict=True) if b]
        where = rec.meta.get("source_file") or "recording"
        raise DataError(
            f"{where}: channel(s) {names} hold NaN or infinite samples near t={rec.tstart} s: "
            "interpolate or drop them (rec.pick([...])) before the analysis."
        )


_check_finite = check_finite  # old private name


def exclusion_onsets(events: pd.DataFrame | None) -> np.ndarray | None:
    """The stimuli whose windows the spontaneous analysis leaves out (None without stimuli).

    Those from a trigger channel or the recording's events: stimuli guessed from simultaneous
    EMG jumps (source ``artifact...``) may be the onsets of synchronous spasms themselves.
    """
    if events is None:
        return None
    real = ~events["source"].astype(str).str.startswith("artifact")
    return events.loc[real, "onset_s"].to_numpy(dtype=float)


def stimulus_windows(
    stim_onsets_s: np.ndarray | None, config: AnalysisConfig
) -> StimulusWindows | None:
    """The windows of :func:`spontaneous_tables`'s exclusion (None: it excludes nothing).

    Given to the burst detection of every path (:func:`spontaneous_bursts`, the streamed
    bursts), which then measures no burst the exclusion drops.
    """
    if stim_onsets_s is None or not len(stim_onsets_s):
        return None
    return StimulusWindows(np.asarray(stim_onsets_s), **section_kwargs(config.spontaneous))


def spontaneous_bursts(
    rec: Recording,
    config: AnalysisConfig,
    *,
    overwrite: bool = False,
    stim_onsets_s: np.ndarray | None = None,
) -> pd.DataFrame:
    """Bursts of ``rec`` with the ``filter`` and ``bursts`` options (before any exclusion).

    The table carries each burst's waveform onset (``rise_s``, ``rise_sd_ms``;
    :func:`hfs_emg.synchrony.burst_rise_times`, measured by ``detect_bursts(rise_times=True)``),
    from which the synchronous events' onset order is judged; the streamed path measures the
    same on each chunk while it is in memory. ``overwrite``: the caller reads nothing more of
    ``rec`` (its own read of a file), so each channel is filtered in place
    (``detect_bursts(overwrite=True)``; same bursts, no filtered copy). ``stim_onsets_s``
    (:func:`exclusion_onsets`): the bursts in their windows (:func:`stimulus_windows`), which
    :func:`spontaneous_tables` drops, are not measured (NaN features).
    """
    b = config.bursts
    if config.filter.enabled:
        rec = filter_emg(rec, **section_kwargs(config.filter, drop=("enabled",)), picks=b.picks)
        overwrite = False  # filter_emg made a new array; nothing is gained
    kw = section_kwargs(b, drop=("options",))
    # waveform onsets for the onset order, measured on each filtered channel while it is in
    # memory (as the streamed path measures them chunk by chunk): one filter pass, not two
    return detect_bursts(
        rec,
        **kw,
        **b.options,
        rise_times=True,
        overwrite=overwrite,
        skip_windows=stimulus_windows(stim_onsets_s, config),
    )


def spontaneous_tables(
    bursts: pd.DataFrame,
    channels: pd.DataFrame,
    *,
    tstart: float,
    duration_s: float,
    stim_onsets_s: np.ndarray | None,
    config: AnalysisConfig,
) -> tuple[pd.DataFrame, pd.DataFrame, SpontaneousSummary, dict[str, Any]]:
    """Exclusion of the stimulus-locked bursts, synchronous events and the summary.

    Returns ``bursts``, ``synchronous``, the :class:`~hfs_emg.metrics.SpontaneousSummary` and a
    provenance dict (bursts excluded, seconds excluded, seconds analysed).
    """
    info: dict[str, Any] = {"n_bursts_excluded": 0, "excluded_s": 0.0}
    analysed_s = duration_s
    windows = stimulus_windows(stim_onsets_s, config)
    if windows is not None:  # the bursts the detection did not measure (NaN features)
        bursts, n = windows.exclude(bursts)
        excluded = windows.excluded_duration_s(tstart, duration_s)
        analysed_s = duration_s - excluded
        info = {"n_bursts_excluded": n, "excluded_s": round(excluded, 9)}
    info["analysed_s"] = round(analysed_s, 9)
    sync = detect_synchronous_bursts(bursts, channels=channels, **section_kwargs(config.sync))
    summary = summarize(bursts, sync, duration_s=analysed_s, channels=channels)
    return bursts, sync, summary, info


def evoked_tables(
    rec: Recording, events: pd.DataFrame, protocol: str, config: AnalysisConfig
) -> dict[str, pd.DataFrame]:
    """The evoked tables of ``protocol`` (:data:`EVOKED_TABLES`) from the stimuli ``events``."""
    stim = {"events": events, "source": config.stim.source, "label": config.stim.label}
    if protocol == "spontaneous":
        return {}
    if protocol == "lsr":
        # vessel stimuli of the same session ("stim AICA") are Z-L stimuli, not LSR stimuli
        vessel = vessel_sites(events, rec).notna().to_numpy()
        lsr_events = events[~vessel] if vessel.any() else events
        lsr = measure_lsr(rec, **{**stim, "events": lsr_events}, **section_kwargs(config.lsr))
        # the recording's own surgical-phase markers ("dural opening", "Teflon", "closure"...)
        phases = phase_markers(rec)
        trend = lsr_trend(lsr, phases=phases, **section_kwargs(config.trend))
        out = {"lsr": lsr, "trend": trend}
        out["lsr_morphology"] = lsr_morphology(
            rec, lsr=lsr, events=lsr_events, **section_kwargs(config.morphology)
        )
        out["morphology_summary"] = summarize_morphology(
            out["lsr_morphology"], phases=phases, baseline_n=config.trend.baseline_n
        )
        if vessel.any():
            out.update(zl_tables(rec, events[vessel], config))
        return out
    if protocol == "zl":
        # every stimulus when none names a vessel (protocol set, or a label such as "Z-L")
        none = vessel_sites(events, rec).isna().all()
        return zl_tables(rec, events, config, all_stimuli=bool(none))
    if protocol == "fmep":
        # the pulses of each train are found again with a short debounce (the stimuli of the
        # ``stim`` section merge a train into one stimulus)
        fmep = measure_fmep(
            rec, source=config.stim.source, label=config.stim.label, **section_kwargs(config.fmep)
        )
        trend = fmep_trend(fmep, phases=phase_markers(rec), **section_kwargs(config.fmep_trend))
        return {"fmep": fmep, "fmep_trend": trend}
    if protocol == "free_running":
        return free_running_tables(rec, config)
    if protocol == "cmap":
        return {"cmap": measure_cmap(rec, **stim, **section_kwargs(config.cmap))}
    if protocol == "f_waves":
        res = measure_f_waves(rec, **stim, **section_kwargs(config.f_waves))
        return {"f_waves": res.summary, "f_waves_trials": res.trials}
    if protocol == "blink_reflex":
        res = measure_blink_reflex(rec, **stim, **section_kwargs(config.blink_reflex))
        return {"blink_reflex": res.summary, "blink_reflex_trials": res.trials}
    if protocol == "responses":
        ep = response_epochs(rec, events, config)
        kw = section_kwargs(config.responses, drop=_EPOCHING)
        return {"responses": measure_responses(ep, **kw)}
    raise ValueError(f"unknown protocol {protocol!r}")  # AnalysisConfig validated it


def zl_tables(
    rec: Recording, events: pd.DataFrame, config: AnalysisConfig, *, all_stimuli: bool = False
) -> dict[str, pd.DataFrame]:
    """``zl`` and ``zl_trend`` of the vessel stimuli among ``events``."""
    kw = section_kwargs(config.zl)
    kw["all_stimuli"] = bool(kw["all_stimuli"] or all_stimuli)
    zl = measure_zl_response(rec, events=events, **kw)
    if zl.empty:
        return {"zl": zl}
    trend = zl_trend(zl, phases=phase_markers(rec), **section_kwargs(config.zl_trend))
    return {"zl": zl, "zl_trend": trend}


def free_running_tables(rec: Recording, config: AnalysisConfig) -> dict[str, pd.DataFrame]:
    """``trains`` (A-, B-, C-trains) and ``train_time`` per EMG channel of a free-running EMG."""
    trains = classify_trains(rec, **section_kwargs(config.free_running))
    picked = [rec.ch_names[i] for i in rec._pick_indices(config.free_running.picks)]
    return {
        "trains": trains,
        "train_time": train_time(trains, channels=picked, **section_kwargs(config.train_time)),
    }


_EPOCHING = ("artifact_method", "artifact_window_s", "tmin", "tmax")


def response_epochs(rec: Recording, events: pd.DataFrame, config: AnalysisConfig) -> Any:
    """The epochs of the ``responses`` protocol (artefact suppressed as configured)."""
    ep_kw = {k: getattr(config.responses, k) for k in _EPOCHING}
    return stimulus_epochs(
        rec.pick("emg"), events=events, source=config.stim.source, label=config.stim.label, **ep_kw
    )


def epochs_for(rec: Recording, events: pd.DataFrame, protocol: str, config: AnalysisConfig) -> Any:
    """The epochs the measure of ``protocol`` cut (same window and artefact suppression).

    Used to draw the sweeps of a result exactly as they were measured.
    """
    if protocol == "responses":
        return response_epochs(rec, events, config)
    section = getattr(config, protocol)
    kw = {k: getattr(section, k) for k in _EPOCHING}
    return stimulus_epochs(
        rec, events=events, source=config.stim.source, label=config.stim.label, **kw
    )
