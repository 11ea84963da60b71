"""Facial nerve-conduction measures: CMAP (M-wave), F-waves and the blink reflex.

All three build on :func:`hfs_emg.measure_responses` (onset = first departure from baseline,
presence = envelope above k x baseline noise for a minimum time AND an absolute p2p floor) and
accept a :class:`~hfs_emg.Recording` (stimuli found, artefact removed by exponential-decay
fitting, epochs cut) or ready-made :class:`~hfs_emg.epochs.Epochs`. Events may carry a ``side``
column (the stimulated side), which decides ipsilateral vs contralateral.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._errors import ParameterError
from .epochs import Epochs
from .recording import Recording
from .responses import measure_response_array, stimulus_epochs

__all__ = ["measure_blink_reflex", "measure_cmap", "measure_f_waves"]


def _stim_sides(epochs: Epochs, stim_side: str | None) -> np.ndarray:
    if "side" in epochs.events.columns:
        return epochs.events["side"].astype(object).to_numpy()
    return np.full(epochs.n_epochs, stim_side, dtype=object)


def measure_cmap(
    rec_or_epochs: Recording | Epochs,
    *,
    window_ms: tuple[float, float] = (2.5, 20.0),
    affected_side: str | None = None,
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    artifact_method: str | None = "decay",
    artifact_window_s: tuple[float, float] = (-0.0003, 0.0025),
    tmin: float = -0.01,
    tmax: float = 0.03,
    **measure_kw: Any,
) -> pd.DataFrame:
    """Compound muscle action potential (M-wave) per channel, with side-to-side comparison.

    Each channel is measured on the average of the epochs whose stimulated side (events column
    ``side``) is the channel's side (all epochs when either is unknown).

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Recording (stimuli found, artefact fitted away, epoched) or epochs.
    window_ms : (float, float)
        Search window (ms).
    affected_side : {"left", "right"}, optional
        Side whose ratio and degeneration are reported; default the side with the smaller CMAP.
    events, source, label
        Stimulus events, or how to find them (:func:`hfs_emg.find_stim_events`).
    artifact_method, artifact_window_s
        Artefact suppression (:func:`hfs_emg.blank_stimulus_artifact`); exponential decay by
        default because the CMAP starts 3-4 ms after the stimulus, inside the artefact tail.
    tmin, tmax : float
        Epoch window (s).
    **measure_kw
        Options of :func:`hfs_emg.measure_responses`.

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``muscle``, ``side``, ``n_epochs``, ``present``,
        ``latency_ms`` (onset), ``neg_peak_uv`` (baseline to negative peak), ``p2p_uv``,
        ``duration_ms``, ``area_uv_ms``, ``amplitude_ratio`` (this side / other side, same
        muscle) and ``degeneration_pct`` = ``100 * (1 - ratio)`` (electroneurography), filled on
        the affected side's row.

    References
    ----------
    .. [1] Fisch U. Prognostic value of electrical tests in acute facial paralysis. Am J Otol
       1984;5:494-498 (electroneurography, degeneration from the side-to-side CMAP ratio).
    .. [2] Guntinas-Lichius O et al. Facial nerve electrodiagnostics for patients with facial
       palsy: a clinical practice guideline. Eur Arch Otorhinolaryngol 2020;277:1855-1874.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=2, n_blink_stimuli=1)
    >>> cmap = measure_cmap(sim.cmap)
    >>> cmap["channel"].tolist()
    ['nasalis_L', 'nasalis_R']
    >>> bool((cmap["latency_ms"] - sim.cmap_truth["latency_ms"]).abs().max() < 0.3)
    True
    >>> round(float(cmap["degeneration_pct"].iloc[0]))
    40
    """
    ep = stimulus_epochs(
        rec_or_epochs,
        events=events,
        source=source,
        label=label,
        artifact_method=artifact_method,
        artifact_window_s=artifact_window_s,
        tmin=tmin,
        tmax=tmax,
    )
    sides = _stim_sides(ep, None)
    ch_side = ep.channels["side"].to_numpy(object)
    use = (sides[:, None] == ch_side[None, :]) | pd.isna(sides)[:, None]
    use |= pd.isna(ch_side)[None, :]
    use &= ~ep.bad
    n = use.sum(axis=0)
    if (n == 0).any():
        missing = [c for c, k in zip(ep.ch_names, n, strict=True) if k == 0]
        raise ParameterError(f"No usable (ipsilateral, unclipped) epoch for channel(s) {missing}.")
    avg = np.einsum("ect,ec->ct", ep.data, use.astype(float)) / n[:, None]
    res = measure_response_array(avg, ep.times, ep.sfreq, window_ms=window_ms, **measure_kw)
    tms = ep.times * 1e3
    w = (tms >= window_ms[0]) & (tms <= window_ms[1])
    out = pd.DataFrame(
        {
            "channel": ep.ch_names,
            "muscle": ep.channels["muscle"].to_numpy(object),
            "side": ch_side,
            "n_epochs": n,
            "present": res["present"],
            "latency_ms": res["latency_ms"],
            "neg_peak_uv": -avg[:, w].min(axis=1),
            "p2p_uv": res["p2p_uv"],
            "duration_ms": res["duration_ms"],
            "area_uv_ms": res["area_uv_ms"],
        }
    )
    out["amplitude_ratio"] = np.nan
    out["degeneration_pct"] = np.nan
    for _, grp in out.groupby("muscle", dropna=True):  # loop over muscles (a handful)
        if grp["side"].nunique() != 2 or len(grp) != 2:
            continue
        if affected_side is not None and affected_side in set(grp["side"]):
            aff = grp.index[grp["side"] == affected_side][0]
        else:
            aff = grp["p2p_uv"].idxmin()
        other = grp.index[grp.index != aff][0]
        ratio = out.at[aff, "p2p_uv"] / out.at[other, "p2p_uv"]
        out.at[aff, "amplitude_ratio"] = ratio
        out.at[aff, "degeneration_pct"] = 100.0 * (1.0 - ratio)
    return out


def _f_pass(
    ep: Epochs,
    template: np.ndarray,
    fit: np.ndarray,
    f_window_ms: tuple[float, float],
    measure_kw: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Subtract ``a * T + b * dT/dt`` fitted per trial on the M-wave part, measure the F-wave.

    The derivative term absorbs small trial-to-trial M-wave latency jitter (first-order Taylor
    shift), the scale term amplitude changes; both by linear least squares for all trials.
    """
    deriv = np.gradient(template, axis=-1)
    tf, df = template[:, fit], deriv[:, fit]
    xf = ep.data[..., fit]
    s_tt = (tf * tf).sum(-1)
    s_dd = (df * df).sum(-1)
    s_td = (tf * df).sum(-1)
    s_xt = (xf * tf).sum(-1)
    s_xd = (xf * df).sum(-1)
    det = s_tt * s_dd - s_td**2
    det = np.where(np.abs(det) > 0, det, np.inf)
    a = (s_xt * s_dd - s_xd * s_td) / det
    b = (s_xd * s_tt - s_xt * s_td) / det
    resid = ep.data - a[..., None] * template - b[..., None] * deriv
    out = measure_response_array(resid, ep.times, ep.sfreq, window_ms=f_window_ms, **measure_kw)
    tms = ep.times * 1e3
    win = (tms >= f_window_ms[0]) & (tms <= f_window_ms[1])
    out["resid_energy"] = (resid[..., win] ** 2).mean(-1)
    return out


