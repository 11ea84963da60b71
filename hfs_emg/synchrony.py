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
.. [5] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993
       (percentile confidence intervals).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import DataError, ParameterError
from ._validate import check_positive, renamed_kwarg, validate_type
from .anatomy import MUSCLES, infer_muscle, infer_side

if TYPE_CHECKING:
    from .recording import Recording

__all__ = [
    "SYNC_COLUMNS",
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
#: Onset uncertainty (SD, ms) per burst: the default detector's onset error has an SD of
#: 1-4 ms on simulated bursts (lock-step and independent units, coloured background); 3 ms is
#: the smallest value that kept truly simultaneous events below 10 % false orders on the tuning
#: seeds (docs/validation_spontaneous.md).
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
    n_surrogates: int = 100,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Group bursts of different channels that start together into synchronous events.

    Burst onsets of all channels are sorted; a new group starts wherever the next onset is more
    than ``tolerance_s`` after the previous one (single linkage, so a spasm spreading over several
    muscles in steps shorter than ``tolerance_s`` stays one event). A group is an event when it
    holds bursts of at least ``min_channels`` distinct channels; a channel's later bursts within
    the same group are ignored for lead and spread.

    Onset order. Each member's lag behind the earliest member is estimated with a confidence
    interval, and an order is reported only where it is resolved:

    - with ``rec`` (the recording the bursts came from, recommended): the lag is the shift that
      best aligns the members' noise-normalised envelopes (2 ms moving RMS of the band-passed
      signal, clipped at the burst's plateau, decimated to 0.5 ms) over the event, by least
      squares (the energy-normalised cross-correlation of the rising envelopes). The interval
      is the ``confidence`` percentile interval of the lags re-estimated on ``n_surrogates``
      surrogates in which each channel gets fresh Gaussian noise of its own baseline RMS and the
      analysis window is jittered by up to +/- 5 ms (a parametric bootstrap; Efron &
      Tibshirani 1993), plus, as without ``rec``, a normal onset uncertainty of
      ``onset_sd_ms`` per member: the surrogates see the noise but not the few-ms chance of
      which motor units fire first in each muscle.
    - without ``rec``: the lag is the onset difference and each onset is taken to be uncertain
      by ``onset_sd_ms`` (normal), so the interval of a difference is +/- z sqrt(2)
      ``onset_sd_ms``.

    Members are then split into tiers: a member opens a new tier when its lag behind the first
    member of the current tier is significant (interval excluding 0) and at least
    ``min_lag_ms``. ``onset_order`` joins the channels with ``"<"`` between tiers and ``"="``
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
        The band-passed recording; enables the envelope lag estimate.
    min_lag_ms : float
        Smallest lag called an order, ms.
    onset_sd_ms : float
        Onset uncertainty per burst without ``rec``, ms.
    n_surrogates : int
        Surrogates per event with ``rec``.
    confidence : float
        Level of the lag intervals, in (0, 1).
    seed : int or None
        Seed of the surrogate noise.

    Returns
    -------
    pandas.DataFrame
        One row per event: ``event_id``, ``onset_s`` (earliest onset), ``offset_s`` (latest
        offset), ``n_channels``, ``channels`` (comma-separated, onset order), ``lead_channel``
        (earliest onset), ``spread_ms`` (last minus first onset), ``lag_ms`` (estimated lag of
        the latest member behind the lead), ``lag_ci_low_ms`` / ``lag_ci_high_ms`` (its
        interval), ``onset_order``, ``lead_muscle``.

    References
    ----------
    .. [1] Nielsen VK. Neurology 1984;34:418-426 (synchronous discharges in several muscles).
    .. [2] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993.

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
    if isinstance(n_surrogates, bool) or int(n_surrogates) < 10:
        raise ParameterError(f"n_surrogates must be an int >= 10, got {n_surrogates!r}.")
    if isinstance(min_channels, bool) or not isinstance(min_channels, (int, np.integer)):
        raise TypeError(f"min_channels must be an int, got {type(min_channels).__name__}.")
    if min_channels < 2:
        raise ParameterError(f"min_channels must be >= 2, got {min_channels}.")
    if rec is not None and channels is None:
        channels = rec.channels
    if bursts.empty:
        return _empty_events()
    b = bursts[["channel", "onset_s", "offset_s"]].copy()
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
    lags = _onset_lag_samples(first, onset_sd_ms, int(n_surrogates), seed)
    if rec is not None:
        env_lag, env_sur = _envelope_lag_samples(rec, first, bursts, int(n_surrogates), seed)
        # the surrogates see the noise, not which units happen to fire first in each muscle:
        # the onset uncertainty is added to them
        lags = (env_lag, env_sur + (lags[1] - lags[0][None, :]))
    order = _order_from_lags(first, lags, alpha, min_lag_ms, channels)
    events = events.join(order)
    events = events.sort_values("onset_s", kind="stable").reset_index(drop=True)
    events.insert(0, "event_id", np.arange(len(events)))
    return events[list(SYNC_COLUMNS)]


def _onset_lag_samples(
    first: pd.DataFrame, onset_sd_ms: float, n_sur: int, seed: int | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lags (ms) behind each group's first member and their surrogate draws (normal onsets)."""
    t = first["onset_s"].to_numpy(float) * 1e3
    grp = first["group"].to_numpy()
    t0 = first.groupby("group")["onset_s"].transform("min").to_numpy(float) * 1e3
    lag = t - t0
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, onset_sd_ms, (n_sur, lag.size))
    is_first = np.r_[True, grp[1:] != grp[:-1]]
    ref = noise[:, np.flatnonzero(is_first)[np.cumsum(is_first) - 1]]
    return lag, lag[None, :] + noise - ref


def _channel_noise(x: npt.NDArray[np.float64], fs: float) -> float:
    from .signal import quiet_noise

    return float(max(quiet_noise(x, fs), np.finfo(float).tiny))


def _envelope_lag_samples(
    rec: Recording,
    first: pd.DataFrame,
    bursts: pd.DataFrame,
    n_sur: int,
    seed: int | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lags (ms) behind each group's first member from envelope alignment, with surrogates.

    Loops over events (not samples); each event's members and surrogates are one array.
    """
    from .preprocessing import bandpass_filter

    fs = rec.sfreq
    names = list(dict.fromkeys(first["channel"]))
    missing = [c for c in names if c not in rec.ch_names]
    if missing:
        raise DataError(f"rec has no channel(s) {missing} of the bursts table.")
    filtered = any("pass" in str(h.get("step", "")) for h in rec.history)
    sub = rec.pick(names)
    if not filtered:
        sub = bandpass_filter(sub, 20.0, min(1000.0, 0.45 * fs))
    data = np.asarray(sub.data, dtype=np.float64)
    row_of = {c: i for i, c in enumerate(sub.ch_names)}
    noise = np.array([_channel_noise(data[i], fs) for i in range(data.shape[0])])
    rng = np.random.default_rng(seed)
    dec = max(round(fs * 0.0005), 1)  # envelope step of about 0.5 ms
    step_ms = dec / fs * 1e3
    half_env = max(round(0.001 * fs), 1)  # 2 ms moving RMS
    pre, post = round(0.015 * fs), round(0.04 * fs)
    max_lag = round(0.035 * fs / dec)
    n = data.shape[1]
    lag_all = np.zeros(len(first))
    sur_all = np.zeros((n_sur, len(first)))
    grp = first["group"].to_numpy()
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
    stops = np.r_[starts[1:], grp.size]
    onset_smp = np.round((first["onset_s"].to_numpy(float) - rec.tstart) * fs).astype(np.intp)
    rows = np.array([row_of[c] for c in first["channel"]])
    jit = round(0.005 * fs)
    for a, z in zip(starts, stops, strict=True):  # events, not samples
        on = onset_smp[a:z]
        r = rows[a:z]
        w0 = int(on.min()) - pre - jit - half_env
        w1 = int(on.max()) + post + jit + half_env
        if w0 < 0 or w1 > n:
            sur_all[:, a:z] = lag_all[a:z] = np.nan
            continue
        seg = data[r, w0:w1]  # (k, L)
        k, length = seg.shape
        shifts = rng.integers(-jit, jit + 1, n_sur + 1)
        shifts[0] = 0
        noisy = np.empty((n_sur + 1, k, length))
        noisy[0] = seg
        noisy[1:] = seg[None] + rng.normal(0.0, 1.0, (n_sur, k, length)) * noise[r][None, :, None]
        env = _envelope(noisy, half_env) / noise[r][None, :, None]
        # plateau: median envelope over each member's first 40 ms after its detected onset
        rel_on = on - w0
        idx = rel_on[:, None] + np.arange(post)[None, :]
        plateau = np.median(env[0][np.arange(k)[:, None], idx], axis=1)
        env = np.minimum(env / np.maximum(plateau, 1.0)[None, :, None], 1.0)
        # common window (jittered per surrogate), decimated
        base = jit + half_env
        win = np.arange(0, length - 2 * base, dec)
        pos = base + shifts[:, None] + win[None, :]
        e = np.take_along_axis(env, np.broadcast_to(pos[:, None, :], (n_sur + 1, k, win.size)), -1)
        lags = _align(e[:, 0], e[:, 1:], max_lag) * step_ms  # (n_sur + 1, k - 1)
        lag_all[a + 1 : z] = lags[0]
        sur_all[:, a + 1 : z] = lags[1:]
    return lag_all, sur_all


def _envelope(x: npt.NDArray[np.float64], half: int) -> npt.NDArray[np.float64]:
    """Centred moving RMS (``2 * half + 1`` samples) along the last axis, edges truncated."""
    width = 2 * half + 1
    cs = np.zeros((*x.shape[:-1], x.shape[-1] + 1))
    np.cumsum(x * x, axis=-1, out=cs[..., 1:])
    n = x.shape[-1]
    i = np.arange(n)
    lo = np.clip(i - half, 0, n)
    hi = np.clip(i + half + 1, 0, n)
    return np.sqrt(np.maximum((cs[..., hi] - cs[..., lo]) / np.minimum(hi - lo, width), 0.0))


def _align(
    ref: npt.NDArray[np.float64], other: npt.NDArray[np.float64], max_lag: int
) -> npt.NDArray[np.float64]:
    """Shift (samples, + = ``other`` later) minimising the mean squared difference, refined.

    ``ref`` (S, L), ``other`` (S, M, L); only the overlap of the shifted series is compared.
    """
    s_n, m_n, length = other.shape
    shifts = np.arange(-max_lag, max_lag + 1)
    cost = np.empty((s_n, m_n, shifts.size))
    for j, d in enumerate(shifts):  # lags, not samples
        if d >= 0:
            diff = other[..., d:] - ref[:, None, : length - d]
        else:
            diff = other[..., : length + d] - ref[:, None, -d:]
        cost[..., j] = np.mean(diff * diff, axis=-1)
    best = np.argmin(cost, axis=-1)
    b = np.clip(best, 1, shifts.size - 2)
    y0, y1, y2 = (np.take_along_axis(cost, (b + o)[..., None], -1)[..., 0] for o in (-1, 0, 1))
    denom = y0 - 2 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(denom > 1e-12, 0.5 * (y0 - y2) / denom, 0.0)
    return shifts[b] + np.clip(frac, -0.5, 0.5)


def _order_from_lags(
    first: pd.DataFrame,
    lags: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    alpha: float,
    min_lag_ms: float,
    channels_info: pd.DataFrame | None,
) -> pd.DataFrame:
    """Per group: lag of the last member with its interval, onset order and lead muscle."""
    lag, sur = lags
    grp = first["group"].to_numpy()
    chans = first["channel"].to_numpy(object)
    muscles = _muscles(list(dict.fromkeys(chans)), channels_info)
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
    stops = np.r_[starts[1:], grp.size]
    out = {k: [] for k in ("lag_ms", "lag_ci_low_ms", "lag_ci_high_ms", "onset_order")}
    lead = []
    q = (100 * alpha / 2, 100 * (1 - alpha / 2))
    for a, z in zip(starts, stops, strict=True):  # events, not samples
        el, es = lag[a:z], sur[:, a:z]
        if not np.all(np.isfinite(el)):
            out["lag_ms"].append(np.nan)
            out["lag_ci_low_ms"].append(np.nan)
            out["lag_ci_high_ms"].append(np.nan)
            out["onset_order"].append("undetermined")
            lead.append("undetermined")
            continue
        order = np.argsort(el, kind="stable")
        el, es, ch = el[order], es[:, order], chans[a:z][order]
        last = es[:, -1] - es[:, 0]
        out["lag_ms"].append(float(el[-1] - el[0]))
        lo, hi = np.percentile(last, q)
        out["lag_ci_low_ms"].append(float(lo))
        out["lag_ci_high_ms"].append(float(hi))
        parts, tier0, n_tier0 = [str(ch[0])], 0, 1
        for i in range(1, el.size):  # members of one event
            d = es[:, i] - es[:, tier0]
            lo_i = np.percentile(d, q[0])
            if lo_i > 0 and el[i] - el[tier0] >= min_lag_ms:
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
