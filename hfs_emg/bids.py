"""Old import path of :mod:`hfs_emg.pipeline.bids` (moved there; kept so old imports work)."""

from .pipeline import bids as _target
from .pipeline.bids import *  # noqa: F403

__all__ = list(getattr(_target, "__all__", []))


def __getattr__(name: str) -> object:
    return getattr(_target, name)
