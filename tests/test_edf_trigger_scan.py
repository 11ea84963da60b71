"""The EDF/BDF trigger scan reads only the trigger signal's bytes; the streamed LSR session.

:meth:`hfs_emg.io.edf.EdfReader._trigger_scan` reads each trigger channel record by record,
only that signal's bytes of each record (:meth:`~hfs_emg.io.edf.EdfReader._read_signal`), not
the whole records. These tests check that those samples are bitwise the ones of the
whole-record read (EDF and BDF, odd samples per record, a record duration other than 1 s, the
padded last record of a file written by hfs_emg, blocks that cut records), that the edges and
runs of the scan are those of the channel's row in a whole read, that the streamed protocol
decision takes the reader's runs instead of reading the trigger channel again, and that the
streamed LSR session's measuring thread hands back its errors and stops.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import pytest

import hfs_emg
from hfs_emg.events import TriggerRuns
from hfs_emg.io._base import ReadView, edge_samples
from hfs_emg.io.edf import EdfReader
from hfs_emg.lsr_online import LsrStream
from hfs_emg.pipeline import streaming
from hfs_emg.pipeline.config import AnalysisConfig
from hfs_emg.simulate import simulate_lsr_session


def _file(tmp_path, suffix: str, sfreq: float, n: int, *, seed: int = 0):
    rng = np.random.default_rng(seed)
    emg = rng.normal(scale=80.0, size=(3, n))
    trig = np.zeros(n)
    starts = np.sort(rng.choice(np.arange(1, n - 12), size=12, replace=False))
    for s, code in zip(starts, rng.integers(1, 6, size=starts.size), strict=True):
        trig[s : s + 5] = code  # pulses of 5 samples, some across a record's end
    trig[n - 3 :] = 7  # a pulse in the padded last record
    rec = hfs_emg.from_array(
        np.vstack([emg, trig]),
        sfreq,
        ["m1", "m2", "m3", "trigger"],
        units=["uV", "uV", "uV", None],
        ch_types=["emg", "emg", "emg", "stim"],
    )
    path = tmp_path / f"x{suffix}"
    hfs_emg.write_recording(rec, path)
    return path


CASES = [
    (".bdf", 997.0, 997 * 4 + 313),  # odd samples per record, padded last record
    (".edf", 997.0, 997 * 4 + 313),
    (".bdf", 250.5, 501 * 3 + 17),  # 501 samples in 2-s records
    (".edf", 1000.0, 4000),  # whole records
]


@pytest.mark.parametrize(("suffix", "sfreq", "n"), CASES)
def test_signal_bytes_read_alone_equal_the_whole_records(tmp_path, suffix, sfreq, n):
    path = _file(tmp_path, suffix, sfreq, n)
    with hfs_emg.open_recording(path) as reader:
        assert reader.n_samples == n
        spr = int(reader._spr[0])
        fd = os.open(reader.path, os.O_RDONLY)
        try:
            for k in range(len(reader.ch_names)):  # the EMG signals too: other byte offsets
                whole = reader._read_raw(0, n, np.array([k]))[0]
                width = spr * reader._bps
                buf = np.empty((-(-n // spr) + 1, width), dtype=np.uint8)
                spans = [(0, n), (1, n - 1), (spr - 1, spr + 1), (n - 3, n), (5, 6), (spr, 2 * spr)]
                for lo, hi in spans:
                    got = reader._read_signal(fd, k, lo, hi, buf)
                    assert got.dtype == np.float64
                    assert np.array_equal(got, whole[lo:hi]), (k, lo, hi)
        finally:
            os.close(fd)


@pytest.mark.parametrize(("suffix", "sfreq", "n"), CASES)
def test_trigger_scan_equals_the_channel_of_a_whole_read(tmp_path, monkeypatch, suffix, sfreq, n):
    path = _file(tmp_path, suffix, sfreq, n, seed=3)
    with hfs_emg.open_recording(path) as reader:
        k = reader.ch_names.index("trigger")
        row64 = reader._read_raw(0, n, np.array([k]))[0]
        row = reader.read(picks="trigger").data[0]  # the stored dtype of a whole read
    monkeypatch.setattr(EdfReader, "_EDGE_BLOCK", 389)  # blocks that cut records and pulses
    with hfs_emg.open_recording(path) as reader:
        idx, values, runs = reader._trigger_scan[k]
    expected = edge_samples(row64)
    assert np.array_equal(idx, expected)
    assert np.array_equal(values, row64[expected])
    assert runs is not None and runs.n_samples == n
    assert runs.median() == float(np.median(row)) and runs.max() == float(np.max(row))
    ref = TriggerRuns()
    ref.add(row)
    assert np.array_equal(runs.edges(3.5), ref.edges(3.5))


def test_streamed_decision_takes_the_readers_runs(tmp_path, monkeypatch):
    rec = simulate_lsr_session(n_stimuli=30, rate_hz=2.0, sfreq=2000.0, seed=1).recording
    rec = rec.rename_channels({n: n.replace("orbicularis_", "o_") for n in rec.ch_names})
    ev = rec.events.copy()
    ev.loc[ev["label"].astype(str).str.startswith("stim"), "label"] = "stim zygomatic"
    path = tmp_path / "lsr.bdf"
    hfs_emg.write_recording(rec.with_events(ev), path)
    config = AnalysisConfig()
    with hfs_emg.open_recording(path) as reader:
        stim = [n for n, t in zip(reader.ch_names, reader.ch_types, strict=True) if t == "stim"]
        view = ReadView(reader, units=None, picks=list(reader.ch_names))
        scanned, _ = streaming._streamed_decision(view, config)  # scans the chunks itself
    calls = []
    original = EdfReader.iter_chunks

    def counting(self, *args, **kw):
        calls.append(kw.get("picks"))
        return original(self, *args, **kw)

    monkeypatch.setattr(EdfReader, "iter_chunks", counting)
    with hfs_emg.open_recording(path) as reader:
        decision, _ = streaming._streamed_decision(reader, config)
    assert stim and calls == []  # the trigger channel is not read a second time
    assert decision.protocol == scanned.protocol == "lsr"
    pd.testing.assert_frame_equal(decision.events, scanned.events, check_exact=True)


def _lsr_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hfs_emg-lsr")]


def test_streamed_lsr_measuring_thread_raises_its_error_and_stops(tmp_path, monkeypatch):
    rec = simulate_lsr_session(n_stimuli=60, rate_hz=2.0, sfreq=2000.0, seed=4).recording
    rec = rec.rename_channels({n: n.replace("orbicularis_", "o_") for n in rec.ch_names})
    ev = rec.events.copy()
    ev.loc[ev["label"].astype(str).str.startswith("stim"), "label"] = "stim zygomatic"
    path = tmp_path / "lsr.bdf"
    hfs_emg.write_recording(rec.with_events(ev), path)
    small = AnalysisConfig(max_memory_mb=0.05, chunk_s=5.0, stream_margin_s=1.0)
    monkeypatch.setattr(streaming, "_SWEEPS_PER_PUSH", 8)  # groups wait for the worker
    monkeypatch.setattr(streaming, "_GROUPS_AHEAD", 1)
    before = len(_lsr_threads())
    res = hfs_emg.analyze(path, small)
    assert res.provenance.get("streamed") and len(res.lsr) == 60 * len(res.lsr["channel"].unique())
    assert len(_lsr_threads()) == before
    calls = {"n": 0}
    push = LsrStream.push

    def failing(self, epochs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("measuring failed")
        return push(self, epochs)

    monkeypatch.setattr(LsrStream, "push", failing)
    with pytest.raises(RuntimeError, match="measuring failed"):
        hfs_emg.analyze(path, small)
    assert len(_lsr_threads()) == before
