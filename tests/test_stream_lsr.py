"""The streamed LSR session: trigger scanned by runs, epochs cut block by block, bounded reads.

A long LSR file is analysed without holding it: the trigger channel as runs of equal samples
(:class:`hfs_emg.events.TriggerRuns`), the EMG channels one chunk at a time, the sweeps measured
a group at a time by the causal LSR stream. These tests check that every table equals the
in-memory analysis (decisions, counts and categories exactly, floats to 1e-9) and that no read
spans all stimuli.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hfs_emg
from hfs_emg.epochs import RunningExtremes, concat_epochs
from hfs_emg.events import TriggerRuns, find_stim_events
from hfs_emg.io._base import BaseReader, rising_edges
from hfs_emg.io.edf import EdfReader
from hfs_emg.morphology import isolated_stimuli, morphology_block_epochs
from hfs_emg.pipeline import streaming
from hfs_emg.pipeline.config import AnalysisConfig
from hfs_emg.responses import stimulus_epochs
from hfs_emg.simulate import simulate_lsr_session

SMALL = {"max_memory_mb": 0.05, "chunk_s": 7.0, "stream_margin_s": 2.0}


def _session(**kw):
    opts = {"n_stimuli": 80, "rate_hz": 2.0, "sfreq": 5000.0, "disappearance_index": 40}
    rec = simulate_lsr_session(**{**opts, **kw}).recording
    # EDF labels hold 16 characters; the marker names the branch, as clinical systems write it
    rec = rec.rename_channels({n: n.replace("orbicularis_", "o_") for n in rec.ch_names})
    ev = rec.events.copy()
    ev.loc[ev["label"].astype(str).str.startswith("stim"), "label"] = "stim zygomatic"
    return rec.with_events(ev)


@pytest.fixture(scope="module")
def lsr_file(tmp_path_factory):
    # clipped sweeps, at +-1000 uV in the first half and +-500 uV in the second (a gain
    # change): the causal clipping reference (extremes so far) must be carried from block to
    # block, or the second half's flat runs would be flagged against their own extremes
    rec = _session(clip_uv=1000.0, seed=2)
    data = np.array(rec.data)
    emg = [i for i, t in enumerate(rec.ch_types) if t == "emg"]
    data[np.ix_(emg, np.arange(rec.n_samples // 2, rec.n_samples))] *= 0.5
    rec = dataclasses.replace(rec, data=data)
    path = tmp_path_factory.mktemp("stream_lsr") / "lsr.bdf"
    hfs_emg.write_recording(rec, path)
    return path


def _assert_same(whole: pd.DataFrame, parts: pd.DataFrame, name: str) -> None:
    pd.testing.assert_frame_equal(whole, parts, rtol=1e-9, obj=name)
    for col in whole.columns:  # every decision, count and category exactly
        if whole[col].dtype.kind != "f":
            assert whole[col].equals(parts[col]), (name, col)


def test_streamed_lsr_session_equals_in_memory(lsr_file, monkeypatch):
    monkeypatch.setattr(streaming, "_SWEEPS_PER_PUSH", 16)  # several pushes of the stream
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = hfs_emg.analyze(lsr_file)
        parts = hfs_emg.analyze(lsr_file, AnalysisConfig(**SMALL))
    assert not whole.provenance["streamed"] and parts.provenance["streamed"]
    assert whole.protocol == parts.protocol == "lsr"
    assert set(whole.tables()) == set(parts.tables())
    for name, table in whole.tables().items():
        _assert_same(table, parts.tables()[name], name)
    assert len(whole.lsr) == 80 * 4
    assert (whole.lsr["reject_reason"] == "clipped").any()
    assert whole.lsr_morphology["measured"].any()


def test_streamed_lsr_reads_chunks_not_the_window_of_all_stimuli(lsr_file, monkeypatch):
    spans: list[float] = []
    read = BaseReader.read

    def spy(self, *, tmin=None, tmax=None, **kw):
        a = self.tstart if tmin is None else tmin
        b = self.tstart + self.duration_s if tmax is None else tmax
        types = [self.ch_types[self.ch_names.index(n)] for n in kw.get("picks") or self.ch_names]
        if set(types) != {"stim"}:  # the trigger channel is scanned in long chunks of its own
            spans.append(b - a)
        return read(self, tmin=tmin, tmax=tmax, **kw)

    monkeypatch.setattr(BaseReader, "read", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = hfs_emg.analyze(lsr_file, AnalysisConfig(**SMALL))
    assert res.protocol == "lsr" and len(res.lsr) == 80 * 4
    duration = 80 / 2.0
    # chunks of 7 s with their filter margins (and 4-chunk detection windows from the spill,
    # not from the file): never the 40 s of the whole session
    assert max(spans) <= SMALL["chunk_s"] + 2.0 < duration


def test_streamed_lsr_with_close_stimuli_falls_back_to_one_window(tmp_path):
    # 25 Hz: the morphology's interpolation windows reach the neighbouring epochs, so the
    # whole recording is blanked in memory; the streamed path reads the window of all stimuli
    rec = _session(n_stimuli=60, rate_hz=25.0, disappearance_index=30, seed=5)
    on = find_stim_events(rec)["onset_s"].to_numpy()
    assert not isolated_stimuli(
        on, rec.sfreq, rec.tstart, artifact_window_s=(-0.0005, 0.003), tmin=-0.03, tmax=0.06
    )
    path = tmp_path / "fast.bdf"
    hfs_emg.write_recording(rec, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = hfs_emg.analyze(path)
        parts = hfs_emg.analyze(path, AnalysisConfig(**SMALL))
    assert parts.provenance["streamed"] and parts.protocol == "lsr"
    for name, table in whole.tables().items():
        _assert_same(table, parts.tables()[name], name)


@pytest.mark.parametrize("clip", [None, 1000.0])
def test_morphology_blocks_are_the_epochs_of_the_whole_recording(clip):
    rec = _session(n_stimuli=30, clip_uv=clip, seed=7)
    if clip is not None:  # a gain change: the last block clips at half the level
        data = np.array(rec.data)
        emg = [i for i, t in enumerate(rec.ch_types) if t == "emg"]
        data[np.ix_(emg, np.arange(round(10.2 * rec.sfreq), rec.n_samples))] *= 0.5
        rec = dataclasses.replace(rec, data=data)
    ev = find_stim_events(rec)
    kw = {"artifact_method": "interpolate", "artifact_window_s": (-0.0005, 0.003)}
    kw |= {"tmin": -0.03, "tmax": 0.06}
    whole = stimulus_epochs(rec, events=ev, source="auto", label=None, **kw)
    ext = RunningExtremes()
    on = ev["onset_s"].to_numpy()
    blocks = []
    for lo, hi in ((0, 10), (10, 20), (20, 30)):  # each block from a window around its stimuli
        window = rec.crop(tmin=on[lo] - 0.2, tmax=on[hi - 1] + 0.2)
        blocks.append(morphology_block_epochs(window, ev.iloc[lo:hi], extremes=ext, **kw))
    both = concat_epochs(blocks)
    assert np.array_equal(both.data, whole.data)
    assert np.array_equal(both.bad, whole.bad)
    assert both.events["epoch"].tolist() == list(range(30))
    if clip is not None:  # the carried reference matters: the last block's own differs
        assert whole.bad.any()
        window = rec.crop(tmin=on[20] - 0.2, tmax=on[29] + 0.2)
        own = morphology_block_epochs(window, ev.iloc[20:30], extremes=RunningExtremes(), **kw)
        assert not np.array_equal(own.bad, whole.bad[20:30])
    plain = {**kw, "artifact_method": None}
    ext = RunningExtremes()
    parts = [
        morphology_block_epochs(rec, ev.iloc[i : i + 10], extremes=ext, **plain)
        for i in (0, 10, 20)
    ]
    none = stimulus_epochs(rec, events=ev, source="auto", label=None, **plain)
    assert np.array_equal(concat_epochs(parts).data, none.data)
    assert np.array_equal(concat_epochs(parts).bad, none.bad)
    with pytest.raises(hfs_emg.ParameterError, match="block by block"):
        morphology_block_epochs(rec, ev, extremes=ext, **{**kw, "artifact_method": "tail"})


# ----------------------------------------------------------------------------- TriggerRuns
def _split(x, cuts):
    bounds = sorted({0, x.size, *[c % (x.size + 1) for c in cuts]})
    return [x[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=60, deadline=None)
@given(
    levels=st.lists(
        st.sampled_from([0.0, 0.0, 0.0, 1.5, 5.0, -2.0, 3.25]), min_size=1, max_size=30
    ),
    widths=st.lists(st.integers(1, 40), min_size=30, max_size=30),
    cuts=st.lists(st.integers(0, 2000), max_size=6),
    frac=st.floats(0.0, 1.0),
)
def test_trigger_runs_equal_the_whole_channel(levels, widths, cuts, frac):
    x = np.repeat(np.asarray(levels, np.float32), widths[: len(levels)])
    runs = TriggerRuns()
    for part in _split(x, cuts):
        runs.add(part)
    assert runs.n_samples == x.size
    assert runs.median() == float(np.median(x))
    assert runs.max() == float(np.max(x))
    lo, hi = float(np.median(x)), float(np.max(x))
    thr = lo + frac * (hi - lo)
    above = x >= thr
    edges = np.flatnonzero(~above[:-1] & above[1:]) + 1
    if above[0]:
        edges = np.r_[0, edges]
    assert runs.edges(thr).tolist() == edges.tolist()


def test_trigger_runs_keep_a_noisy_channel_whole():
    x = np.random.default_rng(0).normal(size=200_001).astype(np.float32)
    runs = TriggerRuns()
    for part in np.array_split(x, 9):
        runs.add(part)
    assert runs._whole is not None  # not piecewise constant: the samples are kept
    assert runs.median() == float(np.median(x)) and runs.max() == float(np.max(x))
    above = x >= 1.0
    assert runs.edges(1.0).tolist() == (np.flatnonzero(~above[:-1] & above[1:]) + 1).tolist()
    with pytest.raises(ValueError, match="1-D"):
        runs.add(np.zeros((2, 2)))


def test_find_stim_events_from_trigger_runs_equals_the_samples():
    rec = _session(n_stimuli=12, seed=1)
    trig = [n for n, t in zip(rec.ch_names, rec.ch_types, strict=True) if t == "stim"]
    runs = {n: TriggerRuns() for n in trig}
    for part in np.array_split(np.arange(rec.n_samples), 5):
        for n in trig:
            runs[n].add(rec.data[rec.ch_names.index(n), part])
    probe = rec.crop(tmax=rec.tstart)  # names, types, rate and events only
    probe = probe.with_events(rec.events)
    pd.testing.assert_frame_equal(
        find_stim_events(probe, trigger_runs=runs), find_stim_events(rec), check_exact=True
    )
    with pytest.raises(hfs_emg.HfsEmgError, match="No stimulus"):
        flat = {n: TriggerRuns() for n in trig}
        for n in trig:
            flat[n].add(np.zeros(100, np.float32))
        find_stim_events(probe.with_events(probe.events.iloc[:0]), trigger_runs=flat)


def test_edf_trigger_events_read_in_blocks_equal_the_whole_channel(lsr_file, monkeypatch):
    with hfs_emg.open_recording(lsr_file) as reader:
        whole = reader.read(dtype=np.float64)
        trig = [n for n, t in zip(whole.ch_names, whole.ch_types, strict=True) if t == "stim"]
        expected = rising_edges(
            np.asarray(whole.data[whole.ch_names.index(trig[0])], dtype=np.float64),
            whole.sfreq,
            whole.tstart,
            trig[0],
        )
    monkeypatch.setattr(EdfReader, "_EDGE_BLOCK", 997)  # many blocks, edges on their seams
    with hfs_emg.open_recording(lsr_file) as reader:
        ev = reader.read_events()
    got = ev[ev["label"].str.startswith(trig[0] + "/")].reset_index(drop=True)
    assert len(got) == 80
    pd.testing.assert_frame_equal(
        got[["onset_s", "label", "value"]],
        expected[["onset_s", "label", "value"]].reset_index(drop=True),
        check_exact=True,
        check_dtype=False,  # the file's events hold annotations too (value NaN): float
    )
