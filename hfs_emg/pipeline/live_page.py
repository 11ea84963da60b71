"""The live page of :class:`~hfs_emg.pipeline.monitor.LiveMonitor`, served by a Bokeh server.

Bokeh's server (a well-kept library made for streaming plots) runs on ``127.0.0.1`` in a
background thread; each browser tab gets a document whose periodic callback (every
``refresh_ms``) redraws when the monitor has changed (``monitor.version``), i.e. at least once
per sweep. The page shows a status banner (present / partial with its reduction / disappeared,
in which phase; red when the LSR has disappeared or the signal is lost), per montage the
newest sweeps over the baseline sweep and a cascade of the latest sweeps, the amplitude and
latency trend against time with the surgical-phase markers, buttons that record phase markers
("dura opening", "decompression", "dural closure") and a free-text note.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from ..phases import phase_markers

__all__ = ["LivePage", "banner_text", "thin_rows"]

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def banner_text(monitor: Any) -> tuple[str, bool]:
    """Status line of the page and whether it is an alarm (LSR disappeared or signal lost).

    Parameters
    ----------
    monitor : LiveMonitor
        The running monitor.

    Returns
    -------
    (str, bool)
        The text and the alarm flag.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> banner_text(SimpleNamespace(status="signal lost", trend=pd.DataFrame(), n_stim=0))
    ('SIGNAL LOST - waiting for the stream', True)
    """
    if monitor.status == "signal lost":
        return "SIGNAL LOST - waiting for the stream", True
    trend = monitor.trend
    if trend is None or trend.empty:
        return f"{monitor.status}: waiting for stimuli ({monitor.n_stim} so far)", False
    parts, alarm = [], False
    for _, row in trend[trend["channel"] == "overall"].iterrows():
        status = str(row["status"])
        text = f"{row['montage']}: LSR {status.replace('_', ' ')}"
        if status == "partial" and np.isfinite(row["reduction_pct"]):
            text += f" (reduction {row['reduction_pct']:.0f} %)"
        if status == "disappeared":
            alarm = True
            t = row["disappearance_time_s"]
            text += f" at stimulus {int(row['disappearance_stim_index'])}"
            t0 = _first_stim_time(monitor)
            if np.isfinite(t) and np.isfinite(t0):
                text += f" ({(t - t0) / 60:.1f} min)"
            if row["loss_phase"]:
                text += f", {str(row['loss_phase']).replace('_', ' ')}"
        parts.append(text)
    totals = getattr(monitor, "spont_totals", None)  # the whole session, not the kept rows
    if totals and totals.get("n_a_trains"):
        parts.append(f"A-trains {totals['n_a_trains']} ({totals['a_trains_s']:.1f} s)")
    return f"{' | '.join(parts)} - {monitor.n_stim} stimuli", alarm


def _first_stim_time(monitor: Any) -> float:
    """Time of the session's first stimulus (the origin of the page's time axis)."""
    t0 = getattr(monitor, "first_stim_time_s", None)
    if t0 is not None:
        return float(t0)
    lsr = getattr(monitor, "lsr", None)
    return float(lsr["stim_time_s"].min()) if lsr is not None and len(lsr) else float("nan")


def thin_rows(rows: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """The rows to draw: the newest half of ``max_points`` whole, the older ones evenly thinned.

    Display only (the tables keep every row): a trend of hours stays readable and the page's
    data, sent to the browser at every sweep, stays bounded.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows in time order.
    max_points : int
        Most rows returned.

    Returns
    -------
    pandas.DataFrame
        At most ``max_points`` rows, the newest ones all kept.

    Examples
    --------
    >>> df = pd.DataFrame({"t": range(10_000)})
    >>> out = thin_rows(df, 1000)
    >>> len(out) <= 1000, out["t"].iloc[-500:].tolist() == list(range(9500, 10_000))
    (True, True)
    """
    if len(rows) <= max_points:
        return rows
    n_new = max_points // 2
    old = rows.iloc[: len(rows) - n_new]
    step = -(-len(old) // (max_points - n_new))
    return pd.concat([old.iloc[::step], rows.iloc[len(rows) - n_new :]])


class LivePage:
    """Serve the live page of a monitor on ``http://127.0.0.1:<port>/``.

    Parameters
    ----------
    monitor : LiveMonitor
        The monitor to show (it may be started before or after the page).
    port : int
        TCP port on 127.0.0.1 (0 = any free port; see :attr:`url`).
    refresh_ms : int
        Period of the page's update check.
    max_points : int
        Most points of each trend plot sent to the browser (:func:`thin_rows`): what a page
        holds stays bounded over a session of hours.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> page = LivePage(SimpleNamespace(), port=0).start()  # draws when a browser connects
    >>> page.url.startswith("http://127.0.0.1:")
    True
    >>> page.stop()
    """

    def __init__(
        self, monitor: Any, *, port: int = 5006, refresh_ms: int = 100, max_points: int = 4000
    ) -> None:
        self.monitor = monitor
        self.port = int(port)
        self.refresh_ms = int(refresh_ms)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.max_points = int(max_points)
        # (monotonic time, version) of the latest draws (bounded: a session lasts hours)
        self.shown_versions: deque[tuple[float, int]] = deque(maxlen=100_000)
        # CPU time (s, the page thread) of each update that drew something
        self.update_cpu_s: deque[float] = deque(maxlen=100_000)

    @property
    def url(self) -> str:
        """Address of the page."""
        return f"http://127.0.0.1:{self.port}/"

    # ------------------------------------------------------------------ server
    def start(self) -> LivePage:
        """Start the Bokeh server in a background thread (returns self once it listens)."""
        self._thread = threading.Thread(target=self._serve, name="hfs_emg-page", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._server is None:
            raise RuntimeError("the Bokeh server did not start within 30 s")
        return self

    def _serve(self) -> None:
        import asyncio

        asyncio.set_event_loop(asyncio.new_event_loop())
        from bokeh.application import Application
        from bokeh.application.handlers.function import FunctionHandler
        from bokeh.server.server import Server
        from tornado.ioloop import IOLoop

        if self.port == 0:  # a free port
            import socket

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.port = int(sock.getsockname()[1])
        loop = IOLoop.current()
        self._server = Server(
            {"/": Application(FunctionHandler(self._make_doc))},
            io_loop=loop,
            address="127.0.0.1",
            port=self.port,
            allow_websocket_origin=[f"127.0.0.1:{self.port}", f"localhost:{self.port}"],
        )
        self._server.start()
        self._loop = loop
        self._ready.set()
        loop.start()

    def stop(self) -> None:
        """Stop the server."""
        if self._server is None:
            return
        server, loop = self._server, self._loop

        def _halt() -> None:
            server.stop()
            loop.stop()

        loop.add_callback(_halt)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None

    # ------------------------------------------------------------------ document
    def _make_doc(self, doc: Any) -> None:
        from bokeh.layouts import column, row
        from bokeh.models import Button, ColumnDataSource, Div, Label, Span, TextInput
        from bokeh.plotting import figure

        mon = self.monitor
        banner = Div(text="", styles={"font-size": "20px", "padding": "8px"}, width=1100,
                     css_classes=["hfs-banner"])  # fmt: skip
        buttons = []
        for label in ("dura opening", "decompression", "dural closure"):
            b = Button(label=label, button_type="primary", css_classes=[f"phase-{label[:4]}"])
            b.on_click(lambda label=label: mon.add_phase(label))
            buttons.append(b)
        note = TextInput(placeholder="note", width=300, css_classes=["hfs-note"])
        note_btn = Button(label="add note", css_classes=["hfs-note-button"])

        def _note() -> None:
            if note.value.strip():
                mon.add_note(note.value.strip())
                note.value = ""

        note_btn.on_click(_note)
        t_lab = "time (min from the first stimulus)"
        amp = figure(height=230, width=550, title="LSR amplitude (present sweeps)",
                     x_axis_label=t_lab, y_axis_label="µV")  # fmt: skip
        lat = figure(height=230, width=550, title="LSR onset latency",
                     x_axis_label=t_lab, y_axis_label="ms")  # fmt: skip
        sweeps = figure(height=300, width=550, x_axis_label="ms", y_axis_label="µV (offset)",
                        title="newest sweeps (colour) over the baseline (grey)")  # fmt: skip
        cascade = figure(height=300, width=550, title="cascade (newest at the top)",
                         x_axis_label="ms", y_axis_label="sweep")  # fmt: skip
        src_amp = ColumnDataSource({"x": [], "y": [], "c": [], "ch": []})
        src_lat = ColumnDataSource({"x": [], "y": [], "c": [], "ch": []})
        amp.scatter("x", "y", color="c", source=src_amp, size=5, legend_field="ch")
        lat.scatter("x", "y", color="c", source=src_lat, size=5)
        amp.legend.location = "top_right"
        amp.legend.label_text_font_size = "8pt"
        src_base = ColumnDataSource({"xs": [], "ys": []})
        src_new = ColumnDataSource({"xs": [], "ys": [], "c": []})
        src_casc = ColumnDataSource({"xs": [], "ys": []})
        sweeps.multi_line("xs", "ys", source=src_base, color="#999999", line_width=2)
        sweeps.multi_line("xs", "ys", source=src_new, color="c", alpha=0.6)
        cascade.multi_line("xs", "ys", source=src_casc, color="#1f77b4")
        spans: list[Any] = []
        state: dict[str, Any] = {"version": -1, "n_rows": 0, "n_sent": 0, "colors": {}}
        # the trend points of this page (present, not rejected LSR rows), taken from the
        # monitor's new rows only: the work per sweep does not grow with the session
        pts: dict[str, list[Any]] = {"t": [], "amp": [], "lat": [], "ch": []}

        def _take_new_points() -> bool:
            """Append the new rows' points; True when the plots must be resent whole."""
            if hasattr(mon, "lsr_since"):
                n = int(mon.n_lsr_rows)
                new = mon.lsr_since(state["n_rows"]) if n > state["n_rows"] else pd.DataFrame()
            else:  # a plain object with an lsr table
                lsr = mon.lsr
                n = len(lsr)
                new = lsr.iloc[state["n_rows"] :]
            state["n_rows"] = n
            if new.empty:
                return False
            d = new[(new["kind"] == "lsr") & ~new["rejected"].astype(bool)]
            for c in d["channel"].unique():
                state["colors"].setdefault(c, _COLORS[len(state["colors"]) % len(_COLORS)])
            d = d[d["match_present"].astype(bool)]
            pts["t"] += d["stim_time_s"].tolist()
            pts["amp"] += d["p2p_uv"].tolist()
            pts["lat"] += d["latency_ms"].tolist()
            pts["ch"] += d["channel"].tolist()
            if len(pts["t"]) > self.max_points:  # thinned (display only), then sent whole
                keep = thin_rows(pd.DataFrame(pts), self.max_points * 3 // 4)
                for k in pts:
                    pts[k] = keep[k].tolist()
                return True
            return False

        def _send_points(t0: float, whole: bool) -> None:
            a = 0 if whole else state["n_sent"]
            x = [(t - t0) / 60 for t in pts["t"][a:]]
            cs = [state["colors"][c] for c in pts["ch"][a:]]
            chs = pts["ch"][a:]
            # one set of lists per source: Bokeh extends them in place when streaming
            amp_new = {"x": x, "y": pts["amp"][a:], "c": cs, "ch": chs}
            lat_new = {"x": list(x), "y": pts["lat"][a:], "c": list(cs), "ch": list(chs)}
            if whole:
                src_amp.data, src_lat.data = amp_new, lat_new
            elif x:
                src_amp.stream(amp_new)  # only the new points go to the browser
                src_lat.stream(lat_new)
            state["n_sent"] = len(pts["t"])

        def update() -> None:
            if mon.version == state["version"]:
                return
            c0 = time.thread_time()
            # the monitor replaces (never mutates) these objects: no lock needed
            state["version"] = mon.version
            text, alarm = banner_text(mon)
            phases = phase_markers(mon.phases())
            snap = {k: dict(v) for k, v in list(mon.sweeps.items())}
            if text != banner.text:
                banner.text = text
                banner.styles = {"font-size": "20px", "padding": "8px", "color": "white",
                                 "background-color": "#c0392b" if alarm else "#2e7d32"}  # fmt: skip
            whole = _take_new_points()
            if state["n_rows"]:
                t0 = _first_stim_time(mon)
                whole |= t0 != state.get("t0")
                _send_points(t0, whole)
                if t0 != state.get("t0"):  # the time origin is the first stimulus
                    for sp in spans:
                        sp.visible = False
                    state["t0"], state["drawn"] = t0, set()
                for _, p in phases.iterrows():
                    if float(p["onset_s"]) in state["drawn"]:
                        continue
                    state["drawn"].add(float(p["onset_s"]))
                    xp = (float(p["onset_s"]) - t0) / 60
                    for fig in (amp, lat):
                        sp = Span(location=xp, dimension="height", line_color="#ff7f0e",
                                  line_dash="dashed", line_width=2)  # fmt: skip
                        fig.add_layout(sp)
                        spans.append(sp)
                    lbl = Label(x=xp, y=5, y_units="screen", text=str(p["label"]),
                                text_font_size="10pt", text_color="#ff7f0e")  # fmt: skip
                    amp.add_layout(lbl)
                last = mon.last_rows if hasattr(mon, "last_rows") else None
                if last is None:
                    lsr = mon.lsr
                    last = lsr[lsr["stim_index"] == lsr["stim_index"].max()]
                entry = snap.get(str(last["montage"].iloc[-1])) or {}
                newest = (entry.get("newest") or [None])[-1]
                if newest is not state.get("drawn_sweep"):  # a new sweep: redraw the sweeps
                    self._draw_sweeps(snap, last, mon.ch_names, src_base, src_new, src_casc)
                    state["drawn_sweep"] = newest
            self.shown_versions.append((time.monotonic(), state["version"]))
            self.update_cpu_s.append(time.thread_time() - c0)

        doc.add_root(
            column(banner, row(*buttons, note, note_btn), row(sweeps, cascade), row(amp, lat))
        )
        doc.title = "hfs_emg live LSR monitor"
        update()
        doc.add_periodic_callback(update, self.refresh_ms)

    @staticmethod
    def _draw_sweeps(
        snap: dict, last: pd.DataFrame, ch_names: list, base: Any, new: Any, casc: Any
    ) -> None:
        """The newest sweeps over the baseline and the cascade (``last``: the newest sweep's
        rows, whose montage and LSR channels are drawn)."""
        if not snap:
            return
        montage = str(last["montage"].iloc[-1])
        entry = snap.get(montage) or next(iter(snap.values()))
        t_ms = entry["times"] * 1e3
        keep = (t_ms > 3) & (t_ms < 40)  # after the artefact
        chans = last.loc[last["kind"] == "lsr", "channel"].tolist()
        # the stored window holds every stream channel, in the stream's order
        from_stream = [ch_names.index(c) for c in chans]
        scale = max(float(np.abs(entry["baseline"][from_stream][:, keep]).max()), 1.0)
        xs_b, ys_b, xs_n, ys_n, cs = [], [], [], [], []
        for j, ci in enumerate(from_stream):
            off = j * scale
            xs_b.append(t_ms[keep].tolist())
            ys_b.append((entry["baseline"][ci][keep] - off).tolist())
            for k, w in enumerate(entry["newest"][-5:]):
                xs_n.append(t_ms[keep].tolist())
                ys_n.append((w[ci][keep] - off).tolist())
                cs.append(_COLORS[k % len(_COLORS)])
        base.data = {"xs": xs_b, "ys": ys_b}
        new.data = {"xs": xs_n, "ys": ys_n, "c": cs}
        if from_stream:
            ci = from_stream[0]
            ws = entry["newest"][-20:]
            amp = max(float(np.abs(np.stack([w[ci][keep] for w in ws])).max()), 1.0)
            casc.data = {
                "xs": [t_ms[keep].tolist() for _ in ws],
                "ys": [(w[ci][keep] / amp + k).tolist() for k, w in enumerate(ws)],
            }
