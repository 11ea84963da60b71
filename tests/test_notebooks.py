"""Execute every tutorial notebook top to bottom on the example data.

The notebooks are written as jupytext percent scripts (``notebooks/NN_*.py``, real code under
ruff) paired with the stored ``.ipynb`` (``jupytext --sync notebooks/*.py`` after an edit);
the test checks that each pair holds the same cells, then runs the notebook of the script. The
kernel is the interpreter running the tests (a temporary kernelspec pointing at
``sys.executable``), so no ``ipykernel install`` step is needed, and it imports the hfs_emg of
this checkout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KERNEL = "hfs-emg-test"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory) -> Path:
    """A kernelspec for the current interpreter, on a private JUPYTER_PATH."""
    base = tmp_path_factory.mktemp("jupyter")
    spec = base / "kernels" / KERNEL
    spec.mkdir(parents=True)
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "hfs_emg tests",
                "language": "python",
                "env": {"PYTHONPATH": pythonpath, "MPLBACKEND": "Agg"},
            }
        )
    )
    return base


def test_notebooks_exist_and_are_stored_without_outputs():
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_quickstart.ipynb",
        "02_spontaneous_spasms.ipynb",
        "03_intraoperative_lsr.ipynb",
        "04_nerve_conduction_blink_reflex.ipynb",
        "05_batch_cohort.ipynb",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code)
        assert any("References" in c.source or "et al." in c.source for c in nb.cells)


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_its_script(path):
    script = path.with_suffix(".py")
    assert script.is_file(), f"{path.name} has no jupytext script {script.name}"
    from_script = jupytext.read(script)
    stored = nbformat.read(path, as_version=4)
    assert _cells(from_script) == _cells(stored), (
        f"{path.name} differs from {script.name}: run `jupytext --sync notebooks/*.py`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    nb = jupytext.read(path.with_suffix(".py"))
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    assert elapsed < 60.0, f"{path.name} took {elapsed:.1f} s"
