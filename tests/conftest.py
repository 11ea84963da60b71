"""Shared fixtures. Real public recordings live in ../shared/data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = ROOT / "example_data"
SHARED_DATA = Path(os.environ.get("HFS_EMG_SHARED_DATA", ROOT.parent / "shared" / "data"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``shared_data`` skip only when the shared data folder is absent."""
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"shared data folder {SHARED_DATA} is absent")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real public recordings (../shared/data); skips the test when absent.

    The skip lives in the fixture itself, so a test that uses the folder cannot forget the
    ``shared_data`` marker and fail on a fresh clone without ``../shared``.
    """
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def example_dir() -> Path:
    """Folder of the bundled example recordings."""
    return EXAMPLE_DIR
