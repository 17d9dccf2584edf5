"""PNG text chunks (tEXt, zTXt, iTXt), read with our own limits rather than Pillow's.

Pillow refuses a whole PNG when one compressed text chunk inflates past 1 MiB
(``PngImagePlugin.MAX_TEXT_CHUNK``), but ComfyUI workflows and A1111 parameters can be larger.
Here each chunk may inflate to :data:`MAX_CHUNK_TEXT` and all of them together to
:data:`MAX_TOTAL_TEXT`; anything past those limits is skipped and reported, never decoded
unbounded (a zTXt "zip bomb" costs at most the limit).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from synthcheck.intake.containers import iter_png_chunks, png_chunk_crc_ok

__all__ = ["MAX_CHUNK_TEXT", "MAX_TOTAL_TEXT", "TEXT_CHUNKS", "PngText", "read_png_text"]

#: Largest decompressed size of one text chunk that is kept (16 MiB).
MAX_CHUNK_TEXT = 16 * 1024 * 1024
#: Largest decompressed size of all text chunks of one file together (64 MiB).
MAX_TOTAL_TEXT = 64 * 1024 * 1024
TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})


@dataclass
class PngText:
    """Text found in a PNG: ``text`` by keyword; ``skipped`` explains what was left out."""

    text: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    largest: int = 0  # decompressed size of the largest kept chunk, in bytes
    total: int = 0  # decompressed size of all kept chunks, in bytes


def _inflate(payload: bytes, limit: int) -> bytes | None:
    """Inflate ``payload``; None when damaged or larger than ``limit``."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(payload, limit)
    except zlib.error:
        return None
    if d.unconsumed_tail:
        return None
    return out


def read_png_text(data: bytes) -> PngText:
    """Every tEXt / zTXt / iTXt chunk of ``data`` (a PNG), bounded by the module limits."""
    result = PngText()
    total = 0
    for chunk in iter_png_chunks(data):
        if chunk.kind not in TEXT_CHUNKS or chunk.truncated:
            continue
        payload = data[chunk.start : chunk.end]
        keyword_raw, sep, rest = payload.partition(b"\x00")
        keyword = keyword_raw[:79].decode("latin-1")
        kind = chunk.kind.decode("ascii")
        if not png_chunk_crc_ok(data, chunk):
            result.skipped.append(f"{kind} {keyword!r}: damaged (bad checksum)")
            continue
        if not sep or not keyword:
            result.skipped.append(f"a {kind} chunk without a keyword")
            continue
        budget = min(MAX_CHUNK_TEXT, MAX_TOTAL_TEXT - total)
        value = _decode_chunk(chunk.kind, rest, budget)
        if value is None:
            result.skipped.append(
                f"{kind} {keyword!r}: damaged, or over {budget // (1024 * 1024)} MiB decompressed"
            )
            continue
        total += len(value)
        result.total = total
        result.largest = max(result.largest, len(value))
        result.text[keyword] = value
    return result


def _decode_chunk(kind: bytes, rest: bytes, budget: int) -> str | None:
    if kind == b"tEXt":
        return rest[:budget].decode("latin-1") if len(rest) <= budget else None
    if kind == b"zTXt":
        if not rest or rest[0] != 0:
            return None
        raw = _inflate(rest[1:], budget)
        return None if raw is None else raw.decode("latin-1")
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text (UTF-8)
    if len(rest) < 2:
        return None
    flag, method = rest[0], rest[1]
    parts = rest[2:].split(b"\x00", 2)
    if len(parts) != 3:
        return None
    body = parts[2]
    if flag == 1:
        if method != 0:
            return None
        inflated = _inflate(body, budget)
        if inflated is None:
            return None
        body = inflated
    elif len(body) > budget:
        return None
    return body.decode("utf-8", "replace")
