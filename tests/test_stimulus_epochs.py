"""Interpolating the artefact on the cut epochs equals blanking the whole recording first."""

import numpy as np
import pytest

from hfs_emg.artifact import blank_stimulus_artifact
from hfs_emg.epochs import make_epochs
from hfs_emg.recording import from_array
from hfs_emg.responses import _epochwise_interpolate, stimulus_epochs
from hfs_emg.simulate import simulate_lsr_session

OPTS = {"tmin": -0.03, "tmax": 0.06}
WIN = (-0.0005, 0.003)


def _slow(rec, events):
    clean = blank_stimulus_artifact(rec, events, method="interpolate", window_s=WIN)
    return make_epochs(clean, events, baseline=(OPTS["tmin"], -0.0005), **OPTS)


def _fast(rec, events):
    return stimulus_epochs(
        rec,
        events=events,
        source="auto",
        label=None,
        artifact_method="interpolate",
        artifact_window_s=WIN,
        **OPTS,
    )


@pytest.mark.parametrize("clip", [False, True])
def test_epochwise_interpolation_is_bitwise_the_whole_recording_blanking(clip):
    rec = simulate_lsr_session(n_stimuli=40, sfreq=10000.0, seed=4).recording
    events = rec.events
    if clip:  # a saturating amplifier: flat runs at the rails, also outside the artefact window
        data = np.clip(rec.data, -150.0, 150.0)
        types = list(rec.channels["type"])
        rec = from_array(data, rec.sfreq, rec.ch_names, ch_types=types).with_events(events)
    assert _epochwise_interpolate(rec, events, WIN, OPTS["tmin"], OPTS["tmax"], -0.0005)
    slow, fast = _slow(rec, events), _fast(rec, events)
    np.testing.assert_array_equal(fast.data, slow.data)
    np.testing.assert_array_equal(fast.bad, slow.bad)
    if clip:
        assert slow.bad.any()  # the clipping flags were exercised
    assert fast.events.equals(slow.events)


def test_close_stimuli_fall_back_to_blanking_the_recording():
    rec = simulate_lsr_session(n_stimuli=20, sfreq=5000.0, seed=2).recording
    events = rec.events.assign(onset_s=0.1 + 0.05 * np.arange(len(rec.events)))
    # 50 ms apart: a neighbour's artefact window falls inside each -30..60 ms epoch
    assert _epochwise_interpolate(rec, events, WIN, OPTS["tmin"], OPTS["tmax"], -0.0005) is None
    np.testing.assert_array_equal(_fast(rec, events).data, _slow(rec, events).data)
