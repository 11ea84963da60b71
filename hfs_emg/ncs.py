"""Facial nerve-conduction measures: CMAP (M-wave), F-waves, blink reflex and its recovery cycle.

All build on :func:`hfs_emg.measure_responses` (onset = first departure from baseline,
presence = envelope above k x baseline noise for a minimum time AND an absolute p2p floor) and
accept a :class:`~hfs_emg.Recording` (stimuli found, artefact removed by exponential-decay
fitting, epochs cut) or ready-made :class:`~hfs_emg.epochs.Epochs`. Events may carry a ``side``
column (the stimulated side), which decides ipsilateral vs contralateral.

The end of a response is its **last return to baseline**: from the last pair of samples above
``k_noise`` baseline SDs in the window, forward to the first sample back inside the baseline
band (``band`` SDs, the band of the onset rule). Duration is onset to that return, the way
Ishikawa et al. (1996) measured the F-wave duration from its first deflection to the end of its
last phase. The **R2** ends differently: a long polyphasic response whose tail fades into the
noise, it ends where the rectified signal returns to the baseline noise - the 5 ms forward mean
of ``|x|`` back under the baseline's mean + ``k_noise`` SDs of that mean, searched beyond the
onset window up to the epoch's end (Kimura's R2 duration, onset to the end of the late
response, measured on the rectified signal; the threshold form is this library's
operationalisation). Areas of rectified responses are **baseline-corrected**: the
pre-stimulus mean (DC offset) is subtracted before rectifying, and ``|x|`` is integrated from
onset to the end. The rectified noise floor is *not* subtracted: where the response exceeds
about 2 noise SDs, ``E|s + n|`` equals ``|s|`` within 2 % of the SD, so subtracting the floor
over the whole response biased the area low (-9 % on the simulator; -2 % without it, from the
tail below the noise that the last-return rule leaves out).

Normal limits (:class:`NormalLimits`) are flagged per value in ``*_abnormal`` columns (nullable
booleans, NA where the limit does not apply or no response was found).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._docs import fill_doc
from ._errors import HfsEmgWarning, ParameterError
from .epochs import Epochs
from .recording import Recording
from .responses import measure_response_array, stimulus_epochs

__all__ = [
    "CMAP_CONTEXTS",
    "SYNKINESIS_MIN_PCT",
    "NcsResult",
    "NormalLimits",
    "blink_recovery_cycle",
    "measure_blink_reflex",
    "measure_cmap",
    "measure_f_waves",
]

#: Interpretation of a CMAP amplitude decrement, by clinical context (``measure_cmap(context=)``).
CMAP_CONTEXTS: dict[str, str] = {
    "facial_palsy": "ENoG: decrement = % degenerated fibres (Fisch 1984)",
    "botulinum_toxin": "chemodenervation by botulinum toxin, not axonal loss (Glocker 1995)",
    "unspecified": "amplitude decrement; interpretation depends on the clinical context",
}


@dataclasses.dataclass(frozen=True)
class NormalLimits:
    """Normal limits of the facial nerve-conduction measures (all configurable).

    Attributes
    ----------
    cmap_latency_max_ms : float
        Facial CMAP onset latency, nasal-ala / nasolabial recording: normal below 4.5 ms.
    cmap_p2p_min_uv : float
        Facial CMAP peak-to-peak amplitude: normal above 2 mV (2000 uV).
    r1_latency_max_ms : float
        Blink reflex R1 (ipsilateral orbicularis oculi): normal below 13 ms.
    r2i_latency_max_ms : float
        Ipsilateral R2: normal below 41 ms.
    r2c_latency_max_ms : float
        Contralateral R2: normal below 44 ms.
    cmap_muscles : tuple of str
        Muscles the CMAP limits were established on (nasal ala / nasolabial recording); rows
        of other or unknown muscles get NA flags.

    References
    ----------
    .. [1] Guntinas-Lichius O et al. Facial nerve electrodiagnostics for patients with facial
       palsy: a clinical practice guideline. Eur Arch Otorhinolaryngol 2020;277:1855-1874
       (CMAP latency < 4.5 ms, amplitude > 2 mV).
    .. [2] Kimura J. Electrodiagnosis in Diseases of Nerve and Muscle, Oxford University Press
       (blink reflex upper limits R1 13 ms, R2 ipsilateral 41 ms, contralateral 44 ms; the
       method of Kimura J, Brain 1975;98:413-426).

    Examples
    --------
    >>> NormalLimits().r1_latency_max_ms
    13.0
    >>> NormalLimits(cmap_p2p_min_uv=1500.0).cmap_p2p_min_uv
    1500.0
    """

    cmap_latency_max_ms: float = 4.5
    cmap_p2p_min_uv: float = 2000.0
    r1_latency_max_ms: float = 13.0
    r2i_latency_max_ms: float = 41.0
    r2c_latency_max_ms: float = 44.0
    cmap_muscles: tuple[str, ...] = ("nasalis",)


@dataclasses.dataclass(frozen=True)
class NcsResult:
    """Result of :func:`measure_f_waves` and :func:`measure_blink_reflex`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per channel (F-waves) or per (stimulated side, channel, component) (blink).
    trials : pandas.DataFrame
        One row per (stimulus, channel) or (stimulus, channel, component).
    """

    summary: pd.DataFrame
    trials: pd.DataFrame

    def __repr__(self) -> str:
        return f"<NcsResult | summary {len(self.summary)} rows, trials {len(self.trials)} rows>"


def _no_return_trials(measure_kw: dict[str, Any], name: str) -> None:
    if "return_trials" in measure_kw:
        raise ParameterError(
            f"{name}() no longer takes return_trials=: it always returns an NcsResult with "
            "`.summary` and `.trials`."
        )


def _flag(values: npt.ArrayLike, applies: npt.ArrayLike, bad: npt.ArrayLike) -> pd.Series:
    """Nullable boolean: ``bad`` where ``applies`` and the value is finite, else NA."""
    v = np.asarray(values, dtype=float)
    ok = np.asarray(applies, dtype=bool) & np.isfinite(v)
    out = pd.array(np.asarray(bad, dtype=bool), dtype="boolean")
    out[~ok] = pd.NA
    return pd.Series(out)


def _extent(
    x: np.ndarray,
    times_s: np.ndarray,
    fs: float,
    *,
    window_ms: tuple[float, float],
    latency_ms: np.ndarray,
    p2p_uv: np.ndarray,
    present: np.ndarray,
    measure_kw: dict[str, Any],
    end_rule: str = "last_return",
    end_max_ms: float | None = None,
) -> dict[str, np.ndarray]:
    """End, duration and DC-corrected rectified area.

    ``end_rule="last_return"``: the last return to baseline of the raw signal inside
    ``window_ms`` (module notes). ``end_rule="envelope"``: the offset of the rectified signal,
    searched up to ``end_max_ms`` (:func:`_envelope_end`). ``x`` is ``(..., n_times)``; the
    other arrays have shape ``x.shape[:-1]``. Vectorised over all rows (no loop over epochs or
    samples).
    """
    k_noise = float(measure_kw.get("k_noise", 3.0))
    band = float(measure_kw.get("band", 2.0))
    band_frac = float(measure_kw.get("band_frac", 0.02))
    tms = np.asarray(times_s, dtype=float) * 1e3
    bwin = measure_kw.get("baseline_ms") or (float(tms[0]), -1.0)
    base = (tms >= bwin[0]) & (tms <= bwin[1])
    win = (tms >= window_ms[0] - 0.5e3 / fs) & (tms <= window_ms[1] + 0.5e3 / fs)
    mu = x[..., base].mean(-1)
    sd = x[..., base].std(-1, ddof=1)
    if measure_kw.get("noise_uv") is not None:  # the caller's noise level, as in the detection
        sd = np.broadcast_to(np.asarray(measure_kw["noise_uv"], dtype=float), sd.shape)
    ax = np.abs(x[..., win] - mu[..., None])
    wt = tms[win]
    n_w = ax.shape[-1]
    p2p = np.nan_to_num(np.asarray(p2p_uv, dtype=float))
    thr = np.maximum(k_noise * sd, 2 * band_frac * p2p)[..., None]
    big = ax > thr
    big[..., 1:] &= big[..., :-1]  # two samples in a row (mirror of the onset rule)
    cols = np.arange(n_w)
    last_big = np.where(big.any(-1), n_w - 1 - np.argmax(big[..., ::-1], axis=-1), 0)
    inband = ax <= np.maximum(band * sd, band_frac * p2p)[..., None]
    nxt = np.where(inband, cols, n_w - 1)
    nxt = np.minimum.accumulate(nxt[..., ::-1], axis=-1)[..., ::-1]
    end = np.take_along_axis(nxt, np.minimum(last_big + 1, n_w - 1)[..., None], -1)[..., 0]
    lat = np.asarray(latency_ms, dtype=float)
    onset = np.clip(np.round((np.nan_to_num(lat) - wt[0]) * fs * 1e-3), 0, n_w - 1).astype(int)
    end_ms = None
    if end_rule == "envelope":
        hi = float(tms[-1]) if end_max_ms is None else float(end_max_ms)
        win = (tms >= window_ms[0] - 0.5e3 / fs) & (tms <= hi + 0.5e3 / fs)
        ax = np.abs(x[..., win] - mu[..., None])
        wt = tms[win]
        n_w = ax.shape[-1]
        onset = np.clip(np.round((np.nan_to_num(lat) - wt[0]) * fs * 1e-3), 0, n_w - 1)
        onset = onset.astype(int)
        base_ax = np.abs(x[..., base] - mu[..., None])
        end, end_ms = _envelope_end(ax, base_ax, onset, fs, k_noise, wt)
    end = np.maximum(end, onset)
    c = np.zeros((*ax.shape[:-1], n_w + 1))
    np.cumsum(ax, axis=-1, out=c[..., 1:])
    area = (
        np.take_along_axis(c, (end + 1)[..., None], -1)[..., 0]
        - np.take_along_axis(c, onset[..., None], -1)[..., 0]
    ) * (1e3 / fs)
    ok = np.asarray(present, dtype=bool)
    if end_ms is None:
        end_ms = wt[end]
    end_ms = np.maximum(end_ms, np.nan_to_num(lat))
    return {
        "end_ms": np.where(ok, end_ms, np.nan),
        "duration_ms": np.where(ok, end_ms - lat, np.nan),
        "rect_area_uv_ms": np.where(ok, np.maximum(area, 0.0), np.nan),
    }


#: Smallest persistence (% of stimuli with a response) for which a lower facial muscle's blink
#: response is called ``synkinetic``. **This library's convention, not a published criterion**:
#: the HFS literature reports synkinetic R1/R2 per patient (Auger 1979: all 23 patients, with
#: synkinesis that "often varied considerably"; Nagahiro 1987: SR2 in 90 %) and no per-stimulus
#: persistence threshold was found. A majority of stimuli keeps a single chance crossing of the
#: noise from making a row synkinetic; every row reports ``persistence_pct`` so another rule can
#: be applied (``synkinesis_min_pct=``).
SYNKINESIS_MIN_PCT: float = 50.0

#: Width of the forward moving average of the rectified signal whose return to baseline ends
#: the R2 (ms): long enough to bridge the short quiet gaps inside a polyphasic R2.
R2_ENVELOPE_MS: float = 5.0


def _envelope_end(
    ax: np.ndarray,
    base_ax: np.ndarray,
    onset: np.ndarray,
    fs: float,
    k_noise: float,
    wt: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Offset of a rectified response: last return of its envelope to the baseline noise.

    The envelope ``e(t)`` is the mean of the rectified signal over the *next*
    ``R2_ENVELOPE_MS`` (forward window). The threshold is the baseline's envelope mean ``m``
    plus ``k_noise`` of its SDs (the same envelope over the pre-stimulus baseline). The end is
    the first time, after ``e`` has risen above the threshold, at which it is back at or below
    it - the next ``R2_ENVELOPE_MS`` are at the noise level - moved later by the part of the
    window that a tail of amplitude ``A`` (the envelope one window earlier) needs to lift the
    mean to the threshold, ``w (thr - m) / (A - m)`` (exact for a tail of constant amplitude
    that stops abruptly). Returns the end index (for the area) and
    the end time in ms. Vectorised over rows.
    """
    w = max(round(R2_ENVELOPE_MS * 1e-3 * fs), 1)

    def fwd(a: np.ndarray) -> np.ndarray:
        c = np.zeros((*a.shape[:-1], a.shape[-1] + 1))
        np.cumsum(a, axis=-1, out=c[..., 1:])
        n = a.shape[-1]
        i = np.arange(n)
        j = np.minimum(i + w, n)
        return (c[..., j] - c[..., i]) / (j - i)

    env = fwd(ax)
    benv = fwd(base_ax)[..., : max(base_ax.shape[-1] - w, 1)]
    m = benv.mean(-1)
    sd = benv.std(-1, ddof=1) if benv.shape[-1] > 1 else np.zeros(m.shape)
    thr = (m + k_noise * sd)[..., None]
    n_w = env.shape[-1]
    cols = np.arange(n_w)
    # complete windows only: a partial window at the end averages too few samples
    valid = cols <= n_w - w
    up = (env > thr) & (cols >= onset[..., None]) & valid
    start = np.where(up.any(-1), np.argmax(up, axis=-1), onset)
    # first return after the envelope is up: the next R2_ENVELOPE_MS are at baseline
    down = (env <= thr) & (cols > start[..., None]) & valid
    last = np.where(down.any(-1), np.argmax(down, axis=-1), n_w - w)
    amp = np.take_along_axis(env, np.maximum(last - w, onset)[..., None], -1)[..., 0]
    lift = np.where(amp > thr[..., 0], (thr[..., 0] - m) / np.maximum(amp - m, 1e-12), 0.0)
    end_t = wt[last] + np.clip(lift, 0.0, 1.0) * w * 1e3 / fs
    end_t = np.minimum(end_t, wt[-1])
    end = np.clip(np.round((end_t - wt[0]) * fs * 1e-3), 0, n_w - 1).astype(int)
    return end, end_t


