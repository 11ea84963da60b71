"""simulate_spontaneous: schema, determinism, physiology and the SNR definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hfs_emg import ParameterError
from hfs_emg.anatomy import MUSCLES
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.simulate.spontaneous import BURST_COLUMNS
from hfs_emg.synchrony import SYNC_COLUMNS


@pytest.fixture(scope="module")
def sim():
    return simulate_spontaneous(duration_s=60.0, sfreq=5000.0, spasm_rate_per_min=20, seed=4)


def test_schema_and_channels(sim):
    rec = sim.recording
    assert rec.ch_names == [
        "frontalis_L",
        "orbicularis_oculi_L",
        "orbicularis_oris_L",
        "mentalis_L",
    ]
    assert list(rec.channels["side"]) == ["left"] * 4
    assert list(rec.channels["branch"]) == [MUSCLES[m].branch for m in rec.channels["muscle"]]
    assert tuple(sim.bursts.columns) == BURST_COLUMNS
    assert tuple(sim.synchronous.columns) == SYNC_COLUMNS
    assert rec.n_samples == 300_000


def test_deterministic_by_seed():
    a = simulate_spontaneous(duration_s=5.0, sfreq=2000.0, seed=11)
    b = simulate_spontaneous(duration_s=5.0, sfreq=2000.0, seed=11)
    c = simulate_spontaneous(duration_s=5.0, sfreq=2000.0, seed=12)
    np.testing.assert_array_equal(a.recording.data, b.recording.data)
    pd.testing.assert_frame_equal(a.bursts, b.bursts)
    assert not np.array_equal(a.recording.data, c.recording.data)


def test_physiology_of_truth(sim):
    b = sim.bursts
    assert b["discharge_hz"].between(150, 400).all()
    clonic = b[b["kind"] == "clonic"]["duration_s"]
    tonic = b[b["kind"] == "tonic"]["duration_s"]
    assert clonic.between(0.025, 0.225).all() and tonic.between(0.5, 3.5).all()
    # no overlap of bursts within a channel
    for _, g in b.groupby("channel"):
        g = g.sort_values("onset_s")
        assert (g["onset_s"].to_numpy()[1:] > g["offset_s"].to_numpy()[:-1]).all()
    ev = sim.synchronous
    assert (ev["n_channels"] >= 2).all()
    assert ev["spread_ms"].between(0.5, 60).all()
    assert "direction" not in ev.columns
    # onsets follow the rostro-caudal rank, one way or the other; the order lists the channels
    rank = {f"{m}_L": MUSCLES[m].rank for m in MUSCLES}
    for _, e in ev.iterrows():
        chans = e["channels"].split(",")
        ranks = [rank[c] for c in chans]
        assert ranks in (sorted(ranks), sorted(ranks, reverse=True))
        assert e["onset_order"] == "<".join(chans)
        assert e["lead_muscle"] == chans[0].rsplit("_", 1)[0]
    single = b[b["event_id"] < 0]
    assert len(single) > 0


@pytest.mark.parametrize("snr_db", [20.0, 6.0])
def test_snr_definition(snr_db):
    sim = simulate_spontaneous(
        duration_s=30.0,
        sfreq=5000.0,
        snr_db=snr_db,
        noise_uv=4.0,
        mains_hz=None,
        baseline_wander=False,
        movement_artifacts=False,
        seed=2,
    )
    x = sim.recording.data
    fs = sim.recording.sfreq
    inside = np.zeros_like(x, dtype=bool)
    names = sim.recording.ch_names
    for _, r in sim.bursts.iterrows():  # test code: a loop is fine here
        i = names.index(r["channel"])
        inside[i, round((r["onset_s"] - 0.01) * fs) : round((r["offset_s"] + 0.01) * fs)] = True
    noise = x[~inside].std()
    assert noise == pytest.approx(4.0, rel=0.03)
    ratios = []
    for _, r in sim.bursts.iterrows():
        i = names.index(r["channel"])
        seg = x[i, round(r["onset_s"] * fs) : round(r["offset_s"] * fs)]
        ratios.append(np.sqrt(max(np.mean(seg**2) - 16.0, 1e-9)) / 4.0)
    measured = 20 * np.log10(np.median(ratios))
    assert measured == pytest.approx(snr_db, abs=0.5)


def test_contralateral_and_rates():
    sim = simulate_spontaneous(
        duration_s=60.0, sfreq=2000.0, contralateral=True, side="right", seed=5
    )
    assert sim.recording.ch_names[:4] == [
        "frontalis_R",
        "orbicularis_oculi_R",
        "orbicularis_oris_R",
        "mentalis_R",
    ]
    assert sim.recording.n_channels == 8
    assert sim.bursts["channel"].str.endswith("_R").all()
    none = simulate_spontaneous(
        duration_s=10.0, sfreq=2000.0, spasm_rate_per_min=0, single_muscle_rate_per_min=0
    )
    assert none.bursts.empty and none.synchronous.empty


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sfreq": 500.0},
        {"side": "middle"},
        {"muscles": ("frontalis", "nose")},
        {"sync_fraction": 1.5},
        {"duration_s": -1.0},
        {"n_units": 0},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        simulate_spontaneous(**{"duration_s": 2.0, **kwargs})


def test_independent_units_have_physiological_isi():
    sim = simulate_spontaneous(
        duration_s=60.0,
        sfreq=5000.0,
        firing="independent",
        n_units=(12, 18),
        unit_rate_hz=(8.0, 25.0),
        tonic_fraction=1.0,
        seed=5,
    )
    assert sim.bursts["discharge_hz"].isna().all()  # no common rate
    sp = sim.spikes.sort_values(["unit", "burst_index", "time_s"])
    isi = sp.groupby(["unit", "burst_index"])["time_s"].diff()
    stats = isi.groupby([sp["unit"], sp["burst_index"]]).agg(["mean", "std", "size"])
    stats = stats[stats["size"] >= 15]  # trains long enough for a CV
    cv = stats["std"] / stats["mean"]
    assert len(stats) >= 20
    assert 0.1 <= cv.median() <= 0.2
    assert (1 / stats["mean"]).between(6.0, 28.0).mean() >= 0.95
    units = sp.groupby("burst_index")["unit"].nunique()
    assert units.between(12, 18).all()


def test_isolated_tapered_simultaneous_and_coloured():
    kw = {"duration_s": 40.0, "sfreq": 5000.0, "seed": 8, "mains_hz": None}
    sim = simulate_spontaneous(isolated_rate_per_min=30, spread_step_ms=(0.0, 0.0), **kw)
    iso = sim.bursts[sim.bursts["pattern"] == "isolated"]
    assert len(iso) >= 5 and (iso["duration_s"] < 0.02).all() and (iso["event_id"] == -1).all()
    n_spk = sim.spikes[sim.spikes["unit"].str.contains("iso")].groupby("burst_index").size()
    assert n_spk.between(1, 3).all() and sorted(n_spk.index) == sorted(iso.index)
    assert (sim.synchronous["onset_order"] == "simultaneous").all()
    assert (sim.synchronous["spread_ms"] == 0).all()
    # isolated discharges stay away from the other bursts of their channel
    for ch, g in sim.bursts.sort_values("onset_s").groupby("channel"):
        assert (g["onset_s"].to_numpy()[1:] - g["offset_s"].to_numpy()[:-1] > 0).all(), ch
    # tapered bursts: the first 50 ms hold less energy than the next 50 ms
    tap = simulate_spontaneous(taper_s=0.1, tonic_fraction=1.0, **kw)
    quiet = {"noise_uv": 1e-3, "baseline_wander": False, "movement_artifacts": False}
    clean = simulate_spontaneous(taper_s=0.1, tonic_fraction=1.0, **{**kw, **quiet})
    x = clean.recording.data
    for b in tap.bursts.itertuples():
        row = clean.recording.ch_names.index(b.channel)
        s = round(b.onset_s * 5000)
        assert np.sum(x[row, s : s + 250] ** 2) < np.sum(x[row, s + 250 : s + 500] ** 2)
    # coloured background: extra 20-150 Hz power, white noise unchanged above it
    plain = simulate_spontaneous(spasm_rate_per_min=0, single_muscle_rate_per_min=0, **kw)
    col = simulate_spontaneous(
        spasm_rate_per_min=0, single_muscle_rate_per_min=0, coloured_uv=5.0, **kw
    )
    assert col.recording.data.std() == pytest.approx(
        np.hypot(plain.recording.data.std(), 5.0), rel=0.05
    )
