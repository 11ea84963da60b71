"""Fuzzing the readers with mutated copies of the third-party files in ../shared/data.

Each case mutates a real recording (EDF/BDF header fields and EDF+ annotations, BrainVision
``.vhdr`` keys and ``.vmrk`` lines, WFDB ``.hea`` fields, text cells, delimiters and header lines,
Spike2/ABF header integers and floats, plus truncations, bit flips and random bytes for every
format; see ``tests/fuzzing.py``) and reads it in a child process with a timeout: the file must
either load with finite samples, times and sampling rate, or raise an ``HfsEmgError`` subclass.
A failure names its case ``<file>:<mutation>:<seed>``; replay it with
``python benchmarks/fuzz_thirdparty.py --replay '<case>'``. The cases here are a fixed, bounded
sample (about 30 s); ``benchmarks/fuzz_thirdparty.py --cases 10000`` is the offline run
recorded in ``docs/fuzzing.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import fuzzing
import pytest

pytestmark = pytest.mark.shared_data

#: Cases per source file per CI run (26 sources); the seeds are fixed, so runs are identical.
PER_SOURCE = 8
CASES = fuzzing.make_cases(PER_SOURCE, seed=0)


@pytest.fixture(scope="module")
def runner(shared_data: Path) -> Iterator[fuzzing.Runner]:
    with fuzzing.Runner(shared_data, timeout=30.0) as run:
        yield run


def test_every_format_and_mutation_is_sampled() -> None:
    formats = {c.fmt for c in CASES}
    assert formats == {"edf", "bdf", "brainvision", "wfdb", "abf", "smr", "text"}
    for fmt, mutations in fuzzing.MUTATIONS.items():
        sampled = {c.mutation for c in CASES if c.fmt == fmt}
        assert sampled == set(mutations), fmt
    assert len(CASES) == len(set(CASES)) == PER_SOURCE * len(fuzzing.SOURCES)


@pytest.mark.parametrize("source", [s.key for s in fuzzing.SOURCES])
def test_unmutated_source_loads(source: str, runner: fuzzing.Runner) -> None:
    # The baseline: every third-party file loads as it is, so a refusal below is the mutation's.
    result = runner.run(fuzzing.Case(source, "none", 0))
    assert result.status == "loaded", result.report()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_mutated_file_loads_or_refuses_cleanly(case: fuzzing.Case, runner: fuzzing.Runner) -> None:
    result = runner.run(case)
    assert result.status in ("loaded", "refused"), result.report()


def test_mutations_are_reproducible_and_change_the_bytes(shared_data: Path) -> None:
    changed = 0
    for case in CASES[::7]:
        files, detail = fuzzing.mutate(case, shared_data)
        again, detail2 = fuzzing.mutate(case, shared_data)
        assert files == again and detail == detail2, case
        original, _ = fuzzing.mutate(fuzzing.Case(case.source, "none", 0), shared_data)
        changed += files != original
    # A mutation may rarely be a no-op (a bit flipped twice, a value replaced by itself).
    assert changed >= 0.9 * len(CASES[::7])


def test_shared_folder_is_not_written(shared_data: Path, runner: fuzzing.Runner) -> None:
    src = fuzzing.SOURCES_BY_KEY["mne-brainvision/test.vhdr"]
    folder = (shared_data / src.key).parent
    before = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in src.files}
    for seed in range(3):
        runner.run(fuzzing.Case(src.key, "truncate", seed))
    after = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in src.files}
    assert before == after


def test_watchdog_reports_a_case_that_does_not_answer(shared_data: Path) -> None:
    with fuzzing.Runner(shared_data, timeout=1e-4) as slow:
        result = slow.run(fuzzing.Case("biosppy-emg/emg.txt", "none", 0))
    assert (result.status, result.kind) == ("leak", "Timeout")
