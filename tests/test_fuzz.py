"""Fuzzing (hypothesis): readers and analyze() fail only with HfsEmgError subclasses.

Random bytes, truncated and bit-flipped copies of small EDF/BDF/NPZ/CSV files must either read
or raise a subclass of :class:`hfs_emg.HfsEmgError` (never an IndexError, ValueError, struct.error
... leaking from the parsers); analyze() must handle flat, clipped, offset, very short signals
and stimuli at the edges, and reject NaN with a clear DataError. Bounded: the whole file runs in
well under a minute.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfs_emg import DataError, HfsEmgError, from_array, make_events
from hfs_emg.analysis import analyze
from hfs_emg.io import read_recording, write_recording

FUZZ = settings(
    max_examples=int(os.environ.get("HFS_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=os.environ.get("HFS_FUZZ_RANDOM") is None,
)
_DIR = Path(tempfile.mkdtemp(prefix="hfs_fuzz_"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
COUNTS: dict[str, int] = {}


def _seed_files() -> dict[str, bytes]:
    t = np.arange(2 * 500) / 500
    rec = from_array(
        np.vstack([100 * np.sin(2 * np.pi * 7 * t), 50 * np.cos(2 * np.pi * 3 * t)]),
        500.0,
        ["OrbOris_L", "Mentalis_L"],
        events=make_events([0.5, 1.5], label="stim"),
    )
    out = {}
    for ext in ("edf", "bdf", "npz", "csv"):
        path = _DIR / f"seed.{ext}"
        write_recording(rec, path, overwrite=True) if ext != "csv" else None
        if ext == "csv":
            buf = io.StringIO()
            np.savetxt(
                buf, np.column_stack([t, rec.data.T]), delimiter=",", header="time,a,b", comments=""
            )
            path.write_text(buf.getvalue())
        out[ext] = path.read_bytes()
    return out


SEEDS = _seed_files()


def _read(data: bytes, ext: str, tag: str) -> None:
    COUNTS[tag] = COUNTS.get(tag, 0) + 1
    path = _DIR / f"case_{os.getpid()}.{ext}"
    path.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kwargs = {"sfreq": 500.0} if ext == "csv" else {}
            read_recording(path, **kwargs)
    except HfsEmgError:
        pass
    finally:
        path.unlink(missing_ok=True)


@FUZZ
@given(data=st.binary(min_size=0, max_size=4096), ext=st.sampled_from(["edf", "bdf", "npz", "npy"]))
def test_random_bytes(data, ext):
    _read(data, ext, "random_bytes")


@FUZZ
@given(ext=st.sampled_from(sorted(SEEDS)), frac=st.floats(0.0, 1.0))
def test_truncated(ext, frac):
    seed = SEEDS[ext]
    _read(seed[: int(frac * len(seed))], ext, "truncated")


@FUZZ
@given(
    ext=st.sampled_from(sorted(SEEDS)),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)), min_size=1, max_size=8),
    header_only=st.booleans(),
)
def test_bit_flipped(ext, flips, header_only):
    data = bytearray(SEEDS[ext])
    span = min(len(data), 256 * 3) if header_only else len(data)
    for where, bit in flips:
        data[min(int(where * span), len(data) - 1)] ^= 1 << bit
    _read(bytes(data), ext, "bit_flipped")


# ------------------------------------------------------------------------------- analyze
@FUZZ
@given(
    n=st.integers(2, 4000),
    offset=st.floats(-1e4, 1e4),
    flat=st.booleans(),
    clip=st.one_of(st.none(), st.floats(1.0, 200.0)),
    stim_at=st.lists(st.floats(0.0, 1.0), max_size=5),
    seed=st.integers(0, 2**16),
)
def test_analyze_signal_edge_cases(n, offset, flat, clip, stim_at, seed):
    COUNTS["analyze"] = COUNTS.get("analyze", 0) + 1
    fs = 2000.0
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=5.0, size=(3, n))
    x[0, n // 3 : n // 2] *= 30.0  # a burst
    if flat:
        x[1] = 0.0
    if clip is not None:
        x = np.clip(x, -clip, clip)
    x += offset
    duration = n / fs
    events = make_events([t * duration for t in stim_at], label="stim") if stim_at else None
    rec = from_array(x, fs, ["OrbOculi_L", "OrbOris_L", "Mentalis_L"], events=events)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze(rec)
    except HfsEmgError:
        return
    spontaneous = {"recording_summary", "summary", "summary_sides", "bursts", "synchronous"}
    evoked = {  # the tables each protocol adds (hfs_emg.pipeline.steps.EVOKED_TABLES)
        "spontaneous": set(),
        "lsr": {"lsr", "trend"},
        "responses": {"responses"},
    }[res.protocol]
    stims = {"stim_events"} if res.stim_events is not None else set()
    assert set(res.tables()) == spontaneous | evoked | stims
    assert len(res.summary) == 3


@FUZZ
@given(start=st.integers(0, 3999), length=st.integers(1, 500), inf=st.booleans())
def test_analyze_nan_runs_are_clear_errors(start, length, inf):
    COUNTS["nan"] = COUNTS.get("nan", 0) + 1
    x = np.random.default_rng(start).normal(size=(2, 4000))
    x[1, start : start + length] = np.inf if inf else np.nan
    path = _DIR / f"nan_{os.getpid()}.npz"
    np.savez(path, data=x, sfreq=2000.0)
    with pytest.raises(DataError, match="NaN"):
        analyze(path)


def test_report_counts():
    # printed with -s; the report quotes these numbers
    print("fuzz cases:", dict(sorted(COUNTS.items())))
