"""Analysis configurations: frozen dataclasses that round-trip through TOML and hash stably.

Each section is built from the signature of the one function it configures: its fields are
that function's keyword arguments, with the function's defaults (nothing is copied by hand, so
a new keyword argument of a function is a new configuration key at once). The sections:

- :class:`FilterConfig` -> :func:`hfs_emg.filter_emg` (applied before burst detection only when
  ``enabled``; by default :func:`hfs_emg.detect_bursts` does its own band-pass + hum notches);
- :class:`BurstConfig` -> :func:`hfs_emg.detect_bursts` (``options`` = method options);
- :class:`SpontaneousConfig` -> :func:`hfs_emg.stim_locked.exclude_stimulus_locked` (the
  stimulus-locked windows left out of the spontaneous analysis);
- :class:`SyncConfig` -> :func:`hfs_emg.detect_synchronous_bursts`;
- :class:`StimConfig` -> :func:`hfs_emg.find_stim_events`;
- :class:`LSRConfig` -> :func:`hfs_emg.measure_lsr`; :class:`TrendConfig` ->
  :func:`hfs_emg.lsr_trend`;
- :class:`CMAPConfig`, :class:`FWaveConfig`, :class:`BlinkReflexConfig` ->
  :func:`hfs_emg.measure_cmap`, :func:`hfs_emg.measure_f_waves`,
  :func:`hfs_emg.measure_blink_reflex`;
- :class:`ResponsesConfig` -> :func:`hfs_emg.measure_responses` plus the epoching of
  :func:`hfs_emg.responses.stimulus_epochs` (generic evoked responses, e.g. an H-reflex).
- the MVD modalities: :class:`FMEPConfig` -> :func:`hfs_emg.measure_fmep`,
  :class:`FMEPTrendConfig` -> :func:`hfs_emg.fmep_trend`, :class:`ZLConfig` ->
  :func:`hfs_emg.measure_zl_response`, :class:`ZLTrendConfig` -> :func:`hfs_emg.zl_trend`,
  :class:`FreeRunningConfig` -> :func:`hfs_emg.classify_trains`, :class:`TrainTimeConfig` ->
  :func:`hfs_emg.train_time`, :class:`MorphologyConfig` -> :func:`hfs_emg.lsr_morphology`.

The stimuli are found once (``stim``) and handed to every evoked measure, so the measures'
own ``events``, ``source`` and ``label`` arguments are not configuration keys.
:data:`SECTION_FUNCTIONS` names each section's function and :data:`SECTION_OVERRIDES` the few
defaults a protocol changes on purpose; ``tests/test_config.py`` checks both against the
signatures. :class:`AnalysisConfig` holds them all plus the protocol, the minimum number of
stimuli and the memory budget of :func:`hfs_emg.analyze`. TOML has no null: ``"none"`` stands
for ``None`` in fields that accept it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
import json
import os
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import tomllib

from .._atomic import atomic_path
from .._errors import ParameterError
from ..detection import detect_bursts
from ..events import find_stim_events
from ..fmep import fmep_trend, measure_fmep
from ..free_running import classify_trains, train_time
from ..lsr import lsr_trend, measure_lsr
from ..morphology import lsr_morphology
from ..ncs import measure_blink_reflex, measure_cmap, measure_f_waves
from ..preprocessing import filter_emg
from ..responses import measure_responses
from ..stim_locked import exclude_stimulus_locked
from ..synchrony import detect_synchronous_bursts
from ..zl_response import measure_zl_response, zl_trend

__all__ = [
    "PROTOCOLS",
    "SECTION_FUNCTIONS",
    "SECTION_OVERRIDES",
    "AnalysisConfig",
    "BlinkReflexConfig",
    "BurstConfig",
    "CMAPConfig",
    "FMEPConfig",
    "FMEPTrendConfig",
    "FWaveConfig",
    "FilterConfig",
    "FreeRunningConfig",
    "LSRConfig",
    "MorphologyConfig",
    "ReadConfig",
    "ResponsesConfig",
    "SpontaneousConfig",
    "StimConfig",
    "SyncConfig",
    "TrainTimeConfig",
    "TrendConfig",
    "ZLConfig",
    "ZLTrendConfig",
    "default_toml",
]

#: Protocols :func:`hfs_emg.analyze` knows; ``"auto"`` decides from the stimulus events.
PROTOCOLS: tuple[str, ...] = (
    "auto",
    "spontaneous",
    "lsr",
    "cmap",
    "f_waves",
    "blink_reflex",
    "responses",
    "fmep",
    "zl",
    "free_running",
)

#: Arguments that are never configuration keys: the data, execution options (no effect on the
#: result), the stimuli (found once by the ``stim`` section) and return-shape switches.
_NOT_OPTIONS = frozenset(
    {
        "n_jobs",
        "events",
        "source",
        "label",
        "return_trials",
        "channels_info",
        "channels",
        "phases",  # lsr_trend: the recording's own phase markers (data, not an option)
        "limits",  # NormalLimits objects: Python-only, not a TOML value
        "rec",  # detect_synchronous_bursts: the recording (data, not an option)
        "lsr",  # lsr_morphology: the LSR table of the same analysis (data)
        "average",  # lsr_morphology: per sweep or averaged (a return-shape switch)
        "vocabulary",  # measure_zl_response: a Python mapping (the default vocabulary is used)
        "rise_times",  # detect_bursts: the analysis always measures them (onset order)
        "overwrite",  # detect_bursts: filter in place (memory only; the same bursts)
        "skip_windows",  # detect_bursts: the stimulus windows (data, from the stim section)
        "trigger_runs",  # find_stim_events: trigger channels scanned by a streamed analysis (data)
    }
)


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The evaluated annotations of ``func``; a name only imported for type checking (the
    data argument's ``Recording``...) makes that one parameter ``Any``, not an error."""
    try:
        return typing.get_type_hints(func)
    except NameError:
        pass
    out: dict[str, Any] = {}
    for pname, ann in getattr(func, "__annotations__", {}).items():
        try:
            out[pname] = typing.get_type_hints(
                type("_One", (), {"__annotations__": {pname: ann}, "__module__": func.__module__})
            )[pname]
        except NameError:
            out[pname] = Any
    return out


