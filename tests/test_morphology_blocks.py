"""lsr_morphology of a recording cuts its sweeps a block of stimuli at a time (bounded
memory): the table equals the one of all sweeps cut at once, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hfs_emg
from hfs_emg import morphology
from hfs_emg.simulate import simulate_lsr_session


@pytest.fixture(scope="module")
def session():
    sim = simulate_lsr_session(n_stimuli=40, rate_hz=2.0, sfreq=5000.0, seed=3)
    rec = sim.recording
    return rec, hfs_emg.measure_lsr(rec)


def _whole(monkeypatch, rec, **kw):
    with monkeypatch.context() as m:
        m.setattr(morphology, "_BLOCK_BYTES", 2**40)  # one block: the cut of all sweeps
        return hfs_emg.lsr_morphology(rec, **kw)


def _per_block(rec, n):
    n_t = round(0.06 * rec.sfreq) - round(-0.03 * rec.sfreq) + 1
    return 8 * n_t * rec.n_channels * n


@pytest.mark.parametrize("n_per_block", [1, 3, 7, 39])
@pytest.mark.parametrize("with_lsr", [True, False])
@pytest.mark.parametrize("artifact_method", ["interpolate", None])
def test_blocks_equal_one_cut(session, monkeypatch, n_per_block, with_lsr, artifact_method):
    rec, lsr = session
    kw = {"artifact_method": artifact_method, **({"lsr": lsr} if with_lsr else {})}
    whole = _whole(monkeypatch, rec, **kw)
    calls = []
    real = morphology.morphology_block_epochs
    monkeypatch.setattr(morphology, "_BLOCK_BYTES", _per_block(rec, n_per_block))
    monkeypatch.setattr(
        morphology,
        "morphology_block_epochs",
        lambda *a, **k: calls.append(1) or real(*a, **k),
    )
    blocks = hfs_emg.lsr_morphology(rec, **kw)
    assert len(calls) == -(-40 // n_per_block)  # the blocked path ran
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
    assert blocks["measured"].any()


def test_stimuli_at_the_recording_ends_are_dropped_alike(session, monkeypatch):
    rec, lsr = session
    ev = hfs_emg.find_stim_events(rec)
    first = ev.iloc[[0]].assign(onset_s=rec.tstart + 0.005)  # epoch starts before the data
    last = ev.iloc[[-1]].assign(onset_s=rec.tstart + rec.n_samples / rec.sfreq - 0.01)
    ev2 = pd.concat([first, ev.iloc[1:-1], last], ignore_index=True)
    whole = _whole(monkeypatch, rec, events=ev2, lsr=lsr)
    monkeypatch.setattr(morphology, "_BLOCK_BYTES", _per_block(rec, 4))
    blocks = hfs_emg.lsr_morphology(rec, events=ev2, lsr=lsr)
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
    assert len(blocks) == (len(ev2) - 2) * blocks["channel"].nunique()


def test_cut_at_once_when_blocks_would_differ(session, monkeypatch):
    """Events without stim_index, out of order, or stimuli too close: one cut."""
    rec, _ = session
    ev = hfs_emg.find_stim_events(rec)
    monkeypatch.setattr(morphology, "_BLOCK_BYTES", _per_block(rec, 2))
    kw = {"artifact_method": "interpolate", "artifact_window_s": (-0.0005, 0.003)}
    kw |= {"tmin": -0.03, "tmax": 0.06}
    assert morphology._epoch_blocks(rec, ev, **kw) is not None
    assert morphology._epoch_blocks(rec, ev.drop(columns="stim_index"), **kw) is None
    assert morphology._epoch_blocks(rec, ev.iloc[::-1], **kw) is None
    close = ev.assign(onset_s=ev["onset_s"].iloc[0] + 0.04 * np.arange(len(ev)))
    assert morphology._epoch_blocks(rec, close, **kw) is None
    assert morphology._epoch_blocks(rec, ev, **{**kw, "artifact_method": "blank"}) is None
