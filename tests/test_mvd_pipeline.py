"""The MVD modalities through the pipeline: protocol, tables, and function == analyze == batch
== report == CLI for the same file (EDF+ files written from the simulators)."""

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
from hfs_emg.pipeline.result import _canonical
from hfs_emg.simulate import simulate_fmep, simulate_free_running, simulate_zl_response

PHASES = {"dura_opening": 5.0, "decompression": 30.0, "dural_closure": 55.0}


def _short(rec):
    return rec.rename_channels({n: n.replace("orbicularis_", "o_") for n in rec.ch_names})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mvd")
    recs = {
        "lsr_zl": simulate_zl_response(
            duration_s=60.0, lsr_branch="zygomatic", phase_times_s=PHASES, seed=3
        ).recording,
        "zl": simulate_zl_response(duration_s=60.0, phase_times_s=PHASES, seed=5).recording,
        "fmep": simulate_fmep(duration_s=60.0, phase_times_s=PHASES, seed=2).recording,
        "free_running": simulate_free_running(
            duration_s=30.0, phase_times_s={"dura_opening": 5.0, "decompression": 15.0}, seed=1
        ).recording,
    }
    out = {}
    for name, rec in recs.items():
        path = d / f"{name}.edf"
        hfs_emg.write_recording(_short(rec), path)
        out[name] = path
    return out


def _functions(path: Path) -> dict[str, pd.DataFrame]:
    """The tables computed by the public functions directly (the documented recipe)."""
    rec = hfs_emg.read_recording(path)
    phases = hfs_emg.phase_markers(rec)
    cfg = AnalysisConfig()
    if path.stem == "fmep":
        fmep = hfs_emg.measure_fmep(rec)
        return {"fmep": fmep, "fmep_trend": hfs_emg.fmep_trend(fmep, phases=phases)}
    if path.stem == "free_running":
        trains = hfs_emg.classify_trains(rec)
        return {"trains": trains, "train_time": hfs_emg.train_time(trains, channels=rec)}
    ev = hfs_emg.find_stim_events(rec)
    zl = hfs_emg.measure_zl_response(rec, events=ev)
    out = {"zl": zl, "zl_trend": hfs_emg.zl_trend(zl, phases=phases)}
    if path.stem == "lsr_zl":
        lsr_ev = ev[hfs_emg.vessel_sites(ev, rec).isna().to_numpy()]
        lsr = hfs_emg.measure_lsr(rec, events=lsr_ev)
        out["lsr"] = lsr
        out["trend"] = hfs_emg.lsr_trend(lsr, phases=phases)
        out["lsr_morphology"] = hfs_emg.lsr_morphology(rec, lsr=lsr, events=lsr_ev)
        out["morphology_summary"] = hfs_emg.summarize_morphology(
            out["lsr_morphology"], phases=phases, baseline_n=cfg.trend.baseline_n
        )
    assert cfg.zl.window_ms == (4.5, 14.0)
    return out


def _same(expected, got, route):
    for name, table in expected.items():
        assert name in got, (route, name)
        pd.testing.assert_frame_equal(
            _canonical(table).reset_index(drop=True),
            got[name].reset_index(drop=True),
            check_exact=True,
            obj=f"{route}:{name}",
        )


PROTOCOL = {"lsr_zl": "lsr", "zl": "zl", "fmep": "fmep", "free_running": "free_running"}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PROTOCOL))
def test_function_analyze_batch_report_cli_agree(files, tmp_path, name):
    path = files[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _functions(path)
        result = hfs_emg.analyze(path)
        assert result.protocol == PROTOCOL[name]
        _same(expected, result.tables(), "analyze")
        batch = hfs_emg.run_batch([path], workers=1, progress=False)
        assert len(batch["errors"]) == 0
        _same(expected, {n: batch[n].drop(columns="file") for n in expected}, "run_batch")
        shown = hfs_emg.report(path, out=tmp_path / "report.html")
        _same(expected, shown, "report")
        html = (tmp_path / "report.html").read_text()
        title = {
            "lsr_zl": "Z-L response (",
            "zl": "Z-L trend per channel",
            "fmep": "FMEP final/baseline",
            "free_running": "A-train time per channel",
        }[name]
        assert title in html
        out = tmp_path / "cli"
        assert main(["analyze", str(path), "--out", str(out), "-q"]) == 0
        cli = {n: pd.read_parquet(out / f"{n}.parquet").drop(columns="file") for n in expected}
        _same(expected, cli, "cli")


def test_lsr_session_with_vessel_stimuli_keeps_them_out_of_the_lsr(files):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = hfs_emg.analyze(files["lsr_zl"])
    vessel = set(res.zl["stim_index"])
    assert vessel and vessel.isdisjoint(set(res.lsr["stim_index"]))
    # the zygomatic-branch channel is direct for the LSR stimuli, never for the vessel
    assert set(res.lsr.loc[res.lsr["channel"] == "o_oculi_L", "kind"]) == {"direct"}
    assert set(res.zl["kind"]) == {"zlr"}
    tr = res.zl_trend.set_index("channel")
    assert tr.loc["overall", "status"] == "disappeared"
    assert tr.loc["overall", "loss_phase"] == "after_decompression"
    assert res.lsr_morphology["measured"].sum() > 0


def test_protocol_keywords():
    from hfs_emg.pipeline.protocol import decide_protocol

    rec = simulate_fmep(duration_s=20.0, phase_times_s=PHASES).recording
    cfg = AnalysisConfig()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert decide_protocol(rec, cfg).protocol == "fmep"
    few = {"n_a_trains": 1, "n_b_trains": 1, "n_c_trains": 0}
    spont = simulate_free_running(duration_s=10.0, phase_times_s={"dura_opening": 2.0}, **few)
    assert decide_protocol(spont.recording, cfg).protocol == "free_running"
    plain = simulate_free_running(duration_s=10.0, phase_times_s={"dura_opening": 20.0}, **few)
    assert decide_protocol(plain.recording, cfg).protocol == "spontaneous"
    zl = simulate_zl_response(duration_s=20.0).recording
    assert decide_protocol(zl, cfg).protocol == "zl"


def test_streamed_routes(files):
    """Streamed analysis: the evoked MVD tables equal the in-memory ones; free-running trains
    are not streamed, and the result says so with a warning instead of silently lacking them."""
    small = AnalysisConfig(max_memory_mb=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("lsr_zl", "fmep"):
            mem = hfs_emg.analyze(files[name]).tables()
            streamed = hfs_emg.analyze(files[name], small)
            assert streamed.provenance["streamed"]
            for table in ("zl", "zl_trend", "lsr_morphology", "fmep", "fmep_trend"):
                if table in mem:
                    pd.testing.assert_frame_equal(
                        mem[table], streamed.tables()[table], rtol=1e-9, obj=table
                    )
    with pytest.warns(hfs_emg.HfsEmgWarning, match="not computed when the file is streamed"):
        res = hfs_emg.analyze(files["free_running"], small)
    assert res.protocol == "free_running" and res.trains is None