def _section(
    name: str,
    func: Callable[..., Any],
    doc: str,
    *,
    exclude: tuple[str, ...] = (),
    extra: tuple[tuple[str, Any, Any], ...] = (),
    overrides: dict[str, Any] | None = None,
    keep: tuple[str, ...] = (),
) -> type:
    """A frozen dataclass whose fields are ``func``'s keyword arguments with defaults."""
    hints = _hints(func)
    overrides = overrides or {}
    fields: list[tuple[str, Any, Any]] = []
    params = list(inspect.signature(func).parameters.values())[1:]  # skip the data argument
    for p in params:
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) or p.default is p.empty:
            continue
        if (p.name in _NOT_OPTIONS and p.name not in keep) or p.name in exclude:
            continue
        fields.append((p.name, hints.get(p.name, Any), overrides.get(p.name, p.default)))
    fields += list(extra)
    spec = []
    for fname, hint, default in fields:
        if isinstance(default, (list, dict, set)):
            spec.append((fname, hint, field(default_factory=lambda d=default: copy.deepcopy(d))))
        else:
            spec.append((fname, hint, field(default=default)))
    cls = dataclasses.make_dataclass(name, spec, frozen=True, namespace={"__doc__": doc})
    cls.__module__ = __name__
    return cls


@dataclass(frozen=True)
class ReadConfig:
    """How a file is read (for paths; a :class:`~hfs_emg.Recording` is used as given).

    ``sfreq`` is the format option of :func:`hfs_emg.read_recording` that picks one rate of a
    mixed-rate file (EDF/BDF, Spike2); ``picks``, ``units`` and ``ch_types`` are its keyword
    arguments (``ch_types`` may be a table ``{name = "stim"}``). Only ``sfreq`` is available
    to the streamed analysis of files larger than ``max_memory_mb``.
    """

    sfreq: float | None = None
    picks: Any = None
    units: Any = None
    ch_types: Any = None

    def open_options(self) -> dict[str, Any]:
        """Options of :func:`hfs_emg.open_recording`."""
        return {} if self.sfreq is None else {"sfreq": self.sfreq}

    def read_options(self) -> dict[str, Any]:
        """Keyword arguments of ``reader.read``."""
        return {"picks": self.picks, "units": self.units, "ch_types": self.ch_types}


