"""One self-contained HTML report per recording: it renders an :class:`~hfs_emg.AnalysisResult`.

:func:`report` runs no analysis of its own: the tables, the protocol and the numbers in the
summary sentence are the result's, and the figures are drawn from the recording with the
result's configuration (the same band-pass as the burst detector, the same epoch window and
stimulus-artefact suppression as the evoked measure). A :class:`~hfs_emg.Recording` or a path
may be passed instead; it then goes through :func:`hfs_emg.analyze` with ``config``.

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._atomic import atomic_path
from .._version import __version__
from ..recording import Recording
from .analysis import analyze
from .config import PROTOCOLS, AnalysisConfig
from .result import AnalysisResult
from .steps import epochs_for

__all__ = ["EVOKED_ANALYSES", "report", "summary_sentence"]

logger = logging.getLogger("hfs_emg")

#: The protocols (kept under its old name): :data:`hfs_emg.pipeline.config.PROTOCOLS`.
EVOKED_ANALYSES = PROTOCOLS

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
.scroll{overflow:auto;max-height:28em;max-width:100%;border:1px solid #eee;margin:0.3em 0 1em}
.scroll table{margin:0}.scroll th{position:sticky;top:0}
.conclusion{font-size:1.15em;background:#f4f8fb;border-left:4px solid #2a6f97;
padding:0.6em 1em;margin:1em 0}
.pair{display:flex;flex-wrap:wrap;gap:0.5em}.pair img{max-width:49%}
.info td{text-align:left}
"""


def _png(fig: Any, dpi: int) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="figure">'


_UNITS = {
    "_uv_ms": " (µV·ms)",
    "_uv": " (µV)",
    "_ms": " (ms)",
    "_s": " (s)",
    "_hz": " (Hz)",
    "_pct": " (%)",
    "_per_min": " (/min)",
}


def display_name(column: str) -> str:
    """A column name as the report shows it: unit suffixes written out (``p2p_uv`` -> ``p2p
    (µV)``).

    Examples
    --------
    >>> display_name("p2p_uv"), display_name("area_uv_ms"), display_name("bursts_per_min")
    ('p2p (µV)', 'area (µV·ms)', 'bursts (/min)')
    """
    for suffix, unit in _UNITS.items():
        if column.endswith(suffix) and len(column) > len(suffix):
            return column[: -len(suffix)] + unit
    return column


def _table(df: pd.DataFrame, caption: str) -> str:
    note = ""
    if len(df) > _MAX_ROWS:
        note = (
            f'<p class="note">First {_MAX_ROWS} of {len(df)} rows (all rows: the CSV tables).</p>'
        )
        df = df.head(_MAX_ROWS)
    shown = df.rename(columns={c: display_name(str(c)) for c in df.columns})
    body = shown.to_html(index=False, border=0, float_format=lambda v: f"{v:.4g}", na_rep="")
    return f'<h3>{html.escape(caption)}</h3>\n{note}<div class="scroll">{body}</div>'


def _params_table(config: AnalysisConfig) -> str:
    rows = []
    for key, value in config.to_dict().items():
        if isinstance(value, dict):
            rows += [(key, k, repr(v)) for k, v in value.items()]
        else:
            rows.append(("(analysis)", key, repr(value)))
    table = pd.DataFrame(rows, columns=["section", "parameter", "value"])
    return f'<div class="scroll">{table.to_html(index=False, border=0)}</div>'


def _channels_html(rec: Recording) -> str:
    table = rec.channels.copy()
    for col in ("unit", "orig_unit"):
        if col in table:
            table[col] = table[col].replace({"uV": "µV"})
    return table.to_html(index=False, border=0, na_rep="")


class _Section:
    def __init__(self, title: str) -> None:
        self.parts = [f"<h2>{html.escape(title)}</h2>"]

    def add(self, text: str) -> None:
        self.parts.append(text)

    def html(self) -> str:
        return "\n".join(self.parts)


