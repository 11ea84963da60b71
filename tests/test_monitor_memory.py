"""The live monitor's memory does not grow with the session beyond its documented data.

What grew (issue 15, item 6): the row store joined each 64 sweeps' frames with
``pandas.concat``, which keeps one Arrow chunk per sweep in every string column (and the
chunks' pandas blocks): native memory, ~5-8 kB a sweep, invisible to tracemalloc. Now the
pieces are compacted (``hfs_emg.live.compact.one_chunk``) and a read of the table replaces
them with the joined table. These tests fail on the old store:

- the store's pieces and the Arrow chunks of its table stay bounded over 2,000 sweeps;
- the store holds only the rows not yet in ``lsr.parquet`` (``hfs_emg.live.row_store``; the
  whole table was held, and rewritten to the file every 2 s: +10 MB of resident memory per
  1000 stimuli at 8 channels) and reads the others back, the same rows;
- a session fed directly: the gc-tracked objects and the malloc heap in use grow by no more
  per stimulus between N and 4N stimuli than a small bound (the rows' own bytes).
"""

from __future__ import annotations

import ctypes
import gc
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hfs_emg.live import ArraySource
from hfs_emg.live.compact import n_chunks, one_chunk
from hfs_emg.live.event_log import EventLog
from hfs_emg.pipeline.monitor import LiveMonitor, _RowStore
from hfs_emg.simulate import simulate_lsr_session


def _sweep(i: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stim_index": [i] * 4,
            "channel": ["a", "b", "c", "d"],
            "kind": ["lsr", "lsr", "lsr", "direct"],
            "reject_reason": ["", None, "", ""],
            "p2p_uv": np.arange(4.0) + i,
        }
    )


def test_one_chunk_keeps_values_and_dtypes() -> None:
    joined = pd.concat([_sweep(i) for i in range(50)], ignore_index=True)
    assert n_chunks(joined) == 50 or n_chunks(joined) == 1  # 1: strings held by NumPy
    compact = one_chunk(joined)
    assert n_chunks(compact) == 1
    pd.testing.assert_frame_equal(compact, joined)
    assert list(compact.dtypes) == list(joined.dtypes)


