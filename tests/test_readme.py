"""The README's quickstart runs as written, from the repository root."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import hfs_emg

ROOT = Path(__file__).resolve().parent.parent


def test_readme_quickstart_runs() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.lstrip().startswith("# hfs_emg")
    head = text[:600]
    assert "make demo" in head and "make test" in head
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", hfs_emg.HfsEmgWarning)
            exec(compile(code, "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert namespace["summary"].channels["n_bursts"].sum() > 0
    assert set(namespace["lsr"]["kind"]) == {"direct", "lsr"}
    assert namespace["window"].duration_s == 10.0 + 1 / namespace["window"].sfreq


def test_readme_quickstart_analysis_protocol(tmp_path) -> None:
    # the quickstart's analyze() call decides the LSR protocol from the markers
    res = hfs_emg.analyze(ROOT / "example_data" / "lsr_session.edf")
    assert res.protocol == "lsr" and res.trend is not None
