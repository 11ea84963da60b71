"""Shared parameter docs (hfs_emg._docs): filling, errors, and the filled plotting docstrings."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hfs_emg.plotting as plotting
from hfs_emg._docs import docdict, fill_doc

PLOT_FUNCS = [getattr(plotting, name) for name in plotting.__all__]


def _parameters(doc: str) -> list[tuple[str, list[str]]]:
    """(``name : type`` line, description lines) of the numpydoc Parameters section."""
    lines = inspect.cleandoc(doc).splitlines()
    start = lines.index("Parameters") + 2
    assert lines[start - 1] == "-" * len("Parameters")
    entries: list[tuple[str, list[str]]] = []
    for line in lines[start:]:
        if not line.strip():  # a blank line ends the section
            break
        if line.startswith(" "):
            entries[-1][1].append(line)
        else:
            entries.append((line, []))
    return entries


def test_fill_doc_indents_the_entry_at_the_placeholder() -> None:
    def f() -> None:
        """Do.

        Parameters
        ----------
            %(ax)s
        x : int
            A number, 50 % of it.
        """

    fill_doc(f)
    expected = (
        "Do.\n\n        Parameters\n        ----------\n"
        "            ax : matplotlib.axes.Axes, optional\n"
        "                Axes to draw into; a new figure is made when omitted.\n"
        "        x : int\n            A number, 50 % of it.\n        "
    )
    assert f.__doc__ == expected


def test_fill_doc_rejects_unknown_keys_and_inline_placeholders() -> None:
    def unknown() -> None:
        """Do.

        %(no_such_key)s
        """

    with pytest.raises(KeyError, match=r"unknown.*no_such_key.*known keys: .*ax"):
        fill_doc(unknown)

    def inline() -> None:
        """Do with %(ax)s inline."""

    with pytest.raises(ValueError, match=r"%\(ax\)s.*line of its own"):
        fill_doc(inline)


def test_fill_doc_leaves_functions_without_docstring() -> None:
    def bare() -> None:
        pass

    assert fill_doc(bare) is bare and bare.__doc__ is None


def test_docdict_entries_are_numpydoc_parameters_or_sections() -> None:
    for key, text in docdict.items():
        lines = text.strip("\n").splitlines()
        if lines[1] == "-" * len(lines[0]):  # a whole section: header, underline, entries
            lines = lines[2:]
        heads = [k for k, line in enumerate(lines) if not line.startswith(" ")]
        assert heads[0] == 0, key
        for k, head in enumerate(heads):  # each "name : type" line has a description
            body = lines[head + 1 : heads[k + 1] if k + 1 < len(heads) else len(lines)]
            assert body and all(line.startswith("    ") for line in body), key
            typed = " : " in lines[head] or lines[head].startswith("**")  # **kwargs: no type
            assert typed or key == "returns_figure", key


def test_every_docstring_of_the_package_is_filled() -> None:
    """A placeholder left in a docstring means a missing @fill_doc (or one put too high)."""
    import hfs_emg

    left = []
    for info in pkgutil.walk_packages(hfs_emg.__path__, "hfs_emg."):
        if ".live." in info.name or info.name.endswith((".live", "__main__", "._docs")):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if getattr(obj, "__module__", None) == info.name and "%(" in (obj.__doc__ or ""):
                left.append(f"{info.name}.{name}")
    assert left == []
    assert len(docdict) <= 40  # a few shared entries, not a second copy of every docstring


@pytest.mark.parametrize("func", PLOT_FUNCS, ids=lambda f: f.__name__)
def test_plotting_docstrings_document_each_parameter_once(func: Callable[..., Any]) -> None:
    doc = func.__doc__
    assert "%(" not in doc
    entries = _parameters(doc)
    documented = [n.strip() for head, _ in entries for n in head.split(" : ")[0].split(",")]
    in_signature = [
        name
        for name, p in inspect.signature(func).parameters.items()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert sorted(documented) == sorted(in_signature)
    # every parameter has a type and a description indented by four spaces
    for head, body in entries:
        assert " : " in head and body, head
        assert all(line.startswith("    ") and line[4] != " " for line in body), head
    returns = inspect.cleandoc(doc).split("Returns\n-------\n")[1].splitlines()
    assert returns[1].startswith("    ") and returns[1].strip(), "Returns without description"
    # each entry the source names appears once and verbatim, indented like the parameters
    keys = re.findall(r"^ *%\((\w+)\)s$", inspect.getsource(func), flags=re.MULTILINE)
    for key in keys:
        entry = "\n".join("    " + line for line in docdict[key].strip("\n").splitlines())
        assert doc.count(entry) == 1, key


def test_plotting_uses_the_shared_entries() -> None:
    used = re.findall(r"^ *%\((\w+)\)s$", inspect.getsource(plotting), flags=re.MULTILINE)
    # ax and title of (almost) every figure, and the table/phase entries, written once
    assert used.count("title") == len(PLOT_FUNCS) - 2  # burst metrics has no title; decimate
    assert used.count("returns_figure") == len(PLOT_FUNCS) - 1  # minmax_decimate: arrays
    assert {"ax", "title", "returns_figure", "phases", "lsr_trend"} <= set(used)


def test_every_entry_is_used_twice_or_more() -> None:
    """An entry used once is not shared; one used nowhere is dead text."""
    import hfs_emg

    root = Path(hfs_emg.__file__).parent
    text = "\n".join(p.read_text() for p in root.rglob("*.py"))
    uses = {key: len(re.findall(rf"^ *%\({key}\)s$", text, flags=re.MULTILINE)) for key in docdict}
    assert {key: n for key, n in uses.items() if n < 2} == {}
