"""EMG-BIDS datasets as batch input, results as BIDS derivatives (through mne-bids).

:func:`find_bids_recordings` lists a dataset's recordings (datatype ``emg`` by default) with
:func:`mne_bids.find_matching_paths`; :func:`run_bids` analyses them with
:func:`hfs_emg.batch.run_batch` and :func:`write_bids_derivatives` writes one TSV per table and
recording into ``<root>/derivatives/hfs_emg/``, named after the source with a ``desc-<table>``
entity (``sub-01_task-rest_desc-bursts_emg.tsv``), plus ``dataset_description.json``
(``DatasetType: derivative``, ``GeneratedBy``: hfs_emg version and configuration hash) and the
configuration as TOML. :func:`bids_timeline` turns a subject's sessions (``ses-*``, described
in ``sub-<label>_sessions.tsv``) into visits and returns the patient timeline of
:func:`hfs_emg.visits.patient_timeline`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_path
from .._errors import ParameterError
from .._version import __version__
from .analysis import TABLES
from .batch import BatchResult, run_batch
from .config import AnalysisConfig

__all__ = ["bids_timeline", "find_bids_recordings", "run_bids", "write_bids_derivatives"]

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
    >>> from hfs_emg.datasets import example_dir
    >>> EXAMPLE_DIR = example_dir()
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "sub-01" / "emg").mkdir(parents=True)
    >>> _ = shutil.copy(EXAMPLE_DIR / "ncs_cmap.bdf", root / "sub-01/emg/sub-01_task-cmap_emg.bdf")
    >>> [p.name for p in find_bids_recordings(root)]
    ['sub-01_task-cmap_emg.bdf']
    >>> res = run_bids(root, workers=1, progress=False)
    >>> names = {p.name for p in (root / "derivatives/hfs_emg/sub-01/emg").iterdir()}
    >>> sorted(n for n in names if "desc-cmap" in n or "recordingsummary" in n)
    ['sub-01_task-cmap_desc-cmap_emg.tsv', 'sub-01_task-cmap_desc-recordingsummary_emg.tsv']
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
        description=table.replace("_", ""),  # BIDS labels are alphanumeric
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


def bids_timeline(
    bids_root: str | os.PathLike[str],
    subject: str,
    config: AnalysisConfig | None = None,
    *,
    kind_column: str = "visit_kind",
    date_column: str = "acq_time",
    side: str | None = None,
    **batch_kw: Any,
) -> Any:
    """Analyse one subject's sessions of a BIDS dataset and return its visit timeline.

    Each session (``ses-<label>``) is one visit. Its kind and date come from
    ``sub-<label>_sessions.tsv`` (:func:`hfs_emg.visits.read_sessions_tsv`: columns
    ``session_id``, ``kind_column``, ``date_column``, optional ``dose_units``, ``site``); its
    recordings are analysed with :func:`hfs_emg.batch.run_batch` and their tables pooled per
    session. Sessions without a recording still give a row (with empty metrics).

    Parameters
    ----------
    bids_root : path
        The dataset's root.
    subject : str
        Subject label (without ``sub-``).
    config : AnalysisConfig, optional
        Analysis options.
    kind_column, date_column : str
        Columns of the sessions file.
    side : {"left", "right"}, optional
        Affected side (:func:`hfs_emg.visits.visit_metrics`).
    **batch_kw
        Options of :func:`hfs_emg.batch.run_batch` (``workers``, ``progress``, ``out``).

    Returns
    -------
    pandas.DataFrame
        :func:`hfs_emg.visits.patient_timeline` with ``patient = "sub-<label>"`` and
        ``visit = "ses-<label>"``.

    Raises
    ------
    ParameterError
        No sessions file, or a recording whose session is not listed in it.

    Examples
    --------
    >>> import shutil, tempfile, pathlib
    >>> from hfs_emg.cli import EXAMPLE_DIR
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for ses in ("01", "02"):
    ...     d = root / "sub-01" / f"ses-{ses}" / "emg"
    ...     d.mkdir(parents=True)
    ...     name = f"sub-01_ses-{ses}_task-lsr_emg.edf"
    ...     _ = shutil.copy(EXAMPLE_DIR / "lsr_session.edf", d / name)
    >>> _ = (root / "sub-01" / "sub-01_sessions.tsv").write_text(
    ...     "session_id\\tacq_time\\tvisit_kind\\nses-01\\t2024-03-01\\tintra_mvd\\n"
    ...     "ses-02\\t2024-04-01\\tfollow_up\\n")
    >>> tl = bids_timeline(root, "01", workers=1, progress=False)
    >>> tl[["visit", "kind", "days_since_mvd", "lsr_status"]].values.tolist()
    [['ses-01', 'intra_mvd', 0.0, 'disappeared'], ['ses-02', 'follow_up', 31.0, 'disappeared']]
    """
    import pandas as pd
    from mne_bids import get_entities_from_fname

    from ..visits import Visit, patient_timeline, read_sessions_tsv

    root = Path(bids_root)
    sessions_file = root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv"
    if not sessions_file.is_file():
        raise ParameterError(f"No sessions file {str(sessions_file)!r} for subject {subject!r}.")
    sessions = read_sessions_tsv(sessions_file, kind_column=kind_column, date_column=date_column)
    files = find_bids_recordings(root, subjects=[subject])
    session_of = {
        str(f): get_entities_from_fname(f.name, on_error="ignore").get("session") for f in files
    }
    unknown = sorted({s for s in session_of.values() if s not in set(sessions["session"])})
    if unknown:
        raise ParameterError(
            f"{sessions_file}: session(s) {unknown} have recordings but no row in the file."
        )
    tables: dict[str, dict[str, list[pd.DataFrame]]] = {}
    if files:
        result = run_batch(files, config, **batch_kw)
        for name in TABLES:
            df = result[name]
            if df.empty or "file" not in df.columns:
                continue
            for source, part in df.groupby("file", sort=True):
                ses = session_of.get(str(source))
                tables.setdefault(ses, {}).setdefault(name, []).append(part.drop(columns="file"))
    visits = []
    for row in sessions.itertuples(index=False):  # one visit per session
        per = tables.get(row.session, {})
        visits.append(
            Visit(
                date=row.date,
                kind=row.kind,
                analyses={k: pd.concat(v, ignore_index=True) for k, v in per.items()},
                visit=f"ses-{row.session}",
                dose_units=None if pd.isna(row.dose_units) else float(row.dose_units),
                site=row.site if isinstance(row.site, str) else None,
            )
        )
    return patient_timeline(visits, patient=f"sub-{subject}", side=side)
