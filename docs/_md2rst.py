"""Minimal Markdown -> reStructuredText for the validation/benchmark pages (no pandoc, no myst).

Handles what docs/*.md use: ATX headings, fenced code blocks, pipe tables, bullet and numbered
lists, inline code, bold/italic and links. conf.py runs it at build time, so the .md files stay
the single source of the numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

_LEVELS = {1: "=", 2: "-", 3: "~", 4: "^", 5: '"'}
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?![\w*])")


def _inline(text: str) -> str:
    """Convert inline markup; escape stray characters docutils would read as markup."""
    out: list[str] = []
    pos = 0
    for m in _CODE.finditer(text):
        out.append(_plain(text[pos : m.start()]))
        out.append(f"\\ ``{m.group(1)}``\\ ")
        pos = m.end()
    out.append(_plain(text[pos:]))
    return "".join(out).replace("\\ \\ ", "\\ ")


def _plain(text: str) -> str:
    text = text.replace("\\", "\\\\")
    # protect markup we convert, escape the rest
    tokens: list[str] = []

    def keep(s: str) -> str:
        tokens.append(s)
        return f"\x00{len(tokens) - 1}\x00"

    text = _LINK.sub(lambda m: keep(f"`{_esc(m.group(1))} <{m.group(2)}>`__"), text)
    text = _BOLD.sub(lambda m: keep(f"\\ **{_esc(m.group(1))}**\\ "), text)
    text = _ITALIC.sub(lambda m: keep(f"\\ *{_esc(m.group(1))}*\\ "), text)
    text = _esc(text)
    return re.sub("\x00(\\d+)\x00", lambda m: tokens[int(m.group(1))], text)


def _esc(text: str) -> str:
    for ch in ("*", "`", "|", "_"):
        text = text.replace(ch, "\\" + ch)
    return text


def _table(rows: list[str]) -> list[str]:
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    cells = [r for r in cells if not all(re.fullmatch(r":?-{2,}:?", c) for c in r if c)]
    width = max(len(r) for r in cells)
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in cells:
        row = row + [""] * (width - len(row))
        for k, cell in enumerate(row):
            prefix = "   * - " if k == 0 else "     - "
            out.append(prefix + (_inline(cell) or "\\ "))
    return [*out, ""]


def convert(md: str) -> str:
    lines = md.splitlines()
    out: list[str] = []
    i = 0
    list_indent: int | None = None
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            i += 1
            out += ["", "::", ""] + [("    " + b).rstrip() for b in block] + [""]
            list_indent = None
            continue
        m = re.match(r"^(#{1,5})\s+(.*)$", line)
        if m:
            title = _inline(m.group(2).strip()).strip().removeprefix("\\ ").removesuffix("\\ ")
            bar = _LEVELS[len(m.group(1))] * max(len(title) + 4, 4)
            out += ["", title, bar, ""]
            i += 1
            list_indent = None
            continue
        if line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out += ["", *_table(rows)]
            list_indent = None
            continue
        m = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", line)
        if m:
            indent = len(m.group(1))
            if list_indent is None or indent != list_indent:
                out.append("")
            list_indent = indent
            out.append(f"{m.group(1)}{m.group(2)} {_inline(m.group(3))}")
            i += 1
            continue
        if not line.strip():
            continues = i + 1 < len(lines) and lines[i + 1].startswith(" ")
            list_indent = list_indent if continues else None
            out.append("")
        else:
            out.append(_inline(line))
        i += 1
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def convert_file(src: Path, dst: Path) -> None:
    text = convert(src.read_text(encoding="utf-8"))
    header = f".. This file is generated from {src.name} by docs/_md2rst.py; edit the .md.\n\n"
    dst.parent.mkdir(parents=True, exist_ok=True)
    new = header + text
    if not dst.exists() or dst.read_text(encoding="utf-8") != new:
        dst.write_text(new, encoding="utf-8")
