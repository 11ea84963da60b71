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
from typing import Any

import numpy as np
import pandas as pd

from ._errors import HfsEmgError, ParameterError
from ._validate import check_option
from .artifact import ARTIFACT_METHODS
from .epochs import Epochs
from .events import find_stim_events
from .lsr_online import LsrStream, _event_branches, _event_columns
from .recording import Recording
from .trend import LSR_STATUSES, lsr_trend  # re-exported: the trend lives in trend.py

__all__ = ["LSR_STATUSES", "lsr_running_amplitude", "lsr_trend", "measure_lsr"]

logger = logging.getLogger("hfs_emg")

#: Bytes of float64 epochs (sweeps x channels x samples) that :func:`measure_lsr` cuts and
#: measures per push of its stream when it reads a recording: about 500 sweeps of 8 channels
#: x 100 ms at 10 kHz, so memory does not grow with the session (a push of a few hundred
#: sweeps costs per sweep what one push of all does).
_PUSH_BYTES = 32 * 2**20


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
       calibrated test, with its own causal calibration (see
       :class:`hfs_emg.lsr_online.LsrStream`).
    6. **Latency** of a present LSR: once its montage and channel have a template, the
       template's onset plus the sweep's best lag against it (Woody 1967; sub-sample, see
       :func:`hfs_emg.lsr_online._woody_latency`); before that, and where the best lag is at
       the edge of the +-1 ms search, the single-trial onset (first departure from the
       baseline band).

    Every decision uses only the sweep itself and earlier sweeps (the clipping test too:
    extremes of this and earlier sweeps), so a live monitor that sees the sweeps one by one
    gives the same rows: the measurement is :class:`hfs_emg.lsr_online.LsrStream`, of which this
    function is one push of all sweeps. Epochs that start later than -43.5 ms (e.g. cut
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
    opts = {
        "window_ms": window_ms,
        "direct_window_ms": direct_window_ms,
        "artifact_method": artifact_method,
        "artifact_window_s": artifact_window_s,
        "tmin": tmin,
        "tmax": tmax,
        "template_n": template_n,
        "match_k": match_k,
        "false_alarm_rate": false_alarm_rate,
        "calibration_n": calibration_n,
        "crosstalk_t": crosstalk_t,
        "max_noise_ratio": max_noise_ratio,
        "max_artifact_residual": max_artifact_residual,
        "detect_highpass_ms": detect_highpass_ms,
        **measure_kw,
    }
    if isinstance(rec_or_epochs, Recording):
        if artifact_method is not None:
            check_option("artifact_method", artifact_method, ARTIFACT_METHODS)
        if events is None:
            events = find_stim_events(rec_or_epochs, source=source, label=label)
        stream = LsrStream.for_recording(rec_or_epochs, stim_branch=stim_branch, **opts)
        # raw epochs: crosstalk is removed before the artefact tail is fitted (in the stream);
        # cut here and read by nothing else, so the stream suppresses the artefact in place
        return _push_blocks(stream, rec_or_epochs, events, stim_branch)
    elif isinstance(rec_or_epochs, Epochs):
        epochs = rec_or_epochs
        stream = LsrStream(
            epochs.channels,
            epochs.sfreq,
            epochs.times,
            from_recording=False,
            stim_branch=stim_branch,
            **opts,
        )
    else:
        raise TypeError(
            f"rec_or_epochs must be a Recording or Epochs, got {type(rec_or_epochs).__name__}."
        )
    # one implementation: the offline table is the causal stream fed all sweeps at once
    return stream.push(epochs)


def _push_blocks(
    stream: LsrStream, rec: Recording, events: pd.DataFrame, stim_branch: str | None
) -> pd.DataFrame:
    """The stream's rows of every stimulus of ``events``, cut and pushed a block at a time.

    The stream is causal (every decision reads the sweep and earlier ones, its state carried
    from push to push: clipping extremes, calibration, crosstalk pool, templates), so blocks
    of :data:`_PUSH_BYTES` of epochs give the rows of one push of all sweeps, bit for bit,
    with one block's epochs in memory instead of the session's. One push as before when the
    stimulated branch of some stimulus is unknown (its warning counts all stimuli) or not
    valid (the error of the push).
    """
    n_e = len(events)
    step = max(1, _PUSH_BYTES // (8 * len(stream.channels) * stream.times.size))
    if n_e > step and isinstance(events, pd.DataFrame):  # (onsets as an array: one push)
        try:
            branch = _event_branches(
                _event_columns(events), n_e, stim_branch, rec.meta.get("stim_branch")
            )
        except HfsEmgError:
            branch = np.full(n_e, None, dtype=object)
        if all(b is not None for b in branch):
            # the resolved branches as the events' own: the pushes need not infer them again
            events = events.assign(stim_branch=branch)
            parts = [
                stream.push_cut(rec, stream.cut(rec, events.iloc[i : i + step]))
                for i in range(0, n_e, step)
            ]
            return pd.concat(parts, ignore_index=True)
    return stream.push_cut(rec, stream.cut(rec, events))


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
