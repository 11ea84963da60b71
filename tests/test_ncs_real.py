"""Paired-stimulus recovery on real data: the 10 soleus H-reflex pairs (1 s apart) of spike2py's
physiology.smr (GPL-3 file, read from ../shared/data, never copied)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hfs_emg.events import find_stim_events
from hfs_emg.ncs import blink_recovery_cycle


@pytest.mark.shared_data
def test_paired_h_reflex_recovery_ratio(shared_data):
    from hfs_emg.io import read_recording

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = read_recording(shared_data / "spike2py-smr" / "physiology.smr").pick(
            ["soleus", "FDI"]
        )
    ev = find_stim_events(rec, source="events", label="Hreflex")
    rc = blink_recovery_cycle(
        rec, events=ev, stim_side="left", r2_window_ms=(25.0, 60.0), tmin=-0.05, tmax=0.08
    ).set_index("channel")
    sol = rc.loc["soleus"]
    assert sol["isi_ms"] == 1000.0 and sol["n_pairs"] == 10
    assert sol["relation"] == "unknown"  # the file gives no side
    # independent reading (plain numpy): rectified area in the fixed 25-60 ms window after
    # removing the mean of the 50 ms before each trigger
    x = rec.data[rec.ch_names.index("soleus")]
    on = np.round((ev["onset_s"].to_numpy() - rec.tstart) * rec.sfreq).astype(int)
    w0, w1, b0 = (round(v * rec.sfreq) for v in (0.025, 0.060, 0.050))
    area = np.array([np.abs(x[o + w0 : o + w1] - x[o - b0 : o - 2].mean()).sum() for o in on])
    ref = area[1::2].mean() / area[0::2].mean()
    assert abs(sol["recovery_ratio"] - ref) <= 0.05
    # post-activation depression at 1 s (SOURCE.md: p2p medians 9.6 then 6.4 mV)
    assert 0.45 <= sol["recovery_ratio"] <= 0.85
    assert rc.loc["FDI", "test_area_uv_ms"] == 0.0  # no response, no area
