"""A minimal XDF writer for tests, written from the XDF 1.0 specification
(https://github.com/sccn/xdf/wiki/Specifications): magic ``XDF:``, then chunks of
[length-bytes count][length][tag uint16][content]. hfs_emg itself only reads XDF."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_FORMATS = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4"}


def _varlen(n: int) -> bytes:
    if n < 256:
        return struct.pack("<BB", 1, n)
    if n < 2**32:
        return struct.pack("<BI", 4, n)
    return struct.pack("<BQ", 8, n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def _header_xml(
    name: str, stype: str, n_ch: int, srate: float, fmt: str, labels: Sequence[str], unit: str
) -> bytes:
    chans = "".join(
        f"<channel><label>{lab}</label><unit>{unit}</unit><type>{stype}</type></channel>"
        for lab in labels
    )
    return (
        f'<?xml version="1.0"?><info><name>{name}</name><type>{stype}</type>'
        f"<channel_count>{n_ch}</channel_count><nominal_srate>{srate}</nominal_srate>"
        f"<channel_format>{fmt}</channel_format><created_at>0</created_at>"
        f"<desc><channels>{chans}</channels></desc></info>"
    ).encode()


def write_xdf(
    path: Path,
    data: np.ndarray,
    stamps: np.ndarray,
    *,
    sfreq: float,
    labels: Sequence[str],
    unit: str = "microvolts",
    markers: Sequence[tuple[float, str]] = (),
    name: str = "EMG",
) -> Path:
    """Write ``data`` (n_samples, n_channels) with per-sample ``stamps`` and a marker stream."""
    out = bytearray(b"XDF:")
    out += _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')
    n_ch = data.shape[1]
    out += _chunk(
        2,
        struct.pack("<I", 1) + _header_xml(name, "EMG", n_ch, sfreq, "float32", labels, unit),
    )
    out += _chunk(
        2, struct.pack("<I", 2) + _header_xml("Markers", "Markers", 1, 0, "string", ["m"], "")
    )
    for start in range(0, data.shape[0], 1000):
        block = data[start : start + 1000].astype(_FORMATS["float32"])
        ts = stamps[start : start + 1000]
        rows = np.zeros(
            block.shape[0], dtype=[("n", "u1"), ("t", "<f8"), ("v", "<f4", (n_ch,))]
        )  # packed: [1 byte stamp size][8 byte stamp][values], as the spec lays out a sample
        rows["n"], rows["t"], rows["v"] = 8, ts, block
        out += _chunk(3, struct.pack("<I", 1) + _varlen(block.shape[0]) + rows.tobytes())
    for t, label in markers:
        raw = label.encode()
        body = struct.pack("<I", 2) + _varlen(1) + struct.pack("<Bd", 8, t) + _varlen(len(raw))
        out += _chunk(3, body + raw)
    for sid in (1, 2):
        out += _chunk(4, struct.pack("<Idd", sid, float(stamps[-1]), 0.0))
    path.write_bytes(bytes(out))
    return path
