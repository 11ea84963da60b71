"""MVD figures: phase bands, loss lines, latency beside amplitude, baseline overlay."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import hfs_emg
from hfs_emg import ParameterError, plotting
from hfs_emg.simulate import simulate_lsr_session, simulate_mvd_lsr


@pytest.fixture(autouse=True)
def _close() -> None:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def mvd():
    sim = simulate_mvd_lsr(scenario="disappeared_after_decompression", seed=9)
    lsr = hfs_emg.measure_lsr(sim.recording)
    return sim, lsr, hfs_emg.lsr_trend(lsr, phases=sim.phases)


def _vlines_x(ax) -> list[float]:
    return [
        float(line.get_xdata()[0])
        for line in ax.get_lines()
        if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
    ]


def test_plot_mvd_trend_phase_bands_and_loss(mvd):
    sim, lsr, trend = mvd
    fig = plotting.plot_mvd_trend(lsr, trend, phases=sim.phases)
    ax = fig.axes[0]
    t0 = lsr["stim_time_s"].min()
    # one band per phase, starting at its marker (minutes from the first stimulus)
    starts = sorted(p.get_x() for p in ax.patches)
    np.testing.assert_allclose(starts, (sim.phases["onset_s"].to_numpy() - t0) / 60.0)
    expected = (trend["disappearance_time_s"].dropna().to_numpy() - t0) / 60.0
    np.testing.assert_allclose(sorted(_vlines_x(ax)), sorted(expected))
    assert "after decompression" in " ".join(t.get_text() for t in ax.texts)
    n_lsr = lsr[lsr["kind"] == "lsr"]
    n_points = sum(len(line.get_xdata()) for line in ax.get_lines() if line.get_marker() == "o")
    assert n_points == len(n_lsr)


def test_plot_mvd_trend_one_panel_per_montage():
    sim = simulate_lsr_session(n_stimuli=20, rate_hz=5.0, sfreq=5000.0, seed=2)
    lsr = hfs_emg.measure_lsr(sim.recording)
    lsr = lsr.assign(montage=np.where(lsr["stim_index"] % 2 == 0, "A", "B"))
    trend = hfs_emg.lsr_trend(lsr, baseline_n=3, consecutive_absent=3)
    fig = plotting.plot_mvd_trend(lsr, trend)
    assert [a.get_title(loc="left") for a in fig.axes] == ["montage A", "montage B"]
    _, ax = plt.subplots()
    with pytest.raises(ParameterError):
        plotting.plot_mvd_trend(lsr, trend, ax=ax)
    assert plotting.plot_mvd_trend(lsr, trend, montage="B", ax=ax) is ax.figure


def test_plot_lsr_latency_trend_beside_amplitude(mvd):
    sim, lsr, trend = mvd
    fig = plotting.plot_lsr_latency_trend(lsr, trend, phases=sim.phases)
    amp_ax, lat_ax = fig.axes
    present = lsr[(lsr["kind"] == "lsr") & lsr["present"]]
    ys = np.concatenate(
        [line.get_ydata() for line in lat_ax.get_lines() if line.get_marker() == "o"]
    )
    assert ys.size == len(present)
    np.testing.assert_allclose(np.sort(ys), np.sort(present["latency_ms"].to_numpy()))
    # baseline latency lines at the trend's values
    hl = sorted(float(line.get_ydata()[0]) for line in lat_ax.get_lines() if line.get_ls() == ":")
    base = trend[trend["channel"] != "overall"]["baseline_latency_ms"].dropna()
    np.testing.assert_allclose(hl, sorted(base))
    with pytest.raises(ParameterError):
        plotting.plot_lsr_latency_trend(lsr, trend, axes=[amp_ax])


def test_plot_sweep_overlay_draws_the_baseline_mean_and_current():
    sim = simulate_lsr_session(n_stimuli=8, sfreq=5000.0, disappearance_index=4, seed=3)
    rec = sim.recording
    ev = hfs_emg.find_stim_events(rec)
    ep = hfs_emg.make_epochs(hfs_emg.blank_stimulus_artifact(rec, ev), ev)
    fig = plotting.plot_sweep_overlay(ep, channel="mentalis_L", baseline=[0, 1], current=-1)
    base, cur = fig.axes[0].get_lines()[:2]
    c = ep.ch_names.index("mentalis_L")
    np.testing.assert_allclose(base.get_ydata(), ep.data[[0, 1], c].mean(axis=0))
    np.testing.assert_allclose(cur.get_ydata(), ep.data[-1, c])
    with pytest.raises(hfs_emg.ChannelError):
        plotting.plot_sweep_overlay(ep, channel="nope")
    with pytest.raises(ParameterError):
        plotting.plot_sweep_overlay(ep, channel="mentalis_L", baseline=99)
