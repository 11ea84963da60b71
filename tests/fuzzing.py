"""Mutation engine for fuzzing hfs_emg's readers with the third-party files of ``../shared/data``.

Test support, not part of the package: imported by ``tests/test_fuzz_thirdparty.py`` (a bounded,
deterministic set of cases per CI run) and by ``benchmarks/fuzz_thirdparty.py`` (the offline run of
10,000+ cases recorded in ``docs/fuzzing.md``).

A case is ``(source, mutation, seed)``: the source is one real recording of the shared folder
(with its companion files: ``.vhdr`` + ``.vmrk`` + ``.eeg``, ``.hea`` + ``.dat``), the mutation
a named, format-aware edit, the seed the only source of randomness, so every case can be
replayed. The inputs are read once into memory and the mutated copies are written to a temporary
folder: the shared folder is never written.

Mutations
---------
Every format: ``truncate`` (cut one of the files at a random offset, half of the time inside the
header region), ``bitflip`` (1-8 random bits, half of the time in the header region),
``garbage`` (a random span of the header region overwritten with random bytes).

- EDF/BDF ``edf_field``: one fixed-width ASCII header field (main header or one/all signals)
  replaced by empty, ``nan``, ``inf``, negative, huge, non-integer, non-ASCII or text values, or
  by hfs_emg's private ``hfs_emg_n=``/``hfs_emg_tstart=`` keys in the free-text recording field;
  ``edf_tal`` (EDF+ files): bytes of the annotation signal replaced by TAL separators, digits,
  signs and garbage.
- BrainVision ``vhdr_key``: a ``Key=Value`` value edited, a key or section deleted or duplicated,
  a channel line's fields edited, the file re-encoded (latin-1, UTF-16, invalid UTF-8 bytes);
  ``vmrk_line``: a marker line's fields edited, a line deleted or duplicated, the marker file
  removed.
- WFDB ``hea_field``: a whitespace-separated field of the record line or the signal line replaced,
  deleted or duplicated, a line deleted or added.
- Text ``text_edit``: extra fields in a row, decimal commas, non-numeric cells, ragged rows,
  blank/NUL/BOM/CRLF lines, edited header lines (``Sampling Rate (Hz):=``, ``Labels:=``,
  ``Channel n:`` lines, column names), a different delimiter.
- Spike2/ABF ``struct_field``: one named numeric field of the header (ABF1 pointers, counts,
  sample interval, gains; the ABF2 section table's block index, size and entry count; the
  Spike2 file header and a channel header: block pointers, divisors, rates, scale, kind)
  overwritten with 0, -1, the type's extremes, NaN, infinity, or twice, one more or minus its
  value; ``binary_field``: the same at any aligned offset of the first 8 KiB.

Outcome of a case (:func:`run_case`): ``loaded`` (``read_recording`` and a window read through
``open_recording`` both succeeded, and the data are finite, ``sfreq`` finite and > 0, the times
finite), ``refused`` (an :class:`hfs_emg.HfsEmgError` subclass was raised) or ``leak`` (any other
exception, an invalid loaded result, a timeout or a crashed worker). :class:`Runner` runs cases in
a child process with a per-case timeout and a memory limit, so a hang or a huge allocation is a
reported leak rather than a stuck test run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import re
import shutil
import tempfile
import traceback
import warnings
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MUTATIONS",
    "SOURCES",
    "SOURCES_BY_KEY",
    "Case",
    "Result",
    "Runner",
    "Source",
    "check_recording",
    "make_cases",
    "mutate",
    "run_case",
    "summarize",
]


# ----------------------------------------------------------------------------------- sources
@dataclasses.dataclass(frozen=True)
class Source:
    """One third-party recording: the file opened, its companions, and the read options."""

    key: str  # path of the opened file relative to the shared folder
    fmt: str  # edf, bdf, brainvision, wfdb, abf, smr, text
    companions: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        return (Path(self.key).name, *self.companions)


_GESTURES = (("time_unit", "ms"), ("label_column", "class"), ("resample", True), ("units", "V"))
_LIMB = (("sfreq", 1000),)
SOURCES: tuple[Source, ...] = (
    Source("mne-edf-bdf/test.edf", "edf"),
    Source("mne-edf-bdf/test_edf_stim_channel.edf", "edf"),
    Source("sleep-edf-short-psg/short_psg.edf", "edf", options=(("sfreq", 100),)),
    Source("mne-edf-bdf/test.bdf", "bdf"),
    Source("mne-edf-bdf/test_bdf_stim_channel.bdf", "bdf"),
    Source("mne-brainvision/test.vhdr", "brainvision", ("test.vmrk", "test.eeg")),
    Source("physionet-emgdb/emg_healthy.hea", "wfdb", ("emg_healthy.dat",)),
    Source("physionet-emgdb/emg_myopathy.hea", "wfdb", ("emg_myopathy.dat",)),
    Source("physionet-emgdb/emg_neuropathy.hea", "wfdb", ("emg_neuropathy.dat",)),
    Source("pyabf-abf/16d22006_kim_gapfree.abf", "abf"),
    Source("pyabf-abf/multichannelAbf1WithTags.abf", "abf"),
    Source("pyabf-abf/pclamp11_4ch.abf", "abf"),
    Source("pyabf-abf/pclamp11_4ch_abf1.abf", "abf"),
    Source("spike2py-smr/physiology.smr", "smr"),
    Source("spike2py-smr/motor_units.smr", "smr", options=(("sfreq", 25_000),)),
    Source("spike2py-smr/biomech0deg.smr", "smr", options=(("sfreq", 5000),)),
    Source("biosppy-emg/emg.txt", "text"),
    Source("biosppy-emg/emg_1.txt", "text"),
    Source("uci-emg-gestures/1_raw_data_11-08_21.03.16.txt", "text", options=_GESTURES),
    Source("uci-emg-gestures/2_raw_data_11-10_21.03.16.txt", "text", options=_GESTURES),
    *(
        Source(f"uci-emg-lower-limb/{name}.txt", "text", options=_LIMB)
        for name in ("3Amar", "3Apie", "3Asen", "5Nmar", "5Npie", "5Nsen")
    ),
)
SOURCES_BY_KEY: dict[str, Source] = {s.key: s for s in SOURCES}
_BY_KEY = SOURCES_BY_KEY
#: Bytes treated as the header region by the generic and binary mutations.
_HEADER_REGION = {"abf": 8192, "smr": 8192, "text": 2048, "wfdb": 512, "brainvision": 8192}

Files = dict[str, bytes]
Mutation = Callable[[Files, Source, np.random.Generator], tuple[Files, str]]


# ----------------------------------------------------------------------------- value pools
_NUMERIC_GARBAGE = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+inf",
    "1e308",
    "1e309",
    "-1e308",
    "1e-308",
    "0",
    "-0",
    "-1",
    "-4000",
    "1",
    "2",
    "99999999",
    "-9999999",
    "2147483648",
    "1.5",
    "500.7",
    "0.0001",
    "1,5",
    "0x10",
    "1e3",
    "abc",
    "--",
    "+",
    ".",
    "1 2",
    "\x00\x00",
    "\xff\xfe",
    "é",
]


def _pick(rng: np.random.Generator, items: list[Any] | tuple[Any, ...]) -> Any:
    return items[int(rng.integers(len(items)))]


def _header_len(data: bytes, src: Source) -> int:
    if src.fmt in ("edf", "bdf") and len(data) >= 256:
        try:
            return max(256, min(len(data), int(data[184:192].decode("latin-1").strip())))
        except ValueError:
            return 256
    return min(len(data), _HEADER_REGION.get(src.fmt, 4096))


def _target(files: Files, src: Source, rng: np.random.Generator) -> str:
    """Which file of the set a generic mutation hits (the opened one two times in three)."""
    names = list(files)
    if len(names) == 1 or rng.random() < 2 / 3:
        return names[0]
    return names[1 + int(rng.integers(len(names) - 1))]


# --------------------------------------------------------------------- generic mutations
def _truncate(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = _target(files, src, rng)
    data = files[name]
    span = _header_len(data, src) if rng.random() < 0.5 else len(data)
    cut = int(rng.integers(0, max(span, 1)))
    return {**files, name: data[:cut]}, f"{name} cut to {cut} of {len(data)} bytes"


def _bitflip(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = _target(files, src, rng)
    data = bytearray(files[name])
    if not data:
        return files, f"{name} empty"
    span = _header_len(bytes(data), src) if rng.random() < 0.5 else len(data)
    where = []
    for _ in range(int(rng.integers(1, 9))):
        pos, bit = int(rng.integers(0, max(span, 1))), int(rng.integers(8))
        data[pos] ^= 1 << bit
        where.append(f"{pos}.{bit}")
    return {**files, name: bytes(data)}, f"{name} bits {','.join(where)}"


def _garbage(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = _target(files, src, rng)
    data = bytearray(files[name])
    span = _header_len(bytes(data), src)
    if not data:
        return files, f"{name} empty"
    n = int(rng.integers(1, 17))
    pos = int(rng.integers(0, max(span - n, 1)))
    data[pos : pos + n] = rng.integers(0, 256, size=n, dtype=np.uint8).tobytes()
    return {**files, name: bytes(data[: len(files[name])])}, f"{name} bytes {pos}:{pos + n} random"


# --------------------------------------------------------------------------------- EDF/BDF
_EDF_MAIN = (
    ("version", 0, 8),
    ("patient", 8, 80),
    ("recording", 88, 80),
    ("startdate", 168, 8),
    ("starttime", 176, 8),
    ("header_bytes", 184, 8),
    ("reserved", 192, 44),
    ("n_records", 236, 8),
    ("record_duration", 244, 8),
    ("n_signals", 252, 4),
)
_EDF_SIG = (
    ("label", 16),
    ("transducer", 80),
    ("unit", 8),
    ("pmin", 8),
    ("pmax", 8),
    ("dmin", 8),
    ("dmax", 8),
    ("prefilter", 80),
    ("spr", 8),
    ("reserved", 32),
)
_EDF_TEXT = [
    "hfs_emg_n=10",
    "hfs_emg_n=99999999999",
    "hfs_emg_tstart=nan",
    "hfs_emg_tstart=inf",
    "hfs_emg_tstart=-1e308",
    "EDF+D",
    "EDF+C",
    "BDF+D",
    "24BIT",
    "EDF Annotations",
    "BDF Annotations",
    "Status",
    "trigger",
    "uV",
    "mV",
    "V",
    "nV",
    "µV",
    "99.99.99",
    "00.00.00",
    "31.02.85",
]


def _edf_field(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = next(iter(files))
    data = bytearray(files[name])
    ns = int(data[252:256].decode("latin-1").strip())
    value = _pick(rng, _NUMERIC_GARBAGE + _EDF_TEXT)
    if rng.random() < 0.1:  # a number just outside what the field or the format allows
        value = _pick(rng, ["32768", "-32769", "8388608", "-8388609", "65535", "1e20", "-0.5"])
    if rng.random() < 0.3:
        field, off, width = _pick(rng, _EDF_MAIN)
        spots = [(off, width)]
        where = field
    else:
        k = int(rng.integers(len(_EDF_SIG)))
        field, width = _EDF_SIG[k]
        base = 256 + ns * sum(w for _, w in _EDF_SIG[:k])
        if rng.random() < 0.25:
            spots = [(base + i * width, width) for i in range(ns)]
            where = f"{field}[all]"
        else:
            i = int(rng.integers(ns))
            spots = [(base + i * width, width)]
            where = f"{field}[{i}]"
    raw = value.encode("latin-1", "replace") if value.isascii() else value.encode("utf-8")
    for off, width in spots:
        data[off : off + width] = raw[:width].ljust(width, b" ")
    return {**files, name: bytes(data)}, f"{where} := {value!r}"


def _edf_tal(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    """Edit bytes inside the EDF+ annotation signal of one data record."""
    name = next(iter(files))
    data = bytearray(files[name])
    head = bytes(data)
    ns = int(head[252:256].decode("latin-1").strip())
    n_head = 256 * (ns + 1)
    labels = [head[256 + 16 * i : 256 + 16 * (i + 1)].decode("latin-1").strip() for i in range(ns)]
    spr_base = 256 + ns * sum(w for f, w in _EDF_SIG[:8])
    spr = [int(head[spr_base + 8 * i : spr_base + 8 * (i + 1)].decode()) for i in range(ns)]
    bps = 3 if head[:8] == b"\xffBIOSEMI" else 2
    ann = [i for i, lab in enumerate(labels) if lab.endswith("Annotations")]
    rec_bytes = sum(spr) * bps
    n_rec = (len(data) - n_head) // rec_bytes
    if not ann or n_rec == 0:
        return _garbage(files, src, rng)
    ch = ann[0]
    r = int(rng.integers(n_rec))
    start = n_head + r * rec_bytes + sum(spr[:ch]) * bps
    length = spr[ch] * bps
    edits = []
    for _ in range(int(rng.integers(1, 6))):
        pos = start + int(rng.integers(length))
        token = _pick(rng, [b"\x14", b"\x15", b"\x00", b"+", b"-", b"9", b".", b"nan", b"\xff"])
        data[pos : pos + len(token)] = token
        edits.append(f"{pos - start}={token!r}")
    return {**files, name: bytes(data[: len(head)])}, f"record {r} TAL {' '.join(edits)}"


# ------------------------------------------------------------------------------ BrainVision
_VHDR_VALUES = [
    *_NUMERIC_GARBAGE,
    "BOGUS",
    "INT_32",
    "IEEE_FLOAT_32",
    "UINT_16",
    "VECTORIZED",
    "ASCII",
    "MULTIPLEXED",
    "BINARY",
    "missing.eeg",
    "../test.eeg",
    "/etc/hostname",
    "test.vmrk",
    "test.vhdr",
    "UTF-7",
    "latin-1",
]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _vhdr_key(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = next(iter(files))
    lines = _lines(files[name])
    keyed = [i for i, ln in enumerate(lines) if b"=" in ln and not ln.startswith(b";")]
    op = _pick(rng, ["value", "value", "value", "delete", "duplicate", "channel", "section", "enc"])
    if op == "enc":
        text = files[name].decode("utf-8")
        how = _pick(rng, ["latin-1", "utf-16", "invalid-utf8", "bom"])
        if how == "latin-1":
            out = text.encode("latin-1", "replace")
        elif how == "utf-16":
            out = text.encode("utf-16")
        elif how == "bom":
            out = b"\xef\xbb\xbf" + files[name]
        else:
            i = _pick(rng, keyed)
            lines[i] = lines[i] + b"\xff\xfe\xc3"
            out = b"\n".join(lines)
        return {**files, name: out}, f"re-encoded {how}"
    if op == "section":
        sec = [i for i, ln in enumerate(lines) if ln.startswith(b"[")]
        i = _pick(rng, sec)
        what = lines[i]
        lines[i] = b"" if rng.random() < 0.5 else b"[Bogus Section]"
        return {**files, name: b"\n".join(lines)}, f"section {what!r} removed"
    if op == "channel":
        chans = [i for i in keyed if lines[i].startswith(b"Ch")]
        i = _pick(rng, chans)
        key, _, val = lines[i].partition(b"=")
        props = val.split(b",")
        k = int(rng.integers(0, 5))
        new = _pick(rng, _VHDR_VALUES).encode("utf-8")
        props = props + [b""] * (k + 1 - len(props))
        props[k] = new
        if rng.random() < 0.2:
            props = props[:k]
        lines[i] = key + b"=" + b",".join(props)
        return {**files, name: b"\n".join(lines)}, f"{key.decode()} field {k} := {new!r}"
    i = _pick(rng, keyed)
    key = lines[i].split(b"=")[0].decode("utf-8", "replace")
    if op == "delete":
        del lines[i]
        return {**files, name: b"\n".join(lines)}, f"key {key} deleted"
    value = _pick(rng, _VHDR_VALUES)
    if op == "duplicate":
        lines.insert(i + 1, f"{key}={value}".encode())
        return {**files, name: b"\n".join(lines)}, f"key {key} duplicated := {value!r}"
    lines[i] = f"{key}={value}".encode()
    return {**files, name: b"\n".join(lines)}, f"{key} := {value!r}"


def _vmrk_line(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = next(n for n in files if n.endswith(".vmrk"))
    if rng.random() < 0.08:
        out = dict(files)
        del out[name]
        return out, f"{name} removed"
    lines = _lines(files[name])
    marks = [i for i, ln in enumerate(lines) if ln.startswith(b"Mk")]
    i = _pick(rng, marks)
    op = _pick(rng, ["field", "field", "field", "delete", "duplicate", "keys"])
    if op == "delete":
        del lines[i]
        return {**files, name: b"\n".join(lines)}, f"line {i} deleted"
    if op == "duplicate":
        lines.insert(i, lines[i])
        return {**files, name: b"\n".join(lines)}, f"line {i} duplicated"
    if op == "keys":
        j = _pick(rng, [k for k, ln in enumerate(lines) if b"=" in ln])
        value = _pick(rng, _VHDR_VALUES)
        lines[j] = lines[j].split(b"=")[0] + b"=" + value.encode("utf-8")
        return {**files, name: b"\n".join(lines)}, f"line {j} value := {value!r}"
    key, _, val = lines[i].partition(b"=")
    props = val.split(b",")
    k = int(rng.integers(0, 6))
    value = _pick(rng, [*_NUMERIC_GARBAGE, "99999999999", "-5", "7901", "1e3", "S  1"])
    props = props + [b""] * (k + 1 - len(props))
    props[k] = value.encode("utf-8")
    lines[i] = key + b"=" + b",".join(props)
    return {**files, name: b"\n".join(lines)}, f"{key.decode()} field {k} := {value!r}"


# ------------------------------------------------------------------------------------ WFDB
_HEA_VALUES = [
    *_NUMERIC_GARBAGE,
    "4000/0",
    "0/2",
    "16x1",
    "16x3",
    "16+24",
    "212",
    "8",
    "310",
    "32",
    "999",
    "10000(5)/mV",
    "10000(nan)/mV",
    "inf/mV",
    "-10000/mV",
    "0/mV",
    "/mV",
    "mV",
    "missing.dat",
    "../emg.dat",
    "99999999999",
    "25:61:00",
    "31/02/2020",
]


def _hea_field(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = next(iter(files))
    lines = files[name].decode("latin-1").split("\n")
    content = [i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#")]
    op = _pick(rng, ["field"] * 6 + ["delete_field", "dup_field", "delete_line", "add_line"])
    i = content[0] if rng.random() < 0.5 else _pick(rng, content)
    fields = lines[i].split()
    if op == "delete_line":
        del lines[i]
        detail = f"line {i} deleted"
    elif op == "add_line":
        lines.insert(i + 1, lines[content[-1]])
        detail = f"line {content[-1]} duplicated after line {i}"
    else:
        k = int(rng.integers(len(fields)))
        if op == "delete_field":
            del fields[k]
            detail = f"line {i} field {k} deleted"
        elif op == "dup_field":
            fields.insert(k, fields[k])
            detail = f"line {i} field {k} duplicated"
        else:
            value = _pick(rng, _HEA_VALUES)
            fields[k] = value
            detail = f"line {i} field {k} := {value!r}"
        lines[i] = " ".join(fields)
    return {**files, name: "\n".join(lines).encode("latin-1", "replace")}, detail


# ------------------------------------------------------------------------------------ text
def _sep_of(line: str) -> str:
    return "\t" if "\t" in line else ("," if "," in line else " ")


def _text_edit(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = next(iter(files))
    text = files[name].decode("utf-8", "replace")
    lines = text.split("\n")
    data_rows = [
        i for i, ln in enumerate(lines) if ln.strip() and re.match(r"^\s*[-+0-9.]", ln.strip())
    ]
    head_rows = [i for i in range(len(lines)) if i < data_rows[0]] if data_rows else [0]
    i = _pick(rng, data_rows) if data_rows else 0
    sep = _sep_of(lines[i])
    op = _pick(
        rng,
        [
            "extra_field",
            "decimal_comma",
            "decimal_comma_all",
            "cell",
            "cell",
            "ragged",
            "blank",
            "nul",
            "bom",
            "crlf",
            "header",
            "header",
            "delimiter",
            "number",
            "long_line",
        ],
    )
    fields = lines[i].split(sep)
    if op == "extra_field":
        lines[i] = lines[i] + sep + _pick(rng, ["1", "0.5", "x", ""])
        detail = f"line {i + 1} extra field"
    elif op == "decimal_comma":
        lines[i] = lines[i].replace(".", ",")
        detail = f"line {i + 1} decimal commas"
    elif op == "decimal_comma_all":
        for k in data_rows:
            lines[k] = lines[k].replace(".", ",")
        detail = "decimal commas in every row"
    elif op in ("cell", "number"):
        k = int(rng.integers(len(fields)))
        pool = ["-1e9", "0", "1e300", "-1", "12345678901234567890"] if op == "number" else None
        value = _pick(rng, pool or [*_NUMERIC_GARBAGE, "1e999", "NA", "null", "#"])
        fields[k] = value
        lines[i] = sep.join(fields)
        detail = f"line {i + 1} field {k} := {value!r}"
    elif op == "ragged":
        lines[i] = sep.join(fields[: int(rng.integers(len(fields)))])
        detail = f"line {i + 1} ragged"
    elif op == "blank":
        lines.insert(i, "")
        detail = f"blank line at {i + 1}"
    elif op == "nul":
        lines[i] = lines[i] + "\x00"
        detail = f"NUL at line {i + 1}"
    elif op == "bom":
        lines[0] = "\ufeff" + lines[0]
        detail = "BOM"
    elif op == "crlf":
        lines = [ln + "\r" for ln in lines]
        detail = "CRLF line ends"
    elif op == "delimiter":
        new = _pick(rng, [d for d in (";", ",", "\t", " ", "|") if d != sep])
        lines = [ln.replace(sep, new) for ln in lines]
        detail = f"delimiter {sep!r} -> {new!r}"
    elif op == "long_line":
        lines[i] = sep.join(fields * 200)
        detail = f"line {i + 1} x200 fields"
    else:  # header
        j = _pick(rng, head_rows)
        line = lines[j]
        value = _pick(rng, [*_NUMERIC_GARBAGE, "EMG EMG", "", "a b c d e f", "time", "class"])
        if ":=" in line:
            lines[j] = line.split(":=")[0] + ":= " + value
        elif line.startswith("Channel"):
            lines[j] = re.sub(r"'[^']*'|units:\s*\S+", lambda m: f"'{value}'", line, count=1)
        elif rng.random() < 0.3:
            del lines[j]
        else:
            cols = line.split(_sep_of(line))
            k = int(rng.integers(len(cols)))
            cols[k] = value
            lines[j] = _sep_of(line).join(cols)
        detail = f"header line {j + 1} edited with {value!r}"
    return {**files, name: "\n".join(lines).encode("utf-8", "surrogateescape")}, detail


# ---------------------------------------------------------------------------- Spike2 / ABF
_BINARY_VALUES = {
    "<i2": [0, -1, 1, 32767, -32768, 2],
    "<i4": [0, -1, 1, 2**31 - 1, -(2**31), 1 << 24],
    "<f4": [0.0, -1.0, np.nan, np.inf, -np.inf, 1e38, 1e-38],
    "<f8": [0.0, -1.0, np.nan, np.inf, 1e308],
}


def _binary_field(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    name = next(iter(files))
    data = bytearray(files[name])
    dtype = _pick(rng, list(_BINARY_VALUES))
    size = np.dtype(dtype).itemsize
    span = _header_len(bytes(data), src)
    pos = int(rng.integers(0, max(span // size, 1))) * size
    value = _pick(rng, _BINARY_VALUES[dtype])
    data[pos : pos + size] = np.array([value], dtype=dtype).tobytes()
    return {**files, name: bytes(data)}, f"{dtype} at {pos} := {value!r}"


def _packed(fields: list[tuple[str, str]], base: int = 0) -> list[tuple[str, int, str]]:
    """(name, offset, dtype) of a packed little-endian struct starting at ``base``."""
    out, pos = [], base
    for name, dtype in fields:
        if not name.startswith("_"):
            out.append((name, pos, dtype))
        pos += np.dtype(dtype).itemsize
    return out


# Numeric fields of the ABF1 header, ABF2 header and ABF2 section table (offsets as documented
# by Axon's ABF File Support Pack and used by neo's AxonRawIO).
_ABF1_FIELDS = [
    ("fFileVersionNumber", 4, "<f4"),
    ("nOperationMode", 8, "<i2"),
    ("lActualAcqLength", 10, "<i4"),
    ("nNumPointsIgnored", 14, "<i2"),
    ("lActualEpisodes", 16, "<i4"),
    ("lDataSectionPtr", 40, "<i4"),
    ("lTagSectionPtr", 44, "<i4"),
    ("lNumTagEntries", 48, "<i4"),
    ("lSynchArrayPtr", 92, "<i4"),
    ("lSynchArraySize", 96, "<i4"),
    ("nDataFormat", 100, "<i2"),
    ("nADCNumChannels", 120, "<i2"),
    ("fADCSampleInterval", 122, "<f4"),
    ("fSynchTimeUnit", 130, "<f4"),
    ("lNumSamplesPerEpisode", 138, "<i4"),
    ("lEpisodesPerRun", 146, "<i4"),
    ("fADCRange", 244, "<f4"),
    ("lADCResolution", 252, "<i4"),
    ("fInstrumentScaleFactor[0]", 922, "<f4"),
    ("fSignalGain[0]", 1050, "<f4"),
]
_ABF2_SECTIONS = [
    "Protocol",
    "ADC",
    "DAC",
    "Epoch",
    "ADCPerDAC",
    "EpochPerDAC",
    "UserList",
    "StatsRegion",
    "Math",
    "Strings",
    "Data",
    "Tag",
    "Scope",
    "Delta",
    "VoiceTag",
    "SynchArray",
    "Annotation",
    "Stats",
]
_ABF2_FIELDS = [
    ("uFileInfoSize", 8, "<u4"),
    ("lActualEpisodes", 12, "<u4"),
    ("nFileType", 28, "<u2"),
    ("nDataFormat", 30, "<u2"),
    *(
        (f"{sec}Section.{field}", 76 + 16 * k + off, dtype)
        for k, sec in enumerate(_ABF2_SECTIONS)
        for field, off, dtype in (
            ("uBlockIndex", 0, "<u4"),
            ("uBytes", 4, "<u4"),
            ("llNumEntries", 8, "<i8"),
        )
    ),
]
# Spike2 (SON, 32-bit): file header, then one 140-byte header per channel at 512 + 140 * k.
_SMR_FILE = _packed(
    [
        ("system_id", "<i2"),
        ("_copyright", "S10"),
        ("_creator", "S8"),
        ("us_per_time", "<i2"),
        ("time_per_adc", "<i2"),
        ("filestate", "<i2"),
        ("first_data", "<i4"),
        ("channels", "<i2"),
        ("chan_size", "<i2"),
        ("extra_data", "<i2"),
        ("buffersize", "<i2"),
        ("os_format", "<i2"),
        ("max_ftime", "<i4"),
        ("dtime_base", "<f8"),
    ]
)
_SMR_CHANNEL = [
    ("del_size", "<i2"),
    ("next_del_block", "<i4"),
    ("firstblock", "<i4"),
    ("lastblock", "<i4"),
    ("blocks", "<i2"),
    ("n_extra", "<i2"),
    ("pre_trig", "<i2"),
    ("_free0", "<i2"),
    ("py_sz", "<i2"),
    ("max_data", "<i2"),
    ("_comment", "S72"),
    ("max_chan_time", "<i4"),
    ("l_chan_dvd", "<i4"),
    ("phy_chan", "<i2"),
    ("_title", "S10"),
    ("ideal_rate", "<f4"),
    ("kind", "u1"),
    ("_unused1", "i1"),
    ("scale", "<f4"),
    ("offset", "<f4"),
]
_STRUCT_VALUES = {
    "u1": [0, 1, 2, 5, 7, 8, 9, 10, 255],
    "<u2": [0, 1, 2, 65535],
    "<u4": [0, 1, 2**32 - 1, 2**31],
    "<i8": [0, -1, 1, 2**62, -(2**62)],
}


def _struct_field(files: Files, src: Source, rng: np.random.Generator) -> tuple[Files, str]:
    """Overwrite one named numeric field of the ABF1/ABF2/Spike2 header with an extreme value."""
    name = next(iter(files))
    data = bytearray(files[name])
    if src.fmt == "abf":
        fields = _ABF2_FIELDS if data[:4] == b"ABF2" else _ABF1_FIELDS
    else:
        n_ch = int(np.frombuffer(bytes(data[30:32]), "<i2")[0])
        k = int(rng.integers(max(n_ch, 1)))
        fields = _SMR_FILE if rng.random() < 0.3 else _packed(_SMR_CHANNEL, 512 + 140 * k)
        top = {f for f, _, _ in _SMR_FILE}
        fields = [(f if f in top else f"ch{k}.{f}", o, d) for f, o, d in fields]
    field, off, dtype = _pick(rng, fields)
    kind = np.dtype(dtype)
    pool = list(_STRUCT_VALUES.get(dtype) or _BINARY_VALUES[dtype])
    old = np.frombuffer(bytes(data[off : off + kind.itemsize]), dtype)[0].item()
    if np.isfinite(old):
        pool += [old * 2, old + 1, -old]
    value = _pick(rng, pool)
    if kind.kind in "iu":  # wrap into the field's width, as a C cast would
        bits = 8 * kind.itemsize
        wrapped = int(value) % (1 << bits)
        if kind.kind == "i" and wrapped >= 1 << (bits - 1):
            wrapped -= 1 << bits
        raw = np.array(wrapped, dtype=dtype).tobytes()
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            raw = np.array(value, dtype=np.float64).astype(dtype).tobytes()
    data[off : off + kind.itemsize] = raw
    return {**files, name: bytes(data)}, f"{field} ({dtype} at {off}) := {value!r}"


_GENERIC: dict[str, Mutation] = {"truncate": _truncate, "bitflip": _bitflip, "garbage": _garbage}
#: Mutation name -> function, per format (generic ones included).
MUTATIONS: dict[str, dict[str, Mutation]] = {
    "edf": {"edf_field": _edf_field, "edf_tal": _edf_tal, **_GENERIC},
    "bdf": {"edf_field": _edf_field, **_GENERIC},
    "brainvision": {"vhdr_key": _vhdr_key, "vmrk_line": _vmrk_line, **_GENERIC},
    "wfdb": {"hea_field": _hea_field, **_GENERIC},
    "abf": {"struct_field": _struct_field, "binary_field": _binary_field, **_GENERIC},
    "smr": {"struct_field": _struct_field, "binary_field": _binary_field, **_GENERIC},
    "text": {"text_edit": _text_edit, **_GENERIC},
}
#: How often each mutation is drawn relative to the others of its format.
_WEIGHT = {
    "edf_field": 4,
    "vhdr_key": 3,
    "vmrk_line": 2,
    "hea_field": 4,
    "text_edit": 4,
    "binary_field": 2,
    "struct_field": 3,
    "edf_tal": 1,
}


# ------------------------------------------------------------------------------------ cases
@dataclasses.dataclass(frozen=True)
class Case:
    """One reproducible fuzz case."""

    source: str
    mutation: str
    seed: int

    def __str__(self) -> str:
        return f"{self.source}:{self.mutation}:{self.seed}"

    @classmethod
    def parse(cls, text: str) -> Case:
        """Inverse of ``str(case)``: ``"<source>:<mutation>:<seed>"``."""
        source, mutation, seed = text.rsplit(":", 2)
        return cls(source, mutation, int(seed))

    @property
    def fmt(self) -> str:
        return _BY_KEY[self.source].fmt


def _schedule(src: Source) -> list[str]:
    names = []
    for name in MUTATIONS[src.fmt]:
        if name == "edf_tal" and src.key != "mne-edf-bdf/test.edf":
            continue  # the only EDF+ file with annotations
        names.extend([name] * _WEIGHT.get(name, 1))
    return names


def make_cases(
    per_source: int, *, seed: int = 0, sources: Iterable[str] | None = None
) -> list[Case]:
    """``per_source`` cases for each source, mutations in weighted round robin, seeds from ``seed``.

    Deterministic: the same arguments give the same cases.
    """
    keys = list(sources) if sources is not None else [s.key for s in SOURCES]
    cases = []
    for key in keys:
        plan = _schedule(_BY_KEY[key])
        cases.extend(Case(key, plan[k % len(plan)], seed + k) for k in range(per_source))
    return cases


_CACHE: dict[tuple[str, str], Files] = {}


def _originals(src: Source, data_dir: Path) -> Files:
    cache_key = (str(data_dir), src.key)
    if cache_key not in _CACHE:
        folder = (data_dir / src.key).parent
        _CACHE[cache_key] = {name: (folder / name).read_bytes() for name in src.files}
    return _CACHE[cache_key]


def mutate(case: Case, data_dir: Path) -> tuple[Files, str]:
    """The mutated files of ``case`` (name -> bytes) and a description of the edit."""
    src = _BY_KEY[case.source]
    rng = np.random.default_rng(zlib.crc32(str(case).encode()))
    files = dict(_originals(src, data_dir))
    if case.mutation == "none":
        return files, "unmutated"
    return MUTATIONS[src.fmt][case.mutation](files, src, rng)


# ------------------------------------------------------------------------------------ running
@dataclasses.dataclass
class Result:
    """Outcome of one case: ``status`` is ``loaded``, ``refused`` or ``leak``."""

    case: Case
    status: str
    kind: str = ""  # exception type (refused, leak) or the failed check
    message: str = ""
    detail: str = ""  # the mutation's description
    where: str = ""  # last traceback frame of a leak

    def report(self) -> str:
        return (
            f"{self.status} {self.kind} for case {self.case} ({self.detail}): "
            f"{self.message[:300]} {self.where}"
        )


def check_recording(rec: Any) -> str | None:
    """Why a loaded Recording breaks the library's promises, or None."""
    if not (np.isfinite(rec.sfreq) and rec.sfreq > 0):
        return f"sfreq {rec.sfreq!r}"
    if rec.n_samples < 1:
        return "no samples"
    if not np.isfinite(np.asarray(rec.data)).all():
        return "non-finite samples"
    if not np.isfinite(rec.times).all():
        return "non-finite times"
    onsets = np.asarray(rec.events["onset_s"], dtype=float)
    if not np.isfinite(onsets).all():
        return "non-finite event onsets"
    return None


