"""AnalysisConfig: defaults mirror the functions, TOML round trip, stable hash, clear errors."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import tomllib

from hfs_emg import ParameterError
from hfs_emg.config import (
    SECTION_FUNCTIONS,
    SECTION_OVERRIDES,
    AnalysisConfig,
    BurstConfig,
    FilterConfig,
    LSRConfig,
    StimConfig,
    SyncConfig,
    TrendConfig,
    default_toml,
)

#: Fields a section adds to its function's keyword arguments (not copied from a signature).
OWN_FIELDS = {
    "filter": {"enabled"},
    "bursts": {"options"},
    "responses": {"artifact_method", "artifact_window_s", "tmin", "tmax"},
}
#: Keyword arguments that are deliberately not configuration keys.
NOT_OPTIONS = {
    "n_jobs",
    "events",
    "source",
    "label",
    "return_trials",
    "channels_info",
    "channels",
    "phases",
    "limits",
    "rec",
    "lsr",
    "average",
    "vocabulary",
    "rise_times",
    "overwrite",  # detect_bursts: in place, memory only (the same bursts)
    "skip_windows",  # detect_bursts: the stimulus windows (data)
    "trigger_runs",
}


@pytest.mark.parametrize("name", sorted(SECTION_FUNCTIONS))
def test_sections_are_the_functions_keyword_arguments(name):
    """Options flow one way: a section's fields are exactly its function's keyword arguments."""
    func = SECTION_FUNCTIONS[name]
    cls = type(getattr(AnalysisConfig(), name))
    params = list(inspect.signature(func).parameters.values())[1:]
    keywords = {
        p.name: p.default
        for p in params
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty
    }
    keep = {"source", "label"} if name == "stim" else set()
    skip = {"picks"} if name == "filter" else {"out_label"} if name == "stim" else set()
    skip |= {"noise_uv"} if name == "responses" else set()
    expected = {k for k in keywords if k not in NOT_OPTIONS or k in keep} - skip
    fields = {f.name for f in dataclasses.fields(cls)}
    assert fields - OWN_FIELDS.get(name, set()) == expected, name
    overrides = SECTION_OVERRIDES.get(name, {})
    for field_name in expected:
        want = overrides.get(field_name, keywords[field_name])
        assert getattr(cls(), field_name) == want, (name, field_name)


def test_old_section_classes_keep_their_defaults():
    # the values the sections had when they were written by hand (config.py at 5f3ac16)
    # notch: "auto" (comb at every harmonic) until the one default EMG filter (hum lines)
    assert FilterConfig() == FilterConfig(
        enabled=False, l_freq=20.0, h_freq=1000.0, notch="lines", order=4, q=30.0
    )
    assert SyncConfig().tolerance_s == 0.03 and SyncConfig().min_channels == 2
    assert StimConfig().source == "auto" and StimConfig().min_interval_s == 0.02
    assert LSRConfig().window_ms == (6.0, 20.0) and LSRConfig().tmax == 0.05
    assert TrendConfig().consecutive_absent == 5
    assert BurstConfig().band == (20.0, 1000.0) and BurstConfig().options == {}


def test_protocol_is_checked():
    with pytest.raises(ParameterError, match="protocol"):
        AnalysisConfig(protocol="emg")
    assert AnalysisConfig().replace(protocol="cmap").protocol == "cmap"
    with pytest.raises(ParameterError, match="bogus"):
        AnalysisConfig().replace(lsr__bogus=1)


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
