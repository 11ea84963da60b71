"""analyze() streams files above the memory budget with the in-memory results."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from hfs_emg import ParameterError
from hfs_emg.analysis import analyze
from hfs_emg.config import AnalysisConfig, BurstConfig
from hfs_emg.io.numpy_io import write_npz
from hfs_emg.simulate import simulate_spontaneous
from hfs_emg.simulate.score_spontaneous import score_bursts

TINY = {"max_memory_mb": 0.5, "chunk_s": 20.0, "stream_margin_s": 3.0}


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    sim = simulate_spontaneous(duration_s=180.0, sfreq=2000.0, seed=11)
    path = tmp_path_factory.mktemp("long") / "long.npz"
    write_npz(sim.recording, path)
    return sim, path


def test_streamed_bursts_equal_in_memory(long_file):
    sim, path = long_file
    whole = analyze(path)
    parts = analyze(path, AnalysisConfig(**TINY))
    assert not whole.provenance["streamed"] and parts.provenance["streamed"]
    a, b = whole.bursts, parts.bursts
    assert len(a) == len(b) == len(sim.bursts)
    assert (a["channel"].to_numpy() == b["channel"].to_numpy()).all()
    for col in ("onset_s", "offset_s"):
        assert np.abs(a[col].to_numpy() - b[col].to_numpy()).max() <= 1.0 / 2000.0
    np.testing.assert_allclose(b["peak_uv"], a["peak_uv"], rtol=1e-4)
    np.testing.assert_allclose(b["discharge_hz"], a["discharge_hz"], rtol=1e-4)
    assert score_bursts(sim.bursts, b)["f1"] >= 0.95
    pd.testing.assert_frame_equal(whole.synchronous, parts.synchronous, rtol=1e-4)
    pd.testing.assert_frame_equal(whole.summary, parts.summary, rtol=1e-4)


@pytest.mark.parametrize("name", ["lsr_session.edf", "ncs_blink_reflex.bdf"])
def test_streamed_evoked_equal_in_memory(example_dir, name):
    whole = analyze(example_dir / name)
    parts = analyze(example_dir / name, AnalysisConfig(**{**TINY, "chunk_s": 10.0}))
    assert parts.provenance["streamed"]
    assert whole.protocol == parts.protocol
    assert set(whole.tables()) == set(parts.tables())
    assert {"lsr", "blink_reflex"} & set(whole.tables())
    for table, df in whole.tables().items():
        pd.testing.assert_frame_equal(df, parts.tables()[table], rtol=1e-6)


def test_streaming_other_methods_is_a_clear_error(long_file):
    _, path = long_file
    with pytest.raises(ParameterError, match="max_memory_mb"):
        analyze(path, AnalysisConfig(bursts=BurstConfig(method="tkeo"), **TINY))


@pytest.mark.parametrize("notch", [None, 50.0])
def test_streamed_with_filter_step_equals_in_memory(long_file, notch):
    import dataclasses

    from hfs_emg.config import FilterConfig

    _, path = long_file
    cfg = AnalysisConfig(filter=FilterConfig(enabled=True, h_freq=900.0, notch=notch))
    a = analyze(path, cfg).bursts
    b = analyze(path, dataclasses.replace(cfg, **TINY)).bursts
    assert len(a) == len(b) > 50
    assert np.abs(a["onset_s"].to_numpy() - b["onset_s"].to_numpy()).max() <= 1.0 / 2000.0


@pytest.fixture(scope="module")
def late_hum_file(tmp_path_factory):
    """Hum that starts after the first streamed chunk (20 s): a filter designed from the first
    chunk alone would not notch it, the bounded sample of the whole file does."""
    import dataclasses

    sim = simulate_spontaneous(duration_s=180.0, sfreq=2000.0, seed=12)
    rec = sim.recording
    t = np.arange(rec.n_samples) / rec.sfreq
    hum = 8.0 * np.sin(2 * np.pi * 50.0 * t) * (t > 30.0)
    data = np.array(rec.data, dtype=float)
    emg = [i for i, k in enumerate(rec.channels["type"]) if k == "emg"]
    data[emg] += hum
    path = tmp_path_factory.mktemp("hum") / "late_hum.npz"
    write_npz(dataclasses.replace(rec, data=data), path)
    return path


@pytest.mark.parametrize("enabled", [False, True])
def test_streamed_hum_from_the_whole_file(late_hum_file, enabled):
    import dataclasses

    from hfs_emg.config import FilterConfig

    cfg = AnalysisConfig(filter=FilterConfig(enabled=enabled, h_freq=900.0, notch="auto"))
    whole = analyze(late_hum_file, cfg).bursts
    parts = analyze(late_hum_file, dataclasses.replace(cfg, **TINY)).bursts
    notch = [s for s in parts.attrs["preprocessing"] if s["step"] == "notch_filter"]
    assert notch and 50.0 in np.atleast_1d(notch[0]["freq"])  # the comb (enabled) or the lines
    if not enabled:  # detect_bursts' own filter: the same decisions as in memory
        assert whole.attrs["preprocessing"] == parts.attrs["preprocessing"][:-1]
    assert len(whole) == len(parts) > 50
    assert np.abs(whole["onset_s"].to_numpy() - parts["onset_s"].to_numpy()).max() <= 1 / 2000
    np.testing.assert_allclose(parts["peak_uv"], whole["peak_uv"], rtol=1e-4)


def test_streamed_read_options_equal_in_memory(long_file):
    """read.picks / units / ch_types apply to a streamed file as to the whole read."""
    from hfs_emg.config import ReadConfig

    sim, path = long_file
    names = sim.recording.ch_names
    emg = [n for n, k in zip(names, sim.recording.channels["type"], strict=True) if k == "emg"]
    assert len(emg) >= 3
    read = ReadConfig(picks=emg[:3], ch_types={emg[2]: "misc"})
    whole = analyze(path, AnalysisConfig(read=read))
    parts = analyze(path, AnalysisConfig(read=read, **TINY))
    assert parts.provenance["streamed"] and not whole.provenance["streamed"]
    assert set(parts.bursts["channel"]) == set(emg[:2])  # the misc channel is not EMG
    pd.testing.assert_frame_equal(whole.bursts, parts.bursts, rtol=1e-4)
    # units: the file's values are millivolts -> 1000 x the microvolts, same bursts
    mv = analyze(path, AnalysisConfig(read=ReadConfig(picks=emg[:2], units="mV"), **TINY))
    uv = analyze(path, AnalysisConfig(read=ReadConfig(picks=emg[:2]), **TINY))
    assert len(mv.bursts) == len(uv.bursts) > 10
    np.testing.assert_allclose(mv.bursts["peak_uv"], 1000 * uv.bursts["peak_uv"], rtol=1e-6)


def test_streamed_onset_order_uses_the_same_waveform_onsets(tmp_path):
    """Both routes of analyze judge the onset order from waveform onsets (``rise_s``), the
    streamed one measuring them per chunk while it is in memory: same onsets, same orders."""
    from hfs_emg.synchrony import detect_synchronous_bursts

    sim = simulate_spontaneous(duration_s=90.0, sfreq=5000.0, spasm_rate_per_min=30, seed=21)
    path = tmp_path / "order.npz"
    write_npz(sim.recording, path)
    whole = analyze(path)
    parts = analyze(path, AnalysisConfig(**{**TINY, "chunk_s": 15.0}))
    assert parts.provenance["streamed"] and not whole.provenance["streamed"]
    a, b = whole.bursts, parts.bursts
    assert {"rise_s", "rise_sd_ms"} <= set(a.columns) and {"rise_s", "rise_sd_ms"} <= set(b.columns)
    assert len(a) == len(b) > 50 and a["rise_s"].notna().mean() > 0.95
    np.testing.assert_allclose(b["rise_s"], a["rise_s"], atol=1e-6)
    np.testing.assert_allclose(b["rise_sd_ms"], a["rise_sd_ms"], rtol=1e-4)
    sa, sb = whole.synchronous, parts.synchronous
    assert len(sa) == len(sb) > 15
    assert sa["onset_order"].tolist() == sb["onset_order"].tolist()
    np.testing.assert_allclose(sb["lag_ms"], sa["lag_ms"], atol=1e-3)
    # the order is the waveform one, not the onsets-only one
    waveform = detect_synchronous_bursts(a, channels=sim.recording.channels)
    onsets = detect_synchronous_bursts(a.drop(columns=["rise_s", "rise_sd_ms"]))
    assert sa["onset_order"].tolist() == waveform["onset_order"].tolist()
    assert not np.allclose(onsets["lag_ms"], sa["lag_ms"])
    ordered = ~sa["onset_order"].isin(["simultaneous", "undetermined"])
    assert ordered.mean() > 0.5  # 2-6 ms steps: most events resolved


@pytest.mark.parametrize("positional", [True, False])
def test_spill_rows_written_by_threads_read_back_by_span(monkeypatch, positional):
    from concurrent.futures import ThreadPoolExecutor

    from hfs_emg.pipeline import streaming

    if positional and not streaming._POSITIONAL:
        positional = False  # no os.pwrite/os.preadv here: the locked path is the one used
    monkeypatch.setattr(streaming, "_POSITIONAL", positional)
    rng = np.random.default_rng(2)
    whole = rng.normal(size=(3, 5000)).astype(np.float32)
    spill = streaming._Spill()
    try:
        spill.allocate(3, whole.shape[1], whole.dtype)
        cuts = [0, 170, 520, 521, 1000, 4097, 5000]
        with ThreadPoolExecutor(3) as pool:  # rows of a block written at once, out of order
            for a, b in itertools.pairwise(cuts):
                rows = [(c, a, whole[c, a:b]) for c in (2, 0, 1)]
                list(pool.map(lambda job: spill.write_row(*job), rows))
        for lo, hi in [(0, 5000), (100, 600), (519, 523), (999, 1000), (4000, 5000)]:
            got = spill.read(lo, hi)
            assert got.dtype == whole.dtype
            assert np.array_equal(got, whole[:, lo:hi])
    finally:
        spill.close()


def test_prefetched_keeps_the_order_and_raises_the_producers_error():
    from hfs_emg.pipeline.streaming import _prefetched

    assert list(_prefetched(iter(range(5)))) == [0, 1, 2, 3, 4]
    assert list(_prefetched(iter([]))) == []

    def failing():
        yield 1
        raise ParameterError("bad chunk")

    got = []
    with pytest.raises(ParameterError, match="bad chunk"):
        for item in _prefetched(failing()):
            got.append(item)
    assert got == [1]
