"""``LsrTrendState`` (the trend grown sweep by sweep) equals ``lsr_trend`` of the whole table.

Tables from ``measure_lsr`` on simulated sessions, pushed one sweep at a time (and in blocks),
then varied the ways real tables vary: rejected rows, alternating montages, a second response
kind, missing latencies, phase markers, every option of ``lsr_trend``; the trend after every
pushed sweep equals ``lsr_trend`` of the rows so far (``pandas.testing.assert_frame_equal``,
exact). Rows out of order make the state say it is not exact.
"""

from __future__ import annotations

import warnings
from typing import Any

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


def _random_table(rng: np.random.Generator, n_stim: int, *, second_from: int = 0) -> pd.DataFrame:
    """A random LSR table: runs of presence and absence (status flips), rejected rows, missing
    values, duplicate rows, a channel that appears late, two montages, calibrated rates and
    amplitudes of any sign (no physical p2p is negative; the table is taken as it is)."""
    chans = ["c", "a", "b", "late"]
    rows = []
    present = {ch: bool(rng.random() < 0.7) for ch in chans}
    t = 0.0
    for s in range(n_stim):
        t += float(rng.choice([0.5, 1.0, 1.0, 3.0]))  # ties never (times increase)
        mont = "zyg" if s % 4 or s < second_from else "mm"  # a second montage from then
        for ch in chans:
            if ch == "late" and s < n_stim // 3:
                continue
            if rng.random() < 0.15:
                present[ch] = not present[ch]  # runs: losses, returns, short false alarms
            k = 2 if rng.random() < 0.03 else 1  # a duplicate row now and then
            for _ in range(k):
                p = present[ch] if rng.random() > 0.05 else not present[ch]
                rows.append(
                    {
                        "stim_index": s,
                        "stim_time_s": t,
                        "channel": ch,
                        "muscle": f"m_{ch}",
                        "kind": "lsr",
                        "present": p if rng.random() > 0.02 else None,
                        "latency_ms": rng.normal(10, 1) if rng.random() > 0.1 else np.nan,
                        "p2p_uv": rng.normal(40.0, 60.0) if rng.random() > 0.05 else np.nan,
                        "rejected": bool(rng.random() < 0.08),
                        "montage": mont,
                        "false_alarm_rate": rng.random() * 0.05 if rng.random() > 0.1 else np.nan,
                    }
                )
    df = pd.DataFrame(rows)
    df["present"] = df["present"].astype(object)
    return df


@pytest.mark.parametrize("seed", range(6))
def test_trend_state_random_sessions_with_late_markers(seed) -> None:
    """Random tables: after every few sweeps the state's trend equals lsr_trend of the rows so
    far, with phase markers that arrive late (onsets before the newest sweeps) and options
    varied; a single montage (no column), or alternating montages."""
    rng = np.random.default_rng(seed)
    lsr = _random_table(rng, 90, second_from=45 * (seed % 3 == 2))
    if seed % 2:
        lsr = lsr.drop(columns="montage")
    opts = [
        {},
        {"baseline_n": 4, "final_n": 6, "consecutive_absent": 3, "min_present_run": 1},
        {"until_end": False, "amplitude": "zero_filled", "transient_min_s": 3.0},
        {"presence": "present", "min_present_run": 3, "partial_reduction_pct": 30.0},
    ][seed % 4]
    state = LsrTrendState(**opts)
    sweeps = [g for _, g in lsr.groupby("stim_index", sort=True)]
    for k, sweep in enumerate(sweeps):
        state.push(sweep)
        if k % 5 and k != len(sweeps) - 1:
            continue
        rows = lsr[lsr["stim_index"] <= k]
        t_now = float(rows["stim_time_s"].max())
        # markers typed late: onsets anywhere in the past, arriving one by one
        marks = {}
        for name, frac in (("dura_opening", 0.1), ("decompression", 0.5), ("dural_closure", 0.9)):
            if k > 30 * frac:
                marks[name] = float(t_now * frac * (0.5 + rng.random()))
        marks = dict(sorted(marks.items(), key=lambda kv: kv[1]))
        for phases in (None, marks or None):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    want = lsr_trend(rows, phases=phases, **opts)
                except ParameterError:
                    with pytest.raises(ParameterError):
                        state.trend(phases=phases)
                    continue
                got = state.trend(phases=phases)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert state.exact


