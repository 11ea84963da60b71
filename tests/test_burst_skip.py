"""Stimulus-locked bursts are found but not measured: the kept rows are those of measuring all.

The spontaneous analysis drops the bursts that start in a stimulus window
(:func:`hfs_emg.stim_locked.exclude_stimulus_locked`); the detection skips their features
(``detect_bursts(skip_windows=...)``, :meth:`BurstDetector.channel` ``skip``). That gives the
same rows only because a burst's features depend on its own samples, never on the bursts it is
batched with: the discharge rate's FFT length and lag range follow ``max_len_s`` only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hfs_emg
import hfs_emg.detection as detection
from hfs_emg import synchrony
from hfs_emg.detection import detect_bursts
from hfs_emg.discharge import discharge_frequency, median_frequency
from hfs_emg.live.spontaneous import analyse_block
from hfs_emg.pipeline import analysis, streaming
from hfs_emg.pipeline.config import AnalysisConfig
from hfs_emg.pipeline.steps import spontaneous_bursts
from hfs_emg.rise_time import rise_features
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.simulate.operating_room import simulate_or_session
from hfs_emg.stim_locked import StimulusWindows, exclude_stimulus_locked

FEATURES = ["peak_uv", "rms_uv", "area_uv_s", "discharge_hz", "periodicity", "median_frequency_hz"]


def _train(fs: float, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * fs)) / fs
    x = np.sin(2 * np.pi * 230 * t) + 0.4 * np.sin(2 * np.pi * 460 * t + 1.0)
    return x + 0.5 * rng.normal(size=t.size)


@pytest.mark.parametrize("fs", [5000.0, 10000.0])
def test_discharge_rate_does_not_depend_on_batch_neighbours(fs):
    # short and long bursts, each alone and then batched with one much longer burst: on the
    # batch-length FFT (nfft = next_fast_len(2 * longest burst)) the low bits moved
    x = _train(fs, 1.0, seed=5)
    rng = np.random.default_rng(7)
    starts = rng.integers(0, round(0.6 * fs), 120)
    stops = starts + rng.integers(round(0.003 * fs), round(0.2 * fs), 120)
    alone = [
        discharge_frequency(x, fs, [a], [b], return_strength=True)
        for a, b in zip(starts, stops, strict=True)
    ]
    rate_alone = np.array([r[0][0] for r in alone])
    strength_alone = np.array([r[1][0] for r in alone])
    rate, strength = discharge_frequency(
        x, fs, np.r_[starts, 0], np.r_[stops, round(0.4 * fs)], return_strength=True
    )
    assert np.isfinite(rate_alone).sum() > 60  # most bursts have a rate
    np.testing.assert_array_equal(rate[:-1], rate_alone)
    np.testing.assert_array_equal(strength[:-1], strength_alone)
    # median frequency too (its FFT length already followed max_len_s only)
    mdf_alone = np.array(
        [median_frequency(x, fs, [a], [b])[0] for a, b in zip(starts, stops, strict=True)]
    )
    mdf = median_frequency(x, fs, np.r_[starts, 0], np.r_[stops, round(0.4 * fs)])
    np.testing.assert_array_equal(mdf[:-1], mdf_alone)


def _windows_on_half_the_bursts(bursts: pd.DataFrame) -> StimulusWindows:
    # a "stimulus" 5 ms before every second group of (synchronous) bursts: about half of the
    # bursts are locked
    on = bursts["onset_s"].to_numpy()
    first = on[np.r_[True, np.diff(on) > 0.2]]
    return StimulusWindows(first[::2] - 0.005)


@pytest.mark.parametrize("rise_times", [False, True])
def test_detect_bursts_skip_equals_measure_all_then_drop(rise_times):
    rec = simulate_spontaneous(duration_s=20.0, sfreq=5000.0, seed=3).recording
    every = detect_bursts(rec, rise_times=rise_times)
    windows = _windows_on_half_the_bursts(every)
    skipped = detect_bursts(rec, rise_times=rise_times, skip_windows=windows)
    locked = windows.locked(every["onset_s"].to_numpy())
    assert 0 < locked.sum() < len(every)
    # the same bursts (found and merged alike), the locked ones not measured
    cols = FEATURES + (["rise_s", "rise_sd_ms"] if rise_times else [])
    assert list(skipped.columns) == list(every.columns)
    pd.testing.assert_frame_equal(
        skipped.drop(columns=cols), every.drop(columns=cols), check_exact=True
    )
    assert skipped.loc[locked, cols].isna().all().all()
    kw = {"exclude_before_stim_s": 0.02, "exclude_after_stim_s": 0.1}
    kept_all, n_all = exclude_stimulus_locked(every, windows.stim_onsets_s, **kw)
    kept_skip, n_skip = exclude_stimulus_locked(skipped, windows.stim_onsets_s, **kw)
    assert n_all == n_skip == locked.sum()
    pd.testing.assert_frame_equal(kept_skip, kept_all, check_exact=True)


class _Counter:
    """Wraps a per-burst measure ``func(x, fs, starts, stops, ...)``: bursts measured."""

    def __init__(self, func=discharge_frequency) -> None:
        self.n, self.func = 0, func

    def __call__(self, x, fs, s, e, *args, **kw):
        self.n += len(s)
        return self.func(x, fs, s, e, *args, **kw)


@pytest.fixture(scope="module")
def or_file(tmp_path_factory):
    # stimulus-locked responses on every channel plus electrocautery bursts between stimuli
    sim = simulate_or_session(n_stimuli=40, rate_hz=2.0, sfreq=5000.0, cautery_per_min=30, seed=1)
    rec = sim.recording
    rec = rec.rename_channels({n: n.replace("orbicularis_", "o_") for n in rec.ch_names})
    path = tmp_path_factory.mktemp("burst_skip") / "or.bdf"
    hfs_emg.write_recording(rec, path)
    return path


@pytest.mark.parametrize("streamed", [False, True])
def test_analyze_skip_equals_measure_all_then_drop(or_file, monkeypatch, streamed):
    # streamed: windows of 9.2 s (4 chunks) over the 21 s file, 1 s before their cores
    small = {"max_memory_mb": 0.05, "chunk_s": 2.3, "stream_margin_s": 1.0}
    config = AnalysisConfig(**small) if streamed else AnalysisConfig()
    module = streaming if streamed else analysis
    counts, rises, results = {}, {}, {}
    for mode in ("skip", "all"):
        with monkeypatch.context() as m:
            counter, rise = _Counter(), _Counter(rise_features)
            m.setattr(detection, "discharge_frequency", counter)
            m.setattr(detection, "rise_features", rise)  # in memory
            m.setattr(synchrony, "rise_features", rise)  # streamed
            if mode == "all":  # the detection is told no stimuli: every burst is measured
                m.setattr(module, "exclusion_onsets", lambda events: None)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results[mode] = hfs_emg.analyze(or_file, config)
        counts[mode], rises[mode] = counter.n, rise.n
    skip, every = results["skip"], results["all"]
    assert skip.provenance["streamed"] is streamed and skip.protocol == "lsr"
    n_kept, n_locked = len(skip.bursts), skip.provenance["spontaneous"]["n_bursts_excluded"]
    assert n_kept > 0 and n_locked > n_kept
    assert set(skip.tables()) == set(every.tables())
    for name, table in every.tables().items():
        pd.testing.assert_frame_equal(skip.tables()[name], table, check_exact=True, obj=name)
    assert skip.provenance == every.provenance
    assert rises["skip"] == n_kept  # the rise: of each kept burst once (its window's core)
    if streamed:  # bursts in a window's margin are measured by both windows
        assert n_kept <= counts["skip"] < counts["all"]
        assert rises["all"] == n_kept + n_locked
    else:
        assert counts["skip"] == n_kept and counts["all"] == n_kept + n_locked
        assert rises["all"] == n_kept + n_locked


def test_live_block_skip_equals_measure_all_then_drop(monkeypatch):
    rec = simulate_spontaneous(duration_s=20.0, sfreq=5000.0, seed=3).recording
    core = (rec.tstart + 2.0, rec.tstart + 18.0)
    every = detect_bursts(rec)
    stims = _windows_on_half_the_bursts(every).stim_onsets_s
    counter = _Counter()
    monkeypatch.setattr(detection, "discharge_frequency", counter)
    got = analyse_block(rec, core, stim_onsets_s=stims)["bursts"].drop(columns="block_start_s")
    on = every["onset_s"].to_numpy()
    expected, n = exclude_stimulus_locked(every[(on >= core[0]) & (on < core[1])], stims)
    assert n > 0 and len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert counter.n == len(every) - StimulusWindows(stims).locked(on).sum()


@pytest.mark.parametrize("streamed", [False, True])
def test_unmeasured_bursts_are_the_stimulus_locked_ones(or_file, streamed):
    # before the exclusion: a burst has no features exactly when its onset (the table's
    # onset_s) lies in a stimulus window. Streamed, the second window starts 8.2 s into the
    # file, which is no whole number of the 0.5 s stimulus period: onsets taken from the
    # window's start instead of the file's would miss the windows
    small = {"max_memory_mb": 0.05, "chunk_s": 2.3, "stream_margin_s": 1.0}
    config = AnalysisConfig(**small)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onsets = hfs_emg.analyze(or_file).stim_events["onset_s"].to_numpy()
        if streamed:
            with hfs_emg.open_recording(or_file) as reader:
                bursts, _ = streaming.streamed_bursts(reader, config, stim_onsets_s=onsets)
        else:
            rec = hfs_emg.read_recording(or_file)
            bursts = spontaneous_bursts(rec, config, stim_onsets_s=onsets)
    locked = StimulusWindows(onsets).locked(bursts["onset_s"].to_numpy())
    assert locked.sum() > 50 and (~locked).sum() > 5
    for col in ["peak_uv", "rms_uv", "area_uv_s", "median_frequency_hz"]:
        np.testing.assert_array_equal(np.isnan(bursts[col].to_numpy()), locked, err_msg=col)
    assert bursts.loc[locked, [*FEATURES, "rise_s", "rise_sd_ms"]].isna().all().all()
