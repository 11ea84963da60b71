"""Issue 13 'done when', on simulator seeds that no default was chosen on (held out: 200-202).

The defaults (hysteresis 6 / 3 x noise, onset floor, periodicity 0.4, onset SD 3 ms) were
chosen on seeds 100-101 and the first UCI file (docs/validation_spontaneous.md); the numbers
over seeds 200-204 are in that document. Conditions are harder than the original simulator:
coloured 20-150 Hz background as loud as the white noise, independent motor units.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from hfs_emg.detection import detect_bursts
from hfs_emg.simulate import match_onsets, score_events, simulate_spontaneous
from hfs_emg.synchrony import detect_synchronous_bursts

HELD_OUT = (200, 201, 202)


@functools.cache
def _sim(seed: int, kind: str):
    common = {"duration_s": 60.0, "sfreq": 5000.0, "seed": seed}
    if kind == "isolated":
        return simulate_spontaneous(snr_db=15, coloured_uv=5, isolated_rate_per_min=30, **common)
    if kind == "voluntary":
        return simulate_spontaneous(
            snr_db=15,
            firing="independent",
            n_units=(12, 18),
            unit_rate_hz=(8, 25),
            coloured_uv=5,
            **common,
        )
    if kind == "myokymia":
        return simulate_spontaneous(
            snr_db=15, firing="independent", n_units=(3, 6), unit_rate_hz=(35, 45), **common
        )
    if kind == "independent_hfs":
        return simulate_spontaneous(
            snr_db=15, firing="independent", n_units=4, unit_rate_hz=(150, 400), **common
        )
    if kind == "lockstep":
        return simulate_spontaneous(snr_db=15, **common)
    if kind == "tapered":
        return simulate_spontaneous(snr_db=20, taper_s=0.1, tonic_fraction=0.5, **common)
    if kind == "simultaneous":
        return simulate_spontaneous(
            snr_db=15, spasm_rate_per_min=20, spread_step_ms=(0.0, 0.0), **common
        )
    if kind == "sequential_independent":
        return simulate_spontaneous(
            snr_db=15,
            spasm_rate_per_min=20,
            firing="independent",
            n_units=4,
            unit_rate_hz=(150, 400),
            coloured_uv=5,
            **common,
        )
    if kind == "simultaneous_independent":
        return simulate_spontaneous(
            snr_db=15,
            spasm_rate_per_min=20,
            spread_step_ms=(0.0, 0.0),
            firing="independent",
            n_units=4,
            unit_rate_hz=(150, 400),
            coloured_uv=5,
            **common,
        )
    raise ValueError(kind)


def test_isolated_discharges_found_and_labelled():
    n_true = found = labelled = 0
    for seed in HELD_OUT:
        sim = _sim(seed, "isolated")
        truth = sim.bursts[sim.bursts["pattern"] == "isolated"]
        bursts = detect_bursts(sim.recording)
        m = match_onsets(truth, bursts, tolerance_s=0.01)
        n_true += len(truth)
        found += len(m)
        labelled += int((bursts.loc[m["detected_index"], "pattern"] == "isolated").sum())
        # the grouped bursts of the same recording are rarely called isolated (measured 0.94:
        # clonic bursts of 30-36 ms at 15 dB lose their quiet edges and fall under 20 ms)
        rest = match_onsets(sim.bursts[sim.bursts["pattern"] != "isolated"], bursts)
        assert (bursts.loc[rest["detected_index"], "pattern"] != "isolated").mean() >= 0.9
    assert n_true >= 40
    assert found / n_true >= 0.9, (found, n_true)
    assert labelled / found >= 0.9, (labelled, found)


def test_voluntary_bursts_get_no_hfs_band_rate():
    rates = np.concatenate(
        [detect_bursts(_sim(s, "voluntary").recording)["discharge_hz"] for s in HELD_OUT]
    )
    assert rates.size >= 60
    assert np.mean((rates >= 150) & (rates <= 400)) <= 0.10
    # and the periodicity says why: the summed signal of independent units is aperiodic
    per = np.concatenate(
        [detect_bursts(_sim(s, "voluntary").recording)["periodicity"] for s in HELD_OUT]
    )
    assert np.nanmedian(per) < 0.2


@pytest.mark.parametrize("kind", ["myokymia", "independent_hfs"])
def test_units_not_firing_together_get_no_rate(kind):
    """Myokymia-like (35-45 Hz) and HFS-rate units firing independently: the summed signal
    has no common period, so a rate is rarely reported (the old code read 121 and 181 Hz)."""
    rates = np.concatenate(
        [detect_bursts(_sim(s, kind).recording)["discharge_hz"] for s in HELD_OUT]
    )
    assert rates.size >= 60
    assert np.mean(np.isfinite(rates)) <= 0.10
    assert np.mean((rates >= 150) & (rates <= 400)) <= 0.10


def test_lockstep_units_measured_within_10_percent():
    ok = []
    for seed in HELD_OUT:
        sim = _sim(seed, "lockstep")
        bursts = detect_bursts(sim.recording)
        m = match_onsets(sim.bursts, bursts)
        got = bursts.loc[m["detected_index"], "discharge_hz"].to_numpy()
        true = sim.bursts.loc[m["truth_index"], "discharge_hz"].to_numpy()
        ok.append(np.abs(got / true - 1) <= 0.1)  # NaN (not periodic enough) counts as a miss
        assert bursts["median_frequency_hz"].between(20, 1000).all()
    ok = np.concatenate(ok)
    assert ok.size >= 60
    assert ok.mean() >= 0.9, ok.mean()


@pytest.mark.parametrize(
    ("kind", "use_rec", "limit"),
    [
        ("simultaneous", False, 0.10),
        ("simultaneous", True, 0.05),
        ("simultaneous_independent", True, 0.05),
    ],
)
def test_simultaneous_events_rarely_ordered(kind, use_rec, limit):
    """Truly simultaneous onsets: the waveform onsets (``rec=``, as analyze uses them) give an
    order to <= 5 % of the events (held out 200-204: 0 % lock-step, 3.5 % independent units on
    a coloured background; onsets alone 18.6 % there)."""
    ordered = total = 0
    for seed in HELD_OUT:
        sim = _sim(seed, kind)
        bursts = detect_bursts(sim.recording)
        ev = detect_synchronous_bursts(
            bursts, channels=sim.recording.channels, rec=sim.recording if use_rec else None
        )
        s = score_events(sim.synchronous, ev)
        assert s["f1"] >= 0.9, s
        ordered += s["ordered_given_simultaneous"] * s["n_simultaneous"]
        total += s["n_simultaneous"]
    assert total >= 40
    assert ordered / total <= limit, (ordered, total)


@pytest.mark.parametrize(
    ("kind", "min_ordered"), [("lockstep", 0.85), ("sequential_independent", 0.55)]
)
def test_waveform_order_resolves_2_to_6_ms_steps(kind, min_ordered):
    """Sensitivity of the waveform route to true 2-6 ms steps, and the right leader."""
    ordered = n_seq = right = judged = 0
    for seed in HELD_OUT:
        sim = _sim(seed, kind)
        bursts = detect_bursts(sim.recording)
        ev = detect_synchronous_bursts(bursts, channels=sim.recording.channels, rec=sim.recording)
        s = score_events(sim.synchronous, ev)
        ordered += s["ordered_given_sequential"] * s["n_sequential"]
        n_seq += s["n_sequential"]
        m = match_onsets(sim.synchronous, ev, by=None)
        lead = ev.loc[m["detected_index"], "lead_muscle"].to_numpy()
        true = sim.synchronous.loc[m["truth_index"], "lead_muscle"].to_numpy()
        sel = ~np.isin(lead, ["simultaneous", "tied"])
        judged += int(sel.sum())
        right += int((lead[sel] == true[sel]).sum())
    assert n_seq >= 20
    assert ordered / n_seq >= min_ordered, (ordered, n_seq)
    assert judged >= 5 and right / judged >= 0.95, (right, judged)


def test_sequential_events_keep_their_order():
    """The same significance test still resolves 2-6 ms steps and names the right leader."""
    ordered = n_seq = right = judged = 0
    for seed in HELD_OUT:
        sim = _sim(seed, "lockstep")
        bursts = detect_bursts(sim.recording)
        ev = detect_synchronous_bursts(bursts, channels=sim.recording.channels)
        s = score_events(sim.synchronous, ev)
        ordered += s["ordered_given_sequential"] * s["n_sequential"]
        n_seq += s["n_sequential"]
        m = match_onsets(sim.synchronous, ev, by=None)
        lead = ev.loc[m["detected_index"], "lead_muscle"].to_numpy()
        true = sim.synchronous.loc[m["truth_index"], "lead_muscle"].to_numpy()
        sel = ~np.isin(lead, ["simultaneous", "tied"])
        judged += int(sel.sum())
        right += int((lead[sel] == true[sel]).sum())
    assert n_seq >= 15
    assert ordered / n_seq >= 0.7, (ordered, n_seq)
    # the Bonferroni rule (one error rate per event) leaves fewer single leaders
    assert judged >= 4 and right / judged >= 0.9, (right, judged)


def test_tapered_bursts_start_within_20_ms():
    err = np.concatenate(
        [
            match_onsets(
                _sim(s, "tapered").bursts,
                detect_bursts(_sim(s, "tapered").recording),
                tolerance_s=0.1,
            )["onset_error_s"].to_numpy()
            for s in HELD_OUT
        ]
    )
    assert err.size >= 50
    assert abs(np.median(err)) <= 0.02, np.median(err)
    assert np.mean(np.abs(err) <= 0.02) >= 0.8
