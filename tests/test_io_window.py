"""A window read of an EDF/BDF touches only the data records it spans (checked by spying on the
memory map), and gives the same samples as a full read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hfs_emg import from_array
from hfs_emg.io import open_recording, write_recording


class _Spy:
    """Wraps the reader's memory map and records which (rows, columns) are indexed."""

    def __init__(self, mm: np.ndarray) -> None:
        self.mm = mm
        self.keys: list[tuple[Any, Any]] = []

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mm.shape

    def __getitem__(self, key: Any) -> np.ndarray:
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        self.keys.append((rows, cols))
        return self.mm[key]

    def rows_touched(self) -> set[int]:
        out: set[int] = set()
        for rows, _ in self.keys:
            out.update(range(*rows.indices(self.mm.shape[0])))
        return out


@pytest.mark.parametrize("ext", ["edf", "bdf"])
def test_window_reads_only_its_records(tmp_path: Path, ext: str) -> None:
    sfreq, seconds = 2000.0, 30
    rng = np.random.default_rng(3)
    data = rng.normal(0, 100, (4, int(sfreq * seconds)))
    events = pd.DataFrame({"onset_s": [1.0, 11.0, 25.0], "label": ["a", "b", "c"]})
    rec = from_array(data, sfreq, ["oculi", "oris", "mentalis", "frontalis"], events=events)
    path = tmp_path / f"long.{ext}"
    write_recording(rec, path)

    reader = open_recording(path)
    full = reader.read()
    assert reader.meta["n_records"] == seconds  # one-second records
    spy = _Spy(reader._mm)
    reader._mm = spy  # type: ignore[assignment]
    records = reader._records

    def spied_records(fh, r0, r1, buf):  # the samples are read record block by block
        spy.keys.append((slice(r0, r1), None))
        return records(fh, r0, r1, buf)

    reader._records = spied_records  # type: ignore[method-assign]
    win = reader.read(tmin=10.2, tmax=12.7)
    # Samples 10.2 s .. 12.7 s live in records 10, 11 and 12 only.
    assert spy.rows_touched() == {10, 11, 12}
    i0 = round(10.2 * sfreq)
    np.testing.assert_array_equal(win.data, full.data[:, i0 : i0 + win.n_samples])
    assert list(win.events["label"]) == ["b"]
    assert win.n_samples == round(2.5 * sfreq) + 1

    # Chunked iteration: each chunk touches only its records (+ the margin's neighbours).
    spy.keys.clear()
    for chunk, _core in reader.iter_chunks(5.0, margin_s=0.1):
        first = int(chunk.tstart)
        last = int(chunk.tstart + chunk.duration_s - 1 / sfreq)
        assert spy.rows_touched() <= set(range(first, last + 1))
        spy.keys.clear()


@pytest.mark.parametrize("ext", ["edf", "bdf"])
def test_annotations_are_read_without_the_memory_map(tmp_path: Path, ext: str) -> None:
    sfreq = 1000.0
    data = np.random.default_rng(4).normal(0, 50, (2, int(sfreq * 12)))
    events = pd.DataFrame({"onset_s": [0.5, 3.25, 11.0], "label": ["a", "stim x", "c"]})
    path = tmp_path / f"ann.{ext}"
    write_recording(from_array(data, sfreq, ["oculi", "oris"], events=events), path)
    reader = open_recording(path)
    spy = _Spy(reader._mm)
    reader._mm = spy  # type: ignore[assignment]
    got = reader.read_events()
    assert spy.keys == []  # plain file reads: no mapped page stays resident
    assert list(got["label"]) == ["a", "stim x", "c"]
    assert np.allclose(got["onset_s"], [0.5, 3.25, 11.0])
