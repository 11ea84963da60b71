"""HTML report: parses, embeds figures, carries the tables, parameters and the input checksum."""

from __future__ import annotations

import hashlib
import shutil
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

import hfs_emg
from hfs_emg.reporting import report


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.headings: list[str] = []
        self.stack: list[str] = []
        self.tables: list[list[list[str]]] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self.stack and self.stack[-1] in ("td", "th"):
            self.tables[-1][-1][-1] += data.strip()
        if self.stack and self.stack[-1] in ("h2", "h3"):
            self.headings.append(data.strip())


def _frames(doc: _Collector) -> list[pd.DataFrame]:
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in doc.tables if len(rows) > 1]


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    parser.close()
    return parser


def test_report_lsr_session(example_dir, tmp_path):
    src = tmp_path / "lsr_session.edf"
    shutil.copy(example_dir / "lsr_session.edf", src)
    rec = hfs_emg.read_recording(src)
    out = tmp_path / "out" / "lsr.html"
    tables = report(rec, out=out, options={"lsr": {"window_ms": (6.0, 20.0)}})
    text = out.read_text(encoding="utf-8")
    doc = _parse(text)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert hashlib.sha256(src.read_bytes()).hexdigest() in text
    assert hfs_emg.__version__ in text
    assert len(doc.imgs) >= 5
    assert all(s.startswith("data:image/png;base64,") for s in doc.imgs)
    assert any(h.startswith("Lateral spread response") for h in doc.headings)
    assert "LSR trend per channel" in doc.headings
    assert "window_ms" in text  # the parameter passed is listed
    # the trend table in the HTML equals the returned one and matches the simulated truth
    html_tables = _frames(doc)
    trend = next(t for t in html_tables if "disappearance_stim_index" in t.columns)
    assert len(trend) == len(tables["trend"])
    truth = pd.read_csv(example_dir / "truth" / "lsr_session_trend.csv")
    got = trend.set_index("channel")["disappearance_stim_index"]
    for _, row in truth.iterrows():
        assert abs(float(got[row["channel"]]) - row["disappearance_stim_index"]) <= 2
    assert not list(out.parent.glob(".*tmp*"))  # atomic: no temporary left


def test_report_spontaneous_without_stimuli(example_dir, tmp_path):
    rec = hfs_emg.read_recording(example_dir / "spontaneous_hfs.edf")
    out = tmp_path / "spont.html"
    tables = report(rec, out=out, overview_s=20.0)
    text = out.read_text(encoding="utf-8")
    doc = _parse(text)
    assert sorted(tables) == ["bursts", "summary", "synchronous"]
    assert len(doc.imgs) == 3  # overview, synchrony raster, burst metrics
    assert "none found" in text  # no stimulus -> no evoked section, said so in the parameters
    assert not any("stimuli" in h for h in doc.headings)
    truth = pd.read_csv(example_dir / "truth" / "spontaneous_hfs_synchronous.csv")
    sync = next(t for t in _frames(doc) if "spread_ms" in t.columns)
    assert len(sync) == len(truth)
    assert sorted(sync["lead_channel"]) == sorted(truth["lead_channel"])
    assert "direction" not in sync.columns


def test_report_in_memory_and_bad_options(tmp_path):
    from hfs_emg.simulate import simulate_nerve_conduction

    rec = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=6).f_waves
    out = tmp_path / "f.html"
    tables = report(rec, out=out, evoked="f_waves", spontaneous=False)
    text = out.read_text(encoding="utf-8")
    assert "(no source file)" in text
    assert set(tables) == {"f_waves", "f_waves_trials"}
    with pytest.raises(hfs_emg.ParameterError, match="evoked"):
        report(rec, out=out, evoked="h_reflex")
    with pytest.raises(hfs_emg.ParameterError, match="unknown analysis"):
        report(rec, out=out, options={"spasm": {}})


def test_report_blink_reflex_excludes_evoked_bursts(example_dir, tmp_path):
    rec = hfs_emg.read_recording(example_dir / "ncs_blink_reflex.bdf")
    out = tmp_path / "blink.html"
    tables = report(rec, out=out, evoked="blink_reflex")
    text = out.read_text(encoding="utf-8")
    # every burst of this file is a reflex response time-locked to a stimulus
    assert len(tables["bursts"]) == 0
    assert "evoked responses, left out" in text
    doc = _parse(text)
    assert len(doc.imgs) >= 3  # overview + one blink figure per stimulated side
    blink = next(t for t in _frames(doc) if "component" in t.columns and "n_present" in t.columns)
    truth = pd.read_csv(example_dir / "truth" / "ncs_blink_reflex_truth.csv")
    true_mean = (
        truth[truth["present"]].groupby(["stim_side", "channel", "component"])["latency_ms"].mean()
    )
    blink = blink[blink["latency_ms"] != ""]
    assert len(blink) >= 10
    for _, row in blink.iterrows():
        key = (row["stim_side"], row["channel"], row["component"])
        assert abs(float(row["latency_ms"]) - true_mean[key]) < 0.5
