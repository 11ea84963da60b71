"""One analysis, every route: analyze, run_batch, the streamed path, report and the CLI agree.

For each bundled example and two real recordings (the Spike2 H-reflex file and a PhysioNet
WFDB needle EMG), the tables of ``analyze(path)`` are compared with those of the other routes.
In-memory routes must be identical (exact equality, dtypes included); the streamed path filters
chunk by chunk, so its floats may differ in the last digits (relative 1e-9) but never in a
count, a channel or a category.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

import hfs_emg
from hfs_emg.pipeline.cli import main
from hfs_emg.pipeline.config import AnalysisConfig

EXAMPLES = [
    "lsr_session.edf",
    "ncs_blink_reflex.bdf",
    "ncs_cmap.bdf",
    "ncs_f_waves.bdf",
    "spontaneous_hfs.edf",
]
#: (file, protocol) of the real recordings; the protocol is decided from their markers.
SHARED = [
    ("spike2py-smr/physiology.smr", "responses"),  # 'Hreflex' event channel
    ("physionet-emgdb/emg_healthy.hea", "spontaneous"),  # no stimulus: artefacts are not taken
]
EXAMPLE_PROTOCOLS = {
    "lsr_session.edf": "lsr",
    "ncs_blink_reflex.bdf": "blink_reflex",
    "ncs_cmap.bdf": "cmap",
    "ncs_f_waves.bdf": "f_waves",
    "spontaneous_hfs.edf": "spontaneous",
}
#: Streamed: below every file's size; chunks of 60 s (the default) so the hum lines are chosen
#: on the same first minute as in memory for these files.
STREAMED = AnalysisConfig(max_memory_mb=0.05)


def _same(expected: dict[str, pd.DataFrame], got: dict[str, pd.DataFrame], route: str, rtol=None):
    assert set(got) >= set(expected), (route, sorted(set(expected) - set(got)))
    for name, table in expected.items():
        other = got[name].reset_index(drop=True)
        if rtol is None:
            pd.testing.assert_frame_equal(table, other, check_exact=True, obj=f"{route}:{name}")
        else:
            pd.testing.assert_frame_equal(table, other, rtol=rtol, obj=f"{route}:{name}")


def _routes(path: Path, tmp_path: Path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = hfs_emg.analyze(path)
        tables = {k: v.reset_index(drop=True) for k, v in result.tables().items()}
        batch = hfs_emg.run_batch([path], workers=1, progress=False)
        assert len(batch["errors"]) == 0
        _same(tables, {n: batch[n].drop(columns="file") for n in tables}, "run_batch")
        streamed = hfs_emg.analyze(path, STREAMED)
        assert streamed.provenance["streamed"] and streamed.protocol == result.protocol
        _same(tables, streamed.tables(), "streamed", rtol=1e-9)
        shown = hfs_emg.report(path, out=tmp_path / "report.html")
        _same(tables, shown, "report")
        out = tmp_path / "cli"
        assert main(["analyze", str(path), "--out", str(out), "-q"]) == 0
        cli = {n: pd.read_parquet(out / f"{n}.parquet").drop(columns="file") for n in tables}
        _same(tables, cli, "cli")
    return result.protocol


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_route_gives_the_same_tables(example_dir, tmp_path, name):
    assert _routes(example_dir / name, tmp_path) == EXAMPLE_PROTOCOLS[name]


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize(("rel", "protocol"), SHARED)
def test_every_route_gives_the_same_tables_real(shared_data, tmp_path, rel, protocol):
    assert _routes(shared_data / rel, tmp_path) == protocol


def test_to_mne_carries_the_result_as_annotations(example_dir):
    rec = hfs_emg.read_recording(example_dir / "lsr_session.edf")
    result = hfs_emg.analyze(rec)
    raw = rec.to_mne(annotations=result)
    desc = pd.Series(raw.annotations.description)
    assert (desc == "stimulus").sum() == len(result.stim_events) == 100
    gone = result.trend[result.trend["channel"] != "overall"]
    assert (desc == "LSR disappeared").sum() == gone["disappearance_time_s"].notna().sum()
    # the recording's own markers stay, on the same clock
    assert (desc == "stim zygomatic").sum() == 100
    onsets = raw.annotations.onset[desc.to_numpy() == "stimulus"] + raw.first_time
    assert abs(onsets - result.stim_events["onset_s"].to_numpy()).max() < 1e-9
    spont = hfs_emg.read_recording(example_dir / "spontaneous_hfs.edf")
    res2 = hfs_emg.analyze(spont)
    raw2 = spont.to_mne(annotations=res2)
    bursts = [a for a in raw2.annotations if a["description"] == "burst"]
    assert len(bursts) == len(res2.bursts)
    assert {a["ch_names"][0] for a in bursts} == set(res2.bursts["channel"])
