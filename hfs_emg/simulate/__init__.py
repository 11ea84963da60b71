"""Simulators with ground truth (spontaneous HFS EMG; evoked responses are added separately)."""

from .scoring import match_onsets, score_bursts, score_events
from .spontaneous import SimulatedSpontaneous, simulate_spontaneous

__all__ = [
    "SimulatedSpontaneous",
    "match_onsets",
    "score_bursts",
    "score_events",
    "simulate_spontaneous",
]
