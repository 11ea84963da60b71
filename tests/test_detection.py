"""detect_bursts / discharge_frequency: options, preprocessing, measures, edge cases."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from hfs_emg import ParameterError, from_array
from hfs_emg import preprocessing as pp
from hfs_emg.detection import BURST_COLUMNS, BURST_METHODS, detect_bursts
from hfs_emg.discharge import discharge_frequency
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.simulate.score_spontaneous import match_onsets, score_bursts


@pytest.fixture(scope="module")
def sim():
    return simulate_spontaneous(duration_s=30.0, sfreq=5000.0, spasm_rate_per_min=20, seed=7)


def test_columns_and_attrs(sim):
    b = detect_bursts(sim.recording)
    assert tuple(b.columns) == BURST_COLUMNS
    assert b["onset_s"].is_monotonic_increasing
    assert (b["offset_s"] > b["onset_s"]).all()
    np.testing.assert_allclose(b["duration_s"], b["offset_s"] - b["onset_s"])
    assert set(b["kind"]) <= {"clonic", "tonic"}
    assert ((b["duration_s"] >= 0.5) == (b["kind"] == "tonic")).all()
    assert b.attrs["method"] == "hysteresis"
    assert [s["step"] for s in b.attrs["preprocessing"]] == ["bandpass_filter", "notch_filter"]
    assert b.attrs["preprocessing"][1]["freq"][0] == 50.0
    assert b.attrs["duration_s"] == pytest.approx(30.0)


def test_amplitude_measures_match_truth_scale(sim):
    """rms_uv of matched bursts equals the simulated burst RMS (noise added in quadrature)."""
    b = detect_bursts(sim.recording)
    m = match_onsets(sim.bursts, b)
    target = 5.0 * 10 ** (20 / 20)  # noise_uv * 10**(snr/20)
    rms = b.loc[m["detected_index"], "rms_uv"].to_numpy()
    assert np.median(rms) == pytest.approx(target, rel=0.2)
    got = b.loc[m["detected_index"]]
    assert (got["peak_uv"] >= got["rms_uv"]).all()
    np.testing.assert_allclose(
        got["area_uv_s"] / got["duration_s"], got["rms_uv"] * np.sqrt(2 / np.pi), rtol=0.35
    )


def test_filtered_recording_is_not_filtered_again(sim, caplog):
    rec = pp.bandpass_filter(sim.recording, 20.0, 1000.0)
    for f in (50.0, 150.0, 250.0):
        rec = pp.notch_filter(rec, f, harmonics=False, method="iir")
    with caplog.at_level(logging.INFO, logger="hfs_emg"):
        b = detect_bursts(rec)
    assert b.attrs["preprocessing"] == []
    assert "unfiltered" not in caplog.text
    with caplog.at_level(logging.INFO, logger="hfs_emg"):
        detect_bursts(sim.recording)
    assert "unfiltered recording" in caplog.text
    assert score_bursts(sim.bursts, b)["f1"] > 0.95


def test_noise_only_gives_no_burst():
    rng = np.random.default_rng(0)
    rec = from_array(rng.normal(0, 5, (3, 100_000)), 5000.0, ["a", "b", "c"])
    for method in BURST_METHODS:
        b = detect_bursts(rec, method=method)
        assert len(b) <= 1, method
    assert tuple(detect_bursts(rec).columns) == BURST_COLUMNS


def test_tstart_is_kept():
    sim = simulate_spontaneous(duration_s=20.0, sfreq=2000.0, seed=1)
    rec = sim.recording.crop(5.0, None)
    b = detect_bursts(rec)
    truth = sim.bursts[sim.bursts["onset_s"] > 5.2]
    assert score_bursts(truth, b)["f1"] > 0.95


def test_bad_options(sim):
    with pytest.raises(ParameterError, match="'bonato', 'tkeo'"):
        detect_bursts(sim.recording, method="lidierth")
    with pytest.raises(ParameterError, match="Allowed"):
        detect_bursts(sim.recording, method="bonato", h=3)
    with pytest.raises(ParameterError):
        detect_bursts(sim.recording, min_duration_s=0)
    with pytest.raises(ParameterError):
        detect_bursts(sim.recording, high=1.0, low=2.0)
    with pytest.raises(ParameterError):
        detect_bursts(sim.recording, discharge_range_hz=(400.0, 100.0))
    with pytest.raises(TypeError):
        detect_bursts(sim.recording.data)


@pytest.mark.parametrize("fs", [2000.0, 5000.0, 10000.0])
@pytest.mark.parametrize("f0", [150.0, 260.0, 390.0])
def test_discharge_frequency_on_periodic_trains(fs, f0):
    """Spike trains of biphasic MUAPs at f0 with 3 % jitter: estimate within 3 %."""
    rng = np.random.default_rng(int(f0))
    n = int(0.2 * fs)
    t_spk = np.arange(0.01, 0.19, 1 / f0) + rng.normal(0, 0.03 / f0, int(np.ceil(0.18 * f0)))
    x = np.zeros(n)
    x[np.round(t_spk * fs).astype(int)] = 1.0
    tt = (np.arange(int(0.006 * fs)) - int(0.003 * fs)) / fs
    wave = -tt / 0.0006 * np.exp(-0.5 * (tt / 0.0006) ** 2)
    sig = np.convolve(x, wave, mode="same") + rng.normal(0, 0.05, n)
    est = discharge_frequency(np.vstack([sig, sig]), fs, [0, 0], [n, n // 2], [0, 1])
    np.testing.assert_allclose(est, f0, rtol=0.03)


def test_discharge_frequency_empty_and_short():
    assert discharge_frequency(np.zeros(100), 1000.0, [], []).size == 0
    out = discharge_frequency(np.random.default_rng(0).normal(size=1000), 5000.0, [0], [5])
    assert np.isnan(out).all()


def test_vectorized_speed():
    """8 channels x 10 min at 5 kHz (24 M samples) in well under the real time."""
    import time

    rng = np.random.default_rng(1)
    data = rng.normal(0, 5, (8, 600_000)).astype(np.float32)
    rec = pp.bandpass_filter(from_array(data, 5000.0, [f"ch{i}" for i in range(8)]), 20, 1000)
    t0 = time.perf_counter()
    b = detect_bursts(rec)
    assert time.perf_counter() - t0 < 10.0
    assert isinstance(b, pd.DataFrame)


def test_already_filtered_reads_the_structured_history():
    import dataclasses

    from hfs_emg.detection import _already_filtered
    from hfs_emg.preprocessing import bandpass_filter
    from hfs_emg.simulate import simulate_spontaneous

    rec = simulate_spontaneous(duration_s=2.0, sfreq=2000.0, seed=1).recording
    assert not _already_filtered(rec)
    assert _already_filtered(bandpass_filter(rec, 20.0, 900.0))
    # a step whose name merely contains "bandpass" is not the band-pass step
    odd = dataclasses.replace(rec, history=({"step": "no_bandpass_here", "params": {}},))
    assert not _already_filtered(odd)


def test_overwrite_filters_in_place_with_the_same_bursts(sim):
    import dataclasses

    from hfs_emg.detection import burst_filter

    rec = sim.recording
    ref = detect_bursts(rec, rise_times=True)
    own = dataclasses.replace(rec, data=np.array(rec.data))  # a writeable array of its own
    raw = np.array(own.data)
    got = detect_bursts(own, rise_times=True, overwrite=True)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert got.attrs["preprocessing"] == ref.attrs["preprocessing"]
    emg = rec._pick_indices("emg")
    filt = burst_filter(rec)
    for i in range(rec.n_channels):  # the EMG rows now hold the filtered samples, others not
        want = filt.apply(raw[i]) if i in emg else raw[i]
        assert np.array_equal(own.data[i], want)
    assert np.array_equal(rec.data, raw)  # the original recording is untouched
    frozen = np.array(rec.data)
    frozen.flags.writeable = False
    with pytest.raises(ParameterError, match="overwrite"):
        detect_bursts(dataclasses.replace(rec, data=frozen), overwrite=True)
