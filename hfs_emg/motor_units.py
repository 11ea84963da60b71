"""Motor-unit firing rates from needle or single-unit EMG: threshold detection and template sorting.

In surface or multi-unit EMG the units' discharges sum and no firing rate can be read from the
signal (see :mod:`hfs_emg.discharge`). Where single units are visible (needle EMG, fine-wire or
intramuscular recordings), :func:`detect_units` finds each unit's discharges and reports its
firing rate and inter-spike-interval (ISI) statistics:

1. Detection (Quiroga, Nadasdy & Ben-Shaul 2004): the band-passed signal's noise SD is
   ``median(|x|) / 0.6745``; discharges are the peaks of ``|x|`` above ``threshold`` times that,
   at least ``dead_time_s`` apart.
2. Features: the waveforms (``window_s`` around each peak) projected on their first three
   principal components.
3. Clustering: k-means (:func:`scipy.cluster.vq.kmeans2`, k-means++ seeding) for k = 1 ...
   ``max_units``; the smallest k whose waveforms are explained to the noise level (median
   residual RMS per spike <= ``residual_factor`` x noise SD) is kept, then clusters whose
   templates differ by less than ``merge_factor`` x noise SD (RMS) are merged (template
   matching in the sense of the decomposition literature; Lewicki 1998). One peel-off pass
   then subtracts every sorted discharge's template from the signal and detects the residual
   peaks again, each assigned to the template it matches to the noise level: discharges of a
   smaller unit hidden under a larger one within the dead time are recovered (template
   subtraction for overlaps; Lewicki 1998).
4. Per unit: ISIs shorter than ``max_isi_s`` (longer ones are pauses between trains) and
   within 0.5-1.5 x their median (a missed discharge doubles an interval, an extra one halves
   it) give ``rate_hz = 1 / median ISI``, the mean-ISI rate and ``isi_cv = SD / mean``.
5. Isolation (firing-pattern consistency; Stashuk 2001): a cluster whose within-train ISIs
   fall outside 0.5-1.5 x their median more often than :data:`MAX_ISI_OUTLIER_PCT` is the
   merged train of several units (or a unit with many missed discharges): it is reported with
   ``isolated=False`` and NaN rate and ISI statistics, never with the rate of the merged
   train (a cluster of ``motor_units.smr`` that mixed MU1 with other units read 52.8 Hz for
   a unit firing at 15 Hz).

Overlapping discharges of several units are not resolved (they form a cluster of their own or
are assigned to the nearest template), so the method suits recordings with a few units of
distinct shape, not dense surface interference patterns.

References
----------
.. [1] Quiroga RQ, Nadasdy Z, Ben-Shaul Y. Unsupervised spike detection and sorting with
       wavelets and superparamagnetic clustering. Neural Comput 2004;16:1661-1687 (threshold
       on ``median(abs(x)) / 0.6745``).
.. [2] Lewicki MS. A review of methods for spike sorting: the detection and classification of
       neural action potentials. Network 1998;9:R53-R78 (features, clustering, templates).
.. [3] Clamann HP. Statistical analysis of motor unit firing patterns in a human skeletal
       muscle. Biophys J 1969;9:1233-1251 (ISI variability of motor units).
.. [4] Stashuk D. EMG signal decomposition: how can it be accomplished and used? J
       Electromyogr Kinesiol 2001;11:151-173 (validating a motor-unit train by the consistency
       of its discharge pattern).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import signal as _sps
from scipy.cluster.vq import kmeans2

from ._errors import HfsEmgWarning, ParameterError
from ._validate import check_positive, validate_type
from .recording import Recording

__all__ = [
    "MAX_ISI_OUTLIER_PCT",
    "SPIKE_COLUMNS",
    "UNIT_COLUMNS",
    "UnitSorting",
    "detect_units",
]

#: Columns of :attr:`UnitSorting.units`.
UNIT_COLUMNS: tuple[str, ...] = (
    "channel",
    "unit",
    "n_spikes",
    "rate_hz",
    "mean_rate_hz",
    "isi_cv",
    "isi_median_ms",
    "peak_uv",
    "isi_outlier_pct",
    "isolated",
)
#: Largest share (%) of a unit's within-train ISIs outside 0.5-1.5 x their median for the unit
#: to count as one isolated motor unit. A single unit fires regularly (ISI CV 10-30 %; Clamann
#: 1969), so few of its intervals fall outside that band (simulated units with CV 0.10-0.20 and
#: a few missed discharges: 0-14 %; MU2 of ``motor_units.smr``: 9-14 %); the merged train of
#: several independent units has many (clusters of ``motor_units.smr`` mixing MU1 with other
#: units: 46-61 %). The firing-pattern consistency check of EMG decomposition (Stashuk 2001);
#: the 30 % cut between the two is this library's choice.
MAX_ISI_OUTLIER_PCT: float = 30.0
#: Columns of :attr:`UnitSorting.spikes`.
SPIKE_COLUMNS: tuple[str, ...] = ("channel", "unit", "time_s", "amplitude_uv")


@dataclasses.dataclass(frozen=True, repr=False)
class UnitSorting:
    """Result of :func:`detect_units`.

    Attributes
    ----------
    units : pandas.DataFrame
        One row per unit: ``channel``, ``unit`` (``"<channel>:u<k>"``, k by decreasing peak
        amplitude), ``n_spikes``, ``rate_hz`` (1 / median ISI within trains), ``mean_rate_hz``
        (1 / mean ISI), ``isi_cv`` (SD / mean of the ISIs within trains), ``isi_median_ms``,
        ``peak_uv`` (peak of the unit's template), ``isi_outlier_pct`` (share of the
        within-train ISIs outside 0.5-1.5 x their median), ``isolated`` (``isi_outlier_pct``
        at most ``max_isi_outlier_pct``; otherwise the rate and ISI columns are NaN).
    spikes : pandas.DataFrame
        One row per discharge: ``channel``, ``unit``, ``time_s``, ``amplitude_uv`` (signed
        peak).
    templates : dict
        Unit -> mean waveform (microvolts) over ``window_s``.
    """

    units: pd.DataFrame
    spikes: pd.DataFrame
    templates: dict[str, npt.NDArray[np.float64]]

    def __repr__(self) -> str:
        return f"<UnitSorting | {len(self.units)} units, {len(self.spikes)} spikes>"


def _robust_sd(x: npt.NDArray[np.float64]) -> float:
    return float(np.median(np.abs(x)) / 0.6745)


def detect_units(
    rec: Recording,
    *,
    picks: Any = "emg",
    band: tuple[float, float] = (300.0, 3000.0),
    threshold: float = 5.0,
    dead_time_s: float = 0.003,
    window_s: tuple[float, float] = (-0.002, 0.003),
    max_units: int = 6,
    residual_factor: float = 1.5,
    merge_factor: float = 3.0,
    max_isi_s: float = 0.3,
    min_spikes: int = 10,
    max_isi_outlier_pct: float = MAX_ISI_OUTLIER_PCT,
    seed: int | None = 0,
) -> UnitSorting:
    """Sort the discharges of single motor units and report their firing rate and ISI statistics.

    Parameters
    ----------
    rec : Recording
        Needle, fine-wire or intramuscular EMG in microvolts (sampling rate of at least
        about 5 kHz). The recording is band-passed with a zero-phase Butterworth filter
        ``band`` (upper corner capped at 0.45 x ``sfreq``) unless its history holds a
        band-pass already.
    picks : str or list, default "emg"
        Channels, sorted one at a time.
    band : (float, float)
        Band-pass in Hz.
    threshold : float
        Detection threshold, multiples of the robust noise SD (Quiroga 2004 use 4-5).
    dead_time_s : float
        Smallest interval between two detections of one channel, seconds.
    window_s : (float, float)
        Waveform window around each peak, seconds.
    max_units : int
        Most clusters tried per channel.
    residual_factor : float
        A clustering explains the waveforms when the median residual RMS is at most this many
        noise SDs.
    merge_factor : float
        Templates closer than this many noise SDs (RMS difference) are merged.
    max_isi_s : float
        Longer intervals are pauses between trains, not ISIs.
    min_spikes : int
        Units with fewer discharges are not reported.
    max_isi_outlier_pct : float
        Isolation criterion (%), see :data:`MAX_ISI_OUTLIER_PCT`.
    seed : int or None
        Seed of the k-means initialisation.

    Returns
    -------
    UnitSorting
        ``.units`` (one row per unit), ``.spikes``, ``.templates``.

    Raises
    ------
    ParameterError
        Bad option values, or a sampling rate too low for the band.

    References
    ----------
    .. [1] Quiroga RQ, Nadasdy Z, Ben-Shaul Y. Neural Comput 2004;16:1661-1687.
    .. [2] Lewicki MS. Network 1998;9:R53-R78.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> sim = simulate_spontaneous(duration_s=20.0, sfreq=10000.0, muscles=["mentalis"],
    ...     single_muscle_rate_per_min=20, tonic_fraction=1.0, firing="independent",
    ...     n_units=1, unit_rate_hz=(10, 20), snr_db=25.0, seed=1)
    >>> res = detect_units(sim.recording)
    >>> u = res.units.iloc[0]
    >>> bool(10 <= u["rate_hz"] <= 20), bool(u["isi_cv"] < 0.3)
    (True, True)
    """
    validate_type(rec, Recording, "rec")
    if not 0.0 < float(max_isi_outlier_pct) <= 100.0:
        raise ParameterError(
            f"max_isi_outlier_pct must be in (0, 100], got {max_isi_outlier_pct!r}."
        )
    threshold = check_positive(threshold, "threshold")
    dead_time_s = check_positive(dead_time_s, "dead_time_s")
    max_isi_s = check_positive(max_isi_s, "max_isi_s")
    residual_factor = check_positive(residual_factor, "residual_factor")
    merge_factor = check_positive(merge_factor, "merge_factor", allow_zero=True)
    if isinstance(max_units, bool) or int(max_units) < 1:
        raise ParameterError(f"max_units must be an int >= 1, got {max_units!r}.")
    if isinstance(min_spikes, bool) or int(min_spikes) < 2:
        raise ParameterError(f"min_spikes must be an int >= 2, got {min_spikes!r}.")
    w0, w1 = (float(v) for v in window_s)
    if not w0 < 0 < w1:
        raise ParameterError(f"window_s must be (negative, positive) seconds, got {window_s!r}.")
    fs = rec.sfreq
    lo, hi = float(band[0]), min(float(band[1]), 0.45 * fs)
    if not 0 < lo < hi:
        raise ParameterError(
            f"band {band} does not fit below 0.45 x sfreq = {0.45 * fs:g} Hz; lower band[0]."
        )
    idx = rec._pick_indices(picks)
    filtered = any("bandpass" in str(h.get("step", "")) for h in rec.history)
    sos = _sps.butter(4, [lo, hi], "bandpass", fs=fs, output="sos")
    pre, post = round(-w0 * fs), round(w1 * fs)
    rng = np.random.default_rng(seed)
    unit_rows, spike_parts, templates = [], [], {}
    for i in idx:  # channels, not samples
        name = rec.ch_names[i]
        x = np.asarray(rec.data[i], dtype=np.float64)
        if not filtered:
            x = _sps.sosfiltfilt(sos, x)
        sd = max(_robust_sd(x), np.finfo(float).tiny)
        peaks, _ = _sps.find_peaks(
            np.abs(x), height=threshold * sd, distance=max(round(dead_time_s * fs), 1)
        )
        peaks = peaks[(peaks >= pre) & (peaks + post < x.size)]
        if peaks.size < int(min_spikes):
            continue
        waves = x[peaks[:, None] + np.arange(-pre, post + 1)[None, :]]
        labels = _cluster(waves, sd, int(max_units), residual_factor, merge_factor, rng)
        peaks, labels = _peel(x, peaks, labels, pre, post, sd, threshold, residual_factor, fs)
        waves = x[peaks[:, None] + np.arange(-pre, post + 1)[None, :]]
        for lab in np.unique(labels):  # a few units
            sel = labels == lab
            if sel.sum() < int(min_spikes):
                continue
            t = peaks[sel] / fs + rec.tstart
            isi = np.diff(t)
            isi = isi[isi <= max_isi_s]
            outlier_pct = np.nan
            if isi.size:
                # a missed or an extra discharge makes an interval of about twice or half the
                # median: kept out of the rate and CV (common practice in motor-unit studies)
                med = np.median(isi)
                inband = (isi >= 0.5 * med) & (isi <= 1.5 * med)
                outlier_pct = 100.0 * float(1.0 - inband.mean())
                isi = isi[inband]
            isolated = bool(isi.size > 1 and outlier_pct <= max_isi_outlier_pct)
            if not isolated:  # a merged train's rate is not a unit's rate
                isi = isi[:0]
            tmpl = waves[sel].mean(axis=0)
            unit_rows.append(
                {
                    "channel": name,
                    "n_spikes": int(sel.sum()),
                    "rate_hz": 1.0 / np.median(isi) if isi.size else np.nan,
                    "mean_rate_hz": 1.0 / isi.mean() if isi.size else np.nan,
                    "isi_cv": float(isi.std(ddof=1) / isi.mean()) if isi.size > 1 else np.nan,
                    "isi_median_ms": float(np.median(isi) * 1e3) if isi.size else np.nan,
                    "peak_uv": float(np.abs(tmpl).max()),
                    "isi_outlier_pct": outlier_pct,
                    "isolated": isolated,
                    "_times": t,
                    "_amp": x[peaks[sel]],
                    "_tmpl": tmpl,
                }
            )
    units = pd.DataFrame(unit_rows)
    if units.empty:
        return UnitSorting(
            pd.DataFrame({c: pd.Series(dtype=object) for c in UNIT_COLUMNS}),
            pd.DataFrame({c: pd.Series(dtype=object) for c in SPIKE_COLUMNS}),
            {},
        )
    if not units["isolated"].all():
        bad = units.loc[~units["isolated"], "channel"]
        warnings.warn(
            f"detect_units: {len(bad)} of {len(units)} clusters (channel(s) "
            f"{sorted(set(bad))}) fire too irregularly for one motor unit (more than "
            f"{max_isi_outlier_pct:g} % of ISIs outside 0.5-1.5 x their median: merged trains "
            "of several units); their rate and ISI statistics are NaN.",
            HfsEmgWarning,
            stacklevel=2,
        )
    units = units.sort_values(["channel", "peak_uv"], ascending=[True, False], kind="stable")
    units["unit"] = units["channel"] + ":u" + units.groupby("channel").cumcount().astype(str)
    for r in units.to_dict("records"):  # units, not samples
        templates[r["unit"]] = r["_tmpl"]
        spike_parts.append(
            pd.DataFrame(
                {
                    "channel": r["channel"],
                    "unit": r["unit"],
                    "time_s": r["_times"],
                    "amplitude_uv": r["_amp"],
                }
            )
        )
    spikes = pd.concat(spike_parts, ignore_index=True).sort_values("time_s", ignore_index=True)
    return UnitSorting(units[list(UNIT_COLUMNS)].reset_index(drop=True), spikes, templates)


def _peel(
    x: npt.NDArray[np.float64],
    peaks: npt.NDArray[np.intp],
    labels: npt.NDArray[np.intp],
    pre: int,
    post: int,
    sd: float,
    threshold: float,
    residual_factor: float,
    fs: float,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """One template-subtraction pass: residual peaks assigned to the best-matching template."""
    offs = np.arange(-pre, post + 1)
    uniq = np.unique(labels)
    tmpl = np.stack([x[peaks[labels == j][:, None] + offs[None, :]].mean(axis=0) for j in uniq])
    resid = x.copy()
    np.add.at(resid, peaks[:, None] + offs[None, :], -tmpl[np.searchsorted(uniq, labels)])
    cand, _ = _sps.find_peaks(np.abs(resid), height=threshold * sd, distance=max(pre, 1))
    cand = cand[(cand >= pre) & (cand + post < x.size)]
    # not a leftover of an already sorted discharge (within 0.5 ms of one)
    j = np.searchsorted(peaks, cand)
    gap = np.minimum(
        np.abs(cand - peaks[np.clip(j, 0, peaks.size - 1)]),
        np.abs(cand - peaks[np.clip(j - 1, 0, peaks.size - 1)]),
    )
    cand = cand[gap > round(0.0005 * fs)]
    if cand.size == 0:
        return peaks, labels
    w = resid[cand[:, None] + offs[None, :]]
    err = np.sqrt(np.mean((w[:, None, :] - tmpl[None, :, :]) ** 2, axis=-1))  # (cand, units)
    best = np.argmin(err, axis=1)
    ok = err[np.arange(cand.size), best] <= residual_factor * sd
    peaks = np.concatenate([peaks, cand[ok]])
    labels = np.concatenate([labels, uniq[best[ok]]])
    order = np.argsort(peaks, kind="stable")
    return peaks[order], labels[order]


def _cluster(
    waves: npt.NDArray[np.float64],
    sd: float,
    max_units: int,
    residual_factor: float,
    merge_factor: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.intp]:
    """Cluster labels of the waveforms: PCA (3 components), k-means, template merging."""
    centred = waves - waves.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    feats = centred @ vt[: min(3, vt.shape[0])].T
    labels = np.zeros(waves.shape[0], dtype=np.intp)
    for k in range(1, min(max_units, waves.shape[0]) + 1):  # a few cluster counts
        if k == 1:
            lab = labels
        else:
            _, lab = kmeans2(feats, k, minit="++", seed=rng, iter=30)
        tmpl = np.stack(
            [waves[lab == j].mean(axis=0) if (lab == j).any() else 0 * waves[0] for j in range(k)]
        )
        resid = np.sqrt(np.mean((waves - tmpl[lab]) ** 2, axis=1))
        labels = lab
        if np.median(resid) <= residual_factor * sd:
            break
    # merge templates that differ by less than merge_factor noise SDs (RMS)
    uniq = list(np.unique(labels))
    tmpl = {j: waves[labels == j].mean(axis=0) for j in uniq}
    merged = True
    while merged and len(uniq) > 1:  # a few clusters
        merged = False
        for a_i in range(len(uniq)):
            for b_i in range(a_i + 1, len(uniq)):
                a, b = uniq[a_i], uniq[b_i]
                if np.sqrt(np.mean((tmpl[a] - tmpl[b]) ** 2)) < merge_factor * sd:
                    labels[labels == b] = a
                    tmpl[a] = waves[labels == a].mean(axis=0)
                    uniq.remove(b)
                    merged = True
                    break
            if merged:
                break
    return labels
