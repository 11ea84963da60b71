"""The live per-sweep hot path (issue 15, item 6) gives what the plain routes give.

- :func:`hfs_emg._frames.frame_from_columns` equals ``pd.DataFrame(columns)``;
- a sweep's rows from :meth:`LsrStream.push_window` are the table pandas infers from their plain
  values, and ``extra_columns`` equals ``DataFrame.insert``;
- the lag-scan views equal ``as_strided``'s, the cached string columns the factorized ones;
- :class:`hfs_emg.pipeline._disk.DiskWriter` runs jobs in order, coalesces keyed jobs, raises
  a job's error in the caller and never lags more than ``max_lag_s``.
"""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from hfs_emg import lsr_online
from hfs_emg._frames import frame_from_columns
from hfs_emg.events import find_stim_events
from hfs_emg.lsr_online import LsrStream
from hfs_emg.pipeline._disk import DiskWriter
from hfs_emg.simulate import simulate_lsr_session


def _str(values: list) -> object:
    return pd.array(np.array(values, dtype=object), dtype=pd.Series(["x"]).dtype)


@pytest.mark.parametrize("seed", range(5))
def test_frame_from_columns_equals_the_constructor(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    makers = [
        lambda: rng.normal(size=n),
        lambda: rng.integers(-5, 5, n),
        lambda: rng.random(n) > 0.5,
        lambda: rng.normal(size=n).astype(np.float32),
        lambda: rng.integers(0, 9, n).astype(np.uint8),
        lambda: _str([str(v) for v in rng.integers(0, 3, n)]),
        lambda: np.where(rng.random(n) > 0.5, np.nan, rng.normal(size=n)),
    ]
    cols = {f"c{i}": makers[int(rng.integers(len(makers)))]() for i in range(12)}
    got = frame_from_columns(cols)
    pd.testing.assert_frame_equal(got, pd.DataFrame(cols))
    # the table owns its arrays: changing it leaves the caller's columns alone
    got.iloc[0, 0] = got.iloc[1, 0]
    pd.testing.assert_series_equal(pd.DataFrame(cols)["c0"], pd.Series(cols["c0"], name="c0"))


def test_frame_from_columns_falls_back_for_what_pandas_infers() -> None:
    cols = {"a": np.arange(3), "b": np.array(["x", None, "y"], dtype=object)}
    pd.testing.assert_frame_equal(frame_from_columns(cols), pd.DataFrame(cols))
    empty = {"a": np.zeros(0), "b": _str([])}
    pd.testing.assert_frame_equal(frame_from_columns(empty), pd.DataFrame(empty))


@pytest.fixture(scope="module")
def sweeps() -> tuple[LsrStream, list[pd.DataFrame]]:
    rec = simulate_lsr_session(n_stimuli=40, rate_hz=4.0, sfreq=5000.0, seed=3,
                               disappearance_index=25).recording  # fmt: skip
    events = find_stim_events(rec)
    stream = LsrStream.for_recording(rec, stim_branch="zygomatic", calibration_n=20,
                                     template_n=5)  # fmt: skip
    emg = rec._pick_indices("emg")
    n0 = round(stream.tmin * rec.sfreq)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(events)):
            s = round((events["onset_s"].iloc[i] - rec.tstart) * rec.sfreq)
            x = rec.data[emg, s + n0 : s + n0 + stream.times.size]
            extra = {"part": "recording.bdf"} if i % 2 else None
            rows.append(stream.push_window(x, events.iloc[i].to_dict(), extra_columns=extra))
    return stream, rows


def test_sweep_rows_are_the_table_pandas_infers_from_their_values(sweeps) -> None:
    _, rows = sweeps
    for df in rows:
        plain = {
            c: df[c].to_numpy(object) if df[c].dtype == object or df[c].dtype.kind in "OUT"
            else df[c].to_numpy()
            for c in df.columns
        }  # fmt: skip
        plain = {c: (np.array(v.tolist(), dtype=object) if v.dtype.kind == "O" else v)
                 for c, v in plain.items()}  # fmt: skip
        pd.testing.assert_frame_equal(df, pd.DataFrame(plain))


