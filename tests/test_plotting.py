"""Figures: content checks on simulated data (drawn spans, marker positions, units, decimation)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hfs_emg
from hfs_emg import plotting
from hfs_emg.simulate import (
    simulate_lsr_session,
    simulate_nerve_conduction,
    simulate_spontaneous,
)


@pytest.fixture(autouse=True)
def _close() -> None:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def spont():
    sim = simulate_spontaneous(duration_s=30.0, sfreq=2000.0, seed=3)
    rec = sim.recording
    bursts = hfs_emg.detect_bursts(rec)
    sync = hfs_emg.detect_synchronous_bursts(bursts, channels=rec.channels)
    return rec, bursts, sync


@pytest.fixture(scope="module")
def lsr_epochs():
    rec = simulate_lsr_session(n_stimuli=12, sfreq=5000.0, seed=1).recording
    ev = hfs_emg.find_stim_events(rec)
    ep = hfs_emg.make_epochs(hfs_emg.blank_stimulus_artifact(rec, ev), ev, tmin=-0.005, tmax=0.04)
    return ep, hfs_emg.measure_lsr(ep, stim_branch="zygomatic")


def _burst_span_count(ax) -> dict[str, int]:
    return {
        c.get_label().removeprefix("bursts "): len(c.get_paths())
        for c in ax.collections
        if c.get_label().startswith("bursts ")
    }


def test_plot_bursts_one_span_per_burst_in_view(spont):
    rec, bursts, _ = spont
    tmin, tmax = 5.0, 20.0
    fig = plotting.plot_bursts(rec, bursts, tmin=tmin, tmax=tmax)
    ax = fig.axes[0]
    end = bursts["onset_s"] + bursts["duration_s"]
    in_view = bursts[(end > tmin) & (bursts["onset_s"] < tmax)]
    assert len(in_view) > 3
    drawn = _burst_span_count(ax)
    assert drawn == in_view.groupby("channel").size().to_dict()
    # every shaded span lies inside the view
    for c in ax.collections:
        if c.get_label().startswith("bursts "):
            xs = np.concatenate([p.vertices[:, 0] for p in c.get_paths()])
            assert xs.min() >= tmin - 1e-9 and xs.max() <= tmax + 1e-9
    assert "(s)" in ax.get_xlabel()
    assert all("µV" in t.get_text() for t in ax.get_yticklabels())  # written as clinicians do


def test_synchrony_raster_order_and_onsets(spont):
    rec, bursts, sync = spont
    assert len(sync) >= 2
    fig = plotting.plot_synchrony_raster(bursts, sync, channels=rec.channels)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    ranks = [
        hfs_emg.anatomy.MUSCLES[rec.channels.set_index("name").loc[n, "muscle"]].rank for n in names
    ]
    assert ranks == sorted(ranks)  # forehead first
    ylo, yhi = ax.get_ylim()
    assert ylo > yhi  # forehead drawn on top
    lines = [ln for ln in ax.lines if len(ln.get_xdata())]
    assert len(lines) == len(sync)
    # the first marker (min delay) of every event is at 0 ms: the event starts with its lead
    assert all(min(ln.get_xdata()) == pytest.approx(0.0, abs=1e-6) for ln in lines)
    # the lead channel of each event sits at 0 ms
    for ln, (_, ev) in zip(lines, sync.sort_values("event_id").iterrows(), strict=True):
        y0 = int(np.asarray(ln.get_ydata())[np.argmin(ln.get_xdata())])
        assert names[y0] in ev["channels"].split(",")
        resolved = ev["onset_order"] not in ("simultaneous", "undetermined")
        colour = plotting._ORDER_COLORS["ordered" if resolved else "simultaneous"]
        assert matplotlib.colors.same_color(ln.get_color(), colour)
    assert "(ms)" in ax.get_xlabel()


def test_burst_metrics_units(spont):
    _, bursts, _ = spont
    fig = plotting.plot_burst_metrics(bursts)
    assert [a.get_xlabel() for a in fig.axes] == [
        "Burst duration (ms)",
        "Discharge frequency (Hz)",
    ]
    # the orange dots are the bursts, in ms
    dots = np.concatenate([ln.get_xdata() for ln in fig.axes[0].lines if ln.get_marker() == "o"])
    assert np.sort(dots) == pytest.approx(np.sort(bursts["duration_s"].to_numpy() * 1e3))


@pytest.mark.parametrize("style", ["superimposed", "cascade"])
def test_plot_evoked_markers_at_table_latencies(lsr_epochs, style):
    ep, lsr = lsr_epochs
    ch = "orbicularis_oris_L"
    fig = plotting.plot_evoked(ep, lsr, channel=ch, style=style, window_ms=(6.0, 20.0))
    ax = fig.axes[0]
    rows = lsr[(lsr["channel"] == ch) & lsr["latency_ms"].notna()]
    assert len(rows) >= 8
    onset = next(ln for ln in ax.lines if ln.get_label() == "onset")
    peak = next(ln for ln in ax.lines if ln.get_label() == "peak")
    assert np.asarray(onset.get_xdata()) == pytest.approx(rows["latency_ms"].to_numpy())
    assert np.asarray(peak.get_xdata()) == pytest.approx(rows["peak_latency_ms"].to_numpy())
    # the shaded window spans the latency window in ms
    span = next(p for p in ax.patches if p.get_label() == "latency window")
    if hasattr(span, "get_width"):  # Rectangle (matplotlib >= 3.9)
        xs = [span.get_x(), span.get_x() + span.get_width()]
    else:  # Polygon
        xs = np.asarray(span.get_xy())[:, 0]
    assert min(xs) == pytest.approx(6.0) and max(xs) == pytest.approx(20.0)
    assert ax.get_xlabel() == "Latency (ms)"
    assert "µV" in ax.get_ylabel()


def test_plot_evoked_bad_channel(lsr_epochs):
    ep, lsr = lsr_epochs
    with pytest.raises(hfs_emg.ChannelError, match="nope"):
        plotting.plot_evoked(ep, lsr, channel="nope")
    with pytest.raises(hfs_emg.ParameterError, match="style"):
        plotting.plot_evoked(ep, lsr, style="waterfall")


def test_plot_lsr_trend_disappearance():
    sim = simulate_lsr_session(n_stimuli=30, disappearance_index=15, sfreq=5000.0, seed=2)
    lsr = hfs_emg.measure_lsr(sim.recording, stim_branch="zygomatic")
    trend = hfs_emg.lsr_trend(lsr, baseline_n=5, consecutive_absent=3)
    fig = plotting.plot_lsr_trend(lsr, trend)
    ax = fig.axes[0]
    vlines = sorted(
        ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == "--" and len(ln.get_xdata())
    )
    expected = sorted(trend["disappearance_stim_index"].dropna().astype(float))
    assert len(expected) >= 1
    assert vlines == pytest.approx(expected)
    # disappearance found within 2 stimuli of the simulated truth
    assert all(abs(v - 15) <= 2 for v in expected)
    assert ax.get_ylabel() == "LSR peak-to-peak (µV)"
    assert ax.get_xlabel() == "Stimulus #"


def test_plot_cmap_f_blink_markers():
    sim = simulate_nerve_conduction(sfreq=10000.0, n_f_stimuli=10, n_blink_stimuli=2, seed=0)
    rec = sim.cmap
    ep = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.03)
    cmap = hfs_emg.measure_cmap(ep)
    ax = plotting.plot_cmap(ep, cmap).axes[0]
    onsets = sorted(ln.get_xdata()[0] for ln in ax.lines if ln.get_marker() == "v")
    assert onsets == pytest.approx(sorted(cmap["latency_ms"]))
    assert ax.get_xlabel() == "Latency (ms)" and "µV" in ax.get_ylabel()

    rec = sim.f_waves
    ep = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.005, tmax=0.04)
    trials = hfs_emg.measure_f_waves(ep).trials
    ax = plotting.plot_f_waves(ep, trials).axes[0]
    f = next(ln for ln in ax.lines if ln.get_label() == "F latency")
    assert np.asarray(f.get_xdata()) == pytest.approx(trials["latency_ms"].dropna().to_numpy())
    assert "µV" in ax.get_ylabel() and ax.get_xlabel() == "Latency (ms)"

    rec = sim.blink
    ep = hfs_emg.make_epochs(rec, hfs_emg.find_stim_events(rec), tmin=-0.01, tmax=0.07)
    blink = hfs_emg.measure_blink_reflex(ep).summary
    fig = plotting.plot_blink_reflex(ep, blink)
    side = ep.events["side"].iloc[0]
    for ax, name in zip(fig.axes, ep.ch_names, strict=True):
        want = blink[(blink["channel"] == name) & (blink["stim_side"] == side)].dropna(
            subset=["latency_ms"]
        )
        got = {
            ln.get_label(): ln.get_xdata()[0] for ln in ax.lines if ln.get_label() in ("R1", "R2")
        }
        assert got == pytest.approx(dict(zip(want["component"], want["latency_ms"], strict=True)))
        assert "µV" in ax.get_ylabel()


def test_minmax_decimation_one_hour_eight_channels():
    sfreq, n_ch, n_bins = 10_000.0, 8, 1500
    n = int(3600 * sfreq)
    # zeros cost no memory until written: noise in the first 100 s, one spike later on
    data = np.zeros((n_ch, n), dtype=np.float32)
    data[:, :1_000_000] = np.random.default_rng(0).standard_normal((n_ch, 1_000_000), np.float32)
    spike = 12_345_678
    data[3, spike] = 1e4  # one sample must survive the decimation
    rec = hfs_emg.from_array(data, sfreq, [f"ch{k}" for k in range(n_ch)], dtype=np.float32)
    assert np.shares_memory(rec.data, data)
    fig = plotting.plot_recording(rec, n_bins=n_bins, scaling="channel")
    lines = fig.axes[0].lines
    assert len(lines) == n_ch
    assert all(len(ln.get_xdata()) <= 2 * n_bins for ln in lines)
    x3 = np.asarray(lines[3].get_xdata())
    y3 = np.asarray(lines[3].get_ydata())
    k = int(np.argmax(y3))
    assert y3[k] - np.median(y3) > 50  # the spike is drawn, far above the noise
    assert x3[k] == pytest.approx(spike / sfreq, abs=3600 / n_bins)  # at its time
    assert fig.axes[0].get_xlim()[1] == pytest.approx(3600.0, abs=1.0)


def test_minmax_decimate_keeps_extremes():
    x = np.random.default_rng(1).normal(size=(3, 10_001))
    idx, y = plotting.minmax_decimate(x, 100)
    assert y.shape == (3, 200) and idx.shape == (200,)
    assert y.max(axis=1) == pytest.approx(x.max(axis=1))
    assert y.min(axis=1) == pytest.approx(x.min(axis=1))


def test_tables_missing_columns_raise(spont):
    rec = spont[0]
    with pytest.raises(hfs_emg.ParameterError, match="onset_s"):
        plotting.plot_bursts(rec, pd.DataFrame({"channel": []}))
