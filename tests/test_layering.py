"""The import rules of the package, checked on the source with ``ast`` (nothing is imported).

1. Nothing outside ``hfs_emg.pipeline`` imports it, except the package ``__init__`` (public
   re-exports and the aliases of the old module paths).
2. No import cycle among hfs_emg modules, counting imports inside functions too (a lazy
   import hides a cycle from Python, not from a maintainer).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hfs_emg"

#: Modules outside pipeline/ that may import it: the package root (public re-exports and the
#: aliases of the old module paths) and ``python -m hfs_emg``.
ALLOWED_PIPELINE_IMPORTERS = {"hfs_emg", "hfs_emg.__main__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The hfs_emg module that ``name`` (a module or a module attribute) lives in."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # ``from pkg import sub`` imports the submodule when one exists, else pkg itself
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            targets = [
                t
                for t in targets
                if t != base or not any(f"{base}.{a.name}" in modules for a in node.names)
            ]
        else:
            continue
        for target in targets:
            if target == "hfs_emg" or target.startswith("hfs_emg."):
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != module:
                    found.add(resolved)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _in_pipeline(name: str) -> bool:
    return name == "hfs_emg.pipeline" or name.startswith("hfs_emg.pipeline.")


def test_the_graph_sees_known_edges() -> None:
    graph = _graph()
    assert "hfs_emg.pipeline.analysis" in graph["hfs_emg.pipeline.batch"]
    assert "hfs_emg.detection" in graph["hfs_emg.pipeline.steps"]  # a lazy import
    assert "hfs_emg.signal" in graph["hfs_emg.pipeline.streaming"]  # ``from .. import signal``


def test_nothing_below_the_pipeline_imports_it() -> None:
    graph = _graph()
    offenders = {
        module: sorted(t for t in targets if _in_pipeline(t))
        for module, targets in graph.items()
        if not _in_pipeline(module) and module not in ALLOWED_PIPELINE_IMPORTERS
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}, f"modules below the pipeline import it: {offenders}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("scope", ["package"])
def test_no_import_cycle(scope: str) -> None:
    graph = _graph()
    # The package __init__ imports everything to re-export it; a module importing a name from
    # the package root (``from hfs_emg import x``) would close a cycle through it, so it stays.
    cycles = _cycles(graph)
    assert cycles == [], f"import cycles among hfs_emg modules: {cycles}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hfs_emg.config", "hfs_emg.pipeline.config"),
        ("hfs_emg.analysis", "hfs_emg.pipeline.analysis"),
        ("hfs_emg._stream", "hfs_emg.pipeline.streaming"),
        ("hfs_emg.reporting", "hfs_emg.pipeline.report"),
        ("hfs_emg.batch", "hfs_emg.pipeline.batch"),
        ("hfs_emg.bids", "hfs_emg.pipeline.bids"),
        ("hfs_emg.cli", "hfs_emg.pipeline.cli"),
    ],
)
def test_old_module_paths_are_the_moved_modules(old: str, new: str) -> None:
    import importlib

    assert importlib.import_module(old) is importlib.import_module(new)
    assert not (PACKAGE.parent / (old.replace(".", "/") + ".py")).exists()  # a true move


def test_old_private_names_still_import() -> None:
    from hfs_emg.batch import _concat
    from hfs_emg.config import _coerce
    from hfs_emg.pipeline.batch import _concat as new_concat

    assert _concat is new_concat and callable(_coerce)


def test_every_package_ships_in_the_wheel() -> None:
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert listed == on_disk | {"hfs_emg.example_data"}
    assert config["tool"]["setuptools"]["package-dir"] == {"hfs_emg.example_data": "example_data"}


def test_python_dash_m_old_cli_path_runs_the_moved_cli() -> None:
    import subprocess
    import sys

    env = {**__import__("os").environ, "PYTHONPATH": str(PACKAGE.parent)}
    for module in ("hfs_emg.cli", "hfs_emg", "hfs_emg.pipeline.cli"):
        done = subprocess.run(
            [sys.executable, "-W", "error", "-m", module, "--version"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, (module, done.stderr)
        assert done.stdout.startswith("hfs_emg "), module
