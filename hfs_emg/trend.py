"""The LSR course over an MVD: status, phase of loss and final-to-baseline reduction.

:func:`lsr_trend` turns the per-stimulus table of :func:`hfs_emg.measure_lsr` into one row per
LSR channel (per montage and response kind when the table has those columns) plus an
``overall`` row, with the definitions clinicians use:

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

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ParameterError
from ._validate import check_option
from .phases import phase_onsets
from .signal import mask_to_intervals

__all__ = [
    "LOSS_PHASES",
    "LSR_STATUSES",
    "PAN_2025_FBCR_PCT",
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
    n_b, n_f = o["baseline_n"], o["final_n"]
    out: dict[str, Any] = {
        "n_stimuli": int(n_v),
        "n_present": int(p.sum()),
        "status": "not_elicited",
        "loss_phase": "",
        "loss_after_marker": "",
        "loss_after_decompression_s": np.nan,
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
    if n_v == 0:
        return out
    elicited = p[:n_b].mean() >= o["min_baseline_present"]
    # short present runs after the first baseline_n sweeps count as absent for the loss rules
    p_dis = p.copy()
    if o["min_present_run"] > 1:
        r_on, r_off = mask_to_intervals(p)
        for s, e in zip(r_on, r_off, strict=True):  # runs, not samples
            if e - s < o["min_present_run"] and s >= n_b:
                p_dis[s:e] = False
    s_abs, e_abs = mask_to_intervals(~p_dis)
    long_runs = (e_abs - s_abs) >= o["consecutive_absent"]
    loss_k, back_k, status = None, None, None
    if elicited and long_runs.any():
        ends = long_runs & (e_abs == n_v)
        if not o["until_end"]:
            loss_k, status = int(s_abs[long_runs][0]), "disappeared"
        elif ends.any():
            loss_k, status = int(s_abs[ends][0]), "disappeared"
        else:
            t_stop = np.where(e_abs < n_v, t[np.minimum(e_abs, n_v - 1)], np.inf)
            gone = long_runs & (t_stop - t[s_abs] >= o["transient_min_s"])
            if gone.any():
                k = int(np.flatnonzero(gone)[0])
                loss_k, back_k, status = int(s_abs[k]), int(e_abs[k]), "transient_loss"
    # windows: baseline from the dural opening (before decompression), unless the LSR was
    # already lost by then; final = the last final_n sweeps before dural closure
    t_open = onsets.get("dura_opening", -np.inf)
    t_dec = onsets.get("decompression", np.inf)
    t_close = onsets.get("dural_closure", np.inf)
    idx = np.arange(n_v)
    cands = []
    if "dura_opening" in onsets:
        cands.append(idx[(t >= t_open) & (t < t_dec)])
    cands.append(idx[t < t_dec][:n_b] if np.any(t < t_dec) else idx[:n_b])
    base_sel = cands[-1]
    for c in cands:
        if c.size and p[c].mean() >= o["min_window_present"]:
            base_sel = c
            break
    before_close = idx[t < t_close]
    fin_sel = (before_close if before_close.size else idx)[-n_f:]
    b_pres, b_amp = _window_amp(p, a, base_sel, o["amplitude"], o["min_window_present"])
    f_pres, f_amp = _window_amp(p, a, fin_sel, o["amplitude"], o["min_window_present"])
    ratio = f_amp / b_amp if b_amp > 0 else np.nan

    def _lat(sel: np.ndarray) -> float:
        v = lat[sel][p[sel]]
        v = v[np.isfinite(v)]
        return float(np.median(v)) if v.size else np.nan

    out.update(
        baseline_presence=b_pres,
        final_presence=f_pres,
        baseline_p2p_uv=b_amp,
        final_p2p_uv=f_amp,
        final_over_baseline=ratio,
        reduction_pct=100.0 * (1.0 - ratio) if np.isfinite(ratio) else np.nan,
        baseline_latency_ms=_lat(base_sel),
        final_latency_ms=_lat(fin_sel),
    )
    if not elicited:  # no LSR to reduce: amplitudes kept, the ratio is meaningless
        out.update(final_over_baseline=np.nan, reduction_pct=np.nan)
        return out
    if status is None:
        red = out["reduction_pct"]
        partial = bool(np.isfinite(red) and red >= o["partial_reduction_pct"])
        status = "partial" if partial else "persisted"
    out["status"] = status
    if loss_k is not None:
        t_loss = float(t[loss_k])
        out["disappearance_stim_index"] = int(stim[loss_k])
        out["disappearance_time_s"] = t_loss
        out["loss_phase"], out["loss_after_marker"] = _loss_phase(t_loss, onsets)
        if "decompression" in onsets:
            out["loss_after_decompression_s"] = t_loss - onsets["decompression"]
        if back_k is not None:
            out["reappearance_time_s"] = float(t[back_k])
    return out


def _far_column(df: pd.DataFrame, presence: str) -> str | None:
    """The calibrated false-alarm-rate column of the presence column used, if any."""
    if presence == "match_present" and "match_false_alarm_rate" in df.columns:
        return "match_false_alarm_rate"
    return "false_alarm_rate" if "false_alarm_rate" in df.columns else None


def _group_rows(
    df: pd.DataFrame, presence: str, onsets: Mapping[str, float], o: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Rows of one (kind, montage) group: its channels, then ``overall``."""
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
    pres = piv.to_numpy(dtype=float)  # NaN where a channel's stimulus was rejected
    valid = ~np.isnan(pres)
    p = np.nan_to_num(pres).astype(bool)
    a = np.nan_to_num(amp.to_numpy(float))
    la = lat.to_numpy(float) if lat is not None else np.full(p.shape, np.nan)
    stim = piv.index.to_numpy()
    rows = []
    for j, name in enumerate(piv.columns):  # loop over channels only
        v = valid[:, j]
        r = _one_series(p[v, j], a[v, j], la[v, j], times[v], stim[v], onsets, o)
        r = {"channel": name, **r}
        if far is not None:
            r["expected_false_sweeps"] = float(np.nansum(far[v, j]))
        rows.append(r)
    # overall: the LSR is present when any channel shows it; its amplitude measures are those
    # of the least-reduced elicited channel (the overall LSR is reduced only if every one is)
    v = valid.any(axis=1)
    no_lat = np.full(int(v.sum()), np.nan)
    a_any = np.where(p[v], a[v], 0.0).max(axis=1)  # the largest present response
    r = _one_series(p[v].any(axis=1), a_any, no_lat, times[v], stim[v], onsets, o)
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
    r = {"channel": "overall", **r}
    if far is not None:
        f = np.nan_to_num(far[v])
        r["expected_false_sweeps"] = float(np.sum(1.0 - np.prod(1.0 - f, axis=1)))
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

    - **Presence** per stimulus: the ``presence`` column (``"match_present"``, the matched
      detector of :func:`hfs_emg.measure_lsr`, by default; ``"present"`` the single-trial
      detector). Rejected (clipped) stimuli are left out; ``kind == "direct"`` rows are ignored.
    - ``not_elicited``: fewer than ``min_baseline_present`` of the first ``baseline_n``
      stimuli of the session show an LSR (the "not detected" group of El Damaty 2016 and Al
      Menabbawy 2025).
    - ``disappeared`` (total loss, El Damaty 2016): absent for at least ``consecutive_absent``
      consecutive stimuli up to the end of the session (``until_end=True``; with
      ``until_end=False`` the first such run counts even if the LSR comes back). Runs of
      presence shorter than ``min_present_run`` after the first ``baseline_n`` stimuli count as
      absent (one false positive does not restart the count).
    - ``transient_loss``: (``until_end=True`` only) an absence of at least ``consecutive_absent``
      stimuli lasting at least ``transient_min_s`` seconds, after which the LSR returns and is
      present at the end (persistent vs transient loss is one of the definitions in use, as
      listed with Kim, letter, Neurosurgery 2020;87:E596; no paper found gives a duration: the
      default 10 s is a convention of this library, not from a paper). ``reappearance_time_s``
      is its return.
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
      stimulus of that run. ``loss_phase`` places it against the phase markers (Al Menabbawy
      2025): ``"before_opening"``, ``"before_decompression"`` (during the dural opening or the
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
        Shortest run of present stimuli that interrupts an absence.
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
        table has several kinds or a montage column): ``channel``, ``n_stimuli``,
        ``n_present``, ``status``, ``loss_phase``, ``loss_after_marker``,
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
    if int(baseline_n) < 1 or int(consecutive_absent) < 1 or int(final_n) < 1:
        raise ParameterError("baseline_n, final_n and consecutive_absent must be >= 1.")
    check_option("presence", presence, ("auto", "present", "match_present"))
    check_option("amplitude", amplitude, ("present_only", "zero_filled"))
    for name, val in (
        ("min_baseline_present", min_baseline_present),
        ("min_window_present", min_window_present),
    ):
        if not 0.0 <= float(val) <= 1.0:
            raise ParameterError(f"{name} must be in [0, 1], got {val}.")
    if presence == "auto":
        presence = "match_present" if "match_present" in lsr.columns else "present"
    if presence not in lsr.columns:
        raise ParameterError(f"lsr has no {presence!r} column (output of measure_lsr).")
    onsets = phase_onsets(phases)
    opts = {
        "baseline_n": int(baseline_n),
        "final_n": int(final_n),
        "consecutive_absent": int(consecutive_absent),
        "min_baseline_present": float(min_baseline_present),
        "until_end": bool(until_end),
        "min_present_run": int(min_present_run),
        "partial_reduction_pct": float(partial_reduction_pct),
        "transient_min_s": float(transient_min_s),
        "amplitude": amplitude,
        "min_window_present": float(min_window_present),
    }
    df = lsr
    if "kind" in df.columns:
        df = df[df["kind"] != "direct"]
    if "rejected" in df.columns:
        df = df[~df["rejected"].to_numpy(bool)]
    if df.empty:
        raise ParameterError("lsr holds no (non-rejected) LSR rows.")
    df = df.assign(**{presence: df[presence].fillna(False).astype(bool)})
    keys = [k for k in ("kind", "montage") if k in df.columns]
    if "kind" in keys and df["kind"].nunique() <= 1:
        keys.remove("kind")
    rows: list[dict[str, Any]] = []
    if keys:
        for gkey, grp in df.groupby(keys, sort=True, dropna=False):  # loop over groups
            gvals = gkey if isinstance(gkey, tuple) else (gkey,)
            for r in _group_rows(grp, presence, onsets, opts):
                rows.append({**dict(zip(keys, gvals, strict=True)), **r})
        if keys == ["montage"] and df["montage"].nunique(dropna=False) > 1:
            # across montages: the LSR is present when any channel of any montage shows it
            rows.append({"montage": "all", **_group_rows(df, presence, onsets, opts)[-1]})
    else:
        rows = _group_rows(df, presence, onsets, opts)
    out = pd.DataFrame(rows)
    out["disappearance_stim_index"] = out["disappearance_stim_index"].astype("Int64")
    return out
