"""Trustworthy LSR verdicts, the remaining gaps of issue 11: pooled crosstalk gain, trend
units per (stimulated branch, recording muscle), rejected sweeps neutral, dating of the loss,
latency of present trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hfs_emg import ParameterError
from hfs_emg.crosstalk import CrosstalkPool, crosstalk_gain
from hfs_emg.lsr import measure_lsr
from hfs_emg.simulate import or_condition, score_or_session, simulate_or_session
from hfs_emg.simulate.evoked import LSR_P2P_UV
from hfs_emg.trend import lsr_trend

MUSCLES4 = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis")


def _xt_sweeps(n: int, gain: float, noise: float, seed: int = 0):
    """Sweeps with a 2 mV reference M-wave and ``gain`` of it plus noise on channel 1."""
    rng = np.random.default_rng(seed)
    t = np.arange(-200, 400) / 10000.0
    m = np.where(t > 0.0035, np.sin(2 * np.pi * 200 * (t - 0.0035)) * np.exp(-t / 0.003), 0.0)
    m *= 2000.0 / np.ptp(m)
    x = np.zeros((n, 2, t.size))
    x[:, 0] = m * rng.uniform(0.9, 1.1, (n, 1))
    x[:, 1] = gain * x[:, 0] + rng.normal(0, noise, (n, t.size))
    direct = np.tile([True, False], (n, 1))
    return x, t, direct, np.full((n, 2), noise)


def test_crosstalk_gain_is_pooled_causally_over_sweeps():
    x, t, direct, sd = _xt_sweeps(200, 0.0167, 20.0)
    one = crosstalk_gain(x, t, direct, sd, pool_n=1)
    pooled = crosstalk_gain(x, t, direct, sd)
    np.testing.assert_array_equal(one["gain"], one["gain_sweep"])
    np.testing.assert_array_equal(pooled["gain_sweep"], one["gain_sweep"])
    g1, gp = one["gain"][30:, 1], pooled["gain"][30:, 1]
    # a single sweep's estimate scatters; the median of 30 is several times tighter
    assert np.std(gp) < 0.4 * np.std(g1)
    assert abs(np.median(gp) - 0.0167) < 0.003
    # significance grows with the pool: the pooled crosstalk is significant in every sweep
    assert (pooled["t"][30:, 1] > 2.0).all()
    assert (one["t"][30:, 1] > 2.0).mean() < (pooled["t"][30:, 1] > 2.0).mean()
    # causal: the first 50 sweeps alone give the same values for them
    part = crosstalk_gain(x[:50], t, direct[:50], sd[:50])
    np.testing.assert_array_equal(part["gain"], pooled["gain"][:50])
    np.testing.assert_array_equal(part["t"], pooled["t"][:50])
    # the reference channel itself carries no gain
    assert (pooled["gain"][:, 0] == 0).all() and (pooled["t"][:, 0] == 0).all()
    with pytest.raises(ParameterError, match="pool_n"):
        crosstalk_gain(x, t, direct, sd, pool_n=0)


def test_crosstalk_pool_streams_bitwise():
    """A live monitor passes one CrosstalkPool to successive blocks: the same gains."""
    x, t, direct, sd = _xt_sweeps(80, 0.03, 10.0, seed=4)
    direct[1::3] = [False, True]  # a second montage (channel 1 stimulated) every third sweep
    whole = crosstalk_gain(x, t, direct, sd)
    pool = CrosstalkPool(2)
    parts = [crosstalk_gain(x[a:b], t, direct[a:b], sd[a:b], pool=pool) for a, b in
             ((0, 1), (1, 7), (7, 40), (40, 41), (41, 80))]  # fmt: skip
    for key in ("gain", "t", "gain_sweep"):
        np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), whole[key])
    with pytest.raises(ParameterError, match="channels"):
        crosstalk_gain(np.zeros((2, 3, t.size)), t, np.zeros((2, 3), bool), np.ones((2, 3)),
                       pool=pool)  # fmt: skip


def test_crosstalk_pool_is_per_reference_channel():
    """Two montages alternate: each channel's gain is pooled within its own montage only."""
    xa, t, _, _ = _xt_sweeps(60, 0.05, 4.0, seed=1)
    xb, _, _, _ = _xt_sweeps(60, 0.01, 4.0, seed=2)
    x = np.zeros((120, 2, t.size))
    x[0::2] = xa  # channel 0 is the reference (its branch stimulated)
    x[1::2] = xb[:, ::-1]  # channel 1 is the reference, channel 0 sees 1 %
    direct = np.zeros((120, 2), bool)
    direct[0::2, 0] = True
    direct[1::2, 1] = True
    out = crosstalk_gain(x, t, direct, np.full((120, 2), 4.0))
    np.testing.assert_allclose(np.median(out["gain"][20::2, 1]), 0.05, atol=0.002)
    np.testing.assert_allclose(np.median(out["gain"][21::2, 0]), 0.01, atol=0.002)


