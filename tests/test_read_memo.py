"""A reader's repeated reads (channel table and events kept between calls) equal fresh reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hfs_emg.io._base as base
from hfs_emg import from_array, open_recording
from hfs_emg.io._base import ReadView
from hfs_emg.io.edf_write import write_edf


def _same(a, b) -> None:
    """``a`` equals ``b`` in every field of a Recording."""
    assert a.data.dtype == b.data.dtype and np.array_equal(a.data, b.data)
    assert not a.data.flags.writeable
    pd.testing.assert_frame_equal(a.channels, b.channels)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.tstart == b.tstart and a.sfreq == b.sfreq
    assert dict(a.meta) == dict(b.meta) and a.history == b.history


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    rng = np.random.default_rng(3)
    data = rng.standard_normal((3, 20_000)) * 50.0
    data[2] = (np.arange(20_000) % 1000 < 5) * 5.0
    rec = from_array(
        data,
        1000.0,
        ["OrbOculi_L", "Mentalis_R", "trigger"],
        units=["uV", "uV", "V"],
        ch_types={"trigger": "stim"},
        events=pd.DataFrame(
            {"onset_s": [0.5, 3.0, 3.0, 9.999, 12.25, 19.999], "label": list("abcdef")}
        ),
    )
    path = tmp_path_factory.mktemp("memo") / "rec.edf"
    write_edf(rec, path)
    return path


WINDOWS = [(None, None), (0.0, 2.999), (3.0, 9.999), (9.999, None), (5.0, 5.0), (12.0, 19.0)]


@pytest.mark.parametrize("options", [{}, {"picks": ["Mentalis_R", "OrbOculi_L"]}, {"picks": 0}])
@pytest.mark.parametrize("dtype", [None, np.float32])
def test_repeated_reads_equal_fresh_reads(annotated, options, dtype):
    with open_recording(annotated) as warm:
        warm.read(tmin=1.0, tmax=1.5, dtype=dtype, **options)  # fills the memo
        for tmin, tmax in WINDOWS:
            with open_recording(annotated) as fresh:  # no memo: the from_array path
                ref = fresh.read(tmin=tmin, tmax=tmax, dtype=dtype, **options)
            _same(warm.read(tmin=tmin, tmax=tmax, dtype=dtype, **options), ref)


def test_memo_skips_from_array_and_chunks_equal_reads(annotated, monkeypatch):
    calls = []
    real = base.from_array
    monkeypatch.setattr(base, "from_array", lambda *a, **k: calls.append(1) or real(*a, **k))
    with open_recording(annotated) as reader:
        view = ReadView(reader, ch_types={"Mentalis_R": "misc"})
        assert len(calls) == 1  # the view's one-sample probe
        chunks = list(view.iter_chunks(4.0, margin_s=0.5))
        assert len(calls) == 1 and len(chunks) == 5  # every chunk from the probe's table
    for chunk, _core in chunks:
        with open_recording(annotated) as fresh:
            ref = ReadView(fresh, ch_types={"Mentalis_R": "misc"}).read(
                tmin=chunk.tstart, tmax=chunk.tstart + (chunk.n_samples - 1) / chunk.sfreq
            )
        _same(chunk, ref)
    assert chunks[0][0].channels is not chunks[1][0].channels  # a table of its own


def test_units_given_are_not_memoised(annotated, monkeypatch):
    calls = []
    real = base.from_array
    monkeypatch.setattr(base, "from_array", lambda *a, **k: calls.append(1) or real(*a, **k))
    with open_recording(annotated) as reader:
        a = reader.read(tmax=1.0, units="mV", picks=[0, 1])
        b = reader.read(tmax=1.0, units="mV", picks=[0, 1])
    assert len(calls) == 2
    _same(a, b)


def test_non_finite_samples_still_raise(annotated, monkeypatch):
    with open_recording(annotated) as reader:
        reader.read(tmax=1.0, picks=[0, 1])
        raw = reader._read_raw

        def bad(*a, **k):
            out = raw(*a, **k)
            out[0, 3] = np.nan
            return out

        monkeypatch.setattr(reader, "_read_raw", bad)
        # EDF samples are finite by construction (not searched): a format that is not
        monkeypatch.setattr(reader, "_finite_by_construction", lambda *a: False)
        with pytest.raises(base.DataError, match="NaN"):
            reader.read(tmax=1.0, picks=[0, 1])
