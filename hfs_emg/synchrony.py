"""Synchrony of bursts across facial muscles: synchronous events and chance-corrected coincidence.

In hemifacial spasm the bursts of muscles supplied by different facial-nerve branches start
together (synkinesis; Nielsen 1984, Auger 1979). :func:`detect_synchronous_bursts` groups burst
onsets that follow each other within ``tolerance_s`` into events and reports the members, the
onset spread and - only where the lag is statistically resolved - an ``onset_order`` and a
``lead_muscle``; otherwise the event is ``"simultaneous"``. :func:`synchrony_matrix` asks whether
two muscles burst together more often than their rates would produce by chance, against
onset-jittered surrogates.

The millisecond onset order inside one spasm is a measurement, not a clinical category: no
paper defines a within-spasm "direction". The clinical spread of typical HFS (orbicularis oculi
first, then the lower face, over months to years; atypical HFS the other way; Conte 2015, Ryu
1998) is a course of the disease, known from the history or from visits, and is never inferred
here from millisecond lags.

No published synchrony metric for HFS was found; the coincidence approach follows the
spike-train literature (unitary events, jitter surrogates).

References
----------
.. [1] Grün S, Diesmann M, Aertsen A. Detecting unitary events without discretization of time.
       J Neurosci Methods 1999;94:67-79.
.. [2] Amarasingham A, Harrison MT, Hatsopoulos NG, Geman S. Conditional modeling and the jitter
       method of spike resampling. J Neurophysiol 2012;107:517-531.
.. [3] Nielsen VK. Pathophysiology of hemifacial spasm. Neurology 1984;34:418-426.
.. [4] Conte A, Falla M, Diana MC et al. Spread of muscle spasms in hemifacial spasm. Mov Disord
       Clin Pract 2015;2:53-55 (clinical course of the spread).
.. [5] Bland JM, Altman DG. Multiple significance tests: the Bonferroni method. BMJ
       1995;310:170.
.. [6] Hodges PW, Bui BH. Electroencephalogr Clin Neurophysiol 1996;101:511-519 (the bias of
       threshold onsets).
"""

from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import DataError, ParameterError
from ._validate import check_positive, renamed_kwarg, validate_type
from .anatomy import MUSCLES, infer_muscle, infer_side
from .rise_time import rise_features, rise_sd_ms

if TYPE_CHECKING:
    from .recording import Recording

__all__ = [
    "SYNC_COLUMNS",
    "burst_rise_times",
    "channel_ranks",
    "channel_sides",
    "detect_synchronous_bursts",
    "synchrony_matrix",
]

#: Columns of a synchronous-event table.
SYNC_COLUMNS: tuple[str, ...] = (
    "event_id",
    "onset_s",
    "offset_s",
    "n_channels",
    "channels",
    "lead_channel",
    "spread_ms",
    "lag_ms",
    "lag_ci_low_ms",
    "lag_ci_high_ms",
    "onset_order",
    "lead_muscle",
)
#: Smallest onset lag (ms) ever called an order: below the duration of one MUAP (2-8 ms) and
#: the few-ms phase at which the first units of a muscle happen to fire, a lag is not
#: attributable to spread.
MIN_LAG_MS: float = 2.0
#: Onset uncertainty (SD, ms) per burst when only onsets are known: the default detector's onset
#: error has an SD of 1-4 ms on simulated bursts (lock-step and independent units, coloured
#: background); chosen on the tuning seeds (docs/validation_spontaneous.md).
ONSET_SD_MS: float = 3.0


def _check_bursts(bursts: pd.DataFrame, cols: tuple[str, ...] = ("channel", "onset_s")) -> None:
    validate_type(bursts, pd.DataFrame, "bursts")
    missing = [c for c in cols if c not in bursts.columns]
    if missing:
        raise DataError(f"bursts lacks column(s) {missing}; it has {list(bursts.columns)}.")


