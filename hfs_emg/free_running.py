"""Free-running facial EMG during surgery: A-, B- and C-trains and the A-train time.

Romstöck, Strauss & Fahlbusch (2000) classified the free-running EMG of cranial-nerve muscles
into spikes and bursts (**B-trains**), irregular continuous activity (**C-trains**) and
**A-trains**: sinusoidal, symmetric sequences of high-frequency, low-amplitude signals with a
sudden onset (as secondary sources quote it), the pattern Romstöck et al. found associated with
a postoperative facial paresis. Prell et al. (2007, 40 patients; abstract read) summed the
automatically detected A-train durations into the **train time**: at less than 10 s a discrete
worsening, above 10 s a profound deterioration of facial function could be anticipated, with a
first safety threshold at 0.5 s; their abstract gives no frequency band.

**Source of the numbers.** The A-train band 60-210 Hz and amplitude 100-200 uV are quoted in
secondary sources as Romstöck et al.'s definition; the primary paper (full text or abstract)
could not be retrieved here and the Prell 2007 abstract gives no band, so the band
(``frequency_hz``) is an option whose default follows those secondary sources, not a value
checked against the primary paper. The other detector defaults (thresholds, regularity,
symmetry, cycles) are conventions of this library, set on the simulator.

Algorithm of :func:`classify_trains` (vectorised over channels and samples; one loop over the
detected segments):

1. Band-pass (``band_hz``) and a centred moving RMS over ``window_ms``.
2. Noise: the RMS of the quietest windows (:func:`hfs_emg.signal.quiet_noise`).
3. Segments: hysteresis - the envelope above ``k_low`` x noise, with at least one sample above
   ``k_high`` x noise; segments less than ``merge_gap_ms`` apart are merged and those shorter
   than ``min_duration_ms`` dropped. On/offset are moved in by half the envelope window.
4. Per segment: the **regularity** is the largest normalised autocorrelation at lags in
   ``1 / frequency_hz`` (parabolic interpolation gives the frequency); the **symmetry** is
   ``min(P, N) / max(P, N)`` of the 99th and 1st percentiles ``P`` and ``-N``.
5. Optionally (``mains_hz``), mains interference switched on and off (a stationary line at a
   mains harmonic) is dropped.
6. Type: ``"A"`` when regular (>= ``min_regularity``), symmetric (>= ``min_symmetry``), in the
   frequency band and at least ``min_cycles`` periods long; otherwise ``"B"`` when shorter than
   ``b_max_duration_s`` and ``"C"`` when longer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.fft import irfft, next_fast_len, rfft

from ._errors import ChannelError, ParameterError
from ._validate import check_positive
from .recording import Recording
from .signal import bandpass, mask_to_intervals, moving_rms, quiet_noise

__all__ = ["TRAIN_TYPES", "classify_trains", "detect_a_trains", "train_time"]

#: Train types of Romstöck et al. 2000.
TRAIN_TYPES: tuple[str, ...] = ("A", "B", "C")

_COLUMNS = [
    "channel",
    "train_type",
    "onset_s",
    "offset_s",
    "duration_s",
    "frequency_hz",
    "amplitude_uv",
    "regularity",
    "symmetry",
]


def _features(y: np.ndarray, fs: float, lag_lo: int, lag_hi: int) -> tuple[float, float, float]:
    """(regularity, frequency_hz, symmetry) of one segment."""
    y = y - y.mean()
    n = y.size
    if n <= lag_hi + 2:
        return 0.0, np.nan, 0.0
    m = next_fast_len(2 * n)
    ac = irfft(np.abs(rfft(y, m)) ** 2, m)[: lag_hi + 2]
    # unbiased normalisation: each lag is averaged over the samples that overlap
    ac = ac / (n - np.arange(ac.size))
    ac = ac / ac[0] if ac[0] > 0 else ac
    seg = ac[lag_lo : lag_hi + 1]
    # the shortest lag whose local maximum is within 10 % of the best (no octave errors: at two
    # periods the autocorrelation of a regular train is nearly as high as at one)
    peak = np.r_[False, (seg[1:-1] >= seg[:-2]) & (seg[1:-1] >= seg[2:]), False]
    peak |= seg == seg.max()
    good = np.flatnonzero(peak & (seg >= seg.max() - 0.1 * abs(seg.max())))
    k = int(good[0]) + lag_lo
    r = float(ac[k])
    # parabolic refinement of the lag
    if 1 <= k < ac.size - 1:
        a, b, c = ac[k - 1], ac[k], ac[k + 1]
        den = a - 2 * b + c
        off = 0.5 * (a - c) / den if den != 0 else 0.0
    else:
        off = 0.0
    freq = fs / (k + float(np.clip(off, -0.5, 0.5)))
    hi, lo = np.percentile(y, [99.0, 1.0])
    sym = float(min(hi, -lo) / max(hi, -lo)) if max(hi, -lo) > 0 else 0.0
    return r, freq, sym


def _is_mains(
    y: np.ndarray, f: float, fs: float, lag_lo: int, lag_hi: int, mains: tuple[float, ...]
) -> bool:
    """A stationary line at a mains harmonic (the same frequency in both halves)."""
    # grid frequency within +-0.1 Hz of nominal, so harmonic k within +-0.15 k Hz
    near = any(abs(f - k * m) <= 0.15 * k for m in mains for k in range(1, int(f // m) + 2))
    if not near:
        return False
    h = y.size // 2
    f1 = _features(y[:h], fs, lag_lo, lag_hi)[1]
    f2 = _features(y[h:], fs, lag_lo, lag_hi)[1]
    return bool(np.isfinite(f1) and np.isfinite(f2) and abs(f1 - f2) <= 0.002 * f)


def classify_trains(
    rec: Recording,
    *,
    picks: Any = "emg",
    band_hz: tuple[float, float] = (20.0, 1000.0),
    window_ms: float = 20.0,
    k_high: float = 6.0,
    k_low: float = 3.0,
    merge_gap_ms: float = 30.0,
    min_duration_ms: float = 30.0,
    frequency_hz: tuple[float, float] = (60.0, 210.0),
    min_regularity: float = 0.5,
    min_symmetry: float = 0.6,
    min_cycles: float = 10.0,
    b_max_duration_s: float = 0.5,
    mains_hz: tuple[float, ...] | None = None,
) -> pd.DataFrame:
    """Find EMG trains in free-running recordings and classify them as A, B or C (Romstöck 2000).

    See the module docstring for the algorithm. The defaults were set on the simulator
    (:func:`hfs_emg.simulate.simulate_free_running`, seeds 0-3; held-out results in
    ``docs/validation_mvd.md``): ``frequency_hz`` is the A-train band attributed to Romstöck
    et al. by secondary sources (60-210 Hz; not confirmed in the primary paper, see the module
    docstring), the others are conventions of this library.

    Parameters
    ----------
    rec : Recording
        Free-running EMG (uV).
    picks : str or list
        Channels (default every EMG channel).
    band_hz : (float, float)
        Band-pass corners (Hz); the upper one is capped below Nyquist.
    window_ms : float
        Moving-RMS window (ms).
    k_high, k_low : float
        Hysteresis thresholds in noise RMS.
    merge_gap_ms, min_duration_ms : float
        Segments closer than this are merged; shorter ones dropped (ms).
    frequency_hz : (float, float)
        A-train frequency band (Hz); default 60-210 Hz as secondary sources quote Romstöck
        et al. 2000 (not confirmed in the primary paper).
    min_regularity : float
        Smallest normalised autocorrelation at the discharge period for an A-train.
    min_symmetry : float
        Smallest ratio of the negative to the positive excursion (or vice versa).
    min_cycles : float
        Shortest A-train in periods of its frequency.
    b_max_duration_s : float
        Longest B-train (s); longer non-A activity is a C-train.
    mains_hz : tuple of float or None
        Mains frequencies whose interference, switched on and off during the recording, must
        not count as A-trains (its harmonics 100, 120, 150, 180 and 200 Hz lie inside the
        A-train band): a sinusoidal segment within 0.15 k Hz of a k-th harmonic whose frequency
        is the same (within 0.2 %) in both halves is dropped. Off by default: on the simulator
        it also dropped 1 of 45 true A-trains whose frequency fell on a harmonic (the
        stability test cannot always tell a long, steady A-train from a line); constant hum is
        harmless either way (it raises the noise estimate, not the envelope).

    Returns
    -------
    pandas.DataFrame
        One row per train: ``channel``, ``train_type`` (``"A"``/``"B"``/``"C"``), ``onset_s``,
        ``offset_s``, ``duration_s``, ``frequency_hz`` (from the autocorrelation),
        ``amplitude_uv`` (99th - 1st percentile, a robust peak-to-peak), ``regularity``,
        ``symmetry``.

    References
    ----------
    .. [1] Romstöck J, Strauss C, Fahlbusch R. Continuous electromyography monitoring of motor
       cranial nerves during cranial base surgery. J Neurosurg 2000;93:586-593.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_free_running
    >>> sim = simulate_free_running(duration_s=30.0, n_a_trains=2, n_b_trains=3, n_c_trains=1,
    ...                             seed=1)
    >>> trains = classify_trains(sim.recording)
    >>> int((trains["train_type"] == "A").sum())
    6
    """
    if not isinstance(rec, Recording):
        raise TypeError(f"rec must be a Recording, got {type(rec).__name__}.")
    try:
        sub = rec.pick(picks)
    except ChannelError:
        raise
    fs = rec.sfreq
    lo_f, hi_f = (float(v) for v in frequency_hz)
    if not 0 < lo_f < hi_f:
        raise ParameterError(
            f"frequency_hz must be (low, high) with 0 < low < high, got {frequency_hz}."
        )
    if not k_high >= k_low > 0:
        raise ParameterError(f"Need k_high >= k_low > 0, got k_high={k_high}, k_low={k_low}.")
    check_positive(window_ms, "window_ms")
    if fs <= 2.5 * hi_f:
        src = rec.meta.get("source") or "the recording"
        raise ParameterError(
            f"{src}: sampling rate {fs:g} Hz is too low for A-trains up to {hi_f:g} Hz "
            f"(needs more than {2.5 * hi_f:g} Hz)."
        )
    hi_b = min(float(band_hz[1]), 0.45 * fs)
    x = bandpass(sub.data, fs, float(band_hz[0]), hi_b)
    env = moving_rms(x, fs, window_ms * 1e-3)
    noise = quiet_noise(x, fs)
    noise = np.where(noise > 0, noise, 1e-12)[:, None]
    low = env > k_low * noise
    high = env > k_high * noise
    # merge gaps shorter than merge_gap_ms: close the runs of "not low" that are short
    g_on, g_off, g_ch = mask_to_intervals(~low)
    short = (g_off - g_on) < round(merge_gap_ms * 1e-3 * fs)
    inner = (g_on > 0) & (g_off < low.shape[1])
    fill = short & inner
    lens = (g_off - g_on)[fill]
    if lens.size:
        first = np.repeat(np.cumsum(lens) - lens, lens)
        cols = np.repeat(g_on[fill], lens) + np.arange(lens.sum()) - first
        low[np.repeat(g_ch[fill], lens), cols] = True
    s_on, s_off, s_ch = mask_to_intervals(low)
    ch_high = np.zeros((high.shape[0], high.shape[1] + 1), np.int64)
    np.cumsum(high, axis=1, out=ch_high[:, 1:])
    keep = ch_high[s_ch, s_off] - ch_high[s_ch, s_on] > 0
    half = round(0.5 * window_ms * 1e-3 * fs)
    on = np.minimum(s_on + half, s_off - 1)
    off = np.maximum(s_off - half, on + 1)
    keep &= (off - on) >= round(min_duration_ms * 1e-3 * fs)
    on, off, s_ch = on[keep], off[keep], s_ch[keep]
    lag_lo = max(1, int(np.floor(fs / hi_f)))
    lag_hi = int(np.ceil(fs / lo_f))
    rows = []
    names = sub.ch_names
    for a, b, c in zip(on, off, s_ch, strict=True):  # loop over detected segments
        r, f, sym = _features(x[c, a:b], fs, lag_lo, lag_hi)
        dur = (b - a) / fs
        if (
            mains_hz
            and r >= min_regularity
            and _is_mains(x[c, a:b], f, fs, lag_lo, lag_hi, mains_hz)
        ):
            continue
        is_a = (
            r >= min_regularity
            and sym >= min_symmetry
            and lo_f <= f <= hi_f
            and dur * f >= min_cycles
        )
        kind = "A" if is_a else ("B" if dur <= b_max_duration_s else "C")
        seg = x[c, a:b]
        p_hi, p_lo = np.percentile(seg, [99.0, 1.0])
        rows.append(
            (names[c], kind, a / fs + rec.tstart, b / fs + rec.tstart, dur, f, p_hi - p_lo, r, sym)
        )
    out = pd.DataFrame(rows, columns=_COLUMNS)
    return out.sort_values(["channel", "onset_s"], kind="stable").reset_index(drop=True)


def detect_a_trains(rec: Recording, **kwargs: Any) -> pd.DataFrame:
    """A-trains only: the ``train_type == "A"`` rows of :func:`classify_trains`.

    Parameters
    ----------
    rec : Recording
        Free-running EMG (uV).
    **kwargs
        Options of :func:`classify_trains`.

    Returns
    -------
    pandas.DataFrame
        One row per A-train: ``channel``, ``onset_s``, ``offset_s``, ``duration_s``,
        ``frequency_hz``, ``amplitude_uv``, ``regularity``, ``symmetry``.

    References
    ----------
    .. [1] Romstöck J, Strauss C, Fahlbusch R. J Neurosurg 2000;93:586-593.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_free_running
    >>> sim = simulate_free_running(duration_s=20.0, n_a_trains=1, n_b_trains=3, n_c_trains=0)
    >>> a = detect_a_trains(sim.recording)
    >>> len(a), len(sim.trains.query("train_type == 'A'"))
    (3, 3)
    """
    trains = classify_trains(rec, **kwargs)
    a = trains[trains["train_type"] == "A"].drop(columns="train_type")
    return a.reset_index(drop=True)


def train_time(
    a_trains: pd.DataFrame,
    *,
    channels: Any = None,
    thresholds_s: tuple[float, float] = (0.5, 10.0),
) -> pd.DataFrame:
    """A-train time per channel (Prell et al. 2007): the summed duration of the A-trains.

    Parameters
    ----------
    a_trains : pandas.DataFrame
        Output of :func:`detect_a_trains` (``channel``, ``duration_s``), or of
        :func:`classify_trains` (only ``train_type == "A"`` rows count).
    channels : list of str or Recording, optional
        Channels to report (channels without an A-train get 0 s); default those in the table.
    thresholds_s : (float, float)
        Prell et al. 2007's safety thresholds (from their abstract): above 0.5 s a
        postoperative facial paresis is indicated, below 10 s a discrete worsening and above
        10 s a profound deterioration can be anticipated.

    Returns
    -------
    pandas.DataFrame
        Per channel: ``channel``, ``n_a_trains``, ``train_time_s``, ``above_warning``
        (> first threshold) and ``above_severe`` (> second threshold).

    References
    ----------
    .. [1] Prell J, Rampp S, Romstöck J, Fahlbusch R, Strauss C. Train time as a quantitative
       electromyographic parameter for facial nerve function in patients undergoing surgery
       for vestibular schwannoma. J Neurosurg 2007;106:826-832.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"channel": ["oris", "oris", "oculi"], "duration_s": [0.3, 0.4, 0.2]})
    >>> train_time(a).values.tolist()
    [['oculi', 1, 0.2, False, False], ['oris', 2, 0.7, True, False]]
    """
    for col in ("channel", "duration_s"):
        if col not in a_trains.columns:
            raise ParameterError(f"a_trains needs a {col!r} column (output of detect_a_trains).")
    df = a_trains
    if "train_type" in df.columns:
        df = df[df["train_type"] == "A"]
    if isinstance(channels, Recording):
        channels = [
            n for n, t in zip(channels.ch_names, channels.ch_types, strict=True) if t == "emg"
        ]
    g = df.groupby("channel")["duration_s"].agg(["size", "sum"])
    if channels is not None:
        g = g.reindex(list(channels), fill_value=0)
    g = g.rename(columns={"size": "n_a_trains", "sum": "train_time_s"}).rename_axis("channel")
    out = g.reset_index()
    out["n_a_trains"] = out["n_a_trains"].astype(int)
    out["train_time_s"] = out["train_time_s"].astype(float).round(12)
    out["above_warning"] = out["train_time_s"] > float(thresholds_s[0])
    out["above_severe"] = out["train_time_s"] > float(thresholds_s[1])
    return out
