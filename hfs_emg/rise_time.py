"""Waveform onset of a burst: the rise of its envelope from the noise floor to its plateau.

One concept shared by the burst detector (:func:`hfs_emg.detect_bursts` with
``rise_times=True`` measures it on each filtered channel while that channel is in memory) and
the onset order of synchronous events (:func:`hfs_emg.synchrony.burst_rise_times`,
:func:`hfs_emg.synchrony.detect_synchronous_bursts`). The rise time uses the whole rising edge
of the envelope rather than the single sample where a threshold is first crossed (Hodges & Bui
1996 on threshold-onset bias; envelope-energy onsets as in envelope cross-correlation).

References
----------
Hodges PW, Bui BH. A comparison of computer-based methods for the determination of onset of
muscle contraction using electromyography. Electroencephalogr Clin Neurophysiol
1996;101:511-519.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "RISE_HALF_S",
    "RISE_POST_S",
    "RISE_PRE_S",
    "RISE_SD_FLOOR_MS",
    "RISE_SD_PER_RISE",
    "rise_features",
    "rise_sd_ms",
]

#: Window of the waveform onset (:func:`hfs_emg.synchrony.burst_rise_times`) before and after
#: the detected onset, and the half-width of its moving-RMS envelope, seconds.
RISE_PRE_S: float = 0.02
RISE_POST_S: float = 0.04
RISE_HALF_S: float = 0.001
#: Uncertainty model of the waveform onset, ``hypot(RISE_SD_FLOOR_MS, RISE_SD_PER_RISE *
#: rise_10_90_ms)``: calibrated on simulator seeds 100-101 (lock-step and independent units)
#: so that truly simultaneous events are rarely ordered; this library's model, not a published
#: one (docs/validation_spontaneous.md).
RISE_SD_FLOOR_MS: float = 1.5
RISE_SD_PER_RISE: float = 0.2


def rise_features(
    row: npt.NDArray[np.floating],
    fs: float,
    onsets: npt.NDArray[np.intp],
    offsets: npt.NDArray[np.intp],
    noise: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Rise time and 10-90 % rise duration (samples) of each burst of one channel.

    The rise time is the mean of the first times the scaled envelope reaches 50, 75 and 90 %
    of its plateau.

    Vectorised over bursts (gathered windows of ``RISE_PRE_S`` + ``RISE_POST_S``); NaN where
    the window leaves the signal or the envelope never rises.
    """
    n = row.shape[-1]
    half = max(round(RISE_HALF_S * fs), 1)
    pre, post = round(RISE_PRE_S * fs), round(RISE_POST_S * fs)
    rise = np.full(onsets.size, np.nan)
    dur = np.full(onsets.size, np.nan)
    ok = (onsets - pre - half >= 0) & (onsets + post + half <= n)
    sel = np.flatnonzero(ok)
    offs = np.arange(-pre - half, post + half)
    for a in range(0, sel.size, 512):  # batches of bursts, not samples
        k = sel[a : a + 512]
        seg = np.asarray(row[onsets[k, None] + offs[None, :]], dtype=np.float64)
        env = _envelope(seg, half)[:, half:-half] / max(noise, np.finfo(float).tiny)
        # plateau: median envelope over the burst's first RISE_POST_S (at least one sample)
        length = np.clip(offsets[k] - onsets[k], 1, post)
        rel = np.arange(post)[None, :]
        body = np.where(rel < length[:, None], env[:, pre : pre + post], np.nan)
        plateau = np.maximum(np.nanmedian(body, axis=1), 2.0)
        # baseline envelope of the noise alone is about 1 (noise units): 0 at baseline, 1 at plateau
        u = np.clip((env - 1.0) / (plateau - 1.0)[:, None], 0.0, 1.0)
        c10, c50, c75, c90 = (_first_crossing(u, f) for f in (0.1, 0.5, 0.75, 0.9))
        rise[k] = onsets[k] - pre + (c50 + c75 + c90) / 3.0
        dur[k] = c90 - c10
    return rise, dur


def _first_crossing(u: npt.NDArray[np.float64], level: float) -> npt.NDArray[np.float64]:
    """First (interpolated) index at which each row of ``u`` reaches ``level``; NaN if never."""
    above = u >= level
    i = np.argmax(above, axis=1)
    hit = above[np.arange(u.shape[0]), i]
    prev = u[np.arange(u.shape[0]), np.maximum(i - 1, 0)]
    cur = u[np.arange(u.shape[0]), i]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where((i > 0) & (cur > prev), (level - prev) / (cur - prev), 1.0)
    return np.where(hit, i - 1 + frac, np.nan).astype(np.float64)


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


def rise_sd_ms(rise_10_90: npt.NDArray[np.floating], fs: float) -> npt.NDArray[np.float64]:
    """Uncertainty (SD, ms) of rise times whose 10-90 % rise lasts ``rise_10_90`` samples.

    ``hypot(RISE_SD_FLOOR_MS, RISE_SD_PER_RISE * rise_10_90_ms)`` (this library's model).

    Examples
    --------
    >>> float(rise_sd_ms(np.array([0.0]), 1000.0)[0])
    1.5
    """
    d_ms = np.asarray(rise_10_90, dtype=np.float64) / fs * 1e3
    return np.hypot(RISE_SD_FLOOR_MS, RISE_SD_PER_RISE * d_ms)
