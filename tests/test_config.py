"""AnalysisConfig: defaults mirror the functions, TOML round trip, stable hash, clear errors."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import tomllib

from hfs_emg import ParameterError
from hfs_emg.config import (
    AnalysisConfig,
    BurstConfig,
    FilterConfig,
    LSRConfig,
    StimConfig,
    SyncConfig,
    TrendConfig,
    default_toml,
)
from hfs_emg.detection import detect_bursts
from hfs_emg.events import find_stim_events
from hfs_emg.lsr import lsr_trend, measure_lsr
from hfs_emg.preprocessing import filter_emg
from hfs_emg.synchrony import detect_synchronous_bursts


@pytest.mark.parametrize(
    ("cls", "func"),
    [
        (FilterConfig, filter_emg),
        (BurstConfig, detect_bursts),
        (SyncConfig, detect_synchronous_bursts),
        (StimConfig, find_stim_events),
        (LSRConfig, measure_lsr),
        (TrendConfig, lsr_trend),
    ],
)
def test_defaults_are_the_functions_defaults(cls, func):
    sig = inspect.signature(func).parameters
    own = {"enabled", "options"}
    for f in dataclasses.fields(cls):
        if f.name in own:
            continue
        assert f.name in sig, f"{cls.__name__}.{f.name} is not a parameter of {func.__name__}"
        default = getattr(cls(), f.name)
        assert default == sig[f.name].default, (cls.__name__, f.name)


def test_toml_round_trip_and_hash(tmp_path):
    cfg = AnalysisConfig(
        bursts=BurstConfig(method="tkeo", options={"h": 7.0}, picks=["a", "b"]),
        lsr=LSRConfig(artifact_method=None, window_ms=(5.0, 25.0)),
        stim=StimConfig(threshold=3.0),
        max_memory_mb=12.5,
    )
    path = cfg.to_toml(tmp_path / "cfg.toml")
    back = AnalysisConfig.from_toml(path)
    assert back == cfg
    assert back.hash() == cfg.hash()
    assert cfg.hash() != AnalysisConfig().hash()
    assert len(cfg.hash()) == 64
    assert AnalysisConfig().hash() == AnalysisConfig().hash()


def test_partial_file_takes_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[sync]\ntolerance_s = 0.05\n")
    cfg = AnalysisConfig.from_toml(path)
    assert cfg.sync.tolerance_s == 0.05
    assert cfg.bursts == BurstConfig()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[bursts]\nmin_durration_s = 0.02\n", "min_durration_s"),
        ("[burst]\nmethod = 'x'\n", "burst"),
        ("[sync]\nmin_channels = 'two'\n", "min_channels"),
        ("[sync]\nmin_channels = 2.5\n", "min_channels"),
        ("[lsr]\nwindow_ms = [1.0]\n", "window_ms"),
        ("max_memory_mb = true\n", "max_memory_mb"),
        ("sync = 3\n", "sync"),
    ],
)
def test_bad_files_name_key_and_file(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ParameterError) as err:
        AnalysisConfig.from_toml(path)
    assert key in str(err.value)
    assert "bad.toml" in str(err.value)


def test_invalid_toml_and_missing_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[sync\n")
    with pytest.raises(ParameterError, match=r"broken\.toml"):
        AnalysisConfig.from_toml(path)
    with pytest.raises(ParameterError, match=r"nope\.toml"):
        AnalysisConfig.from_toml(tmp_path / "nope.toml")


def test_default_toml_is_commented_and_parses_to_defaults():
    text = default_toml()
    assert text.count("#") >= 8
    assert AnalysisConfig.from_dict(tomllib.loads(text)) == AnalysisConfig()
