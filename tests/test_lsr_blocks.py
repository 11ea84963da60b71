"""Bounded memory of the LSR path: the blocked pushes and the pruned tail criterion.

:func:`hfs_emg.measure_lsr` from a recording cuts and measures its sweeps in blocks of
``lsr._PUSH_BYTES`` of epochs (one causal stream); the rows must be those of one push of all
sweeps, bit for bit, at every block boundary. The compiled tail kernel evaluates the Schwarz
criterion only near each penalty class's smallest residual; it must pick the model that
evaluating every model picks (the pure-Python kernel with no pruning is the reference).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from hfs_emg import _fastresp, lsr
from hfs_emg._errors import HfsEmgWarning
from hfs_emg.artifact import TAIL_TAU_GRID_MS, _tail_design
from hfs_emg.events import find_stim_events
from hfs_emg.recording import Recording
from hfs_emg.simulate import simulate_lsr_session

N_STIM = 12
SFREQ = 5000.0


def _bytes_for(step: int, rec: Recording) -> int:
    """``_PUSH_BYTES`` that makes blocks of ``step`` sweeps of the default epochs."""
    n_t = round(0.05 * SFREQ) * 2 + 1
    n_c = len(rec._pick_indices("emg"))
    return step * 8 * n_c * n_t


@pytest.fixture(scope="module")
def session() -> tuple[Recording, pd.DataFrame]:
    rec = simulate_lsr_session(
        n_stimuli=N_STIM, rate_hz=5.0, sfreq=SFREQ, disappearance_index=6, seed=4
    ).recording
    ev = find_stim_events(rec)
    # stimuli near the recording's ends: the first's epoch starts before sample 0, the
    # last's ends after the last sample (both dropped), one just inside the end
    t_end = rec.tstart + (rec.n_samples - 1) / rec.sfreq
    extra = pd.DataFrame(
        {"onset_s": [rec.tstart + 0.01, t_end - 0.051, t_end - 0.01]},
    )
    ev = pd.concat([extra.iloc[:1], ev, extra.iloc[1:]], ignore_index=True)
    ev["stim_branch"] = (
        ev["stim_branch"].fillna("zygomatic") if "stim_branch" in ev else "zygomatic"
    )
    data = rec.data.copy()
    data[1, int(0.5 * SFREQ) + 40] = np.nan  # a NaN inside one sweep: the policy as before
    return rec.with_data(data, step="nan", params={}), ev


def _one_push(rec: Recording, ev: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    monkeypatch.setattr(lsr, "_PUSH_BYTES", 1 << 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = lsr.measure_lsr(rec, events=ev)
    monkeypatch.undo()
    return out


@pytest.mark.parametrize("step", [1, 2, 5, N_STIM - 1, N_STIM, N_STIM + 1, N_STIM + 3])
def test_blocks_equal_one_push(session, monkeypatch, step):
    rec, ev = session
    ref = _one_push(rec, ev, monkeypatch)
    assert len(ref) == (len(ev) - 2) * 4  # the two stimuli outside the recording dropped
    assert ref["p2p_uv"].isna().any() or ref["noise_uv"].isna().any()  # the NaN sweep
    monkeypatch.setattr(lsr, "_PUSH_BYTES", _bytes_for(step, rec))
    calls = []
    push_cut = lsr.LsrStream.push_cut

    def counted(self, *a, **k):
        calls.append(1)
        return push_cut(self, *a, **k)

    monkeypatch.setattr(lsr.LsrStream, "push_cut", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = lsr.measure_lsr(rec, events=ev)
    assert len(calls) == -(-len(ev) // step)  # the blocks were pushed one by one
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_unknown_branch_is_one_push_with_one_warning(session, monkeypatch):
    rec, ev = session
    ev = ev.drop(columns=["stim_branch", "label"], errors="ignore")
    if rec.meta.get("stim_branch") is not None:  # a copy without the session's branch
        rec = dataclasses.replace(rec, meta={**rec.meta, "stim_branch": None})
    monkeypatch.setattr(lsr, "_PUSH_BYTES", _bytes_for(2, rec))
    with warnings.catch_warnings(record=True) as rec_w:
        warnings.simplefilter("always")
        lsr.measure_lsr(rec, events=ev)
    unknown = [
        w for w in rec_w if issubclass(w.category, HfsEmgWarning) and "unknown" in str(w.message)
    ]
    assert len(unknown) == 1
    assert f"of {len(ev) - 2} stimuli" in str(unknown[0].message)  # every sweep counted


def _rows(fs: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_fit = round(0.045 * fs)
    tt = (np.arange(n_fit) + round(0.001 * fs)) / fs
    taus = TAIL_TAU_GRID_MS * 1e-3
    y = rng.normal(0.0, 3.0, (n, n_fit))
    y[: n // 4] += 400 * np.exp(-tt / taus[4]) - 100 * np.exp(-tt / taus[9])
    y[n // 4 : n // 2] = 250 * np.exp(-tt / taus[6]) + 2.0  # one exponential, exactly: ties
    y[n // 2] = 0.0  # every residual 0 (clamped): ties everywhere, the first model
    y[n // 2 + 1, 7] = np.nan  # NaN: every criterion NaN, model 0 as before
    y[n // 2 + 2] *= 1e-9  # residuals near the 1e-12 clamp
    return y, tt


@pytest.mark.skipif(not _fastresp.AVAILABLE, reason="numba not installed")
@pytest.mark.parametrize(("w", "keep_gap"), [(20, False), (1, True)])
def test_pruned_criterion_picks_the_model_of_all(monkeypatch, w, keep_gap):
    y, tt = _rows(5000.0, 24, seed=2)
    keep = np.ones(tt.size, bool)
    if keep_gap:
        keep[(tt >= 0.0055) & (tt < 0.022)] = False
    bk, ginv, sel, pen = _tail_design(tt, keep, w, 1.0)[:4]
    m, c = _fastresp.tail_coefs(y, keep, w, (bk, ginv, sel, pen))
    # reference: the same kernel in Python, every model's criterion evaluated
    monkeypatch.setattr(_fastresp, "_SSE_NEAR", np.inf)
    monkeypatch.setattr(_fastresp, "prefetch_span", lambda *a: None)
    ref_m = np.zeros_like(m)
    ref_c = np.zeros_like(c)
    cls = np.unique(pen, return_inverse=True)[1].astype(np.int64).reshape(-1)
    _fastresp._tail_coef_rows(
        y, np.flatnonzero(keep).astype(np.int64), w, bk, ginv, sel.astype(np.int64), pen, cls,
        ref_m, ref_c,
    )  # fmt: skip
    np.testing.assert_array_equal(m, ref_m)
    np.testing.assert_array_equal(c, ref_c)
    assert (m[24 // 2] == 0).all()  # the all-tie row: the first model


def test_onsets_as_an_array(session, monkeypatch):
    rec, ev = session
    on = ev["onset_s"].to_numpy(float)
    ref = _one_push(rec, pd.DataFrame({"onset_s": on}), monkeypatch)
    monkeypatch.setattr(lsr, "_PUSH_BYTES", _bytes_for(2, rec))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = lsr.measure_lsr(rec, events=on)  # onsets alone: one push, as before
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