def channel_ranks(
    channels: list[str], channels_info: pd.DataFrame | None = None
) -> dict[str, float]:
    """Rostro-caudal rank of each channel's muscle (NaN when unknown).

    Parameters
    ----------
    channels : list of str
        Channel names.
    channels_info : pandas.DataFrame, optional
        A channels table (``name``, ``muscle``), e.g. ``rec.channels``; otherwise the muscle is
        inferred from the name with :func:`hfs_emg.anatomy.infer_muscle`.

    Returns
    -------
    dict
        Channel name -> rank from :data:`hfs_emg.anatomy.MUSCLES` (0 = frontalis).

    Examples
    --------
    >>> channel_ranks(["mentalis_L", "oculi_L", "Fp1"])
    {'mentalis_L': 4.0, 'oculi_L': 1.0, 'Fp1': nan}
    """
    muscle = {}
    if channels_info is not None:
        validate_type(channels_info, pd.DataFrame, "channels_info")
        if "name" not in channels_info.columns:
            raise DataError("channels_info needs a 'name' column (and 'muscle', 'side').")
        if "muscle" in channels_info.columns:
            muscle = dict(zip(channels_info["name"], channels_info["muscle"], strict=True))
    out = {}
    for ch in channels:
        m = muscle.get(ch) or infer_muscle(str(ch))
        out[ch] = float(MUSCLES[m].rank) if m in MUSCLES else float("nan")
    return out


def channel_sides(
    channels: list[str], channels_info: pd.DataFrame | None = None
) -> dict[str, str | None]:
    """Side (``"left"``/``"right"``) of each channel, from a channels table or the name.

    Examples
    --------
    >>> channel_sides(["oculi_L", "mentalis_R", "Cz"])
    {'oculi_L': 'left', 'mentalis_R': 'right', 'Cz': None}
    """
    side = {}
    if channels_info is not None:
        validate_type(channels_info, pd.DataFrame, "channels_info")
        if "name" not in channels_info.columns:
            raise DataError("channels_info needs a 'name' column (and 'muscle', 'side').")
    if channels_info is not None and "side" in channels_info.columns:
        side = dict(zip(channels_info["name"], channels_info["side"], strict=True))
    return {ch: side.get(ch) or infer_side(str(ch)) for ch in channels}


