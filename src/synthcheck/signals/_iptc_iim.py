"""IPTC-IIM (the legacy binary IPTC block): decode the record-2 datasets of the blocks intake
found.

Intake walks the container once (:func:`synthcheck.intake.containers.jpeg_iptc_blocks`: a JPEG's
``Photoshop 3.0`` APP13 segments and their ``8BIM`` resource 0x0404) and hands the blocks over in
``ContainerMetadata.iptc_iim``; this module only interprets them. A bounded, pure-Python reader:
damaged datasets end the read quietly; nothing here raises.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

__all__ = ["IIM_FIELDS", "read_iim"]

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


def read_iim(blocks: Iterable[bytes]) -> dict[str, list[str]]:
    """Record-2 IIM values named in :data:`IIM_FIELDS` from ``blocks`` (in order); empty when
    they carry none."""
    out: dict[str, list[str]] = {}
    for block in blocks:
        if block:
            _parse_iim(block, out)
    return out


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
