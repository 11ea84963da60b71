"""Morphology of the lateral spread response: phases, turns, duration, afterdischarge, late part.

The AMR consists of a constant initial response near 10 ms followed by a variable
afterdischarge of long duration (Ishikawa et al. 1996) and, in many patients, a late component
near 35 ms (Misawa et al. 2006: 35.3 ms). The shape of the initial response matters: a
polyphasic initial AMR was associated with delayed relief of the spasm after MVD (Neurol Med
Chir (Tokyo) 2022;62:513-520, 47 of 155 patients). :func:`lsr_morphology` measures, per sweep
(or per averaged LSR), on each channel:

1. **Noise and threshold.** ``noise_uv`` = SD of the pre-stimulus baseline (``baseline_ms``);
   ``threshold_uv`` = ``max(k_noise * noise_uv, min_uv)``.
2. **Initial response.** Envelope = centred moving RMS over ``smooth_ms``. Onset = the LSR
   onset of the ``lsr`` table when given, else the first envelope sample above the threshold
   in ``window_ms``; end = the first sample after the onset from which the envelope stays
   below the threshold for ``quiet_ms``. ``initial_duration_ms`` = end - onset;
   ``initial_p2p_uv`` its peak-to-peak.
3. **Phases** (AAEM glossary: a phase is the part of a potential between a departure from and
   a return to the baseline; number of phases = baseline crossings + 1): the sign changes of
   the signal between excursions beyond +/- ``threshold_uv`` over the initial response (an
   excursion that stays within the noise band is not a phase). ``polyphasic`` =
   ``n_phases >= polyphasic_min_phases`` (default 5, the AAEM definition of a polyphasic
   potential for motor-unit potentials; the 2022 AMR study's criterion is not in its abstract).
4. **Turns**: reversals of the signal's direction by at least ``turn_uv`` (default: the
   threshold) over the initial response; they count the serrations too (a turn needs no
   baseline crossing). Willison's 100 uV turns criterion was defined for interference
   patterns of mV size; the noise-relative default is a convention of this library.
5. **Afterdischarge** (Ishikawa 1996's variable response): envelope above the threshold
   after the end of the initial response and before ``late_window_ms``; its
   ``afterdischarge_onset_ms``, ``afterdischarge_duration_ms`` (first to last supra-threshold
   sample) and ``afterdischarge_area_uv_ms`` (rectified area minus the noise floor). The
   quiet gap ``quiet_ms`` that separates it from the initial response is a convention of
   this library, not a published definition.
6. **Late component** (Misawa 2006): envelope above the threshold for ``min_duration_ms`` in
   ``late_window_ms`` (default 25-50 ms around the 35.3 ms mean); ``late_latency_ms`` and
   ``late_p2p_uv``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _fastfilt
from ._errors import ParameterError
from ._validate import check_positive
from .epochs import Epochs, RunningExtremes, make_epochs
from .events import find_stim_events
from .recording import Recording
from .responses import _interpolated_epochs, stimulus_epochs
from .signal import moving_rms

__all__ = [
    "MORPHOLOGY_COLUMNS",
    "count_phases",
    "count_turns",
    "lsr_morphology",
    "summarize_morphology",
]

#: Measure columns of :func:`lsr_morphology` (after the identifying columns).
MORPHOLOGY_COLUMNS: tuple[str, ...] = (
    "onset_ms",
    "initial_duration_ms",
    "initial_p2p_uv",
    "n_phases",
    "n_turns",
    "polyphasic",
    "afterdischarge_present",
    "afterdischarge_onset_ms",
    "afterdischarge_duration_ms",
    "afterdischarge_area_uv_ms",
    "late_present",
    "late_latency_ms",
    "late_p2p_uv",
    "noise_uv",
    "threshold_uv",
)


def count_phases(x: npt.ArrayLike, threshold: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Number of phases of each row of ``x``: baseline crossings between supra-threshold parts + 1.

    Samples above ``+threshold`` are positive, below ``-threshold`` negative, others neutral;
    the number of phases is the number of sign changes between consecutive non-neutral samples
    plus one (0 for a row that never leaves the band). Vectorised over rows and samples.

    Parameters
    ----------
    x : array-like, shape (n_rows, n_samples)
        Signal segments (uV), zero outside the segment.
    threshold : array-like, shape (n_rows,) or scalar
        Half-width of the neutral band (uV).

    Returns
    -------
    numpy.ndarray of int, shape (n_rows,)

    Examples
    --------
    >>> t = np.linspace(0, 1, 200, endpoint=False)
    >>> count_phases(np.sin(2 * np.pi * 1.5 * t)[None, :] * 100, 10.0).tolist()
    [3]
    """
    a = np.atleast_2d(np.asarray(x, dtype=float))
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), a.shape[:1])[:, None]
    s = np.where(a > thr, 1, np.where(a < -thr, -1, 0)).astype(np.int8)
    nz = s != 0
    idx = np.where(nz, np.arange(a.shape[1])[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = np.take_along_axis(s, idx, axis=1)
    filled = np.where(np.cumsum(nz, axis=1) > 0, filled, 0)
    changes = (filled[:, 1:] != filled[:, :-1]) & (filled[:, :-1] != 0)
    return (changes.sum(axis=1) + nz.any(axis=1)).astype(np.int64)


def count_turns(x: npt.ArrayLike, turn_uv: float) -> int:
    """Number of reversals of direction by at least ``turn_uv`` in one segment (a zig-zag count).

    Starting from the first sample, the running extreme is followed until the signal moves
    back from it by ``turn_uv``; each such reversal is one turn. A loop over the local extrema
    of the segment (a few per millisecond), not over samples.

    Parameters
    ----------
    x : array-like, shape (n_samples,)
        One signal segment (uV).
    turn_uv : float
        Smallest reversal (uV).

    Returns
    -------
    int

    Examples
    --------
    >>> t = np.linspace(0, 1, 200, endpoint=False)
    >>> count_turns(100 * np.sin(2 * np.pi * 1.5 * t), 10.0)
    3
    """
    y = np.asarray(x, dtype=float)
    if y.size < 3:
        return 0
    d = np.diff(y)
    ext = np.flatnonzero(np.sign(d[1:]) * np.sign(d[:-1]) < 0) + 1
    vals = np.r_[y[ext], y[-1]]
    turns = 0
    ref = y[0]
    hi = lo = ref
    direction = 0  # +1 rising, -1 falling, 0 unknown
    for v in vals:  # loop over local extrema
        hi, lo, direction, turns = _turn_step(v, ref, hi, lo, direction, turns, turn_uv)
    return turns


def _turn_step(
    v: float, ref: float, hi: float, lo: float, direction: int, turns: int, t: float
) -> tuple[float, float, int, int]:
    """One local extremum ``v`` of the zig-zag count of :func:`count_turns`: the running
    extremes ``hi``/``lo`` from the start value ``ref``, the direction (+1 rising, -1 falling,
    0 unknown) and the turns so far, for a reversal of at least ``t`` (also compiled, for
    :func:`_turn_rows`)."""
    if direction >= 0 and v > hi:
        hi = v
    if direction <= 0 and v < lo:
        lo = v
    if direction == 0:
        if hi - ref >= t and hi - v >= t:
            turns, direction, lo = turns + 1, -1, v
        elif ref - lo >= t and v - lo >= t:
            turns, direction, hi = turns + 1, 1, v
        elif hi - ref >= t:
            direction = 1
        elif ref - lo >= t:
            direction = -1
    elif direction == 1 and hi - v >= t:
        turns, direction, lo = turns + 1, -1, v
    elif direction == -1 and v - lo >= t:
        turns, direction, hi = turns + 1, 1, v
    return hi, lo, direction, turns


def _turn_rows(
    x: np.ndarray, seg_a: np.ndarray, seg_b: np.ndarray, turn: np.ndarray, rows: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled (numba); the Python body is count_turns's
    """:func:`count_turns` of ``x[i, seg_a[i]:seg_b[i]]`` with ``turn[i]`` for each row ``i`` of
    ``rows`` (the same extrema, the same float64 comparisons, in one compiled loop)."""
    out = np.zeros(x.shape[0], np.int64)
    for i in rows:
        a, b = seg_a[i], seg_b[i]
        if b - a < 3:
            continue
        t = turn[i]
        ref = x[i, a]
        hi = ref
        lo = ref
        direction = 0
        turns = 0
        for j in range(a + 1, b + 1):
            if j < b - 1:  # an interior sample: a local extremum where the slope's sign flips
                d0 = x[i, j] - x[i, j - 1]
                d1 = x[i, j + 1] - x[i, j]
                if not ((d0 > 0 and d1 < 0) or (d0 < 0 and d1 > 0)):
                    continue
                v = x[i, j]
            elif j == b:  # the segment's last sample ends the list of extrema
                v = x[i, b - 1]
            else:
                continue
            hi, lo, direction, turns = _turn_step_c(v, ref, hi, lo, direction, turns, t)
        out[i] = turns
    return out


if _fastfilt.AVAILABLE:
    from numba import njit

    _turn_step_c = njit(cache=True, nogil=True, fastmath=False)(_turn_step)
    _turn_rows_fast = njit(cache=True, nogil=True, fastmath=False)(_turn_rows)
else:  # pragma: no cover - without numba
    _turn_step_c = _turn_step
    _turn_rows_fast = None


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True per row, -1 where none."""
    any_ = mask.any(axis=1)
    return np.where(any_, mask.argmax(axis=1), -1)


def _last_true(mask: np.ndarray) -> np.ndarray:
    n = mask.shape[1]
    any_ = mask.any(axis=1)
    return np.where(any_, n - 1 - mask[:, ::-1].argmax(axis=1), -1)


#: Rows measured at once by :func:`lsr_morphology` (bounds its work arrays).
_MEASURE_ROWS = 256


def _measure(
    x: np.ndarray,
    times_s: np.ndarray,
    fs: float,
    onset_ms: np.ndarray | None,
    o: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Morphology of every row of ``x`` (n_rows, n_times)."""
    n_r, n_t = x.shape
    t_ms = times_s * 1e3
    b0, b1 = np.searchsorted(t_ms, o["baseline_ms"][0]), np.searchsorted(t_ms, o["baseline_ms"][1])
    if b1 - b0 < 5:
        raise ParameterError(
            f"baseline_ms={o['baseline_ms']} holds fewer than 5 samples of the epochs "
            f"({t_ms[0]:g} to {t_ms[-1]:g} ms)."
        )
    noise = x[:, b0:b1].std(axis=1)
    thr = np.maximum(o["k_noise"] * noise, o["min_uv"])
    env = moving_rms(x, fs, o["smooth_ms"] * 1e-3)
    act = env > thr[:, None]
    cols = np.arange(n_t)[None, :]
    w0, w1 = np.searchsorted(t_ms, o["window_ms"][0]), np.searchsorted(t_ms, o["window_ms"][1])
    l0, l1 = (
        np.searchsorted(t_ms, o["late_window_ms"][0]),
        np.searchsorted(t_ms, o["late_window_ms"][1]),
    )
    if onset_ms is None:
        on = _first_true(act & (cols >= w0) & (cols < w1))
    else:
        on = np.where(
            np.isfinite(onset_ms),
            np.searchsorted(t_ms, np.nan_to_num(onset_ms, nan=-1e9)),
            -1,
        )
        on = np.where((on >= 0) & (on < n_t), on, -1)
    q = max(1, round(o["quiet_ms"] * 1e-3 * fs))
    cs = np.zeros((n_r, n_t + 1), np.int64)
    np.cumsum(act, axis=1, out=cs[:, 1:])
    stop = np.minimum(np.arange(n_t) + q, n_t)
    quiet = (cs[:, stop] - cs[:, :n_t]) == 0
    ok = on >= 0
    end = _first_true(quiet & (cols > on[:, None]) & (cols < l0))
    end = np.where(ok & (end < 0), l0, end)
    half = max(1, round(0.5 * o["smooth_ms"] * 1e-3 * fs))
    # the segment of the initial response: onset to end, widened by the envelope's half-window
    seg_a = np.clip(on, 0, n_t)
    seg_b = np.clip(end + half, 0, n_t)
    in_seg = ok[:, None] & (cols >= seg_a[:, None]) & (cols < seg_b[:, None])
    xs = np.where(in_seg, x, 0.0)
    n_ph = count_phases(xs, thr)
    p2p = np.where(ok, np.nanmax(np.where(in_seg, x, -np.inf), axis=1), np.nan) - np.where(
        ok, np.nanmin(np.where(in_seg, x, np.inf), axis=1), np.nan
    )
    turn = o["turn_uv"]
    if _turn_rows_fast is not None and _fastfilt.enabled() and x.dtype == np.float64:
        tu = thr if turn is None else np.full(n_r, float(turn))
        n_tu = _turn_rows_fast(
            x, seg_a.astype(np.int64), seg_b.astype(np.int64), tu, np.flatnonzero(ok)
        )
    else:
        n_tu = np.zeros(n_r, np.int64)
        for i in np.flatnonzero(ok):  # loop over measured sweeps (a zig-zag per segment)
            n_tu[i] = count_turns(x[i, seg_a[i] : seg_b[i]], thr[i] if turn is None else turn)
    # afterdischarge: supra-threshold envelope after the end, before the late window
    ad_mask = ok[:, None] & act & (cols >= end[:, None] + q) & (cols < l0)
    m = max(1, round(o["min_duration_ms"] * 1e-3 * fs))
    ad_on = _first_true(ad_mask)
    ad_off = _last_true(ad_mask)
    ad_n = ad_mask.sum(axis=1)
    ad_ok = ad_n >= m
    span = ok[:, None] & (cols >= ad_on[:, None]) & (cols <= ad_off[:, None]) & ad_ok[:, None]
    rect = np.where(span, np.abs(x) - noise[:, None] * np.sqrt(2.0 / np.pi), 0.0)
    ad_area = np.maximum(rect.sum(axis=1), 0.0) / fs * 1e3
    # late component: held for min_duration_ms in the late window
    late_mask = act & (cols >= l0) & (cols < l1)
    lcs = np.zeros((n_r, n_t + 1), np.int64)
    np.cumsum(late_mask, axis=1, out=lcs[:, 1:])
    stop_m = np.minimum(np.arange(n_t) + m, n_t)
    held = (lcs[:, stop_m] - lcs[:, :n_t]) >= m
    late_on = _first_true(held & late_mask)
    late_ok = late_on >= 0
    late_seg = (cols >= l0) & (cols < l1)
    late_p2p = np.where(
        late_ok,
        np.where(late_seg, x, -np.inf).max(axis=1) - np.where(late_seg, x, np.inf).min(axis=1),
        np.nan,
    )
    dt = 1e3 / fs
    nan = np.nan
    return {
        "onset_ms": np.where(ok, t_ms[np.clip(on, 0, n_t - 1)], nan),
        "initial_duration_ms": np.where(ok, (end - on) * dt, nan),
        "initial_p2p_uv": p2p,
        "n_phases": np.where(ok, n_ph, 0),
        "n_turns": np.where(ok, n_tu, 0),
        "polyphasic": ok & (n_ph >= o["polyphasic_min_phases"]),
        "afterdischarge_present": ok & ad_ok,
        "afterdischarge_onset_ms": np.where(ok & ad_ok, t_ms[np.clip(ad_on, 0, n_t - 1)], nan),
        "afterdischarge_duration_ms": np.where(ok & ad_ok, (ad_off - ad_on + 1) * dt, 0.0),
        "afterdischarge_area_uv_ms": np.where(ok & ad_ok, ad_area, 0.0),
        "late_present": late_ok,
        "late_latency_ms": np.where(late_ok, t_ms[np.clip(late_on, 0, n_t - 1)], nan),
        "late_p2p_uv": late_p2p,
        "noise_uv": noise,
        "threshold_uv": thr,
    }


def lsr_morphology(
    rec_or_epochs: Recording | Epochs,
    *,
    lsr: pd.DataFrame | None = None,
    average: bool = False,
    events: pd.DataFrame | None = None,
    source: str = "auto",
    label: str | None = None,
    window_ms: tuple[float, float] = (6.0, 20.0),
    late_window_ms: tuple[float, float] = (25.0, 50.0),
    baseline_ms: tuple[float, float] = (-20.0, -1.0),
    k_noise: float = 3.5,
    min_uv: float = 10.0,
    smooth_ms: float = 0.5,
    quiet_ms: float = 1.0,
    min_duration_ms: float = 0.5,
    turn_uv: float | None = None,
    polyphasic_min_phases: int = 5,
    artifact_method: str | None = "interpolate",
    artifact_window_s: tuple[float, float] = (-0.0005, 0.003),
    tmin: float = -0.03,
    tmax: float = 0.06,
) -> pd.DataFrame:
    """Morphology of each LSR sweep (or averaged LSR): phases, turns, duration, afterdischarge.

    See the module docstring (:mod:`hfs_emg.morphology`) for the definitions and their
    sources.

    Parameters
    ----------
    rec_or_epochs : Recording or Epochs
        A recording (stimuli found with :func:`hfs_emg.find_stim_events` unless ``events`` is
        given; artefact suppressed with ``artifact_method``), or epochs already cut (they must
        span ``baseline_ms`` and ``late_window_ms``).
    lsr : pandas.DataFrame, optional
        Output of :func:`hfs_emg.measure_lsr` for the same stimuli: only its ``kind != "direct"``
        rows that are present (``match_present`` if there, else ``present``) are measured, at
        its onset ``latency_ms``; the others get ``measured == False``. Without it every sweep
        and channel is measured, the onset found in ``window_ms``.
    average : bool
        Measure the average of the (present) sweeps per channel and ``montage`` instead of every
        sweep (the afterdischarge, variable from sweep to sweep, partly cancels in an average).
    events, source, label
        Stimuli (see :func:`hfs_emg.find_stim_events`).
    window_ms : (float, float)
        Where the onset is searched without ``lsr`` (ms).
    late_window_ms : (float, float)
        Window of the late component (ms; Misawa 2006: mean 35.3 ms).
    baseline_ms : (float, float)
        Noise window (ms).
    k_noise, min_uv : float
        Threshold = ``max(k_noise * noise SD, min_uv)``. The defaults (3.5 SD, 10 uV) are
        conventions of this library, chosen on the simulator's looked-at seeds 0-1 (3 SD
        over-counts phases in quiet recordings, 4 SD misses the small ones in noisy ones;
        held-out results in ``docs/validation_mvd.md``).
    smooth_ms : float
        Moving-RMS envelope window (ms).
    quiet_ms : float
        Sub-threshold time that ends the initial response (ms).
    min_duration_ms : float
        Shortest supra-threshold time of an afterdischarge or late component (ms).
    turn_uv : float, optional
        Smallest reversal counted as a turn (uV); default the row's threshold.
    polyphasic_min_phases : int
        Phases from which the initial response is ``polyphasic``.
    artifact_method, artifact_window_s, tmin, tmax
        Artefact suppression and epoch window for a recording.

    Returns
    -------
    pandas.DataFrame
        One row per (stimulus, channel) (``level == "sweep"``) or per (channel, montage)
        (``level == "average"``, with ``n_sweeps``): ``stim_index``, ``stim_time_s``,
        ``channel``, ``muscle``, ``montage``, ``level``, ``measured`` and
        :data:`MORPHOLOGY_COLUMNS`. Unmeasured or responseless rows have NaN times, 0
        phases and turns.

    References
    ----------
    .. [1] Ishikawa M, et al. Abnormal muscle response (lateral spread) and
       F-wave in patients with hemifacial spasm. J Neurol Sci 1996;137:109-116.
    .. [2] Misawa S, Kuwabara S, Ogawara K, Hattori T. Abnormal muscle responses in hemifacial
       spasm: F waves or trigeminal reflexes? J Neurol Neurosurg Psychiatry 2006;77:216-218.
    .. [3] Significant correlation between delayed relief after microvascular decompression and
       morphology of the abnormal muscle response in patients with hemifacial spasm. Neurol Med
       Chir (Tokyo) 2022;62:513-520, doi:10.2176/jns-nmc.2022-0145.
    .. [4] AAEM glossary of terms in neuromuscular and electrodiagnostic medicine, Muscle Nerve
       (phase, polyphasic potential, turn).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_morphology
    >>> sim = simulate_lsr_morphology(n_stimuli=20, seed=0)
    >>> morph = lsr_morphology(sim.recording)
    >>> m = morph.merge(sim.truth, on=["stim_index", "channel"], suffixes=("", "_true"))
    >>> bool((m["n_phases"] == m["n_phases_true"]).mean() >= 0.9)
    True
    """
    if int(polyphasic_min_phases) < 2:
        raise ParameterError(f"polyphasic_min_phases must be >= 2, got {polyphasic_min_phases}.")
    for name, val in (("k_noise", k_noise), ("smooth_ms", smooth_ms), ("quiet_ms", quiet_ms)):
        check_positive(val, name)
    opts = {
        "baseline_ms": baseline_ms,
        "window_ms": window_ms,
        "late_window_ms": late_window_ms,
        "k_noise": float(k_noise),
        "min_uv": float(min_uv),
        "smooth_ms": float(smooth_ms),
        "quiet_ms": float(quiet_ms),
        "min_duration_ms": float(min_duration_ms),
        "turn_uv": None if turn_uv is None else float(turn_uv),
        "polyphasic_min_phases": int(polyphasic_min_phases),
    }
    cut = {
        "artifact_method": artifact_method,
        "artifact_window_s": artifact_window_s,
        "tmin": tmin,
        "tmax": tmax,
    }
    if not average and isinstance(rec_or_epochs, Recording):
        ev = events
        if ev is None:
            ev = find_stim_events(rec_or_epochs, source=source, label=label)
        blocks = _epoch_blocks(rec_or_epochs, ev, **cut)
        if blocks is not None:  # the sweeps, a block of stimuli at a time (bounded memory)
            return _sweep_frame(blocks, lsr, opts)
        events = ev
    epochs = stimulus_epochs(rec_or_epochs, events=events, source=source, label=label, **cut)
    if not average:
        return _sweep_frame([epochs], lsr, opts)
    _check_span(epochs, opts)
    n_e, n_c, _ = epochs.data.shape
    _, _, use, onset, montage = _sweep_selection(epochs, lsr)
    muscles = epochs.channels["muscle"].to_numpy(object)
    rows, x_avg, n_sw = [], [], []
    keys = pd.Series([str(v) for v in montage.reshape(-1)]).to_numpy(object).reshape(n_e, n_c)
    for c, ch in enumerate(epochs.ch_names):  # loop over channels and montages
        for mkey in dict.fromkeys(keys[:, c]):
            sel = use[:, c] & (keys[:, c] == mkey)
            if not sel.any():
                continue
            x_avg.append(epochs.data[sel, c].mean(axis=0))
            n_sw.append(int(sel.sum()))
            mt = montage[np.flatnonzero(sel)[0], c]
            rows.append(
                (
                    ch,
                    muscles[c],
                    mt,
                    float(np.nanmedian(onset[sel, c])) if onset is not None else np.nan,
                )
            )
    if not rows:
        return pd.DataFrame(
            columns=[
                "channel",
                "muscle",
                "montage",
                "level",
                "n_sweeps",
                "measured",
                *MORPHOLOGY_COLUMNS,
            ]
        )
    on_avg = np.array([r[3] for r in rows]) if onset is not None else None
    res = _measure(np.stack(x_avg), epochs.times, epochs.sfreq, on_avg, opts)
    df = pd.DataFrame(
        {
            "channel": [r[0] for r in rows],
            "muscle": [r[1] for r in rows],
            "montage": [r[2] for r in rows],
            "level": "average",
            "n_sweeps": n_sw,
            "measured": True,
        }
    )
    return pd.concat([df, pd.DataFrame(res)], axis=1)


#: Bytes of float64 epochs :func:`lsr_morphology` cuts from a recording at once (a block of
#: stimuli; every sweep is measured on its own, so the blocks give the rows of one cut).
#: Above glibc's largest dynamic mmap threshold (32 MiB on 64-bit, mallopt(3)), so a block's
#: array is mapped and unmapped, not kept in the heap for the next step: 8 MiB blocks raised
#: the peak resident memory of a 10-minute LSR analysis by 14 MB (the burst threads'
#: arenas do not reuse the main heap's freed blocks; docs/benchmarks.md).
_BLOCK_BYTES = 64 * 2**20


def _epoch_blocks(
    rec: Recording,
    events: pd.DataFrame,
    *,
    artifact_method: str | None,
    artifact_window_s: tuple[float, float],
    tmin: float,
    tmax: float,
) -> Iterator[Epochs] | None:
    """The epochs of ``stimulus_epochs(rec, events=events, ...)`` a block of stimuli at a
    time (:func:`morphology_block_epochs`, the clipping reference carried), or None when they
    must be cut at once: fewer stimuli than a block, onsets out of order, no ``stim_index``
    column (the rows would be numbered by block), an artefact method that uses every stimulus,
    or stimuli too close for an epoch-wise interpolation (:func:`isolated_stimuli`)."""
    fs = rec.sfreq
    n_t = round(tmax * fs) - round(tmin * fs) + 1
    per_block = max(_BLOCK_BYTES // max(8 * n_t * rec.n_channels, 1), 1)
    onsets = events["onset_s"].to_numpy(dtype=float) if "onset_s" in events.columns else None
    if (
        onsets is None
        or len(events) <= per_block
        or "stim_index" not in events.columns
        or artifact_method not in ("interpolate", None)
        or np.any(np.diff(onsets) < 0)
    ):
        return None
    kw = {"artifact_window_s": artifact_window_s, "tmin": tmin, "tmax": tmax}
    if artifact_method == "interpolate" and not isolated_stimuli(onsets, fs, rec.tstart, **kw):
        return None
    extremes = RunningExtremes()
    return (
        morphology_block_epochs(
            rec,
            events.iloc[i : i + per_block],
            artifact_method=artifact_method,
            extremes=extremes,
            **kw,
        )
        for i in range(0, len(events), per_block)
    )


def _check_span(epochs: Epochs, opts: dict[str, Any]) -> None:
    t_ms = epochs.times * 1e3
    base, late = opts["baseline_ms"], opts["late_window_ms"]
    if t_ms[0] > base[0] or t_ms[-1] < late[1]:
        raise ParameterError(
            f"The epochs span {t_ms[0]:g} to {t_ms[-1]:g} ms; lsr_morphology needs "
            f"{base[0]:g} to {late[1]:g} ms (baseline_ms, late_window_ms)."
        )


def _sweep_selection(
    epochs: Epochs, lsr: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Stimulus numbers and times, and per (sweep, channel) whether it is measured, at which
    onset latency (ms; None without ``lsr``) and in which montage."""
    n_e, n_c, _ = epochs.data.shape
    ev = epochs.events
    stim = ev["stim_index"].to_numpy() if "stim_index" in ev.columns else np.arange(n_e)
    stim_t = ev["onset_s"].to_numpy(float)
    use = np.ones((n_e, n_c), bool)
    onset = None
    montage = np.full((n_e, n_c), None, dtype=object)
    if lsr is not None:
        need = ("stim_index", "channel", "present")
        missing = [c for c in need if c not in lsr.columns]
        if missing:
            raise ParameterError(f"lsr lacks the column(s) {missing} (output of measure_lsr).")
        pres = "match_present" if "match_present" in lsr.columns else "present"
        key = pd.MultiIndex.from_arrays([lsr["stim_index"], lsr["channel"]])
        grid = pd.MultiIndex.from_arrays([np.repeat(stim, n_c), np.tile(epochs.ch_names, n_e)])
        pos = key.get_indexer(grid)
        found = pos >= 0
        p = np.zeros(n_e * n_c, bool)
        p[found] = lsr[pres].to_numpy(bool)[pos[found]]
        if "kind" in lsr.columns:
            p[found] &= lsr["kind"].to_numpy(object)[pos[found]] != "direct"
        if "rejected" in lsr.columns:
            p[found] &= ~lsr["rejected"].to_numpy(bool)[pos[found]]
        use = p.reshape(n_e, n_c)
        lat = np.full(n_e * n_c, np.nan)
        if "latency_ms" in lsr.columns:
            lat[found] = lsr["latency_ms"].to_numpy(float)[pos[found]]
        onset = lat.reshape(n_e, n_c)
        if "montage" in lsr.columns:
            mt = np.full(n_e * n_c, None, dtype=object)
            mt[found] = lsr["montage"].to_numpy(object)[pos[found]]
            montage = mt.reshape(n_e, n_c)
    use &= ~epochs.bad
    return stim, stim_t, use, onset, montage


def _sweep_frame(
    parts: Iterable[Epochs], lsr: pd.DataFrame | None, opts: dict[str, Any]
) -> pd.DataFrame:
    """The per-sweep table of :func:`lsr_morphology` from the epochs ``parts`` (consecutive
    blocks of the stimuli, or all of them): each sweep measured on its own, one table."""
    cols: dict[str, list[np.ndarray]] = {}
    first: Epochs | None = None
    for epochs in parts:
        if first is None:
            _check_span(epochs, opts)
            first = epochs
        n_e, n_c, n_t = epochs.data.shape
        stim, stim_t, use, onset, montage = _sweep_selection(epochs, lsr)
        flat = epochs.data.reshape(n_e * n_c, n_t)
        rows_i = np.flatnonzero(use.reshape(-1))
        res_all = {k: np.full(n_e * n_c, np.nan) for k in MORPHOLOGY_COLUMNS}
        for k in ("polyphasic", "afterdischarge_present", "late_present"):
            res_all[k] = np.zeros(n_e * n_c, bool)
        for k in ("n_phases", "n_turns"):
            res_all[k] = np.zeros(n_e * n_c, np.int64)
        for k in ("afterdischarge_duration_ms", "afterdischarge_area_uv_ms"):
            res_all[k] = np.zeros(n_e * n_c)
        on_flat = None if onset is None else onset.reshape(-1)
        # blocks of rows: every quantity is of its own row (the same values as all rows at
        # once), and the work arrays (a dozen of (rows, n_times)) stay a few MB
        for i in range(0, rows_i.size, _MEASURE_ROWS):
            blk = rows_i[i : i + _MEASURE_ROWS]
            on_rows = None if on_flat is None else on_flat[blk]
            res = _measure(flat[blk], epochs.times, epochs.sfreq, on_rows, opts)
            for k, v in res.items():
                res_all[k][blk] = v
        part = {
            "stim_index": np.repeat(stim, n_c),
            "stim_time_s": np.repeat(stim_t, n_c),
            "montage": montage.reshape(-1),
            "measured": use.reshape(-1),
            **res_all,
        }
        for k, v in part.items():
            cols.setdefault(k, []).append(v)
    assert first is not None  # internal: at least one part
    n_c = first.data.shape[1]
    one = {k: v[0] if len(v) == 1 else np.concatenate(v) for k, v in cols.items()}
    n_e = one["stim_index"].size // max(n_c, 1)
    muscles = first.channels["muscle"].to_numpy(object)
    df = pd.DataFrame(
        {
            "stim_index": one["stim_index"],
            "stim_time_s": one["stim_time_s"],
            "channel": np.tile(np.asarray(first.ch_names, dtype=object), n_e),
            "muscle": np.tile(muscles, n_e),
            "montage": one["montage"],
            "level": "sweep",
            "measured": one["measured"],
        }
    )
    return pd.concat([df, pd.DataFrame({k: one[k] for k in MORPHOLOGY_COLUMNS})], axis=1)


def isolated_stimuli(
    onsets_s: npt.ArrayLike,
    sfreq: float,
    tstart: float,
    *,
    artifact_window_s: tuple[float, float],
    tmin: float,
    tmax: float,
) -> bool:
    """True when no stimulus's interpolated artefact window reaches another stimulus's epoch.

    Then the epochs of :func:`lsr_morphology` (artefact ``"interpolate"``) are cut first and
    interpolated epoch by epoch, and a block of stimuli can be cut from a window of the
    recording (:func:`morphology_block_epochs`); otherwise the whole recording is blanked
    first (the condition of :func:`hfs_emg.responses.stimulus_epochs`).

    Parameters
    ----------
    onsets_s : array-like
        Stimulus times (s, file clock).
    sfreq, tstart : float
        Sampling rate (Hz) and time of the first sample (s).
    artifact_window_s, tmin, tmax
        The interpolation window and the epoch window (s), as for :func:`lsr_morphology`.

    Returns
    -------
    bool

    Examples
    --------
    >>> kw = {"artifact_window_s": (-0.0005, 0.003), "tmin": -0.03, "tmax": 0.06}
    >>> isolated_stimuli([1.0, 2.0, 3.0], 10000.0, 0.0, **kw)
    True
    >>> isolated_stimuli([1.0, 1.04, 1.08], 10000.0, 0.0, **kw)  # 25 Hz
    False
    """
    fs = float(sfreq)
    on = np.asarray(onsets_s, dtype=float)
    stims = np.sort(np.round((on - tstart) * fs).astype(np.int64))
    a, b = round(artifact_window_s[0] * fs), round(artifact_window_s[1] * fs)
    first, last = round(tmin * fs), round(tmax * fs)
    return not (stims.size > 1 and np.diff(stims).min() <= max(last - a + 2, b + 2 - first))


def morphology_block_epochs(
    rec: Recording,
    events: pd.DataFrame,
    *,
    artifact_method: str | None,
    artifact_window_s: tuple[float, float],
    tmin: float,
    tmax: float,
    extremes: RunningExtremes,
) -> Epochs:
    """The epochs :func:`lsr_morphology` cuts, for one block of the stimuli of a long session.

    ``rec`` holds (at least) the block's epochs; ``extremes`` carries the causal clipping
    reference from block to block, so the blocks of a session, concatenated, are the epochs
    (data, clipping flags, baseline) that :func:`hfs_emg.responses.stimulus_epochs` cuts from
    the whole recording at once. For ``artifact_method="interpolate"`` the stimuli of the whole
    session must be isolated (:func:`isolated_stimuli`); ``None`` needs nothing; the other
    methods use all stimuli at once and are not cut by block (:class:`ParameterError`).

    Parameters
    ----------
    rec : Recording
        A window of the recording holding the block's epochs.
    events : pandas.DataFrame
        The block's stimuli (``onset_s`` on the file clock).
    artifact_method, artifact_window_s, tmin, tmax
        As for :func:`lsr_morphology`.
    extremes : RunningExtremes
        The clipping reference of the earlier blocks (updated in place).

    Returns
    -------
    Epochs

    Examples
    --------
    >>> from hfs_emg import find_stim_events
    >>> from hfs_emg.epochs import concat_epochs
    >>> from hfs_emg.simulate import simulate_lsr_session
    >>> rec = simulate_lsr_session(n_stimuli=6, sfreq=5000.0).recording
    >>> ev = find_stim_events(rec)
    >>> kw = {"artifact_method": "interpolate", "artifact_window_s": (-0.0005, 0.003)}
    >>> kw |= {"tmin": -0.03, "tmax": 0.06}
    >>> ext = RunningExtremes()
    >>> parts = [morphology_block_epochs(rec, ev.iloc[i : i + 3], extremes=ext, **kw)
    ...          for i in (0, 3)]
    >>> whole = stimulus_epochs(rec, events=ev, source="auto", label=None, **kw)
    >>> bool((concat_epochs(parts).data == whole.data).all())
    True
    """
    base_end = min(artifact_window_s[0], -0.0005)
    if artifact_method is None:
        return make_epochs(
            rec, events, tmin=tmin, tmax=tmax, baseline=(tmin, base_end), extremes=extremes
        )
    if artifact_method != "interpolate":
        raise ParameterError(
            f"artifact_method={artifact_method!r} uses every stimulus of the recording at once; "
            "only 'interpolate' and None are cut block by block."
        )
    return _interpolated_epochs(
        rec,
        events,
        window_s=artifact_window_s,
        tmin=tmin,
        tmax=tmax,
        base_end=base_end,
        extremes=extremes,
    )


def summarize_morphology(
    morph: pd.DataFrame,
    *,
    phases: Any = None,
    baseline_n: int = 10,
) -> pd.DataFrame:
    """LSR morphology per channel (and montage): the initial AMR's shape and its afterdischarge.

    The **initial** AMR is the one before decompression, as in the 2022 study relating a
    polyphasic initial AMR to delayed relief: the measured sweeps before the decompression
    marker (:func:`hfs_emg.phase_markers`), or the first ``baseline_n`` measured sweeps
    without one. ``initial_polyphasic`` is true when most of those sweeps are polyphasic (a
    majority rule of this library; the study classified one waveform per patient by eye).

    Parameters
    ----------
    morph : pandas.DataFrame
        Output of :func:`lsr_morphology` (``level == "sweep"``).
    phases : DataFrame or mapping, optional
        Surgical phase markers (see :func:`hfs_emg.lsr_trend`).
    baseline_n : int
        Sweeps of the initial window without a decompression marker.

    Returns
    -------
    pandas.DataFrame
        One row per (montage, channel): ``montage``, ``channel``, ``n_measured``,
        ``initial_n``, ``initial_phases_median``, ``initial_polyphasic_pct``,
        ``initial_polyphasic``, ``phases_median``, ``turns_median``,
        ``initial_duration_median_ms``, ``afterdischarge_pct`` (sweeps with one),
        ``afterdischarge_duration_median_ms`` and ``afterdischarge_area_median_uv_ms`` (of
        those), ``late_pct``.

    References
    ----------
    .. [1] Neurol Med Chir (Tokyo) 2022;62:513-520 (polyphasic initial AMR, delayed relief).
    .. [2] Ishikawa M, et al. J Neurol Sci 1996;137:109-116 (afterdischarge).

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_lsr_morphology
    >>> sim = simulate_lsr_morphology(n_stimuli=20, n_phases=(5, 6), seed=0)
    >>> s = summarize_morphology(lsr_morphology(sim.recording))
    >>> s["initial_polyphasic"].tolist()
    [True, True]
    """
    from .phases import phase_onsets

    need = ("stim_time_s", "channel", "measured", "n_phases", "polyphasic")
    missing = [c for c in need if c not in morph.columns]
    if missing:
        raise ParameterError(f"morph lacks the column(s) {missing} (output of lsr_morphology).")
    if int(baseline_n) < 1:
        raise ParameterError(f"baseline_n must be >= 1, got {baseline_n}.")
    t_dec = phase_onsets(phases).get("decompression")
    df = morph[morph["measured"].to_numpy(bool)]
    if "level" in df.columns:
        df = df[df["level"] == "sweep"]
    mont = df["montage"].astype(object).where(df["montage"].notna(), "") if "montage" in df else ""
    df = df.assign(_m=mont)
    rows = []
    for (m, ch), g in df.groupby(["_m", "channel"], sort=True):  # montages x channels
        g = g.sort_values("stim_time_s")
        first = g[g["stim_time_s"] < t_dec] if t_dec is not None else g.iloc[: int(baseline_n)]
        ad = g[g["afterdischarge_present"].to_numpy(bool)]
        rows.append(
            {
                "montage": m or None,
                "channel": ch,
                "n_measured": len(g),
                "initial_n": len(first),
                "initial_phases_median": float(first["n_phases"].median())
                if len(first)
                else np.nan,
                "initial_polyphasic_pct": 100.0 * float(first["polyphasic"].mean())
                if len(first)
                else np.nan,
                "initial_polyphasic": bool(len(first) and first["polyphasic"].mean() > 0.5),
                "phases_median": float(g["n_phases"].median()),
                "turns_median": float(g["n_turns"].median()),
                "initial_duration_median_ms": float(g["initial_duration_ms"].median()),
                "afterdischarge_pct": 100.0 * len(ad) / len(g),
                "afterdischarge_duration_median_ms": float(
                    ad["afterdischarge_duration_ms"].median()
                )
                if len(ad)
                else np.nan,
                "afterdischarge_area_median_uv_ms": float(ad["afterdischarge_area_uv_ms"].median())
                if len(ad)
                else np.nan,
                "late_pct": 100.0 * float(g["late_present"].mean()),
            }
        )
    cols = [
        "montage",
        "channel",
        "n_measured",
        "initial_n",
        "initial_phases_median",
        "initial_polyphasic_pct",
        "initial_polyphasic",
        "phases_median",
        "turns_median",
        "initial_duration_median_ms",
        "afterdischarge_pct",
        "afterdischarge_duration_median_ms",
        "afterdischarge_area_median_uv_ms",
        "late_pct",
    ]
    return pd.DataFrame(rows, columns=cols)