def test_trend_state_resumed_from_a_block_then_sweeps() -> None:
    """A resumed monitor pushes the table read back in one block, then sweep by sweep."""
    lsr = _random_table(np.random.default_rng(11), 80)
    state = LsrTrendState(baseline_n=5, final_n=5)
    state.push(lsr[lsr["stim_index"] < 50])
    for _, sweep in lsr[lsr["stim_index"] >= 50].groupby("stim_index", sort=True):
        state.push(sweep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = lsr_trend(lsr, baseline_n=5, final_n=5, phases={"decompression": 60.0})
    pd.testing.assert_frame_equal(
        state.trend(phases={"decompression": 60.0}), want, check_exact=True
    )


@pytest.mark.parametrize("seed", range(3))
def test_trend_state_times_out_of_order_or_missing(seed) -> None:
    """The windows are found by bisection of the times while they never decrease; a sweep
    earlier in time than the last (a resumed session on a clock started again) or without a
    time switches that series to the masks of ``_one_series``: still exact."""
    rng = np.random.default_rng(seed)
    lsr = _random_table(rng, 80)
    t = lsr["stim_time_s"].to_numpy().copy()
    stim = lsr["stim_index"].to_numpy()
    t[stim >= 50] -= 40.0  # the clock of a second part starts again
    if seed == 1:
        t[stim == 30] = np.nan
    lsr["stim_time_s"] = t
    state = LsrTrendState(baseline_n=5, final_n=6)
    for k, (_, sweep) in enumerate(lsr.groupby("stim_index", sort=True)):
        state.push(sweep)
        if k % 9 and k != 79:
            continue
        rows = lsr[lsr["stim_index"] <= k]
        for phases in (None, {"dura_opening": 5.0, "decompression": 30.0, "dural_closure": 50.0}):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = lsr_trend(rows, phases=phases, baseline_n=5, final_n=6)
            pd.testing.assert_frame_equal(state.trend(phases=phases), want, check_exact=True)
    assert state.exact


def test_trend_state_memory_is_small() -> None:
    """What the state keeps: ~ a time, a presence byte and a false-alarm term per stimulus and
    series, an amplitude and latency per present response; no stimulus x channel matrices."""
    lsr = _random_table(np.random.default_rng(4), 400).drop(columns="montage")
    state = LsrTrendState()
    for _, sweep in lsr.groupby("stim_index", sort=True):
        state.push(sweep)
    n_series = 5 * 2  # 4 channels and overall, per group and in the whole table
    assert state.nbytes < 400 * n_series * (8 + 1 + 8 + 16) * 1.6


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (x is y) or x == y or (isinstance(x, float) and np.isnan(x) and np.isnan(y))
        for x, y in ((a[k], b[k]) for k in a)
    )


@pytest.mark.parametrize("seed", range(4))
def test_series_state_equals_one_series_on_every_prefix(seed) -> None:
    """The state of one series (loss episodes as a state machine, windows by bisection) against
    ``_one_series`` of each prefix: random presence runs of every length, times with ties and
    phase onsets on stimulus times (window edges), transient losses of exactly
    ``transient_min_s``, short runs starting at ``baseline_n``; times out of order too."""
    from hfs_emg.trend import _one_series, _SeriesAcc, _trend_options

    rng = np.random.default_rng(seed)
    for trial in range(40):
        o = _trend_options(
            baseline_n=int(rng.integers(1, 6)),
            final_n=int(rng.integers(1, 8)),
            consecutive_absent=int(rng.integers(1, 5)),
            min_baseline_present=float(rng.choice([0.0, 0.5, 1.0])),
            until_end=bool(rng.random() < 0.7),
            presence="present",
            min_present_run=int(rng.integers(1, 4)),
            partial_reduction_pct=15.0,
            transient_min_s=float(rng.integers(0, 6)),
            amplitude=str(rng.choice(["present_only", "zero_filled"])),
            min_window_present=float(rng.choice([0.0, 0.2, 0.6])),
        )
        n = int(rng.integers(1, 60))
        p = np.repeat(rng.random(n) < 0.5, rng.integers(1, 5, n))[:n]  # runs
        a = rng.gamma(2.0, 30.0, n)
        lat = np.where(rng.random(n) < 0.2, np.nan, rng.normal(9.0, 1.0, n))
        t = np.cumsum(rng.choice([0.0, 1.0, 1.0, 2.0], n))  # ties
        if trial % 4 == 3:  # out of order (and a missing time): the masks of _one_series
            t = rng.permutation(t)
            t[rng.integers(n)] = np.nan
        stim = np.arange(n) * 2 + 1
        acc = _SeriesAcc(o, True, False)
        for k in range(n):
            acc.add(float(t[k]), int(stim[k]), bool(p[k]), float(a[k]), float(lat[k]), 0.0)
            names = ["dura_opening", "decompression", "dural_closure"]
            picks = np.sort(rng.choice(np.nan_to_num(t[: k + 1]), 3)) + rng.choice([0.0, 0.5], 3)
            onsets = {m: float(x) for m, x in zip(names, picks, strict=True) if rng.random() < 0.7}
            got = acc.row(onsets)
            sl = slice(0, k + 1)
            want = _one_series(p[sl], a[sl], lat[sl], t[sl], stim[sl], onsets, o)
            assert _same(got, want), (trial, k, got, want)


