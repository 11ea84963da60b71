"""The bundled example recordings: where they are, and which files of a folder are recordings.

The five simulated example recordings (``spontaneous_hfs.edf``, ``lsr_session.edf``,
``ncs_cmap.bdf``, ``ncs_f_waves.bdf``, ``ncs_blink_reflex.bdf``; see ``example_data/README.md``)
are found, in this order:

1. the folder named by the environment variable ``HFS_EMG_EXAMPLE_DATA``;
2. ``hfs_emg/example_data`` inside the installed package (package data of a wheel, found with
   :mod:`importlib.resources`);
3. ``example_data/`` next to the package in a source checkout (``pip install -e .``).

The lookup never downloads anything.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ._errors import ParameterError

__all__ = ["example_dir", "example_files", "example_path", "recording_files"]

#: Companion files of multi-file formats: a folder listing opens the main file only.
_COMPANIONS = frozenset({".dat", ".vmrk", ".eeg", ".atr", ".json"})


def _candidates() -> list[Path]:
    found = []
    env = os.environ.get("HFS_EMG_EXAMPLE_DATA")
    if env:
        found.append(Path(env))
    packaged = resources.files("hfs_emg") / "example_data"
    if packaged.is_dir():
        found.append(Path(str(packaged)))
    found.append(Path(__file__).resolve().parent.parent / "example_data")
    return found


def example_dir() -> Path:
    """The folder of the bundled example recordings.

    Returns
    -------
    Path

    Raises
    ------
    ParameterError
        No folder holds the examples (an installed package without its package data and no
        ``HFS_EMG_EXAMPLE_DATA``).

    Examples
    --------
    >>> (example_dir() / "lsr_session.edf").is_file()
    True
    """
    tried = _candidates()
    for folder in tried:
        if (folder / "lsr_session.edf").is_file():
            return folder
    raise ParameterError(
        "The example recordings were not found (looked in "
        + ", ".join(str(p) for p in tried)
        + "); set HFS_EMG_EXAMPLE_DATA to the example_data folder of a source checkout."
    )


def recording_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The recordings directly inside ``folder`` that hfs_emg reads, sorted.

    Companion files of multi-file formats (``.dat``, ``.vmrk``, ``.eeg``, ``.atr``,
    ``.json``) are left out: their recording is opened through its main file.

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    list of Path

    Examples
    --------
    >>> [p.name for p in recording_files(example_dir())][:2]
    ['lsr_session.edf', 'ncs_blink_reflex.bdf']
    """
    from .io import READERS

    return sorted(
        p
        for p in Path(folder).iterdir()
        if p.is_file() and p.suffix.lower() in READERS and p.suffix.lower() not in _COMPANIONS
    )


def example_files() -> list[Path]:
    """Every bundled example recording, sorted by name.

    Returns
    -------
    list of Path

    Examples
    --------
    >>> len(example_files())
    5
    """
    return recording_files(example_dir())


def example_path(name: str) -> Path:
    """The path of one bundled example recording.

    Parameters
    ----------
    name : str
        File name, e.g. ``"lsr_session.edf"``.

    Returns
    -------
    Path

    Raises
    ------
    ParameterError
        No example of that name.

    Examples
    --------
    >>> example_path("ncs_cmap.bdf").name
    'ncs_cmap.bdf'
    """
    files = {p.name: p for p in example_files()}
    if name not in files:
        raise ParameterError(f"No example recording {name!r}; the examples are {sorted(files)}.")
    return files[name]
