"""EMG-BIDS input through mne-bids, outputs as BIDS derivatives."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from hfs_emg import ParameterError
from hfs_emg.bids import find_bids_recordings, run_bids


@pytest.fixture
def dataset(example_dir, tmp_path):
    root = tmp_path / "bids"
    root.mkdir()
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "hfs test", "BIDSVersion": "1.10.0"})
    )
    layout = {
        "sub-01/ses-pre/emg/sub-01_ses-pre_task-rest_emg.edf": "spontaneous_hfs.edf",
        "sub-01/ses-pre/emg/sub-01_ses-pre_task-lsr_emg.edf": "lsr_session.edf",
        "sub-02/emg/sub-02_task-rest_run-1_emg.bdf": "ncs_cmap.bdf",
    }
    for rel, name in layout.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(example_dir / name, root / rel)
    (root / "sub-02/emg/sub-02_task-rest_run-1_emg.json").write_text("{}")
    return root


def test_find_recordings(dataset):
    found = find_bids_recordings(dataset)
    assert [p.name for p in found] == [
        "sub-01_ses-pre_task-lsr_emg.edf",
        "sub-01_ses-pre_task-rest_emg.edf",
        "sub-02_task-rest_run-1_emg.bdf",
    ]
    assert len(find_bids_recordings(dataset, subjects=["02"])) == 1
    with pytest.raises(ParameterError):
        find_bids_recordings(dataset / "nope")


def test_run_bids_writes_derivatives(dataset, example_dir):
    res = run_bids(dataset, workers=1, progress=False)
    assert res.stats["n_failed"] == 0 and res.stats["n_analysed"] == 3
    deriv = dataset / "derivatives" / "hfs_emg"
    desc = json.loads((deriv / "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative"
    assert desc["GeneratedBy"][0]["Name"] == "hfs_emg"
    bursts = deriv / "sub-01/ses-pre/emg/sub-01_ses-pre_task-rest_desc-bursts_emg.tsv"
    table = pd.read_csv(bursts, sep="\t")
    truth = pd.read_csv(example_dir / "truth" / "spontaneous_hfs_bursts.csv")
    assert abs(len(table) - len(truth)) <= 2
    trend = deriv / "sub-01/ses-pre/emg/sub-01_ses-pre_task-lsr_desc-trend_emg.tsv"
    assert set(pd.read_csv(trend, sep="\t")["status"]) >= {"disappeared"}
    # the CMAP file is analysed as a CMAP (its markers say so), not as an LSR session
    assert (deriv / "sub-02/emg/sub-02_task-rest_run-1_desc-cmap_emg.tsv").is_file()
    assert not (deriv / "sub-02/emg/sub-02_task-rest_run-1_desc-lsr_emg.tsv").exists()
    rsum = deriv / "sub-02/emg/sub-02_task-rest_run-1_desc-recordingsummary_emg.tsv"
    assert pd.read_csv(rsum, sep="\t")["protocol"].tolist() == ["cmap"]
    # derivatives are not picked up as inputs on a second run
    assert len(find_bids_recordings(dataset)) == 3


def test_cli_bids(dataset, tmp_path):
    from hfs_emg.cli import main

    out = tmp_path / "deriv"
    assert main(["bids", str(dataset), "--out", str(out), "--workers", "1", "-q"]) == 0
    assert (out / "sub-02/emg/sub-02_task-rest_run-1_desc-summary_emg.tsv").is_file()
    assert main(["bids", str(tmp_path / "missing"), "-q"]) == 2
