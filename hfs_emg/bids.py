"""EMG-BIDS datasets as batch input, results as BIDS derivatives (through mne-bids).

:func:`find_bids_recordings` lists a dataset's recordings (datatype ``emg`` by default) with
:func:`mne_bids.find_matching_paths`; :func:`run_bids` analyses them with
:func:`hfs_emg.batch.run_batch` and :func:`write_bids_derivatives` writes one TSV per table and
recording into ``<root>/derivatives/hfs_emg/``, named after the source with a ``desc-<table>``
entity (``sub-01_task-rest_desc-bursts_emg.tsv``), plus ``dataset_description.json``
(``DatasetType: derivative``, ``GeneratedBy``: hfs_emg version and configuration hash) and the
configuration as TOML.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._atomic import atomic_path
from ._errors import ParameterError
from ._version import __version__
from .analysis import TABLES
from .batch import BatchResult, run_batch
from .config import AnalysisConfig

__all__ = ["find_bids_recordings", "run_bids", "write_bids_derivatives"]

PIPELINE = "hfs_emg"


def find_bids_recordings(
    root: str | os.PathLike[str],
    *,
    subjects: Sequence[str] | None = None,
    sessions: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    datatypes: Sequence[str] = ("emg",),
    extensions: Sequence[str] = (".edf", ".bdf"),
) -> list[Path]:
    """Recording files of a BIDS dataset (sorted), found with mne-bids.

    Parameters
    ----------
    root : path
        The dataset's root (holding ``dataset_description.json``).
    subjects, sessions, tasks : list of str, optional
        Restrict to these entity values (without the ``sub-``/``ses-``/``task-`` prefix).
    datatypes : list of str
        BIDS datatypes (folders) to search; ``("emg",)`` for EMG-BIDS.
    extensions : list of str
        Recording extensions.

    Returns
    -------
    list of Path

    Raises
    ------
    ParameterError
        ``root`` is not a folder.

    References
    ----------
    .. [1] Appelhoff S et al. MNE-BIDS: Organizing electrophysiological data into the BIDS format
       and facilitating their analysis. J Open Source Softw 2019;4:1896.
    .. [2] Pernet CR et al. EEG-BIDS, an extension to the brain imaging data structure for
       electroencephalography. Sci Data 2019;6:103.

    Examples
    --------
    >>> import shutil, tempfile, pathlib
    >>> from hfs_emg.cli import EXAMPLE_DIR
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "sub-01" / "emg").mkdir(parents=True)
    >>> _ = shutil.copy(EXAMPLE_DIR / "ncs_cmap.bdf", root / "sub-01/emg/sub-01_task-cmap_emg.bdf")
    >>> [p.name for p in find_bids_recordings(root)]
    ['sub-01_task-cmap_emg.bdf']
    >>> res = run_bids(root, workers=1, progress=False)
    >>> names = {p.name for p in (root / "derivatives/hfs_emg/sub-01/emg").iterdir()}
    >>> sorted(n for n in names if "lsr" in n or "summary" in n)
    ['sub-01_task-cmap_desc-lsr_emg.tsv', 'sub-01_task-cmap_desc-summary_emg.tsv']
    """
    from mne_bids import find_matching_paths

    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"BIDS root {str(root)!r} is not a folder.")
    paths = find_matching_paths(
        root,
        subjects=subjects,
        sessions=sessions,
        tasks=tasks,
        datatypes=list(datatypes),
        extensions=list(extensions),
        ignore_nosub=True,
    )
    deriv = root / "derivatives"
    return sorted(
        {Path(p.fpath) for p in paths if deriv not in Path(p.fpath).parents and p.fpath.is_file()}
    )


def _derivative_path(source: Path, deriv_root: Path, table: str) -> Path:
    from mne_bids import BIDSPath, get_entities_from_fname

    entities = get_entities_from_fname(source.name, on_error="ignore")
    entities = {k: v for k, v in entities.items() if v is not None and k != "description"}
    suffix = source.stem.rsplit("_", 1)[-1] if "_" in source.stem else None
    datatype = source.parent.name if source.parent.name in ("emg", "eeg", "ieeg", "meg") else None
    bp = BIDSPath(
        root=deriv_root,
        datatype=datatype,
        suffix=suffix,
        description=table,
        extension=".tsv",
        check=False,
        **entities,
    )
    return Path(bp.fpath)


def write_bids_derivatives(
    result: BatchResult,
    deriv_root: str | os.PathLike[str],
    config: AnalysisConfig | None = None,
) -> list[Path]:
    """Write a batch's tables as BIDS derivatives (one TSV per table and recording).

    A recording without rows in a table (no bursts, no stimuli) gets no TSV for that table.
    Missing values are ``n/a``. The ``warnings`` and ``errors``
    tables go to ``<deriv_root>/warnings.tsv`` and ``errors.tsv``.

    Returns
    -------
    list of Path
        The files written.
    """
    config = AnalysisConfig() if config is None else config
    root = Path(deriv_root)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    description = {
        "Name": "hfs_emg analyses (bursts, synchrony, lateral spread response)",
        "BIDSVersion": "1.10.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "hfs_emg",
                "Version": __version__,
                "Description": f"analyze() with configuration sha256 {config.hash()}",
            }
        ],
    }
    with atomic_path(root / "dataset_description.json") as tmp:
        tmp.write_text(json.dumps(description, indent=2))
    written.append(root / "dataset_description.json")
    written.append(config.to_toml(root / "hfs_emg_config.toml"))
    for table in TABLES:
        df = result[table]
        if df.empty or "file" not in df.columns:
            continue
        for source, part in df.groupby("file", sort=True):
            target = _derivative_path(Path(str(source)), root, table)
            with atomic_path(target) as tmp:
                part.drop(columns="file").to_csv(tmp, sep="\t", index=False, na_rep="n/a")
            written.append(target)
    for name in ("warnings", "errors"):
        with atomic_path(root / f"{name}.tsv") as tmp:
            result[name].to_csv(tmp, sep="\t", index=False, na_rep="n/a")
        written.append(root / f"{name}.tsv")
    return written


def run_bids(
    bids_root: str | os.PathLike[str],
    config: AnalysisConfig | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    find: dict[str, Any] | None = None,
    **batch_kw: Any,
) -> BatchResult:
    """Analyse every recording of a BIDS dataset and write the results as derivatives.

    Parameters
    ----------
    bids_root : path
        The dataset's root.
    config : AnalysisConfig, optional
        Analysis options.
    out : path, optional
        Derivatives folder (default ``<bids_root>/derivatives/hfs_emg``); the batch's tables and
        cache go to its ``batch/`` subfolder.
    find : dict, optional
        Options of :func:`find_bids_recordings` (``subjects``, ``tasks``...).
    **batch_kw
        Options of :func:`hfs_emg.batch.run_batch` (``workers``, ``scheduler``, ``progress``).

    Returns
    -------
    BatchResult
        Its ``written`` list includes the derivative files.
    """
    root = Path(bids_root)
    files = find_bids_recordings(root, **(find or {}))
    if not files:
        raise ParameterError(f"No EMG recording found in the BIDS dataset {str(root)!r}.")
    deriv = Path(out) if out is not None else root / "derivatives" / PIPELINE
    result = run_batch(files, config, out=deriv / "batch", **batch_kw)
    written = write_bids_derivatives(result, deriv, config)
    return BatchResult(result.tables, result.stats, [*result.written, *written])
