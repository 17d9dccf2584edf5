"""IPTC-IIM (the legacy binary IPTC block) from a JPEG's Photoshop APP13 segment.

A bounded, pure-Python reader: walk the JPEG markers up to the image data, find the
``Photoshop 3.0`` APP13 segment, its ``8BIM`` resource 0x0404, and decode the record-2 datasets.
Damaged structures end the walk quietly; nothing here raises.
"""

from __future__ import annotations

import struct

__all__ = ["IIM_FIELDS", "read_jpeg_iim"]

#: Record-2 dataset numbers of interest, by name.
IIM_FIELDS = {
    25: "Keywords",
    65: "OriginatingProgram",
    80: "By-line",
    110: "Credit",
    115: "Source",
    116: "CopyrightNotice",
    120: "Caption-Abstract",
}
_MAX_SEGMENTS = 256


def read_jpeg_iim(data: bytes) -> dict[str, list[str]]:
    """Record-2 IIM values named in :data:`IIM_FIELDS`; empty when the file carries none."""
    out: dict[str, list[str]] = {}
    if not data.startswith(b"\xff\xd8"):
        return out
    for payload in _app13_segments(data):
        if payload.startswith(b"Photoshop 3.0\x00"):
            block = _resource_0404(payload[14:])
            if block:
                _parse_iim(block, out)
    return out


def _app13_segments(data: bytes) -> list[bytes]:
    found: list[bytes] = []
    pos, n = 2, len(data)
    for _ in range(_MAX_SEGMENTS):
        if pos + 4 > n or data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata beyond
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            break
        if marker == 0xED:
            found.append(data[pos + 4 : pos + 2 + length])
        pos += 2 + length
    return found


def _resource_0404(block: bytes) -> bytes | None:
    pos, n = 0, len(block)
    while pos + 12 <= n and block[pos : pos + 4] == b"8BIM":
        (rid,) = struct.unpack(">H", block[pos + 4 : pos + 6])
        name_len = block[pos + 6]
        pos += 7 + name_len + ((name_len + 1) % 2)  # Pascal string padded to even length
        if pos + 4 > n:
            return None
        (size,) = struct.unpack(">I", block[pos : pos + 4])
        pos += 4
        if rid == 0x0404:
            return block[pos : pos + size]
        pos += size + (size % 2)
    return None


def _parse_iim(block: bytes, out: dict[str, list[str]]) -> None:
    pos, n = 0, len(block)
    while pos + 5 <= n and block[pos] == 0x1C:
        record, dataset = block[pos + 1], block[pos + 2]
        (size,) = struct.unpack(">H", block[pos + 3 : pos + 5])
        pos += 5
        if size & 0x8000:  # extended length: not used by the text fields read here
            break
        value = block[pos : pos + size]
        pos += size
        name = IIM_FIELDS.get(dataset) if record == 2 else None
        if name:
            text = value.decode("utf-8", "replace").replace("\x00", "").strip()
            if text:
                out.setdefault(name, []).append(text)
