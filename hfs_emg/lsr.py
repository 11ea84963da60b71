"""Lateral spread response (LSR, abnormal muscle response AMR): per-stimulus measures and trend.

Stimulating one facial-nerve branch evokes a direct M-response in that branch's muscles and, in
hemifacial spasm, a lateral spread response near 10 ms in muscles of the *other* branches (Isu
et al. 1996; Møller & Jannetta 1985). :func:`measure_lsr` classifies every recorded channel as
``"direct"`` or ``"lsr"`` from its branch and the stimulated branch and measures every stimulus;
:func:`lsr_trend` (in :mod:`hfs_emg.trend`, re-exported here) turns the per-stimulus table into
the per-channel course (status, phase of loss, final-to-baseline reduction).
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
from .trend import LSR_STATUSES, lsr_trend  # re-exported: the trend lives in trend.py

__all__ = ["LSR_STATUSES", "lsr_running_amplitude", "lsr_trend", "measure_lsr"]

logger = logging.getLogger("hfs_emg")


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
