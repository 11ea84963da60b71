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
from .artifact import ARTIFACT_METHODS, suppress_artifact
from .calibration import causal_gumbel, causal_mean, gumbel_exceedance, gumbel_threshold
from .crosstalk import crosstalk_gain
from .epochs import Epochs, make_epochs
from .events import find_stim_events
from .recording import Recording
from .responses import RESPONSE_COLUMNS, _to_frame, measure_response_array
from .trend import LSR_STATUSES, lsr_trend  # re-exported: the trend lives in trend.py

__all__ = ["LSR_STATUSES", "lsr_running_amplitude", "lsr_trend", "measure_lsr"]

logger = logging.getLogger("hfs_emg")


def _event_branches(epochs: Epochs, stim_branch: str | None, meta_branch: str | None) -> np.ndarray:
    """Stimulated branch of every epoch: the argument, else the event's own, else the meta's."""
    n_e = epochs.n_epochs
    if stim_branch is not None:
        check_option("stim_branch", stim_branch, BRANCHES)
        return np.full(n_e, stim_branch, dtype=object)
    ev = epochs.events
    out = np.full(n_e, None, dtype=object)
    if "stim_branch" in ev.columns:
        col = ev["stim_branch"].to_numpy(object)
        out = np.array([v if isinstance(v, str) and v else None for v in col], dtype=object)
    if "label" in ev.columns:
        miss = np.array([v is None for v in out])
        if miss.any():
            labels = ev["label"].astype(str).to_numpy(object)
            out[miss] = [infer_branch(x) for x in labels[miss]]
    if meta_branch is not None:
        out[np.array([v is None for v in out])] = meta_branch
    for b in set(out) - {None}:
        check_option("stim_branch", b, BRANCHES)
    return out


def _region(
    data: np.ndarray,
    rows: np.ndarray,
    c: int,
    a: int,
    b: int,
    clean: dict[str, np.ndarray],
) -> np.ndarray:
    """``data[rows, c, a:b]`` with the crosstalk of the rows that have it subtracted."""
    seg = data[rows, c, a:b]
    g = clean["gain"][rows, c]
    fix = clean["sig"][rows, c]
    if fix.any():
        seg = seg.copy()
        seg[fix] -= g[fix, None] * data[rows[fix], clean["ref"][rows[fix]], a:b]
    return seg


def _lag_scan(region: np.ndarray, unit: np.ndarray, n_lag: int) -> np.ndarray:
    """Projections on ``unit`` at ``2 n_lag + 1`` lags (a loop over template taps)."""
    proj = np.zeros((region.shape[0], 2 * n_lag + 1))
    for k in range(unit.size):
        proj += unit[k] * region[:, k : k + 2 * n_lag + 1]
    return proj


def _projections(region: np.ndarray, unit: np.ndarray, n_lag: int) -> np.ndarray:
    """Best projection on ``unit`` over ``2 n_lag + 1`` lags."""
    return _lag_scan(region, unit, n_lag).max(axis=1)


def _best_lag(proj: np.ndarray, n_lag: int) -> np.ndarray:
    """Lag (samples, sub-sample) of the largest projection: parabola through its neighbours.

    NaN where the peak is on the edge of the search (no interior maximum: the trial does not
    match the template within the lag range).
    """
    k = np.argmax(proj, axis=1)
    rows = np.arange(proj.shape[0])
    inner = (k > 0) & (k < proj.shape[1] - 1)
    kc = np.clip(k, 1, proj.shape[1] - 2)
    y0, y1, y2 = proj[rows, kc - 1], proj[rows, kc], proj[rows, kc + 1]
    den = y0 - 2.0 * y1 + y2
    frac = np.where(den < 0, 0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), 0.0)
    return np.where(inner, kc + np.clip(frac, -0.5, 0.5) - n_lag, np.nan)


