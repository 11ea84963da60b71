"""Offline fuzzing of the readers with mutated copies of the third-party files in ../shared/data.

Each case (source file, mutation, seed) is run in a child process with a per-case timeout and a
memory limit (see ``tests/fuzzing.py``); it passes when the mutated file either loads (finite
samples, times and sampling rate) or raises an ``HfsEmgError`` subclass. Prints one table row per
format (cases / loaded / refused cleanly / leaked) and, for every leak class (format, exception
type, mutation), its count and a reproducer line. The recorded run is in ``docs/fuzzing.md``.

Run::

    python benchmarks/fuzz_thirdparty.py --cases 10000          # cases in total, all sources
    python benchmarks/fuzz_thirdparty.py --replay 'mne-edf-bdf/test.edf:edf_field:17'

``--replay`` runs one case in this process and prints the mutation and the full traceback;
``--check CASE [CASE ...]`` runs the given cases in the worker and prints one line each.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fuzzing  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("HFS_EMG_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _replay(text: str, data_dir: Path) -> int:
    from hfs_emg.io import open_recording, read_recording

    case = fuzzing.Case.parse(text)
    files, detail = fuzzing.mutate(case, data_dir)
    print(f"case {case}: {detail}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            Path(tmp, name).write_bytes(data)
        path = Path(tmp, fuzzing.SOURCES_BY_KEY[case.source].files[0])
        options = dict(fuzzing.SOURCES_BY_KEY[case.source].options)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rec = read_recording(path, **options)
                options.pop("units", None)
                with open_recording(path, **options) as reader:
                    print(reader)
            problem = fuzzing.check_recording(rec)
            print("loaded:", rec, "" if problem is None else f"BUT INVALID: {problem}")
            if problem is not None:
                return 1
        except Exception:
            traceback.print_exc()
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases in total (all sources)")
    parser.add_argument("--seed", type=int, default=1_000_000, help="first seed of the run")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per case")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--formats", nargs="*", help="only these formats (edf, bdf, wfdb...)")
    parser.add_argument("--replay", help="run one case '<source>:<mutation>:<seed>' here")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--list-leaks", action="store_true", help="print every leaking case")
    parser.add_argument("--check", nargs="+", metavar="CASE", help="run these cases, one line each")
    args = parser.parse_args(argv)
    if args.replay:
        return _replay(args.replay, args.data)
    if args.check:
        with fuzzing.Runner(args.data, timeout=args.timeout) as runner:
            results = [runner.run(fuzzing.Case.parse(text)) for text in args.check]
        for res in results:
            print(res.report())
        return 1 if any(r.status == "leak" for r in results) else 0
    sources = [s.key for s in fuzzing.SOURCES if not args.formats or s.fmt in args.formats]
    per_source = -(-args.cases // len(sources))
    cases = fuzzing.make_cases(per_source, seed=args.seed, sources=sources)
    results = []
    t0 = time.perf_counter()
    with fuzzing.Runner(args.data, timeout=args.timeout) as runner:
        for k, case in enumerate(cases, 1):
            results.append(runner.run(case))
            if k % 500 == 0:
                n_leak = sum(r.status == "leak" for r in results)
                print(f"  {k}/{len(cases)} cases, {n_leak} leaks", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t0
    _print(results, elapsed, markdown=args.markdown)
    if args.list_leaks:
        print("leaking cases:", " ".join(str(r.case) for r in results if r.status == "leak"))
    return 1 if any(r.status == "leak" for r in results) else 0


def _print(results: list[fuzzing.Result], elapsed: float, *, markdown: bool) -> None:
    table = fuzzing.summarize(results)
    total = {
        k: sum(row[k] for row in table.values()) for k in ("cases", "loaded", "refused", "leak")
    }
    rows = [(fmt, *table[fmt].values()) for fmt in sorted(table)] + [("all", *total.values())]
    per_case = elapsed / max(total["cases"], 1) * 1e3
    print(f"{total['cases']} cases in {elapsed:.0f} s ({per_case:.0f} ms/case)")
    head = ("format", "cases", "loaded", "refused cleanly", "leaked")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(str(v) for v in row) + " |")
    else:
        print(f"{head[0]:<12}" + "".join(f"{h:>17}" for h in head[1:]))
        for row in rows:
            print(f"{row[0]:<12}" + "".join(f"{v:>17}" for v in row[1:]))
    refused = collections.Counter(r.kind for r in results if r.status == "refused")
    print("refusals by error class: " + ", ".join(f"{k} {v}" for k, v in refused.most_common()))
    leaks: dict[tuple[str, str, str], list[fuzzing.Result]] = {}
    for r in results:
        if r.status == "leak":
            leaks.setdefault((r.case.fmt, r.kind, r.case.mutation), []).append(r)
    if not leaks:
        print("no leaks")
        return
    print(f"{sum(len(v) for v in leaks.values())} leaks in {len(leaks)} classes:")
    if markdown:
        print("| format | exception | mutation | count | example (replay with --replay) |")
        print("|---|---|---|---|---|")
    for (fmt, kind, mutation), group in sorted(leaks.items(), key=lambda kv: -len(kv[1])):
        first = group[0]
        if markdown:
            msg = first.message[:80].replace("|", "/").replace("\n", " ")
            print(f"| {fmt} | {kind} | {mutation} | {len(group)} | `{first.case}` ({msg}) |")
        else:
            print(f"  {fmt:<11} {kind:<22} {mutation:<13} {len(group):>5}  --replay '{first.case}'")
            print(f"      {first.detail[:100]} -> {first.message[:160]!r} at {first.where}")


if __name__ == "__main__":
    sys.exit(main())
