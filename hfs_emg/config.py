"""Analysis configurations: frozen dataclasses that round-trip through TOML and hash stably.

Each section mirrors the keyword arguments (and their defaults) of one analysis function:

- :class:`FilterConfig` -> :func:`hfs_emg.filter_emg` (applied before burst detection only when
  ``enabled``; by default :func:`hfs_emg.detect_bursts` does its own band-pass + hum notches);
- :class:`BurstConfig` -> :func:`hfs_emg.detect_bursts`;
- :class:`SyncConfig` -> :func:`hfs_emg.detect_synchronous_bursts`;
- :class:`StimConfig` -> :func:`hfs_emg.find_stim_events`;
- :class:`LSRConfig` -> :func:`hfs_emg.measure_lsr`;
- :class:`TrendConfig` -> :func:`hfs_emg.lsr_trend`.

:class:`AnalysisConfig` holds them all plus the memory budget of :func:`hfs_emg.analysis.analyze`.
TOML has no null: ``"none"`` stands for ``None`` in fields that accept it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import tomllib

from ._atomic import atomic_path
from ._errors import ParameterError

__all__ = [
    "AnalysisConfig",
    "BurstConfig",
    "FilterConfig",
    "LSRConfig",
    "StimConfig",
    "SyncConfig",
    "TrendConfig",
    "default_toml",
]


@dataclass(frozen=True)
class FilterConfig:
    """Options of :func:`hfs_emg.filter_emg`; used only when ``enabled`` is true."""

    enabled: bool = False
    l_freq: float = 20.0
    h_freq: float = 1000.0
    notch: float | str | None = "auto"
    order: int = 4
    q: float = 30.0


@dataclass(frozen=True)
class BurstConfig:
    """Options of :func:`hfs_emg.detect_bursts` (``options`` = method options)."""

    method: str = "hysteresis"
    picks: str | list[str] = "emg"
    min_duration_s: float | None = None
    merge_gap_s: float = 0.04
    tonic_min_s: float = 0.5
    band: tuple[float, float] = (20.0, 1000.0)
    discharge_range_hz: tuple[float, float] = (100.0, 500.0)
    options: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncConfig:
    """Options of :func:`hfs_emg.detect_synchronous_bursts`."""

    tolerance_s: float = 0.03
    min_channels: int = 2
    by_side: bool = True


@dataclass(frozen=True)
class StimConfig:
    """Options of :func:`hfs_emg.find_stim_events` (evoked analysis runs only if stimuli)."""

    channel: str | None = None
    threshold: float | None = None
    min_interval_s: float = 0.02
    source: str = "auto"
    label: str | None = None


@dataclass(frozen=True)
class LSRConfig:
    """Options of :func:`hfs_emg.measure_lsr`."""

    stim_branch: str | None = None
    window_ms: tuple[float, float] = (6.0, 20.0)
    direct_window_ms: tuple[float, float] = (2.5, 15.0)
    artifact_method: str | None = "interpolate"
    artifact_window_s: tuple[float, float] = (-0.0005, 0.003)
    tmin: float = -0.02
    tmax: float = 0.05
    template_n: int = 20
    match_k: float = 5.0


@dataclass(frozen=True)
class TrendConfig:
    """Options of :func:`hfs_emg.lsr_trend`."""

    baseline_n: int = 10
    final_n: int = 20
    consecutive_absent: int = 5
    min_baseline_present: float = 0.5
    until_end: bool = True
    presence: str = "auto"
    min_present_run: int = 2
    partial_reduction_pct: float = 15.0
    transient_min_s: float = 10.0
    amplitude: str = "present_only"
    min_window_present: float = 0.2


_SECTIONS: dict[str, type] = {
    "filter": FilterConfig,
    "bursts": BurstConfig,
    "sync": SyncConfig,
    "stim": StimConfig,
    "lsr": LSRConfig,
    "trend": TrendConfig,
}


@dataclass(frozen=True)
class AnalysisConfig:
    """Every option of :func:`hfs_emg.analysis.analyze`, one section per analysis step.

    Attributes
    ----------
    min_stimuli : int
        The evoked analysis runs only when at least this many stimuli are found (one or two
        "stimuli" in a spontaneous recording are usually a spasm that starts on every channel
        at once, which the artefact detector of :func:`hfs_emg.find_stim_events` takes for a
        stimulus).
    max_memory_mb : float
        Recordings whose samples (float64) would take more than this are analysed in chunks.
    chunk_s : float
        Core length of a chunk (s) when streaming.
    stream_margin_s : float
        Extra signal (s) on each side of a chunk when streaming: bursts longer than this may be
        lost at chunk boundaries.

    Examples
    --------
    >>> cfg = AnalysisConfig(bursts=BurstConfig(min_duration_s=0.03))
    >>> cfg.to_dict()["bursts"]["min_duration_s"]
    0.03
    >>> cfg.hash() == AnalysisConfig.from_dict(cfg.to_dict()).hash()
    True
    >>> cfg.hash() == AnalysisConfig().hash()
    False
    """

    filter: FilterConfig = field(default_factory=FilterConfig)
    bursts: BurstConfig = field(default_factory=BurstConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    stim: StimConfig = field(default_factory=StimConfig)
    lsr: LSRConfig = field(default_factory=LSRConfig)
    trend: TrendConfig = field(default_factory=TrendConfig)
    min_stimuli: int = 3
    max_memory_mb: float = 1024.0
    chunk_s: float = 60.0
    stream_margin_s: float = 10.0

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists), the canonical form that :meth:`hash` digests."""
        return _plain(dataclasses.asdict(self))

    def hash(self) -> str:
        """Stable sha256 (hex) of the canonical JSON of :meth:`to_dict`."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>") -> AnalysisConfig:
        """Build from a nested dict; unknown keys or wrong types raise :class:`ParameterError`."""
        if not isinstance(data, dict):
            raise ParameterError(f"{source}: a configuration must be a table, got {data!r}.")
        top = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for key, value in data.items():
            if key not in top:
                raise ParameterError(f"{source}: unknown key {key!r}. Allowed: {sorted(top)}.")
            if key in _SECTIONS:
                kwargs[key] = _build_section(_SECTIONS[key], value, f"{source}: [{key}]")
            else:
                kwargs[key] = _coerce(value, hints[key], f"{source}: key {key!r}")
        return cls(**kwargs)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> AnalysisConfig:
        """Read a TOML file (see :func:`default_toml` for the layout)."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ParameterError(f"Configuration file {str(path)!r} does not exist.") from None
        except tomllib.TOMLDecodeError as err:
            raise ParameterError(f"{path}: not valid TOML ({err}).") from None
        return cls.from_dict(data, source=str(path))

    def to_toml(self, path: str | os.PathLike[str]) -> Path:
        """Write the configuration as TOML (atomically); ``None`` is written as ``"none"``."""
        import tomli_w

        text = tomli_w.dumps(_none_to_str(self.to_dict()))
        target = Path(path)
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return target


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _none_to_str(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _none_to_str(v) for k, v in obj.items()}
    return "none" if obj is None else obj


