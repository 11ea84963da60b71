"""hfs-emg analyze / batch / config: outputs, exit codes, quiet mode, help texts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hfs_emg.cli import main
from hfs_emg.config import AnalysisConfig

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def folder(example_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_in")
    for name in ("ncs_cmap.bdf", "ncs_f_waves.bdf"):
        shutil.copy(example_dir / name, d / name)
    return d


def test_analyze_writes_tables_exit_0(folder, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["analyze", str(folder / "ncs_cmap.bdf"), "--out", str(out), "--quiet"])
    assert code == 0
    assert capsys.readouterr().out == ""  # quiet: nothing but errors
    cmap = pd.read_csv(out / "cmap.csv")  # its markers say "CMAP stim left/right"
    assert sorted(cmap["channel"]) == ["Nasalis_L", "Nasalis_R"]
    assert pd.read_csv(out / "recording_summary.csv")["n_stimuli"].tolist() == [8]
    assert len(pd.read_csv(out / "lsr.csv")) == 0
    assert len(pd.read_parquet(out / "errors.parquet")) == 0


def test_protocol_and_reader_options_from_the_shell(folder, tmp_path):
    out = tmp_path / "res"
    args = ["analyze", str(folder / "ncs_cmap.bdf"), "--out", str(out), "-q"]
    assert main([*args, "--protocol", "lsr", "--stim-branch", "zygomatic"]) == 0
    lsr = pd.read_csv(out / "lsr.csv")
    assert lsr["stim_index"].nunique() == 8  # ncs_cmap holds 8 stimuli (truth file)
    config = AnalysisConfig.from_toml(out / "config.toml")
    assert config.protocol == "lsr" and config.lsr.stim_branch == "zygomatic"
    out2 = tmp_path / "res2"
    code = main(
        [
            "analyze",
            str(folder / "ncs_cmap.bdf"),
            "--out",
            str(out2),
            "-q",
            "--picks",
            "Nasalis_L",
            "--units",
            "uV",
        ]
    )
    assert code == 0
    assert pd.read_csv(out2 / "cmap.csv")["channel"].tolist() == ["Nasalis_L"]
    assert AnalysisConfig.from_toml(out2 / "config.toml").read.picks == ["Nasalis_L"]


def test_batch_with_a_bad_file_exits_1(folder, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    for p in folder.iterdir():
        shutil.copy(p, tmp_path / "in" / p.name)
    (tmp_path / "in" / "broken.bdf").write_bytes(b"\x00" * 700)
    cfg = tmp_path / "a.toml"
    AnalysisConfig().to_toml(cfg)
    out = tmp_path / "res"
    args = [
        "batch",
        str(tmp_path / "in"),
        "--out",
        str(out),
        "--workers",
        "1",
        "--config",
        str(cfg),
    ]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "broken.bdf" in captured.err
    assert "3 file(s): 2 analysed, 0 cached, 1 failed" in captured.out
    assert len(pd.read_csv(out / "errors.csv")) == 1
    assert main([*args, "-q"]) == 1  # resumed: cached
    assert main(["batch", str(tmp_path / "in" / "*.bdf"), "--out", str(out), "-q"]) == 1


def test_usage_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[bursts]\nmethd = 'tkeo'\n")
    assert main(["analyze", "x.edf", "--config", str(bad)]) == 2
    assert "methd" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "*.edf"), "--out", str(tmp_path / "o")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["batch", "--workers", "2"])
    assert exc.value.code == 2


def test_config_default_and_check(tmp_path, capsys):
    assert main(["config", "--default"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert AnalysisConfig.from_toml(path) == AnalysisConfig()
    assert main(["config", "--check", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


def test_console_help_teaches():
    env_py = sys.executable
    proc = subprocess.run(
        [env_py, "-m", "hfs_emg", "batch", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert "examples:" in proc.stdout and "exit codes:" in proc.stdout
    assert "--scheduler" in proc.stdout
