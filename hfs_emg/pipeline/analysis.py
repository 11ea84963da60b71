"""One call for the whole analysis of one recording: :func:`analyze`.

The protocol (``config.protocol``, or decided from the stimulus events and their labels when
``"auto"``: :func:`~hfs_emg.pipeline.protocol.decide_protocol`) chooses the evoked analysis:
the LSR, its trend and morphology (and the Z-L response of vessel stimuli in the same
session), CMAP, F-waves, blink reflex, generic responses, facial MEPs, the Z-L response, or
the A-, B- and C-trains of a free-running EMG. Spontaneous activity
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
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import HfsEmgError
from .._version import __version__
from ..io import file_sha256
from ..io._base import ReadView
from ..recording import Recording
from .config import AnalysisConfig
from .protocol import ProtocolDecision, decide_protocol
from .result import TABLES, AnalysisResult, build_result
from .steps import (
    check_finite,
    evoked_tables,
    exclusion_onsets,
    free_running_tables,
    spontaneous_bursts,
)

__all__ = ["TABLES", "AnalysisResult", "analyze"]

logger = logging.getLogger("hfs_emg")


_PENDING: Future[str] = Future()  # marker: the file's hash is filled in later


def _provenance(
    config: AnalysisConfig,
    path: Path | None,
    rec: Recording | None,
    streamed: bool,
    sha256: Future[str] | None = None,
) -> dict[str, Any]:
    if path is not None:
        if sha256 is _PENDING:
            digest_hex = ""
        else:
            digest_hex = sha256.result() if sha256 is not None else file_sha256(path)
        source = {"path": str(path), "name": path.name, "sha256": digest_hex}
    else:
        assert rec is not None  # internal: one of the two is always given
        data = np.ascontiguousarray(rec.data)
        digest = hashlib.sha256(memoryview(data).cast("B"))  # the bytes, without a copy
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


#: Work memory of the in-memory analysis per analysis thread, bytes per sample of one channel
#: (the padded filtered channel, its envelope blocks and burst gathers, with allocator slack;
#: measured peak about 15-20 B on 8 x 10 kHz files, see docs/benchmarks.md).
WORK_BYTES_PER_SAMPLE: int = 24


def in_memory_mb(reader: Any) -> float:
    """Memory (MB) that :func:`analyze` needs to analyse the file of ``reader`` in memory.

    The samples in the dtype the reader stores them in (:func:`hfs_emg.io._base.default_dtype`:
    float32 for long files) plus, per analysis thread (both cores), one channel's work arrays
    (:data:`WORK_BYTES_PER_SAMPLE`). A file needing more than ``config.max_memory_mb`` is
    streamed in chunks, whose memory does not grow with the file.
    """
    from .._chunking import resolve_n_jobs
    from ..io._base import default_dtype

    n_ch, n = len(reader.ch_names), int(reader.n_samples)
    # stored in the dtype the reader chooses for the whole file (all its channels)
    n_file = len(getattr(reader, "_reader", reader).ch_names) * n
    samples = n_ch * n * default_dtype(n_file).itemsize
    workers = resolve_n_jobs(None, n_ch, n)
    return (samples + workers * n * WORK_BYTES_PER_SAMPLE) / 1e6


def _writeable(data: np.ndarray) -> bool:
    """Whether float samples can be filtered in place (a reader may hand out a read-only map)."""
    if data.dtype.kind != "f":
        return False
    view = data.view()
    try:
        view.flags.writeable = True
    except ValueError:
        return False
    return True


def _read_without_triggers(
    reader: Any, config: AnalysisConfig
) -> tuple[Recording, ProtocolDecision] | None:
    """The file's recording without its trigger rows, and the protocol decided on the triggers.

    The trigger channels (type ``stim``) are scanned as runs of equal samples
    (``reader.trigger_runs()``: :class:`hfs_emg.events.TriggerRuns`, read with the trigger
    events), so :func:`~hfs_emg.pipeline.protocol.decide_protocol` finds the same stimuli as on
    the whole recording (the same median, maximum and edges) on a probe of one sample of every
    channel with the file's events. Only for an LSR session, whose measures read only the EMG
    channels (type ``emg``), and when every option names the same channels either way: then
    the recording holds every channel but the triggers (one row less in memory: 8 instead of
    9 on an 8-channel LSR file), with exactly the tables of the whole read. None otherwise
    (the caller reads the whole file).
    """
    scan = getattr(reader, "trigger_runs", None)
    if scan is None or reader.is_mixed_rate or not reader.ch_types:
        return None
    st = config.stim
    if st.source == "artifact":
        return None
    probe = reader.read(tmax=reader.tstart)  # one sample of every channel, with its types
    stim = [n for n, t in zip(probe.ch_names, probe.ch_types, strict=True) if t == "stim"]
    keep = [n for n in probe.ch_names if n not in stim]
    if not stim or not keep or st.channel not in (None, *stim):
        return None
    runs = scan()
    if not set(stim) <= set(runs):  # every channel the stimuli may come from is scanned
        return None
    emg_probe = probe.pick(keep)
    try:
        same = [probe.ch_names[i] for i in probe._pick_indices(config.bursts.picks)] == [
            emg_probe.ch_names[i] for i in emg_probe._pick_indices(config.bursts.picks)
        ]
    except HfsEmgError:
        same = False
    if not same:
        return None
    # the events a whole read keeps, so the protocol is known before the samples are read
    events = reader.window_events(0, reader.n_samples)
    decision = decide_protocol(probe.with_events(events), config, trigger_runs=runs)
    if decision.protocol != "lsr":
        return None
    return reader.read(picks=keep), decision


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
    sha256: Future[str] | None = None
    lean: tuple[Recording, ProtocolDecision] | None = None
    if isinstance(rec_or_path, Recording):
        rec = rec_or_path
    elif isinstance(rec_or_path, (str, os.PathLike)):
        from ..io import open_recording

        path = Path(rec_or_path)
        # the file's hash (provenance) is read on a thread while the analysis runs: hashlib
        # releases the GIL, and the file's pages are read once for both
        hasher = ThreadPoolExecutor(max_workers=1)
        sha256 = hasher.submit(file_sha256, path)
        hasher.shutdown(wait=False)
        try:
            with open_recording(path, **config.read.open_options()) as reader:
                read_opts = config.read.read_options()
                # the read options apply to every read of a streamed file as to a whole read
                given = any(v is not None for v in read_opts.values())
                view = ReadView(reader, **read_opts) if given else reader
                size_mb = in_memory_mb(view)
                if size_mb > config.max_memory_mb:
                    from .streaming import analyze_streamed

                    # the hash is filled in when the analysis is done (it ran alongside)
                    prov = _provenance(config, path, None, streamed=True, sha256=_PENDING)
                    result = analyze_streamed(view, config, prov)
                    result.provenance["input"]["sha256"] = sha256.result()
                    return result
                lean = None if given else _read_without_triggers(reader, config)
                if lean is not None:
                    rec, decision = lean
                else:
                    rec = reader.read(**read_opts)
        except BaseException:
            sha256.cancel()
            raise
    else:
        raise TypeError(
            f"rec_or_path must be a Recording or a path, got {type(rec_or_path).__name__}."
        )
    if path is None:  # a file's read was checked row by row by the reader (BaseReader.read)
        check_finite(rec)
    if lean is None:
        decision = decide_protocol(rec, config)
    logger.info("analyze: protocol %s (%s)", decision.protocol, decision.reason)
    evoked = {}
    if decision.events is not None:
        evoked = evoked_tables(rec, decision.events, decision.protocol, config)
    elif decision.protocol == "free_running":  # no stimuli: A-, B-, C-trains and train time
        evoked = free_running_tables(rec, config)
    # the bursts last: a file's samples, read here and read by nothing after, are filtered in
    # place channel by channel (no filtered copy: the samples plus small work arrays)
    # (the stimulus-locked ones, which the spontaneous tables drop, are not measured)
    bursts = spontaneous_bursts(
        rec,
        config,
        overwrite=path is not None and _writeable(rec.data),
        stim_onsets_s=exclusion_onsets(decision.events),
    )
    return build_result(
        bursts=bursts,
        # the picked channels' table only: rec.pick() would copy their samples
        channels=rec.channels.iloc[rec._pick_indices(config.bursts.picks)].reset_index(drop=True),
        tstart=rec.tstart,
        duration_s=rec.duration_s,
        decision=decision,
        evoked=evoked,
        config=config,
        provenance=_provenance(config, path, rec, streamed=False, sha256=sha256),
    )
