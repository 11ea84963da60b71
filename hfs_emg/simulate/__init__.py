"""Simulators with ground truth for tests, examples and accuracy benchmarks."""

from __future__ import annotations

from .evoked import (
    NerveConductionSimulation,
    SimulatedSession,
    simulate_lsr_session,
    simulate_nerve_conduction,
)

__all__ = [
    "NerveConductionSimulation",
    "SimulatedSession",
    "simulate_lsr_session",
    "simulate_nerve_conduction",
]
