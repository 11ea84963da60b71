"""run_batch / hfs-emg batch against hostile inputs and output folders (issue 9, items 2 and 3).

Every test here fails on 5f3ac16: the pickle cache ran planted code and aborted on corrupt
entries, named pipes and devices hung the batch, dangling links and folders named like
recordings were skipped without a word, ``--out`` equal to the input folder re-read its own
tables, two batches wrote one folder at once and an unwritable ``--out`` gave a traceback.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import hfs_emg.batch as batch
from hfs_emg import HfsEmgWarning, OutputError, OutputLockedError
from hfs_emg.analysis import TABLES
from hfs_emg.batch import BATCH_TABLES, run_batch
from hfs_emg.cli import main
from hfs_emg.config import AnalysisConfig, SyncConfig

ROOT = Path(__file__).resolve().parent.parent
CMAP = "ncs_cmap.bdf"  # 8 s, 2 channels, 8 stimuli: the quickest example file
# Its markers say "CMAP stim left/right": analysed as a CMAP (protocol "auto"), one row per
# channel; the table checked below is the stimuli found, 8 (example_data/truth).
N_STIM_ROWS = 8
CFG_HASH = AnalysisConfig().hash()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry(out: Path, recording: Path) -> Path:
    """Where the cache entry of ``recording`` (default configuration) lives."""
    return out / "cache" / f"{_sha(recording)[:24]}_{CFG_HASH[:24]}"


@pytest.fixture(scope="module")
def cmap(example_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("in")
    shutil.copy(example_dir / CMAP, folder / CMAP)
    return folder / CMAP


@pytest.fixture(scope="module")
def fresh(cmap, tmp_path_factory):
    """A finished batch over the one file: its output folder and result."""
    out = tmp_path_factory.mktemp("out")
    return out, run_batch([cmap], out=out, workers=1, progress=False)


def _analysis_warnings(res) -> pd.DataFrame:
    """The warnings of the analysis itself (not those about the cache)."""
    w = res["warnings"]
    return w[~w["message"].str.contains("Cache entry")].reset_index(drop=True)


# --- the cache cannot run code, and a bad entry is recomputed ---------------------------------


class _Plant:
    """Unpickling this creates a marker file (what a malicious cache file could do)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_pickle_never_runs(cmap, fresh, tmp_path):
    marker = tmp_path / "PWNED"
    out = tmp_path / "out"
    (out / "cache").mkdir(parents=True)
    payload = pickle.dumps(_Plant(str(marker)))
    # the name 5f3ac16 computed from the input and the configuration, ...
    (out / "cache" / f"{_sha(cmap)[:24]}_{CFG_HASH[:24]}.pkl").write_bytes(payload)
    # ... and every file of the entry the new cache reads
    entry = _entry(out, cmap)
    entry.mkdir()
    for name in ("manifest.json", *(f"{t}.parquet" for t in (*TABLES, "warnings"))):
        (entry / name).write_bytes(payload)
    with pytest.warns(HfsEmgWarning, match="unusable"):
        res = run_batch([cmap], out=out, workers=1, progress=False)
    assert not marker.exists()
    assert res.stats == {"n_files": 1, "n_analysed": 1, "n_cached": 0, "n_failed": 0}
    assert len(res["stim_events"]) == N_STIM_ROWS  # really analysed, not "cached" with no rows
    # the planted entry was replaced by a real one: the next run is a cache hit with rows
    again = run_batch([cmap], out=out, workers=1, progress=False)
    assert again.stats["n_cached"] == 1 and len(again["stim_events"]) == N_STIM_ROWS
    assert not marker.exists()


def test_no_pickle_in_the_package():
    for path in (ROOT / "hfs_emg").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] in ("pickle", "dill", "cloudpickle") for n in names), (
                path
            )


def _rewrite_manifest(entry: Path, **changes) -> None:
    meta = json.loads((entry / "manifest.json").read_text())
    meta.update(changes)
    (entry / "manifest.json").write_text(json.dumps(meta))


def _truncate_parquet(entry: Path) -> None:
    """A truncated cmap.parquet whose manifest sha256 matches (so the parser has to catch it)."""
    data = (entry / "cmap.parquet").read_bytes()[:300]
    (entry / "cmap.parquet").write_bytes(data)
    meta = json.loads((entry / "manifest.json").read_text())
    meta["tables"]["cmap"]["sha256"] = hashlib.sha256(data).hexdigest()
    (entry / "manifest.json").write_text(json.dumps(meta))