def test_extra_columns_equal_insert(sweeps) -> None:
    _, rows = sweeps
    with_part, without = rows[1], rows[2]
    assert list(with_part.columns)[2] == "part"
    ref = with_part.drop(columns="part")
    ref.insert(2, "part", "recording.bdf")
    pd.testing.assert_frame_equal(with_part, ref)
    assert "part" not in without.columns


def test_extra_columns_may_not_replace_a_column(sweeps) -> None:
    stream, _ = sweeps
    x = np.zeros((len(stream.channels), stream.times.size))
    with pytest.raises(ValueError, match="columns of the table"):
        stream.push_window(x, {"onset_s": 99.0}, extra_columns={"channel": "x"})


def test_lag_scan_equals_the_as_strided_einsum() -> None:
    rng = np.random.default_rng(0)
    for rows in (0, 1, 5):
        region = rng.normal(size=(rows, 90))
        unit = rng.normal(size=40)
        n_lag = 20
        r = np.ascontiguousarray(region)
        win = np.lib.stride_tricks.as_strided(
            r, (rows, 2 * n_lag + 1, unit.size), (r.strides[0], r.strides[1], r.strides[1])
        )
        ref = np.einsum("nlk,k->nl", win, unit)
        got = lsr_online._lag_scan(region, unit, n_lag)
        assert got.shape == ref.shape and np.array_equal(got, ref)  # bitwise
    with pytest.raises((TypeError, ValueError)):
        lsr_online._lag_scan(rng.normal(size=(2, 50)), rng.normal(size=40), 20)  # too short


def test_short_string_columns_equal_the_factorized_route() -> None:
    rng = np.random.default_rng(1)
    levels = np.array(["", "clipped", "noisy baseline", "artifact residual"], dtype=object)
    for n in (1, 8, 64):
        values = levels[rng.integers(0, 4, n)]
        long = np.concatenate([values, values[:1].repeat(65)])  # > 64: factorized
        short = lsr_online._str_column(values)
        pd.testing.assert_extension_array_equal(short, lsr_online._str_column(long)[:n])
    mixed = np.array(["a", None], dtype=object)
    assert lsr_online._str_column(mixed) is mixed  # pandas infers it, as before


def test_disk_writer_runs_in_order_and_coalesces_keyed_jobs() -> None:
    out: list[str] = []
    gate = threading.Event()
    w = DiskWriter().start()
    w.submit(gate.wait)  # hold the writer so that the next jobs queue together
    for i in range(5):
        w.submit(lambda i=i: out.append(f"line {i}"))
        w.submit(lambda i=i: out.append(f"manifest {i}"), key="manifest")
    gate.set()
    w.close()
    assert out == [*(f"line {i}" for i in range(5)), "manifest 4"]
    assert w.n_skipped == 4
    w.submit(lambda: out.append("after close"))  # not running: at once
    assert out[-1] == "after close"


def test_disk_writer_raises_a_failed_write_in_the_caller() -> None:
    w = DiskWriter().start()

    def fail() -> None:
        raise OSError("disk full")

    w.submit(fail)
    with pytest.raises(OSError, match="disk full"):
        w.flush()
    w.close()


def test_disk_writer_lag_is_bounded() -> None:
    w = DiskWriter(max_lag_s=0.1).start()
    w.submit(lambda: time.sleep(0.4))
    time.sleep(0.2)  # the write submitted first is older than max_lag_s and not done
    t0 = time.monotonic()
    w.submit(lambda: None)  # waits for the writer to catch up
    assert time.monotonic() - t0 > 0.1
    t0 = time.monotonic()
    w.submit(lambda: None)  # caught up: no wait
    assert time.monotonic() - t0 < 0.1
    w.close()
