"""The LSR course over an MVD: status, phase of loss and final-to-baseline reduction.

:func:`lsr_trend` turns the per-stimulus table of :func:`hfs_emg.measure_lsr` into one row per
(stimulated branch, recording channel) pair - per montage and response kind when the table has
those columns - plus an ``overall`` row, with the definitions clinicians use:

- **status** (El Damaty et al. 2016: total vs partial disappearance; Thirumala et al. 2020:
  persistence of the final LSR): ``not_elicited``, ``persisted``, ``partial``, ``disappeared``
  or ``transient_loss``;
- **phase of loss** relative to the surgical markers of :func:`hfs_emg.phase_markers`
  (Al Menabbawy et al. 2025: outcome depends on whether the LSR is lost during the opening,
  the arachnoid dissection or after decompression; a delayed loss after dural closure also
  occurs);
- **final-to-baseline ratio and reduction** (Pan et al. 2025: FBCR is the *reduction*
  ``100 (1 - final/baseline)``; >= 86.5 % in mentalis predicted complete resolution and >= 48.5 %
  improvement), with both windows computed the same way.
"""

from __future__ import annotations

import bisect
import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ParameterError
from ._frames import as_numpy, column_arrays, frame_from_columns
from ._validate import check_option
from .phases import phase_onsets
from .signal import mask_to_intervals

__all__ = [
    "LOSS_PHASES",
    "LSR_STATUSES",
    "PAN_2025_FBCR_PCT",
    "LsrTrendState",
    "lsr_trend",
]

#: Per-row verdicts of :func:`lsr_trend`.
LSR_STATUSES: tuple[str, ...] = (
    "not_elicited",
    "persisted",
    "partial",
    "disappeared",
    "transient_loss",
)
#: Phase of a loss, relative to the surgical markers ("" when unknown or no loss).
LOSS_PHASES: tuple[str, ...] = (
    "before_opening",
    "before_decompression",
    "after_decompression",
    "after_closure",
)
#: FBCR (reduction, %) cut-offs of Pan et al. 2025 in mentalis: complete resolution of the
#: spasm predicted at >= 86.5 % (sensitivity 99 %, specificity 47 %), improvement at >= 48.5 %.
PAN_2025_FBCR_PCT: dict[str, float] = {"complete_resolution": 86.5, "improvement": 48.5}

_LOSS_OF_MARKER = {
    "dura_opening": "before_decompression",
    "arachnoid_dissection": "before_decompression",
    "decompression": "after_decompression",
    "dural_closure": "after_closure",
}


def _loss_phase(t: float, onsets: Mapping[str, float]) -> tuple[str, str]:
    """(loss_phase, the last marker before the loss) of a loss at ``t`` seconds."""
    if not np.isfinite(t) or not onsets:
        return "", ""
    before = [p for p, t0 in onsets.items() if t0 <= t]
    if before:
        last = max(before, key=lambda p: onsets[p])
        return _LOSS_OF_MARKER[last], last
    first = min(onsets, key=lambda p: onsets[p])
    if first == "dura_opening":
        return "before_opening", ""
    if first in ("arachnoid_dissection", "decompression"):
        return "before_decompression", ""
    return "", ""  # only a closure marker: before closure, phase otherwise unknown


def _loss_episodes(
    p: np.ndarray, n_b: int, n_absent: int, min_run: int
) -> list[tuple[int, int | None]]:
    """Loss episodes of a presence series: (first absent index, index of return or None).

    An episode is a stretch of at least ``n_absent`` absent stimuli. Once it is established
    (``n_absent`` absent in a row), a run of presence shorter than ``min_run`` after the
    first ``n_b`` stimuli does not end it (an isolated false alarm); before that, any present
    stimulus does, so the loss is dated at the first absent stimulus after the last response.
    """
    r_on, r_off = mask_to_intervals(p)
    episodes: list[tuple[int, int | None]] = []
    start, skipped = 0, 0  # first absent stimulus after the last accepted response
    for on, off in zip(r_on.tolist(), r_off.tolist(), strict=True):  # runs, not samples
        n_abs = on - start - skipped
        if n_abs >= n_absent and off - on < min_run and on >= n_b:
            skipped += off - on  # a short run inside an established loss: absent
            continue
        if n_abs >= n_absent:
            episodes.append((start, on))
        start, skipped = off, 0
    if p.size - start - skipped >= n_absent:
        episodes.append((start, None))
    return episodes


