"""Lateral spread response (LSR, abnormal muscle response AMR): per-stimulus measures and trend.

Stimulating one facial-nerve branch evokes a direct M-response in that branch's muscles and, in
hemifacial spasm, a lateral spread response near 10 ms in muscles of the *other* branches (Isu
et al. 1996; Møller & Jannetta 1985). :func:`measure_lsr` classifies every recorded channel as
``"direct"`` or ``"lsr"`` from its branch and the stimulated branch and measures every stimulus;
:func:`lsr_trend` turns the per-stimulus table into a per-channel verdict (persisted /
disappeared / not elicited) with the disappearance time.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ._errors import HfsEmgWarning, ParameterError
from ._validate import check_option
from .anatomy import BRANCHES, infer_branch
from .epochs import Epochs
from .recording import Recording
from .responses import _to_frame, measure_response_array, stimulus_epochs
from .signal import mask_to_intervals

__all__ = ["LSR_STATUSES", "lsr_running_amplitude", "lsr_trend", "measure_lsr"]

logger = logging.getLogger("hfs_emg")

#: Per-channel verdicts of :func:`lsr_trend`.
LSR_STATUSES: tuple[str, ...] = ("persisted", "disappeared", "not_elicited")


def _match_scores(
    epochs: Epochs,
    out: dict[str, np.ndarray],
    lsr_cols: np.ndarray,
    *,
    template_n: int,
    dur_ms: float,
    max_lag_ms: float,
    match_k: float,
) -> dict[str, np.ndarray]:
    """Matched-template amplitude of every epoch on the LSR channels.

    Per channel, the template is the mean of the first ``template_n`` detected responses,
    aligned on their onsets; every epoch is projected onto it at lags within ``max_lag_ms`` and
    the best positive projection gives ``match_ratio`` (amplitude relative to the template) and
    ``match_z`` (projection / noise SD, the matched-filter SNR for white noise).
    """
    n_e, n_c, n_t = epochs.data.shape
    fs = epochs.sfreq
    z = np.full((n_e, n_c), np.nan)
    ratio = np.full((n_e, n_c), np.nan)
    pre = max(1, round(0.5e-3 * fs))
    n_len = round(dur_ms * 1e-3 * fs) + pre
    n_lag = round(max_lag_ms * 1e-3 * fs)
    t0_idx = int(np.argmin(np.abs(epochs.times)))
    for c in np.flatnonzero(lsr_cols):  # loop over channels only
        det = np.flatnonzero(out["present"][:, c])[:template_n]
        if det.size < 3:
            continue
        on = out["latency_ms"][det, c]
        ref = float(np.median(on))
        start = t0_idx + round(ref * 1e-3 * fs) - pre
        shift = np.round((on - ref) * 1e-3 * fs).astype(np.int64)
        if (
            start - n_lag - np.abs(shift).max() < 0
            or start + n_lag + n_len + np.abs(shift).max() >= n_t
        ):
            continue
        x = epochs.data[:, c]
        tmpl = x[det[:, None], start + shift[:, None] + np.arange(n_len)].mean(axis=0)
        norm = float(np.sqrt(tmpl @ tmpl))
        if norm <= 0:
            continue
        # cross-correlation at every lag, accumulated over the template taps (a loop over taps,
        # not epochs) on one contiguous copy of the searched region
        unit = tmpl / norm
        region = np.ascontiguousarray(x[:, start - n_lag : start + n_lag + n_len])
        proj = np.zeros((n_e, 2 * n_lag + 1))
        for k in range(n_len):
            proj += unit[k] * region[:, k : k + 2 * n_lag + 1]
        best = proj.max(axis=1)
        z[:, c] = best / out["noise_uv"][:, c]
        ratio[:, c] = best / norm
    present = (z > match_k) & (ratio > 0.1)
    # no template (fewer than 3 detections): fall back on the single-trial detector
    present = np.where(np.isnan(z), out["present"], present)
    return {"match_z": z, "match_ratio": ratio, "match_present": present}


def measure_lsr(
    rec_or_epochs: Recording | Epochs,
    *,
    stim_branch: str | None = None,
    window_ms: tuple[float, float] = (6.0, 20.0),
    direct_window_ms: tuple[float, float] = (2.5, 15.0),
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    artifact_method: str | None = "interpolate",
    artifact_window_s: tuple[float, float] = (-0.0005, 0.003),
    tmin: float = -0.02,
    tmax: float = 0.05,
    template_n: int = 20,
    match_k: float = 5.0,
    **measure_kw: Any,
) -> pd.DataFrame:
    """Measure the LSR (and the direct response) for every stimulus and recorded EMG channel.

    From a :class:`~hfs_emg.Recording` the stimuli are found (:func:`hfs_emg.find_stim_events`,
    unless ``events`` is given), the artefact is suppressed
    (:func:`hfs_emg.blank_stimulus_artifact`), and epochs are cut (:func:`hfs_emg.make_epochs`,
    baseline from ``tmin`` to the artefact window). Each channel is ``"direct"`` when its
    facial-nerve branch is ``stim_branch`` and ``"lsr"`` otherwise; LSR channels are measured in
    ``window_ms`` and direct channels in ``direct_window_ms`` with
    :func:`hfs_emg.measure_responses`.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Continuous recording, or epochs already cut (artefact already suppressed).
    stim_branch : str, optional
        Stimulated branch (temporal, zygomatic, buccal, marginal_mandibular, cervical). Default
        ``meta["stim_branch"]`` of the recording; if unknown every channel is treated as LSR (with
        a warning).
    window_ms, direct_window_ms : (float, float)
        Search windows (ms after the stimulus) of the LSR and of the direct response.
    events : pandas.DataFrame, optional
        Stimulus events (``onset_s``); found automatically otherwise.
    source, label : str
        Passed to :func:`hfs_emg.find_stim_events`.
    artifact_method : {"interpolate", "template", "decay"} or None
        Artefact suppression (None = none).
    artifact_window_s : (float, float)
        Artefact window (s around each stimulus).
    tmin, tmax : float
        Epoch window (s).
    template_n : int
        Number of first detected responses per LSR channel averaged into the channel's
        template for the matched detector (``match_*`` columns).
    match_k : float
        Matched-detector threshold on ``match_z`` (default 5; with the lag search the
        false-alarm rate on noise is below 1e-4 per stimulus).
    **measure_kw
        Detection options of :func:`hfs_emg.measure_responses` (``k_noise``, ``band``,
        ``min_p2p_uv``, ``smooth_ms``, ``min_duration_ms``...).

    Returns
    -------
    pandas.DataFrame
        One row per (stimulus, channel): ``stim_index``, ``stim_time_s``, ``channel``,
        ``muscle``, ``kind`` (``"direct"``/``"lsr"``), ``present``, ``latency_ms``,
        ``peak_latency_ms``, ``p2p_uv``, ``area_uv_ms``, ``duration_ms``, ``snr_db``,
        ``noise_uv``, ``rejected``, ``reject_reason``, and for LSR channels the matched
        detector: ``match_z`` (projection on the channel's template / noise SD, best lag within
        1 ms), ``match_ratio`` (amplitude relative to the template) and ``match_present``
        (``match_z > match_k``). The matched detector sees a response down to about a third of
        the single-trial detection limit, which is what :func:`lsr_trend` uses by default to time
        a fading LSR's disappearance; ``present`` and the latency/amplitude columns come from
        the single-trial detector of :func:`hfs_emg.measure_responses`.

    References
    ----------
    .. [1] Isu T, Kamada K, Mabuchi S et al. Intra-operative monitoring by facial electromyographic
       responses during microvascular decompressive surgery for hemifacial spasm. Acta
       Neurochir 1996;138:19-23.
    .. [2] Møller AR, Jannetta PJ. Microvascular decompression in hemifacial spasm:
       intraoperative electrophysiological observations. Neurosurgery 1985;16:612-618.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> sim = simulate_lsr_session(n_stimuli=4, sfreq=5000.0, disappearance_index=2,
    ...                            fade_stimuli=0)
    >>> lsr = measure_lsr(sim.recording)
    >>> lsr.query("channel == 'mentalis_L'")["present"].tolist()
    [True, True, False, False]
    >>> sorted(lsr["kind"].unique())
    ['direct', 'lsr']
    """
    if isinstance(rec_or_epochs, Recording):
        if stim_branch is None:
            stim_branch = rec_or_epochs.meta.get("stim_branch")
        epochs = stimulus_epochs(
            rec_or_epochs,
            events=events,
            source=source,
            label=label,
            artifact_method=artifact_method,
            artifact_window_s=artifact_window_s,
            tmin=tmin,
            tmax=tmax,
        )
    elif isinstance(rec_or_epochs, Epochs):
        epochs = rec_or_epochs
    else:
        raise TypeError(
            f"rec_or_epochs must be a Recording or Epochs, got {type(rec_or_epochs).__name__}."
        )
    if stim_branch is None:
        # Files keep only the marker text ("stim zygomatic"): read the branch from it.
        named = set(epochs.events.get("stim_branch", pd.Series(dtype=object)).dropna())
        named |= {infer_branch(str(x)) for x in epochs.events.get("label", [])} - {None}
        if len(named) == 1:
            stim_branch = named.pop()
    if stim_branch is None:
        warnings.warn(
            "The stimulated branch is unknown (pass stim_branch=): every channel is measured as "
            "an LSR channel.",
            HfsEmgWarning,
            stacklevel=2,
        )
    else:
        check_option("stim_branch", stim_branch, BRANCHES)
    branches = epochs.channels["branch"].to_numpy(object)
    direct = np.array([b is not None and b == stim_branch for b in branches])
    out: dict[str, np.ndarray] = {}
    for is_direct, win in ((False, window_ms), (True, direct_window_ms)):  # two channel groups
        sel = direct == is_direct
        if not sel.any():
            continue
        part = measure_response_array(
            epochs.data, epochs.times, epochs.sfreq, window_ms=win, channels=sel, **measure_kw
        )
        for key, val in part.items():
            if key not in out:
                out[key] = np.zeros(epochs.data.shape[:2], dtype=val.dtype)
            out[key][:, sel] = val
    out.update(
        _match_scores(
            epochs,
            out,
            ~direct,
            template_n=int(template_n),
            dur_ms=6.0,
            max_lag_ms=1.0,
            match_k=match_k,
        )
    )
    out["match_present"] &= ~epochs.bad
    df = _to_frame(epochs, out)
    for key in ("match_z", "match_ratio", "match_present"):
        df[key] = out[key].reshape(-1)
    n_e = epochs.n_epochs
    df.insert(4, "muscle", np.tile(epochs.channels["muscle"].to_numpy(object), n_e))
    df.insert(5, "kind", np.tile(np.where(direct, "direct", "lsr").astype(object), n_e))
    return df.drop(columns=["epoch"])


def lsr_trend(
    lsr: pd.DataFrame,
    *,
    baseline_n: int = 10,
    consecutive_absent: int = 5,
    min_baseline_present: float = 0.5,
    until_end: bool = True,
    presence: str = "auto",
    min_present_run: int = 2,
) -> pd.DataFrame:
    """Per-channel and overall LSR course: baseline amplitude, final/baseline ratio, disappearance.

    Two literature framings use the same table and differ in the positive class: the 2020
    *Neurosurgery* meta-analysis (26 studies, 7,479 patients) treats **persistence** of the final
    LSR as predicting a persisting spasm (specificity about 89 %, sensitivity about 40 %), while
    the *World Neurosurgery* 2020;137:8-17 meta-analysis treats **disappearance** as predicting
    cure (sensitivity about 0.9, specificity about 0.3). Report which one you use. The
    final-to-baseline amplitude ratio (``final_baseline_ratio``) is the quantitative
    alternative of Pan et al. 2025 (mentalis FBCR).

    Rules (all configurable):

    - ``baseline_p2p_uv``: mean p2p of the present responses among the first ``baseline_n``
      measured stimuli; ``final_p2p_uv``: mean p2p (0 when absent) of the last ``baseline_n``.
    - ``not_elicited``: fewer than ``min_baseline_present`` of the first ``baseline_n`` stimuli
      show an LSR.
    - ``disappeared``: the LSR is absent for at least ``consecutive_absent`` consecutive
      stimuli up to the end of the session (``until_end=True``; with ``until_end=False`` the
      first such run counts even if the LSR comes back). ``disappearance_stim_index`` /
      ``disappearance_time_s`` are those of the first absent stimulus of that run.
    - otherwise ``persisted``.
    - ``presence`` picks the column that says whether a stimulus shows an LSR: ``"present"``
      (single-trial detector), ``"match_present"`` (matched-template detector of
      :func:`measure_lsr`, more sensitive to a fading LSR) or ``"auto"`` (the latter if present).
      For the disappearance only, runs of presence shorter than ``min_present_run`` stimuli
      that are not part of the baseline are treated as noise (a single false positive after
      the LSR has gone does not restart the count).

    Rejected (clipped) stimuli are left out. The ``overall`` row treats the LSR as present when
    any LSR channel shows it.

    Parameters
    ----------
    lsr : pandas.DataFrame
        Output of :func:`measure_lsr` (``kind == "direct"`` rows are ignored).
    baseline_n : int
        Number of stimuli of the baseline and final windows.
    consecutive_absent : int
        Absent stimuli in a row that make a disappearance.
    min_baseline_present : float
        Fraction of baseline stimuli with an LSR below which the LSR counts as not elicited.
    until_end : bool
        Require the LSR to stay absent to the end.
    presence : {"auto", "present", "match_present"}
        Presence column (see above).
    min_present_run : int
        Shortest run of present stimuli that interrupts an absence (disappearance rule only).

    Returns
    -------
    pandas.DataFrame
        One row per LSR channel plus ``channel == "overall"``: ``channel``, ``n_stimuli``,
        ``n_present``, ``baseline_p2p_uv``, ``final_p2p_uv``, ``final_baseline_ratio``,
        ``status``, ``disappearance_stim_index``, ``disappearance_time_s``.

    References
    ----------
    .. [1] Neurosurgery 2020 meta-analysis of the final LSR and spasm-free outcome (26 studies,
       7,479 patients; attributed to Thirumala et al.).
    .. [2] World Neurosurg 2020;137:8-17 (AMR disappearance and outcome, meta-analysis).
    .. [3] Pan et al. Neurosurg Focus 2025, doi:10.3171/2025.6.FOCUS25436 (final-to-baseline
       amplitude ratio).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> sim = simulate_lsr_session(n_stimuli=30, sfreq=5000.0, disappearance_index=20,
    ...                            fade_stimuli=3)
    >>> trend = lsr_trend(measure_lsr(sim.recording), baseline_n=5, consecutive_absent=5)
    >>> trend[["channel", "status"]].values.tolist()[-1]
    ['overall', 'disappeared']
    >>> int(trend.set_index("channel").loc["mentalis_L", "disappearance_stim_index"])
    20
    """
    for col in ("stim_index", "stim_time_s", "channel", "present", "p2p_uv"):
        if col not in lsr.columns:
            raise ParameterError(f"lsr needs a {col!r} column (output of measure_lsr).")
    if int(baseline_n) < 1 or int(consecutive_absent) < 1:
        raise ParameterError("baseline_n and consecutive_absent must be >= 1.")
    check_option("presence", presence, ("auto", "present", "match_present"))
    if presence == "auto":
        presence = "match_present" if "match_present" in lsr.columns else "present"
    if presence not in lsr.columns:
        raise ParameterError(f"lsr has no {presence!r} column (output of measure_lsr).")
    df = lsr
    if "kind" in df.columns:
        df = df[df["kind"] != "direct"]
    if "rejected" in df.columns:
        df = df[~df["rejected"].to_numpy(bool)]
    if df.empty:
        raise ParameterError("lsr holds no (non-rejected) LSR rows.")
    present = df.pivot_table(
        index="stim_index", columns="channel", values=presence, aggfunc="max", sort=True
    )
    amp = df.assign(a=np.where(df[presence], df["p2p_uv"], 0.0)).pivot_table(
        index="stim_index", columns="channel", values="a", aggfunc="max", sort=True
    )
    times = df.groupby("stim_index")["stim_time_s"].first().reindex(present.index).to_numpy()
    channels = list(present.columns)
    pres = present.to_numpy(dtype=float)  # NaN where a channel's stimulus was rejected
    valid = ~np.isnan(pres)
    p = np.nan_to_num(pres).astype(bool)
    a = np.nan_to_num(amp.to_numpy(float))
    # overall: present in any channel
    p = np.column_stack([p, p.any(axis=1)])
    a = np.column_stack([a, a.max(axis=1)])
    valid = np.column_stack([valid, valid.any(axis=1)])
    names = [*channels, "overall"]
    stim_idx = present.index.to_numpy()
    n = int(baseline_n)
    rows = []
    # isolated short present runs after the baseline count as absent for the disappearance
    p_dis = p.copy()
    if int(min_present_run) > 1:
        r_on, r_off, r_ch = mask_to_intervals(p.T)
        short = (r_off - r_on < int(min_present_run)) & (r_on >= n)
        lens = (r_off - r_on)[short]
        first_of = np.repeat(np.cumsum(lens) - lens, lens)
        r_idx = np.repeat(r_on[short], lens) + np.arange(lens.sum()) - first_of
        p_dis[r_idx, np.repeat(r_ch[short], lens)] = False
    # absent runs per channel (columns): mask_to_intervals on (channels, stimuli)
    starts, stops, chan = mask_to_intervals((~p_dis & valid).T)
    lengths = stops - starts
    for j, name in enumerate(names):  # loop over channels only
        vidx = np.flatnonzero(valid[:, j])
        first, last = vidx[:n], vidx[-n:]
        base_p = p[first, j]
        base_amp = float(a[first, j][base_p].mean()) if base_p.any() else np.nan
        final_amp = float(a[last, j].mean()) if last.size else np.nan
        mine = chan == j
        s_j, l_j, e_j = starts[mine], lengths[mine], stops[mine]
        long_runs = l_j >= int(consecutive_absent)
        if until_end:
            long_runs &= e_j >= (vidx[-1] + 1 if vidx.size else 0)
        if base_p.mean() < min_baseline_present if base_p.size else True:
            status, d_i, d_t = "not_elicited", None, np.nan
        elif long_runs.any():
            k = int(s_j[long_runs][0])
            status, d_i, d_t = "disappeared", int(stim_idx[k]), float(times[k])
        else:
            status, d_i, d_t = "persisted", None, np.nan
        rows.append(
            {
                "channel": name,
                "n_stimuli": int(vidx.size),
                "n_present": int(p[vidx, j].sum()),
                "baseline_p2p_uv": base_amp,
                "final_p2p_uv": final_amp,
                "final_baseline_ratio": final_amp / base_amp if base_amp > 0 else np.nan,
                "status": status,
                "disappearance_stim_index": d_i,
                "disappearance_time_s": d_t,
            }
        )
    out = pd.DataFrame(rows)
    out["disappearance_stim_index"] = out["disappearance_stim_index"].astype("Int64")
    return out


def lsr_running_amplitude(
    lsr: pd.DataFrame, *, window: int = 10, baseline_n: int = 10
) -> pd.DataFrame:
    """Running LSR amplitude per channel over the session, relative to its baseline.

    Parameters
    ----------
    lsr : pandas.DataFrame
        Output of :func:`measure_lsr` (direct and rejected rows are ignored).
    window : int
        Trailing window (stimuli) of the running mean; absent responses count as 0 uV.
    baseline_n : int
        First stimuli defining the baseline amplitude (mean of the present responses).

    Returns
    -------
    pandas.DataFrame
        One row per (stimulus, channel): ``stim_index``, ``stim_time_s``, ``channel``,
        ``running_p2p_uv``, ``running_ratio`` (running / baseline amplitude; the final value is
        the final-to-baseline ratio of Pan et al. 2025).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> sim = simulate_lsr_session(n_stimuli=30, sfreq=5000.0, rate_hz=5.0,
    ...                            disappearance_index=15, fade_stimuli=0)
    >>> run = lsr_running_amplitude(measure_lsr(sim.recording), window=5, baseline_n=5)
    >>> ment = run[run["channel"] == "mentalis_L"].set_index("stim_index")["running_ratio"]
    >>> bool(0.7 < ment[10] < 1.3), float(ment[29])
    (True, 0.0)
    """
    if int(window) < 1 or int(baseline_n) < 1:
        raise ParameterError("window and baseline_n must be >= 1.")
    df = lsr
    if "kind" in df.columns:
        df = df[df["kind"] != "direct"]
    if "rejected" in df.columns:
        df = df[~df["rejected"].to_numpy(bool)]
    amp = df.assign(a=np.where(df["present"], df["p2p_uv"], 0.0)).pivot_table(
        index="stim_index", columns="channel", values="a", aggfunc="max", sort=True
    )
    run = amp.rolling(int(window), min_periods=1).mean()
    first = amp.iloc[: int(baseline_n)]
    base = first.where(first > 0).mean()
    ratio = run / base
    times = df.groupby("stim_index")["stim_time_s"].first()
    out = (
        run.stack(future_stack=True)
        .rename("running_p2p_uv")
        .to_frame()
        .join(ratio.stack(future_stack=True).rename("running_ratio"))
        .reset_index()
    )
    out.insert(1, "stim_time_s", out["stim_index"].map(times))
    return out