def run_case(case: Case, data_dir: Path, work_dir: Path) -> Result:
    """Write the mutated files of ``case`` to ``work_dir`` and read them (see the module notes)."""
    from hfs_emg import HfsEmgError
    from hfs_emg.io import open_recording, read_recording

    src = _BY_KEY[case.source]
    files, detail = mutate(case, data_dir)
    folder = work_dir / "case"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    path = folder / src.files[0]
    options = dict(src.options)
    result = Result(case, "loaded", detail=detail)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = read_recording(path, **options)
            problem = check_recording(rec)
            if problem is None:
                units = options.pop("units", None)
                with open_recording(path, **options) as reader:
                    rng = np.random.default_rng(case.seed)
                    t0 = reader.tstart + rng.random() * reader.duration_s
                    window = reader.read(tmin=t0, tmax=t0 + 0.5, units=units)
                problem = check_recording(window)
        if problem is not None:
            result.status, result.kind, result.message = "leak", "InvalidResult", problem
    except HfsEmgError as err:
        result.status, result.kind, result.message = "refused", type(err).__name__, str(err)
    except Exception as err:
        frames = traceback.extract_tb(err.__traceback__)
        last = frames[-1] if frames else None
        result.status, result.kind, result.message = "leak", type(err).__name__, str(err)
        result.where = f"{last.filename}:{last.lineno} in {last.name}" if last else ""
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _worker(conn: Any, data_dir: str, work_dir: str, mem_extra: int | None) -> None:
    # Import every reader's library first, so the memory limit is counted from a full process.
    import mne  # noqa: F401
    import neo.rawio  # noqa: F401
    import wfdb  # noqa: F401

    from hfs_emg.io import edf, mne_io, neo_io, numpy_io, text, wfdb_io  # noqa: F401

    vm = _vm_size()
    if mem_extra and vm:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (vm + mem_extra, vm + mem_extra))
    conn.send("ready")
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        try:
            res = run_case(msg, Path(data_dir), Path(work_dir))
        except MemoryError as err:  # outside the reader, e.g. the check itself
            res = Result(msg, "leak", "MemoryError", str(err))
        except Exception as err:  # a bug of this engine (mutate), not of the readers
            res = Result(msg, "leak", "EngineError", f"{type(err).__name__}: {err}")
        conn.send(res)


