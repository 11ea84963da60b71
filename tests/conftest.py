"""Shared fixtures. Real public recordings live in ../shared/data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = ROOT / "example_data"
SHARED_DATA = Path(os.environ.get("HFS_EMG_SHARED_DATA", ROOT.parent / "shared" / "data"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the shared data skip only when the shared data folder is absent.

    A test on the shared data is one marked ``shared_data`` or one that requests the
    ``shared_data`` fixture (it gets the marker here, so it cannot forget it and fail on a fresh
    clone without ``../shared``). The reason holds by construction: the project's rule is that
    the README's commands work without ``../shared`` and the tests that need it skip then.
    """
    absent = not SHARED_DATA.is_dir()
    skip = pytest.mark.skip(reason=f"needs the real recordings, and {SHARED_DATA} is absent")
    for item in items:
        uses = "shared_data" in getattr(item, "fixturenames", ())
        if uses and "shared_data" not in item.keywords:
            item.add_marker(pytest.mark.shared_data)
        if absent and (uses or "shared_data" in item.keywords):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real public recordings (../shared/data).

    Tests that request it are skipped at collection when the folder is absent
    (:func:`pytest_collection_modifyitems`), so here it always exists.
    """
    if not SHARED_DATA.is_dir():  # only reachable outside a collected test
        raise FileNotFoundError(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def example_dir() -> Path:
    """Folder of the bundled example recordings."""
    return EXAMPLE_DIR