def measure_f_waves(
    rec_or_epochs: Recording | Epochs,
    *,
    m_window_ms: tuple[float, float] = (2.5, 12.0),
    f_window_ms: tuple[float, float] = (7.5, 30.0),
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    artifact_method: str | None = "decay",
    artifact_window_s: tuple[float, float] = (-0.0003, 0.0025),
    tmin: float = -0.01,
    tmax: float = 0.04,
    return_trials: bool = False,
    **measure_kw: Any,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """F-wave persistence, latencies, chronodispersion and F/M ratio per channel.

    Facial F-waves (Fmin about 9 ms) ride on the tail of the M-wave, so they are detected on the
    residual after subtracting the M-wave template, scaled and shifted per trial (least squares
    on the template and its time derivative over the M-wave part, ``m_window_ms[0]`` to
    ``f_window_ms[0]``). The template is first the median over stimuli (the M-wave is
    time-locked and constant with supramaximal stimulation), then the mean of the quietest 30 %
    of trials in the F window (at least 3), then the mean of the trials without an F-wave (when
    there are >= 3). The quietest trials are ranked by their raw energy in the F window (the
    M-wave tail is common to all trials, F-waves add energy). This removes the F-wave energy a
    median keeps when F-waves are frequent and similar in latency; with a persistence near
    100 % the template keeps part of the smallest F-waves and F amplitudes are underestimated.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Supramaximal stimuli of one side.
    m_window_ms, f_window_ms : (float, float)
        Search windows (ms) of the M-wave and of the F-wave.
    events, source, label, artifact_method, artifact_window_s, tmin, tmax
        As in :func:`measure_cmap`.
    return_trials : bool
        Also return the per-stimulus table.
    **measure_kw
        Options of :func:`hfs_emg.measure_responses` for the F-wave.

    Returns
    -------
    summary : pandas.DataFrame
        One row per channel: ``channel``, ``n_stimuli``, ``n_f``, ``persistence_pct``,
        ``f_min_latency_ms``, ``f_mean_latency_ms``, ``f_max_latency_ms``,
        ``chronodispersion_ms`` (max - min F latency), ``m_latency_ms``, ``m_p2p_uv``,
        ``f_mean_p2p_uv``, ``f_m_ratio_pct`` (mean F p2p / mean M p2p, %).
    trials : pandas.DataFrame
        Only with ``return_trials``: one row per (stimulus, channel): ``stim_index``,
        ``channel``, ``present``, ``latency_ms``, ``p2p_uv``, ``m_latency_ms``, ``m_p2p_uv``.

    References
    ----------
    .. [1] Fisher MA. F-waves - physiology and clinical uses. ScientificWorldJournal 2007;7:144.
    .. [2] Facial F-wave normative data (Fmin 8.97±0.53 ms, chronodispersion 0.80±0.31 ms) and
       HFS F/M ratio 6.9 % vs 3.8 % (Chin J Nerv Ment Dis 2019:577), see domain notes.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=20, n_blink_stimuli=1)
    >>> fw = measure_f_waves(sim.f_waves)
    >>> int(fw["n_f"].iloc[0]) == int(sim.f_wave_summary["n_f"].iloc[0])
    True
    """
    ep = stimulus_epochs(
        rec_or_epochs,
        events=events,
        source=source,
        label=label,
        artifact_method=artifact_method,
        artifact_window_s=artifact_window_s,
        tmin=tmin,
        tmax=tmax,
    )
    good = ~ep.bad
    m = measure_response_array(ep.data, ep.times, ep.sfreq, window_ms=m_window_ms)
    tms = ep.times * 1e3
    fit = (tms >= m_window_ms[0]) & (tms < f_window_ms[0])
    data = np.where(good[..., None], ep.data, np.nan)
    template = np.nanmedian(data, axis=0)
    f = _f_pass(ep, template, fit, f_window_ms, measure_kw)
    # quietest 30 % of trials (at least 3) after the end of the median M-wave: F-free candidates
    late = (tms >= f_window_ms[0]) & (tms <= f_window_ms[1])
    energy = (ep.data[..., late] ** 2).mean(-1)
    energy = np.where(good, energy, np.inf)
    n_quiet = np.clip(np.ceil(0.3 * good.sum(0)), min(3, ep.n_epochs), None).astype(int)
    rank = np.argsort(np.argsort(energy, axis=0), axis=0)
    for quiet in (rank < n_quiet[None, :], None):  # two refinement passes
        if quiet is None:
            quiet = good & ~f["present"]
            if not (quiet.sum(0) >= 3).all():
                break
        w = quiet.astype(float)
        template = np.einsum("ect,ec->ct", ep.data, w) / np.maximum(w.sum(0), 1)[:, None]
        f = _f_pass(ep, template, fit, f_window_ms, measure_kw)
    f_present = f["present"] & good
    n_e, n_c = ep.data.shape[:2]
    trials = pd.DataFrame(
        {
            "stim_index": np.repeat(
                ep.events["stim_index"].to_numpy()
                if "stim_index" in ep.events.columns
                else np.arange(n_e),
                n_c,
            ),
            "channel": np.tile(np.asarray(ep.ch_names, dtype=object), n_e),
            "present": f_present.reshape(-1),
            "latency_ms": np.where(f_present, f["latency_ms"], np.nan).reshape(-1),
            "p2p_uv": np.where(f_present, f["p2p_uv"], np.nan).reshape(-1),
            "m_latency_ms": m["latency_ms"].reshape(-1),
            "m_p2p_uv": m["p2p_uv"].reshape(-1),
            "rejected": ep.bad.reshape(-1),
        }
    )
    ok = trials[~trials["rejected"]]
    g = ok.groupby("channel", sort=False)
    summary = pd.DataFrame(
        {
            "n_stimuli": g.size(),
            "n_f": g["present"].sum(),
            "f_min_latency_ms": g["latency_ms"].min(),
            "f_mean_latency_ms": g["latency_ms"].mean(),
            "f_max_latency_ms": g["latency_ms"].max(),
            "m_latency_ms": g["m_latency_ms"].mean(),
            "m_p2p_uv": g["m_p2p_uv"].mean(),
            "f_mean_p2p_uv": g["p2p_uv"].mean(),
        }
    )
    summary.insert(2, "persistence_pct", 100.0 * summary["n_f"] / summary["n_stimuli"])
    summary.insert(
        6, "chronodispersion_ms", summary["f_max_latency_ms"] - summary["f_min_latency_ms"]
    )
    summary["f_m_ratio_pct"] = 100.0 * summary["f_mean_p2p_uv"] / summary["m_p2p_uv"]
    summary = summary.reset_index().rename(columns={"index": "channel"})
    if return_trials:
        return summary, trials
    return summary


def measure_blink_reflex(
    rec_or_epochs: Recording | Epochs,
    *,
    r1_window_ms: tuple[float, float] = (7.0, 17.0),
    r2_window_ms: tuple[float, float] = (20.0, 60.0),
    stim_side: str | None = None,
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    artifact_method: str | None = "decay",
    artifact_window_s: tuple[float, float] = (-0.0003, 0.0025),
    tmin: float = -0.02,
    tmax: float = 0.07,
    return_trials: bool = False,
    **measure_kw: Any,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Blink reflex R1, ipsi- and contralateral R2, side differences and synkinetic responses.

    Supraorbital stimulation evokes R1 (about 10 ms, ipsilateral orbicularis oculi) and R2
    (about 30 ms, both oculi). In hemifacial spasm the same stimulus also evokes *synkinetic*
    R1/R2 responses in lower facial muscles (orbicularis oris, mentalis) on the affected side
    (Auger 1979: all 23 patients; Nagahiro 1987: SR1 100 %, SR2 90 %, SR2c 95 %). Every
    (stimulus, channel) pair is measured in both windows; rows for orbicularis oculi are the
    blink reflex proper and rows for other muscles are flagged ``synkinetic``.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Supraorbital stimuli; events with a ``side`` column (stimulated side), or ``stim_side``.
    r1_window_ms, r2_window_ms : (float, float)
        Search windows (ms).
    stim_side : {"left", "right"}, optional
        Stimulated side when the events have no ``side`` column.
    events, source, label, artifact_method, artifact_window_s, tmin, tmax
        As in :func:`measure_cmap`.
    return_trials : bool
        Also return the per-(stimulus, channel, component) table.
    **measure_kw
        Options of :func:`hfs_emg.measure_responses`.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (stimulated side, channel, component): ``stim_side``, ``channel``,
        ``muscle``, ``component`` (``"R1"``/``"R2"``), ``relation``
        (``"ipsilateral"``/``"contralateral"``), ``synkinetic``, ``n_stimuli``, ``n_present``,
        ``latency_ms`` (mean onset of present responses), ``min_latency_ms``, ``p2p_uv`` (mean),
        ``side_diff_ms`` (left-stimulus minus right-stimulus latency for the same component,
        relation and muscle; normal R1 difference 0.36±0.69 ms).
    trials : pandas.DataFrame
        Only with ``return_trials``.

    References
    ----------
    .. [1] Kimura J. Electrically elicited blink reflex in diagnosis of multiple sclerosis.
       Brain 1975;98:413-426 (R1/R2 measurement).
    .. [2] Auger RG. Hemifacial spasm: clinical and electrophysiologic observations. Neurology
       1979;29:1261-1272.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=2, n_blink_stimuli=2)
    >>> br = measure_blink_reflex(sim.blink)
    >>> r1 = br.query("component == 'R1' and relation == 'ipsilateral' and not synkinetic")
    >>> r1["latency_ms"].round(0).tolist()
    [10.0, 10.0]
    """
    ep = stimulus_epochs(
        rec_or_epochs,
        events=events,
        source=source,
        label=label,
        artifact_method=artifact_method,
        artifact_window_s=artifact_window_s,
        tmin=tmin,
        tmax=tmax,
    )
    sides = _stim_sides(ep, stim_side)
    if pd.isna(sides).any():
        raise ParameterError(
            "The stimulated side is unknown: give events a 'side' column or pass stim_side=."
        )
    n_e, n_c = ep.data.shape[:2]
    ch_side = ep.channels["side"].to_numpy(object)
    muscles = ep.channels["muscle"].to_numpy(object)
    stim_index = (
        ep.events["stim_index"].to_numpy() if "stim_index" in ep.events.columns else np.arange(n_e)
    )
    parts = []
    for comp, win in (("R1", r1_window_ms), ("R2", r2_window_ms)):  # two components
        r = measure_response_array(ep.data, ep.times, ep.sfreq, window_ms=win, **measure_kw)
        present = r["present"] & ~ep.bad
        parts.append(
            pd.DataFrame(
                {
                    "stim_index": np.repeat(stim_index, n_c),
                    "stim_side": np.repeat(sides, n_c),
                    "channel": np.tile(np.asarray(ep.ch_names, dtype=object), n_e),
                    "muscle": np.tile(muscles, n_e),
                    "component": comp,
                    "relation": np.where(
                        np.repeat(sides, n_c) == np.tile(ch_side, n_e),
                        "ipsilateral",
                        "contralateral",
                    ),
                    "synkinetic": np.tile(muscles != "orbicularis_oculi", n_e),
                    "present": present.reshape(-1),
                    "latency_ms": np.where(present, r["latency_ms"], np.nan).reshape(-1),
                    "p2p_uv": np.where(present, r["p2p_uv"], np.nan).reshape(-1),
                    "rejected": ep.bad.reshape(-1),
                }
            )
        )
    trials = pd.concat(parts, ignore_index=True)
    keys = ["stim_side", "channel", "muscle", "component", "relation", "synkinetic"]
    g = trials[~trials["rejected"]].groupby(keys, sort=True, dropna=False)
    summary = g.agg(
        n_stimuli=("present", "size"),
        n_present=("present", "sum"),
        latency_ms=("latency_ms", "mean"),
        min_latency_ms=("latency_ms", "min"),
        p2p_uv=("p2p_uv", "mean"),
    ).reset_index()
    lat_l = summary["latency_ms"].where(summary["stim_side"] == "left")
    lat_r = summary["latency_ms"].where(summary["stim_side"] == "right")
    grp = [summary["component"], summary["relation"], summary["muscle"].fillna("")]
    summary["side_diff_ms"] = lat_l.groupby(grp).transform("mean") - lat_r.groupby(grp).transform(
        "mean"
    )
    if return_trials:
        return summary, trials
    return summary