FilterConfig = _section(
    "FilterConfig",
    filter_emg,
    "Options of :func:`hfs_emg.filter_emg`; used only when ``enabled`` is true.",
    exclude=("picks",),
    extra=(("enabled", bool, False),),
)
BurstConfig = _section(
    "BurstConfig",
    detect_bursts,
    "Options of :func:`hfs_emg.detect_bursts` (``options`` = method options).",
    extra=(("options", dict[str, float], {}),),
)
SpontaneousConfig = _section(
    "SpontaneousConfig",
    exclude_stimulus_locked,
    "Options of :func:`hfs_emg.stim_locked.exclude_stimulus_locked`: bursts starting in these "
    "windows around a stimulus are evoked, not spontaneous.",
)
SyncConfig = _section(
    "SyncConfig", detect_synchronous_bursts, "Options of :func:`hfs_emg.detect_synchronous_bursts`."
)
StimConfig = _section(
    "StimConfig",
    find_stim_events,
    "Options of :func:`hfs_emg.find_stim_events` (the stimuli of every evoked protocol).",
    exclude=("out_label",),
    keep=("source", "label"),
)
LSRConfig = _section("LSRConfig", measure_lsr, "Options of :func:`hfs_emg.measure_lsr`.")
TrendConfig = _section("TrendConfig", lsr_trend, "Options of :func:`hfs_emg.lsr_trend`.")
CMAPConfig = _section("CMAPConfig", measure_cmap, "Options of :func:`hfs_emg.measure_cmap`.")
FWaveConfig = _section(
    "FWaveConfig", measure_f_waves, "Options of :func:`hfs_emg.measure_f_waves`."
)
BlinkReflexConfig = _section(
    "BlinkReflexConfig", measure_blink_reflex, "Options of :func:`hfs_emg.measure_blink_reflex`."
)
#: Defaults a protocol sets on purpose, differing from the function's: a generic evoked
#: response (an H-reflex near 30-35 ms in the soleus) is looked for from 2.5 to 60 ms, not in the
#: LSR window of :func:`hfs_emg.measure_responses`.
SECTION_OVERRIDES: dict[str, dict[str, Any]] = {"responses": {"window_ms": (2.5, 60.0)}}
ResponsesConfig = _section(
    "ResponsesConfig",
    measure_responses,
    "Options of :func:`hfs_emg.measure_responses` and of the epoching "
    "(:func:`hfs_emg.responses.stimulus_epochs`): ``artifact_method``, ``artifact_window_s``, "
    "``tmin``, ``tmax``.",
    exclude=("noise_uv",),
    extra=(
        ("artifact_method", str | None, "interpolate"),
        ("artifact_window_s", tuple[float, float], (-0.0005, 0.003)),
        ("tmin", float, -0.01),
        ("tmax", float, 0.07),
    ),
    overrides=SECTION_OVERRIDES["responses"],
)

FMEPConfig = _section("FMEPConfig", measure_fmep, "Options of :func:`hfs_emg.measure_fmep`.")
FMEPTrendConfig = _section(
    "FMEPTrendConfig", fmep_trend, "Options of :func:`hfs_emg.fmep_trend` (final/baseline)."
)
ZLConfig = _section(
    "ZLConfig",
    measure_zl_response,
    "Options of :func:`hfs_emg.measure_zl_response` (the default vessel vocabulary is used).",
)
ZLTrendConfig = _section("ZLTrendConfig", zl_trend, "Options of :func:`hfs_emg.zl_trend`.")
FreeRunningConfig = _section(
    "FreeRunningConfig", classify_trains, "Options of :func:`hfs_emg.classify_trains`."
)
TrainTimeConfig = _section("TrainTimeConfig", train_time, "Options of :func:`hfs_emg.train_time`.")
MorphologyConfig = _section(
    "MorphologyConfig",
    lsr_morphology,
    "Options of :func:`hfs_emg.lsr_morphology` (per sweep, on the LSR table's present sweeps).",
)

