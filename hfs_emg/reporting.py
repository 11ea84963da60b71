"""One self-contained HTML report per recording: figures, tables, parameters, provenance.

The report embeds every figure as a base64 PNG, so the single ``.html`` file can be mailed,
archived next to the recording or attached to a chart without its folder.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._atomic import atomic_path
from ._errors import NoStimulusError, ParameterError
from ._validate import check_option
from ._version import __version__
from .io import file_sha256
from .recording import Recording

__all__ = ["EVOKED_ANALYSES", "report"]

logger = logging.getLogger("hfs_emg")

#: Evoked analyses ``report(evoked=...)`` can run; "auto" picks "lsr" when the stimuli name a
#: facial-nerve branch and "responses" otherwise.
EVOKED_ANALYSES = ("auto", "lsr", "cmap", "f_waves", "blink_reflex", "responses", "none")

_MAX_ROWS = 200

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.4}
h1{font-size:1.5em;border-bottom:2px solid #444}h2{font-size:1.2em;margin-top:2em;
border-bottom:1px solid #bbb}h3{font-size:1.05em}
table{border-collapse:collapse;font-size:0.8em;margin:0.5em 0 1em}
th,td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:0.3em 0}
.note{color:#666;font-size:0.85em}code{background:#f5f5f5;padding:0 3px}
"""


def _png(fig: Any, dpi: int) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="figure">'


def _table(df: pd.DataFrame, caption: str) -> str:
    note = ""
    if len(df) > _MAX_ROWS:
        note = f'<p class="note">First {_MAX_ROWS} of {len(df)} rows.</p>'
        df = df.head(_MAX_ROWS)
    body = df.to_html(index=False, border=0, float_format=lambda v: f"{v:.4g}", na_rep="")
    return f"<h3>{html.escape(caption)}</h3>\n{note}{body}"


def _params_table(params: dict[str, Any]) -> str:
    rows = pd.DataFrame(
        {"analysis": [k.split(".")[0] for k in params], "parameter": list(params)},
    )
    rows["parameter"] = [k.split(".", 1)[1] for k in params]
    rows["value"] = [repr(v) for v in params.values()]
    return rows.to_html(index=False, border=0)


class _Section:
    def __init__(self, title: str) -> None:
        self.parts = [f"<h2>{html.escape(title)}</h2>"]

    def add(self, text: str) -> None:
        self.parts.append(text)

    def html(self) -> str:
        return "\n".join(self.parts)


def _stimulus_locked(
    onsets: npt.NDArray[np.float64], stims: npt.NDArray[np.float64], after_s: float
) -> npt.NDArray[np.bool_]:
    """Onsets within 5 ms before to ``after_s`` after a stimulus (evoked, not spontaneous)."""
    if not stims.size or not onsets.size:
        return np.zeros(onsets.size, dtype=bool)
    nxt = np.searchsorted(stims, onsets, side="left")
    prev = nxt - 1
    after = (prev >= 0) & (onsets - stims[np.maximum(prev, 0)] <= after_s)
    before = (nxt < stims.size) & (stims[np.minimum(nxt, stims.size - 1)] - onsets <= 0.005)
    return after | before


def _spontaneous(
    rec: Recording,
    params: dict[str, Any],
    dpi: int,
    overview_s: float,
    kw: dict[str, Any],
    stims: npt.NDArray[np.float64] | None,
    exclude_s: float,
) -> tuple[_Section, dict[str, pd.DataFrame]]:
    from .detection import detect_bursts
    from .metrics import summarize
    from .plotting import plot_burst_metrics, plot_bursts, plot_synchrony_raster
    from .preprocessing import filter_emg
    from .synchrony import detect_synchronous_bursts

    sec = _Section("Spontaneous activity: bursts and synchronous spasms")
    burst_kw = dict(kw.get("bursts", {}))
    sync_kw = dict(kw.get("synchrony", {}))
    params.update({f"detect_bursts.{k}": v for k, v in burst_kw.items()})
    params.update({f"detect_synchronous_bursts.{k}": v for k, v in sync_kw.items()})
    emg = rec.pick("emg")
    bursts = detect_bursts(emg, **burst_kw)
    if stims is not None and exclude_s > 0:
        locked = _stimulus_locked(bursts["onset_s"].to_numpy(float), stims, exclude_s)
        params["report.stimulus_locked_bursts_excluded"] = int(locked.sum())
        if locked.any():
            sec.add(
                f'<p class="note">{int(locked.sum())} of {len(bursts)} bursts start within '
                f"{exclude_s * 1e3:g} ms after a stimulus: evoked responses, left out.</p>"
            )
        bursts = bursts[~locked].reset_index(drop=True)
    sync = detect_synchronous_bursts(bursts, channels_info=emg.channels, **sync_kw)
    summary = summarize(bursts, sync, duration_s=emg.duration_s, channels=emg.channels)
    h_freq = min(1000.0, 0.45 * emg.sfreq)
    tmax = emg.tstart + min(emg.duration_s, overview_s)
    fig = plot_bursts(
        filter_emg(emg, 20.0, h_freq),
        bursts,
        tmax=tmax,
        title=f"EMG band-passed 20-{h_freq:g} Hz, first {tmax - emg.tstart:g} s, bursts shaded",
    )
    sec.add(_png(fig, dpi))
    if len(sync):
        sec.add(_png(plot_synchrony_raster(bursts, sync, channels_info=emg.channels), dpi))
    if len(bursts):
        sec.add(_png(plot_burst_metrics(bursts, channels_info=emg.channels), dpi))
    sec.add(_table(summary.channels, "Summary per channel"))
    sec.add(_table(sync, f"Synchronous events ({len(sync)})"))
    sec.add(_table(bursts, f"Bursts ({len(bursts)})"))
    return sec, {"bursts": bursts, "synchronous": sync, "summary": summary.channels}