def _swap_table(entry: Path) -> None:
    """trend.parquet replaced by another valid Parquet table (sha256 and rows then differ)."""
    pd.DataFrame({"x": [1.0]}).to_parquet(entry / "trend.parquet")


def _replace(path: Path, make) -> None:
    path.unlink()
    make(path)


def _link_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


CORRUPTIONS = {
    "random bytes": lambda e: (e / "manifest.json").write_bytes(os.urandom(4096)),
    "empty manifest": lambda e: (e / "manifest.json").write_bytes(b""),
    "JSON of the wrong kind": lambda e: (e / "manifest.json").write_text("[1, 2, 3]"),
    "another JSON object": lambda e: (e / "manifest.json").write_text('{"format": "other"}'),
    "huge manifest": lambda e: (e / "manifest.json").write_bytes(b" " * (1 << 20)),
    "another version": lambda e: _rewrite_manifest(e, hfs_emg_version="0.0.1"),
    "another input sha": lambda e: _rewrite_manifest(e, input_sha256="0" * 64),
    "another config hash": lambda e: _rewrite_manifest(e, config_hash="0" * 64),
    "no table list": lambda e: _rewrite_manifest(e, tables={}),
    "truncated parquet": _truncate_parquet,
    "random-bytes parquet": lambda e: (e / "bursts.parquet").write_bytes(os.urandom(2000)),
    "another table swapped in": _swap_table,
    "table missing": lambda e: (e / "summary.parquet").unlink(),
    "manifest missing": lambda e: (e / "manifest.json").unlink(),
    "manifest is a folder": lambda e: (
        (e / "manifest.json").unlink(),
        (e / "manifest.json").mkdir(),
    ),
    "manifest is a named pipe": lambda e: (
        (e / "manifest.json").unlink(),
        os.mkfifo(e / "manifest.json"),
    ),
    "entry is a file": lambda e: (shutil.rmtree(e), e.write_bytes(b"PAR1")),
}


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
def test_corrupt_cache_entry_is_recomputed(how, cmap, fresh, tmp_path):
    first_out, first = fresh
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    CORRUPTIONS[how](_entry(out, cmap))
    with pytest.warns(HfsEmgWarning, match="unusable.*analysed again"):
        res = run_batch([cmap], out=out, workers=1, progress=False)
    assert res.stats == {"n_files": 1, "n_analysed": 1, "n_cached": 0, "n_failed": 0}
    for name in TABLES:
        pd.testing.assert_frame_equal(res[name], first[name])
    pd.testing.assert_frame_equal(_analysis_warnings(res), first["warnings"])
    assert res["warnings"]["message"].str.contains("Cache entry").sum() == 1  # a row too
    # repaired: the next run takes it from the cache, with the same rows
    again = run_batch([cmap], out=out, workers=1, progress=False)
    assert again.stats["n_cached"] == 1
    pd.testing.assert_frame_equal(again["stim_events"], first["stim_events"])


def test_cached_tables_equal_fresh_ones(cmap, fresh):
    out, first = fresh
    again = run_batch([cmap], out=out, workers=1, progress=False)
    assert again.stats["n_cached"] == 1
    for name in BATCH_TABLES:
        pd.testing.assert_frame_equal(again[name], first[name])
    meta = json.loads((_entry(out, cmap) / "manifest.json").read_text())
    assert meta["input_sha256"] == _sha(cmap) and meta["config_hash"] == CFG_HASH
    assert sorted(meta["tables"]) == sorted((*TABLES, "warnings"))
    assert meta["tables"]["stim_events"]["rows"] == N_STIM_ROWS
    assert meta["tables"]["cmap"]["rows"] == 2 and meta["tables"]["lsr"]["rows"] == 0


# --- only regular files are analysed -----------------------------------------------------------


