"""The live monitor's fast paths equal the offline code they replace, and a recording fed
directly (``ArraySource``, no LSL) gives the offline rows and trend.

- ``_trigger_edges`` (the per-chunk stimulus detection) against :func:`hfs_emg.find_stim_events`
  on random trigger segments;
- ``_sweep_events`` (each sweep's event with the markers' side, branch and intensity) against
  ``make_events`` + ``_attach_extra_columns`` (the code of ``find_stim_events``) on random
  markers, ties and far markers included;
- a whole session fed through ``ArraySource``: rows equal ``measure_lsr`` on the kept file and
  the monitor's final trend equals ``lsr_trend`` of its rows.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import hfs_emg as hfs
from hfs_emg._errors import NoStimulusError
from hfs_emg.events import _attach_extra_columns
from hfs_emg.live import ArraySource
from hfs_emg.pipeline.monitor import LiveMonitor, _csv_lines, _sweep_events, _trigger_edges
from hfs_emg.recording import make_events
from hfs_emg.simulate import simulate_lsr_session

SHORT = {"orbicularis_oculi_L": "OrbOculi_L", "orbicularis_oris_L": "OrbOris_L"}


@pytest.mark.parametrize("seed", range(12))
def test_trigger_edges_equal_find_stim_events(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    x = np.where(rng.random(n) < rng.uniform(0.02, 0.6), 5.0, 0.0) + rng.normal(0, 0.3, n)
    thr = float(rng.uniform(1.0, 4.0))
    min_gap = int(rng.integers(1, 8))
    sfreq = 1000.0
    rec = hfs.from_array(x[None], sfreq, ["trig"], ch_types="stim", units=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = hfs.find_stim_events(
                rec, source="trigger", threshold=thr, min_interval_s=min_gap / sfreq
            )
            want = np.round(found["onset_s"].to_numpy() * sfreq).astype(np.int64)
        except NoStimulusError:
            want = np.zeros(0, np.int64)
        got = _trigger_edges(x, thr, min_gap, "trig")
    assert got.dtype == np.int64
    assert got.tolist() == want.tolist()


def _reference_events(onsets, first, source, markers, sfreq):
    ev = make_events(onsets, labels="stim")
    ev["stim_index"] = np.arange(first, first + len(onsets))
    ev["source"] = source
    if markers:
        marks = pd.DataFrame(markers, columns=["onset_s", "label"])
        marks["duration_s"] = 0.0
        ev = _attach_extra_columns(ev, SimpleNamespace(events=marks, sfreq=sfreq))
    return ev.to_dict("records")


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b


LABELS = [
    "stim zygomatic 12 mA",
    "stim marginal mandibular 8 mA",
    "stim left zygomatic",
    "stim right 5,5 mA",
    "decompression",
    "dura opening",
    "Stim temporal 20mA",
    "note: irrigation",
]


@pytest.mark.parametrize("seed", range(20))
def test_sweep_events_equal_the_find_stim_events_labels(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    sfreq = 5000.0
    onsets = sorted(float(x) for x in np.round(rng.uniform(0, 2, rng.integers(1, 6)) * sfreq))
    onsets = [o / sfreq for o in onsets]
    markers = []
    for _ in range(int(rng.integers(0, 12))):
        base = onsets[int(rng.integers(len(onsets)))]
        # on the stimulus, within the tolerance either side (ties), or far
        dt = float(rng.choice([0.0, 1.0, -1.0, 1.5, -1.5, 2.0, 40.0])) / sfreq
        markers.append((base + dt, str(rng.choice(LABELS))))
    got = _sweep_events(onsets, 7, "trigger:trig", markers, sfreq)
    want = _reference_events(onsets, 7, "trigger:trig", markers, sfreq)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert list(g) == list(w)
        assert all(_same(g[k], w[k]) for k in w), (g, w)


def test_directly_fed_session_equals_offline_rows_and_trend(tmp_path: Path) -> None:
    sim = simulate_lsr_session(
        n_stimuli=40, rate_hz=4.0, sfreq=5000.0, disappearance_index=25, fade_stimuli=0, seed=7
    )
    rec = sim.recording.rename_channels(SHORT)
    src = ArraySource(rec, chunk_s=0.03)
    mon = LiveMonitor(tmp_path, source=src, stim_branch="zygomatic")
    mon.run(timeout=120)
    online = mon.lsr
    assert online["stim_index"].nunique() == 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = hfs.read_recording(tmp_path / "recording.bdf")
        offline = hfs.measure_lsr(kept, stim_branch="zygomatic")
        trend = hfs.lsr_trend(online, phases=mon.phases())
    a = online.set_index(["stim_index", "channel"]).sort_index()
    b = offline.set_index(["stim_index", "channel"]).sort_index()
    assert a.index.equals(b.index)
    for col in ("present", "match_present", "rejected", "kind", "montage"):
        assert (a[col].to_numpy() == b[col].to_numpy()).all(), col
    for col in ("latency_ms", "p2p_uv", "stim_time_s"):  # as tests/test_monitor.py
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), col
        np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(mon.trend, trend)
    overall = mon.trend.set_index("channel").loc["overall"]
    assert overall["status"] == "disappeared"
    assert abs(int(overall["disappearance_stim_index"]) - 25) <= 3


def test_csv_lines_equal_pandas_to_csv() -> None:
    sim = simulate_lsr_session(n_stimuli=6, sfreq=5000.0, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lsr = hfs.measure_lsr(sim.recording, stim_branch="zygomatic")
    lsr.insert(2, "part", "recording.bdf")
    cols = [*lsr.columns[:5], "absent column", *lsr.columns[5:]]
    for _, sweep in lsr.groupby("stim_index"):
        assert _csv_lines(sweep, cols) == sweep.reindex(columns=cols).to_csv(
            index=False, header=False
        )
    odd = pd.DataFrame(
        {
            "f": [0.1, 1e-05, 1e16, np.nan, np.inf, -0.0, 123456789.123456789],
            "i": np.arange(7, dtype=np.int64) - 3,
            "b": [True, False, True, True, False, False, True],
            "s": ["a,b", 'say "x"', "", None, "line\nbreak", "plain", np.nan],
            "o": [None, 1, "x", 2.5, True, np.nan, "y"],
        }
    )
    want = odd.to_csv(index=False, header=False)
    assert _csv_lines(odd, list(odd.columns)) == want
    cat = odd.assign(c=pd.Categorical(["u"] * 7))  # other dtypes: pandas itself
    assert _csv_lines(cat, list(cat.columns)) == cat.to_csv(index=False, header=False)