def _evoked(
    rec: Recording,
    events: pd.DataFrame,
    analysis: str,
    params: dict[str, Any],
    dpi: int,
    kw: dict[str, Any],
) -> tuple[_Section, dict[str, pd.DataFrame]]:
    from . import ncs
    from .artifact import blank_stimulus_artifact
    from .epochs import make_epochs
    from .lsr import lsr_trend, measure_lsr
    from .plotting import (
        plot_blink_reflex,
        plot_cmap,
        plot_evoked,
        plot_f_waves,
        plot_lsr_trend,
    )
    from .responses import measure_responses

    user = dict(kw.get(analysis, {}))
    params.update({f"{analysis}.{k}": v for k, v in user.items()})
    params[f"{analysis}.n_stimuli"] = len(events)
    titles = {
        "lsr": "Lateral spread response",
        "cmap": "Compound muscle action potential (M-wave)",
        "f_waves": "F-waves",
        "blink_reflex": "Blink reflex",
        "responses": "Evoked responses",
    }
    sec = _Section(f"{titles[analysis]} ({len(events)} stimuli)")
    windows = {"lsr": (-0.005, 0.04), "cmap": (-0.005, 0.03), "f_waves": (-0.005, 0.04)}
    tmin, tmax = windows.get(analysis, (-0.01, 0.07))
    tables: dict[str, pd.DataFrame] = {}
    if analysis == "lsr":
        blanked = blank_stimulus_artifact(rec, events)
        ep = make_epochs(blanked, events, tmin=tmin, tmax=tmax)
        lsr = measure_lsr(ep, **user)
        trend = lsr_trend(lsr)
        sec.add(_png(plot_lsr_trend(lsr, trend), dpi))
        kinds = lsr.drop_duplicates("channel").set_index("channel")["kind"]
        for ch in [c for c in ep.ch_names if kinds.get(c) != "direct"]:
            sec.add(_png(plot_evoked(ep, lsr, channel=ch), dpi))
        sec.add(_table(trend, "LSR trend per channel"))
        sec.add(_table(lsr, "LSR per stimulus and channel"))
        tables = {"lsr": lsr, "trend": trend}
    elif analysis in ("cmap", "f_waves", "blink_reflex"):
        ep = make_epochs(rec, events, tmin=tmin, tmax=tmax)
        measure: Callable[..., Any] = getattr(ncs, f"measure_{analysis}")
        if analysis == "cmap":
            table = measure(ep, **user)
            sec.add(_png(plot_cmap(ep, table), dpi))
            tables = {"cmap": table}
        else:
            res = measure(ep, **user)
            table, trials = res.summary, res.trials
            if analysis == "f_waves":
                for ch in ep.ch_names:
                    sec.add(_png(plot_f_waves(ep, trials, channel=ch), dpi))
            else:
                sides = ep.events.get("side", pd.Series(dtype=object)).dropna().unique()
                for side in sides if len(sides) else [None]:
                    sec.add(_png(plot_blink_reflex(ep, table, stim_side=side), dpi))
            tables = {analysis: table, f"{analysis}_trials": trials}
        for name, t in tables.items():
            sec.add(_table(t, name.replace("_", " ")))
    else:
        blanked = blank_stimulus_artifact(rec, events)
        ep = make_epochs(blanked, events, tmin=tmin, tmax=tmax)
        user.setdefault("window_ms", (2.5, 60.0))
        params["responses.window_ms"] = user["window_ms"]
        table = measure_responses(ep, **user)
        for ch in ep.ch_names:
            sec.add(_png(plot_evoked(ep, table, channel=ch, window_ms=user["window_ms"]), dpi))
        sec.add(_table(table, "Responses per stimulus and channel"))
        tables = {"responses": table}
    return sec, tables


