"""The causal LSR stream (hfs_emg.lsr_online) and the fast artefact-tail fit behind it.

- sweep by sweep (the live path) and in blocks, the stream gives the rows of measure_lsr on the
  whole recording, under the hard operating-room conditions (capacitive tails, crosstalk,
  saturation, electrocautery, alternating montages), with template stages and sliding
  calibration windows inside the session;
- its state stays the same size however many sweeps it has seen;
- the vectorised two-exponential tail fit chooses the model and gives the curve that a plain
  per-row, per-model least-squares loop gives;
- the clipping flag and the running sums are causal and do not depend on how sweeps are fed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from hfs_emg import artifact
from hfs_emg.calibration import CausalGumbel, TrailingSums, causal_gumbel
from hfs_emg.epochs import RunningExtremes, make_epochs
from hfs_emg.events import find_stim_events
from hfs_emg.lsr import measure_lsr
from hfs_emg.lsr_online import LsrStream
from hfs_emg.simulate import simulate_lsr_session
from hfs_emg.simulate.operating_room import simulate_or_session

OPTS = {"calibration_n": 30, "template_n": 5}


@pytest.fixture(scope="module")
def hard():
    sim = simulate_or_session(
        n_stimuli=90,
        rate_hz=4.0,
        sfreq=5000.0,
        tail_uv=300.0,
        tail_tau_ms=(2.0, 8.0),
        crosstalk=0.05,
        saturation_probability=0.05,
        cautery_per_min=6.0,
        disappearance_index=60,
        seed=11,
    )
    rec = sim.recording
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        offline = measure_lsr(rec, **OPTS)
    return rec, offline


def _assert_rows_equal(online: pd.DataFrame, offline: pd.DataFrame) -> None:
    assert list(online.columns) == list(offline.columns)
    assert len(online) == len(offline)
    for col in offline.columns:
        a, b = offline[col].to_numpy(), online[col].to_numpy()
        if a.dtype.kind == "f":
            assert np.array_equal(np.isnan(a), np.isnan(b)), col
            np.testing.assert_allclose(b[~np.isnan(b)], a[~np.isnan(a)], rtol=0, atol=1e-9)
        else:
            assert (a == b).all(), col


def test_offline_table_exercises_every_stage(hard):
    _, off = hard
    lsr = off[off["kind"] == "lsr"]
    assert lsr["rejected"].any() and lsr["crosstalk"].any()
    assert set(off["reject_reason"]) >= {"", "clipped"}
    assert lsr["match_z"].notna().any() and lsr["match_z"].isna().any()  # stages before/after
    assert lsr["match_present"].any() and not lsr["match_present"].all()
    assert off["montage"].nunique() == 2  # alternating montages


def test_live_sweeps_equal_measure_lsr(hard):
    rec, off = hard
    ev = find_stim_events(rec)
    stream = LsrStream.for_recording(rec, **OPTS)
    emg = rec._pick_indices("emg")
    n0 = round(stream.tmin * rec.sfreq)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(ev)):
            s = round((ev["onset_s"].iloc[i] - rec.tstart) * rec.sfreq)
            samples = rec.data[emg, s + n0 : s + n0 + stream.times.size]
            rows.append(stream.push_window(samples, ev.iloc[i].to_dict()))
    online = pd.concat(rows, ignore_index=True)
    online["stim_index"] = np.repeat(np.arange(len(ev)), len(emg))  # events carry none
    _assert_rows_equal(online, off)


def test_blocks_of_sweeps_equal_measure_lsr(hard):
    rec, off = hard
    ev = find_stim_events(rec)
    stream = LsrStream.for_recording(rec, **OPTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [stream.push_recording(rec, ev.iloc[i : i + 7]) for i in range(0, len(ev), 7)]
    _assert_rows_equal(pd.concat(parts, ignore_index=True), off)


def test_state_is_bounded():
    rec = simulate_lsr_session(n_stimuli=160, rate_hz=8.0, sfreq=5000.0, seed=2).recording
    ev = find_stim_events(rec)
    stream = LsrStream.for_recording(rec, calibration_n=20, template_n=4)
    sizes = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(0, len(ev), 20):
            stream.push_recording(rec, ev.iloc[i : i + 20])
            sizes[i + 20] = stream.nbytes
    assert stream.n_sweeps == 160
    # once the templates are complete and the windows full, the state stops growing
    assert sizes[60] == sizes[100] == sizes[160]
    assert sizes[160] < 100_000  # mostly the 4 template sweeps of the 3 LSR channels


def _reference_tail(y, tt, keep, w, full_ext):
    """Per row and per model least squares (numpy lstsq), model chosen by the BIC."""
    g = artifact.TAIL_TAU_GRID_MS.size
    basis = np.exp(-tt[:, None] / (artifact.TAIL_TAU_GRID_MS[None, :] * 1e-3))[keep]
    yk = y[:, keep]

    def smooth(a):
        k = np.ones(w) / w
        return np.stack([np.convolve(col, k, mode="valid") for col in a.T], axis=1)

    if w > 1:
        basis, yk = smooth(basis), smooth(yk.T).T
    n_f = basis.shape[0]
    models = [(i, j) for i in range(g) for j in range(i, g)]
    bic = np.zeros((y.shape[0], len(models)))
    curves = np.zeros((y.shape[0], len(models), full_ext.shape[1]))
    for p, (i, j) in enumerate(models):
        cols = [i] if i == j else [i, j]
        a = np.column_stack([basis[:, cols], np.ones(n_f)])
        for r in range(y.shape[0]):
            coef, *_ = np.linalg.lstsq(a, yk[r], rcond=None)
            sse = float(np.sum((yk[r] - a @ coef) ** 2))
            n_par = 3.0 if i == j else 5.0
            bic[r, p] = n_f * np.log(max(sse, 1e-12) / n_f) + n_par * np.log(n_f)
            curves[r, p] = coef[:-1] @ full_ext[cols] + coef[-1] * full_ext[-1]
    return bic, curves, models


@pytest.mark.parametrize("smooth", [True, False])
def test_tail_fit_matches_plain_least_squares(smooth):
    fs, b, n_fit = 5000.0, 5, 225
    tt = (np.arange(n_fit) + b) / fs
    kk = np.arange(2 * n_fit)
    full = np.exp(-((kk + b) / fs)[:, None] / (artifact.TAIL_TAU_GRID_MS[None, :] * 1e-3))
    taper = np.clip(1.0 - (kk - n_fit) / 50.0, 0.0, 1.0)
    full_ext = np.vstack([full.T, taper[None, :]])
    rng = np.random.default_rng(4)
    n = 24
    tau1, tau2 = rng.uniform(1.0, 4.0, n) * 1e-3, rng.uniform(5.0, 25.0, n) * 1e-3
    amp1, amp2 = rng.uniform(-400, 400, n), rng.uniform(-150, 150, n)
    y = (
        amp1[:, None] * np.exp(-tt / tau1[:, None])
        + amp2[:, None] * np.exp(-tt / tau2[:, None])
        + rng.normal(0, 3.0, (n, n_fit))
    )
    y[: n // 3] = rng.normal(0, 3.0, (n // 3, n_fit)) + 20.0  # no tail, an offset only
    keep = np.ones(n_fit, bool)
    if not smooth:
        keep[(tt >= 0.0055) & (tt < 0.022)] = False  # the pass-2 bridge over a response
    w = 20 if smooth else 1
    fast = artifact._tail_fit(y, tt, keep, w, full_ext)
    bic, curves, models = _reference_tail(y, tt, keep, w, full_ext)
    scale = np.abs(y).max(axis=1)
    for r in range(n):
        # the fast fit's curve is one of the reference's models, and an optimal one
        err = np.abs(curves[r] - fast[r]).max(axis=1)
        p = int(np.argmin(err))
        assert err[p] <= 1e-6 * scale[r], (r, err[p])
        assert bic[r, p] <= bic[r].min() + 1e-6, (r, models[p])


def test_clipping_is_causal():
    sim = simulate_or_session(
        n_stimuli=40, rate_hz=4.0, sfreq=5000.0, saturation_probability=0.2, seed=3
    )
    rec = sim.recording
    ev = rec.events
    whole = make_epochs(rec, ev, tmin=-0.05, tmax=0.05)
    assert whole.bad.any() and not whole.bad.all()
    # cut on a recording that ends after sweep 15: the same flags for sweeps 0-15
    cut = rec.crop(0.0, float(ev["onset_s"].iloc[15]) + 0.06)
    part = make_epochs(cut, ev.iloc[:16], tmin=-0.05, tmax=0.05)
    np.testing.assert_array_equal(part.bad, whole.bad[:16])
    # one sweep at a time with the extremes carried over: the same flags as one call
    ext = RunningExtremes()
    one = [make_epochs(rec, ev.iloc[i : i + 1], tmin=-0.05, tmax=0.05, extremes=ext).bad[0]
           for i in range(len(ev))]  # fmt: skip
    np.testing.assert_array_equal(np.array(one), whole.bad)
    # a saturated sweep (simulator truth, contaminated and clipped) is flagged on some channel
    sat = sim.stimuli["contaminated"].to_numpy(bool)
    assert whole.bad[sat].any(axis=1).mean() >= 0.5


def test_trailing_sums_are_bitwise_independent_of_blocks():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (300, 3)) * 10.0 ** rng.integers(-6, 6, (300, 1))
    ok = rng.random((300, 3)) > 0.2
    whole = causal_gumbel(x, ok, window=40)
    acc = CausalGumbel(3, window=40)
    parts = [acc.push(x[i : i + k], ok[i : i + k]) for i, k in ((0, 1), (1, 17), (18, 282))]
    for a, b in zip(whole, (np.vstack(p) for p in zip(*parts, strict=True)), strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    ts = TrailingSums(5, 1)
    got = np.vstack([ts.push(np.array([[v]])) for v in range(10)])[:, 0]
    assert got.tolist() == [sum(range(max(0, i - 4), i + 1)) for i in range(10)]


def test_push_cut_in_place_gives_the_rows_of_push_bitwise(hard):
    """push_cut (artefact suppressed in the epochs' own array, the crosstalk sweeps cut again
    from the recording) gives exactly the rows of push on epochs that stay untouched."""
    rec, off = hard
    assert off["crosstalk"].any()  # the re-cut path runs
    a = LsrStream.for_recording(rec, **OPTS)
    b = LsrStream.for_recording(rec, **OPTS)
    events = find_stim_events(rec)  # the stimuli measure_lsr finds itself
    ep_a, ep_b = a.cut(rec, events), b.cut(rec, events)
    raw = ep_b.data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows_push = a.push(ep_a)
        rows_cut = b.push_cut(rec, ep_b)
    assert not np.array_equal(ep_b.data, raw)  # suppressed in place: no second array
    pd.testing.assert_frame_equal(rows_cut, rows_push, check_exact=True)
    pd.testing.assert_frame_equal(rows_cut, off, check_exact=True)  # measure_lsr's own rows


def test_suppress_artifact_overwrite_same_values_in_place():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 400))
    x[:, 200:205] += 500.0
    for method in ("interpolate", "tail"):
        y = artifact.suppress_artifact(x, 5000.0, [200], method=method)
        z = x.copy()
        w = artifact.suppress_artifact(z, 5000.0, [200], method=method, overwrite=True)
        assert np.shares_memory(w, z) and np.array_equal(w, y)
        assert not np.array_equal(y, x)  # x untouched by the default (copy)


@pytest.mark.parametrize("window", [1, 3, 40])
def test_trailing_sums_ring_equals_the_whole_cumulative_sum(window):
    """The ring of cumulative rows: single rows and blocks of any size, across many wraps of
    the ring, give bitwise the differences of one cumulative sum of every row (np.cumsum adds
    row after row, as the single-row path does)."""
    rng = np.random.default_rng(window)
    x = rng.normal(0, 1, (700, 4)) * 10.0 ** rng.integers(-6, 6, (700, 1))
    cs = np.cumsum(np.vstack([np.zeros((1, 4)), x]), axis=0)
    hi = np.arange(1, 701)
    want = cs[hi] - cs[np.maximum(hi - window, 0)]
    ts = TrailingSums(window, 4)
    got, i = [], 0
    while i < 700:
        k = int(rng.choice([1, 1, 1, 2, window, window + 1, 57]))
        got.append(ts.push(x[i : i + k]))
        i += k
    assert np.array_equal(np.vstack(got), want)
    assert ts.nbytes == window * 4 * 8  # constant
