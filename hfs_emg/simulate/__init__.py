"""Simulators with ground truth (spontaneous HFS EMG; evoked responses are added separately)."""

from .spontaneous import SimulatedSpontaneous, simulate_spontaneous

__all__ = ["SimulatedSpontaneous", "simulate_spontaneous"]
