"""Waveform building blocks shared by the evoked-response simulators (private).

Every evoked component is a damped sinusoid with compact support that starts *exactly* at its
onset (value 0, non-zero slope), so the ground-truth latency - the first departure from baseline -
is unambiguous. Components are added to a continuous array with :func:`numpy.add.at`, vectorised
over stimuli (no Python loop over stimuli).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def damped_wave(
    tau_ms: FloatArray,
    *,
    freq_hz: float,
    decay_ms: float,
    dur_ms: float,
    n_cycles_taper: float = 0.3,
) -> FloatArray:
    """Unit-amplitude damped sine ``-sin(2 pi f tau) exp(-tau / decay)`` on ``0 <= tau < dur``.

    The first deflection is negative (upward on a neurophysiology display). The last
    ``n_cycles_taper`` fraction of the support is multiplied by a half-cosine taper so the wave
    returns smoothly to zero. Values outside the support are 0.
    """
    tau = np.asarray(tau_ms, dtype=float)
    inside = (tau >= 0.0) & (tau < dur_ms)
    t = np.where(inside, tau, 0.0)
    wave = -np.sin(2.0 * np.pi * freq_hz * t * 1e-3) * np.exp(-t / decay_ms)
    t_taper = dur_ms * (1.0 - n_cycles_taper)
    frac = np.clip((t - t_taper) / (dur_ms - t_taper), 0.0, 1.0)
    wave = wave * 0.5 * (1.0 + np.cos(np.pi * frac))
    return np.where(inside, wave, 0.0)


def add_components(
    data: FloatArray,
    row: int,
    onset_samples: FloatArray,
    amplitudes: FloatArray,
    sfreq: float,
    *,
    freq_hz: float,
    decay_ms: float,
    dur_ms: float,
) -> FloatArray:
    """Add one damped wave per onset to ``data[row]`` (in place); return the noiseless blocks.

    ``onset_samples`` are fractional sample positions of the true onsets; ``amplitudes`` scale the
    unit wave. Returns the (n, L) block of added values (for ground-truth p2p and area).
    """
    n_len = int(np.ceil(dur_ms * 1e-3 * sfreq)) + 2
    start = np.floor(onset_samples).astype(np.int64)
    idx = start[:, None] + np.arange(n_len)[None, :]
    tau_ms = (idx - onset_samples[:, None]) / sfreq * 1e3
    block = amplitudes[:, None] * damped_wave(
        tau_ms, freq_hz=freq_hz, decay_ms=decay_ms, dur_ms=dur_ms
    )
    ok = (idx >= 0) & (idx < data.shape[1])
    np.add.at(data[row], idx[ok], block[ok])
    return block


def unit_p2p(*, freq_hz: float, decay_ms: float, dur_ms: float) -> float:
    """Peak-to-peak of the unit wave on a fine grid (to scale waves to a target p2p)."""
    tau = np.linspace(0.0, dur_ms, 20001)
    w = damped_wave(tau, freq_hz=freq_hz, decay_ms=decay_ms, dur_ms=dur_ms)
    return float(w.max() - w.min())
