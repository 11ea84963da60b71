"""``LsrTrendState`` (the trend grown sweep by sweep) equals ``lsr_trend`` of the whole table.

Tables from ``measure_lsr`` on simulated sessions, pushed one sweep at a time (and in blocks),
then varied the ways real tables vary: rejected rows, alternating montages, a second response
kind, missing latencies, phase markers, every option of ``lsr_trend``; the trend after every
pushed sweep equals ``lsr_trend`` of the rows so far (``pandas.testing.assert_frame_equal``,
exact). Rows out of order make the state say it is not exact.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hfs_emg as hfs
from hfs_emg._errors import ParameterError
from hfs_emg.simulate import simulate_lsr_session
from hfs_emg.trend import LsrTrendState, lsr_trend


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    sim = simulate_lsr_session(n_stimuli=70, sfreq=5000.0, disappearance_index=40, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hfs.measure_lsr(sim.recording, stim_branch="zygomatic")


def _vary(lsr: pd.DataFrame, how: str, rng: np.random.Generator) -> pd.DataFrame:
    lsr = lsr.copy()
    stim = lsr["stim_index"].to_numpy()
    if how in ("rejected", "all"):
        bad = rng.random(len(lsr)) < 0.15
        lsr["rejected"] = lsr["rejected"].to_numpy(bool) | bad
        whole = np.isin(stim, rng.choice(np.unique(stim), 5, replace=False))
        lsr.loc[whole, "rejected"] = True  # stimuli with every row rejected
    if how in ("montages", "all"):
        lsr["montage"] = np.where(stim % 3 == 0, "marginal_mandibular", "zygomatic")
    if how in ("kinds", "all"):
        lsr["kind"] = np.where(
            (lsr["kind"] == "lsr") & (lsr["channel"] == lsr["channel"].iloc[-1]), "late", "lsr"
        ) if how == "kinds" else lsr["kind"]  # fmt: skip
    if how in ("latency", "all"):
        lsr.loc[rng.random(len(lsr)) < 0.2, "latency_ms"] = np.nan
    return lsr


CASES = [
    ("plain", {}, None),
    ("plain", {"until_end": False, "presence": "present"}, {"decompression": 40.0}),
    ("rejected", {}, {"dura_opening": 5.0, "decompression": 38.0, "dural_closure": 60.0}),
    ("montages", {"baseline_n": 5, "final_n": 8}, {"decompression": 30.0}),
    ("kinds", {"amplitude": "zero_filled"}, None),
    ("latency", {"consecutive_absent": 3, "min_present_run": 1}, {"decompression": 41.0}),
    ("all", {"transient_min_s": 2.0, "partial_reduction_pct": 30.0}, {"decompression": 35.0}),
]


@pytest.mark.parametrize(("how", "opts", "phases"), CASES)
def test_trend_state_equals_lsr_trend_after_every_sweep(table, how, opts, phases) -> None:
    lsr = _vary(table, how, np.random.default_rng(len(how)))
    state = LsrTrendState(**opts)
    seen = []
    for k, (_, sweep) in enumerate(lsr.groupby("stim_index", sort=True)):
        state.push(sweep)
        seen.append(sweep)
        rows = pd.concat(seen, ignore_index=True)
        kept = rows[rows["kind"] != "direct"]
        has_valid = len(kept) > 0 and not kept["rejected"].all()
        if not has_valid:
            with pytest.raises(ParameterError):
                state.trend(phases=phases)
            continue
        if k % 7 and k < len(lsr["stim_index"].unique()) - 1:
            continue  # every 7th sweep and the last (the whole comparison is slow)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = lsr_trend(rows, phases=phases, **opts)
        got = state.trend(phases=phases)
        pd.testing.assert_frame_equal(got, want)
    assert state.exact


def test_trend_state_in_blocks_and_out_of_order(table) -> None:
    lsr = _vary(table, "montages", np.random.default_rng(0))
    state = LsrTrendState()
    stims = lsr["stim_index"].to_numpy()
    for lo in range(0, int(stims.max()) + 1, 16):  # several sweeps per push
        state.push(lsr[(stims >= lo) & (stims < lo + 16)])
    pd.testing.assert_frame_equal(state.trend(), lsr_trend(lsr))
    state.push(lsr[stims == 3])  # an old sweep again: not exact any more
    assert not state.exact
    with pytest.raises(ParameterError):
        state.trend()
    with pytest.raises(ParameterError):
        LsrTrendState(baseline=3)