def _woody_latency(ref_ms: float, scan: np.ndarray, n_lag: int, fs: float) -> np.ndarray:
    """Onset latency (ms) of each trial: the template's onset plus the trial's best lag.

    Woody's (1967) adaptive-filter latency: the lag that maximises the trial's projection on
    the template (interpolated between samples by a parabola through the peak and its
    neighbours), added to the template's onset. The template's onset ``ref_ms`` is the median
    of the single-trial onsets of the sweeps averaged into it; each of those is the last sample
    inside the baseline band, so the response departs between it and the next sample, and the
    midpoint (half a sample later) is taken. Unlike the single-trial walk-back to the baseline
    band, which under 20-150 Hz background EMG lands 2-3 ms early in about one trial in ten
    (the background holds the trace outside the band before the response), the lag uses the
    whole waveform. NaN where the best lag is at the edge of the search (no match within it).

    References
    ----------
    .. [1] Woody CD. Characterization of an adaptive filter for the analysis of variable
       latency neuroelectric signals. Med Biol Eng 1967;5:539-553.
    """
    return ref_ms + (0.5 + _best_lag(scan, n_lag)) * 1e3 / fs


def _match_scores(
    epochs: Epochs,
    out: dict[str, np.ndarray],
    groups: list[tuple[np.ndarray, np.ndarray]],
    clean: dict[str, np.ndarray],
    *,
    template_n: int,
    dur_ms: float,
    max_lag_ms: float,
    match_k: float,
    false_alarm_rate: float,
    calibration_n: int,
    calibrate: bool,
) -> dict[str, np.ndarray]:
    """Causal matched-template score of every sweep on the LSR channels of each montage.

    Per montage and channel the template is the mean of the sweeps that passed the calibrated
    single-trial test **before** the sweep scored (at most the first ``template_n``, aligned on
    their onsets), so a sweep never helps to score itself or an earlier one. Every sweep is
    projected on the unit template at lags within ``max_lag_ms``; the best projection over its
    noise SD is ``match_z`` and over the template norm ``match_ratio``. The same projection on a
    pre-stimulus control region of the same sweep gives the null, calibrated causally
    (:func:`hfs_emg.calibration.causal_gumbel`).
    """
    n_e, n_c, n_t = epochs.data.shape
    fs = epochs.sfreq
    z = np.full((n_e, n_c), np.nan)
    ratio = np.full((n_e, n_c), np.nan)
    zthr = np.full((n_e, n_c), np.nan)
    fa = np.full((n_e, n_c), np.nan)
    woody = np.full((n_e, n_c), np.nan)
    pre = max(1, round(0.5e-3 * fs))
    n_len = round(dur_ms * 1e-3 * fs) + pre
    n_lag = round(max_lag_ms * 1e-3 * fs)
    t0_idx = int(np.argmin(np.abs(epochs.times)))
    c_end = t0_idx - round(1e-3 * fs)
    c_start = c_end - (2 * n_lag + n_len)
    usable = out["present"] & ~out["_rejected"]
    for rows, chans in groups:  # montages x LSR channels (a handful)
        for c in chans:
            det = rows[usable[rows, c]]
            if det.size < 3:
                continue
            n_tm = min(int(template_n), det.size)
            pos = np.searchsorted(rows, det)  # positions of the detections within rows
            for j in range(3, n_tm + 1):  # template stages (at most template_n - 2)
                lo = pos[j - 1] + 1
                hi = pos[j] + 1 if j < n_tm else rows.size
                if hi <= lo:
                    continue
                on = out["latency_ms"][det[:j], c]
                ref = float(np.median(on))
                start = t0_idx + round(ref * 1e-3 * fs) - pre
                shift = np.round((on - ref) * 1e-3 * fs).astype(np.int64)
                span = int(np.abs(shift).max())
                if start - n_lag - span < 0 or start + n_lag + n_len + span >= n_t:
                    continue
                tw = np.stack(
                    [
                        _region(
                            epochs.data, det[i : i + 1], c, start + sh, start + sh + n_len, clean
                        )[0]
                        for i, sh in enumerate(shift)
                    ]
                )  # j <= template_n rows
                tmpl = tw.mean(axis=0)
                norm = float(np.sqrt(tmpl @ tmpl))
                if norm <= 0:
                    continue
                unit = tmpl / norm
                sel = rows[lo:hi]
                scan = _lag_scan(
                    _region(epochs.data, sel, c, start - n_lag, start + n_lag + n_len, clean),
                    unit,
                    n_lag,
                )
                best = scan.max(axis=1)
                woody[sel, c] = _woody_latency(ref, scan, n_lag, fs)
                noise = out["noise_uv"][sel, c]
                z[sel, c] = best / noise
                ratio[sel, c] = best / norm
                if calibrate and c_start >= 0:
                    first = max(0, lo - int(calibration_n) + 1)
                    crow = rows[first:hi]
                    cb = _projections(
                        _region(epochs.data, crow, c, c_start, c_end, clean), unit, n_lag
                    )
                    cz = cb / out["noise_uv"][crow, c]
                    mu, beta, _ = causal_gumbel(
                        cz, ~out["_rejected"][crow, c], window=calibration_n, min_n=10
                    )
                    k = lo - first
                    thr_c = gumbel_threshold(mu[k:, 0], beta[k:, 0], false_alarm_rate)
                    used = np.where(np.isnan(thr_c), match_k, np.maximum(match_k, thr_c))
                    zthr[sel, c] = used
                    fa[sel, c] = gumbel_exceedance(used, mu[k:, 0], beta[k:, 0])
    zthr = np.where(np.isnan(zthr), match_k, zthr)
    present = (z > zthr) & (ratio > 0.1)
    # no template yet (fewer than 3 earlier detections): the single-trial decision
    present = np.where(np.isnan(z), out["present"], present)
    fa = np.where(np.isnan(z), out["false_alarm_rate"], fa)
    return {
        "match_z": z,
        "match_ratio": ratio,
        "match_present": present,
        "match_false_alarm_rate": fa,
        "_woody_ms": woody,
    }