# ---------------------------------------------------------------------- lsr_trend
def _table(pattern: str, channel: str = "mentalis_L", *, montage: str | None = None, t0=0.0):
    """One channel's LSR rows from a pattern: P present, . absent, R rejected (present=True)."""
    n = len(pattern)
    df = pd.DataFrame(
        {
            "stim_index": np.arange(n),
            "stim_time_s": t0 + np.arange(n, dtype=float),
            "channel": channel,
            "muscle": channel.rsplit("_", 1)[0],
            "kind": "lsr",
            # a rejected row's presence column is ignored, even when it says True
            "present": [c in "PR" for c in pattern],
            "match_present": [c in "PR" for c in pattern],
            "p2p_uv": [100.0 if c in "PR" else 0.0 for c in pattern],
            "latency_ms": 9.0,
            "rejected": [c == "R" for c in pattern],
        }
    )
    if montage is not None:
        df["montage"] = montage
    return df


def _row(trend: pd.DataFrame, channel: str = "mentalis_L") -> pd.Series:
    return trend.set_index("channel").loc[channel]


def test_rejected_sweeps_are_neutral_in_an_absence():
    base = "P" * 20
    # rejections inside the final absence neither interrupt nor extend it
    for tail in ("..R..R..R..", ".R.R.R.R.R.", "..RRRRRRRRRR..."):
        r = _row(lsr_trend(_table(base + tail), consecutive_absent=5))
        assert r["status"] == "disappeared", tail
        assert r["disappearance_stim_index"] == 20
        assert r["n_stimuli"] == 20 + tail.count(".")
    # four absents and a run of rejections are not a loss of five
    r = _row(lsr_trend(_table(base + "....RRRRRRRPPPPPPPPPP"), consecutive_absent=5))
    assert r["status"] == "persisted" and r["n_losses"] == 0
    # a rejection inside the absence does not hide a fifth absent stimulus either
    r = _row(lsr_trend(_table(base + "..RR...PPPPPPPPPPPPPPP"), consecutive_absent=5))
    assert r["n_losses"] == 1


def test_rejected_channel_is_not_an_absence_overall():
    """The LSR channel is rejected for 8 stimuli while the other channel (no LSR) is clean."""
    a = _table("P" * 20 + "R" * 8 + "P" * 20, "mentalis_L")
    b = _table("." * 48, "orbicularis_oris_L")
    trend = lsr_trend(
        pd.concat([a, b], ignore_index=True), consecutive_absent=5, transient_min_s=5.0
    )
    assert _row(trend, "mentalis_L")["status"] == "persisted"
    overall = _row(trend, "overall")
    assert overall["status"] == "persisted" and overall["n_losses"] == 0
    assert overall["n_stimuli"] == 40  # the 8 rejected stimuli are unknown, not absent


