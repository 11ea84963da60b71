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


def _raw(df: pd.DataFrame) -> pd.DataFrame:
    """Back from the report's unit headers ("p2p (µV)") to the table's column names."""
    from hfs_emg.pipeline.report import _UNITS

    back = {}
    for col in df.columns:
        for suffix, unit in _UNITS.items():
            if col.endswith(unit):
                back[col] = col[: -len(unit)] + suffix
                break
    return df.rename(columns=back)


def test_report_lsr_session(example_dir, tmp_path):
    src = tmp_path / "lsr_session.edf"
    shutil.copy(example_dir / "lsr_session.edf", src)
    config = hfs_emg.AnalysisConfig().replace(lsr__window_ms=(6.0, 21.0))
    result = hfs_emg.analyze(src, config)
    out = tmp_path / "out" / "lsr.html"
    tables = report(result, out=out)
    text = out.read_text(encoding="utf-8")
    doc = _parse(text)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert hashlib.sha256(src.read_bytes()).hexdigest() in text
    assert hfs_emg.__version__ in text
    # the recording was found from the provenance: trend + superimposed and cascade sweeps
    assert len(doc.imgs) >= 1 + 2 * 3 + 1
    assert all(s.startswith("data:image/png;base64,") for s in doc.imgs)
    assert any(h.startswith("Lateral spread response") for h in doc.headings)
    assert "LSR trend per channel" in doc.headings
    # the whole configuration used is listed, with the changed value
    params = next(t for t in _frames(doc) if list(t.columns) == ["section", "parameter", "value"])
    n_keys = sum(len(v) if isinstance(v, dict) else 1 for v in config.to_dict().values())
    assert len(params) == n_keys
    row = params[(params["section"] == "lsr") & (params["parameter"] == "window_ms")]
    assert row["value"].tolist() == ["[6.0, 21.0]"]
    # the conclusion names the disappearance the result found, stimulus and time
    trend = result.trend.set_index("channel")
    idx = int(trend.loc["Mentalis_L", "disappearance_stim_index"])
    assert f"LSR disappeared at stimulus {idx}," in text and "Mentalis_L" in text
    # the trend table in the HTML equals the result's and matches the simulated truth
    html_trend = _raw(next(t for t in _frames(doc) if "disappearance_stim_index" in t.columns))
    assert html_trend["channel"].tolist() == tables["trend"]["channel"].tolist()
    truth = pd.read_csv(example_dir / "truth" / "lsr_session_trend.csv")
    got = html_trend.set_index("channel")["disappearance_stim_index"]
    for _, row in truth.iterrows():
        assert abs(float(got[row["channel"]]) - row["disappearance_stim_index"]) <= 2
    assert "µV" in text and "(uV)" not in text
    assert '<div class="scroll">' in text
    assert not list(out.parent.glob(".*tmp*"))  # atomic: no temporary left


def test_report_renders_and_runs_nothing(example_dir, tmp_path, monkeypatch):
    import hfs_emg.pipeline.report as rep

    result = hfs_emg.analyze(example_dir / "spontaneous_hfs.edf")

    def no_analysis(*args, **kwargs):
        raise AssertionError("report() ran an analysis")

    import hfs_emg.pipeline.steps as steps

    for name in ("detect_bursts", "detect_synchronous_bursts", "summarize", "measure_lsr"):
        monkeypatch.setattr(steps, name, no_analysis)
    monkeypatch.setattr(rep, "analyze", no_analysis)
    out = tmp_path / "spont.html"
    tables = report(result, out=out, overview_s=20.0)
    assert list(tables) == list(result.tables())
    for name, table in tables.items():
        assert table is getattr(result, name)
    text = out.read_text(encoding="utf-8")
    doc = _parse(text)
    assert len(doc.imgs) == 3  # overview, synchrony raster, burst metrics
    assert not any("stimuli" in h for h in doc.headings)
    assert "Spontaneous EMG:" in text and "affected side left" in text
    truth = pd.read_csv(example_dir / "truth" / "spontaneous_hfs_synchronous.csv")
    sync = _raw(next(t for t in _frames(doc) if "spread (ms)" in t.columns))
    assert len(sync) == len(truth)
    assert sorted(sync["lead_channel"]) == sorted(truth["lead_channel"])
    assert "direction" not in sync.columns
    with pytest.raises(hfs_emg.ParameterError, match="carries its configuration"):
        report(result, out=out, config=hfs_emg.AnalysisConfig())


