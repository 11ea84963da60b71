"""Old import path of :mod:`hfs_emg.pipeline.cli` (moved there; kept so old imports work)."""

from .pipeline import cli as _target
from .pipeline.cli import *  # noqa: F403

__all__ = list(getattr(_target, "__all__", []))


def __getattr__(name: str) -> object:
    return getattr(_target, name)


if __name__ == "__main__":  # ``python -m hfs_emg.cli``
    import sys

    sys.exit(_target.main())