_SECTIONS: dict[str, type] = {
    "read": ReadConfig,
    "filter": FilterConfig,
    "bursts": BurstConfig,
    "spontaneous": SpontaneousConfig,
    "sync": SyncConfig,
    "stim": StimConfig,
    "lsr": LSRConfig,
    "trend": TrendConfig,
    "cmap": CMAPConfig,
    "f_waves": FWaveConfig,
    "blink_reflex": BlinkReflexConfig,
    "responses": ResponsesConfig,
    "fmep": FMEPConfig,
    "fmep_trend": FMEPTrendConfig,
    "zl": ZLConfig,
    "zl_trend": ZLTrendConfig,
    "free_running": FreeRunningConfig,
    "train_time": TrainTimeConfig,
    "morphology": MorphologyConfig,
}

#: The function each section configures (its fields are that function's keyword arguments).
SECTION_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "filter": filter_emg,
    "bursts": detect_bursts,
    "spontaneous": exclude_stimulus_locked,
    "sync": detect_synchronous_bursts,
    "stim": find_stim_events,
    "lsr": measure_lsr,
    "trend": lsr_trend,
    "cmap": measure_cmap,
    "f_waves": measure_f_waves,
    "blink_reflex": measure_blink_reflex,
    "responses": measure_responses,
    "fmep": measure_fmep,
    "fmep_trend": fmep_trend,
    "zl": measure_zl_response,
    "zl_trend": zl_trend,
    "free_running": classify_trains,
    "train_time": train_time,
    "morphology": lsr_morphology,
}


