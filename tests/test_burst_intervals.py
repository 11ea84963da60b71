"""Interval logic of burst detection and event grouping against brute force (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hfs_emg.detection import (
    _hysteresis,
    _hysteresis_runs,
    _local_rms,
    _merge_filter,
    _run_rms,
)
from hfs_emg.signal import mask_to_intervals, moving_rms, quiet_noise
from hfs_emg.synchrony import detect_synchronous_bursts

masks = st.lists(st.lists(st.booleans(), min_size=40, max_size=40), min_size=1, max_size=3)


def _brute_merge(mask_rows, gap, min_len):
    out = []
    for ch, row in enumerate(mask_rows):  # brute force: plain Python over samples
        runs, start = [], None
        for i, v in enumerate([*row, False]):
            if v and start is None:
                start = i
            if not v and start is not None:
                runs.append([start, i])
                start = None
        merged = []
        for r in runs:
            if merged and r[0] - merged[-1][1] <= gap:
                merged[-1][1] = r[1]
            else:
                merged.append(r)
        out += [(ch, a, b) for a, b in merged if b - a >= min_len]
    return out


@settings(max_examples=150, deadline=None)
@given(masks, st.integers(0, 5), st.integers(1, 6))
def test_merge_filter_matches_brute_force(rows, gap, min_len):
    s, e, c = mask_to_intervals(np.array(rows, dtype=bool))
    s, e, c = _merge_filter(s, e, c, gap, min_len)
    assert list(zip(c.tolist(), s.tolist(), e.tolist(), strict=True)) == _brute_merge(
        rows, gap, min_len
    )


@settings(max_examples=100, deadline=None)
@given(masks, st.integers(1, 9))
def test_local_rms_equals_moving_rms(rows, width):
    rng = np.random.default_rng(len(rows) * 100 + width)
    x = rng.normal(size=(len(rows), 40))
    s, e, c = mask_to_intervals(np.array(rows, dtype=bool))
    if s.size == 0:
        return
    rms, pos, _ = _local_rms(x, 1000.0, s, e, c, width / 1000.0)
    full = moving_rms(x, 1000.0, width / 1000.0).ravel()
    np.testing.assert_allclose(rms, full[pos], rtol=1e-9, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=60, max_size=60), st.integers(0, 4))
def test_run_rms_equals_moving_rms(row, half):
    x = np.random.default_rng(half).normal(size=60)
    s, e = mask_to_intervals(np.array(row, dtype=bool))
    keep = (s >= half) & (e + half <= 60)  # _run_rms's domain: windows inside the row
    s, e = s[keep], e[keep]
    if s.size == 0:
        return
    full = moving_rms(x, 1000.0, (2 * half + 1) / 1000.0)
    want = np.concatenate([full[a:b] for a, b in zip(s, e, strict=True)])
    np.testing.assert_allclose(_run_rms(x, s, e, half), want, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([5, 64, 1 << 16]))
def test_streamed_hysteresis_equals_full_masks(seed, block):
    import hfs_emg.signal as sig

    rng = np.random.default_rng(seed)
    x = rng.normal(size=700) * np.repeat(rng.uniform(0.5, 4.0, size=7), 100)
    old, sig._BLOCK = sig._BLOCK, block  # streamed in blocks of any size
    try:
        noise = max(float(quiet_noise(x, 1000.0)), np.finfo(float).tiny)
        s, e, hits = _hysteresis_runs(x, 1000.0, noise, window_s=0.011, high=2.5, low=1.2)
    finally:
        sig._BLOCK = old
    low, high = _hysteresis(x[None], 1000.0, window_s=0.011, high=2.5, low=1.2)  # full masks
    ws, we = mask_to_intervals(low[0])
    want_hits = [bool(high[0, a:b].any()) for a, b in zip(ws, we, strict=True)]
    assert (s.tolist(), e.tolist(), hits.tolist()) == (ws.tolist(), we.tolist(), want_hits)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0, 2, allow_nan=False)),
        min_size=0,
        max_size=12,
    ),
    st.floats(0.01, 0.5),
)
def test_event_grouping_matches_brute_force(items, tol):
    b = pd.DataFrame(items, columns=["channel", "onset_s"])
    b["offset_s"] = b["onset_s"] + 0.1
    ev = detect_synchronous_bursts(b, tolerance_s=tol)
    # brute force: walk sorted onsets, cut where the gap exceeds tol, keep groups of >= 2 channels
    order = sorted(items, key=lambda t: t[1])
    groups, cur = [], []
    for ch, t in order:
        if cur and t - cur[-1][1] > tol:
            groups.append(cur)
            cur = []
        cur.append((ch, t))
    if cur:
        groups.append(cur)
    expected = [g for g in groups if len({ch for ch, _ in g}) >= 2]
    assert len(ev) == len(expected)
    for (_, row), g in zip(ev.iterrows(), expected, strict=True):
        assert row["onset_s"] == min(t for _, t in g)
        assert row["n_channels"] == len({ch for ch, _ in g})
        assert row["lead_channel"] == g[0][0]
