"""Sphinx configuration of the hfs_emg documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import hfs_emg  # noqa: E402
from hfs_emg.io import READERS, WRITERS  # noqa: E402

project = "hfs_emg"
author = "hfs_emg developers"
copyright = "2026, hfs_emg developers"
release = hfs_emg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "matplotlib.sphinxext.plot_directive",
    "numpydoc",
    "myst_parser",
]
templates_path: list[str] = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "formats.md"]  # formats: user_guide
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# Markdown pages (validation tables, benchmarks, batch, formats) are read by myst-parser
myst_heading_anchors = 3

autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
intersphinx_mapping: dict[str, tuple[str, None]] = {}

html_theme = "pydata_sphinx_theme"
html_title = f"hfs_emg {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []

# -- generated page: the formats table from the reader registry --
GENERATED = HERE / "generated"
GENERATED.mkdir(exist_ok=True)


def _formats_table() -> str:
    rows = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - extension",
        "     - reader",
        "     - writer",
    ]
    for ext, spec in sorted(READERS.items()):
        rows += [
            f"   * - ``{ext}``",
            f"     - ``{spec.replace(':', '.')}``",
            f"     - ``{WRITERS[ext].replace(':', '.')}``" if ext in WRITERS else "     - ",
        ]
    return "\n".join(rows) + "\n"


_table = _formats_table()
_target = GENERATED / "formats_table.txt"
if not _target.exists() or _target.read_text(encoding="utf-8") != _table:
    _target.write_text(_table, encoding="utf-8")

plot_formats = [("png", 90)]
plot_html_show_formats = False
plot_html_show_source_link = False
