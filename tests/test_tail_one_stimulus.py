"""The one-stimulus path of the tail fit (epochs as rows: views) equals the gathered path."""

from __future__ import annotations

import numpy as np

from hfs_emg.artifact import suppress_artifact


def test_tail_one_stimulus_views_equal_the_gathered_path():
    fs = 10000.0
    rng = np.random.default_rng(7)
    n, s = 1400, 300  # the model (2 x 45 ms after the blanking) ends inside each copy
    t = (np.arange(n) - s) / fs
    x = rng.normal(0, 3, (40, n))
    post = t > 0.003
    x[:, post] += 400 * np.exp(-t[post] / 0.004)[None, :] - 150 * np.exp(-t[post] / 0.02)
    x[:20, (t > 0.008) & (t < 0.012)] += 80.0  # a response in the gap: pass 2 on these rows
    x[:, (t >= -0.0005) & (t < 0.003)] = 5000.0
    one = suppress_artifact(x, fs, [s], method="tail", window_s=(-0.0005, 0.003))
    # the same sweeps twice along time, far apart: two stimuli per row, the gathered path
    two = suppress_artifact(
        np.hstack([x, x]), fs, [s, n + s], method="tail", window_s=(-0.0005, 0.003)
    )
    assert np.abs(one[20:, post]).max() < 30  # the tail (hundreds of uV) is removed
    np.testing.assert_allclose(one, two[:, :n], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(one, two[:, n:], rtol=1e-9, atol=1e-9)
    assert not np.allclose(one, x)
