"""Accuracy of burst and synchronous-event detection against simulator ground truth.

Targets (issue 3): at SNR >= 12 dB, burst F1 >= 0.95 (onset within 20 ms, one-to-one), median
absolute onset error <= 10 ms, synchronous-event F1 >= 0.95. The full SNR x sampling-rate grid is
in ``benchmarks/accuracy_spontaneous.py`` and ``docs/validation_spontaneous.md``.

Since issue 13 the default hysteresis thresholds (6 / 3 x noise) were chosen for specificity on
real rest EMG (UCI), not on this simulator: where the in-band noise is close to the white noise
(2 kHz sampling) or the SNR is 6 dB, bursts at 4 x or 2 x the noise RMS are below them, and the
sensitive setting tuned on this simulator before (``SENSITIVE``: 2.5 / 1.2 x noise, 20 ms
minimum) is used and named as such.
"""

from __future__ import annotations

import functools

import pytest

from hfs_emg.detection import detect_bursts
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.simulate.score_spontaneous import score_bursts, score_events
from hfs_emg.synchrony import detect_synchronous_bursts


@functools.cache
def _sim(sfreq: float, snr_db: float, seed: int = 0):
    return simulate_spontaneous(
        duration_s=60.0, sfreq=sfreq, snr_db=snr_db, spasm_rate_per_min=15, seed=seed
    )


SENSITIVE = {"high": 2.5, "low": 1.2, "min_duration_s": 0.02}


def _scores(sfreq, snr_db, method="hysteresis", seed=0, **options):
    sim = _sim(sfreq, snr_db, seed)
    bursts = detect_bursts(sim.recording, method=method, **options)
    events = detect_synchronous_bursts(bursts, channels=sim.recording.channels)
    return score_bursts(sim.bursts, bursts), score_events(sim.synchronous, events)


@pytest.mark.parametrize(
    ("sfreq", "snr_db", "seed", "options"),
    [
        (5000.0, 20.0, 0, {}),
        (2000.0, 12.0, 1, SENSITIVE),
        (10000.0, 12.0, 2, {}),
        (5000.0, 12.0, 3, {}),
    ],
)
def test_targets_at_12_db_and_above(sfreq, snr_db, seed, options):
    sb, se = _scores(sfreq, snr_db, seed=seed, **options)
    assert sb["n_true"] >= 20
    assert sb["f1"] >= 0.95, sb
    assert sb["onset_mae_ms"] <= 10.0, sb
    assert sb["offset_mae_ms"] <= 10.0, sb
    assert se["f1"] >= 0.95, se
    # events given an onset order are led by the true first muscle
    assert se["order_lead_accuracy"] >= 0.9, se
    assert sb["discharge_mae_hz"] <= 5.0, sb


def test_default_misses_bursts_below_its_thresholds():
    """The price of real-data specificity, measured: 2 kHz, 12 dB bursts are mostly missed."""
    sb, _ = _scores(2000.0, 12.0, seed=1)
    assert sb["recall"] < 0.5, sb


def test_degrades_gracefully_at_6_db():
    sb, se = _scores(5000.0, 6.0, **SENSITIVE)
    assert sb["f1"] >= 0.9 and sb["onset_mae_ms"] <= 10.0, sb
    assert se["f1"] >= 0.85, se


@pytest.mark.parametrize(
    ("method", "max_onset_ms"), [("hodges_bui", 15.0), ("bonato", 10.0), ("tkeo", 10.0)]
)
def test_published_detectors_at_12_db(method, max_onset_ms):
    sb, _ = _scores(5000.0, 12.0, method, seed=3)
    assert sb["f1"] >= 0.9, sb
    assert sb["onset_mae_ms"] <= max_onset_ms, sb


def test_scoring_can_fail():
    """A detector shifted by 30 ms scores F1 = 0: the matching really checks onsets."""
    sim = _sim(5000.0, 20.0)
    bursts = detect_bursts(sim.recording)
    shifted = bursts.assign(onset_s=bursts["onset_s"] + 0.03)
    assert score_bursts(sim.bursts, shifted)["f1"] == 0.0