@renamed_kwarg("channels_info", "channels")
def detect_synchronous_bursts(
    bursts: pd.DataFrame,
    *,
    tolerance_s: float = 0.03,
    min_channels: int = 2,
    channels: pd.DataFrame | None = None,
    by_side: bool = True,
    rec: Recording | None = None,
    min_lag_ms: float = MIN_LAG_MS,
    onset_sd_ms: float = ONSET_SD_MS,
    confidence: float = 0.95,
    band: tuple[float, float] = (20.0, 1000.0),
    n_surrogates: int | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Group bursts of different channels that start together into synchronous events.

    Burst onsets of all channels are sorted; a new group starts wherever the next onset is more
    than ``tolerance_s`` after the previous one (single linkage, so a spasm spreading over several
    muscles in steps shorter than ``tolerance_s`` stays one event). A group is an event when it
    holds bursts of at least ``min_channels`` distinct channels; a channel's later bursts within
    the same group are ignored for lead and spread.

    Onset order. Each member gets a time and an uncertainty (normal SD), and an order is
    reported only where it is resolved:

    - waveform route (recommended): when ``bursts`` carries ``rise_s`` / ``rise_sd_ms``
      (:func:`burst_rise_times`; :func:`hfs_emg.analyze` adds them, in memory and streamed
      alike) or ``rec`` is given (they are then measured on it), the time is the half-rise time
      of the burst's envelope and the SD its ``rise_sd_ms``;
    - onsets only: the detected onset, uncertain by ``onset_sd_ms``.

    Members are sorted by time and split into tiers: a member opens a new tier when its lag
    behind the first member of the current tier is significant and at least ``min_lag_ms``.
    Significant means that the lag minus ``q`` times its SD (the two members' SDs combined) is
    above 0, with ``q`` the normal quantile of ``1 - alpha / (2 (k - 1))`` for an event of
    ``k`` members and ``alpha = 1 - confidence``: the ``k - 1`` comparisons share the error
    rate (Bonferroni), so a truly simultaneous event is given an order with probability at
    most ``alpha`` when the SDs are right, whatever its number of members.

    ``onset_order`` joins the channels with ``"<"`` between tiers and ``"="``
    inside one (``"oculi_L<oris_L=mentalis_L"``); an event of one tier is ``"simultaneous"``.
    ``lead_muscle`` is the muscle of the first member when it forms a tier of its own, ``"tied"``
    when several members share the first tier, and ``"simultaneous"``. No rostro-caudal
    "direction" is derived: the clinical typical/atypical spread is a course over months (see
    the module notes).

    Parameters
    ----------
    bursts : pandas.DataFrame
        One row per burst with ``channel``, ``onset_s`` and ``offset_s`` (e.g. from
        :func:`hfs_emg.detection.detect_bursts`).
    tolerance_s : float
        Largest gap between successive onsets inside one event, in seconds.
    min_channels : int
        Minimum number of distinct channels in an event (>= 2).
    channels : pandas.DataFrame, optional
        Channels table (``rec.channels``) giving each channel's muscle and side; otherwise
        inferred from the channel names. (``channels_info=``, its old name, still works with a
        :class:`DeprecationWarning`.)
    by_side : bool
        Group each side's channels separately (HFS is one-sided; a burst on the other side is
        not part of the spasm). Channels of unknown side form one group.
    rec : Recording, optional
        The recording the bursts came from; its waveform onsets are measured
        (:func:`burst_rise_times`) unless ``bursts`` already has them.
    min_lag_ms : float
        Smallest lag called an order, ms.
    onset_sd_ms : float
        Onset uncertainty per burst without a waveform onset, ms.
    confidence : float
        Family-wise level of each event's order, in (0, 1).
    band : (float, float)
        Band-pass corners (Hz) for :func:`burst_rise_times` when ``rec`` is unfiltered.
    n_surrogates, seed : None
        No longer used (the intervals are analytic); a value warns (DeprecationWarning).

    Returns
    -------
    pandas.DataFrame
        One row per event: ``event_id``, ``onset_s`` (earliest onset), ``offset_s`` (latest
        offset), ``n_channels``, ``channels`` (comma-separated, onset order), ``lead_channel``
        (earliest onset), ``spread_ms`` (last minus first onset), ``lag_ms`` (lag of the latest
        member behind the earliest, by the times above), ``lag_ci_low_ms`` /
        ``lag_ci_high_ms`` (its interval at the Bonferroni-adjusted level), ``onset_order``,
        ``lead_muscle``.

    References
    ----------
    .. [1] Nielsen VK. Neurology 1984;34:418-426 (synchronous discharges in several muscles).
    .. [2] Bland JM, Altman DG. Multiple significance tests: the Bonferroni method. BMJ
       1995;310:170.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"channel": ["oculi_L", "oris_L", "mentalis_L", "oris_L"],
    ...                   "onset_s": [1.000, 1.002, 1.012, 5.0],
    ...                   "offset_s": [1.1, 1.1, 1.12, 5.1]})
    >>> ev = detect_synchronous_bursts(b)
    >>> ev[["n_channels", "spread_ms", "onset_order", "lead_muscle"]].round(1).values.tolist()
    [[3, 12.0, 'oculi_L=oris_L<mentalis_L', 'tied']]
    """
    _check_bursts(bursts, ("channel", "onset_s", "offset_s"))
    tolerance_s = check_positive(tolerance_s, "tolerance_s")
    min_lag_ms = check_positive(min_lag_ms, "min_lag_ms", allow_zero=True)
    onset_sd_ms = check_positive(onset_sd_ms, "onset_sd_ms")
    if not 0.0 < float(confidence) < 1.0:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence!r}.")
    if n_surrogates is not None or seed is not None:
        warnings.warn(
            "detect_synchronous_bursts: n_surrogates and seed are no longer used (the lag "
            "intervals are analytic); drop them.",
            DeprecationWarning,
            stacklevel=2,
        )
    if isinstance(min_channels, bool) or not isinstance(min_channels, (int, np.integer)):
        raise TypeError(f"min_channels must be an int, got {type(min_channels).__name__}.")
    if min_channels < 2:
        raise ParameterError(f"min_channels must be >= 2, got {min_channels}.")
    if rec is not None and channels is None:
        channels = rec.channels
    if bursts.empty:
        return _empty_events()
    rise_cols = ["rise_s", "rise_sd_ms"] if {"rise_s", "rise_sd_ms"} <= set(bursts.columns) else []
    b = bursts[["channel", "onset_s", "offset_s", *rise_cols]].copy()
    if by_side:
        sides = channel_sides(list(dict.fromkeys(b["channel"])), channels)
        b["side"] = b["channel"].map(sides).fillna("unknown")
    else:
        b["side"] = ""
    b = b.sort_values(["side", "onset_s"], kind="stable").reset_index(drop=True)
    onset = b["onset_s"].to_numpy(float)
    side = b["side"].to_numpy(object)
    cut = (np.diff(onset) > tolerance_s) | (side[1:] != side[:-1])
    b["group"] = np.concatenate([[0], np.cumsum(cut)])
    first = b.drop_duplicates(["group", "channel"], keep="first").copy()
    n_ch = first.groupby("group")["channel"].transform("size")
    first = first[n_ch.to_numpy() >= min_channels]
    if first.empty:
        return _empty_events()
    g = first.groupby("group", sort=True)
    events = pd.DataFrame(
        {
            "onset_s": g["onset_s"].min(),
            "n_channels": g["channel"].size(),
            "channels": g["channel"].agg(",".join),
            "lead_channel": g["channel"].first(),
            "spread_ms": (g["onset_s"].max() - g["onset_s"].min()) * 1000.0,
        }
    )
    offs = b[b["group"].isin(events.index)].groupby("group")["offset_s"].max()
    events["offset_s"] = offs.reindex(events.index).to_numpy()
    alpha = 1.0 - float(confidence)
    if rec is not None and not rise_cols:  # only the members of events are measured
        first.attrs["channels"] = bursts.attrs.get("channels", list(dict.fromkeys(b["channel"])))
        first = burst_rise_times(first, rec, band=band)
    t_ms = first["onset_s"].to_numpy(float) * 1e3
    sd_ms = np.full(t_ms.size, float(onset_sd_ms))
    if "rise_s" in first.columns:
        rise = first["rise_s"].to_numpy(float) * 1e3
        rsd = first["rise_sd_ms"].to_numpy(float)
        ok = np.isfinite(rise) & np.isfinite(rsd)
        t_ms = np.where(ok, rise, t_ms)
        sd_ms = np.where(ok, rsd, sd_ms)
    order = _order_from_times(first, t_ms, sd_ms, alpha, min_lag_ms, channels)
    events = events.join(order)
    events = events.sort_values("onset_s", kind="stable").reset_index(drop=True)
    events.insert(0, "event_id", np.arange(len(events)))
    return events[list(SYNC_COLUMNS)]


def _rise_columns(
    bursts: pd.DataFrame,
    data: npt.NDArray[np.floating],
    names: list[str],
    fs: float,
    tstart: float,
    noise: npt.NDArray[np.floating],
    *,
    rows: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """``bursts`` with ``rise_s`` and ``rise_sd_ms`` from band-passed rows ``data`` (``names``).

    ``noise`` is each row's noise RMS (:func:`hfs_emg.signal.quiet_noise`). Bursts whose window
    does not fit in ``data`` get NaN (their onset is then used, with ``onset_sd_ms``).
    ``rows``: only these bursts are measured, the others get NaN (each burst's rise depends on
    its own window only).
    """
    out = bursts.copy()
    rise_s = np.full(len(out), np.nan)
    sd_ms = np.full(len(out), np.nan)
    chans = out["channel"].to_numpy(object)
    if rows is not None:
        chans = np.where(rows, chans, None)
    on = np.round((out["onset_s"].to_numpy(float) - tstart) * fs).astype(np.intp)
    off = np.round((out["offset_s"].to_numpy(float) - tstart) * fs).astype(np.intp)
    for i, name in enumerate(names):  # channels
        sel = np.flatnonzero(chans == name)
        if not sel.size:
            continue
        r, d = rise_features(data[i], fs, on[sel], off[sel], float(noise[i]))
        rise_s[sel] = tstart + r / fs
        sd_ms[sel] = rise_sd_ms(d, fs)
    out["rise_s"] = rise_s
    out["rise_sd_ms"] = sd_ms
    return out


def burst_rise_times(
    bursts: pd.DataFrame,
    rec: Recording,
    *,
    band: tuple[float, float] = (20.0, 1000.0),
) -> pd.DataFrame:
    """Waveform onset of each burst: the half-rise time of its envelope, with an uncertainty.

    The envelope is the 2 ms moving RMS of the band-passed signal in units of the channel's
    noise RMS (:func:`hfs_emg.signal.quiet_noise`), over ``RISE_PRE_S`` before to
    ``RISE_POST_S`` after the detected onset (constants of ``hfs_emg.rise_time``). It is
    scaled from 0 (the noise floor, 1 noise unit) to 1 (the burst's plateau: its median
    envelope over its first ``RISE_POST_S``);
    ``rise_s`` is where it first reaches 0.5 (linear interpolation), which uses the whole
    rising edge rather than the single sample where a threshold is first crossed (the energy
    of the rising edge, as in envelope cross-correlation of onsets; Hodges & Bui 1996 on
    threshold-onset bias). ``rise_sd_ms`` is its uncertainty, ``hypot(RISE_SD_FLOOR_MS,
    RISE_SD_PER_RISE * rise_10_90_ms)``: a burst whose envelope builds up over many
    milliseconds (few motor units firing independently) has a less certain onset than one
    whose units start together. The two constants are this library's calibration on simulator
    seeds 100-101 (docs/validation_spontaneous.md), not a published model.

    A recording that holds no band-pass or high-pass step is filtered as
    :func:`hfs_emg.detect_bursts` filters it (``band``, hum-line notches found on the channels
    of ``bursts.attrs["channels"]``), one channel at a time; a filtered one is used as it is.

    Parameters
    ----------
    bursts : pandas.DataFrame
        ``channel``, ``onset_s``, ``offset_s`` per burst (:func:`hfs_emg.detect_bursts`).
    rec : Recording
        The recording the bursts were detected in.
    band : (float, float)
        Band-pass corners (Hz) when ``rec`` is unfiltered (as ``detect_bursts(band=...)``).

    Returns
    -------
    pandas.DataFrame
        A copy of ``bursts`` with ``rise_s`` and ``rise_sd_ms`` (NaN when the window leaves the
        recording or the envelope never reaches half its plateau).

    Examples
    --------
    >>> from hfs_emg.detection import detect_bursts
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> sim = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=3)
    >>> b = burst_rise_times(detect_bursts(sim.recording), sim.recording)
    >>> bool(((b["rise_s"] - b["onset_s"]).abs() < 0.02).all())
    True
    """
    from . import signal as _sig
    from .detection import burst_filter

    _check_bursts(bursts, ("channel", "onset_s", "offset_s"))
    names = list(dict.fromkeys(bursts["channel"]))
    missing = [c for c in names if c not in rec.ch_names]
    if missing:
        raise DataError(f"rec has no channel(s) {missing} of the bursts table.")
    if bursts.empty:
        return bursts.assign(rise_s=np.zeros(0), rise_sd_ms=np.zeros(0))
    # the hum lines come from the spectra of the channels detect_bursts analysed, as there
    picked = [c for c in bursts.attrs.get("channels", names) if c in rec.ch_names] or names
    filt = burst_filter(rec, picks=rec._pick_indices(picked), band=band)  # None: filtered
    prefilter = None if filt is None else filt.apply
    idx = rec._pick_indices(names)
    fs = rec.sfreq
    out = bursts.copy()
    parts = []
    for j, i in enumerate(idx):  # channels, one filtered row at a time
        row = np.asarray(rec.data[i])
        row = prefilter(row) if prefilter is not None else row.astype(np.float64, copy=False)
        noise = np.array([_sig.quiet_noise(row, fs)])
        sel = out["channel"].to_numpy(object) == names[j]
        parts.append(_rise_columns(out[sel], row[None, :], [names[j]], fs, rec.tstart, noise))
    res = pd.concat(parts).reindex(out.index)
    out["rise_s"] = res["rise_s"].to_numpy(float)
    out["rise_sd_ms"] = res["rise_sd_ms"].to_numpy(float)
    return out


def _order_from_times(
    first: pd.DataFrame,
    t_ms: npt.NDArray[np.float64],
    sd_ms: npt.NDArray[np.float64],
    alpha: float,
    min_lag_ms: float,
    channels_info: pd.DataFrame | None,
) -> pd.DataFrame:
    """Per group: lag of the last member with its interval, onset order and lead muscle.

    Each member's time ``t_ms`` is normal with SD ``sd_ms``; an event of ``k`` members makes
    ``k - 1`` successive comparisons, each at level ``alpha / (k - 1)`` (Bonferroni), so an
    event of truly simultaneous members is given an order with probability <= ``alpha``.
    """
    from scipy.stats import norm

    grp = first["group"].to_numpy()
    chans = first["channel"].to_numpy(object)
    muscles = _muscles(list(dict.fromkeys(chans)), channels_info)
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
    stops = np.r_[starts[1:], grp.size]
    out: dict[str, list[float | str]] = {
        k: [] for k in ("lag_ms", "lag_ci_low_ms", "lag_ci_high_ms", "onset_order")
    }
    lead = []
    for a, z in zip(starts, stops, strict=True):  # events, not samples
        order = np.argsort(t_ms[a:z], kind="stable")
        t, sd, ch = t_ms[a:z][order], sd_ms[a:z][order], chans[a:z][order]
        q = float(norm.ppf(1.0 - alpha / (2.0 * max(t.size - 1, 1))))
        lag = float(t[-1] - t[0])
        half = q * float(np.hypot(sd[-1], sd[0]))
        out["lag_ms"].append(lag)
        out["lag_ci_low_ms"].append(lag - half)
        out["lag_ci_high_ms"].append(lag + half)
        parts, tier0, n_tier0 = [str(ch[0])], 0, 1
        for i in range(1, t.size):  # members of one event
            d = t[i] - t[tier0]
            if d - q * np.hypot(sd[i], sd[tier0]) > 0 and d >= min_lag_ms:
                parts.append("<")
                tier0 = i
            else:
                parts.append("=")
                if tier0 == 0:
                    n_tier0 += 1
            parts.append(str(ch[i]))
        text = "".join(parts)
        if "<" not in text:
            out["onset_order"].append("simultaneous")
            lead.append("simultaneous")
        else:
            out["onset_order"].append(text)
            lead.append(muscles.get(ch[0], str(ch[0])) if n_tier0 == 1 else "tied")
    res = pd.DataFrame(out, index=grp[starts])
    res["lead_muscle"] = lead
    return res


def _muscles(channels: list[str], channels_info: pd.DataFrame | None) -> dict[str, str]:
    muscle = {}
    if channels_info is not None and "muscle" in channels_info.columns:
        muscle = dict(zip(channels_info["name"], channels_info["muscle"], strict=True))
    out = {}
    for ch in channels:
        m = muscle.get(ch)
        m = m if isinstance(m, str) and m else infer_muscle(str(ch))
        out[ch] = m if m else str(ch)
    return out


def _empty_events() -> pd.DataFrame:
    dtypes = {
        "event_id": int,
        "n_channels": int,
        "channels": object,
        "lead_channel": object,
        "onset_order": object,
        "lead_muscle": object,
    }
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, float)) for c in SYNC_COLUMNS})


def _coincidences(ta: np.ndarray, tb: np.ndarray, tol: float) -> np.ndarray:
    """Pairs (i, j) with |ta_i - tb_j| <= tol; ``tb`` sorted along its last axis.

    ``tb`` may be 2-D (one sorted row per surrogate); the rows are laid end to end on one axis
    (each shifted beyond the previous one) so a single searchsorted serves them all.
    """
    tb2 = np.atleast_2d(tb)
    n_rows, _ = tb2.shape
    span = (max(float(np.max(tb2, initial=0.0)), float(np.max(ta, initial=0.0))) + 10 * tol) * 2
    shift = (np.arange(n_rows) * span)[:, None]
    flat = (tb2 + shift).ravel()
    q = ta[None, :] + shift
    hi = np.searchsorted(flat, q + tol, side="right")
    lo = np.searchsorted(flat, q - tol, side="left")
    return (hi - lo).sum(axis=1)


def synchrony_matrix(
    bursts: pd.DataFrame,
    *,
    duration_s: float,
    tolerance_s: float = 0.03,
    n_surrogates: int = 200,
    jitter_s: float = 1.0,
    tstart: float = 0.0,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Pairwise onset coincidence, corrected for chance with jittered surrogates.

    For every pair of channels, ``observed`` counts the onset pairs closer than ``tolerance_s``.
    Chance is estimated by jittering the second channel's onsets uniformly by up to
    ``±jitter_s`` (wrapping round the recording) ``n_surrogates`` times: the surrogates keep the
    burst count and slow rate changes but destroy the millisecond alignment. The surrogate mean is
    ``expected``; ``z = (observed - expected) / sd``; ``excess = (observed - expected) /
    min(n_a, n_b)`` is the fraction of the rarer channel's bursts that are synchronous beyond
    chance (near 1 for muscles that always burst together, near 0 for independent ones).

    Parameters
    ----------
    bursts : pandas.DataFrame
        ``channel`` and ``onset_s`` per burst.
    duration_s : float
        Duration of the recording in seconds (onsets lie in ``[tstart, tstart + duration_s)``).
    tolerance_s : float
        Coincidence window (± seconds).
    n_surrogates : int
        Number of jittered surrogates.
    jitter_s : float
        Maximum jitter in seconds (should be well above ``tolerance_s`` and below the time over
        which burst rates change).
    tstart : float
        Time of the first sample.
    seed : int or None
        Seed of the surrogate generator.

    Returns
    -------
    pandas.DataFrame
        One row per channel pair: ``channel_a``, ``channel_b``, ``n_a``, ``n_b``, ``observed``,
        ``expected``, ``z``, ``excess``, ``p_value`` (one-sided, surrogate rank).

    References
    ----------
    .. [1] Amarasingham A et al. J Neurophysiol 2012;107:517-531 (jitter surrogates).
    .. [2] Grün S et al. J Neurosci Methods 1999;94:67-79 (coincidence counting).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(1.0, 60.0, 3.0)  # 20 bursts, 3 s apart
    >>> b = pd.DataFrame({"channel": ["oculi"] * 20 + ["oris"] * 20,
    ...                   "onset_s": np.concatenate([t, t + 0.005])})
    >>> m = synchrony_matrix(b, duration_s=60.0, n_surrogates=100)
    >>> int(m["observed"].iloc[0]), bool(m["z"].iloc[0] > 5)
    (20, True)
    """
    _check_bursts(bursts)
    duration_s = check_positive(duration_s, "duration_s")
    tolerance_s = check_positive(tolerance_s, "tolerance_s")
    jitter_s = check_positive(jitter_s, "jitter_s")
    if isinstance(n_surrogates, bool) or int(n_surrogates) < 1:
        raise ParameterError(f"n_surrogates must be an int >= 1, got {n_surrogates!r}.")
    rng = np.random.default_rng(seed)
    chans = list(dict.fromkeys(bursts["channel"]))
    times = {
        c: np.sort(g.to_numpy(float) - tstart) for c, g in bursts.groupby("channel")["onset_s"]
    }
    rows = []
    for a, b in itertools.combinations(chans, 2):  # loop over channel pairs only
        ta, tb = times[a], times[b]
        obs = int(_coincidences(ta, tb, tolerance_s)[0])
        jit = rng.uniform(-jitter_s, jitter_s, (int(n_surrogates), tb.size))
        sur = np.sort(np.mod(tb[None, :] + jit, duration_s), axis=1)
        counts = _coincidences(ta, sur, tolerance_s)
        expected = float(counts.mean())
        sd = max(
            float(counts.std(ddof=1)) if counts.size > 1 else 0.0, np.sqrt(max(expected, 1.0)) * 0.1
        )
        rows.append(
            {
                "channel_a": a,
                "channel_b": b,
                "n_a": int(ta.size),
                "n_b": int(tb.size),
                "observed": obs,
                "expected": expected,
                "z": (obs - expected) / sd,
                "excess": (obs - expected) / max(min(ta.size, tb.size), 1),
                "p_value": (1 + int((counts >= obs).sum())) / (counts.size + 1),
            }
        )
    cols = [
        "channel_a",
        "channel_b",
        "n_a",
        "n_b",
        "observed",
        "expected",
        "z",
        "excess",
        "p_value",
    ]
    return pd.DataFrame(rows, columns=cols)