def _in_thread(fn, timeout: float):
    """Run ``fn`` in a thread; the test fails (instead of hanging) when it does not return."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as err:  # re-raised in the test
            box["error"] = err

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    return t, box


def test_fifo_named_like_a_recording_does_not_hang(cmap, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(cmap, folder / CMAP)
    fifo = folder / "x.edf"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    t, box = _in_thread(lambda: run_batch(folder, out=out, workers=1, progress=False), 30)
    t_list, box_list = _in_thread(lambda: run_batch([fifo], workers=1, progress=False), 10)
    t_info, box_info = _in_thread(lambda: main(["info", str(fifo)]), 10)
    hung = t.is_alive() or t_list.is_alive() or t_info.is_alive()
    for _ in range(2 if hung else 0):  # release readers blocked in open() (a regression)
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not hung, "a named pipe hung the batch"
    assert "error" not in box, box.get("error")
    res = box["value"]
    assert res.stats == {"n_files": 2, "n_analysed": 1, "n_cached": 0, "n_failed": 1}
    row = res["errors"].iloc[0]
    assert row["file"] == str(fifo) and row["error_type"] == "NotRegularFileError"
    assert "named pipe" in row["message"]
    assert box_list["value"]["errors"]["error_type"].tolist() == ["NotRegularFileError"]
    assert box_info["value"] == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "named pipe" in err[0] and err[0].startswith("error: ")


def test_symlink_to_dev_zero_is_refused(cmap, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "zero.edf").symlink_to("/dev/zero")
    out = tmp_path / "out"
    # a subprocess: on a regression it would hash /dev/zero for ever; the timeout kills it
    proc = subprocess.run(
        [sys.executable, "-m", "hfs_emg.cli", "batch", str(folder), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "character device" in proc.stderr and "/dev/zero" in proc.stderr
    errors = pd.read_csv(out / "errors.csv")
    assert errors["error_type"].tolist() == ["NotRegularFileError"]


def test_dangling_symlink_is_an_error_row(cmap, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(cmap, folder / CMAP)
    (folder / "gone.edf").symlink_to(folder / "deleted.edf")
    (folder / "good.bdf").symlink_to(folder / CMAP)  # a link to a regular file is followed
    for spec in (folder, folder / "*.*"):
        res = run_batch(spec, workers=1, progress=False)
        assert res.stats["n_files"] == 3 and res.stats["n_analysed"] == 2, spec
        errors = res["errors"]
        assert errors["file"].tolist() == [str(folder / "gone.edf")]
        assert errors["error_type"].tolist() == ["NotRegularFileError"]
        assert "dangling" in errors["message"].iloc[0]
    # named explicitly: an error row, not "neither a file, a folder nor a glob"
    res = run_batch(folder / "gone.edf", workers=1, progress=False)
    assert res["errors"]["error_type"].tolist() == ["NotRegularFileError"]


def test_folder_named_like_a_recording_is_an_error_row(cmap, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(cmap, folder / CMAP)
    (folder / "x.edf").mkdir()
    res = run_batch(folder, workers=1, progress=False)
    assert res.stats == {"n_files": 2, "n_analysed": 1, "n_cached": 0, "n_failed": 1}
    assert res["errors"]["file"].tolist() == [str(folder / "x.edf")]
    assert "is a folder" in res["errors"]["message"].iloc[0]
    listed = run_batch([folder / "x.edf"], workers=1, progress=False)
    assert listed["errors"]["error_type"].tolist() == ["NotRegularFileError"]


# --- the batch's own outputs are never inputs -------------------------------------------------


def test_out_equal_to_input_folder_twice(cmap, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(cmap, folder / CMAP)
    args = ["batch", str(folder), "--out", str(folder), "--workers", "1"]
    assert main(args) == 0
    assert (folder / "bursts.csv").is_file() and (folder / "summary.csv").is_file()
    capsys.readouterr()
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "error" not in captured.err
    assert "1 file(s): 0 analysed, 1 cached, 0 failed" in captured.out
    assert len(pd.read_csv(folder / "errors.csv")) == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"] == [str(folder / CMAP)]
    assert "bursts.csv" in manifest["written"] and "manifest.json" in manifest["written"]


def test_out_inside_a_globbed_tree_is_left_out(cmap, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(cmap, folder / "sub" / CMAP)
    out = folder / "results"
    pattern = str(folder / "**" / "*.*")
    first = run_batch(pattern, out=out, workers=1, progress=False)
    assert first.stats["n_files"] == 1
    (out / "notes.csv").write_text("a,b\n1,2\n")  # anything in out is left out too
    again = run_batch(pattern, out=out, workers=1, progress=False)
    assert again.stats == {"n_files": 1, "n_analysed": 0, "n_cached": 1, "n_failed": 0}


# --- one batch per output folder --------------------------------------------------------------


def test_concurrent_batch_on_one_folder_exits_2(cmap, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    gate, started = threading.Event(), threading.Event()
    real = batch.analyze

    def slow_analyze(path, config):
        if threading.current_thread().name == "first-batch":
            started.set()
            gate.wait(30)
        return real(path, config)

    monkeypatch.setattr(batch, "analyze", slow_analyze)
    box: dict = {}
    first = threading.Thread(
        target=lambda: box.update(res=run_batch([cmap], out=out, workers=1, progress=False)),
        name="first-batch",
        daemon=True,
    )
    first.start()
    try:
        assert started.wait(30)
        t, second = _in_thread(
            lambda: main(["batch", str(cmap), "--out", str(out), "--workers", "1"]), 30
        )
        assert not t.is_alive()
    finally:
        gate.set()
        first.join(60)
    assert second.get("value") == 2, second
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in use by another hfs-emg batch" in err[0]
    assert box["res"].stats["n_analysed"] == 1  # the first batch finished normally
    assert not (out / ".hfs_emg-batch.lock").exists()  # and released its lock
    assert len(pd.read_csv(out / "stim_events.csv")) == N_STIM_ROWS


def test_stale_lock_is_taken_over(cmap, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = __import__("socket").gethostname()
    (out / ".hfs_emg-batch.lock").write_text(json.dumps({"pid": dead.pid, "host": host}))
    with pytest.warns(HfsEmgWarning, match="stale lock"):
        res = run_batch([cmap], out=out, workers=1, progress=False)
    assert res.stats["n_analysed"] == 1
    assert not (out / ".hfs_emg-batch.lock").exists()


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"pid": 1, "host": "another-host.example"}),  # cannot tell: never taken over
        "",  # a lock another batch has just created and not yet filled in
    ],
)
def test_lock_that_may_be_live_is_respected(content, cmap, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    lock = out / ".hfs_emg-batch.lock"
    lock.write_text(content)
    with pytest.raises(OutputLockedError):
        run_batch([cmap], out=out, workers=1, progress=False)
    assert lock.read_text() == content  # left alone
    assert not (out / "bursts.parquet").exists()


# --- unwritable output folders, atomic outputs -------------------------------------------------


@pytest.mark.parametrize("where", ["under a file", "a file", "/proc"])
def test_unwritable_out_exits_2_with_one_line(where, cmap, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    out = {
        "under a file": a_file / "results",
        "a file": a_file,
        "/proc": Path("/proc/hfs_emg_results"),
    }[where]
    code = main(["batch", str(cmap), "--out", str(out), "--workers", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert str(out) in err
    with pytest.raises(OutputError):
        run_batch([cmap], out=out, workers=1, progress=False)


def test_outputs_are_written_atomically(cmap, fresh, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(fresh[0], out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real = pd.DataFrame.to_parquet

    def failing(self, target, *args, **kwargs):
        if isinstance(target, io.BytesIO):  # a cache table: fails half-way through an entry
            if "stim_index" in self.columns:  # stim_events, 6th of the 15 cache tables
                raise OSError(28, "No space left on device")
        elif "summary" in Path(target).name:  # an output table: fails after other tables
            real(self, target, *args, **kwargs)
            raise OSError(28, "No space left on device")
        return real(self, target, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    other = AnalysisConfig(sync=SyncConfig(min_channels=3))  # not cached yet: analysed
    with pytest.warns(HfsEmgWarning, match="could not be cached"), pytest.raises(OutputError):
        run_batch([cmap], other, out=out, workers=1, progress=False)
    monkeypatch.undo()
    # no half-written file: the old summary is intact, no temporary is left, no partial entry
    assert (out / "summary.parquet").read_bytes() == before["summary.parquet"]
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    assert sorted(p.name for p in (out / "cache").iterdir()) == [_entry(out, cmap).name]
    assert not (out / ".hfs_emg-batch.lock").exists()
    res = run_batch([cmap], other, out=out, workers=1, progress=False)
    assert res.stats["n_analysed"] == 1  # the interrupted entry was not left as "cached"
    assert len(pd.read_parquet(out / "stim_events.parquet")) == N_STIM_ROWS


def test_info_report_demo_print_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.vhdr"
    bad.write_text("not a BrainVision header\n")  # the reader fails (any exception type)
    folder = tmp_path / "x.edf"
    folder.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    for argv, code in [
        (["info", str(bad)], 1),
        (["info", str(folder)], 1),
        (["report", str(bad), "--out", str(tmp_path / "rep")], 1),
        (["demo", "--out", str(a_file / "demo")], 2),
    ]:
        assert main(argv) == code, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), (argv, err)
        assert "Traceback" not in err[0]
