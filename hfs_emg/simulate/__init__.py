"""Simulators with ground truth for tests, examples and accuracy benchmarks."""

from __future__ import annotations

from .evoked import (
    NerveConductionSimulation,
    SimulatedSession,
    simulate_lsr_session,
    simulate_nerve_conduction,
)
from .score import score_lsr_session, score_nerve_conduction

__all__ = [
    "NerveConductionSimulation",
    "SimulatedSession",
    "score_lsr_session",
    "score_nerve_conduction",
    "simulate_lsr_session",
    "simulate_nerve_conduction",
]
