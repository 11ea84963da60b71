"""The Z-L response (ZLR): facial-muscle response to stimulation of the offending vessel's wall.

During microvascular decompression (MVD) for hemifacial spasm, stimulating the wall of the
offending artery (2 mA x 0.2 ms) evokes a response in the facial muscles of the patients with
hemifacial spasm, not in controls with trigeminal neuralgia whose AICA touched the facial
nerve: latency 7.3 +/- 0.8 ms, amplitude 0.08 +/- 0.02 mV, effective refractory period 3.5-4 ms;
it disappeared immediately after the decompression (Zheng et al. 2012, 32 HFS + 12 TN
patients). In a later series it was present before decompression in 19 of 20 patients but
disappeared after it in only 13 of the 19 whose LSR disappeared; of the six that persisted,
three were reduced (Son et al. 2018): a persisting ZLR is therefore weaker evidence of an
incomplete decompression than a persisting LSR.

:func:`measure_zl_response` measures every vessel stimulus and EMG channel with the calibrated
single-trial test and matched detector of :func:`hfs_emg.measure_lsr` (no channel is direct:
the stimulus is not on a facial-nerve branch), in its own window around 7.3 ms; its rows have
``kind == "zlr"`` and ``montage`` = the stimulated vessel, so they join the LSR table and
:func:`zl_trend` (= :func:`hfs_emg.lsr_trend` on those rows) gives the same status, phase of
loss and reduction per channel. :func:`vessel_sites` tells vessel stimuli from branch stimuli
by their marker text (configurable vocabulary, :data:`ZL_SITE_VOCABULARY`).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._docs import fill_doc
from ._errors import NoStimulusError, ParameterError
from .epochs import Epochs
from .events import find_stim_events
from .lsr import measure_lsr
from .recording import Recording
from .responses import stimulus_epochs
from .trend import lsr_trend

__all__ = [
    "ZL_LATENCY_MS",
    "ZL_P2P_UV",
    "ZL_SITE_VOCABULARY",
    "measure_zl_response",
    "vessel_sites",
    "zl_trend",
]

#: Z-L response latency, mean and SD (ms; Zheng et al. 2012, n = 32).
ZL_LATENCY_MS: tuple[float, float] = (7.3, 0.8)
#: Z-L response amplitude, mean and SD (uV; 0.08 +/- 0.02 mV, Zheng et al. 2012).
ZL_P2P_UV: tuple[float, float] = (80.0, 20.0)

#: Default vocabulary: vessel site -> phrases of a marker that name it (case-insensitive,
#: whole words; spaces, hyphens and underscores are interchangeable). The offending vessels of
#: hemifacial spasm are mostly the AICA, PICA and vertebral artery.
ZL_SITE_VOCABULARY: dict[str, tuple[str, ...]] = {
    "aica": ("aica", "anterior inferior cerebellar"),
    "pica": ("pica", "posterior inferior cerebellar"),
    "va": ("va", "vertebral", "vertebral artery"),
    "vessel": (
        "vessel",
        "artery",
        "arterial wall",
        "offending artery",
        "offending vessel",
        "vein",
        "zl",
        "z l",
        "zlr",
        "z l response",
    ),
}


def _compile(vocabulary: Mapping[str, Sequence[str]]) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for site, phrases in vocabulary.items():
        if isinstance(phrases, str):
            raise ParameterError(f"vocabulary[{site!r}] must be a sequence of phrases.")
        for ph in sorted(phrases, key=len, reverse=True):
            words = [re.escape(w) for w in re.split(r"[\s_\-]+", str(ph).strip()) if w]
            if words:
                out.append((str(site), re.compile(r"\b" + r"[\s_\-]*".join(words) + r"\b", re.I)))
    return out


def vessel_sites(
    events: pd.DataFrame,
    rec: Recording | None = None,
    *,
    vocabulary: Mapping[str, Sequence[str]] | None = None,
) -> pd.Series:
    """Vessel stimulated by each stimulus (from its marker text), or None for other stimuli.

    A stimulus is a vessel stimulus when its ``stim_site`` column, its ``label`` or the label
    of an event of ``rec`` at the same time (within 1.5 samples; a trigger-derived stimulus
    keeps its annotation that way) names a site of ``vocabulary``. Specific vessels (AICA,
    PICA, VA) are matched before the generic ``"vessel"``.

    Parameters
    ----------
    events : pandas.DataFrame
        Stimulus events (``onset_s``, optionally ``label`` and ``stim_site``).
    rec : Recording, optional
        Recording whose events' labels are read at the stimulus times.
    vocabulary : mapping, optional
        Site -> phrases (default :data:`ZL_SITE_VOCABULARY`).

    Returns
    -------
    pandas.Series
        One value per stimulus (index of ``events``): the site name or None.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"onset_s": [1.0, 2.0, 3.0],
    ...                    "label": ["stim zygomatic", "Stim AICA 2 mA", "ZL stim"]})
    >>> vessel_sites(ev).tolist()
    [None, 'aica', 'vessel']
    """
    pats = _compile(ZL_SITE_VOCABULARY if vocabulary is None else vocabulary)
    pats.sort(key=lambda p: p[0] == "vessel")  # specific sites first
    n = len(events)
    texts = [""] * n
    for col in ("stim_site", "label"):
        if col in events.columns:
            vals = events[col].astype(object).where(events[col].notna(), "").astype(str)
            texts = [f"{a} | {b}" for a, b in zip(texts, vals, strict=True)]
    if rec is not None and len(rec.events) and "label" in rec.events and n:
        ev = rec.events.sort_values("onset_s", kind="stable")
        on = ev["onset_s"].to_numpy(float)
        lab = ev["label"].astype(str).to_numpy(object)
        st = events["onset_s"].to_numpy(float)
        tol = 1.5 / rec.sfreq
        lo = np.searchsorted(on, st - tol, "left")
        hi = np.searchsorted(on, st + tol, "right")
        texts = [
            t + " | " + " | ".join(lab[a:b]) if b > a else t
            for t, a, b in zip(texts, lo, hi, strict=True)
        ]
    site: dict[str, str | None] = {}  # each distinct marker text searched once
    out = []
    for t in texts:  # one loop over stimuli (marker text)
        if t not in site:
            site[t] = next((name for name, p in pats if p.search(t)), None)
        out.append(site[t])
    return pd.Series(out, index=events.index, dtype=object)


@fill_doc
def measure_zl_response(
    rec_or_epochs: Recording | Epochs,
    *,
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    vocabulary: Mapping[str, Sequence[str]] | None = None,
    all_stimuli: bool = False,
    window_ms: tuple[float, float] = (4.5, 14.0),
    artifact_method: str | None = "tail",
    artifact_window_s: tuple[float, float] = (-0.0005, 0.001),
    tmin: float = -0.05,
    tmax: float = 0.03,
    false_alarm_rate: float = 0.002,
    calibration_n: int = 200,
    average_n: int = 1,
    **measure_kw: Any,
) -> pd.DataFrame:
    """Measure the Z-L response to every vessel stimulus on every EMG channel.

    The stimuli (:func:`hfs_emg.find_stim_events` unless ``events`` is given) whose marker
    names a vessel (:func:`vessel_sites`; every stimulus with ``all_stimuli=True``) are
    measured by :func:`hfs_emg.measure_lsr` with every channel as a response channel (the
    vessel is not a facial-nerve branch, so no channel carries a direct M-wave) in
    ``window_ms``: the same artefact suppression, calibrated single-trial test (per-sweep
    false-alarm rate ``false_alarm_rate`` on a pre-stimulus control window), quality rejection
    and causal matched detector.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        The recording (or epochs already cut around the vessel stimuli).
    events : pandas.DataFrame, optional
        Stimulus events; found automatically otherwise.
    %(source_label)s
    vocabulary : mapping, optional
        Vessel-site vocabulary (default :data:`ZL_SITE_VOCABULARY`).
    all_stimuli : bool
        Treat every stimulus as a vessel stimulus (site ``"vessel"``) whatever its label.
    window_ms : (float, float)
        Search window (ms after the stimulus). Default 4.5-14 ms: the onset latency 7.3 +/- 0.8
        ms of Zheng et al. 2012 +/- 3.5 SD, with room for the response after its onset (the
        window bounds are this library's derivation from that mean and SD, not from a paper).
        The LSR window (6-20 ms) would cut early Z-L responses.
    artifact_method, artifact_window_s, tmin, tmax
        As :func:`hfs_emg.measure_lsr` (the calibration needs ``tmin <= -0.0395`` with the
        default window).
    false_alarm_rate : float
        Target per-sweep false-alarm rate of the calibrated tests.
    calibration_n : int
        Trailing number of sweeps of the calibration.
    average_n : int
        With ``average_n > 1`` every row measures the causal running average of the last
        ``average_n`` sweeps of the same vessel (this one and earlier ones; clipped sweeps left
        out), after artefact suppression: the noise falls by about ``sqrt(average_n)``, the
        time resolution of a loss by ``average_n`` sweeps. The calibration runs on the averaged
        pre-stimulus windows, so the false-alarm rate holds per averaged row. For Z-L responses
        near the noise (single-sweep SNR about 1; see ``docs/validation_mvd.md``).
    **measure_kw
        Other options of :func:`hfs_emg.measure_lsr` (``k_noise``, ``min_p2p_uv``,
        ``match_k``...).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`hfs_emg.measure_lsr`, one row per (vessel stimulus, channel), with
        ``kind == "zlr"`` and ``montage`` = the vessel site (``"aica"``, ``"pica"``, ``"va"``,
        ``"vessel"``), ``n_averaged`` (sweeps in the row's average); ``stim_index`` is the
        index of the stimulus among all stimuli. Empty (same columns) when no stimulus names
        a vessel.

    References
    ----------
    .. [1] Zheng X, et al. Discovery of a new waveform for intraoperative monitoring of
       hemifacial spasms (32 HFS, 12 trigeminal-neuralgia controls; the abstract was read, the
       journal details are as usually cited and not verified here: BMC Neurol 2012;12:29).
    .. [2] Son BC, Ko HC, Choi JG. Intraoperative monitoring of Z-L response (ZLR) and abnormal
       muscle response (AMR) during microvascular decompression for hemifacial spasm.
       Interpreting the role of ZLR. Acta Neurochir 2018;160:963 (doi:10.1007/s00701-017-3462-z).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_zl_response
    >>> sim = simulate_zl_response(duration_s=60.0, phase_times_s={"dura_opening": 2.0,
    ...                            "decompression": 35.0, "dural_closure": 58.0}, seed=1)
    >>> zl = measure_zl_response(sim.recording)
    >>> sorted(zl["kind"].unique()), sorted(zl["montage"].unique())
    (['zlr'], ['aica'])
    >>> t = sim.responses.query("kind == 'zlr'").merge(zl, on=["stim_index", "channel"])
    >>> bool(((t["present_x"] == t["present_y"]).mean()) > 0.9)
    True
    """
    rec = rec_or_epochs if isinstance(rec_or_epochs, Recording) else None
    if isinstance(rec_or_epochs, Epochs):
        ev = rec_or_epochs.events
    elif rec is not None:
        if events is None:
            events = find_stim_events(rec, source=source, label=label)
        ev = events.reset_index(drop=True)
    else:
        raise TypeError(
            f"rec_or_epochs must be a Recording or Epochs, got {type(rec_or_epochs).__name__}."
        )
    if "stim_index" not in ev.columns:
        ev = ev.assign(stim_index=np.arange(len(ev)))
    sites = (
        pd.Series("vessel", index=ev.index, dtype=object)
        if all_stimuli
        else vessel_sites(ev, rec, vocabulary=vocabulary)
    )
    keep = sites.notna().to_numpy()
    if not keep.any():
        return _empty_like_lsr()
    # the vessel is no branch: no stimulus is "direct" on any channel
    kw: dict[str, Any] = {"stim_branch": None}
    if rec is not None:
        sub = ev[keep].assign(stim_branch=None)
        sub = sub.drop(columns=[c for c in ("label",) if c in sub.columns]).assign(label="zl")
        if "stim_branch" in rec.meta:
            meta = {k: v for k, v in rec.meta.items() if k != "stim_branch"}
            rec = dataclasses.replace(rec, meta=meta)
        target: Recording | Epochs = rec
        kw["events"] = sub
        kw.update(artifact_method=artifact_method, artifact_window_s=artifact_window_s)
        kw.update(tmin=tmin, tmax=tmax)
        if int(average_n) > 1:
            target = stimulus_epochs(
                rec,
                events=sub,
                source=source,
                label=label,
                artifact_method=artifact_method,
                artifact_window_s=artifact_window_s,
                tmin=tmin,
                tmax=tmax,
            )
            kw = {"stim_branch": None}
    else:
        assert isinstance(rec_or_epochs, Epochs)
        target = rec_or_epochs.select(keep)
        target = dataclasses.replace(target, events=target.events.assign(stim_branch=None))
    n_avg = np.ones(int(keep.sum()), np.int64)
    if int(average_n) > 1:
        assert isinstance(target, Epochs)
        target, n_avg = _running_average(target, sites.to_numpy(object)[keep], int(average_n))
    elif int(average_n) < 1:
        raise ParameterError(f"average_n must be >= 1, got {average_n}.")
    with warnings.catch_warnings():
        # "the stimulated branch is unknown": intended, the vessel is not a branch
        warnings.filterwarnings("ignore", message="The stimulated branch of")
        df = measure_lsr(
            target,
            window_ms=window_ms,
            false_alarm_rate=false_alarm_rate,
            calibration_n=calibration_n,
            **kw,
            **measure_kw,
        )
    site_of = dict(
        zip(ev["stim_index"].to_numpy()[keep], sites.to_numpy(object)[keep], strict=True)
    )
    df["montage"] = df["stim_index"].map(site_of).astype(object)
    df["kind"] = "zlr"
    avg_of = dict(zip(ev["stim_index"].to_numpy()[keep], n_avg, strict=True))
    df["n_averaged"] = df["stim_index"].map(avg_of).astype(np.int64)
    return df.reset_index(drop=True)


def _running_average(epochs: Epochs, sites: np.ndarray, n: int) -> tuple[Epochs, np.ndarray]:
    """Causal mean of the last ``n`` good sweeps of the same site (vectorised over samples)."""
    data = np.zeros_like(epochs.data, dtype=np.float64)
    bad = np.zeros(epochs.bad.shape, bool)
    counts = np.ones(epochs.n_epochs, np.int64)
    for site in dict.fromkeys(sites):  # a handful of vessels
        rows = np.flatnonzero(sites == site)
        good = ~epochs.bad[rows]  # (k, n_channels)
        x = np.where(good[:, :, None], epochs.data[rows], 0.0)
        cs = np.cumsum(np.concatenate([np.zeros_like(x[:1]), x]), axis=0)
        cg = np.cumsum(np.concatenate([np.zeros_like(good[:1], dtype=np.int64), good]), axis=0)
        hi = np.arange(1, rows.size + 1)
        lo = np.maximum(hi - n, 0)
        k = cg[hi] - cg[lo]  # good sweeps in each window, per channel
        data[rows] = (cs[hi] - cs[lo]) / np.maximum(k, 1)[:, :, None]
        bad[rows] = k == 0
        counts[rows] = hi - lo
    reason = np.where(bad, "no good sweep", "").astype(object)
    return dataclasses.replace(epochs, data=data, bad=bad, bad_reason=reason), counts


def _empty_like_lsr() -> pd.DataFrame:
    cols = [
        "stim_index",
        "stim_time_s",
        "channel",
        "muscle",
        "kind",
        "present",
        "latency_ms",
        "peak_latency_ms",
        "p2p_uv",
        "area_uv_ms",
        "duration_ms",
        "snr_db",
        "noise_uv",
        "rejected",
        "reject_reason",
        "montage",
        "intensity_ma",
        "false_alarm_rate",
        "match_present",
        "n_averaged",
    ]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def zl_trend(
    zl: pd.DataFrame,
    *,
    phases: Any = None,
    baseline_n: int = 10,
    final_n: int = 10,
    consecutive_absent: int = 5,
    **trend_kw: Any,
) -> pd.DataFrame:
    """Course of the Z-L response per channel and vessel: status, phase and time of its loss.

    :func:`hfs_emg.lsr_trend` on the ``kind == "zlr"`` rows, so the definitions are those of
    the LSR (status ``not_elicited`` / ``persisted`` / ``partial`` / ``disappeared`` /
    ``transient_loss``, ``loss_phase``, ``loss_after_decompression_s``, baseline and final
    windows between the phase markers, ``reduction_pct``). The defaults differ in the final
    window only: the vessel is stimulated in short series once it is exposed, so the final
    window is 10 sweeps instead of 20 (a convention of this library, not from a paper).
    "Disappeared after decompression" is the finding of Zheng et al. 2012; a persisting ZLR
    after a disappeared LSR was seen in 6 of 19 patients by Son et al. 2018.

    Parameters
    ----------
    zl : pandas.DataFrame
        Output of :func:`measure_zl_response` (or an LSR table with ``kind == "zlr"`` rows).
    phases : DataFrame or mapping, optional
        Surgical phase markers (see :func:`hfs_emg.lsr_trend`).
    baseline_n, final_n, consecutive_absent : int
        As :func:`hfs_emg.lsr_trend`.
    **trend_kw
        Other options of :func:`hfs_emg.lsr_trend`.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`hfs_emg.lsr_trend` (per channel and ``overall``, per vessel
        ``montage``), with ``kind == "zlr"``.

    References
    ----------
    .. [1] Zheng X, et al. Discovery of a new waveform for intraoperative monitoring of
       hemifacial spasms (usually cited as BMC Neurol 2012;12:29; not verified here).
    .. [2] Son BC, Ko HC, Choi JG. Acta Neurochir 2018;160:963 (doi:10.1007/s00701-017-3462-z).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_zl_response
    >>> sim = simulate_zl_response(duration_s=60.0, phase_times_s={"dura_opening": 2.0,
    ...                            "decompression": 35.0, "dural_closure": 58.0}, seed=1)
    >>> tr = zl_trend(measure_zl_response(sim.recording), phases=sim.phases)
    >>> tr.set_index("channel").loc["overall", ["status", "loss_phase"]].tolist()
    ['disappeared', 'after_decompression']
    """
    if "kind" not in zl.columns:
        raise ParameterError("zl needs a 'kind' column (output of measure_zl_response).")
    rows = zl[zl["kind"] == "zlr"]
    if rows.empty:
        raise NoStimulusError("zl has no Z-L rows (kind == 'zlr'): no vessel was stimulated.")
    out = lsr_trend(
        rows,
        phases=phases,
        baseline_n=baseline_n,
        final_n=final_n,
        consecutive_absent=consecutive_absent,
        **trend_kw,
    )
    if "kind" not in out.columns:
        out.insert(0, "kind", "zlr")
    if "montage" not in out.columns:
        out.insert(1, "montage", rows["montage"].iloc[0])
    return out
