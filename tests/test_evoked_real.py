"""Real evoked responses: the 20 soleus H-reflexes of spike2py's physiology.smr (GPL-3 file,
read from ../shared/data, never copied)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hfs_emg.epochs import make_epochs
from hfs_emg.events import find_stim_events
from hfs_emg.responses import measure_responses


@pytest.mark.shared_data
def test_h_reflex_latency_and_amplitude(shared_data):
    from hfs_emg.io import read_recording

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = read_recording(shared_data / "spike2py-smr" / "physiology.smr")
    ev = find_stim_events(rec, source="events", label="Hreflex")
    assert len(ev) == 20
    ep = make_epochs(rec, ev, tmin=-0.05, tmax=0.08, baseline=(-0.05, -0.001),
                     picks=["soleus", "FDI"])  # fmt: skip
    res = measure_responses(ep, window_ms=(25.0, 60.0))
    sol = res[res["channel"] == "soleus"]
    fdi = res[res["channel"] == "FDI"]
    # SOURCE.md (independent reading): H negative peak 34.0-34.5 ms, positive 37.5 ms,
    # p2p 4.5-10.7 mV, first of each pair larger (post-activation depression); FDI silent.
    assert sol["present"].all() and not fdi["present"].any()
    assert sol["latency_ms"].between(29.0, 33.0).all()
    assert sol["peak_latency_ms"].isin([34.0, 34.5, 37.5]).all()
    assert sol["p2p_uv"].between(4000, 11500).all()
    p2p = sol["p2p_uv"].to_numpy()
    assert np.median(p2p[0::2]) > np.median(p2p[1::2])