def _window_indices(
    p: np.ndarray, t: np.ndarray, onsets: Mapping[str, float], o: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Sweeps (indices into the series ``p`` at times ``t``) of the baseline and final windows.

    Baseline: the sweeps from the dural opening to the decompression, unless the LSR was
    already lost by then (fewer than ``min_window_present`` present), else the first
    ``baseline_n`` sweeps before the decompression; final: the last ``final_n`` sweeps before
    the dural closure (the module docstring gives the sources). Shared by :func:`lsr_trend`'s
    series and :class:`LsrTrendState`'s fallback for times out of order.
    """
    n_b, n_f = o["baseline_n"], o["final_n"]
    t_dec = onsets.get("decompression", np.inf)
    idx = np.arange(p.size)
    cands = []
    if "dura_opening" in onsets:
        cands.append(idx[(t >= onsets["dura_opening"]) & (t < t_dec)])
    cands.append(idx[t < t_dec][:n_b] if np.any(t < t_dec) else idx[:n_b])
    base_sel = cands[-1]
    for c in cands:
        if c.size and p[c].mean() >= o["min_window_present"]:
            base_sel = c
            break
    before_close = idx[t < onsets.get("dural_closure", np.inf)]
    fin_sel = (before_close if before_close.size else idx)[-n_f:]
    return base_sel, fin_sel


def _window_amp(
    p: np.ndarray, a: np.ndarray, sel: np.ndarray, amplitude: str, min_present: float
) -> tuple[float, float]:
    """(presence, amplitude) of one window: both windows use this same rule."""
    if sel.size == 0:
        return np.nan, np.nan
    pres = float(p[sel].mean())
    if amplitude == "zero_filled":
        return pres, float(np.where(p[sel], a[sel], 0.0).mean())
    if pres < min_present or not p[sel].any():
        return pres, 0.0
    return pres, float(a[sel][p[sel]].mean())


#: Loss episodes summarised for a verdict: (n_losses, n_reappearances, first episode, the open
#: episode lasting to the end or None, the first closed episode lasting transient_min_s or
#: None); an episode is (time of its first absent stimulus, that stimulus' index, time of the
#: return or None).
_EpisodeSummary = tuple[
    int,
    int,
    "tuple[float, int, float | None] | None",
    "tuple[float, int] | None",
    "tuple[float, int, float | None] | None",
]


def _blank_series(n_v: int, n_present: int) -> dict[str, Any]:
    """The row of one series before its verdict (every measure missing)."""
    return {
        "n_stimuli": int(n_v),
        "n_present": int(n_present),
        "status": "not_elicited",
        "loss_phase": "",
        "loss_after_marker": "",
        "loss_after_decompression_s": np.nan,
        "n_losses": 0,
        "n_reappearances": 0,
        "disappearance_stim_index": None,
        "disappearance_time_s": np.nan,
        "reappearance_time_s": np.nan,
        "baseline_presence": np.nan,
        "final_presence": np.nan,
        "baseline_p2p_uv": np.nan,
        "final_p2p_uv": np.nan,
        "final_over_baseline": np.nan,
        "reduction_pct": np.nan,
        "baseline_latency_ms": np.nan,
        "final_latency_ms": np.nan,
    }


def _summarise_episodes(
    episodes: list[tuple[int, int | None]], t: np.ndarray, stim: np.ndarray, t_min: float
) -> _EpisodeSummary:
    """:data:`_EpisodeSummary` of the episodes of :func:`_loss_episodes`."""
    eps = [(float(t[s]), int(stim[s]), None if e is None else float(t[e])) for s, e in episodes]
    open_ = (eps[-1][0], eps[-1][1]) if eps and eps[-1][2] is None else None
    gone = next((e for e in eps if e[2] is not None and e[2] - e[0] >= t_min), None)
    n_back = sum(e[2] is not None for e in eps)
    return len(eps), n_back, eps[0] if eps else None, open_, gone


def _series_verdict(
    n_v: int,
    n_present: int,
    elicited: bool,
    eps: _EpisodeSummary,
    windows: tuple[float, float, float, float, float, float],
    onsets: Mapping[str, float],
    o: Mapping[str, Any],
) -> dict[str, Any]:
    """The row of one series from its episodes and its two windows (baseline presence,
    amplitude, final presence, amplitude, baseline latency, final latency): the definitions
    of :func:`lsr_trend`, shared by the table and by :class:`LsrTrendState`."""
    out = _blank_series(n_v, n_present)
    n_losses, n_back, first, open_, gone = eps
    out["n_losses"] = n_losses
    out["n_reappearances"] = n_back
    loss, back, status = None, None, None
    if elicited and n_losses:
        if not o["until_end"]:
            loss, back, status = first, first[2], "disappeared"
        elif open_ is not None:
            loss, status = open_, "disappeared"
        elif gone is not None:
            loss, back, status = gone, gone[2], "transient_loss"
    b_pres, b_amp, f_pres, f_amp, b_lat, f_lat = windows
    ratio = f_amp / b_amp if b_amp > 0 else np.nan
    out.update(
        baseline_presence=b_pres,
        final_presence=f_pres,
        baseline_p2p_uv=b_amp,
        final_p2p_uv=f_amp,
        final_over_baseline=ratio,
        reduction_pct=100.0 * (1.0 - ratio) if np.isfinite(ratio) else np.nan,
        baseline_latency_ms=b_lat,
        final_latency_ms=f_lat,
    )
    if not elicited:  # no LSR to reduce: amplitudes kept, the ratio is meaningless
        out.update(final_over_baseline=np.nan, reduction_pct=np.nan)
        return out
    if status is None:
        red = out["reduction_pct"]
        partial = bool(np.isfinite(red) and red >= o["partial_reduction_pct"])
        status = "partial" if partial else "persisted"
    out["status"] = status
    if loss is not None:
        t_loss = loss[0]
        out["disappearance_stim_index"] = loss[1]
        out["disappearance_time_s"] = t_loss
        out["loss_phase"], out["loss_after_marker"] = _loss_phase(t_loss, onsets)
        if "decompression" in onsets:
            out["loss_after_decompression_s"] = t_loss - onsets["decompression"]
        if back is not None:
            out["reappearance_time_s"] = back
    return out


def _one_series(
    p: np.ndarray,
    a: np.ndarray,
    lat: np.ndarray,
    t: np.ndarray,
    stim: np.ndarray,
    onsets: Mapping[str, float],
    o: Mapping[str, Any],
) -> dict[str, Any]:
    """Trend of one presence series (valid sweeps only, in time order)."""
    n_v = p.size
    n_b = o["baseline_n"]
    if n_v == 0:
        return _blank_series(0, 0)
    elicited = p[:n_b].mean() >= o["min_baseline_present"]
    episodes = _loss_episodes(p, n_b, o["consecutive_absent"], o["min_present_run"])
    eps = _summarise_episodes(episodes, t, stim, o["transient_min_s"])
    base_sel, fin_sel = _window_indices(p, t, onsets, o)
    b_pres, b_amp = _window_amp(p, a, base_sel, o["amplitude"], o["min_window_present"])
    f_pres, f_amp = _window_amp(p, a, fin_sel, o["amplitude"], o["min_window_present"])

    def _lat(sel: np.ndarray) -> float:
        v = lat[sel][p[sel]]
        v = v[np.isfinite(v)]
        return float(np.median(v)) if v.size else np.nan

    windows = (b_pres, b_amp, f_pres, f_amp, _lat(base_sel), _lat(fin_sel))
    return _series_verdict(n_v, int(p.sum()), elicited, eps, windows, onsets, o)


def _far_column(df: pd.DataFrame, presence: str) -> str | None:
    """The calibrated false-alarm-rate column of the presence column used, if any."""
    if presence == "match_present" and "match_false_alarm_rate" in df.columns:
        return "match_false_alarm_rate"
    return "false_alarm_rate" if "false_alarm_rate" in df.columns else None


@dataclass
class _Arrays:
    """One (kind, montage) group of the LSR table as arrays: stimuli (sorted) x channels
    (sorted), the values of the non-rejected rows (NaN where a channel has no row)."""

    stim: np.ndarray
    times: np.ndarray
    channels: list[Any]
    pres: np.ndarray
    amp: np.ndarray
    lat: np.ndarray | None
    far: np.ndarray | None
    rej_stim: np.ndarray  # the stimulus has a rejected row in the group
    muscle: dict[Any, Any] | None


def _group_arrays(df: pd.DataFrame, presence: str) -> _Arrays | None:
    """The pivots of one group (``df`` with its rejected rows, column ``_rej``)."""
    rej = df["_rej"].to_numpy(bool)
    rej_stims = np.unique(df["stim_index"].to_numpy()[rej])
    df = df[~rej]
    if df.empty:
        return None
    piv = df.pivot_table(
        index="stim_index", columns="channel", values=presence, aggfunc="max", sort=True
    )
    amp = df.pivot_table(
        index="stim_index", columns="channel", values="p2p_uv", aggfunc="max", sort=True
    ).reindex(index=piv.index, columns=piv.columns)
    has_lat = "latency_ms" in df.columns
    lat = (
        df.pivot_table(
            index="stim_index", columns="channel", values="latency_ms", aggfunc="max", sort=True
        ).reindex(index=piv.index, columns=piv.columns)
        if has_lat
        else None
    )
    times = df.groupby("stim_index")["stim_time_s"].first().reindex(piv.index).to_numpy(float)
    far = None
    far_col = _far_column(df, presence)
    if far_col is not None:
        far = (
            df.pivot_table(
                index="stim_index",
                columns="channel",
                values=far_col,
                aggfunc="max",
                sort=True,
            )
            .reindex(index=piv.index, columns=piv.columns)
            .to_numpy(float)
        )
    stim = piv.index.to_numpy()
    muscle = df.groupby("channel")["muscle"].first().to_dict() if "muscle" in df.columns else None
    return _Arrays(
        stim=stim,
        times=times,
        channels=list(piv.columns),
        pres=piv.to_numpy(dtype=float),  # NaN where a channel's stimulus was rejected
        amp=amp.to_numpy(float),
        lat=lat.to_numpy(float) if lat is not None else None,
        far=far,
        rej_stim=np.isin(stim, rej_stims),
        muscle=muscle,
    )


def _group_rows(
    df: pd.DataFrame, presence: str, onsets: Mapping[str, float], o: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Rows of one (kind, montage) group: its channels, then ``overall``.

    ``df`` holds the rejected rows too (column ``_rej``): they are left out of every series,
    and a stimulus with a rejected channel and no response on the others is left out of the
    ``overall`` series (unknown, not absent).
    """
    arr = _group_arrays(df, presence)
    return [] if arr is None else _rows_of_arrays(arr, onsets, o)


def _rows_of_arrays(
    arr: _Arrays, onsets: Mapping[str, float], o: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The trend rows of one group from its arrays (:func:`_group_rows`)."""
    pres = arr.pres
    valid = ~np.isnan(pres)
    p = np.nan_to_num(pres).astype(bool)
    a = np.nan_to_num(arr.amp)
    la = arr.lat if arr.lat is not None else np.full(p.shape, np.nan)
    times, stim, far = arr.times, arr.stim, arr.far
    rows, fars = [], []
    for j in range(len(arr.channels)):  # loop over channels only
        v = valid[:, j]
        rows.append(_one_series(p[v, j], a[v, j], la[v, j], times[v], stim[v], onsets, o))
        fars.append(float(np.nansum(far[v, j])) if far is not None else None)
    # overall: the LSR is present when any channel shows it
    any_p = (p & valid).any(axis=1)
    v = valid.any(axis=1) & (any_p | ~arr.rej_stim)
    no_lat = np.full(int(v.sum()), np.nan)
    a_any = np.where(p[v], a[v], 0.0).max(axis=1)  # the largest present response
    r = _one_series(any_p[v], a_any, no_lat, times[v], stim[v], onsets, o)
    far_all = None
    if far is not None:
        f = np.nan_to_num(far[v])
        far_all = float(np.sum(1.0 - np.prod(1.0 - f, axis=1)))
    return _finish_rows(arr.channels, rows, fars, arr.muscle, r, far_all, o)


def _finish_rows(
    channels: list[Any],
    series: list[dict[str, Any]],
    fars: list[float | None],
    muscle: dict[Any, Any] | None,
    overall: dict[str, Any],
    far_all: float | None,
    o: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The rows of one group from the rows of its channels' series and of its overall series
    (and their expected false sweeps): the channels, then ``overall``, whose amplitude measures
    are those of the least-reduced elicited channel (the overall LSR is reduced only if every
    one is)."""
    rows = []
    for name, r, fs in zip(channels, series, fars, strict=True):
        r = {"channel": name, **({"muscle": muscle.get(name)} if muscle is not None else {}), **r}
        if fs is not None:
            r["expected_false_sweeps"] = fs
        rows.append(r)
    r = overall
    el = [x for x in rows if x["status"] != "not_elicited" and np.isfinite(x["reduction_pct"])]
    if el:
        best = min(el, key=lambda x: x["reduction_pct"])
        for key in (
            "baseline_presence",
            "final_presence",
            "baseline_p2p_uv",
            "final_p2p_uv",
            "final_over_baseline",
            "reduction_pct",
            "baseline_latency_ms",
            "final_latency_ms",
        ):
            r[key] = best[key]
        if r["status"] in ("persisted", "partial"):
            r["status"] = (
                "partial" if r["reduction_pct"] >= o["partial_reduction_pct"] else "persisted"
            )
    r = {"channel": "overall", **({"muscle": ""} if muscle is not None else {}), **r}
    if far_all is not None:
        r["expected_false_sweeps"] = far_all
    rows.append(r)
    return rows


def lsr_trend(
    lsr: pd.DataFrame,
    *,
    phases: Any = None,
    baseline_n: int = 10,
    final_n: int = 20,
    consecutive_absent: int = 5,
    min_baseline_present: float = 0.5,
    until_end: bool = True,
    presence: str = "auto",
    min_present_run: int = 2,
    partial_reduction_pct: float = 15.0,
    transient_min_s: float = 10.0,
    amplitude: str = "present_only",
    min_window_present: float = 0.2,
) -> pd.DataFrame:
    """LSR course per channel (per montage) and overall: status, phase of loss, reduction.

    Definitions (each threshold is a parameter):

    - **Unit of the verdict**: one stimulation site recorded in one muscle, i.e. one
      (``montage`` = stimulated branch, ``channel`` / ``muscle``) pair, the way LSR montages
      are described and monitored (zygomatic -> mentalis, marginal mandibular -> orbicularis
      oculi, run alternately: Park et al. 2023; Lee et al. 2018); each pair has its own row,
      status and loss, counted over the stimuli of its own montage only. With alternating
      montages a muscle therefore has one row per montage in which it is an LSR channel (and
      none in the montage that stimulates its own branch). A pair is lost at most once at the
      end of a session; an earlier loss from which the LSR came back is a transient loss or a
      reappearance (``n_losses``, ``n_reappearances``), never a second disappearance.
    - **Presence** per stimulus: the ``presence`` column (``"match_present"``, the matched
      detector of :func:`hfs_emg.measure_lsr`, by default; ``"present"`` the single-trial
      detector); ``kind == "direct"`` rows are ignored. **Rejected** stimuli (``rejected``:
      clipped or saturated, electrocautery, artefact residual) are neutral: neither present
      nor absent, they neither interrupt nor extend an absence. In the ``overall`` series a
      stimulus with a rejected channel counts only if another channel shows the LSR.
    - ``not_elicited``: fewer than ``min_baseline_present`` of the first ``baseline_n``
      stimuli of the session show an LSR (the "not detected" group of El Damaty 2016 and Al
      Menabbawy 2025).
    - **Loss episode**: at least ``consecutive_absent`` absent stimuli in a row. It starts at the
      first absent stimulus after the last response; once it is established (``consecutive_absent``
      absent), a run of presence shorter than ``min_present_run`` does not end it (an isolated
      false alarm), a longer one does (the LSR is back: a reappearance).
    - ``disappeared`` (total loss, El Damaty 2016): a loss episode that lasts to the end of the
      session (``until_end=True``; with ``until_end=False`` the first episode counts even if the
      LSR comes back, and ``reappearance_time_s`` gives its return).
    - ``transient_loss``: (``until_end=True`` only) a loss episode lasting at least
      ``transient_min_s`` seconds, after which the LSR returns and is present at the end
      (persistent vs transient loss is one of the definitions in use, as listed with Kim,
      letter, Neurosurgery 2020;87:E596; no paper found gives a duration: the default 10 s is a
      convention of this library, not from a paper). ``reappearance_time_s`` is its return.
    - ``partial`` (partial disappearance, El Damaty 2016): neither of those, and
      ``reduction_pct >= partial_reduction_pct``. El Damaty gives no numeric cut in the sources
      read (nor do Kong 2007, Joo 2008 or Pan 2025, whose FBCR cut-offs predict outcome, not
      a partial loss); the default 15 % is a convention of this library, not from a paper,
      derived as about three standard errors above
      the window-to-window variation of a stable LSR with a trial-to-trial amplitude CV of 15 %
      and a slow drift of 2 % (see ``docs/validation_mvd.md``; a larger drift makes a 30 %
      reduction indistinguishable from a fluctuating, persisting LSR). Pan et al. 2025's
      cut-offs (:data:`PAN_2025_FBCR_PCT`) are the values to apply to ``reduction_pct`` for
      prognosis.
    - ``persisted``: elicited, and none of the above (Thirumala et al. 2020: persistence of the
      final LSR predicts a persisting spasm, specificity about 89 %, sensitivity about 40 %).
    - **Loss time** ``disappearance_stim_index`` / ``disappearance_time_s``: the first absent
      stimulus of that episode, i.e. of the final absence (the time the LSR "disappeared and did
      not return"; a response in the fading sweeps just before it moves the date after it).
      ``loss_phase`` places it against the phase markers (Al Menabbawy 2025):
      ``"before_opening"``, ``"before_decompression"`` (during the dural opening or the
      arachnoid dissection), ``"after_decompression"``, ``"after_closure"``, or ``""`` without
      markers or loss; ``loss_after_marker`` names the last marker before it (opening vs
      dissection, the distinction of Al Menabbawy 2025) and ``loss_after_decompression_s`` is
      its time from the decompression marker (negative when earlier).
    - **Baseline and final windows** (Pan 2025 FBCR; baseline after dural opening and final at
      closure as Fukuda 2010 did for the facial MEP): baseline = the stimuli from the
      dural-opening marker to the decompression marker (without an opening marker, or when the
      LSR was already lost there, the first ``baseline_n`` of the session); final = the last
      ``final_n`` stimuli before the dural-closure marker (the last of the session without it).
      Both windows use the same rule: ``baseline_presence`` / ``final_presence`` are the
      fractions of stimuli with an LSR and ``baseline_p2p_uv`` / ``final_p2p_uv`` the mean p2p
      of the present responses (``amplitude="present_only"``), 0 when fewer than
      ``min_window_present`` of the window shows one; or, with ``amplitude="zero_filled"``, the
      mean with absent responses at 0 uV in both windows. ``final_over_baseline`` = final /
      baseline and ``reduction_pct`` = 100 (1 - final / baseline), Pan et al.'s FBCR.
    - **overall** row: the LSR counts as present when any channel shows it (status and loss);
      its amplitude measures are those of the least-reduced elicited channel, so the overall
      LSR is ``partial`` only when every channel is reduced.

    Parameters
    ----------
    lsr : pandas.DataFrame
        Output of :func:`hfs_emg.measure_lsr`: ``stim_index``, ``stim_time_s``, ``channel``,
        ``present``, ``p2p_uv`` and optionally ``kind``, ``rejected``, ``match_present``,
        ``latency_ms``, ``montage`` (one set of rows per montage) and ``false_alarm_rate`` /
        ``match_false_alarm_rate`` (the calibrated per-sweep false-alarm rate of the
        single-trial / matched detector; the one of the ``presence`` column used gives
        ``expected_false_sweeps``, the expected number of sweeps called present by chance).
    phases : DataFrame or mapping, optional
        Surgical phase markers: the output of :func:`hfs_emg.phase_markers`, an events table
        (e.g. ``Recording.events``; its labels are mapped with the default vocabulary) or a
        mapping phase -> onset (s). Without markers, the windows are the first and last
        stimuli and ``loss_phase`` is empty.
    baseline_n : int
        Stimuli of the baseline window and of the elicitation test.
    final_n : int
        Stimuli of the final window.
    consecutive_absent : int
        Absent stimuli in a row that make a loss.
    min_baseline_present : float
        Fraction of the first ``baseline_n`` stimuli with an LSR below which it is not elicited.
    until_end : bool
        A disappearance must last to the end (else the first loss counts).
    presence : {"auto", "present", "match_present"}
        Presence column (``"auto"``: ``match_present`` if there).
    min_present_run : int
        Shortest run of present stimuli that ends an established loss episode.
    partial_reduction_pct : float
        Reduction (%) from which an elicited, not lost LSR is ``partial`` (default 15 %: a
        convention of this library, not from a paper; see above).
    transient_min_s : float
        Shortest absence (s) that counts as a transient loss (default 10 s: a convention of
        this library, not from a paper).
    amplitude : {"present_only", "zero_filled"}
        How both windows average the amplitude (see above).
    min_window_present : float
        Presence below which a window's LSR amplitude is 0 (``"present_only"``).

    Returns
    -------
    pandas.DataFrame
        One row per channel plus ``channel == "overall"`` (per ``kind`` and ``montage`` when the
        table has several kinds or a montage column): ``channel``, ``muscle`` (when the table
        has one; ``""`` on ``overall``), ``n_stimuli`` (not rejected), ``n_present``,
        ``status``, ``n_losses`` (loss episodes), ``n_reappearances`` (episodes the LSR came
        back from), ``loss_phase``, ``loss_after_marker``,
        ``loss_after_decompression_s``, ``disappearance_stim_index``,
        ``disappearance_time_s``, ``reappearance_time_s``, ``baseline_presence``,
        ``final_presence``, ``baseline_p2p_uv``, ``final_p2p_uv``, ``final_over_baseline``,
        ``reduction_pct``, ``baseline_latency_ms``, ``final_latency_ms`` (median onset of the
        present responses in each window) and ``expected_false_sweeps`` when the table has a
        ``false_alarm_rate`` column.

    References
    ----------
    .. [1] El Damaty A, et al. The value of lateral spread response monitoring in predicting the
       clinical outcome after microvascular decompression in hemifacial spasm: a prospective
       study on 100 patients. Neurosurg Rev 2016;39:455-461 (total 56 %, partial 14 %).
    .. [2] Al Menabbawy A, et al. Acta Neurochir 2025, doi:10.1007/s00701-025-06642-0 (phase of
       loss: favourable outcome 100 / 91 / 79 % for opening / dissection / decompression).
    .. [3] Pan et al. Neurosurg Focus 2025, doi:10.3171/2025.6.FOCUS25436 (FBCR).
    .. [4] Thirumala PD, et al. Neurosurgery 2020;87:E473 (meta-analysis, 26 studies, 7,479
       patients: persistence of the final LSR).
    .. [5] Fukuda M, et al. J Neurol Neurosurg Psychiatry 2010;81:519 (final at dural closure).
    .. [6] Park SK, Joo BE, Park K. Intraoperative neurophysiological monitoring during
       microvascular decompression surgery for hemifacial spasm. Life 2023;13:1825 (two
       montages run alternately).
    .. [7] Lee S, Park SK, et al. Clin Neurophysiol 2018;129:1490 (stimulation sites and
       recording muscles of the LSR, 486 patients).

    Examples
    --------
    >>> from hfs_emg import measure_lsr
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> sim = simulate_lsr_session(n_stimuli=30, sfreq=5000.0, disappearance_index=20,
    ...                            fade_stimuli=3)
    >>> trend = lsr_trend(measure_lsr(sim.recording), baseline_n=5, final_n=5,
    ...                   consecutive_absent=5, phases={"decompression": 19.0})
    >>> trend[["channel", "status", "loss_phase"]].values.tolist()[-1]
    ['overall', 'disappeared', 'after_decompression']
    >>> row = trend.set_index("channel").loc["mentalis_L"]
    >>> int(row["disappearance_stim_index"]), float(row["reduction_pct"])
    (20, 100.0)
    """
    for col in ("stim_index", "stim_time_s", "channel", "present", "p2p_uv"):
        if col not in lsr.columns:
            raise ParameterError(f"lsr needs a {col!r} column (output of measure_lsr).")
    opts = _trend_options(
        baseline_n=baseline_n,
        final_n=final_n,
        consecutive_absent=consecutive_absent,
        min_baseline_present=min_baseline_present,
        until_end=until_end,
        presence=presence,
        min_present_run=min_present_run,
        partial_reduction_pct=partial_reduction_pct,
        transient_min_s=transient_min_s,
        amplitude=amplitude,
        min_window_present=min_window_present,
    )
    if presence == "auto":
        presence = "match_present" if "match_present" in lsr.columns else "present"
    if presence not in lsr.columns:
        raise ParameterError(f"lsr has no {presence!r} column (output of measure_lsr).")
    onsets = phase_onsets(phases)
    df = lsr
    if "kind" in df.columns:
        df = df[df["kind"] != "direct"]
    rej = df["rejected"].to_numpy(bool) if "rejected" in df.columns else np.zeros(len(df), bool)
    if rej.all():
        raise ParameterError("lsr holds no (non-rejected) LSR rows.")
    df = df.assign(**{presence: df[presence].fillna(False).astype(bool), "_rej": rej})
    keys = [k for k in ("kind", "montage") if k in df.columns]
    if "kind" in keys and df["kind"].nunique() <= 1:
        keys.remove("kind")
    groups: list[tuple[tuple[Any, ...], list[dict[str, Any]]]] = []
    whole = None
    if keys:
        for gkey, grp in df.groupby(keys, sort=True, dropna=False):  # loop over groups
            gvals = gkey if isinstance(gkey, tuple) else (gkey,)
            groups.append((gvals, _group_rows(grp, presence, onsets, opts)))
        if keys == ["montage"] and df["montage"].nunique(dropna=False) > 1:
            whole = _group_rows(df, presence, onsets, opts)
    else:
        whole = _group_rows(df, presence, onsets, opts)
    return _trend_frame(keys, groups, whole)


def _trend_options(**kw: Any) -> dict[str, Any]:
    """The checked options of :func:`lsr_trend` (``presence`` checked, not resolved)."""
    if int(kw["baseline_n"]) < 1 or int(kw["consecutive_absent"]) < 1 or int(kw["final_n"]) < 1:
        raise ParameterError("baseline_n, final_n and consecutive_absent must be >= 1.")
    check_option("presence", kw["presence"], ("auto", "present", "match_present"))
    check_option("amplitude", kw["amplitude"], ("present_only", "zero_filled"))
    for name in ("min_baseline_present", "min_window_present"):
        val = kw[name]
        if not 0.0 <= float(val) <= 1.0:
            raise ParameterError(f"{name} must be in [0, 1], got {val}.")
    return {
        "baseline_n": int(kw["baseline_n"]),
        "final_n": int(kw["final_n"]),
        "consecutive_absent": int(kw["consecutive_absent"]),
        "min_baseline_present": float(kw["min_baseline_present"]),
        "until_end": bool(kw["until_end"]),
        "min_present_run": int(kw["min_present_run"]),
        "partial_reduction_pct": float(kw["partial_reduction_pct"]),
        "transient_min_s": float(kw["transient_min_s"]),
        "amplitude": kw["amplitude"],
        "min_window_present": float(kw["min_window_present"]),
    }


def _trend_frame(
    keys: list[str],
    groups: list[tuple[tuple[Any, ...], list[dict[str, Any]]]],
    whole: list[dict[str, Any]] | None,
) -> pd.DataFrame:
    """The trend table from the rows of each group (in group order) and, with several montages
    (or without group keys), the rows of the whole table."""
    rows: list[dict[str, Any]] = []
    if keys:
        for gvals, grows in groups:
            for r in grows:
                rows.append({**dict(zip(keys, gvals, strict=True)), **r})
        if whole:
            # across montages: the LSR is present when any channel of any montage shows it
            rows.append({"montage": "all", **whole[-1]})
    elif whole:
        rows = whole
    return _frame_of_rows(rows)


@functools.cache
def _str_dtype() -> Any:
    """The dtype pandas infers for a column of Python strings."""
    return pd.DataFrame([{"x": "a"}])["x"].dtype


def _frame_of_rows(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``pd.DataFrame(rows)`` with ``disappearance_stim_index`` as ``Int64``, built column by
    column when every row has the same keys and each column one plain type (Python floats,
    ints or strings: the types pandas would infer, without its per-value inference): ~5x
    faster for the trend's ~10 rows x 23 columns, the same frame (``tests/test_trend_state.py``
    compares both). Anything else goes through ``pd.DataFrame``."""
    cols = list(rows[0]) if rows else []
    fast = bool(rows) and all(list(r) == cols for r in rows)
    out: dict[str, Any] = {}
    for c in cols if fast else ():
        vals = [r[c] for r in rows]
        kinds = {type(v) for v in vals}
        if c == "disappearance_stim_index" and kinds <= {int, type(None)}:
            out[c] = pd.array(vals, dtype="Int64")
        elif kinds <= {float, np.float64}:
            out[c] = np.array(vals, dtype=float)
        elif kinds == {int}:
            out[c] = np.array(vals, dtype=np.int64)
        elif kinds == {str}:
            out[c] = pd.array(vals, dtype=_str_dtype())
        else:
            fast = False
            break
    if fast:
        return frame_from_columns(out)
    frame = pd.DataFrame(rows)
    frame["disappearance_stim_index"] = frame["disappearance_stim_index"].astype("Int64")
    return frame


class _Column:
    """A 1-D array grown by appends (capacity x1.5 when full: amortised O(1))."""

    __slots__ = ("buf", "n")

    def __init__(self, dtype: Any) -> None:
        self.buf = np.empty(64, dtype)
        self.n = 0

    def append(self, x: Any) -> None:
        if self.n == self.buf.size:
            grown = np.empty(self.buf.size + self.buf.size // 2, self.buf.dtype)
            grown[: self.n] = self.buf
            self.buf = grown
        self.buf[self.n] = x
        self.n += 1

    def view(self) -> np.ndarray:
        return self.buf[: self.n]

    @property
    def nbytes(self) -> int:
        return int(self.buf.nbytes)


class _Episodes:
    """:func:`_loss_episodes` as a state machine fed one run of presence at a time.

    ``run(on, off, ...)`` is one iteration of the loop of :func:`_loss_episodes` (a run of
    present stimuli ``on .. off - 1``); :meth:`summary` applies the run still going on at the
    end of the series (if any) and the final check to a copy, so the summary of a series of
    any length costs O(1). Only what a verdict reads is kept (:data:`_EpisodeSummary`).
    """

    __slots__ = (
        "first",
        "gone",
        "min_run",
        "n_absent",
        "n_b",
        "n_ep",
        "skipped",
        "start",
        "start_stim",
        "start_t",
        "t_min",
    )  # fmt: skip

    def __init__(self, o: Mapping[str, Any]) -> None:
        self.n_absent = o["consecutive_absent"]
        self.min_run = o["min_present_run"]
        self.n_b = o["baseline_n"]
        self.t_min = o["transient_min_s"]
        self.start, self.skipped = 0, 0  # first absent stimulus after the last response
        self.start_t, self.start_stim = np.nan, 0  # its time and stimulus index
        self.n_ep = 0  # closed episodes
        self.first: tuple[float, int, float | None] | None = None
        self.gone: tuple[float, int, float | None] | None = None

    def copy(self) -> _Episodes:
        new = _Episodes.__new__(_Episodes)
        new.n_absent, new.min_run, new.n_b, new.t_min = (
            self.n_absent,
            self.min_run,
            self.n_b,
            self.t_min,
        )
        new.start, new.skipped, new.start_t, new.start_stim = (
            self.start,
            self.skipped,
            self.start_t,
            self.start_stim,
        )
        new.n_ep, new.first, new.gone = self.n_ep, self.first, self.gone
        return new

    def run(self, on: int, off: int, on_t: float, off_t: float, off_stim: int) -> None:
        """One run of presence (stimuli ``on`` .. ``off - 1``; ``off`` absent, at ``off_t``)."""
        n_abs = on - self.start - self.skipped
        if n_abs >= self.n_absent and off - on < self.min_run and on >= self.n_b:
            self.skipped += off - on  # a short run inside an established loss: absent
            return
        if n_abs >= self.n_absent:
            ep = (self.start_t, self.start_stim, on_t)
            self.n_ep += 1
            if self.first is None:
                self.first = ep
            if self.gone is None and on_t - self.start_t >= self.t_min:
                self.gone = ep
        self.start, self.skipped = off, 0
        self.start_t, self.start_stim = off_t, off_stim

    def summary(self, n: int, run_on: int | None, run_on_t: float) -> _EpisodeSummary:
        """The summary of the ``n`` stimuli so far (``run_on``: start of a run of presence
        lasting to the end, or None)."""
        c = self
        if run_on is not None:
            c = self.copy()
            c.run(run_on, n, run_on_t, np.nan, 0)
        open_ = (c.start_t, c.start_stim) if n - c.start - c.skipped >= c.n_absent else None
        first = c.first
        if first is None and open_ is not None:
            first = (open_[0], open_[1], None)
        return c.n_ep + (open_ is not None), c.n_ep, first, open_, c.gone


class _SeriesAcc:
    """One presence series (a channel of a group, or the group's overall presence) grown
    stimulus by stimulus: what :func:`_one_series` reads of it, and no more.

    Kept per stimulus: the time (the windows are found by bisection: times must not
    decrease), the presence (1 byte) and the expected-false-sweep term (the sum over the whole
    series is numpy's pairwise sum of every term, so the terms are kept); per *present*
    stimulus only: the amplitude and the latency (a window's means and median read the
    present responses only). The loss episodes are a state machine (:class:`_Episodes`).
    """

    __slots__ = (
        "a",
        "ep",
        "far",
        "lat",
        "n_present",
        "o",
        "p",
        "run_on",
        "run_on_t",
        "sorted",
        "t",
    )

    def __init__(self, o: Mapping[str, Any], has_lat: bool, has_far: bool) -> None:
        self.o = o
        self.t, self.p, self.a = _Column(float), _Column(bool), _Column(float)
        self.lat = _Column(float) if has_lat else None
        self.far = _Column(float) if has_far else None
        self.n_present = 0
        self.ep = _Episodes(o)
        self.run_on: int | None = None  # start of the run of presence going on
        self.run_on_t = np.nan
        self.sorted = True  # times never decreasing nor missing: windows by bisection

    @property
    def nbytes(self) -> int:
        cols = (self.t, self.p, self.a, self.lat, self.far)
        return sum(c.nbytes for c in cols if c is not None)

    def add(self, t: float, stim: int, p: bool, a: float, lat: float, far: float) -> None:
        """One stimulus: time, index, presence, amplitude (NaN as 0), latency, false-alarm
        term (NaN as 0)."""
        i = self.t.n
        if i == 0:
            self.ep.start_t, self.ep.start_stim = t, stim
        elif self.sorted and not t >= self.t.buf[i - 1]:
            self.sorted = False  # a time before the last (or missing): windows by masks
        if p:
            if self.run_on is None:
                self.run_on, self.run_on_t = i, t
            self.a.append(a)
            if self.lat is not None:
                self.lat.append(lat)
            self.n_present += 1
        elif self.run_on is not None:
            self.ep.run(self.run_on, i, self.run_on_t, t, stim)
            self.run_on = None
        self.t.append(t)
        self.p.append(p)
        if self.far is not None:
            self.far.append(far)

    def _window(self, lo: int, hi: int) -> tuple[float, float, float]:
        """(presence, amplitude, latency) of stimuli lo..hi-1: :func:`_window_amp` and the
        latency median of :func:`_one_series` on the same values in the same order."""
        if hi <= lo:
            return np.nan, np.nan, np.nan
        p = self.p.view()
        ps = p[lo:hi]
        c0 = int(np.count_nonzero(p[:lo]))
        c1 = c0 + int(np.count_nonzero(ps))
        pres = (c1 - c0) / (hi - lo)  # a bool mean: the exact count over the size
        amps = self.a.view()[c0:c1]  # the present responses of the window, in order
        if self.o["amplitude"] == "zero_filled":
            z = np.zeros(hi - lo)
            z[ps] = amps
            amp = float(z.mean())
        elif pres < self.o["min_window_present"] or c1 == c0:
            amp = 0.0
        else:
            amp = float(amps.mean())
        lat = np.nan
        if self.lat is not None:
            v = self.lat.view()[c0:c1]
            lat = _median(v[np.isfinite(v)].tolist())
        return pres, amp, lat

    def _window_at(self, sel: np.ndarray) -> tuple[float, float, float]:
        """:meth:`_window` of the stimuli at the indices ``sel`` (increasing)."""
        if sel.size == 0:
            return np.nan, np.nan, np.nan
        p = self.p.view()
        ps = p[sel]
        pres = float(ps.mean())
        pos = np.cumsum(p)[sel[ps]] - 1  # where the present ones are among the responses
        amps = self.a.view()[pos]
        if self.o["amplitude"] == "zero_filled":
            z = np.zeros(sel.size)
            z[ps] = amps
            amp = float(z.mean())
        elif pres < self.o["min_window_present"] or not ps.any():
            amp = 0.0
        else:
            amp = float(amps.mean())
        lat = np.nan
        if self.lat is not None:
            v = self.lat.view()[pos]
            lat = _median(v[np.isfinite(v)].tolist())
        return pres, amp, lat

    def _windows_unsorted(self, onsets: Mapping[str, float]) -> tuple[float, ...]:
        """The windows of :func:`_one_series` by its own masks (times out of order or
        missing: O(stimuli), as the table)."""
        base_sel, fin_sel = _window_indices(self.p.view(), self.t.view(), onsets, self.o)
        b_pres, b_amp, b_lat = self._window_at(base_sel)
        f_pres, f_amp, f_lat = self._window_at(fin_sel)
        return b_pres, b_amp, f_pres, f_amp, b_lat, f_lat

    def row(self, onsets: Mapping[str, float]) -> dict[str, Any]:
        """:func:`_one_series` of the series (O(1) but for the windows' means)."""
        o = self.o
        n_v = self.t.n
        n_b, n_f = o["baseline_n"], o["final_n"]
        p, t = self.p.view(), self.t.view()
        first = p[:n_b]
        elicited = np.count_nonzero(first) / first.size >= o["min_baseline_present"]
        eps = self.ep.summary(n_v, self.run_on, self.run_on_t)
        if not self.sorted:
            windows = self._windows_unsorted(onsets)
            return _series_verdict(n_v, self.n_present, elicited, eps, windows, onsets, o)
        # the windows of _one_series as index ranges (times sorted): t >= x from
        # searchsorted(t, x, "left"), t < x before it
        k_dec = int(np.searchsorted(t, onsets.get("decompression", np.inf), "left"))
        cands = []
        if "dura_opening" in onsets:
            lo = int(np.searchsorted(t, onsets["dura_opening"], "left"))
            cands.append((lo, max(lo, k_dec)))
        cands.append((0, min(k_dec, n_b)) if k_dec else (0, min(n_v, n_b)))
        base = cands[-1]
        for lo, hi in cands:
            if hi > lo and np.count_nonzero(p[lo:hi]) / (hi - lo) >= o["min_window_present"]:
                base = (lo, hi)
                break
        k_close = int(np.searchsorted(t, onsets.get("dural_closure", np.inf), "left"))
        hi = k_close if k_close else n_v
        b_pres, b_amp, b_lat = self._window(*base)
        f_pres, f_amp, f_lat = self._window(max(hi - n_f, 0), hi)
        windows = (b_pres, b_amp, f_pres, f_amp, b_lat, f_lat)
        return _series_verdict(n_v, self.n_present, elicited, eps, windows, onsets, o)

    def far_sum(self) -> float | None:
        """``np.nansum`` of the false-alarm terms (the NaN ones kept as 0: the same sum)."""
        return None if self.far is None else float(np.sum(self.far.view()))


def _median(v: list[float]) -> float:
    """``float(np.median(v))`` of finite values (NaN when empty), by sorting: the middle value
    or the mean of the two middle ones, each added to 0.0 first as ``np.mean`` does (the same
    value, the sign of a zero included; ``tests/test_trend_state.py``)."""
    if not v:
        return np.nan
    v = sorted(v)
    m = len(v) // 2
    return 0.0 + v[m] if len(v) % 2 else (0.0 + v[m - 1] + v[m]) / 2


def _num(x: float) -> float:
    """``np.nan_to_num`` of one value."""
    if x != x:
        return 0.0
    if x in (np.inf, -np.inf):
        return float(np.nan_to_num(x))
    return x


class _GroupAcc:
    """One group of the table (a kind x montage, or the whole table) grown sweep by sweep:
    a series per channel (sorted, as the pivot's columns) and the overall series."""

    def __init__(self, o: Mapping[str, Any], has_lat: bool, has_far: bool) -> None:
        self.o, self.has_lat, self.has_far = o, has_lat, has_far
        self.n = 0
        self.channels: list[Any] = []
        self.series: dict[Any, _SeriesAcc] = {}
        self.overall = _SeriesAcc(o, False, has_far)
        self.muscle: dict[Any, Any] = {}
        self._rows: tuple[Any, list[dict[str, Any]]] = (None, [])  # (key, rows) of the last

    @property
    def nbytes(self) -> int:
        return self.overall.nbytes + sum(s.nbytes for s in self.series.values())

    def add(self, stim: int, time: float, rej: bool, values: list[tuple[Any, ...]]) -> None:
        """One stimulus: its non-rejected rows (channel, presence, p2p, latency, far, muscle)."""
        per: dict[Any, list[float]] = {}
        for v in values:  # duplicates: the largest, as aggfunc="max"
            x = list(v[1:-1])
            old = per.get(v[0])
            if old is None:
                per[v[0]] = x
            else:
                per[v[0]] = [
                    b if np.isnan(a) else float(np.fmax(a, b)) for a, b in zip(old, x, strict=True)
                ]
            if v[0] not in self.muscle:
                self.muscle[v[0]] = v[-1]
        for ch in per:
            if ch not in self.series:  # a new channel: absent (not valid) before, as the pivot
                bisect.insort(self.channels, ch)
                self.series[ch] = _SeriesAcc(self.o, self.has_lat, self.has_far)
                # the pivot's new column is 0 in the earlier rows' largest present response
                # (only a negative amplitude can change: a rare, one-off pass)
                amps = self.overall.a.view()
                np.maximum(amps, 0.0, out=amps)
        any_p, a_any, prod = False, [], 1.0
        for ch in self.channels if len(per) > 1 else per:  # the pivot's column order
            x = per.get(ch)
            if x is None:
                continue  # no row: the pivot's NaN, a factor 1 and a 0 amplitude below
            p = bool(_num(x[0]))
            a = _num(x[1])
            lat = x[2] if self.has_lat else np.nan
            far = x[-1] if self.has_far else 0.0
            self.series[ch].add(time, stim, p, a, lat, 0.0 if far != far else far)  # nansum
            any_p |= p
            a_any.append(a if p else 0.0)
            prod *= 1.0 - _num(far)  # np.prod(1 - f, axis=1): left to right in column order
        if len(per) < len(self.channels):
            a_any.append(0.0)
        if any_p or not rej:
            self.overall.add(time, stim, any_p, max(a_any), np.nan, 1.0 - prod)
        self.n += 1

    def rows(self, onsets: Mapping[str, float], has_muscle: bool) -> list[dict[str, Any]]:
        """:func:`_rows_of_arrays` of the group (the last rows again while no stimulus came in
        and the onsets are the same: the other montage of an alternating session)."""
        key = (self.n, tuple(onsets.items()), has_muscle)
        if self._rows[0] == key:
            return self._rows[1]
        series = [self.series[ch] for ch in self.channels]
        rows = _finish_rows(
            list(self.channels),
            [s.row(onsets) for s in series],
            [s.far_sum() for s in series],
            dict(self.muscle) if has_muscle else None,
            self.overall.row(onsets),
            self.overall.far_sum(),
            self.o,
        )
        self._rows = (key, rows)
        return rows


class LsrTrendState:
    """:func:`lsr_trend` kept up to date sweep by sweep: push each sweep's rows, read the trend.

    Each series of the table (a channel of a montage / kind, the overall presence) is a
    state grown stimulus by stimulus: its loss episodes as a state machine (the episode rule of
    :func:`lsr_trend` applied run by run), and of its history only what a window can read
    (time, presence and false-alarm term per stimulus; amplitude and latency per present
    response). A trend then costs O(1) per series, whatever the session length, but for two
    contiguous reductions (a presence count, numpy's sum of the false-alarm terms: ~µs at
    14,400 stimuli) and the windows' means; the windows are found by bisection while the
    times never decrease (else by the masks of :func:`lsr_trend`). No pivots are built
    (those took ~50 ms at 720 stimuli, ~1 s at 14,400), no stimulus x channel matrices kept.
    The verdict is the code of :func:`lsr_trend` (``_series_verdict``, ``_finish_rows``), and
    :meth:`trend` equals ``lsr_trend(all pushed rows, phases=phases, **options)`` exactly
    (``tests/test_trend_state.py``: random sessions, late phase markers, every prefix),
    as long as :attr:`exact`: rows come in increasing ``stim_index`` per group (the order of
    :func:`hfs_emg.measure_lsr` and of a live monitor) with the same columns, no missing
    ``kind`` / ``montage`` / ``muscle`` values. When that does not hold :attr:`exact` becomes
    False and the caller should run :func:`lsr_trend` on the table.

    Parameters
    ----------
    **options
        The keyword options of :func:`lsr_trend` (``baseline_n``, ``final_n``,
        ``consecutive_absent``, ``presence``...), ``phases`` excepted (given to :meth:`trend`).

    Examples
    --------
    >>> from hfs_emg import measure_lsr
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> lsr = measure_lsr(simulate_lsr_session(n_stimuli=30, sfreq=5000.0,
    ...                                        disappearance_index=20).recording)
    >>> state = LsrTrendState(baseline_n=5, final_n=5)
    >>> for _, sweep in lsr.groupby("stim_index"):
    ...     state.push(sweep)
    >>> state.trend().equals(lsr_trend(lsr, baseline_n=5, final_n=5))
    True
    """

    def __init__(self, **options: Any) -> None:
        defaults = {
            "baseline_n": 10,
            "final_n": 20,
            "consecutive_absent": 5,
            "min_baseline_present": 0.5,
            "until_end": True,
            "presence": "auto",
            "min_present_run": 2,
            "partial_reduction_pct": 15.0,
            "transient_min_s": 10.0,
            "amplitude": "present_only",
            "min_window_present": 0.2,
        }
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ParameterError(f"unknown lsr_trend options {unknown}; known: {list(defaults)}.")
        kw = {**defaults, **options}
        self._opts = _trend_options(**kw)
        self._presence_opt = str(kw["presence"])
        self.exact = True
        self._cols: list[str] | None = None
        self._groups: dict[tuple[Any, Any], _GroupAcc] = {}
        self._whole: _GroupAcc | None = None
        # while the table has a single group, the whole table is that group: one state for both
        self._whole_alias = True
        self._kinds: set[Any] = set()
        self._montages: set[Any] = set()
        self._n_rows = 0  # kept (not direct) rows
        self._n_valid = 0  # ... not rejected
        self._last: dict[Any, int] = {}

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays the state holds (their capacity)."""
        accs = [*self._groups.values(), *([self._whole] if self._whole is not None else [])]
        return sum(acc.nbytes for acc in accs)

    def push(self, rows: pd.DataFrame) -> None:
        """Add rows of :func:`hfs_emg.measure_lsr` (one or more sweeps, in stimulus order)."""
        if rows.empty or not self.exact:
            return
        cols = list(rows.columns)
        if self._cols is None:
            for col in ("stim_index", "stim_time_s", "channel", "present", "p2p_uv"):
                if col not in cols:
                    raise ParameterError(f"lsr needs a {col!r} column (output of measure_lsr).")
            pres = self._presence_opt
            if pres == "auto":
                pres = "match_present" if "match_present" in cols else "present"
            if pres not in cols:
                raise ParameterError(f"lsr has no {pres!r} column (output of measure_lsr).")
            self._cols, self._presence = cols, pres
            self._far = _far_column(rows, pres)
            self._has = {c: c in cols for c in ("kind", "montage", "muscle", "latency_ms")}
            self._has["rejected"] = "rejected" in cols
        elif cols != self._cols:
            self.exact = False
            return
        has = self._has
        # the columns as arrays, then the rows kept (no filtered DataFrame, no Series per sweep)
        n_all = len(rows)
        arrays = column_arrays(rows)
        keep = as_numpy(arrays["kind"], object) != "direct" if has["kind"] else np.ones(n_all, bool)
        if not keep.any():
            return

        def take(col: str, dtype: Any = None) -> np.ndarray:
            return as_numpy(arrays[col], dtype)[keep]

        n = int(keep.sum())
        rej = take("rejected", bool) if has["rejected"] else np.zeros(n, bool)
        kind = take("kind", object) if has["kind"] else np.full(n, None, object)
        mont = take("montage", object) if has["montage"] else np.full(n, None, object)
        musc = take("muscle", object) if has["muscle"] else np.full(n, "", object)
        if (has["kind"] and pd.isna(kind).any()) or (has["montage"] and pd.isna(mont).any()):
            self.exact = False
            return
        if has["muscle"] and pd.isna(musc[~rej]).any():
            self.exact = False  # pandas' groupby "first" of missing muscles depends on dtype
            return
        self._kinds.update(kind.tolist() if has["kind"] else [])
        self._montages.update(mont.tolist() if has["montage"] else [])
        self._n_rows += n
        self._n_valid += int((~rej).sum())
        stim = take("stim_index")
        t = take("stim_time_s", float)
        ch = take("channel", object)
        pcol = arrays[self._presence]
        if pcol.dtype == bool:
            p = as_numpy(pcol)[keep].astype(float)
        else:  # fillna(False).astype(bool), value by value
            raw = as_numpy(pcol, object)[keep]
            p = np.where(pd.isna(raw), False, raw).astype(bool).astype(float)
        vals = [p, take("p2p_uv", float)]
        if has["latency_ms"]:
            vals.append(take("latency_ms", float))
        if self._far is not None:
            vals.append(take(self._far, float))
        # each (group, stimulus) and (whole, stimulus): its rows in table order
        per: dict[tuple[Any, ...], list[int]] = {}
        for i in range(n):  # rows of the pushed sweeps (a few per sweep), not samples
            per.setdefault(((kind[i], mont[i]), int(stim[i])), []).append(i)
            per.setdefault((None, int(stim[i])), []).append(i)
        has_far = self._far is not None
        if self._whole_alias and len(set(self._groups) | {g for g, _ in per if g is not None}) > 1:
            self._whole_alias = False  # a second group: the whole table gets its own state
            if self._groups:  # the single group so far is the whole table until now
                ((g1, acc1),) = self._groups.items()
                self._whole = copy.deepcopy(acc1)
                if g1 in self._last:
                    self._last[None] = self._last[g1]
        for (gkey, s), idx in per.items():
            if gkey is None:
                if self._whole_alias:
                    continue
                acc = self._whole
                if acc is None:
                    acc = self._whole = _GroupAcc(self._opts, has["latency_ms"], has_far)
            else:
                acc = self._groups.get(gkey)
                if acc is None:
                    acc = self._groups[gkey] = _GroupAcc(self._opts, has["latency_ms"], has_far)
            ok = [i for i in idx if not rej[i]]
            if not ok:
                continue  # every row of this stimulus rejected: not in the pivot
            if s <= self._last.get(gkey, -(1 << 62)):
                self.exact = False  # out of order (or split over pushes): the caller recomputes
                return
            self._last[gkey] = s
            tt = next((t[i] for i in ok if np.isfinite(t[i])), np.nan)
            values = [(ch[i], *(v[i] for v in vals), musc[i]) for i in ok]
            acc.add(s, float(tt), bool(rej[idx].any()), values)

    def trend(self, *, phases: Any = None) -> pd.DataFrame:
        """``lsr_trend`` of every row pushed so far, with these phase markers.

        Parameters
        ----------
        phases : DataFrame or mapping, optional
            As in :func:`lsr_trend`.

        Returns
        -------
        pandas.DataFrame
            The table of :func:`lsr_trend`.
        """
        if not self.exact:
            raise ParameterError(
                "LsrTrendState is not exact any more (rows out of order or with other "
                "columns): run lsr_trend on the table."
            )
        if self._cols is None or self._n_valid == 0:
            raise ParameterError("lsr holds no (non-rejected) LSR rows.")
        onsets = phase_onsets(phases)
        has = self._has
        multi_kind = has["kind"] and len(self._kinds) > 1
        keys = (["kind"] if multi_kind else []) + (["montage"] if has["montage"] else [])
        hm = has["muscle"]
        whole_acc = self._whole
        if self._whole_alias:
            whole_acc = next(iter(self._groups.values()), None)
        groups: list[tuple[tuple[Any, ...], list[dict[str, Any]]]] = []
        whole = None
        if keys:
            for (kind, mont), acc in sorted(
                self._groups.items(), key=lambda kv: tuple(x for x in kv[0] if x is not None)
            ):
                gvals = ((kind,) if multi_kind else ()) + ((mont,) if has["montage"] else ())
                groups.append((gvals, acc.rows(onsets, hm) if acc.n else []))
            if keys == ["montage"] and len(self._montages) > 1 and whole_acc is not None:
                whole = whole_acc.rows(onsets, hm)
        elif whole_acc is not None and whole_acc.n:
            whole = whole_acc.rows(onsets, hm)
        return _trend_frame(keys, groups, whole)
