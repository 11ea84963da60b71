"""The compiled turn count of :func:`hfs_emg.lsr_morphology` equals :func:`count_turns`.

The morphology table counts the turns of each measured sweep's initial response in one
compiled loop over the rows (numba); without numba, :func:`hfs_emg.morphology.count_turns` per
row. Both must give the same counts (the same local extrema and float64 comparisons), so the
tables are identical either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hfs_emg import _fastfilt
from hfs_emg.morphology import _turn_rows_fast, count_turns, lsr_morphology
from hfs_emg.simulate import simulate_lsr_morphology

pytestmark = pytest.mark.skipif(_turn_rows_fast is None, reason="needs numba")


def test_compiled_turns_equal_count_turns_row_by_row():
    rng = np.random.default_rng(5)
    n_r, n_t = 800, 600
    x = np.round(np.cumsum(rng.normal(size=(n_r, n_t)), axis=1) * 5, 1)  # ties in slopes
    x[::7, 100:130] = 3.0  # plateaus: no extremum inside
    x[5, 200] = np.nan  # NaN slopes are no extrema
    x[11, 150:152] = np.nan
    a = rng.integers(0, 300, n_r)
    b = np.minimum(a + rng.integers(0, 400, n_r), n_t)
    b[:30] = a[:30] + np.arange(30) % 4  # segments of 0-3 samples
    turn = rng.uniform(0.5, 30.0, n_r)
    rows = np.flatnonzero(rng.random(n_r) < 0.8)
    got = _turn_rows_fast(x, a, b, turn, rows)
    expected = np.zeros(n_r, np.int64)
    for i in rows:
        expected[i] = count_turns(x[i, a[i] : b[i]], turn[i])
    assert expected.sum() > 1000  # the rows have turns to count
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("turn_uv", [None, 15.0])
def test_lsr_morphology_equal_with_and_without_the_compiled_turns(monkeypatch, turn_uv):
    sim = simulate_lsr_morphology(n_stimuli=30, seed=1)
    fast = lsr_morphology(sim.recording, turn_uv=turn_uv)
    monkeypatch.setattr(_fastfilt, "AVAILABLE", False)
    plain = lsr_morphology(sim.recording, turn_uv=turn_uv)
    assert fast["n_turns"].sum() > 0
    pd.testing.assert_frame_equal(fast, plain, check_exact=True)
