"""One call for the whole analysis of one recording: :func:`analyze`.

The protocol (``config.protocol``, or decided from the stimulus events and their labels when
``"auto"``: :func:`~hfs_emg.pipeline.protocol.decide_protocol`) chooses the evoked analysis:
the LSR and its trend, CMAP, F-waves, blink reflex or generic responses. Spontaneous activity
(bursts, synchronous events, summaries per channel, side and recording) is analysed in every
recording, without the stimulus-locked windows (``config.spontaneous``). The result carries the
configuration and a timestamp-free provenance record, so the same input and configuration give
identical results, whichever route (in memory, streamed, batch, report, CLI) ran it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ParameterError
from .._version import __version__
from ..io import file_sha256
from ..recording import Recording
from .config import AnalysisConfig
from .protocol import decide_protocol
from .result import TABLES, AnalysisResult, build_result
from .steps import check_finite, evoked_tables, spontaneous_bursts

__all__ = ["TABLES", "AnalysisResult", "analyze"]

logger = logging.getLogger("hfs_emg")


def _provenance(
    config: AnalysisConfig, path: Path | None, rec: Recording | None, streamed: bool
) -> dict[str, Any]:
    if path is not None:
        source = {"path": str(path), "name": path.name, "sha256": file_sha256(path)}
    else:
        assert rec is not None  # internal: one of the two is always given
        data = np.ascontiguousarray(rec.data)
        digest = hashlib.sha256(data.tobytes())
        digest.update(repr((rec.sfreq, rec.ch_names, rec.tstart)).encode())
        name = rec.meta.get("source_file")
        source = {
            "path": None,
            "name": Path(name).name if name else None,
            "sha256": digest.hexdigest(),
        }
    return {
        "hfs_emg_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "config": config.to_dict(),
        "config_hash": config.hash(),
        "input": source,
        "streamed": streamed,
        "chunk_s": config.chunk_s if streamed else None,
        "stream_margin_s": config.stream_margin_s if streamed else None,
    }


def analyze(
    rec_or_path: Recording | str | os.PathLike[str],
    config: AnalysisConfig | None = None,
) -> AnalysisResult:
    """Analyse one recording: its protocol, spontaneous activity and evoked responses.

    Parameters
    ----------
    rec_or_path : Recording or path-like
        A recording in memory, or a file in any supported format (opened read-only). A file
        whose samples would take more than ``config.max_memory_mb`` is streamed in chunks of
        ``config.chunk_s`` seconds, with the same results as in memory.
    config : AnalysisConfig, optional
        Options of every step (default: every function's defaults), including the
        ``protocol`` (default ``"auto"``: decided from the stimulus events and their labels).

    Returns
    -------
    AnalysisResult
        ``protocol``, the spontaneous tables (``bursts``, ``synchronous``, ``summary``,
        ``summary_sides``, ``recording_summary``), ``stim_events`` and the evoked tables of the
        protocol (the others None), ``config``, ``provenance``; ``.tables()`` gives the tables
        that exist by name.

    Raises
    ------
    DataError
        A channel holds NaN or infinite samples.
    HfsEmgError
        Any error of the reader or of an analysis step (bad file, bad option).

    References
    ----------
    .. [1] Møller AR, Jannetta PJ. Microvascular decompression in hemifacial spasm:
       intraoperative electrophysiological observations. Neurosurgery 1985;16:612-618.

    Examples
    --------
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> sim = simulate_spontaneous(duration_s=10.0, sfreq=2000.0, seed=3)
    >>> res = analyze(sim.recording)
    >>> len(res.bursts) == len(sim.bursts), res.protocol, res.lsr is None
    (True, 'spontaneous', True)
    >>> list(res.tables())
    ['recording_summary', 'summary', 'summary_sides', 'bursts', 'synchronous']
    """
    config = AnalysisConfig() if config is None else config
    if not isinstance(config, AnalysisConfig):
        raise TypeError(f"config must be an AnalysisConfig, got {type(config).__name__}.")
    path: Path | None = None
    if isinstance(rec_or_path, Recording):
        rec = rec_or_path
    elif isinstance(rec_or_path, (str, os.PathLike)):
        from ..io import open_recording

        path = Path(rec_or_path)
        with open_recording(path, **config.read.open_options()) as reader:
            size_mb = len(reader.ch_names) * reader.n_samples * 8 / 1e6
            if size_mb > config.max_memory_mb:
                if any(v is not None for v in config.read.read_options().values()):
                    raise ParameterError(
                        f"{path}: read.picks/units/ch_types are not streamed ({size_mb:.0f} MB "
                        f"> max_memory_mb={config.max_memory_mb:g}); raise max_memory_mb."
                    )
                from .streaming import analyze_streamed

                return analyze_streamed(
                    reader, config, _provenance(config, path, None, streamed=True)
                )
            rec = reader.read(**config.read.read_options())
    else:
        raise TypeError(
            f"rec_or_path must be a Recording or a path, got {type(rec_or_path).__name__}."
        )
    check_finite(rec)
    decision = decide_protocol(rec, config)
    logger.info("analyze: protocol %s (%s)", decision.protocol, decision.reason)
    bursts = spontaneous_bursts(rec, config)
    evoked = {}
    if decision.events is not None:
        evoked = evoked_tables(rec, decision.events, decision.protocol, config)
    return build_result(
        bursts=bursts,
        channels=rec.pick(config.bursts.picks).channels,
        tstart=rec.tstart,
        duration_s=rec.duration_s,
        decision=decision,
        evoked=evoked,
        config=config,
        provenance=_provenance(config, path, rec, streamed=False),
    )