def test_row_store_pieces_and_arrow_chunks_stay_bounded() -> None:
    store = _RowStore()
    for i in range(2000):
        store.append(_sweep(i))
        if i % 150 == 0:
            store.frame()  # the parquet rewrite reads the table every few seconds
    assert len(store._chunks) + len(store._tail) <= 16 + 64
    whole = store.frame()
    assert len(store._chunks) == 1 and not store._tail
    assert n_chunks(whole) == 1
    assert whole["p2p_uv"].tolist() == [float(j % 4 + j // 4) for j in range(8000)]
    assert store.last["stim_index"].tolist() == [1999] * 4
    # never read: the chunks are merged when there are max_chunks of them
    lazy = _RowStore(chunk=8, max_chunks=4)
    for i in range(500):
        lazy.append(_sweep(i))
    assert len(lazy._chunks) < 4 and max(n_chunks(c) for c in lazy._chunks) == 1
    pd.testing.assert_frame_equal(lazy.frame(), store.frame().iloc[:2000].reset_index(drop=True))


def test_row_store_holds_only_the_rows_not_in_the_file(tmp_path: Path) -> None:
    # the store hands its rows over to lsr.parquet (one row group each time) and reads them
    # back for the whole table; rows handed over but not written yet are served from memory
    path = tmp_path / "lsr.parquet"
    store, ref = _RowStore(path, chunk=8), _RowStore()
    pending = []
    for i in range(300):
        store.append(_sweep(i))
        ref.append(_sweep(i))
        if i % 40 == 39:
            pending.append(store.take())
            if i % 80 == 79:  # the writer was behind: two appends run now
                for job in pending:
                    job()
                pending = []
            whole = ref.frame()
            pd.testing.assert_frame_equal(store.frame(), whole, check_exact=True)
            for n in (0, 4 * i - 170, 4 * i - 6):  # from the file, across, from memory
                got = store.since(n).reset_index(drop=True)
                pd.testing.assert_frame_equal(got, whole.iloc[n:].reset_index(drop=True))
            if i >= 79:  # always a complete file: a prefix of the table
                on_disk = pd.read_parquet(path)
                assert len(on_disk) == store.n_disk
                pd.testing.assert_frame_equal(on_disk, whole.iloc[: len(on_disk)], check_exact=True)
    assert store.n_disk == 4 * 240 and store.n_held == 4 * 20  # and 40 sweeps handed over
    pending[0]()
    assert store.n_disk == 4 * 280 and store.n_held == 4 * 20
    assert store.nbytes < ref.nbytes / 5
    pd.testing.assert_frame_equal(store.frame(), ref.frame(), check_exact=True)
    # a resumed session: the rows the file holds stay there
    again = _RowStore(path, ref.frame(), on_disk=store.n_disk)
    assert again.n_held == 80 and again.last["stim_index"].iloc[-1] == 299
    again.take()()
    pd.testing.assert_frame_equal(pd.read_parquet(path), ref.frame(), check_exact=True)


def test_event_log_columns_read_back_as_the_rows(tmp_path: Path) -> None:
    rows = [
        (float(i) / 3, 0.0 if i % 3 else 0.25, "stimulus" if i % 2 else "marker",
         f"stim {i % 5} mA", i if i % 2 else None, "recording.bdf")
        for i in range(700)
    ]  # fmt: skip
    log = EventLog(tmp_path / "events.csv")
    log.extend(rows[:300])
    for r in rows[300:]:
        log.append(r)
    assert len(log.rows) == 700 and list(log.rows) == rows
    assert log.rows[-1] == rows[-1] and log.rows[5:9] == rows[5:9]
    assert list(EventLog(tmp_path / "events.csv").rows) == rows  # read back from the file
    ref = pd.DataFrame(rows, columns=log.frame().columns)
    ref["stim_index"] = pd.to_numeric(ref["stim_index"], errors="coerce")
    pd.testing.assert_frame_equal(log.frame(), ref)


def _heap_used() -> int | None:
    try:

        class _MI(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]  # fmt: skip

        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MI
        return int(libc.mallinfo2().uordblks)
    except (OSError, AttributeError):
        return None


@pytest.mark.slow
def test_fed_session_grows_only_by_its_rows(tmp_path: Path) -> None:
    warnings.simplefilter("ignore")
    muscles = ("frontalis", "orbicularis_oculi", "orbicularis_oris", "mentalis")
    sim = simulate_lsr_session(n_stimuli=50, rate_hz=2.0, sfreq=4000.0, seed=3,
                               muscles=muscles, disappearance_index=35)  # fmt: skip
    names = {c: c.replace("orbicularis_oculi", "OrbOculi").replace("orbicularis_oris", "OrbOris")
             for c in sim.recording.ch_names}  # fmt: skip
    rec = sim.recording.rename_channels(names)
    src = ArraySource(rec, chunk_s=0.05, repeat=12)  # 600 stimuli
    # 64 rows (16 sweeps) held before they go to lsr.parquet: the first append (and the first
    # import of the parquet writer) well before the first mark
    mon = LiveMonitor(tmp_path, source=src, stim_branch="zygomatic", block_s=0,
                      parquet_rows=64, save_every_s=0.0)  # fmt: skip
    mon._open()
    marks: dict[int, tuple[int, int | None, int, int]] = {}
    kinds: dict[int, Counter[str]] = {}
    while not src.exhausted:
        mon.step(timeout=0.0)
        for k in (150, 375, 600):
            if mon.n_stim >= k and k not in marks:
                mon._disk.flush()  # the rows handed to the writer are in the file
                table = mon.lsr.memory_usage(deep=True).sum()  # read back, then dropped
                gc.collect()
                objs = gc.get_objects()
                marks[k] = (len(objs), _heap_used(), int(table), mon._rows.nbytes)
                kinds[k] = Counter(type(o).__name__ for o in objs)
                del objs
    mon.close()
    (o1, h1, t1, r1), (o2, h2, t2, r2) = marks[150], marks[600]
    n = 450
    # gc-tracked objects: was ~8 a stimulus (the pieces' blocks, refs, Arrow chunks). A leak
    # grows in both halves; a one-off (a module imported lazily on a path first taken here,
    # ~1,100 objects on one CI run) in one only: the smaller half is what grows per stimulus
    o_mid = marks[375][0]
    per_stim = min(o_mid - o1, o2 - o_mid) / (n / 2)
    grown = [(kinds[b] - kinds[a]).most_common(6) for a, b in ((150, 375), (375, 600))]
    assert per_stim < 1.0, (per_stim, grown)
    # the rows held in memory are bounded (at most ~2 x parquet_rows; the table grew 4x)
    assert t2 > 3.5 * t1 and r2 < 0.3 * t2 and r2 < 2 * t1, (t1, t2, r1, r2)
    if h1 is not None and h2 is not None:
        # malloc heap in use: the trend state (~1 kB a stimulus here: hfs_emg/trend.py) and the
        # events, no longer the rows (~1 kB a stimulus with 4 channels); was ~7 kB before the
        # pieces were compacted, ~2.2 kB while the store held every row, now ~1.5 kB
        assert (h2 - h1) / n < 3 * (t2 - t1) / n + 300, ((h2 - h1) / n, (t2 - t1) / n)