def report(
    rec: Recording,
    *,
    out: str | os.PathLike[str],
    title: str | None = None,
    spontaneous: bool = True,
    evoked: str = "auto",
    overview_s: float = 60.0,
    exclude_after_stim_s: float = 0.1,
    dpi: int = 80,
    options: dict[str, dict[str, Any]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Analyse a recording and write one self-contained HTML report.

    The spontaneous analysis (:func:`~hfs_emg.detect_bursts`,
    :func:`~hfs_emg.detect_synchronous_bursts`, :func:`~hfs_emg.summarize`) always runs on the
    EMG channels. When :func:`~hfs_emg.find_stim_events` finds stimuli an evoked analysis runs
    too. The file carries the figures (base64 PNG), the result tables, every parameter passed,
    the hfs_emg version and the SHA-256 of the input file (when ``rec.meta["source_file"]``
    exists). It is written atomically.

    Parameters
    ----------
    rec : Recording
    out : path
        The ``.html`` file to write.
    title : str, optional
        Default: the input file name.
    spontaneous : bool
        Run the spontaneous (burst / synchrony) analysis.
    evoked : {"auto", "lsr", "cmap", "f_waves", "blink_reflex", "responses", "none"}
        Evoked analysis when stimuli are found. ``"auto"``: ``"lsr"`` when the stimuli name
        a facial-nerve branch, generic ``"responses"`` otherwise.
    overview_s : float
        Seconds of signal in the overview figure.
    exclude_after_stim_s : float
        When stimuli are found, bursts starting from 5 ms before to this long after a stimulus
        are evoked responses and are left out of the spontaneous analysis (0 keeps them).
    dpi : int
        Resolution of the embedded figures.
    options : dict, optional
        Keyword arguments per analysis: keys ``"bursts"``, ``"synchrony"``, ``"lsr"``,
        ``"cmap"``, ``"f_waves"``, ``"blink_reflex"``, ``"responses"``. They are listed in the
        report's parameter table.

    Returns
    -------
    dict of str to pandas.DataFrame
        The result tables shown in the report.

    Examples
    --------
    >>> import tempfile, pathlib, hfs_emg
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> rec = simulate_spontaneous(duration_s=10.0, sfreq=2000.0).recording
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> tables = report(rec, out=out, evoked="none")
    >>> sorted(tables), out.read_text().count("data:image/png;base64,") >= 1
    (['bursts', 'summary', 'synchronous'], True)
    """
    import matplotlib

    check_option("evoked", evoked, EVOKED_ANALYSES)
    options = dict(options or {})
    unknown = set(options) - {"bursts", "synchrony", *EVOKED_ANALYSES}
    if unknown:
        raise ParameterError(
            f"options: unknown analysis {sorted(unknown)}; use bursts, synchrony, "
            + ", ".join(EVOKED_ANALYSES[1:-1])
        )
    source = rec.meta.get("source_file")
    checksum = file_sha256(source) if source and Path(source).is_file() else None
    name = Path(str(source)).name if source else "recording"
    params: dict[str, Any] = {"report.evoked": evoked, "report.overview_s": overview_s}
    sections: list[_Section] = []
    tables: dict[str, pd.DataFrame] = {}
    events: pd.DataFrame | None = None
    if evoked != "none":
        from .events import find_stim_events

        try:
            events = find_stim_events(rec)
        except NoStimulusError as err:
            logger.info("report: no evoked analysis (%s)", err)
            params["report.stimuli"] = "none found"
    stims = None if events is None else np.sort(events["onset_s"].to_numpy(dtype=float))
    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        if spontaneous and "emg" in set(rec.ch_types):
            sec, t = _spontaneous(
                rec, params, dpi, overview_s, options, stims, exclude_after_stim_s
            )
            sections.append(sec)
            tables.update(t)
        if events is not None:
            analysis = evoked
            if analysis == "auto":
                branch = events.get("stim_branch", pd.Series(dtype=object)).dropna()
                analysis = "lsr" if len(branch) or rec.meta.get("stim_branch") else "responses"
            sec, t = _evoked(rec, events, analysis, params, dpi, options)
            sections.append(sec)
            tables.update(t)
    info = pd.DataFrame(
        {
            "item": [
                "file",
                "sha256",
                "format",
                "sampling rate (Hz)",
                "duration (s)",
                "channels",
                "hfs_emg version",
                "generated (UTC)",
            ],
            "value": [
                str(source or "(in memory)"),
                checksum or "(no source file)",
                str(rec.meta.get("format", "")),
                f"{rec.sfreq:g}",
                f"{rec.duration_s:.3f}",
                str(rec.n_channels),
                __version__,
                _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            ],
        }
    )
    history = pd.DataFrame(
        [{"step": h.get("step", ""), "params": repr(h.get("params", ""))} for h in rec.history]
    )
    doc_title = html.escape(title or f"hfs_emg report: {name}")
    body = [
        f"<h1>{doc_title}</h1>",
        info.to_html(index=False, border=0, header=False),
        "<h2>Channels</h2>",
        rec.channels.to_html(index=False, border=0, na_rep=""),
        *[s.html() for s in sections],
        "<h2>Parameters</h2>",
        '<p class="note">Options passed to each analysis (defaults otherwise; see the API '
        "reference of the hfs_emg version above).</p>",
        _params_table(params),
    ]
    if len(history):
        body += ["<h2>Processing history of the input</h2>", history.to_html(index=False)]
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{doc_title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f'\n<p class="note">hfs_emg {__version__}</p>\n</body>\n</html>\n'
    )
    with atomic_path(out) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    logger.info("report written: %s", out)
    return tables
