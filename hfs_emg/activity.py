"""Activity classes of spontaneous bursts: HFS-like discharge, myokymia-like grouping, aperiodic.

:func:`classify_activity` labels each burst with the named :data:`ACTIVITY_PRESETS` from the
burst table's periodicity and discharge rate (:func:`hfs_emg.detect_bursts`) and the grouping
rhythm of the rectified burst (:func:`hfs_emg.discharge.envelope_rhythm`), so that non-HFS
activity (voluntary-like interference, myokymia-like grouped discharges) is not read as HFS;
:func:`activity_counts` counts the classes per channel. The labels describe the signal, not a
diagnosis.

References
----------
.. [1] Nielsen VK. Pathophysiology of hemifacial spasm. Neurology 1984;34:418-426.
.. [2] Gutmann L. AAEM minimonograph #37: facial and limb myokymia. Muscle Nerve
       1991;14:1043-1049.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import DataError, ParameterError
from .detection import burst_filter
from .discharge import MIN_PERIODICITY, envelope_rhythm

if TYPE_CHECKING:
    from .recording import Recording

__all__ = ["ACTIVITY_CLASSES", "ACTIVITY_PRESETS", "activity_counts", "classify_activity"]

#: Named activity presets of :func:`classify_activity`. ``"hfs"``: a strongly periodic burst
#: (``periodicity >= MIN_PERIODICITY``) whose discharge rate lies in the HFS range (Nielsen
#: 1984: 150-400 Hz). ``"myokymia"``: grouped discharges - a burst of at least ``min_s`` whose
#: rectified signal has its spectral peak in ``rhythm_hz`` with at least ``min_share`` of its
#: 5-60 Hz power there (the simulator's myokymia-like units at 35-45 Hz; facial myokymia is
#: described with grouped discharges at 2-60 Hz, Gutmann 1991). ``"aperiodic"``: at least
#: ``min_s`` and neither: an interference pattern of asynchronous units (voluntary-like
#: activity, or HFS units that do not fire together). Shorter bursts that are not ``"hfs"`` are
#: ``"undetermined"``. The myokymia and duration thresholds are this library's, chosen on
#: simulator seeds 100-101 (docs/validation_spontaneous.md).
ACTIVITY_PRESETS: dict[str, dict[str, Any]] = {
    "hfs": {"rate_hz": (150.0, 400.0), "min_periodicity": MIN_PERIODICITY},
    "myokymia": {"rhythm_hz": (30.0, 55.0), "min_share": 0.7, "min_s": 0.08},
    "aperiodic": {"min_s": 0.08},
}

#: Classes of :func:`classify_activity`, in the order of :func:`activity_counts`.
ACTIVITY_CLASSES: tuple[str, ...] = ("hfs", "myokymia", "aperiodic", "undetermined")


def classify_activity(
    bursts: pd.DataFrame,
    rec: Recording,
    *,
    presets: dict[str, dict[str, Any]] | None = None,
    band: tuple[float, float] = (20.0, 1000.0),
) -> pd.DataFrame:
    """Label each burst as HFS-like discharge, myokymia-like grouping or aperiodic activity.

    Uses the burst table's ``discharge_hz`` / ``periodicity`` (:func:`hfs_emg.detect_bursts`)
    and the grouping rhythm of each burst (:func:`envelope_rhythm`) on the band-passed
    recording (filtered as :func:`hfs_emg.detect_bursts` filters it when ``rec`` holds no
    band-pass step). The rules are the named :data:`ACTIVITY_PRESETS`; the labels describe
    the signal, they are not a diagnosis (needle EMG and the clinical picture decide).

    Parameters
    ----------
    bursts : pandas.DataFrame
        From :func:`hfs_emg.detect_bursts` (``channel``, ``onset_s``, ``offset_s``,
        ``duration_s``, ``discharge_hz``, ``periodicity``).
    rec : Recording
        The recording the bursts were detected in.
    presets : dict, optional
        Overrides of :data:`ACTIVITY_PRESETS` entries (merged key by key).
    band : (float, float)
        Band-pass corners (Hz) when ``rec`` is unfiltered.

    Returns
    -------
    pandas.DataFrame
        A copy of ``bursts`` with ``rhythm_hz`` (spectral peak of the rectified burst),
        ``rhythm_share`` and ``activity`` (one of :data:`ACTIVITY_CLASSES`).

    References
    ----------
    .. [1] Nielsen VK. Neurology 1984;34:418-426 (HFS discharges at 150-400 Hz).
    .. [2] Gutmann L. AAEM minimonograph #37: facial and limb myokymia. Muscle Nerve
       1991;14:1043-1049 (grouped discharges).

    Examples
    --------
    >>> from hfs_emg.detection import detect_bursts
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> sim = simulate_spontaneous(duration_s=30.0, sfreq=5000.0, seed=3)
    >>> act = classify_activity(detect_bursts(sim.recording), sim.recording)
    >>> bool((act["activity"] == "hfs").mean() > 0.8)
    True
    """
    cfg = {k: dict(v) for k, v in ACTIVITY_PRESETS.items()}
    for name, over in (presets or {}).items():
        if name not in cfg:
            raise ParameterError(f"Unknown activity preset {name!r}; known: {sorted(cfg)}.")
        unknown = sorted(set(over) - set(cfg[name]))
        if unknown:
            raise ParameterError(f"Unknown key(s) {unknown} for preset {name!r}.")
        cfg[name].update(over)
    need = ["channel", "onset_s", "offset_s", "duration_s", "discharge_hz", "periodicity"]
    missing = [c for c in need if c not in bursts.columns]
    if missing:
        raise DataError(f"bursts lacks column(s) {missing} (use hfs_emg.detect_bursts).")
    out = bursts.copy()
    peak = np.full(len(out), np.nan)
    share = np.full(len(out), np.nan)
    names = list(dict.fromkeys(out["channel"]))
    absent = [c for c in names if c not in rec.ch_names]
    if absent:
        raise DataError(f"rec has no channel(s) {absent} of the bursts table.")
    picked = [c for c in bursts.attrs.get("channels", names) if c in rec.ch_names] or names
    filt = burst_filter(rec, picks=rec._pick_indices(picked), band=band)  # None: filtered
    prefilter = None if filt is None else filt.apply
    fs = rec.sfreq
    chans = out["channel"].to_numpy(object)
    my = cfg["myokymia"]
    for name, i in zip(names, rec._pick_indices(names), strict=True):  # channels
        sel = np.flatnonzero(chans == name)
        row = np.asarray(rec.data[i])
        row = prefilter(row) if prefilter is not None else row.astype(np.float64, copy=False)
        s = np.round((out["onset_s"].to_numpy(float)[sel] - rec.tstart) * fs).astype(np.intp)
        e = np.round((out["offset_s"].to_numpy(float)[sel] - rec.tstart) * fs).astype(np.intp)
        peak[sel], share[sel] = envelope_rhythm(row, fs, s, e, rhythm_hz=my["rhythm_hz"])
    rate = out["discharge_hz"].to_numpy(float)
    per = out["periodicity"].to_numpy(float)
    dur = out["duration_s"].to_numpy(float)
    h = cfg["hfs"]
    is_hfs = (per >= h["min_periodicity"]) & (rate >= h["rate_hz"][0]) & (rate <= h["rate_hz"][1])
    lo, hi = my["rhythm_hz"]
    is_myo = (
        ~is_hfs & (dur >= my["min_s"]) & (peak >= lo) & (peak <= hi) & (share >= my["min_share"])
    )
    is_ap = ~is_hfs & ~is_myo & (dur >= cfg["aperiodic"]["min_s"])
    out["rhythm_hz"] = peak
    out["rhythm_share"] = share
    out["activity"] = np.select(
        [is_hfs, is_myo, is_ap], ["hfs", "myokymia", "aperiodic"], "undetermined"
    )
    return out


def activity_counts(classified: pd.DataFrame, *, duration_s: float) -> pd.DataFrame:
    """Bursts per activity class and channel, with rates per minute.

    Parameters
    ----------
    classified : pandas.DataFrame
        Output of :func:`classify_activity`.
    duration_s : float
        Analysed duration in seconds (for ``*_per_min``).

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``n_<class>`` and ``<class>_per_min`` for every class of
        :data:`ACTIVITY_CLASSES`.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"channel": ["a", "a", "b"], "activity": ["hfs", "myokymia", "hfs"]})
    >>> activity_counts(c, duration_s=60.0)[["channel", "n_hfs", "n_myokymia"]].values.tolist()
    [['a', 1, 1], ['b', 1, 0]]
    """
    if "activity" not in classified.columns or "channel" not in classified.columns:
        raise DataError("classified needs 'channel' and 'activity' (use classify_activity).")
    if not float(duration_s) > 0:
        raise ParameterError(f"duration_s must be > 0, got {duration_s!r}.")
    tab = pd.crosstab(classified["channel"], classified["activity"])
    tab = tab.reindex(columns=list(ACTIVITY_CLASSES), fill_value=0)
    out = pd.DataFrame({"channel": tab.index.astype(str)})
    for cls in ACTIVITY_CLASSES:
        out[f"n_{cls}"] = tab[cls].to_numpy(int)
    for cls in ACTIVITY_CLASSES:
        out[f"{cls}_per_min"] = out[f"n_{cls}"] * 60.0 / float(duration_s)
    return out.reset_index(drop=True)
