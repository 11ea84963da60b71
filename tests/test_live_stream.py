"""Live input through real LSL streams on this machine: replay -> LslSource, nothing lost."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import hfs_emg as hfs
from hfs_emg.live import LslSource, ReplayStream, StreamChunk


def _collect(src: LslSource, n_expected: int, *, seconds: float = 60) -> list[StreamChunk]:
    """Pull until ``n_expected`` samples arrived (or the deadline), recording the status."""
    chunks, statuses, n = [], [], 0
    deadline = time.monotonic() + seconds
    while n < n_expected and time.monotonic() < deadline:
        chunks.append(src.pull(timeout=0.05))
        n += chunks[-1].data.shape[1]
        statuses.append(src.status)
    for _ in range(10):  # markers may trail the data; then nothing more may come
        chunks.append(src.pull(timeout=0.2))
    src.statuses = statuses  # type: ignore[attr-defined]
    return chunks


def test_replay_of_the_example_session_arrives_whole(example_dir) -> None:
    rec = hfs.read_recording(example_dir / "lsr_session.edf").crop(tmax=20.0)
    with (
        ReplayStream(rec, name=f"test-replay-whole-{os.getpid()}", speed=10.0),
        LslSource(f"test-replay-whole-{os.getpid()}", timeout=10) as src,
    ):
        chunks = _collect(src, rec.n_samples)
    data = np.hstack([c.data for c in chunks])
    stamps = np.concatenate([c.stamps for c in chunks])
    assert data.shape == rec.data.shape  # every sample, none twice
    np.testing.assert_allclose(data, rec.data.astype(np.float32), rtol=1e-6, atol=1e-3)
    # the recording's own timing, whatever the speed
    np.testing.assert_allclose(np.diff(stamps), 1 / rec.sfreq, atol=1e-6)
    markers = [m for c in chunks for m in c.markers]
    assert [lab for _, lab in markers] == list(rec.events["label"])
    rel = np.array([t for t, _ in markers]) - stamps[0]
    np.testing.assert_allclose(rel, rec.events["onset_s"] - rec.tstart, atol=1e-4)
    assert src.ch_names == rec.ch_names


def test_dropout_is_seen_and_its_gap_reported() -> None:
    fs = 1000.0
    rec = hfs.from_array(np.tile(np.arange(4000.0), (2, 1)), fs, ["Mentalis_L", "OrbOculi_L"])
    player = ReplayStream(rec, name=f"test-replay-drop-{os.getpid()}", speed=1.0)
    player.drop(1.0, 1.5)
    with player, LslSource(f"test-replay-drop-{os.getpid()}", timeout=10, lost_after_s=0.4) as src:
        chunks = _collect(src, 4000 - 1500)
    statuses = src.statuses  # type: ignore[attr-defined]
    assert "signal lost" in statuses
    assert statuses[-1] == "streaming" or statuses.index("signal lost") < len(statuses) - 1
    gaps = [g for c in chunks for g in c.gaps]
    assert len(gaps) == 1
    assert gaps[0][1] == pytest.approx(1.5, abs=2e-3)
    data = np.hstack([c.data for c in chunks])
    assert data.shape[1] == 4000 - 1500
    # the samples after the gap are the recording's samples 2500.. (values = index)
    np.testing.assert_array_equal(data[0, 1000:1005], [2500, 2501, 2502, 2503, 2504])
