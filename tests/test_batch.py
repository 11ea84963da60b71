"""run_batch: local pool and Dask give the same tables; failures are rows; resumed runs skip."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from hfs_emg.batch import BATCH_TABLES, expand_inputs, run_batch
from hfs_emg.config import AnalysisConfig, SyncConfig

FILES = ("spontaneous_hfs.edf", "lsr_session.edf", "ncs_cmap.bdf")


@pytest.fixture(scope="module")
def inputs(example_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    for name in FILES:
        shutil.copy(example_dir / name, folder / name)
    # bytes garbage with a recording's extension
    (folder / "corrupt.edf").write_bytes(bytes(range(256)) * 20)
    for p in folder.iterdir():
        p.chmod(0o444)  # inputs are only read
    return folder


@pytest.fixture(scope="module")
def local_run(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return out, run_batch(inputs, out=out, workers=2, progress=False)


def test_one_error_row_and_tables(local_run, inputs):
    out, res = local_run
    errors = res["errors"]
    assert len(errors) == 1
    assert errors["file"].iloc[0].endswith("corrupt.edf")
    assert errors["error_type"].iloc[0] == "CorruptFileError"
    assert res.stats == {"n_files": 4, "n_analysed": 3, "n_cached": 0, "n_failed": 1}
    for name in BATCH_TABLES:
        assert res[name].columns[0] == "file"
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
        back = pd.read_parquet(out / f"{name}.parquet")
        assert len(back) == len(res[name])
    # the spontaneous file's bursts and the LSR file's stimuli end up in the right rows
    bursts = res["bursts"]
    assert set(bursts["file"].map(lambda f: f.rsplit("/", 1)[-1])) == {"spontaneous_hfs.edf"}
    assert res["lsr"].groupby("file")["stim_index"].nunique().max() == 100
    assert AnalysisConfig.from_toml(out / "config.toml") == AnalysisConfig()
    # every file gets its protocol, and the CMAP table only holds the CMAP file
    protocols = dict(
        zip(
            res["recording_summary"]["file"].map(lambda f: f.rsplit("/", 1)[-1]),
            res["recording_summary"]["protocol"],
            strict=True,
        )
    )
    assert protocols == {
        "spontaneous_hfs.edf": "spontaneous",
        "lsr_session.edf": "lsr",
        "ncs_cmap.bdf": "cmap",
    }
    assert set(res["cmap"]["file"].map(lambda f: f.rsplit("/", 1)[-1])) == {"ncs_cmap.bdf"}
    assert list(res["warnings"].columns) == ["file", "category", "message"]
    assert not list(out.glob(".*tmp*"))  # no temporary left behind


def test_resumed_run_skips_finished_files(local_run, inputs, caplog):
    out, first = local_run
    with caplog.at_level("INFO", logger="hfs_emg"):
        again = run_batch(inputs, out=out, workers=1, progress=False)
    assert again.stats == {"n_files": 4, "n_analysed": 0, "n_cached": 3, "n_failed": 1}
    assert "3 skipped (cached)" in caplog.text
    for name in BATCH_TABLES:
        pd.testing.assert_frame_equal(again[name], first[name])
    # another configuration is another cache key: everything is analysed again
    other = run_batch(
        expand_inputs(inputs / "*.bdf"),
        AnalysisConfig(sync=SyncConfig(min_channels=3)),
        out=out,
        workers=1,
        progress=False,
    )
    assert other.stats["n_analysed"] == 1 and other.stats["n_cached"] == 0


def test_dask_local_cluster_equals_local_pool(local_run, inputs):
    import distributed

    _, local = local_run
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",  # real loopback sockets (in-process comms take no host)
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = run_batch(inputs, scheduler=client, progress=False)
        by_address = run_batch(
            [inputs / "ncs_cmap.bdf"], scheduler=cluster.scheduler_address, progress=False
        )
    for name in BATCH_TABLES:
        pd.testing.assert_frame_equal(res[name], local[name])
    assert res.stats["n_failed"] == 1 and res.stats["n_analysed"] == 3
    assert by_address.stats["n_analysed"] == 1


def test_bad_arguments(inputs):
    with pytest.raises(ValueError, match="workers"):
        run_batch(inputs, workers=0, progress=False)
    with pytest.raises(ValueError, match="neither"):
        run_batch(inputs / "missing_dir", progress=False)
    with pytest.raises(ValueError, match="scheduler"):
        run_batch([inputs / "ncs_cmap.bdf"], scheduler=3, progress=False)


def test_dead_worker_is_an_error_row():
    import hfs_emg.batch as batch

    class Dead:
        def result(self):
            raise batch.ParameterError("worker died")

    rows = [batch._outcome(Dead(), "x.edf")]
    tables = batch._concat(rows)
    assert tables["errors"].to_dict("records") == [
        {"file": "x.edf", "error_type": "ParameterError", "message": "worker died"}
    ]


def test_warnings_are_kept_per_file(tmp_path):
    import dataclasses

    import hfs_emg
    from hfs_emg.simulate import simulate_lsr_session

    rec = simulate_lsr_session(n_stimuli=12, sfreq=5000.0, seed=2).recording
    rec = dataclasses.replace(rec, meta={"source": "simulate_lsr_session"})  # branch unknown
    path = tmp_path / "lsr.npz"
    hfs_emg.write_recording(rec, path)
    # the stimuli name no branch in an .npz: forced to the LSR protocol, measure_lsr warns
    res = run_batch([path], AnalysisConfig(protocol="lsr"), workers=1, progress=False)
    warned = res["warnings"]
    assert warned["file"].str.endswith("lsr.npz").all() and len(warned) >= 1
    assert warned["category"].eq("HfsEmgWarning").all()
    assert "branch" in " ".join(warned["message"])