def _relation(stim_side: np.ndarray, channel_side: np.ndarray) -> np.ndarray:
    """``"ipsilateral"`` / ``"contralateral"``, ``"unknown"`` where the channel's side is."""
    rel = np.where(stim_side == channel_side, "ipsilateral", "contralateral").astype(object)
    rel[pd.isna(channel_side)] = "unknown"
    return rel


def _stim_sides(epochs: Epochs, stim_side: str | None) -> np.ndarray:
    if "side" in epochs.events.columns:
        return epochs.events["side"].astype(object).to_numpy()
    return np.full(epochs.n_epochs, stim_side, dtype=object)


@fill_doc
def measure_cmap(
    rec_or_epochs: Recording | Epochs,
    *,
    window_ms: tuple[float, float] = (2.5, 20.0),
    affected_side: str | None = None,
    context: str = "unspecified",
    limits: NormalLimits | None = None,
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
    ``side``) is the channel's side (all epochs when either is unknown). The amplitude
    decrement of the affected side is named neutrally (``decrement_pct``): the same number is
    the percentage of degenerated fibres in an acute facial palsy (electroneurography, Fisch
    1984) but a reversible chemodenervation after botulinum toxin (about -40 % at 38 days in
    the injected orbicularis oculi; Glocker 1995). ``context`` states which one applies.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Recording (stimuli found, artefact fitted away, epoched) or epochs.
    window_ms : (float, float)
        Search window (ms).
    affected_side : {"left", "right"}, optional
        Side whose ratio and decrement are reported; default the side with the smaller CMAP.
    context : {"unspecified", "facial_palsy", "botulinum_toxin"}
        Clinical context; fills the ``interpretation`` column (:data:`CMAP_CONTEXTS`).
    limits : NormalLimits, optional
        Normal limits of latency and amplitude (default :class:`NormalLimits`).
    events, source, label
        Stimulus events, or how to find them (:func:`hfs_emg.find_stim_events`).
    artifact_method, artifact_window_s
        Artefact suppression (:func:`hfs_emg.blank_stimulus_artifact`); exponential decay by
        default because the CMAP starts 3-4 ms after the stimulus, inside the artefact tail.
    tmin, tmax : float
        Epoch window (s).
    %(measure_kw)s

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``muscle``, ``side``, ``n_epochs``, ``present``,
        ``latency_ms`` (onset), ``neg_peak_uv`` (baseline to negative peak), ``p2p_uv``,
        ``duration_ms``, ``area_uv_ms``, ``latency_abnormal`` (latency >= the limit),
        ``p2p_abnormal`` (p2p <= the limit, an absent CMAP counting as 0; both NA for muscles
        outside ``limits.cmap_muscles``), and on the affected side's row
        ``amplitude_ratio`` (this side / other side, same muscle), ``decrement_pct`` =
        ``100 * (1 - ratio)``, ``context`` and ``interpretation``.

    References
    ----------
    .. [1] Fisch U. Prognostic value of electrical tests in acute facial paralysis. Am J Otol
       1984;5:494-498 (electroneurography, degeneration from the side-to-side CMAP ratio).
    .. [2] Guntinas-Lichius O et al. Facial nerve electrodiagnostics for patients with facial
       palsy: a clinical practice guideline. Eur Arch Otorhinolaryngol 2020;277:1855-1874.
    .. [3] Glocker FX et al. Quantitative changes of the facial CMAP after botulinum toxin in
       hemifacial spasm, 1995 (about -40 % at 38 days; see the project's clinical review).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=2, n_blink_stimuli=1)
    >>> cmap = measure_cmap(sim.cmap, context="botulinum_toxin")
    >>> cmap["channel"].tolist()
    ['nasalis_L', 'nasalis_R']
    >>> bool((cmap["latency_ms"] - sim.cmap_truth["latency_ms"]).abs().max() < 0.3)
    True
    >>> round(float(cmap["decrement_pct"].iloc[0]))
    40
    >>> cmap["p2p_abnormal"].tolist()
    [True, False]
    """
    from ._validate import check_option

    check_option("context", context, CMAP_CONTEXTS)
    limits = NormalLimits() if limits is None else limits
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
    normed = out["muscle"].isin(limits.cmap_muscles).to_numpy()
    out["latency_abnormal"] = _flag(
        out["latency_ms"],
        normed & out["present"].to_numpy(bool),
        out["latency_ms"] >= limits.cmap_latency_max_ms,
    )
    p2p_present = out["p2p_uv"].where(out["present"], 0.0)
    out["p2p_abnormal"] = _flag(p2p_present, normed, p2p_present <= limits.cmap_p2p_min_uv)
    out["amplitude_ratio"] = np.nan
    out["decrement_pct"] = np.nan
    out["context"] = pd.Series([None] * len(out), dtype=object)
    out["interpretation"] = pd.Series([None] * len(out), dtype=object)
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
        out.at[aff, "decrement_pct"] = 100.0 * (1.0 - ratio)
        out.at[aff, "context"] = context
        out.at[aff, "interpretation"] = CMAP_CONTEXTS[context]
    return out


def _f_pass(
    ep: Epochs,
    template: np.ndarray,
    fit: np.ndarray,
    f_window_ms: tuple[float, float],
    measure_kw: dict[str, Any],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Subtract ``a * T + b * dT/dt`` fitted per trial on the M-wave part, measure the F-wave.

    The derivative term absorbs small trial-to-trial M-wave latency jitter (first-order Taylor
    shift), the scale term amplitude changes; both by linear least squares for all trials.
    Returns the measurement and the residual.
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
    return out, resid


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
    **measure_kw: Any,
) -> NcsResult:
    """F-wave persistence, latencies, duration, chronodispersion and F/M ratio per channel.

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

    The **F-wave duration** of a trial runs from its onset (first departure from baseline) to
    its last return to baseline (module docstring), on the residual. It is the parameter that
    best separates the spasm side in hemifacial spasm (13.1 vs 9.5 ms), while the minimal
    latency and chronodispersion do not differ (Ishikawa et al. 1996).

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Supramaximal stimuli of one side.
    m_window_ms, f_window_ms : (float, float)
        Search windows (ms) of the M-wave and of the F-wave.
    events, source, label, artifact_method, artifact_window_s, tmin, tmax
        As in :func:`measure_cmap`.
    **measure_kw
        Options of :func:`hfs_emg.measure_responses` for the F-wave.

    Returns
    -------
    NcsResult
        ``summary``: one row per channel: ``channel``, ``n_stimuli``, ``n_f``,
        ``persistence_pct``, ``f_min_latency_ms``, ``f_mean_latency_ms``,
        ``f_max_latency_ms``, ``chronodispersion_ms`` (max - min F latency),
        ``m_latency_ms``, ``m_p2p_uv``, ``f_mean_p2p_uv``, ``f_m_ratio_pct`` (mean F p2p /
        mean M p2p, %), ``f_duration_mean_ms`` and ``f_duration_max_ms``.
        ``trials``: one row per (stimulus, channel): ``stim_index``, ``channel``, ``present``,
        ``latency_ms``, ``p2p_uv``, ``duration_ms``, ``m_latency_ms``, ``m_p2p_uv``,
        ``rejected``.

    References
    ----------
    .. [1] Ishikawa M, Ohira T, Namiki J, Gotoh K, Takase M, Toya S. Electrophysiological
       investigation of hemifacial spasm: F-waves of the facial muscles. Acta Neurochir (Wien)
       1996;138:24-32 (F duration, F/M ratio and persistence increased on the spasm side).
    .. [2] Ishikawa M et al. Abnormal muscle response (lateral spread) and F-wave in patients
       with hemifacial spasm. J Neurol Sci 1996;137:109-116.
    .. [3] Fisher MA. F-waves - physiology and clinical uses. ScientificWorldJournal 2007;7:144.
    .. [4] Facial F-wave normative data (Fmin 8.97±0.53 ms, chronodispersion 0.80±0.31 ms) and
       HFS F duration 13.1 vs 9.5 ms, F/M ratio 6.9 % vs 3.8 % (Chin J Nerv Ment Dis 2019:577).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=20, n_blink_stimuli=1)
    >>> fw = measure_f_waves(sim.f_waves)
    >>> int(fw.summary["n_f"].iloc[0]) == int(sim.f_wave_summary["n_f"].iloc[0])
    True
    >>> sorted(fw.trials.columns)[:3]
    ['channel', 'duration_ms', 'latency_ms']
    """
    _no_return_trials(measure_kw, "measure_f_waves")
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
    f, resid = _f_pass(ep, template, fit, f_window_ms, measure_kw)
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
        f, resid = _f_pass(ep, template, fit, f_window_ms, measure_kw)
    f_present = f["present"] & good
    ext = _extent(
        resid,
        ep.times,
        ep.sfreq,
        window_ms=f_window_ms,
        latency_ms=f["latency_ms"],
        p2p_uv=f["p2p_uv"],
        present=f_present,
        measure_kw=measure_kw,
    )
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
            "duration_ms": ext["duration_ms"].reshape(-1),
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
    summary["f_duration_mean_ms"] = g["duration_ms"].mean()
    summary["f_duration_max_ms"] = g["duration_ms"].max()
    summary = summary.reset_index().rename(columns={"index": "channel"})
    return NcsResult(summary=summary, trials=trials)


def _blink_trials(
    ep: Epochs,
    sides: np.ndarray,
    windows: dict[str, tuple[float, float]],
    measure_kw: dict[str, Any],
) -> pd.DataFrame:
    """One row per (stimulus, channel, component) with latency, p2p, duration and R area."""
    n_e, n_c = ep.data.shape[:2]
    ch_side = ep.channels["side"].to_numpy(object)
    muscles = ep.channels["muscle"].to_numpy(object)
    stim_index = (
        ep.events["stim_index"].to_numpy() if "stim_index" in ep.events.columns else np.arange(n_e)
    )
    parts = []
    for comp, win in windows.items():  # two components
        r = measure_response_array(ep.data, ep.times, ep.sfreq, window_ms=win, **measure_kw)
        present = r["present"] & ~ep.bad
        ext = _extent(
            ep.data,
            ep.times,
            ep.sfreq,
            window_ms=win,
            latency_ms=r["latency_ms"],
            p2p_uv=r["p2p_uv"],
            present=present,
            measure_kw=measure_kw,
            end_rule="envelope" if comp == "R2" else "last_return",
        )
        oculi = np.tile(muscles == "orbicularis_oculi", n_e)
        parts.append(
            pd.DataFrame(
                {
                    "epoch": np.repeat(np.arange(n_e), n_c),
                    "stim_index": np.repeat(stim_index, n_c),
                    "stim_side": np.repeat(sides, n_c),
                    "channel": np.tile(np.asarray(ep.ch_names, dtype=object), n_e),
                    "muscle": np.tile(muscles, n_e),
                    "component": comp,
                    "relation": _relation(np.repeat(sides, n_c), np.tile(ch_side, n_e)),
                    "synkinetic": ~oculi & present.reshape(-1),
                    "present": present.reshape(-1),
                    "latency_ms": np.where(present, r["latency_ms"], np.nan).reshape(-1),
                    "p2p_uv": np.where(present, r["p2p_uv"], np.nan).reshape(-1),
                    "duration_ms": ext["duration_ms"].reshape(-1),
                    "area_uv_ms": ext["rect_area_uv_ms"].reshape(-1),
                    "rejected": ep.bad.reshape(-1),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _sided_epochs(rec_or_epochs: Any, stim_side: Any, **epoch_kw: Any) -> tuple[Any, np.ndarray]:
    """Blink epochs and the stimulated side of each (refused when a side is unknown)."""
    ep = stimulus_epochs(rec_or_epochs, **epoch_kw)
    sides = _stim_sides(ep, stim_side)
    if pd.isna(sides).any():
        raise ParameterError(
            "The stimulated side is unknown: give events a 'side' column or pass stim_side=."
        )
    return ep, sides


@fill_doc
def measure_blink_reflex(
    rec_or_epochs: Recording | Epochs,
    *,
    r1_window_ms: tuple[float, float] = (7.0, 17.0),
    r2_window_ms: tuple[float, float] = (20.0, 60.0),
    stim_side: str | None = None,
    synkinesis_min_pct: float = SYNKINESIS_MIN_PCT,
    limits: NormalLimits | None = None,
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    artifact_method: str | None = "decay",
    artifact_window_s: tuple[float, float] = (-0.0003, 0.0025),
    tmin: float = -0.02,
    tmax: float = 0.095,
    **measure_kw: Any,
) -> NcsResult:
    """Blink reflex R1, ipsi- and contralateral R2 (latency, rectified area, duration), synkinesis.

    Supraorbital stimulation evokes R1 (about 10 ms, ipsilateral orbicularis oculi) and R2
    (about 30 ms, both oculi). In hemifacial spasm the same stimulus also evokes *synkinetic*
    R1/R2 responses in lower facial muscles (orbicularis oris, mentalis) on the affected side
    (Auger 1979: all 23 patients; Nagahiro 1987: SR1 100 %, SR2 90 %, SR2c 95 %). Every
    (stimulus, channel) pair is measured in both windows. R2 is quantified clinically by its
    rectified area and duration, not by p2p: ``area_uv_ms`` is the baseline-corrected rectified
    area from onset to the end, ``duration_ms`` that interval. R1 ends at its last return to
    baseline inside ``r1_window_ms``; R2 where its rectified signal returns to the baseline
    noise (the 5 ms forward mean of ``|x|`` under the baseline mean + ``k_noise`` SDs of that
    mean, corrected for the part of the window the tail needs to lift it), searched up to the
    epoch's end ``tmax`` - an R2 starting at 30 ms often lasts beyond 60 ms.

    A row of a lower facial muscle is ``synkinetic`` only when a response is found in at least
    ``synkinesis_min_pct`` % of its stimuli (default :data:`SYNKINESIS_MIN_PCT`, 50 %: this
    library's convention, not a published criterion - see its notes); a silent contralateral
    orbicularis oris is not. The rule used is stored in
    ``summary.attrs["synkinesis_min_pct"]``. The ``synkinesis_ratio`` of such a row is its
    mean area over the mean area of the same component in the orbicularis oculi of the same
    side for the same stimuli (means over all stimuli, absent = 0, both alike).

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Supraorbital stimuli; events with a ``side`` column (stimulated side), or ``stim_side``.
    r1_window_ms, r2_window_ms : (float, float)
        Search windows of the onsets (ms); the R2 may end after its window (up to ``tmax``).
    stim_side : {"left", "right"}, optional
        Stimulated side when the events have no ``side`` column.
    synkinesis_min_pct : float
        Minimum persistence (%) of a lower-facial response for the row to be synkinetic
        (this library's convention; 0 < value <= 100).
    limits : NormalLimits, optional
        Latency limits of R1 / R2i / R2c (default :class:`NormalLimits`).
    events, source, label, artifact_method, artifact_window_s, tmin, tmax
        As in :func:`measure_cmap`.
    %(measure_kw)s

    Returns
    -------
    NcsResult
        ``summary``: one row per (stimulated side, channel, component): ``stim_side``,
        ``channel``, ``muscle``, ``component`` (``"R1"``/``"R2"``), ``relation``
        (``"ipsilateral"``/``"contralateral"``, ``"unknown"`` for a channel without side),
        ``n_stimuli``, ``n_present``,
        ``persistence_pct``, ``synkinetic``, ``latency_ms`` (mean onset of present responses),
        ``min_latency_ms``, ``p2p_uv``, ``duration_ms`` and ``area_uv_ms`` (means of present
        responses), ``synkinesis_ratio`` (lower facial muscles), ``latency_abnormal``
        (orbicularis oculi rows: R1 ipsilateral, R2 ipsi/contralateral against ``limits``) and
        ``side_diff_ms`` (left-stimulus minus right-stimulus latency for the same component,
        relation and muscle; normal R1 difference 0.36±0.69 ms).
        ``trials``: one row per (stimulus, channel, component) with ``present``,
        ``latency_ms``, ``p2p_uv``, ``duration_ms``, ``area_uv_ms``, ``synkinetic``.

    References
    ----------
    .. [1] Kimura J. Electrically elicited blink reflex in diagnosis of multiple sclerosis.
       Brain 1975;98:413-426 (R1/R2 measurement); Kimura J. Electrodiagnosis in Diseases of
       Nerve and Muscle, 4th ed. Oxford University Press 2013 (R2 duration: onset to the end
       of the late response).
    .. [2] Auger RG. Hemifacial spasm: clinical and electrophysiologic observations. Neurology
       1979;29:1261-1272.
    .. [3] Eekhof JL, Aramideh M, Bour LJ, Hilgevoord AA, Speelman HD, Ongerboer de Visser BW.
       Blink reflex recovery curves in blepharospasm, torticollis spasmodica, and hemifacial
       spasm. Muscle Nerve 1996;19:10-15 (rectified R2 area).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_nerve_conduction
    >>> sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=2, n_blink_stimuli=2)
    >>> br = measure_blink_reflex(sim.blink).summary
    >>> r1 = br.query("component == 'R1' and relation == 'ipsilateral'")
    >>> r1 = r1[r1["muscle"] == "orbicularis_oculi"]
    >>> r1["latency_ms"].round(0).tolist()
    [10.0, 10.0]
    >>> bool(br.loc[br["channel"] == "orbicularis_oris_R", "synkinetic"].any())  # silent side
    False
    """
    _no_return_trials(measure_kw, "measure_blink_reflex")
    limits = NormalLimits() if limits is None else limits
    ep, sides = _sided_epochs(
        rec_or_epochs,
        stim_side,
        events=events,
        source=source,
        label=label,
        artifact_method=artifact_method,
        artifact_window_s=artifact_window_s,
        tmin=tmin,
        tmax=tmax,
    )
    trials = _blink_trials(ep, sides, {"R1": r1_window_ms, "R2": r2_window_ms}, measure_kw)
    synkinesis_min_pct = float(synkinesis_min_pct)
    if not 0.0 < synkinesis_min_pct <= 100.0:
        raise ParameterError(f"synkinesis_min_pct must be in (0, 100], got {synkinesis_min_pct}.")
    summary = _blink_summary(trials, synkinesis_min_pct, limits)
    summary.attrs["synkinesis_min_pct"] = synkinesis_min_pct
    return NcsResult(summary=summary, trials=trials.drop(columns="epoch"))


def _blink_summary(
    trials: pd.DataFrame, synkinesis_min_pct: float, limits: NormalLimits
) -> pd.DataFrame:
    keys = ["stim_side", "channel", "muscle", "component", "relation"]
    ok = trials[~trials["rejected"]].assign(area0=lambda d: d["area_uv_ms"].fillna(0.0))
    g = ok.groupby(keys, sort=True, dropna=False)
    summary = g.agg(
        n_stimuli=("present", "size"),
        n_present=("present", "sum"),
        latency_ms=("latency_ms", "mean"),
        min_latency_ms=("latency_ms", "min"),
        p2p_uv=("p2p_uv", "mean"),
        duration_ms=("duration_ms", "mean"),
        area_uv_ms=("area_uv_ms", "mean"),
        area_all_uv_ms=("area0", "mean"),
    ).reset_index()
    summary.insert(7, "persistence_pct", 100.0 * summary["n_present"] / summary["n_stimuli"])
    oculi = (summary["muscle"] == "orbicularis_oculi").to_numpy()
    summary.insert(
        8,
        "synkinetic",
        ~oculi & (summary["persistence_pct"] >= synkinesis_min_pct) & (summary["n_present"] > 0),
    )
    # synkinesis ratio: lower-facial area / oculi area, same stimulated side, channel side and
    # component (the channel side is the ``relation`` for a given stimulated side)
    ref = summary[oculi].set_index(["stim_side", "relation", "component"])["area_all_uv_ms"]
    ref = ref[~ref.index.duplicated()]
    idx = pd.MultiIndex.from_frame(summary[["stim_side", "relation", "component"]])
    denom = ref.reindex(idx).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = summary["area_all_uv_ms"].to_numpy(float) / denom
    summary["synkinesis_ratio"] = np.where(~oculi & (denom > 0), ratio, np.nan)
    summary = summary.drop(columns="area_all_uv_ms")
    comp, rel = summary["component"], summary["relation"]
    r1 = (comp == "R1") & (rel == "ipsilateral")
    lim = np.select(
        [r1, (comp == "R2") & (rel == "ipsilateral"), (comp == "R2") & (rel == "contralateral")],
        [limits.r1_latency_max_ms, limits.r2i_latency_max_ms, limits.r2c_latency_max_ms],
        np.nan,
    )
    applies = oculi & np.isfinite(lim)
    summary["latency_abnormal"] = _flag(
        summary["latency_ms"], applies, summary["latency_ms"].to_numpy(float) >= lim
    )
    lat_l = summary["latency_ms"].where(summary["stim_side"] == "left")
    lat_r = summary["latency_ms"].where(summary["stim_side"] == "right")
    grp = [summary["component"], summary["relation"], summary["muscle"].fillna("")]
    summary["side_diff_ms"] = lat_l.groupby(grp).transform("mean") - lat_r.groupby(grp).transform(
        "mean"
    )
    return summary


@fill_doc
def blink_recovery_cycle(
    rec_or_epochs: Recording | Epochs,
    *,
    max_isi_s: float = 2.0,
    isi_decimals: int = 3,
    r2_window_ms: tuple[float, float] = (20.0, 60.0),
    stim_side: str | None = None,
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    artifact_method: str | None = "decay",
    artifact_window_s: tuple[float, float] = (-0.0003, 0.0025),
    tmin: float = -0.02,
    tmax: float = 0.095,
    **measure_kw: Any,
) -> pd.DataFrame:
    """R2 recovery cycle of the blink reflex from paired supraorbital stimuli.

    A stimulus that follows the previous one (same stimulated side) by at most ``max_isi_s``
    is the **test** (conditioned) stimulus of a pair; the previous one is its **conditioning**
    stimulus. For each pair the rectified, baseline-corrected R2 area of the test response is
    divided by that of the conditioning response; pairs are pooled per interstimulus interval
    (ISI, rounded to ``isi_decimals`` of a second). Normally R2 is suppressed at short ISIs
    (100-300 ms) and recovers towards 100 % by 1-2 s; it is enhanced (faster recovery) in
    blepharospasm and, less often, on the affected side in hemifacial spasm (R2 recovery index
    abnormal in 67 % vs 50 %; Eekhof et al. 1996). Pairs should be separated by long rest
    intervals (>= 10-20 s) so that habituation does not lower the conditioning response.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Paired supraorbital stimuli (events with ``onset_s`` and a ``side`` column).
    max_isi_s : float
        Longest interval still taken as a pair (s).
    isi_decimals : int
        ISIs are rounded to this many decimals of a second before grouping.
    r2_window_ms : (float, float)
        R2 search window (ms).
    stim_side, events, source, label, artifact_method, artifact_window_s, tmin, tmax
        As in :func:`measure_blink_reflex`.
    %(measure_kw)s

    Returns
    -------
    pandas.DataFrame
        One row per (stimulated side, channel, ISI): ``stim_side``, ``channel``, ``muscle``,
        ``relation``, ``isi_ms``, ``n_pairs``, ``conditioning_area_uv_ms``,
        ``test_area_uv_ms`` (means over pairs, absent R2 = 0), ``recovery_ratio``
        (= test / conditioning mean area) and ``recovery_pct`` (100 x ratio).

    References
    ----------
    .. [1] Kimura J. Electrodiagnosis in Diseases of Nerve and Muscle, Oxford University Press
       (paired-stimulus blink reflex recovery curve).
    .. [2] Eekhof JL et al. Blink reflex recovery curves in blepharospasm, torticollis
       spasmodica, and hemifacial spasm. Muscle Nerve 1996;19:10-15.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_blink_recovery
    >>> sim = simulate_blink_recovery(isis_s=(0.2, 1.0), n_pairs=2, sfreq=5000.0, seed=1)
    >>> rc = blink_recovery_cycle(sim.recording)
    >>> rc = rc[rc["channel"] == "orbicularis_oculi_L"].query("relation == 'ipsilateral'")
    >>> rc["isi_ms"].tolist()
    [200.0, 1000.0]
    >>> bool(rc["recovery_ratio"].iloc[0] < rc["recovery_ratio"].iloc[1])
    True
    """
    from ._validate import check_positive

    max_isi_s = check_positive(max_isi_s, "max_isi_s")
    _no_return_trials(measure_kw, "blink_recovery_cycle")
    ep, sides = _sided_epochs(
        rec_or_epochs,
        stim_side,
        events=events,
        source=source,
        label=label,
        artifact_method=artifact_method,
        artifact_window_s=artifact_window_s,
        tmin=tmin,
        tmax=tmax,
    )
    onset = ep.events["onset_s"].to_numpy(float)
    order = np.lexsort((onset, sides.astype(str)))
    same = np.zeros(onset.size, bool)
    isi = np.full(onset.size, np.nan)
    prev = np.full(onset.size, -1)
    o_sorted, s_sorted = onset[order], sides[order]
    gap = np.diff(o_sorted)
    link = (s_sorted[1:] == s_sorted[:-1]) & (gap <= max_isi_s) & (gap > 0)
    # a test stimulus cannot also be the conditioning stimulus of the next pair
    for i in np.flatnonzero(link):  # pairs only (tens), not samples
        if not same[order[i]]:
            same[order[i + 1]] = True
            isi[order[i + 1]] = gap[i]
            prev[order[i + 1]] = order[i]
    if not same.any():
        raise ParameterError(
            f"No paired stimuli: no stimulus follows another of the same side within "
            f"max_isi_s={max_isi_s} s."
        )
    short = np.nanmin(isi) * 1e3
    if short < r2_window_ms[1] - tmin * 1e3:
        import warnings

        warnings.warn(
            f"The shortest ISI ({short:.0f} ms) is shorter than the R2 window end plus the "
            "baseline: the test epoch's baseline holds the conditioning R2.",
            HfsEmgWarning,
            stacklevel=2,
        )
    trials = _blink_trials(ep, sides, {"R2": r2_window_ms}, measure_kw)
    area = trials["area_uv_ms"].fillna(0.0).to_numpy(float)
    area = np.where(trials["rejected"].to_numpy(bool), np.nan, area)
    n_c = ep.data.shape[1]
    area = area.reshape(ep.n_epochs, n_c)
    tests = np.flatnonzero(same)
    cond = prev[tests]
    rows = pd.DataFrame(
        {
            "stim_side": np.repeat(sides[tests], n_c),
            "channel": np.tile(np.asarray(ep.ch_names, dtype=object), tests.size),
            "isi_ms": np.repeat(np.round(isi[tests], isi_decimals) * 1e3, n_c),
            "conditioning_area_uv_ms": area[cond].reshape(-1),
            "test_area_uv_ms": area[tests].reshape(-1),
        }
    )
    first = trials.drop_duplicates("channel").set_index("channel")
    rows = rows.dropna(subset=["conditioning_area_uv_ms", "test_area_uv_ms"])
    g = rows.groupby(["stim_side", "channel", "isi_ms"], sort=True)
    out = g.agg(
        n_pairs=("test_area_uv_ms", "size"),
        conditioning_area_uv_ms=("conditioning_area_uv_ms", "mean"),
        test_area_uv_ms=("test_area_uv_ms", "mean"),
    ).reset_index()
    ch_side = ep.channels.set_index("name")["side"]
    out.insert(2, "muscle", first["muscle"].reindex(out["channel"]).to_numpy())
    out.insert(
        3,
        "relation",
        _relation(out["stim_side"].to_numpy(), ch_side.reindex(out["channel"]).to_numpy()),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out["test_area_uv_ms"] / out["conditioning_area_uv_ms"]
    out["recovery_ratio"] = ratio.where(out["conditioning_area_uv_ms"] > 0)
    out["recovery_pct"] = 100.0 * out["recovery_ratio"]
    return out
