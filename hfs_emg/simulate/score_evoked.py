"""Score evoked-response measurements against simulator ground truth (for tests and benchmarks)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .evoked import NerveConductionSimulation, SimulatedSession

__all__ = ["score_lsr_session", "score_nerve_conduction", "score_or_session"]


def score_lsr_session(
    lsr: pd.DataFrame,
    sim: SimulatedSession,
    *,
    trend: pd.DataFrame | None = None,
    clear_snr: float = 10.0,
) -> dict[str, float]:
    """Accuracy of :func:`hfs_emg.measure_lsr` (and :func:`hfs_emg.lsr_trend`) on a simulation.

    Presence accuracy is computed on the "clear" (stimulus, LSR channel) pairs: no response, or a
    response whose true p2p is at least ``clear_snr`` times the channel's noise RMS (responses
    fading through the detection limit are left out). Latency and p2p errors are over pairs
    both measured and truly present among those.

    Returns
    -------
    dict
        ``n_clear``, ``presence_accuracy``, ``false_positive_rate``, ``false_negative_rate``,
        ``latency_mae_ms``, ``latency_bias_ms``, ``latency_p95_ms``, ``p2p_mae_pct``,
        ``p2p_bias_pct``, ``direct_presence`` and ``direct_latency_mae_ms`` (direct M-response
        channels, if any) and, with ``trend``, ``disappearance_error_max`` (stimuli, over the
        channels that truly disappear; NaN if none) and ``status_accuracy``.

    Examples
    --------
    >>> from hfs_emg.lsr import measure_lsr
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> sim = simulate_lsr_session(n_stimuli=5, sfreq=5000.0, rate_hz=5.0)
    >>> score_lsr_session(measure_lsr(sim.recording), sim)["presence_accuracy"]
    1.0
    """
    truth = sim.responses[sim.responses["kind"] == "lsr"]
    m = truth.merge(
        lsr[["stim_index", "channel", "present", "latency_ms", "p2p_uv"]],
        on=["stim_index", "channel"],
        suffixes=("_true", ""),
    )
    noise = m["channel"].map(sim.noise_uv).to_numpy(float)
    p_true = m["present_true"].to_numpy(bool)
    p_hat = m["present"].to_numpy(bool)
    clear = ~p_true | (m["p2p_uv_true"].to_numpy(float) >= clear_snr * noise)
    both = clear & p_true & p_hat
    lat_err = m["latency_ms"].to_numpy(float)[both] - m["latency_ms_true"].to_numpy(float)[both]
    p2p_err = m["p2p_uv"].to_numpy(float)[both] / m["p2p_uv_true"].to_numpy(float)[both] - 1
    out = {
        "n_clear": float(clear.sum()),
        "presence_accuracy": float(np.mean(p_hat[clear] == p_true[clear])),
        "false_positive_rate": float(np.mean(p_hat[clear & ~p_true])) if (~p_true).any() else 0.0,
        "false_negative_rate": float(np.mean(~p_hat[clear & p_true])) if p_true.any() else 0.0,
        "latency_mae_ms": float(np.mean(np.abs(lat_err))) if lat_err.size else np.nan,
        "latency_bias_ms": float(np.mean(lat_err)) if lat_err.size else np.nan,
        "latency_p95_ms": float(np.percentile(np.abs(lat_err), 95)) if lat_err.size else np.nan,
        "p2p_mae_pct": float(100 * np.mean(np.abs(p2p_err))) if p2p_err.size else np.nan,
        "p2p_bias_pct": float(100 * np.mean(p2p_err)) if p2p_err.size else np.nan,
    }
    d_true = sim.responses[sim.responses["kind"] == "direct"]
    if len(d_true):
        d = d_true.merge(
            lsr[["stim_index", "channel", "present", "latency_ms"]],
            on=["stim_index", "channel"],
            suffixes=("_true", ""),
        )
        d_err = (d["latency_ms"] - d["latency_ms_true"]).abs()
        out["direct_presence"] = float(d["present"].mean())
        out["direct_latency_mae_ms"] = float(d_err.mean())
    if trend is not None:
        t = sim.trend.merge(trend, on="channel", suffixes=("_true", ""))
        out["status_accuracy"] = float(np.mean(t["status"] == t["status_true"]))
        dis = t["status_true"] == "disappeared"
        if dis.any():
            d_true = t.loc[dis, "disappearance_stim_index_true"].astype(float)
            d_hat = t.loc[dis, "disappearance_stim_index"].astype(float)
            err = np.abs(d_hat.to_numpy() - d_true.to_numpy())
            out["disappearance_error_max"] = float(np.nanmax(np.where(np.isnan(err), 1e9, err)))
        else:
            out["disappearance_error_max"] = np.nan
    return out


def score_nerve_conduction(
    sim: NerveConductionSimulation,
    cmap: pd.DataFrame,
    f_waves: Any,
    blink: Any,
) -> dict[str, float]:
    """Errors of :func:`hfs_emg.measure_cmap`, :func:`hfs_emg.measure_f_waves` and
    :func:`hfs_emg.measure_blink_reflex` against the simulation.

    ``f_waves`` and ``blink`` are the :class:`~hfs_emg.ncs.NcsResult` of the measures (or their
    ``.summary`` tables).

    Returns
    -------
    dict
        ``cmap_latency_err_max_ms``, ``cmap_p2p_err_max_pct``, ``decrement_err_pct``,
        ``f_persistence_err_pct``, ``f_min_latency_err_ms``, ``f_mean_latency_err_ms``,
        ``f_max_latency_err_ms``, ``chronodispersion_err_ms``, ``f_m_ratio_err_pct``,
        ``blink_latency_err_max_ms`` (mean latency per stimulated side, channel and component),
        ``blink_presence_accuracy`` (per stimulated side, channel and component: any response).

    Examples
    --------
    >>> from hfs_emg.ncs import measure_blink_reflex, measure_cmap, measure_f_waves
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=10, n_blink_stimuli=2)
    >>> s = score_nerve_conduction(sim, measure_cmap(sim.cmap), measure_f_waves(sim.f_waves),
    ...                            measure_blink_reflex(sim.blink))
    >>> s["cmap_latency_err_max_ms"] < 0.3, s["blink_latency_err_max_ms"] < 0.3
    (True, True)
    """
    f_waves = getattr(f_waves, "summary", f_waves)
    blink = getattr(blink, "summary", blink)
    c = sim.cmap_truth.merge(cmap, on="channel", suffixes=("_true", ""))
    f_t, f_m = sim.f_wave_summary.iloc[0], f_waves.iloc[0]
    b_t = (
        sim.blink_truth.groupby(["stim_side", "channel", "component"])
        .agg(lat=("latency_ms", "mean"), n=("present", "sum"))
        .reset_index()
    )
    b = blink.merge(b_t, on=["stim_side", "channel", "component"], how="left")
    b["n"] = b["n"].fillna(0)
    has_true = b["n"] > 0
    err = (b["latency_ms"] - b["lat"])[has_true].abs()
    return {
        "cmap_latency_err_max_ms": float((c["latency_ms"] - c["latency_ms_true"]).abs().max()),
        "cmap_p2p_err_max_pct": float(100 * (c["p2p_uv"] / c["p2p_uv_true"] - 1).abs().max()),
        "decrement_err_pct": float((c["decrement_pct"] - c["decrement_pct_true"]).abs().max()),
        "f_persistence_err_pct": float(abs(f_m["persistence_pct"] - f_t["persistence_pct"])),
        "f_min_latency_err_ms": float(abs(f_m["f_min_latency_ms"] - f_t["f_min_latency_ms"])),
        "f_mean_latency_err_ms": float(abs(f_m["f_mean_latency_ms"] - f_t["f_mean_latency_ms"])),
        "f_max_latency_err_ms": float(abs(f_m["f_max_latency_ms"] - f_t["f_max_latency_ms"])),
        "chronodispersion_err_ms": float(
            abs(f_m["chronodispersion_ms"] - f_t["chronodispersion_ms"])
        ),
        "f_m_ratio_err_pct": float(abs(f_m["f_m_ratio_pct"] - f_t["f_m_ratio_pct"])),
        "blink_latency_err_max_ms": float(err.max()) if len(err) else np.nan,
        "blink_presence_accuracy": float(np.mean((b["n_present"] > 0) == has_true)),
    }


def score_or_session(
    lsr: pd.DataFrame,
    sim: SimulatedSession,
    *,
    trend: pd.DataFrame | None = None,
    clear_snr: float = 10.0,
) -> dict[str, float]:
    """Accuracy of :func:`hfs_emg.measure_lsr` on :func:`simulate_or_session` (per-event roles).

    Rows are (stimulus, channel) pairs whose true role for that stimulus is LSR. Sweeps the
    simulator marks ``contaminated`` (saturation, electrocautery) are left out of the accuracy
    and counted in ``contaminated_rejected`` (the fraction of them the measurement rejected).
    ``false_lsr_rate`` is the fraction of the truly LSR-free clean pairs called ``present``;
    ``presence_accuracy`` is over the clean "clear" pairs (no LSR, or p2p >= ``clear_snr`` x
    noise RMS) that were not rejected; ``rejected_rate`` is the fraction of clean pairs rejected.
    With ``trend`` (one row per ``montage`` and ``channel``), ``status_accuracy``,
    ``not_elicited_ok`` (every truly not-elicited row is "not_elicited"),
    ``disappearance_error_max`` (stimuli) and ``disappearance_error_sweeps`` (stimuli of the
    channel's own montage: with alternating montages, 1 sweep = 2 stimuli) compare it with
    ``sim.trend``.

    Returns
    -------
    dict
        The numbers above plus ``latency_mae_ms``, ``p2p_mae_pct``, ``crosstalk_called``
        (fraction of LSR-free pairs with crosstalk >= 20 uV that are classified ``crosstalk``;
        NaN without such pairs), ``n_pairs``.

    Examples
    --------
    >>> from hfs_emg.lsr import measure_lsr
    >>> from hfs_emg.simulate import simulate_or_session
    >>> sim = simulate_or_session(n_stimuli=8, rate_hz=4.0, sfreq=5000.0, lsr_p2p_uv=0.0)
    >>> s = score_or_session(measure_lsr(sim.recording), sim)
    >>> s["false_lsr_rate"], s["n_pairs"]
    (0.0, 24.0)
    """
    truth = sim.responses[sim.responses["kind"] == "lsr"]
    cols = ["stim_index", "channel", "present", "latency_ms", "p2p_uv"]
    extra = [c for c in ("rejected", "crosstalk") if c in lsr.columns]
    m = truth.merge(lsr[cols + extra], on=["stim_index", "channel"], suffixes=("_true", ""))
    clean = ~m["contaminated"].to_numpy(bool)
    rej = m["rejected"].to_numpy(bool) if "rejected" in m else np.zeros(len(m), bool)
    p_true = m["present_true"].to_numpy(bool)
    p_hat = m["present"].to_numpy(bool) & ~rej
    noise = m["channel"].map(sim.noise_uv).to_numpy(float)
    clear = ~p_true | (m["p2p_uv_true"].to_numpy(float) >= clear_snr * noise)
    dec = clean & clear & ~rej
    both = dec & p_true & p_hat
    lat_err = m["latency_ms"].to_numpy(float)[both] - m["latency_ms_true"].to_numpy(float)[both]
    p2p_err = m["p2p_uv"].to_numpy(float)[both] / m["p2p_uv_true"].to_numpy(float)[both] - 1
    absent = clean & ~p_true
    out = {
        "n_pairs": float(len(m)),
        "false_lsr_rate": float(np.mean(p_hat[absent])) if absent.any() else np.nan,
        "presence_accuracy": float(np.mean(p_hat[dec] == p_true[dec])) if dec.any() else np.nan,
        "rejected_rate": float(np.mean(rej[clean])) if clean.any() else np.nan,
        "contaminated_rejected": float(np.mean(rej[~clean])) if (~clean).any() else np.nan,
        "latency_mae_ms": float(np.mean(np.abs(lat_err))) if lat_err.size else np.nan,
        "p2p_mae_pct": float(100 * np.mean(np.abs(p2p_err))) if p2p_err.size else np.nan,
    }
    xt = absent & (m["crosstalk_p2p_uv"].to_numpy(float) >= 20.0)
    if "crosstalk" in m and xt.any():
        out["crosstalk_called"] = float(np.mean(m["crosstalk"].to_numpy(bool)[xt]))
    else:
        out["crosstalk_called"] = np.nan
    if trend is not None:
        t = sim.trend.merge(trend, on=["montage", "channel"], suffixes=("_true", ""))
        out["status_accuracy"] = float(np.mean(t["status"] == t["status_true"]))
        ne = t["status_true"] == "not_elicited"
        out["not_elicited_ok"] = float(np.all(t.loc[ne, "status"] == "not_elicited"))
        dis = t["status_true"] == "disappeared"
        if dis.any():
            d_true = t.loc[dis, "disappearance_stim_index_true"].astype(float).to_numpy()
            d_hat = t.loc[dis, "disappearance_stim_index"].astype(float).to_numpy()
            err = np.abs(d_hat - d_true)
            out["disappearance_error_max"] = float(np.max(np.where(np.isnan(err), 1e9, err)))
            # in stimuli of the channel's own montage (every other stimulus when alternating)
            branch = sim.stimuli.set_index("stim_index")["stim_branch"]
            sweeps = []
            for mont, dt, dh in zip(t.loc[dis, "montage"], d_true, d_hat, strict=True):
                own = np.sort(branch.index[branch.to_numpy() == mont].to_numpy())
                if np.isnan(dh):
                    sweeps.append(1e9)
                else:
                    sweeps.append(abs(np.searchsorted(own, dh) - np.searchsorted(own, dt)))
            out["disappearance_error_sweeps"] = float(np.max(sweeps))
        else:
            out["disappearance_error_max"] = np.nan
            out["disappearance_error_sweeps"] = np.nan
    return out
