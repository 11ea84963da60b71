"""Old module paths of the modules that moved into :mod:`hfs_emg.pipeline`.

``import hfs_emg.config`` or ``from hfs_emg.batch import run_batch`` keep working: a meta path
finder answers for the old names and hands out the moved module itself (one module object under
two names, so private names and monkeypatching work as before). Nothing is imported until an
old name is asked for; ``python -m hfs_emg.cli`` runs the moved module (as do ``python -m
hfs_emg`` and the ``hfs-emg`` script).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import CodeType, ModuleType

#: old module name -> new module name
MOVED: dict[str, str] = {
    "hfs_emg.config": "hfs_emg.pipeline.config",
    "hfs_emg.analysis": "hfs_emg.pipeline.analysis",
    "hfs_emg._stream": "hfs_emg.pipeline.streaming",
    "hfs_emg.reporting": "hfs_emg.pipeline.report",
    "hfs_emg.batch": "hfs_emg.pipeline.batch",
    "hfs_emg.bids": "hfs_emg.pipeline.bids",
    "hfs_emg.cli": "hfs_emg.pipeline.cli",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # a placeholder; exec_module swaps in the moved module

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns whatever sys.modules holds under the name after exec.
        sys.modules[module.__name__] = importlib.import_module(self.target)

    def get_code(self, fullname: str) -> CodeType:
        """``python -m <old name>`` runs the moved module as ``__main__``."""
        source = f"import runpy\nrunpy.run_module({self.target!r}, run_name='__main__')\n"
        return compile(source, f"<{fullname} -> {self.target}>", "exec")


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        import importlib.util

        target = importlib.util.find_spec(new)  # its file: sys.argv[0] under ``python -m``
        origin = target.origin if target is not None else None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(new), origin=origin)


def install() -> None:
    """Put the finder on :data:`sys.meta_path` once."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())  # before editable-install finders
