"""float32 storage: the readers scale straight into float32, the analysis agrees with float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hfs_emg
from hfs_emg.io import _base
from hfs_emg.io.edf import EdfReader

FILES = ["spontaneous_hfs.edf", "lsr_session.edf", "ncs_blink_reflex.bdf", "ncs_cmap.bdf"]


@pytest.mark.parametrize("name", FILES)
def test_float32_read_is_the_float64_read_rounded_once(example_dir, name, monkeypatch):
    path = example_dir / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r64 = hfs_emg.read_recording(path, dtype="float64")
        r32 = hfs_emg.read_recording(path, dtype="float32")
        # in small blocks too: the block boundaries change nothing
        monkeypatch.setattr(EdfReader, "_BLOCK_SAMPLES", 1000)
        r32b = hfs_emg.read_recording(path, dtype="float32")
    assert r64.data.dtype == np.float64 and r32.data.dtype == np.float32
    assert np.array_equal(r64.data.astype(np.float32), r32.data)
    assert np.array_equal(r32.data, r32b.data)
    # independent check of the scaling: digital values from the raw bytes of record 0
    reader = EdfReader(path)
    k = int(reader._orig[0])
    sig = int(reader._sig[k])
    spr, off, bps = int(reader._spr[sig]), int(reader._offsets[sig]), reader._bps
    raw = np.asarray(reader._mm[0, off : off + spr * bps]).astype(np.int64).reshape(spr, bps)
    dig = sum(raw[:, j] << (8 * j) for j in range(bps))
    dig = np.where(dig >= 1 << (8 * bps - 1), dig - (1 << (8 * bps)), dig)
    phys = (dig - reader._dmin[k]) * reader._gain[k] + reader._pmin[k]
    factor = hfs_emg.units.scale_to_uv(reader.units[0]) or 1.0
    np.testing.assert_allclose(r64.data[0, :spr], phys * factor, rtol=1e-12, atol=1e-9)
    reader.close()


def test_long_files_default_to_float32(example_dir, monkeypatch):
    assert _base.default_dtype(2**24) == np.float64 and _base.default_dtype(2**24 + 1) == np.float32
    path = example_dir / "spontaneous_hfs.edf"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert hfs_emg.read_recording(path).data.dtype == np.float64  # short: float64
        monkeypatch.setattr(_base, "FLOAT32_FROM_SAMPLES", 1000)
        reader = hfs_emg.open_recording(path)
        whole = reader.read()
        window = reader.read(tmin=1.0, tmax=2.0)  # a window of a long file: float32 too
    assert whole.data.dtype == np.float32 and window.data.dtype == np.float32


def test_from_array_keeps_float32_without_a_copy_and_finds_nan():
    x = np.random.default_rng(0).normal(size=(3, 5000)).astype(np.float32)
    rec = hfs_emg.from_array(x, 1000.0, dtype=np.float32)
    assert rec.data.dtype == np.float32 and np.shares_memory(rec.data, x)
    x[1, 1234] = np.nan
    with pytest.raises(hfs_emg.DataError, match=r"1 NaN.*'ch1'.*t=1\.234"):
        hfs_emg.from_array(x, 1000.0)


def test_analysis_on_float32_equals_float64_within_tolerance(example_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r64 = hfs_emg.read_recording(example_dir / "spontaneous_hfs.edf", dtype="float64")
        r32 = hfs_emg.read_recording(example_dir / "spontaneous_hfs.edf", dtype="float32")
        a, b = hfs_emg.analyze(r64), hfs_emg.analyze(r32)
    b64, b32 = a.bursts, b.bursts
    assert len(b64) == len(b32) > 0
    assert (b64["channel"] == b32["channel"]).all() and (b64["pattern"] == b32["pattern"]).all()
    # onsets and offsets within one sample, amplitudes within float32 precision
    tol = 1.0 / r64.sfreq + 1e-9
    assert np.abs(b64["onset_s"] - b32["onset_s"]).max() <= tol
    assert np.abs(b64["offset_s"] - b32["offset_s"]).max() <= tol
    np.testing.assert_allclose(b64["peak_uv"], b32["peak_uv"], rtol=1e-4)
    np.testing.assert_allclose(b64["area_uv_s"], b32["area_uv_s"], rtol=1e-3)
    assert len(a.synchronous) == len(b.synchronous)
