"""The stack width classes of :func:`hfs_emg.discharge.discharge_frequency`.

Each burst is stacked only as wide as the power of two at or above its own length; the rate
and strength must be those of stacking every burst ``max_len_s`` wide (up to FFT rounding).
"""

from __future__ import annotations

import numpy as np
import pytest

from hfs_emg import discharge


def _signal(fs: float, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / fs
    x = rng.standard_normal((3, n))
    for c, f0 in enumerate((180.0, 250.0, 330.0)):  # periodic trains of three rates
        x[c] += 2.0 * np.sin(2 * np.pi * f0 * t) + np.sin(2 * np.pi * 2 * f0 * t)
    return x


def test_width_class_is_the_bursts_own_power_of_two():
    lens = np.array([0, 1, 63, 64, 65, 200, 2047, 2048, 2049, 5000])
    widths = discharge._width_class(lens, 2500)
    assert widths.tolist() == [64, 64, 64, 64, 128, 256, 2048, 2048, 2500, 2500]


@pytest.mark.parametrize("rectify", [False, True])
@pytest.mark.parametrize("fs", [5000.0, 10000.0])
def test_narrow_stacks_equal_full_width_stacks(monkeypatch, fs, rectify):
    rng = np.random.default_rng(int(fs) + rectify)
    n = 200_000
    x = _signal(fs, n, rng)
    # lengths on both sides of every class edge, plus longer than max_len_s
    edges = np.array([64, 128, 256, 512, 1024, 2048])
    lens = np.concatenate([edges - 1, edges, edges + 1, rng.integers(8, 4000, 300)])
    s = rng.integers(0, n - 4100, lens.size)
    ch = rng.integers(0, 3, lens.size)
    kw = {"return_strength": True, "rectify": rectify}
    rate, strength = discharge.discharge_frequency(x, fs, s, s + lens, ch, **kw)
    with monkeypatch.context() as m:  # every burst stacked max_len_s wide
        m.setattr(discharge, "_width_class", lambda lens, length: np.full(lens.size, length))
        rate_full, strength_full = discharge.discharge_frequency(x, fs, s, s + lens, ch, **kw)
    assert np.isfinite(rate).sum() > lens.size // 2  # most bursts have a rate
    np.testing.assert_array_equal(np.isnan(rate), np.isnan(rate_full))
    np.testing.assert_array_equal(np.isnan(strength), np.isnan(strength_full))
    np.testing.assert_allclose(rate, rate_full, rtol=1e-12, atol=0)
    np.testing.assert_allclose(strength, strength_full, rtol=0, atol=1e-12)
