"""Simulators with ground truth for tests, examples and accuracy benchmarks.

- :func:`simulate_spontaneous`: free-running HFS EMG (isolated discharges, clonic / tonic spasms
  of motor units in lock-step or firing independently, synchronous across facial-nerve branches,
  white or coloured background) with burst, synchronous-event and motor-unit spike truth.
- :func:`simulate_lsr_session`: an intraoperative lateral-spread-response session with a trigger
  channel, stimulus artefacts, direct M-responses, the LSR near 10 ms and its disappearance.
- :func:`simulate_or_session`: the same session as hard as the operating room (coloured
  background, long artefact tails, crosstalk, saturation, cautery, intermittent LSR, alternating
  montages), with the tuning and held-out validation grids.
- :func:`simulate_nerve_conduction`: CMAP, F-waves and blink reflex R1 / R2 with synkinesis.
- :func:`simulate_mvd_lsr`, :func:`simulate_fmep`, :func:`simulate_free_running`: an MVD with
  its surgical-phase markers: the LSR course, facial MEPs to train stimuli, and free-running
  EMG with A-, B- and C-trains.
- :func:`simulate_zl_response`: offending-vessel stimulation with the Z-L response (and
  optionally interleaved LSR stimuli); :func:`simulate_lsr_morphology`: LSR sweeps of known
  phase count, duration, afterdischarge and late component.
- :func:`simulate_f_wave_study`, :func:`simulate_blink_study`, :func:`simulate_blink_recovery`,
  :func:`simulate_toxin_course`: F-waves of known duration, R2 of known rectified area, the
  paired-pulse R2 recovery cycle, and the CMAP decrement over visits after botulinum toxin.

Each returns the Recording plus truth tables whose columns match the analysis functions' output;
the ``score_*`` helpers compare the two.
"""

from __future__ import annotations

from .evoked import (
    NerveConductionSimulation,
    SimulatedSession,
    simulate_lsr_session,
    simulate_nerve_conduction,
)
from .morphology import SimulatedMorphology, simulate_lsr_morphology
from .mvd import (
    FMEP_FINAL_OVER_BASELINE,
    MVD_SCENARIOS,
    SimulatedFMEP,
    SimulatedFreeRunning,
    SimulatedMVD,
    simulate_fmep,
    simulate_free_running,
    simulate_mvd_lsr,
)
from .ncs import (
    SimulatedNcsStudy,
    SimulatedToxinCourse,
    recovery_ratio,
    simulate_blink_recovery,
    simulate_blink_study,
    simulate_f_wave_study,
    simulate_toxin_course,
    toxin_decrement,
)
from .operating_room import HELD_OUT_GRID, TUNING_GRID, or_condition, simulate_or_session
from .score_evoked import score_lsr_session, score_nerve_conduction, score_or_session
from .score_spontaneous import match_onsets, score_bursts, score_events
from .spontaneous import SimulatedSpontaneous, simulate_spontaneous
from .zl import ZL_SCENARIOS, SimulatedZL, simulate_zl_response

__all__ = [
    "FMEP_FINAL_OVER_BASELINE",
    "HELD_OUT_GRID",
    "MVD_SCENARIOS",
    "TUNING_GRID",
    "ZL_SCENARIOS",
    "NerveConductionSimulation",
    "SimulatedFMEP",
    "SimulatedFreeRunning",
    "SimulatedMVD",
    "SimulatedMorphology",
    "SimulatedNcsStudy",
    "SimulatedSession",
    "SimulatedSpontaneous",
    "SimulatedToxinCourse",
    "SimulatedZL",
    "match_onsets",
    "or_condition",
    "recovery_ratio",
    "score_bursts",
    "score_events",
    "score_lsr_session",
    "score_nerve_conduction",
    "score_or_session",
    "simulate_blink_recovery",
    "simulate_blink_study",
    "simulate_f_wave_study",
    "simulate_fmep",
    "simulate_free_running",
    "simulate_lsr_morphology",
    "simulate_lsr_session",
    "simulate_mvd_lsr",
    "simulate_nerve_conduction",
    "simulate_or_session",
    "simulate_spontaneous",
    "simulate_toxin_course",
    "simulate_zl_response",
    "toxin_decrement",
]
