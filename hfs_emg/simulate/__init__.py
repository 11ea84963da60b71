"""Simulators with ground truth for tests, examples and accuracy benchmarks.

- :func:`simulate_spontaneous`: free-running HFS EMG (clonic / tonic spasms of motor-unit
  discharges at 150-400 Hz, synchronous across facial-nerve branches) with burst and
  synchronous-event truth.
- :func:`simulate_lsr_session`: an intraoperative lateral-spread-response session with a trigger
  channel, stimulus artefacts, direct M-responses, the LSR near 10 ms and its disappearance.
- :func:`simulate_or_session`: the same session as hard as the operating room (coloured
  background, long artefact tails, crosstalk, saturation, cautery, intermittent LSR, alternating
  montages), with the tuning and held-out validation grids.
- :func:`simulate_nerve_conduction`: CMAP, F-waves and blink reflex R1 / R2 with synkinesis.

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
from .operating_room import HELD_OUT_GRID, TUNING_GRID, or_condition, simulate_or_session
from .score_evoked import score_lsr_session, score_nerve_conduction, score_or_session
from .score_spontaneous import match_onsets, score_bursts, score_events
from .spontaneous import SimulatedSpontaneous, simulate_spontaneous

__all__ = [
    "HELD_OUT_GRID",
    "TUNING_GRID",
    "NerveConductionSimulation",
    "SimulatedSession",
    "SimulatedSpontaneous",
    "match_onsets",
    "or_condition",
    "score_bursts",
    "score_events",
    "score_lsr_session",
    "score_nerve_conduction",
    "score_or_session",
    "simulate_lsr_session",
    "simulate_nerve_conduction",
    "simulate_or_session",
    "simulate_spontaneous",
]