def test_trend_state_channel_appearing_late_with_negative_amplitudes() -> None:
    """A channel that appears late is a 0 uV column of every earlier row of the pivot: the
    overall series' largest present response of those rows becomes max(response, 0). Only
    amplitudes below 0 show it (then no channel has a finite reduction and the overall row
    keeps its own amplitudes)."""
    rows = []
    for s in range(30):
        for ch in ("a", "b") + (("late",) if s >= 20 else ()):
            if ch == "a" and s >= 27:
                continue  # no row: a 0 uV column of this row too
            rows.append(
                {"stim_index": s, "stim_time_s": float(s), "channel": ch, "present": True,
                 "p2p_uv": -5.0 - s, "kind": "lsr", "rejected": False}
            )  # fmt: skip
    lsr = pd.DataFrame(rows)
    state = LsrTrendState()
    for _, sweep in lsr.groupby("stim_index", sort=True):
        state.push(sweep)
    want = lsr_trend(lsr)
    assert want.iloc[-1]["baseline_p2p_uv"] == 0.0
    # last 20: stimuli 10-19 and 27-29 at 0 uV (a column without a row), 20-26 at -5 - s
    assert want.iloc[-1]["final_p2p_uv"] == pytest.approx(-sum(range(25, 32)) / 20)
    pd.testing.assert_frame_equal(state.trend(), want, check_exact=True)


def test_median_and_frame_of_rows_equal_numpy_and_pandas() -> None:
    """The state's shortcuts: the latency median by sorting equals ``np.median`` (signed zeros
    and ties included), and the trend frame built column by column equals ``pd.DataFrame``
    of its rows (and falls back to it for other types)."""
    from hfs_emg.trend import _frame_of_rows, _median

    rng = np.random.default_rng(0)
    cases = [[-0.0], [-0.0, -0.0], [0.0, -0.0], [-0.0, 1.0], [1.0, -0.0, -0.0]]
    cases += [np.round(rng.normal(9, 2, int(rng.integers(1, 30))), 1).tolist() for _ in range(500)]
    for v in cases:
        want = float(np.median(np.array(v)))
        got = _median(list(v))
        assert got == want and np.signbit(got) == np.signbit(want)
    assert np.isnan(_median([]))
    lsr = _random_table(rng, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trend = lsr_trend(lsr, phases={"decompression": 30.0})

    def plain(v: Any) -> Any:
        if isinstance(v, np.floating):
            return float(v)
        if isinstance(v, np.integer):
            return int(v)
        return None if v is pd.NA else v

    rows = [{k: plain(v) for k, v in r.items()} for r in trend.to_dict("records")]
    assert any(r["disappearance_stim_index"] is not None for r in rows)
    for rs in (rows, [{**r, "channel": i} for i, r in enumerate(rows)], rows[:1]):
        want = pd.DataFrame(rs)
        want["disappearance_stim_index"] = want["disappearance_stim_index"].astype("Int64")
        pd.testing.assert_frame_equal(_frame_of_rows(rs), want, check_exact=True)
