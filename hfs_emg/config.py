"""Old import path of :mod:`hfs_emg.pipeline.config` (moved there; kept so old imports work)."""

from .pipeline import config as _target
from .pipeline.config import *  # noqa: F403

__all__ = list(getattr(_target, "__all__", []))


def __getattr__(name: str) -> object:
    return getattr(_target, name)