def _measure_rows(
    epochs: Epochs,
    groups: list[tuple[np.ndarray, np.ndarray]],
    out: dict[str, np.ndarray],
    **kw: Any,
) -> None:
    """Measure each (rows, channels) group into ``out`` (full (E, C) arrays)."""
    n_e, n_c = epochs.data.shape[:2]
    k_full = kw.pop("k_noise")
    for rows, chans in groups:  # a handful of montage groups
        if not chans.size or not rows.size:
            continue
        whole = rows.size == n_e
        data = epochs.data if whole else epochs.data[rows]
        k = k_full if np.ndim(k_full) == 0 else np.asarray(k_full)[rows][:, chans]
        part = measure_response_array(
            data, epochs.times, epochs.sfreq, channels=chans, k_noise=k, **kw
        )
        for key, val in part.items():
            if key not in out:
                out[key] = np.zeros((n_e, n_c), dtype=val.dtype)
            out[key][np.ix_(rows, chans)] = val


def measure_lsr(
    rec_or_epochs: Recording | Epochs,
    *,
    stim_branch: str | None = None,
    window_ms: tuple[float, float] = (6.0, 20.0),
    direct_window_ms: tuple[float, float] = (2.5, 15.0),
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    artifact_method: str | None = "tail",
    artifact_window_s: tuple[float, float] = (-0.0005, 0.001),
    tmin: float = -0.05,
    tmax: float = 0.05,
    template_n: int = 20,
    match_k: float = 5.0,
    false_alarm_rate: float = 0.002,
    calibration_n: int = 200,
    crosstalk_t: float = 2.0,
    max_noise_ratio: float = 4.0,
    max_artifact_residual: float = 6.0,
    detect_highpass_ms: float = 3.0,
    **measure_kw: Any,
) -> pd.DataFrame:
    """Measure the LSR (and the direct response) for every stimulus and recorded EMG channel.

    From a :class:`~hfs_emg.Recording` the stimuli are found (:func:`hfs_emg.find_stim_events`,
    unless ``events`` is given), the artefact is suppressed
    (:func:`hfs_emg.blank_stimulus_artifact`, by default following the capacitive tail with
    ``method="tail"``), and epochs are cut (:func:`hfs_emg.make_epochs`). Then, per stimulus:

    1. **Montage.** The stimulated branch is the event's own (a ``stim_branch`` column or the
       marker text, ``"stim zygomatic 12 mA"``), else ``meta["stim_branch"]``; ``stim_branch=``
       overrides both. A channel is ``"direct"`` in the sweeps that stimulate its branch and
       ``"lsr"`` in the others, so alternating two-site montages (zygomatic -> mentalis,
       marginal mandibular -> orbicularis oculi) are measured sweep by sweep.
    2. **Crosstalk.** The stimulated branch's own channel, scaled by least squares in the
       M-wave window (2-7 ms; the scale is the median over the last 30 sweeps of the montage,
       as crosstalk is a fixed property of the electrode geometry), is subtracted from an LSR
       channel where that scale is significant (t > ``crosstalk_t``;
       :func:`hfs_emg.crosstalk.crosstalk_gain`). A sweep that would be an LSR before the
       subtraction and is not after is ``crosstalk``.
    3. **Calibrated single-trial test.** The held-envelope statistic of
       :func:`hfs_emg.measure_responses` (window ``window_ms``, baseline -20 to -1 ms, on the
       signal high-passed by ``detect_highpass_ms``) is
       compared with the ``1 - false_alarm_rate`` quantile of the same statistic on a
       pre-stimulus control window of the same length, baseline length and filter (shifted by
       23.5 ms: -17.5 to -3.5 ms, baseline -43.5 to -24.5 ms), fitted as a Gumbel
       distribution over the last ``calibration_n`` sweeps up to and including this one (causal;
       :mod:`hfs_emg.calibration`); the threshold is never below ``k_noise`` (3 SDs, the
       white-noise default). ``false_alarm_rate`` is the calibrated per-sweep rate of that
       test at the threshold used (the p2p floor makes the decision's rate lower still).
    4. **Quality.** A sweep is rejected (never present or absent) when clipped, when its
       baseline SD exceeds ``max_noise_ratio`` times the channel's causal running geometric
       mean (electrocautery), or, on an LSR channel, when the artefact residual (mean over
       2.5-6 ms after suppression and crosstalk subtraction, ``artifact_residual_uv``)
       exceeds ``max_artifact_residual`` times the causal RMS of the same mean over a
       pre-stimulus window (-10 to -6.5 ms; all channels pooled while a channel has fewer
       than 10 sweeps) and the ``k_noise`` threshold (in baseline SDs).
    5. **Matched detector** (``match_*``): a template of the earlier sweeps that passed the
       calibrated test, with its own causal calibration (see :func:`_match_scores`).
    6. **Latency** of a present LSR: once its montage and channel have a template, the
       template's onset plus the sweep's best lag against it (Woody 1967; sub-sample, see
       :func:`_woody_latency`); before that, and where the best lag is at the edge of the
       +-1 ms search, the single-trial onset (first departure from the baseline band).

    Every decision uses only the sweep itself and earlier sweeps, so a live monitor that sees
    the sweeps one by one gives the same rows. Epochs that start later than -43.5 ms (e.g. cut
    by the caller with ``tmin=-0.02``) cannot be calibrated: the fixed ``k_noise`` threshold
    is used, with a warning, and ``false_alarm_rate`` is NaN.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        Continuous recording, or epochs already cut (artefact already suppressed).
    stim_branch : str, optional
        Stimulated branch for every stimulus (temporal, zygomatic, buccal,
        marginal_mandibular, cervical), overriding the events and the meta data. If a
        stimulus's branch is unknown, every channel is an LSR channel for it (with a warning).
    window_ms, direct_window_ms : (float, float)
        Search windows (ms after the stimulus) of the LSR and of the direct response.
    events : pandas.DataFrame, optional
        Stimulus events (``onset_s``, optionally ``stim_branch``, ``intensity_ma``); found
        automatically otherwise.
    source, label : str
        Passed to :func:`hfs_emg.find_stim_events`.
    artifact_method : {"tail", "interpolate", "template", "decay"} or None
        Artefact suppression (None = none).
    artifact_window_s : (float, float)
        Artefact window (s around each stimulus); for ``"tail"`` the blanking window.
    tmin, tmax : float
        Epoch window (s); the calibration needs ``tmin <= -0.0435``.
    template_n : int
        Largest number of earlier detections averaged into a template.
    match_k : float
        Lowest matched-detector threshold on ``match_z`` (default 5, the white-noise value).
    false_alarm_rate : float
        Target per-sweep false-alarm rate of each calibrated test (default 0.002, chosen on
        the tuning grid of :mod:`hfs_emg.simulate.operating_room`).
    calibration_n : int
        Trailing number of sweeps of the calibration.
    crosstalk_t : float
        Significance (gain / standard error) above which crosstalk is subtracted.
    max_noise_ratio : float
        Baseline SD, relative to the channel's running level, above which a sweep is rejected.
    max_artifact_residual : float
        Artefact residual, in null RMS, above which an LSR sweep is rejected.
    detect_highpass_ms : float
        Width of the boxcar high-pass of the LSR presence test (default 3 ms: removes the
        20-150 Hz background EMG, keeps the 300-600 Hz LSR); 0 = broadband. Latency, amplitude
        and area are measured on the unfiltered signal.
    **measure_kw
        Detection options of :func:`hfs_emg.measure_responses` (``k_noise``, ``band``,
        ``min_p2p_uv``, ``smooth_ms``, ``min_duration_ms``...).

    Returns
    -------
    pandas.DataFrame
        One row per (stimulus, channel): ``stim_index``, ``stim_time_s``, ``channel``,
        ``muscle``, ``kind`` (``"direct"``/``"lsr"`` for that stimulus), ``present``,
        ``latency_ms``, ``peak_latency_ms``, ``p2p_uv``, ``area_uv_ms``, ``duration_ms``,
        ``snr_db``, ``noise_uv``, ``rejected``, ``reject_reason`` (``"clipped"``,
        ``"noisy baseline"``, ``"artifact residual"``), ``montage`` (stimulated branch),
        ``intensity_ma`` (from the events, NaN if unknown), ``false_alarm_rate``,
        ``calibration_n`` (control sweeps behind the threshold), ``artifact_residual_uv``,
        ``crosstalk`` (bool), ``crosstalk_gain`` (pooled), ``crosstalk_r``, and the matched detector
        ``match_z``, ``match_ratio``, ``match_present``, ``match_false_alarm_rate``.
        :func:`lsr_trend` uses ``match_present`` by default; the expected number of false
        sweeps of a series is the sum of its ``false_alarm_rate``.

    References
    ----------
    .. [1] Isu T, Kamada K, Mabuchi S et al. Intra-operative monitoring by facial electromyographic
       responses during microvascular decompressive surgery for hemifacial spasm. Acta
       Neurochir 1996;138:19-23.
    .. [2] Møller AR, Jannetta PJ. Microvascular decompression in hemifacial spasm:
       intraoperative electrophysiological observations. Neurosurgery 1985;16:612-618.
    .. [3] Park SK, Joo BE, Park K. Life 2023;13:1825 (alternating montages).
    .. [4] Woody CD. Characterization of an adaptive filter for the analysis of variable
       latency neuroelectric signals. Med Biol Eng 1967;5:539-553.

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
    meta_branch = None
    from_recording = isinstance(rec_or_epochs, Recording)
    if isinstance(rec_or_epochs, Recording):
        meta_branch = rec_or_epochs.meta.get("stim_branch")
        if artifact_method is not None:
            check_option("artifact_method", artifact_method, ARTIFACT_METHODS)
        if events is None:
            events = find_stim_events(rec_or_epochs, source=source, label=label)
        # raw epochs: crosstalk is removed before the artefact tail is fitted (below)
        epochs = make_epochs(
            rec_or_epochs,
            events,
            tmin=tmin,
            tmax=tmax,
            baseline=(tmin, min(artifact_window_s[0], -0.0005)),
        )
    elif isinstance(rec_or_epochs, Epochs):
        epochs = rec_or_epochs
    else:
        raise TypeError(
            f"rec_or_epochs must be a Recording or Epochs, got {type(rec_or_epochs).__name__}."
        )
    if not 0 < float(false_alarm_rate) < 1:
        raise ParameterError(f"false_alarm_rate must be in (0, 1), got {false_alarm_rate}.")
    ev_branch = _event_branches(epochs, stim_branch, meta_branch)
    unknown = np.array([b is None for b in ev_branch])
    if unknown.any():
        warnings.warn(
            f"The stimulated branch of {int(unknown.sum())} of {unknown.size} stimuli is unknown "
            "(pass stim_branch= or label the events 'stim <branch>'): every channel is measured "
            "as an LSR channel for them.",
            HfsEmgWarning,
            stacklevel=2,
        )
    n_e, n_c, _ = epochs.data.shape
    fs = epochs.sfreq
    ch_branch = epochs.channels["branch"].to_numpy(object)
    direct = np.array(
        [[b is not None and cb is not None and cb == b for cb in ch_branch] for b in ev_branch],
        dtype=bool,
    ).reshape(n_e, n_c)
    kw = dict(measure_kw)
    k_floor = kw.pop("k_noise", 3.0)
    base_user = kw.pop("baseline_ms", None)
    lsr_base = (-20.0, -1.0) if base_user is None else tuple(float(v) for v in base_user)
    # the control window ends 1 ms before the stimulus, plus the reach of the filters (detection
    # high-pass half-width, 1 ms for the envelope and amplitude smoothing)
    shift_ms = float(window_ms[1]) + 2.0 + 0.5 * float(detect_highpass_ms)
    t_first = float(epochs.times[0]) * 1e3
    calibrate = n_e > 0 and lsr_base[0] - shift_ms >= t_first - 0.5e3 / fs
    if not calibrate:
        if n_e:
            warnings.warn(
                f"The epochs start at {t_first:g} ms; the calibrated LSR test needs them from "
                f"{lsr_base[0] - shift_ms:g} ms (tmin <= {(lsr_base[0] - shift_ms) / 1e3:g} s): "
                f"the fixed threshold k_noise={k_floor:g} is used and false_alarm_rate is NaN.",
                HfsEmgWarning,
                stacklevel=2,
            )
        lsr_base = base_user  # the uncalibrated rule, as before
    # montage groups: (epochs, channels) with the same roles
    keys = np.array([str(b) for b in ev_branch])
    groups_lsr, groups_dir = [], []
    for key in dict.fromkeys(keys):
        rows = np.flatnonzero(keys == key)
        groups_lsr.append((rows, np.flatnonzero(~direct[rows[0]])))
        groups_dir.append((rows, np.flatnonzero(direct[rows[0]])))
    # noise of every sweep and the electrocautery (noisy baseline) rejection
    t_ms = epochs.times * 1e3
    b_lo, b_hi = (
        (np.searchsorted(t_ms, lsr_base[0]), np.searchsorted(t_ms, lsr_base[1], "right"))
        if lsr_base is not None
        else (0, np.searchsorted(t_ms, -1.0, "right"))
    )
    sd = epochs.data[:, :, b_lo:b_hi].std(axis=-1)
    log_sd = np.log(np.maximum(sd, 1e-9))
    ref_sd = np.exp(causal_mean(log_sd, ~epochs.bad, window=calibration_n))
    noisy = sd > float(max_noise_ratio) * ref_sd
    # calibration of the single-trial test on pre-stimulus control windows
    fa = np.full((n_e, n_c), np.nan)
    cal_n = np.zeros((n_e, n_c))
    k_used: Any = k_floor
    if calibrate:
        ctrl = measure_response_array(
            epochs.data,
            epochs.times + shift_ms * 1e-3,
            fs,
            window_ms=window_ms,
            baseline_ms=lsr_base,
            stat_only=True,
            detect_highpass_ms=detect_highpass_ms,
            **{k: v for k, v in kw.items() if k in ("smooth_ms", "min_duration_ms")},
        )
        valid = ~epochs.bad & ~noisy
        mu, beta, cal_n = causal_gumbel(ctrl["det_stat"], valid, window=calibration_n)
        thr = gumbel_threshold(mu, beta, false_alarm_rate)
        k_used = np.where(np.isnan(thr), k_floor, np.maximum(k_floor, thr))
        fa = np.where(np.isnan(thr), np.nan, gumbel_exceedance(k_used, mu, beta))
    # crosstalk of the stimulated branch's M-wave
    if from_recording and artifact_method is not None and n_e:
        t0 = int(np.argmin(np.abs(epochs.times)))

        def suppress(rows: np.ndarray, dmask: np.ndarray) -> np.ndarray:
            return suppress_artifact(
                rows, fs, [t0], method=artifact_method, window_s=artifact_window_s, direct=dmask
            )

        raw = epochs.data  # our own array (make_epochs above)
        data = suppress(raw.reshape(n_e * n_c, -1), direct.reshape(-1, 1)).reshape(raw.shape)
        epochs = epochs.with_data(data)
    xt = crosstalk_gain(epochs.data, epochs.times, direct, sd)
    sig = ~direct & (xt["ref"] >= 0)[:, None] & (xt["t"] > float(crosstalk_t))
    e_i, c_i = np.nonzero(sig)
    g_i = xt["gain"][e_i, c_i, None]
    if from_recording and e_i.size:
        # the scaled direct channel (its artefact with it) is subtracted from the raw channel,
        # then the artefact tail of what is left is fitted again
        rows = raw[e_i, c_i] - g_i * raw[e_i, xt["ref"][e_i]] if artifact_method else None
        if rows is None:
            epochs.data[e_i, c_i] -= g_i * epochs.data[e_i, xt["ref"][e_i]]
        else:
            epochs.data[e_i, c_i] = suppress(rows, np.zeros((e_i.size, 1), bool))
    clean = {"gain": xt["gain"], "ref": xt["ref"], "sig": sig & (not from_recording)}
    out: dict[str, np.ndarray] = {}
    _measure_rows(epochs, groups_dir, out, window_ms=direct_window_ms, k_noise=k_floor, **kw)
    _measure_rows(
        epochs,
        groups_lsr,
        out,
        window_ms=window_ms,
        baseline_ms=lsr_base,
        k_noise=k_used,
        detect_highpass_ms=detect_highpass_ms,
        **kw,
    )
    for key in (*RESPONSE_COLUMNS, "det_stat"):  # no epoch (or no channel) measured
        if key not in out:
            out[key] = np.zeros((n_e, n_c), dtype=bool if key == "present" else float)
    crosstalk = np.zeros((n_e, n_c), bool)
    cleaned = None
    if e_i.size:
        k_rows = k_used if np.ndim(k_used) == 0 else np.asarray(k_used)[e_i, c_i]
        ref_rows = epochs.data[e_i, xt["ref"][e_i]]
        if from_recording:  # data are clean: put the crosstalk back to see what it explains
            other = epochs.data[e_i, c_i] + g_i * ref_rows
        else:
            other = cleaned = epochs.data[e_i, c_i] - g_i * ref_rows
        part = measure_response_array(
            other,
            epochs.times,
            fs,
            window_ms=window_ms,
            baseline_ms=lsr_base,
            k_noise=k_rows,
            detect_highpass_ms=detect_highpass_ms,
            **kw,
        )
        if from_recording:
            crosstalk[e_i, c_i] = part["present"] & ~out["present"][e_i, c_i]
        else:
            crosstalk[e_i, c_i] = out["present"][e_i, c_i] & ~part["present"]
            for key, val in part.items():
                out[key][e_i, c_i] = val
    # artefact residual just before the LSR window (after suppression and crosstalk removal)
    r0, r1 = np.searchsorted(t_ms, 2.5), np.searchsorted(t_ms, 6.0, "right")
    q1 = np.searchsorted(t_ms, -6.5, "right")
    q0 = max(0, q1 - (r1 - r0))
    resid = np.abs(epochs.data[:, :, r0:r1].mean(axis=-1))
    null = (
        epochs.data[:, :, q0:q1].mean(axis=-1) if q1 > q0 else np.full((n_e, n_c), np.nan)
    )  # NaN (no residual test) when the epochs start too late for the null window
    if cleaned is not None:
        resid[e_i, c_i] = np.abs(cleaned[:, r0:r1].mean(axis=-1))
    okn = ~epochs.bad & ~noisy
    null_rms = np.sqrt(causal_mean(null**2, okn, window=calibration_n))
    n_null = (
        causal_mean(okn.astype(float), None, window=calibration_n)
        * np.minimum(np.arange(1, n_e + 1), calibration_n)[:, None]
    )
    pooled = np.sqrt(causal_mean((null**2).mean(1), okn.all(1), window=calibration_n))
    null_rms = np.where(n_null >= 10, null_rms, pooled)
    # a residual below the lowest detection threshold cannot make a detection by itself
    limit = np.maximum(float(max_artifact_residual) * null_rms, float(k_floor) * sd)
    bad_resid = ~direct & (resid > limit) & (np.arange(n_e)[:, None] * n_c >= 10)
    rejected = epochs.bad | noisy | bad_resid
    reason = np.where(
        epochs.bad,
        epochs.bad_reason,
        np.where(noisy, "noisy baseline", np.where(bad_resid, "artifact residual", "")),
    ).astype(object)
    out["present"] = out["present"] & ~rejected
    out["_rejected"] = rejected
    out["false_alarm_rate"] = np.where(direct, np.nan, fa)
    out.update(
        _match_scores(
            epochs,
            out,
            groups_lsr,
            clean,
            template_n=int(template_n),
            dur_ms=6.0,
            max_lag_ms=1.0,
            match_k=match_k,
            false_alarm_rate=float(false_alarm_rate),
            calibration_n=int(calibration_n),
            calibrate=calibrate,
        )
    )
    out["match_present"] = out["match_present"] & ~rejected & ~direct
    # latency of the present LSR trials: Woody's template lag once a template exists
    woody = out.pop("_woody_ms")
    out["latency_ms"] = np.where(
        out["present"] & ~direct & np.isfinite(woody), woody, out["latency_ms"]
    )
    df = _to_frame(epochs, out)
    df["present"] = out["present"].reshape(-1)
    df["rejected"] = rejected.reshape(-1)
    df["reject_reason"] = reason.reshape(-1)
    df.insert(4, "muscle", np.tile(epochs.channels["muscle"].to_numpy(object), n_e))
    df.insert(5, "kind", np.where(direct, "direct", "lsr").astype(object).reshape(-1))
    rep = np.repeat(np.arange(n_e), n_c)
    df["montage"] = ev_branch[rep]
    ev = epochs.events
    intens = (
        pd.to_numeric(ev["intensity_ma"], errors="coerce").to_numpy(float)
        if "intensity_ma" in ev.columns
        else np.full(n_e, np.nan)
    )
    df["intensity_ma"] = intens[rep]
    df["false_alarm_rate"] = out["false_alarm_rate"].reshape(-1)
    df["calibration_n"] = np.where(direct, 0, cal_n).astype(np.int64).reshape(-1)
    df["artifact_residual_uv"] = resid.reshape(-1)
    df["crosstalk"] = crosstalk.reshape(-1)
    df["crosstalk_gain"] = xt["gain"].reshape(-1)
    df["crosstalk_r"] = xt["r"].reshape(-1)
    for key in ("match_z", "match_ratio", "match_present", "match_false_alarm_rate"):
        df[key] = out[key].reshape(-1)
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