def section_kwargs(section: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keyword arguments a section passes to its function (the one way options flow).

    Examples
    --------
    >>> kw = section_kwargs(SyncConfig())
    >>> kw["tolerance_s"], kw["min_channels"], kw["by_side"]
    (0.03, 2, True)
    """
    return {
        f.name: getattr(section, f.name) for f in dataclasses.fields(section) if f.name not in drop
    }


@dataclass(frozen=True)
class AnalysisConfig:
    """Every option of :func:`hfs_emg.analysis.analyze`, one section per analysis step.

    Attributes
    ----------
    protocol : str
        What the recording is: ``"auto"``, ``"spontaneous"``, ``"lsr"``, ``"cmap"``,
        ``"f_waves"``, ``"blink_reflex"``, ``"responses"``, ``"fmep"``, ``"zl"`` or
        ``"free_running"``. ``"auto"`` decides from the stimulus events and their labels
        (:func:`hfs_emg.pipeline.protocol.decide_protocol`), never from artefacts alone; the
        reason is kept in the result's provenance. The spontaneous analysis runs for every
        protocol (without the stimulus-locked windows of :class:`SpontaneousConfig`).
    min_stimuli : int
        The evoked analysis runs only when at least this many stimuli are found (one or two
        "stimuli" in a spontaneous recording are usually a spasm that starts on every channel
        at once, which the artefact detector of :func:`hfs_emg.find_stim_events` takes for a
        stimulus).
    max_memory_mb : float
        Files whose in-memory analysis would need more than this (MB: the samples in the dtype
        they are read in, float32 for long files, plus one channel's work arrays per thread;
        :func:`hfs_emg.pipeline.analysis.in_memory_mb`) are analysed in chunks.
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

    protocol: str = "auto"
    read: ReadConfig = field(default_factory=ReadConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)
    bursts: BurstConfig = field(default_factory=BurstConfig)
    spontaneous: SpontaneousConfig = field(default_factory=SpontaneousConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    stim: StimConfig = field(default_factory=StimConfig)
    lsr: LSRConfig = field(default_factory=LSRConfig)
    trend: TrendConfig = field(default_factory=TrendConfig)
    cmap: CMAPConfig = field(default_factory=CMAPConfig)
    f_waves: FWaveConfig = field(default_factory=FWaveConfig)
    blink_reflex: BlinkReflexConfig = field(default_factory=BlinkReflexConfig)
    responses: ResponsesConfig = field(default_factory=ResponsesConfig)
    fmep: FMEPConfig = field(default_factory=FMEPConfig)
    fmep_trend: FMEPTrendConfig = field(default_factory=FMEPTrendConfig)
    zl: ZLConfig = field(default_factory=ZLConfig)
    zl_trend: ZLTrendConfig = field(default_factory=ZLTrendConfig)
    free_running: FreeRunningConfig = field(default_factory=FreeRunningConfig)
    train_time: TrainTimeConfig = field(default_factory=TrainTimeConfig)
    morphology: MorphologyConfig = field(default_factory=MorphologyConfig)
    min_stimuli: int = 3
    max_memory_mb: float = 1024.0
    chunk_s: float = 60.0
    stream_margin_s: float = 10.0

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ParameterError(
                f"Invalid value for the 'protocol' parameter. Allowed values are "
                f"{', '.join(map(repr, PROTOCOLS))}, but got {self.protocol!r} instead."
            )
        for name, cls in _SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise TypeError(
                    f"AnalysisConfig.{name} must be a {cls.__name__}, "
                    f"got {type(getattr(self, name)).__name__}."
                )

    def replace(self, **changes: Any) -> AnalysisConfig:
        """A copy with top-level keys or ``section__field`` keys changed.

        Examples
        --------
        >>> cfg = AnalysisConfig().replace(protocol="lsr", lsr__stim_branch="zygomatic")
        >>> cfg.protocol, cfg.lsr.stim_branch
        ('lsr', 'zygomatic')
        """
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in changes.items():
            section, sep, name = key.partition("__")
            if sep:
                if section not in _SECTIONS:
                    raise ParameterError(f"Unknown configuration section {section!r}.")
                nested.setdefault(section, {})[name] = value
            else:
                top[key] = value
        for section, values in nested.items():
            fields = {f.name for f in dataclasses.fields(_SECTIONS[section])}
            unknown = sorted(set(values) - fields)
            if unknown:
                raise ParameterError(
                    f"[{section}]: unknown key(s) {unknown}. Allowed: {sorted(fields)}."
                )
            top[section] = dataclasses.replace(top.get(section, getattr(self, section)), **values)
        return dataclasses.replace(self, **top)

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
    if hint is Any:
        if isinstance(value, str) and value == "none":
            return None
        return [*value] if isinstance(value, tuple) else value
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise ParameterError(
            f"{where}: expected one of {list(typing.get_args(hint))}, got {value!r}."
        )
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
    "protocol": "auto (decided from the stimulus events and their labels), spontaneous, lsr, "
    "cmap, f_waves, blink_reflex, responses, fmep, zl or free_running",
    "min_stimuli": "evoked analysis only when at least this many stimuli are found",
    "max_memory_mb": "files whose in-memory analysis would need more than this (samples in "
    "their stored dtype + per-thread work, MB) are streamed in chunks",
    "chunk_s": "core length of a chunk when streaming, s",
    "stream_margin_s": "extra signal on each side of a streamed chunk (longest burst kept), s",
    "read": "how files are read: sfreq (one rate of a mixed-rate file), picks, units, ch_types",
    "filter": "filter_emg before burst detection (off: detect_bursts band-passes itself)",
    "bursts": "detect_bursts; method: hysteresis, hodges_bui, bonato, tkeo; "
    "[bursts.options] = method options",
    "sync": "detect_synchronous_bursts",
    "spontaneous": "exclude_stimulus_locked: bursts starting in these windows around a stimulus "
    "are evoked and left out of the spontaneous analysis",
    "stim": "find_stim_events: the stimuli of every evoked protocol; "
    "source: auto, trigger, events, artifact (protocol auto never trusts artefacts alone)",
    "lsr": "measure_lsr; artifact_method: tail, interpolate, template, decay or none",
    "trend": "lsr_trend (phase markers are read from the recording's events); "
    "amplitude: present_only or zero_filled",
    "cmap": "measure_cmap (protocol cmap)",
    "f_waves": "measure_f_waves (protocol f_waves)",
    "blink_reflex": "measure_blink_reflex (protocol blink_reflex)",
    "responses": "measure_responses and its epoching (protocol responses, e.g. an H-reflex)",
    "fmep": "measure_fmep (protocol fmep: transcranial train stimuli)",
    "fmep_trend": "fmep_trend: final/baseline FMEP per muscle (Fukuda 2010)",
    "zl": "measure_zl_response (vessel stimuli: protocol zl, or within an lsr session)",
    "zl_trend": "zl_trend: course of the Z-L response",
    "free_running": "classify_trains (protocol free_running: A-, B-, C-trains)",
    "train_time": "train_time: A-train time per channel (Prell 2007)",
    "morphology": "lsr_morphology (protocol lsr): phases, turns, afterdischarge, late part",
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