def test_loss_dated_at_first_absent_after_last_response():
    # an intermittent LSR: its last (isolated) response precedes the loss, which starts after it
    pat = "P" * 20 + "PP.P.PP.P" + "." * 20
    r = _row(lsr_trend(_table(pat), consecutive_absent=5))
    assert r["status"] == "disappeared"
    assert r["disappearance_stim_index"] == pat.rindex("P") + 1
    # an isolated false alarm inside an established loss neither ends nor re-dates it
    pat = "P" * 20 + "." * 8 + "P" + "." * 12
    r = _row(lsr_trend(_table(pat), consecutive_absent=5))
    assert r["status"] == "disappeared" and r["disappearance_stim_index"] == 20
    assert r["n_losses"] == 1 and r["n_reappearances"] == 0
    # two responses in a row after an established loss are a return of the LSR
    pat = "P" * 20 + "." * 8 + "PP" + "P" * 10
    r = _row(lsr_trend(_table(pat), consecutive_absent=5, transient_min_s=5.0))
    assert r["status"] == "transient_loss" and r["reappearance_time_s"] == 28.0


def test_each_pair_disappears_at_most_once_and_reappearance_is_reported():
    # zygomatic -> mentalis: lost, back after 30 s, lost again for good
    z = _table("P" * 20 + "." * 30 + "P" * 20 + "." * 10, "mentalis_L", montage="zygomatic")
    # marginal mandibular -> oculi: lost once; oris under the same montage: transient only
    m = _table("P" * 40 + "." * 40, "orbicularis_oculi_L", montage="marginal_mandibular")
    o = _table("P" * 20 + "." * 20 + "P" * 40, "orbicularis_oris_L", montage="marginal_mandibular")
    trend = lsr_trend(pd.concat([z, m, o], ignore_index=True), consecutive_absent=5)
    pairs = trend[trend["channel"] != "overall"].set_index(["montage", "muscle"])
    assert len(pairs) == 3 and pairs.index.is_unique
    zm = pairs.loc[("zygomatic", "mentalis")]
    assert zm["status"] == "disappeared" and zm["disappearance_stim_index"] == 70
    assert zm["n_losses"] == 2 and zm["n_reappearances"] == 1
    oc = pairs.loc[("marginal_mandibular", "orbicularis_oculi")]
    assert oc["status"] == "disappeared" and oc["n_losses"] == 1
    orr = pairs.loc[("marginal_mandibular", "orbicularis_oris")]
    assert orr["status"] == "transient_loss" and orr["n_reappearances"] == 1
    assert orr["reappearance_time_s"] == 40.0
    # every loss either ends in a reappearance or is the single disappearance of its pair
    gone = (pairs["status"] == "disappeared").astype(int)
    assert (pairs["n_losses"] == pairs["n_reappearances"] + gone).all()
    # until_end=False: the first loss is the disappearance, and its return is reported
    first = lsr_trend(z, consecutive_absent=5, until_end=False)
    r = _row(first)
    assert r["disappearance_stim_index"] == 20 and r["reappearance_time_s"] == 50.0


def test_alternating_montages_one_row_per_branch_muscle_pair():
    sim = simulate_or_session(
        n_stimuli=200, rate_hz=2.0, sfreq=5000.0, seed=3, disappearance_index=120
    )
    lsr = measure_lsr(sim.recording)
    trend = lsr_trend(lsr)
    pairs = trend[trend["channel"] != "overall"]
    assert not pairs.duplicated(["montage", "muscle"]).any()
    truth = sim.trend.set_index(["montage", "channel"])
    # exactly the pairs in which the channel plays the LSR role; never a direct channel
    assert set(zip(pairs["montage"], pairs["channel"], strict=True)) == set(truth.index)
    assert (pairs["status"] == "disappeared").sum() <= len(truth)
    gone = (pairs["status"] == "disappeared").astype(int)
    assert (pairs["n_losses"] >= gone).all()
    assert (pairs["n_losses"] - pairs["n_reappearances"] <= 1).all()
    # dated at the truth within 3 stimuli of the pair's own montage
    m = pairs.merge(sim.trend, on=["montage", "channel"], suffixes=("", "_t"))
    own = sim.stimuli.groupby("stim_branch")["stim_index"].apply(np.sort)
    for r in m.itertuples():
        k = own[r.montage]
        err = np.searchsorted(k, r.disappearance_stim_index) - np.searchsorted(
            k, r.disappearance_stim_index_t
        )
        assert abs(err) <= 3, (r.montage, r.channel, err)


