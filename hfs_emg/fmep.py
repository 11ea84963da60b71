"""Facial motor evoked potentials (FMEP) to transcranial train stimulation.

Transcranial electrical stimulation (C3/C4-Cz) with a short train of pulses 1-4 ms apart
evokes a facial MEP near 10-15 ms in the facial muscles; a single pulse does not, which
separates the central response from direct (peripheral) activation of the nerve (onset >10 ms;
Baek et al. 2018). During MVD for hemifacial spasm the final/baseline FMEP amplitude ratio
falls in orbicularis oculi when the spasm resolves (44.8 +/- 25.4 %, vs 95.8 % in mentalis and
84.5 % in oris; Fukuda et al. 2010), and as a safety monitor a final/baseline ratio of 50 % or
more predicted a preserved facial function (Dong et al. 2005).

:func:`group_stimulus_trains` turns pulse events into one event per train,
:func:`measure_fmep` measures every train and channel with the evoked-response machinery of
:func:`hfs_emg.measure_responses`, and :func:`fmep_trend` gives the final/baseline ratio per
muscle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._docs import fill_doc
from ._errors import ParameterError
from ._validate import check_option, check_positive
from .artifact import ARTIFACT_METHODS, blank_stimulus_artifact
from .epochs import make_epochs
from .events import find_stim_events
from .phases import phase_onsets
from .recording import Recording
from .responses import measure_responses

__all__ = ["fmep_trend", "group_stimulus_trains", "measure_fmep"]


def group_stimulus_trains(pulses: pd.DataFrame, *, max_interval_s: float = 0.005) -> pd.DataFrame:
    """Group stimulus pulses closer than ``max_interval_s`` into trains (one row per train).

    Parameters
    ----------
    pulses : pandas.DataFrame
        Pulse events with ``onset_s`` (for example :func:`hfs_emg.find_stim_events` with a short
        ``min_interval_s``).
    max_interval_s : float
        Longest interval between pulses of one train (s); default 5 ms, above the 1-4 ms
        inter-pulse intervals of transcranial facial-MEP trains (Fukuda 2010; Dong 2005).

    Returns
    -------
    pandas.DataFrame
        ``onset_s`` (first pulse), ``duration_s`` (first to last pulse), ``label``,
        ``stim_index`` (train number), ``n_pulses``, ``isi_ms`` (mean inter-pulse interval;
        NaN for a single pulse).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"onset_s": [1.0, 1.002, 1.004, 5.0, 5.002]})
    >>> group_stimulus_trains(p)[["onset_s", "n_pulses", "isi_ms"]].round(3).values.tolist()
    [[1.0, 3.0, 2.0], [5.0, 2.0, 2.0]]
    """
    if "onset_s" not in pulses.columns:
        raise ParameterError("pulses need an 'onset_s' column.")
    gap = check_positive(max_interval_s, "max_interval_s")
    t = np.sort(pulses["onset_s"].to_numpy(float))
    if t.size == 0:
        raise ParameterError("pulses is empty.")
    new = np.r_[True, np.diff(t) > gap]
    train = np.cumsum(new) - 1
    first = t[new]
    n_p = np.bincount(train)
    last = t[np.r_[np.flatnonzero(new)[1:] - 1, t.size - 1]]
    dur = last - first
    return pd.DataFrame(
        {
            "onset_s": first,
            "duration_s": dur,
            "label": "train",
            "stim_index": np.arange(first.size),
            "n_pulses": n_p,
            "isi_ms": np.where(n_p > 1, 1e3 * dur / np.maximum(n_p - 1, 1), np.nan),
        }
    )


@fill_doc
def measure_fmep(
    rec: Recording,
    *,
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    max_interval_s: float = 0.005,
    window_ms: tuple[float, float] = (10.0, 40.0),
    artifact_method: str | None = "interpolate",
    artifact_window_s: tuple[float, float] = (-0.0005, 0.003),
    tmin: float = -0.02,
    tmax: float = 0.06,
    **measure_kw: Any,
) -> pd.DataFrame:
    """Measure the facial MEP of every stimulus train and EMG channel.

    The pulses are found with :func:`hfs_emg.find_stim_events` (debounce 0.5 ms, so each pulse
    of a train is found) unless ``events`` gives them, grouped into trains
    (:func:`group_stimulus_trains`), the artefact of the whole train is suppressed
    (:func:`hfs_emg.blank_stimulus_artifact` from ``artifact_window_s[0]`` before the first
    pulse to ``artifact_window_s[1]`` after the last), epochs are cut on the first pulse
    (:func:`hfs_emg.make_epochs`) and each is measured with :func:`hfs_emg.measure_responses`
    in ``window_ms``.

    Parameters
    ----------
    rec : Recording
        Recording with the train stimuli (trigger channel, events or artefacts).
    events : pandas.DataFrame, optional
        Pulse events (``onset_s``); found automatically otherwise.
    %(source_label)s
    max_interval_s : float
        Longest inter-pulse interval within a train (s).
    window_ms : (float, float)
        Search window after the first pulse (ms); the default starts at 10 ms: a central FMEP
        starts later, an earlier response is a direct (peripheral) activation (Baek et al.
        2018), and the artefact tail of the last pulse stays out of the window.
    artifact_method : {"interpolate", "template", "decay"} or None
        Artefact suppression over each train.
    artifact_window_s : (float, float)
        Artefact window around the train (s before the first / after the last pulse).
    tmin, tmax : float
        Epoch window around the first pulse (s).
    **measure_kw
        Options of :func:`hfs_emg.measure_responses` (``k_noise``, ``min_p2p_uv``...).

    Returns
    -------
    pandas.DataFrame
        One row per (train, channel): ``stim_index`` (train), ``stim_time_s``, ``channel``,
        ``muscle``, ``n_pulses``, ``isi_ms``, ``present``, ``latency_ms`` (onset after the first
        pulse), ``latency_last_pulse_ms`` (after the last pulse), ``peak_latency_ms``,
        ``p2p_uv``, ``area_uv_ms``, ``duration_ms``, ``snr_db``, ``noise_uv``, ``rejected``,
        ``reject_reason``.

    References
    ----------
    .. [1] Fukuda M, Oishi M, Hiraishi T, Saito A, Fujii Y. Facial nerve motor-evoked potential
       monitoring during microvascular decompression for hemifacial spasm. J Neurol Neurosurg
       Psychiatry 2010;81:519-523.
    .. [2] Dong CCJ, Macdonald DB, Akagami R, et al. Intraoperative facial motor evoked
       potential monitoring with transcranial electrical stimulation during skull base
       surgery. Clin Neurophysiol 2005;116:588-596.
    .. [3] Baek JS, Park SK, Kim DJ, et al. Facial motor evoked potential techniques and
       functional prediction during cerebello-pontine angle surgery. Korean J Clin Lab Sci
       2018;50:470-476.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_fmep
    >>> sim = simulate_fmep(duration_s=40.0, phase_times_s={"dura_opening": 5.0,
    ...                     "decompression": 20.0, "dural_closure": 35.0})
    >>> fmep = measure_fmep(sim.recording)
    >>> int(fmep["n_pulses"].iloc[0]), bool(fmep["present"].all())
    (4, True)
    """
    if not isinstance(rec, Recording):
        raise TypeError(f"rec must be a Recording, got {type(rec).__name__}.")
    if events is None:
        events = find_stim_events(rec, source=source, label=label, min_interval_s=0.0005)
    trains = group_stimulus_trains(events, max_interval_s=max_interval_s)
    if artifact_method is not None:
        check_option("artifact_method", artifact_method, ARTIFACT_METHODS)
        span = float(trains["duration_s"].max())
        rec = blank_stimulus_artifact(
            rec,
            trains,
            method=artifact_method,
            window_s=(artifact_window_s[0], span + artifact_window_s[1]),
        )
    base_end = min(artifact_window_s[0], -0.0005)
    epochs = make_epochs(rec, trains, tmin=tmin, tmax=tmax, baseline=(tmin, base_end))
    df = measure_responses(epochs, window_ms=window_ms, **measure_kw)
    info = epochs.events.set_index("stim_index")
    df.insert(
        4,
        "muscle",
        df["channel"].map(dict(zip(epochs.ch_names, epochs.channels["muscle"], strict=True))),
    )
    df.insert(5, "n_pulses", df["stim_index"].map(info["n_pulses"]).astype(int))
    df.insert(6, "isi_ms", df["stim_index"].map(info["isi_ms"]))
    lat_last = df["latency_ms"] - 1e3 * df["stim_index"].map(info["duration_s"])
    df.insert(df.columns.get_loc("latency_ms") + 1, "latency_last_pulse_ms", lat_last)
    return df.drop(columns="epoch")


def _median_latency(lat: np.ndarray, p: np.ndarray, sel: np.ndarray) -> float:
    v = lat[sel][p[sel]]
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else np.nan


def fmep_trend(
    fmep: pd.DataFrame,
    *,
    phases: Any = None,
    baseline_n: int = 3,
    final_n: int = 3,
    warning_pct: float = 50.0,
) -> pd.DataFrame:
    """Final/baseline FMEP amplitude per channel (muscle), in per cent (Fukuda et al. 2010).

    Windows as in :func:`hfs_emg.lsr_trend`: baseline = the trains from the dural-opening marker
    to the decompression marker (the first ``baseline_n`` trains without an opening marker);
    final = the last ``final_n`` trains before the dural-closure marker (Fukuda: final FMEP at
    dural closure; the last ``final_n`` without it). In both windows the amplitude is the mean
    p2p with absent responses counted as 0 uV (a lost MEP is the finding, not a missing value).

    Parameters
    ----------
    fmep : pandas.DataFrame
        Output of :func:`measure_fmep`.
    phases : DataFrame or mapping, optional
        Phase markers (see :func:`hfs_emg.lsr_trend`).
    baseline_n, final_n : int
        Trains of the baseline (without markers) and final windows.
    warning_pct : float
        ``warning`` is set when final/baseline falls below this (default 50 %: a ratio of 50 % or
        more predicted a preserved facial function, Dong et al. 2005). In MVD for hemifacial
        spasm a fall in orbicularis oculi is also the expected sign of a successful
        decompression (Fukuda 2010), so read the flag together with the LSR.

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``muscle``, ``n_trains``, ``baseline_p2p_uv``,
        ``final_p2p_uv``, ``final_over_baseline_pct``, ``baseline_latency_ms``,
        ``final_latency_ms`` (median onsets), ``warning``.

    References
    ----------
    .. [1] Fukuda M, et al. J Neurol Neurosurg Psychiatry 2010;81:519-523 (final/baseline per
       muscle: oculi 44.8 %, oris 84.5 %, mentalis 95.8 % when the spasm resolved).
    .. [2] Dong CCJ, et al. Clin Neurophysiol 2005;116:588-596 (final/baseline >= 50 %).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_fmep
    >>> times = {"dura_opening": 5.0, "decompression": 20.0, "dural_closure": 35.0}
    >>> sim = simulate_fmep(duration_s=40.0, phase_times_s=times, ramp_s=2.0)
    >>> trend = fmep_trend(measure_fmep(sim.recording), phases=sim.phases)
    >>> trend["muscle"].tolist()
    ['orbicularis_oculi', 'orbicularis_oris', 'mentalis']
    >>> err = trend["final_over_baseline_pct"] - sim.trend["final_over_baseline_pct"]
    >>> bool(err.abs().max() < 10)
    True
    """
    for col in ("stim_index", "stim_time_s", "channel", "present", "p2p_uv"):
        if col not in fmep.columns:
            raise ParameterError(f"fmep needs a {col!r} column (output of measure_fmep).")
    if int(baseline_n) < 1 or int(final_n) < 1:
        raise ParameterError("baseline_n and final_n must be >= 1.")
    onsets = phase_onsets(phases)
    df = fmep
    if "rejected" in df.columns:
        df = df[~df["rejected"].to_numpy(bool)]
    t_open = onsets.get("dura_opening", -np.inf)
    t_dec = onsets.get("decompression", np.inf)
    t_close = onsets.get("dural_closure", np.inf)
    rows = []
    for ch, g in df.groupby("channel", sort=False):  # loop over channels
        g = g.sort_values("stim_time_s")
        t = g["stim_time_s"].to_numpy(float)
        p = g["present"].to_numpy(bool)
        a = np.where(p, g["p2p_uv"].to_numpy(float), 0.0)
        lat = g["latency_ms"].to_numpy(float) if "latency_ms" in g else np.full(t.size, np.nan)
        idx = np.arange(t.size)
        base = idx[(t >= t_open) & (t < t_dec)] if "dura_opening" in onsets else idx[t < t_dec]
        if "dura_opening" not in onsets or base.size == 0:
            base = idx[t < t_dec][: int(baseline_n)]
        fin = idx[t < t_close]
        fin = (fin if fin.size else idx)[-int(final_n) :]
        b = float(a[base].mean()) if base.size else np.nan
        f = float(a[fin].mean()) if fin.size else np.nan
        pct = 100.0 * f / b if b > 0 else np.nan

        rows.append(
            {
                "channel": ch,
                "muscle": g["muscle"].iloc[0] if "muscle" in g else None,
                "n_trains": int(t.size),
                "baseline_p2p_uv": b,
                "final_p2p_uv": f,
                "final_over_baseline_pct": pct,
                "baseline_latency_ms": _median_latency(lat, p, base),
                "final_latency_ms": _median_latency(lat, p, fin),
                "warning": bool(np.isfinite(pct) and pct < float(warning_pct)),
            }
        )
    return pd.DataFrame(rows)
