"""detect_bursts(rise_times=True) gives the onsets burst_rise_times gives, in one filter pass."""

import numpy as np

from hfs_emg.detection import detect_bursts
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.synchrony import burst_rise_times


def test_rise_times_in_detection_equal_burst_rise_times():
    rec = simulate_spontaneous(duration_s=20.0, sfreq=5000.0, seed=11).recording
    separate = burst_rise_times(detect_bursts(rec), rec)
    fused = detect_bursts(rec, rise_times=True)
    assert len(fused) > 10
    assert list(fused.columns) == list(separate.columns)
    np.testing.assert_array_equal(fused["rise_s"].isna(), separate["rise_s"].isna())
    np.testing.assert_allclose(fused["rise_s"], separate["rise_s"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fused["rise_sd_ms"], separate["rise_sd_ms"], rtol=0, atol=1e-12)
    # and the onsets are waveform onsets: within 20 ms of the detected onsets
    ok = fused["rise_s"].notna()
    assert ok.mean() > 0.8
    assert ((fused.loc[ok, "rise_s"] - fused.loc[ok, "onset_s"]).abs() < 0.02).all()


def test_rise_times_off_by_default():
    rec = simulate_spontaneous(duration_s=5.0, sfreq=2000.0, seed=3).recording
    assert "rise_s" not in detect_bursts(rec).columns