def _names(values: Any) -> str:
    items = [str(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _fmt(value: Any, digits: int = 3) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "-" if not np.isfinite(v) else f"{v:.{digits}g}"


def _spontaneous_sentence(result: AnalysisResult) -> str:
    row = result.recording_summary.iloc[0]
    text = (
        f"{int(row['n_bursts'])} spontaneous bursts ({_fmt(row['bursts_per_min'])}/min) and "
        f"{int(row['n_sync_events'])} synchronous spasm events "
        f"({_fmt(row['sync_events_per_min'])}/min) in {_fmt(row['analysed_s'], 4)} s analysed"
    )
    side = row.get("affected_side")
    if isinstance(side, str) and side:
        text += f"; affected side {side} (asymmetry {_fmt(row['side_asymmetry'], 2)})"
    return text + "."


def _lsr_sentence(result: AnalysisResult) -> str:
    trend = result.trend
    assert trend is not None
    chans = trend[trend["channel"] != "overall"]
    # the verdict's unit is the (stimulated branch, muscle) pair (lsr_trend): with alternating
    # montages a muscle appears once per montage, so the sentence names the montage
    montages = chans["montage"].fillna("") if "montage" in chans else pd.Series("", chans.index)
    several = montages[montages != ""].nunique() > 1
    chans = chans.assign(_montage=montages)
    parts = []

    def where(grp: pd.DataFrame, montage: str) -> str:
        text = _names(grp["channel"])
        return f"{text} ({montage} stimulation)" if several and montage else text

    gone = chans[chans["status"] == "disappeared"]
    keys = ["_montage", "disappearance_stim_index", "disappearance_time_s"]
    for (montage, idx, t), grp in gone.groupby(keys):
        parts.append(
            f"LSR disappeared at stimulus {int(idx)}, {_fmt(t, 5)} s, in {where(grp, montage)}"
        )
    rest = chans[chans["status"] != "disappeared"]
    for (montage, status), grp in rest.groupby(["_montage", "status"]):
        parts.append(f"LSR {str(status).replace('_', ' ')} in {where(grp, montage)}")
    return ("; ".join(parts) or "No LSR channel") + "."


def _cmap_sentence(result: AnalysisResult) -> str:
    table = result.cmap
    assert table is not None
    parts = [
        f"{r.channel}: latency {_fmt(r.latency_ms)} ms, {_fmt(r.p2p_uv, 4)} µV p-p"
        for r in table.itertuples()
    ]
    ratio = table["amplitude_ratio"].dropna() if "amplitude_ratio" in table else pd.Series()
    text = "; ".join(parts)
    if len(ratio):
        r = table.loc[ratio.index[0]]
        text += f"; affected/healthy amplitude ratio {_fmt(r['amplitude_ratio'], 2)}"
        for col, what in (("decrement_pct", "decrement"), ("degeneration_pct", "degeneration")):
            if col in table and pd.notna(r.get(col)):
                text += f" ({_fmt(r[col], 3)} % {what})"
                break
    return text + "."


def _f_sentence(result: AnalysisResult) -> str:
    table = result.f_waves
    assert table is not None
    parts = [
        f"{r.channel}: persistence {_fmt(r.persistence_pct)} %, F min latency "
        f"{_fmt(r.f_min_latency_ms)} ms, chronodispersion {_fmt(r.chronodispersion_ms)} ms"
        for r in table.itertuples()
    ]
    return "; ".join(parts) + "."


def _blink_sentence(result: AnalysisResult) -> str:
    table = result.blink_reflex
    assert table is not None
    parts = []
    for side, grp in table.groupby("stim_side", sort=True):
        ipsi = grp[(grp["relation"] == "ipsilateral") & ~grp["synkinetic"].astype(bool)]
        r1 = ipsi[ipsi["component"] == "R1"]["latency_ms"].dropna()
        r2 = grp[(grp["component"] == "R2") & ~grp["synkinetic"].astype(bool)]["latency_ms"]
        syn = grp[grp["synkinetic"].astype(bool) & (grp["n_present"] > 0)]["channel"].unique()
        text = f"{side} stimulation: R1 {_fmt(r1.mean())} ms, R2 {_fmt(r2.dropna().mean())} ms"
        if len(syn):
            text += f", synkinetic responses in {_names(sorted(syn))}"
        parts.append(text)
    return "; ".join(parts) + "."


def _responses_sentence(result: AnalysisResult) -> str:
    table = result.responses
    assert table is not None
    parts = []
    for ch, grp in table.groupby("channel", sort=False):
        present = grp["present"].astype(bool)
        if present.any():
            parts.append(
                f"{ch}: present in {int(present.sum())}/{len(grp)} stimuli, median latency "
                f"{_fmt(grp.loc[present, 'latency_ms'].median())} ms, "
                f"{_fmt(grp.loc[present, 'p2p_uv'].median(), 4)} µV p-p"
            )
    return ("; ".join(parts) if parts else "absent on every channel") + "."


def _zl_sentence(result: AnalysisResult) -> str:
    trend = result.zl_trend
    if trend is None:
        return "no Z-L response measured."
    chans = trend[trend["channel"] != "overall"]
    parts = []
    for status, grp in chans.groupby("status", sort=True):
        text = f"Z-L response {str(status).replace('_', ' ')} in {_names(grp['channel'])}"
        lost = grp["loss_after_decompression_s"].dropna() if status == "disappeared" else []
        if len(lost):
            text += f" ({_fmt(float(np.median(lost)))} s after decompression)"
        parts.append(text)
    return ("; ".join(parts) or "No Z-L channel") + "."


def _fmep_sentence(result: AnalysisResult) -> str:
    table = result.fmep_trend
    assert table is not None
    parts = [
        f"{r.channel}: final/baseline {_fmt(r.final_over_baseline_pct)} %"
        + (" (below the warning level)" if bool(r.warning) else "")
        for r in table.itertuples()
    ]
    return "; ".join(parts) + "."


def _free_running_sentence(result: AnalysisResult) -> str:
    table = result.train_time
    assert table is not None
    parts = [
        f"{r.channel}: {int(r.n_a_trains)} A-train(s), train time {_fmt(r.train_time_s)} s"
        for r in table.itertuples()
    ]
    return "; ".join(parts) + "."


def _lsr_with_zl_sentence(result: AnalysisResult) -> str:
    text = _lsr_sentence(result)
    if result.zl_trend is not None:
        text += " " + _zl_sentence(result)
    return text


_SENTENCES = {
    "lsr": _lsr_with_zl_sentence,
    "fmep": _fmep_sentence,
    "zl": _zl_sentence,
    "free_running": _free_running_sentence,
    "cmap": _cmap_sentence,
    "f_waves": _f_sentence,
    "blink_reflex": _blink_sentence,
    "responses": _responses_sentence,
}

_TITLES = {
    "spontaneous": "Spontaneous EMG",
    "lsr": "Lateral spread response monitoring",
    "cmap": "Compound muscle action potential (M-wave)",
    "f_waves": "F-waves",
    "blink_reflex": "Blink reflex",
    "responses": "Evoked responses",
    "fmep": "Facial motor evoked potentials",
    "zl": "Z-L response (offending-vessel stimulation)",
    "free_running": "Free-running EMG (A-, B- and C-trains)",
}


#: Protocols drawn by the generic evoked section (the MVD modalities have their own).
_TITLES_EVOKED = ("lsr", "cmap", "f_waves", "blink_reflex", "responses")


def summary_sentence(result: AnalysisResult) -> str:
    """The report's one-line conclusion: the protocol's main finding, then the spontaneous one.

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    str

    Examples
    --------
    >>> from hfs_emg import analyze
    >>> from hfs_emg.datasets import example_path
    >>> print(summary_sentence(analyze(example_path("ncs_f_waves.bdf"))))  # doctest: +ELLIPSIS
    F-waves: Mentalis_L: persistence 55 %, F min latency 9.1 ms, ...
    """
    head = f"{_TITLES[result.protocol]}: "
    if result.protocol == "spontaneous":
        return head + _spontaneous_sentence(result)
    text = head + _SENTENCES[result.protocol](result)
    if len(result.bursts):
        text += " " + _spontaneous_sentence(result)
    return text


def _overview(rec: Recording, result: AnalysisResult, overview_s: float, dpi: int) -> str:
    """The EMG as the burst detector saw it (same band-pass), bursts shaded."""
    from ..detection import burst_filter
    from ..plotting import plot_bursts
    from ..preprocessing import filter_emg

    cfg = result.config
    emg = rec.pick(cfg.bursts.picks)
    if cfg.filter.enabled:
        f = cfg.filter
        shown = filter_emg(emg, f.l_freq, f.h_freq, notch=f.notch, order=f.order, q=f.q)
        desc = f"filter_emg {f.l_freq:g}-{f.h_freq:g} Hz" + (
            f", notch {f.notch}" if f.notch is not None else ", no notch"
        )
    else:  # the one default EMG filter, designed as detect_bursts designs it
        filt = burst_filter(emg, band=cfg.bursts.band)
        shown = emg if filt is None else filt.filter(emg)
        desc = (
            "as the burst detector saw it"
            if filt is None
            else (
                f"band-passed {filt.l_freq:g}-{filt.h_freq:g} Hz"
                + (
                    f", hum notched at {', '.join(f'{f:g}' for f in filt.lines)} Hz"
                    if filt.lines
                    else ""
                )
                + " as the burst detector"
            )
        )
    tmax = emg.tstart + min(emg.duration_s, overview_s)
    fig = plot_bursts(
        shown,
        result.bursts,
        tmax=tmax,
        title=f"EMG {desc}, first {tmax - emg.tstart:g} s, spontaneous bursts shaded",
    )
    return _png(fig, dpi)


def _spontaneous_section(
    result: AnalysisResult, rec: Recording | None, dpi: int, overview_s: float
) -> _Section:
    from ..plotting import plot_burst_metrics, plot_synchrony_raster

    sec = _Section("Spontaneous activity: bursts and synchronous spasms")
    info = result.provenance.get("spontaneous", {})
    if info.get("excluded_s"):
        cfg = result.config.spontaneous
        sec.add(
            f'<p class="note">{info["n_bursts_excluded"]} burst(s) starting from '
            f"{cfg.exclude_before_stim_s * 1e3:g} ms before to "
            f"{cfg.exclude_after_stim_s * 1e3:g} ms after a stimulus are evoked responses and "
            f"are left out; rates are over the {_fmt(info['analysed_s'], 5)} s that remain.</p>"
        )
    if rec is not None:
        sec.add(_overview(rec, result, overview_s, dpi))
    channels = rec.channels if rec is not None else None
    if len(result.synchronous):
        sec.add(
            _png(
                plot_synchrony_raster(result.bursts, result.synchronous, channels=channels),
                dpi,
            )
        )
    if len(result.bursts):
        sec.add(_png(plot_burst_metrics(result.bursts, channels=channels), dpi))
    sec.add(_table(result.recording_summary, "Summary of the recording"))
    sec.add(_table(result.summary_sides, "Summary per side"))
    sec.add(_table(result.summary, "Summary per channel"))
    sec.add(_table(result.synchronous, f"Synchronous events ({len(result.synchronous)})"))
    sec.add(_table(result.bursts, f"Bursts ({len(result.bursts)})"))
    return sec


def _markers(rec: Recording | None, result: AnalysisResult) -> pd.DataFrame | None:
    """Phase markers: the recording's events that are not stimuli."""
    if rec is None or rec.events.empty or result.stim_events is None:
        return None
    ev = rec.events
    stims = result.stim_events["onset_s"].to_numpy(float)
    near = np.abs(ev["onset_s"].to_numpy(float)[:, None] - stims[None, :]).min(axis=1)
    phases = ev[near > 1.5 / rec.sfreq]
    return phases[["onset_s", "label"]] if len(phases) else None


def _evoked_section(result: AnalysisResult, rec: Recording | None, dpi: int) -> _Section:
    from ..plotting import (
        plot_blink_reflex,
        plot_cmap,
        plot_evoked,
        plot_f_waves,
        plot_lsr_trend,
    )

    protocol = result.protocol
    events = result.stim_events
    assert events is not None
    sec = _Section(f"{_TITLES[protocol]} ({len(events)} stimuli)")
    cfg = result.config
    ep = None
    if rec is not None:
        if protocol == "lsr" and result.zl is not None:  # vessel sweeps: the Z-L section
            events = events[~events["stim_index"].isin(result.zl["stim_index"])]
        ep = epochs_for(rec, events, protocol, cfg)
        section = getattr(cfg, protocol)
        sec.add(
            f'<p class="note">Sweeps from {section.tmin * 1e3:g} to {section.tmax * 1e3:g} ms, '
            f"stimulus artefact suppressed as in the analysis "
            f"(artifact_method={section.artifact_method!r}, window "
            f"{section.artifact_window_s[0] * 1e3:g} to {section.artifact_window_s[1] * 1e3:g} "
            "ms).</p>"
        )
    else:
        sec.add('<p class="note">No recording given: tables only, no sweeps.</p>')
    if protocol == "lsr":
        lsr, trend = result.lsr, result.trend
        assert lsr is not None and trend is not None
        sec.add(_png(plot_lsr_trend(lsr, trend, x="minutes", markers=_markers(rec, result)), dpi))
        if ep is not None:
            kinds = lsr.drop_duplicates("channel").set_index("channel")["kind"]
            for ch in [c for c in ep.ch_names if c in kinds.index and kinds[c] != "direct"]:
                window = cfg.lsr.window_ms
                pair = [
                    _png(plot_evoked(ep, lsr, channel=ch, window_ms=window), dpi),
                    _png(plot_evoked(ep, lsr, channel=ch, window_ms=window, style="cascade"), dpi),
                ]
                sec.add(f'<div class="pair">{"".join(pair)}</div>')
        sec.add(_table(trend, "LSR trend per channel"))
        sec.add(_table(lsr, "LSR per stimulus and channel"))
    elif protocol == "cmap":
        assert result.cmap is not None
        if ep is not None:
            sec.add(_png(plot_cmap(ep, result.cmap), dpi))
        sec.add(_table(result.cmap, "CMAP per channel"))
    elif protocol == "f_waves":
        table, trials = result.f_waves, result.f_waves_trials
        assert table is not None and trials is not None
        if ep is not None:
            for ch in table["channel"]:
                fig = plot_f_waves(ep, trials, channel=ch, f_window_ms=cfg.f_waves.f_window_ms)
                sec.add(_png(fig, dpi))
        sec.add(_table(table, "F-waves per channel"))
        sec.add(_table(trials, "F-waves per stimulus"))
    elif protocol == "blink_reflex":
        table, trials = result.blink_reflex, result.blink_reflex_trials
        assert table is not None and trials is not None
        if ep is not None:
            sides = ep.events.get("side", pd.Series(dtype=object)).dropna().unique()
            for side in sides if len(sides) else [None]:
                sec.add(_png(plot_blink_reflex(ep, table, stim_side=side), dpi))
        sec.add(_table(table, "Blink reflex per stimulated side, channel and component"))
        sec.add(_table(trials, "Blink reflex per stimulus"))
    else:
        table = result.responses
        assert table is not None
        if ep is not None:
            for ch in table["channel"].unique():
                pair = [
                    _png(
                        plot_evoked(ep, table, channel=ch, window_ms=cfg.responses.window_ms), dpi
                    ),
                    _png(
                        plot_evoked(
                            ep,
                            table,
                            channel=ch,
                            window_ms=cfg.responses.window_ms,
                            style="cascade",
                        ),
                        dpi,
                    ),
                ]
                sec.add(f'<div class="pair">{"".join(pair)}</div>')
        sec.add(_table(table, "Responses per stimulus and channel"))
    return sec


def _mvd_sections(result: AnalysisResult, rec: Recording | None, dpi: int) -> list[_Section]:
    """Sections of the MVD modalities: LSR morphology, Z-L response, facial MEP, trains."""
    from ..phases import phase_markers
    from ..plotting import (
        plot_fmep_trend,
        plot_lsr_morphology,
        plot_train_timeline,
        plot_zl_trend,
    )

    phases = phase_markers(rec) if rec is not None else None
    out = []
    if result.lsr_morphology is not None:
        sec = _Section("LSR morphology (phases, turns, afterdischarge, late component)")
        morph = result.lsr_morphology
        if morph["measured"].any():
            sec.add(_png(plot_lsr_morphology(morph, phases=phases), dpi))
        if result.morphology_summary is not None:
            sec.add(_table(result.morphology_summary, "Morphology per channel (initial AMR)"))
        sec.add(_table(morph[morph["measured"].to_numpy(bool)], "Morphology per LSR sweep"))
        out.append(sec)
    if result.zl is not None:
        sec = _Section(f"Z-L response ({result.zl['stim_index'].nunique()} vessel stimuli)")
        if result.zl_trend is not None:
            sec.add(_png(plot_zl_trend(result.zl, result.zl_trend, phases=phases), dpi))
            sec.add(_table(result.zl_trend, "Z-L trend per channel"))
        sec.add(_table(result.zl, "Z-L response per stimulus and channel"))
        out.append(sec)
    if result.fmep is not None and result.fmep_trend is not None:
        sec = _Section(f"Facial MEP ({result.fmep['stim_index'].nunique()} trains)")
        sec.add(_png(plot_fmep_trend(result.fmep, result.fmep_trend, phases=phases), dpi))
        sec.add(_table(result.fmep_trend, "FMEP final/baseline per channel (Fukuda 2010)"))
        sec.add(_table(result.fmep, "FMEP per train and channel"))
        out.append(sec)
    if result.trains is not None and result.train_time is not None:
        sec = _Section("Free-running EMG: A-, B- and C-trains (Romstöck 2000)")
        if len(result.trains):
            fig = plot_train_timeline(result.trains, train_time=result.train_time, phases=phases)
            sec.add(_png(fig, dpi))
        sec.add(_table(result.train_time, "A-train time per channel (Prell 2007)"))
        sec.add(_table(result.trains, f"Trains ({len(result.trains)})"))
        out.append(sec)
    return out


def _recording_for(result: AnalysisResult) -> Recording | None:
    path = result.provenance.get("input", {}).get("path")
    if not path or not Path(path).is_file():
        return None
    from ..io import read_recording

    read = result.config.read
    return read_recording(path, **read.open_options(), **read.read_options())


def report(
    result: AnalysisResult | Recording | str | os.PathLike[str],
    rec: Recording | None = None,
    *,
    out: str | os.PathLike[str],
    config: AnalysisConfig | None = None,
    title: str | None = None,
    overview_s: float = 60.0,
    dpi: int = 80,
) -> dict[str, pd.DataFrame]:
    """Write one self-contained HTML report of an analysis result.

    The report opens with a one-line conclusion (:func:`summary_sentence`), then the input
    (file, SHA-256, protocol and why it was chosen), the channels, the spontaneous activity
    (overview, synchrony raster, burst metrics, summaries, tables), the evoked section of the
    protocol (the LSR trend against minutes from the first stimulus with phase markers, sweeps
    superimposed and cascaded with absent trials in grey; CMAP, F-wave, blink-reflex or
    response figures), every parameter of the configuration used, the provenance and the
    processing history. Figures are base64 PNGs; the file is written atomically.

    Parameters
    ----------
    result : AnalysisResult, Recording or path-like
        What to report. A :class:`~hfs_emg.Recording` or a path is first analysed with
        :func:`hfs_emg.analyze` and ``config``; an :class:`~hfs_emg.AnalysisResult` is only
        rendered.
    rec : Recording, optional
        The recording of ``result``, for the figures. Default: ``result`` itself when it is a
        recording, else the file named in ``result.provenance`` (no figures of the signal
        when neither exists).
    out : path
        The ``.html`` file to write.
    config : AnalysisConfig, optional
        Only when ``result`` is a recording or a path: the analysis options.
    title : str, optional
        Default: the input file name.
    overview_s : float
        Seconds of signal in the overview figure.
    dpi : int
        Resolution of the embedded figures.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``result.tables()``: the tables shown.

    Raises
    ------
    ParameterError
        ``config`` given with an :class:`~hfs_emg.AnalysisResult` (it has its own).

    Examples
    --------
    >>> import tempfile, pathlib, hfs_emg
    >>> from hfs_emg.simulate import simulate_spontaneous
    >>> rec = simulate_spontaneous(duration_s=10.0, sfreq=2000.0).recording
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> res = hfs_emg.analyze(rec)
    >>> tables = report(res, rec, out=out)
    >>> list(tables) == list(res.tables()), "data:image/png;base64," in out.read_text()
    (True, True)
    """
    import matplotlib

    from .._errors import ParameterError

    if isinstance(result, AnalysisResult):
        if config is not None:
            raise ParameterError(
                "report(result, config=...): an AnalysisResult carries its configuration; "
                "pass config only with a Recording or a path."
            )
        if rec is None:
            rec = _recording_for(result)
    elif isinstance(result, Recording):
        rec = result if rec is None else rec
        result = analyze(result, config)
    elif isinstance(result, (str, os.PathLike)):
        result = analyze(result, config)
        rec = _recording_for(result) if rec is None else rec
    else:
        raise TypeError(
            f"result must be an AnalysisResult, a Recording or a path, got {type(result).__name__}."
        )
    prov = result.provenance
    source = prov.get("input", {})
    name = source.get("name") or "recording"
    sections: list[_Section] = []
    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        sections.append(_spontaneous_section(result, rec, dpi, overview_s))
        mvd = _mvd_sections(result, rec, dpi)
        sections[:0] = mvd
        if result.protocol in _TITLES_EVOKED and result.stim_events is not None:
            sections.insert(0, _evoked_section(result, rec, dpi))
    decision = prov.get("protocol", {})
    info = pd.DataFrame(
        {
            "item": [
                "file",
                "sha256",
                "protocol",
                "why",
                "format",
                "sampling rate (Hz)",
                "duration (s)",
                "channels",
                "hfs_emg version",
                "generated (UTC)",
            ],
            "value": [
                str(source.get("path") or "(in memory)"),
                str(source.get("sha256") or ""),
                result.protocol,
                str(decision.get("reason", "")),
                str(rec.meta.get("format", "")) if rec is not None else "",
                f"{rec.sfreq:g}" if rec is not None else "",
                f"{rec.duration_s:.3f}" if rec is not None else "",
                str(rec.n_channels) if rec is not None else "",
                __version__,
                _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            ],
        }
    )
    doc_title = html.escape(title or f"hfs_emg report: {name}")
    body = [
        f"<h1>{doc_title}</h1>",
        f'<p class="conclusion">{html.escape(summary_sentence(result))}</p>',
        f'<div class="scroll info">{info.to_html(index=False, border=0, header=False)}</div>',
    ]
    if rec is not None:
        body += [
            "<h2>Channels</h2>",
            f'<div class="scroll">{_channels_html(rec)}</div>',
        ]
    body += [s.html() for s in sections]
    if result.stim_events is not None:
        body.append(_table(result.stim_events, f"Stimuli ({len(result.stim_events)})"))
    body += [
        "<h2>Parameters</h2>",
        '<p class="note">The whole configuration the analysis used (configuration hash '
        f"<code>{html.escape(str(prov.get('config_hash', ''))[:16])}</code>; "
        "<code>hfs-emg config --default</code> prints the defaults).</p>",
        _params_table(result.config),
    ]
    history = rec.history if rec is not None else ()
    if len(history):
        hist = pd.DataFrame(
            [{"step": h.get("step", ""), "params": repr(h.get("params", ""))} for h in history]
        )
        body += ["<h2>Processing history of the input</h2>", hist.to_html(index=False)]
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{doc_title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f'\n<p class="note">hfs_emg {__version__}</p>\n</body>\n</html>\n'
    )
    with atomic_path(out) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    logger.info("report written: %s", out)
    return result.tables()