def test_report_in_memory_recording(tmp_path):
    from hfs_emg.simulate import simulate_nerve_conduction

    rec = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=6).f_waves
    out = tmp_path / "f.html"
    tables = report(rec, out=out, config=hfs_emg.AnalysisConfig(protocol="f_waves"))
    text = out.read_text(encoding="utf-8")
    assert "(in memory)" in text
    assert {"f_waves", "f_waves_trials"} <= set(tables)
    assert len(_parse(text).imgs) >= 1  # the F-wave raster from the recording given
    with pytest.raises(TypeError, match="AnalysisResult"):
        report(3, out=out)


def test_report_blink_reflex_excludes_evoked_bursts(example_dir, tmp_path):
    out = tmp_path / "blink.html"
    tables = report(example_dir / "ncs_blink_reflex.bdf", out=out)
    text = out.read_text(encoding="utf-8")
    # every burst of this file is a reflex response time-locked to a stimulus
    assert len(tables["bursts"]) == 0
    assert "are evoked responses and are left out" in text
    doc = _parse(text)
    assert len(doc.imgs) >= 3  # overview + one blink figure per stimulated side
    blink = _raw(next(t for t in _frames(doc) if "component" in t.columns and "n_present" in t))
    truth = pd.read_csv(example_dir / "truth" / "ncs_blink_reflex_truth.csv")
    true_mean = (
        truth[truth["present"]].groupby(["stim_side", "channel", "component"])["latency_ms"].mean()
    )
    blink = blink[blink["latency_ms"] != ""]
    assert len(blink) >= 10
    for _, row in blink.iterrows():
        key = (row["stim_side"], row["channel"], row["component"])
        assert abs(float(row["latency_ms"]) - true_mean[key]) < 0.5


def test_summary_sentence_names_the_montage_when_montages_alternate():
    """Two montages: each (branch, muscle) pair's verdict is named with its montage."""
    import dataclasses

    from hfs_emg.pipeline.report import _lsr_sentence

    res = hfs_emg.analyze(hfs_emg.datasets.example_path("lsr_session.edf"))
    one = _lsr_sentence(res)
    assert "stimulation" not in one  # a single montage: the sentence is unchanged
    other = res.trend.assign(montage="marginal_mandibular", status="persisted")
    both = dataclasses.replace(res, trend=pd.concat([res.trend, other], ignore_index=True))
    text = _lsr_sentence(both)
    assert "Mentalis_L and OrbOris_L (zygomatic stimulation)" in text
    assert "LSR persisted in Frontalis_L, Mentalis_L and OrbOris_L (marginal_mandibular" in text


def test_disappearance_annotations_name_the_montage_when_montages_alternate():
    import dataclasses

    from hfs_emg.recording import _annotation_rows

    res = hfs_emg.analyze(hfs_emg.datasets.example_path("lsr_session.edf"))
    assert set(_annotation_rows(res)["label"]) >= {"LSR disappeared"}
    other = res.trend.assign(montage="marginal_mandibular")
    both = dataclasses.replace(res, trend=pd.concat([res.trend, other], ignore_index=True))
    labels = _annotation_rows(both)["label"].value_counts()
    assert labels["LSR disappeared (zygomatic stimulation)"] == 3
    assert labels["LSR disappeared (marginal_mandibular stimulation)"] == 3
    assert "LSR disappeared" not in labels