# ---------------------------------------------------------------------- measure_lsr on OR signals
def _or_session(condition: str, sfreq: float, seed: int, *, lsr: bool):
    kw = or_condition(condition)
    if lsr:
        kw["lsr_p2p_uv"] = {m: LSR_P2P_UV[m] for m in MUSCLES4}
        kw["disappearance_index"] = 160
    else:
        kw["lsr_p2p_uv"] = 0.0
    return simulate_or_session(n_stimuli=240, rate_hz=2.0, sfreq=sfreq, seed=seed, **kw)


def test_pooled_crosstalk_keeps_false_lsr_below_one_percent():
    """Tuning seed 2 at 5 kHz: 1.7 % false LSR with per-sweep crosstalk gains (issue 11)."""
    sim = _or_session("combined", 5000.0, 2, lsr=False)
    lsr = measure_lsr(sim.recording)
    s = score_or_session(lsr, sim)
    assert s["false_lsr_rate"] <= 0.005
    m = sim.responses.merge(lsr, on=["stim_index", "channel"], suffixes=("_t", ""))
    # the 1.7 % crosstalk of the far neighbours is estimated, not left in or doubled
    far = m[(m["kind_t"] == "lsr") & m["crosstalk_p2p_uv"].between(25, 45) & ~m["rejected"]]
    assert abs(far["crosstalk_gain"].iloc[30:].median() - 1 / 60) < 0.003
    assert far["crosstalk_gain"].iloc[30:].std() < 0.005


def test_best_lag_is_sub_sample():
    from hfs_emg.lsr_online import _best_lag

    k = np.arange(21, dtype=float)
    true = np.array([10.3, 7.75, 12.5, 0.0])  # the last one on the edge: no interior peak
    proj = -((k[None, :] - true[:, None]) ** 2)
    lag = _best_lag(proj, n_lag=10)
    np.testing.assert_allclose(lag[:3], true[:3] - 10, atol=1e-9)
    assert np.isnan(lag[3])


def test_template_lag_latency_under_background_emg():
    """Coloured 10 uV background: the single-trial walk-back is 2-3 ms early in ~10 % of trials."""
    sim = _or_session("coloured_10uv", 10000.0, 501, lsr=True)
    lsr = measure_lsr(sim.recording)
    m = sim.responses.merge(lsr, on=["stim_index", "channel"], suffixes=("_t", ""))
    noise = m["channel"].map(sim.noise_uv)
    both = m["present"] & m["present_t"] & ~m["rejected"] & (m["p2p_uv_t"] >= 10 * noise)
    err = (m["latency_ms"] - m["latency_ms_t"])[both]
    assert err.abs().mean() <= 0.15
    assert err.abs().quantile(0.95) <= 0.3
    assert abs(err.mean()) <= 0.1


def test_pooled_crosstalk_and_template_latency_are_causal():
    """Combined conditions (crosstalk, tails, cautery): a recording cut after 60 sweeps gives
    the same rows for them, so a live monitor sees the same gains, decisions and latencies."""
    sim = _or_session("combined", 5000.0, 501, lsr=True)
    rec = sim.recording
    full = measure_lsr(rec)
    cut = measure_lsr(rec.crop(0.0, float(sim.stimuli["stim_time_s"].iloc[59]) + 0.2))
    cols = ["present", "match_present", "rejected", "latency_ms", "crosstalk_gain", "crosstalk"]
    a = full[full["stim_index"] < 60].reset_index(drop=True)[cols]
    b = cut[cut["stim_index"] < 60].reset_index(drop=True)[cols]
    pd.testing.assert_frame_equal(a, b)
    assert (a["crosstalk_gain"] > 0.04).any()  # the pooled gain was at work