def _build_section(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise ParameterError(f"{where} must be a table, got {value!r}.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, item in value.items():
        if key not in names:
            raise ParameterError(f"{where}: unknown key {key!r}. Allowed: {sorted(names)}.")
        kwargs[key] = _coerce(item, hints[key], f"{where} key {key!r}")
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``hint``; return it in the dataclass's form."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = typing.get_args(hint)
        if type(None) in args and (value is None or value == "none"):
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ParameterError as err:
                errors.append(str(err))
        raise ParameterError(f"{where} has the wrong type: expected {hint}, got {value!r}.")
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is tuple:
        args = typing.get_args(hint)
        if isinstance(value, (list, tuple)) and len(value) == len(args):
            return tuple(_coerce(v, a, where) for v, a in zip(value, args, strict=True))
    elif origin is list:
        (arg,) = typing.get_args(hint)
        if isinstance(value, (list, tuple)):
            return [_coerce(v, arg, where) for v in value]
    elif origin is dict:
        _, arg = typing.get_args(hint)
        if isinstance(value, dict):
            return {str(k): _coerce(v, arg, f"{where}.{k}") for k, v in value.items()}
    raise ParameterError(f"{where} has the wrong type: expected {hint}, got {value!r}.")


_COMMENTS = {
    "": "hfs_emg analysis configuration (hfs-emg analyze/batch --config FILE).\n"
    '# TOML has no null: "none" means None. Omitted keys take their defaults.',
    "min_stimuli": "evoked (LSR) analysis only when at least this many stimuli are found",
    "max_memory_mb": "recordings larger than this (float64 samples, MB) are streamed in chunks",
    "chunk_s": "core length of a chunk when streaming, s",
    "stream_margin_s": "extra signal on each side of a streamed chunk (longest burst kept), s",
    "filter": "filter_emg before burst detection (off: detect_bursts band-passes itself)",
    "bursts": "detect_bursts; method: hysteresis, hodges_bui, bonato, tkeo; "
    "[bursts.options] = method options",
    "sync": "detect_synchronous_bursts",
    "stim": "find_stim_events (LSR analysis runs only when stimuli are found); "
    "source: auto, trigger, events, artifact",
    "lsr": "measure_lsr; artifact_method: interpolate, template, decay or none",
    "trend": "lsr_trend (phase markers are read from the recording's events); "
    "amplitude: present_only or zero_filled",
}


def default_toml() -> str:
    """The default configuration as commented TOML text.

    Examples
    --------
    >>> text = default_toml()
    >>> "[bursts]" in text and "merge_gap_s = 0.04" in text
    True
    >>> import tomllib
    >>> AnalysisConfig.from_dict(tomllib.loads(text)) == AnalysisConfig()
    True
    """
    import tomli_w

    data = _none_to_str(AnalysisConfig().to_dict())
    lines = [f"# {_COMMENTS['']}", ""]
    for key, value in data.items():
        if not isinstance(value, dict):
            lines += [f"# {_COMMENTS[key]}", tomli_w.dumps({key: value}).strip()]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"# {_COMMENTS[key]}", tomli_w.dumps({key: value}).strip()]
    return "\n".join(lines) + "\n"