def _vm_size() -> int:
    try:
        text = Path("/proc/self/status").read_text()
        return int(re.search(r"VmSize:\s+(\d+) kB", text).group(1)) * 1024  # type: ignore[union-attr]
    except (OSError, AttributeError):
        return 0


_STARTUP_S = 300.0  # importing mne, neo and wfdb in a fresh interpreter on a loaded machine


class Runner:
    """Run cases in a child process with a per-case timeout and an address-space limit.

    A case that does not answer within ``timeout`` seconds, or whose process dies, is a leak
    (``Timeout`` / ``WorkerDied``); the worker is then restarted. The worker may allocate
    ``mem_extra_bytes`` of address space beyond what it holds after importing the readers, so
    a header that declares an absurd size gives a ``MemoryError`` (a leak) instead of exhausting
    the machine. Use as a context manager: the
    child is always stopped on exit.
    """

    def __init__(
        self, data_dir: Path, *, timeout: float = 20.0, mem_extra_bytes: int = 3 << 30
    ) -> None:
        self.data_dir = Path(data_dir)
        self.timeout = timeout
        self._tmp = Path(tempfile.mkdtemp(prefix="hfs_fuzz3p_"))
        self._mem = mem_extra_bytes
        # A fresh interpreter, not a fork: forking a test process that runs threads can deadlock.
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(
            target=_worker,
            args=(child, str(self.data_dir), str(self._tmp / "w"), self._mem),
            daemon=True,
        )
        self._proc.start()
        child.close()
        self._conn = parent
        if not parent.poll(_STARTUP_S) or parent.recv() != "ready":
            self._stop()
            raise RuntimeError(f"the fuzzing worker did not start within {_STARTUP_S} s")

    def _stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(None)
            self._proc.join(2)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(2)
            self._conn.close()
        self._proc = self._conn = None

    def run(self, case: Case) -> Result:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self._conn.send(case)
        try:
            ready = self._conn.poll(self.timeout)
            res = self._conn.recv() if ready else None
        except (EOFError, OSError):
            self._proc.join(2)
            res = Result(case, "leak", "WorkerDied", f"exit code {self._proc.exitcode}")
            self._stop()
        if res is None:
            self._proc.kill()
            self._stop()
            res = Result(case, "leak", "Timeout", f"no answer within {self.timeout:g} s")
        if res.status == "leak" and not res.detail:
            res.detail = mutate(case, self.data_dir)[1]
        return res

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def summarize(results: Iterable[Result]) -> dict[str, dict[str, int]]:
    """Per format: cases, loaded, refused (cleanly) and leaked counts."""
    table: dict[str, dict[str, int]] = {}
    for res in results:
        row = table.setdefault(res.case.fmt, {"cases": 0, "loaded": 0, "refused": 0, "leak": 0})
        row["cases"] += 1
        row[res.status] += 1
    return table
