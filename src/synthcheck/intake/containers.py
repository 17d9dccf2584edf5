"""Cheap, bounded walks over container structures, independent of any pixel decoder.

They answer three questions from the bytes alone: does the file end before its own structure says
it should (truncation), does it carry a C2PA / JUMBF manifest store, and what raw segments, chunks
or boxes it holds. Every walker stops at the end of the data and at a fixed item count, so hostile
files cannot make them loop or allocate.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "C2PA_UUID",
    "Box",
    "count_gif_frames",
    "drop_damaged_png_chunks",
    "find_truncation",
    "has_c2pa",
    "iter_bmff_boxes",
    "iter_jpeg_segments",
    "iter_png_chunks",
    "iter_riff_chunks",
    "jpeg_iptc_blocks",
    "png_chunk_crc_ok",
    "png_missing_rows",
    "tiff_ifd0_tags",
    "tiff_value",
]

#: The ISO-BMFF ``uuid`` box user type that C2PA uses in HEIF, AVIF and MP4.
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
#: The JUMBF description-box type for a C2PA manifest store ("c2pa" + ISO suffix).
_JUMBF_C2PA_TYPE = bytes.fromhex("6332706100110010800000aa00389b71")

_MAX_ITEMS = 100_000  # no legitimate file has more segments / chunks / boxes than this
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_IPTC_SEGMENTS = 256  # APP13 segments are looked for among a JPEG's first marker segments


@dataclass(frozen=True)
class Box:
    """One container item: its type, where its payload starts and ends, and whether it is cut."""

    kind: bytes
    start: int
    end: int
    truncated: bool = False


def iter_jpeg_segments(data: bytes) -> Iterator[Box]:
    """Marker segments of a JPEG up to the start of scan (``SOS``), then ``EOI`` if present.

    ``kind`` is the two marker bytes. Entropy-coded data after SOS is not walked (only whether the
    file ends with ``EOI``, which is reported as a final ``b"\\xff\\xd9"`` item).
    """
    pos, n = 2, len(data)
    for _ in range(_MAX_ITEMS):
        while pos < n and data[pos] == 0xFF and pos + 1 < n and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > n or data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xD9 or (0xD0 <= marker <= 0xD7) or marker == 0x01:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        yield Box(data[pos : pos + 2], pos + 4, min(end, n), truncated=end > n)
        if marker == 0xDA:  # start of scan: entropy-coded data follows, where 0xFF is stuffed,
            eoi = data.find(b"\xff\xd9", min(end, n))  # so the next FFD9 is the end of image
            if eoi >= 0:
                yield Box(b"\xff\xd9", eoi + 2, eoi + 2)
            return
        pos = end


def iter_png_chunks(data: bytes) -> Iterator[Box]:
    """Chunks of a PNG (``kind`` is the 4-byte chunk type; CRCs are not checked)."""
    pos, n = len(_PNG_SIGNATURE), len(data)
    for _ in range(_MAX_ITEMS):
        if pos + 8 > n:
            return
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        end = pos + 8 + length
        yield Box(kind, pos + 8, min(end, n), truncated=end + 4 > n)
        if kind == b"IEND" or end + 4 > n:
            return
        pos = end + 4


def png_chunk_crc_ok(data: bytes, chunk: Box) -> bool:
    """True when the CRC stored after ``chunk`` matches its type and payload."""
    stored = data[chunk.end : chunk.end + 4]
    if chunk.truncated or len(stored) != 4:
        return False
    crc = zlib.crc32(data[chunk.start - 4 : chunk.end]) & 0xFFFFFFFF
    return int.from_bytes(stored, "big") == crc


def drop_damaged_png_chunks(data: bytes) -> tuple[bytes, list[str]]:
    """``data`` without ancillary chunks whose CRC is wrong, and the types that were dropped.

    Ancillary chunks (lower-case first letter: text, EXIF, colour profile, C2PA ...) are not
    needed to draw the image, so a damaged one should cost its metadata, not the picture.
    """
    out, dropped = [data[: len(_PNG_SIGNATURE)]], []
    for chunk in iter_png_chunks(data):
        raw = data[chunk.start - 8 : chunk.end + 4]
        if chunk.kind[:1].islower() and not png_chunk_crc_ok(data, chunk):
            dropped.append(chunk.kind.decode("latin-1"))
            continue
        out.append(raw)
    return b"".join(out), dropped


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: (first column, first row, column step, row step).
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_INFLATE_STEP = 1 << 20


def _png_raw_size(width: int, height: int, bits: int, color: int, interlaced: bool) -> int:
    """Bytes of filtered scanlines (a filter byte per row) that the IDAT stream must inflate to."""
    bits_per_pixel = bits * _PNG_CHANNELS.get(color, 4)
    if not interlaced:
        return height * (1 + (width * bits_per_pixel + 7) // 8)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        w = max(0, (width - x0 + dx - 1) // dx)
        h = max(0, (height - y0 + dy - 1) // dy)
        if w and h:
            total += h * (1 + (w * bits_per_pixel + 7) // 8)
    return total


def png_missing_rows(data: bytes) -> str | None:
    """A plain-words reason when the PNG's image data ends before its last row, else None.

    Pillow fills rows that a complete but short zlib stream never wrote with zeros and reports
    success, so an 80-byte file could "decode" to 199 megapixels of black. The IDAT stream is
    inflated here, counting bytes without keeping them, and compared with what the header needs.
    """
    chunks = list(iter_png_chunks(data))
    if not chunks or chunks[0].kind != b"IHDR" or chunks[0].end - chunks[0].start < 13:
        return None
    ihdr = data[chunks[0].start : chunks[0].start + 13]
    width, height, bits, color, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    expected = _png_raw_size(width, height, bits, color, interlace == 1)
    inflater = zlib.decompressobj()
    produced = 0
    try:
        for chunk in chunks:
            if chunk.kind != b"IDAT":
                continue
            pending = data[chunk.start : chunk.end]
            while pending and produced <= expected:
                produced += len(inflater.decompress(pending, _INFLATE_STEP))
                pending = inflater.unconsumed_tail
            if produced > expected:
                break
    except zlib.error:
        return None  # damaged data is the decoder's to report
    if produced >= expected:
        return None
    row_bytes = max(1, expected // max(height, 1))
    rows = min(height, produced // row_bytes) if interlace != 1 else None
    held = f"{rows:,} of {height:,} rows" if rows is not None else "part of the interlaced passes"
    return f"the PNG image data holds only {held}; the rest was never written"


def iter_riff_chunks(data: bytes) -> Iterator[Box]:
    """Top-level chunks inside a RIFF (WebP) file."""
    pos, n = 12, len(data)
    for _ in range(_MAX_ITEMS):
        if pos + 8 > n:
            return
        kind = data[pos : pos + 4]
        length = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        end = pos + 8 + length
        yield Box(kind, pos + 8, min(end, n), truncated=end > n)
        pos = end + (length & 1)


def iter_bmff_boxes(data: bytes, start: int = 0, stop: int | None = None) -> Iterator[Box]:
    """ISO base media file format boxes between ``start`` and ``stop`` (top level by default)."""
    n = len(data) if stop is None else min(stop, len(data))
    pos = start
    for _ in range(_MAX_ITEMS):
        if pos + 8 > n:
            return
        size = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > n:
                yield Box(kind, pos + 8, n, truncated=True)
                return
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = n - pos  # box extends to the end of the file
        if size < header:
            return  # corrupt size; stop rather than loop
        end = pos + size
        yield Box(kind, pos + header, min(end, n), truncated=end > n)
        pos = end


def tiff_ifd0_tags(data: bytes) -> dict[int, tuple[int, int, bytes]]:
    """The first IFD of a classic TIFF: tag -> (type, count, the raw 4-byte value/offset field).

    Empty for BigTIFF or a damaged header. Values are not resolved; callers that need one use
    :func:`tiff_value`.
    """
    if len(data) < 8 or data[:2] not in (b"II", b"MM") or data[2:4] not in (b"*\x00", b"\x00*"):
        return {}
    e = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(e + "I", data[4:8])[0]
    if offset + 2 > len(data):
        return {}
    count = min(struct.unpack(e + "H", data[offset : offset + 2])[0], 4096)
    tags: dict[int, tuple[int, int, bytes]] = {}
    for i in range(count):
        at = offset + 2 + 12 * i
        if at + 12 > len(data):
            break
        tag, typ, n = struct.unpack(e + "HHI", data[at : at + 8])
        tags[tag] = (typ, n, data[at + 8 : at + 12])
    return tags


def tiff_value(data: bytes, entry: tuple[int, int, bytes], *, limit: int = 65536) -> bytes:
    """The raw bytes of a TIFF tag's value (inline or at its offset), at most ``limit`` bytes."""
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
    typ, n, field = entry
    length = min(sizes.get(typ, 1) * n, limit)
    if length <= 4:
        return field[:length]
    e = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(e + "I", field)[0]
    return data[offset : offset + length]


def count_gif_frames(data: bytes) -> int:
    """Image descriptors in a GIF, found by walking its blocks (nothing is decoded).

    Pillow's ``n_frames`` seeks through, and may decode, every frame; a long animation would cost
    seconds for a number only used in a note.
    """
    n = len(data)
    if n < 13:
        return 0
    flags = data[10]
    pos = 13 + (3 * (2 ** ((flags & 7) + 1)) if flags & 0x80 else 0)
    frames = 0
    for _ in range(_MAX_ITEMS):
        if pos >= n or data[pos] == 0x3B:
            break
        if data[pos] == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_gif_sub_blocks(data, pos + 2)
        elif data[pos] == 0x2C:  # image descriptor, optional local colour table, LZW data
            if pos + 10 > n:
                break
            local = data[pos + 9]
            pos += 10 + (3 * (2 ** ((local & 7) + 1)) if local & 0x80 else 0)
            pos = _skip_gif_sub_blocks(data, pos + 1)
            frames += 1
        else:
            break
    return frames


def _skip_gif_sub_blocks(data: bytes, pos: int) -> int:
    n = len(data)
    while pos < n:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos


def find_truncation(fmt: str, data: bytes) -> str | None:
    """A plain-words reason when the container says it is longer than ``data``, else None."""
    try:
        return _find_truncation(fmt, data)
    except (struct.error, IndexError):  # a header too short to hold its own fields
        return f"the {fmt} header is cut off"


def _find_truncation(fmt: str, data: bytes) -> str | None:
    if fmt == "PNG":
        last = None
        for chunk in iter_png_chunks(data):
            if chunk.truncated:
                return f"the {chunk.kind.decode('latin-1')} chunk is cut off"
            last = chunk
        if last is None or last.kind != b"IEND":
            return "the PNG has no IEND chunk, so the file ends early"
        return None
    if fmt == "WEBP":
        declared = struct.unpack("<I", data[4:8])[0] + 8 if len(data) >= 8 else 0
        if declared > len(data):
            return f"the RIFF header declares {declared} bytes but the file has {len(data)}"
        return None
    if fmt in ("HEIF", "AVIF"):
        for box in iter_bmff_boxes(data):
            if box.truncated:
                return f"the {box.kind.decode('latin-1', 'replace')!r} box is cut off"
        return None
    if fmt == "JPEG":
        segments = list(iter_jpeg_segments(data))
        if any(s.truncated for s in segments):
            return "a JPEG marker segment is cut off"
        if not segments or segments[-1].kind != b"\xff\xd9":
            return "the JPEG has no end-of-image marker, so the file ends early"
        return None
    if fmt in ("TIFF", "DNG", "RAW") and data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_truncation(data)
    if fmt == "BMP" and len(data) >= 14:
        declared = struct.unpack("<I", data[2:6])[0]
        # Some writers put 0 or garbage here; only trust a plausible value.
        if len(data) < declared <= 64 * len(data):
            return f"the BMP header declares {declared} bytes but the file has {len(data)}"
    if fmt == "GIF" and not data.rstrip(b"\x00").endswith(b";"):
        return "the GIF has no trailer, so the file ends early"
    return None


def _tiff_truncation(data: bytes) -> str | None:
    if len(data) < 8:
        return "the TIFF header is cut off"
    e = "<" if data[:2] == b"II" else ">"
    ifd0 = struct.unpack(e + "I", data[4:8])[0]
    if ifd0 + 2 > len(data):
        return "the TIFF directory lies past the end of the file"
    count = struct.unpack(e + "H", data[ifd0 : ifd0 + 2])[0]
    if ifd0 + 2 + 12 * count > len(data):
        return "the TIFF directory is cut off"
    tags = tiff_ifd0_tags(data)
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):
        if offsets_tag in tags and counts_tag in tags:
            offsets = _tiff_ints(data, tags[offsets_tag], e)
            counts = _tiff_ints(data, tags[counts_tag], e)
            if any(o + c > len(data) for o, c in zip(offsets, counts, strict=False)):
                return "the image data ends early"
    return None


def _tiff_ints(data: bytes, entry: tuple[int, int, bytes], e: str) -> list[int]:
    typ, n = entry[0], min(entry[1], 16384)
    code = {3: "H", 4: "I", 16: "Q"}.get(typ)
    if code is None:
        return []
    raw = tiff_value(data, (typ, n, entry[2]), limit=n * struct.calcsize(code))
    usable = len(raw) // struct.calcsize(code)
    return list(struct.unpack(f"{e}{usable}{code}", raw[: usable * struct.calcsize(code)]))


def has_c2pa(fmt: str, data: bytes, jpeg_segments: Sequence[Box] | None = None) -> bool:
    """True when the container carries a C2PA manifest store (a JUMBF box labelled ``c2pa``).

    Only the container is inspected (JPEG APP11, PNG ``caBX``, ISO-BMFF ``uuid``, WebP ``C2PA``,
    TIFF tag 52545); whether the manifest is valid is the C2PA signal's business. A JPEG's
    ``jpeg_segments`` (from :func:`iter_jpeg_segments`) save walking its markers again.
    """
    try:
        if fmt == "JPEG":
            segments = iter_jpeg_segments(data) if jpeg_segments is None else jpeg_segments
            for seg in segments:
                if seg.kind == b"\xff\xeb" and _is_c2pa_jumbf(data[seg.start : seg.end]):
                    return True
            return False
        if fmt == "PNG":
            return any(c.kind == b"caBX" for c in iter_png_chunks(data))
        if fmt == "WEBP":
            return any(c.kind == b"C2PA" for c in iter_riff_chunks(data))
        if fmt in ("HEIF", "AVIF", "RAW"):
            return any(
                b.kind == b"uuid" and data[b.start : b.start + 16] == C2PA_UUID
                for b in iter_bmff_boxes(data)
            )
        if fmt in ("TIFF", "DNG"):
            return 52545 in tiff_ifd0_tags(data)
        if fmt == "GIF":
            return b"C2PA_GIF" in data
    except (struct.error, IndexError):
        return False
    return False


def jpeg_iptc_blocks(data: bytes, segments: Iterable[Box]) -> tuple[bytes, ...]:
    """The IPTC-IIM blocks of a JPEG, in file order: the Photoshop image resource 0x0404 of each
    ``Photoshop 3.0`` APP13 segment among ``segments`` (from :func:`iter_jpeg_segments`).

    Only the framing is walked (markers, then ``8BIM`` resources); the record-2 datasets inside
    are the xmp-iptc signal's to read. As before this moved here from the signal, at most the
    first 256 marker segments are looked at and a segment length under 2 ends the walk; damaged
    structures give fewer blocks, never an error.
    """
    found: list[bytes] = []
    for seg in itertools.islice(segments, _MAX_IPTC_SEGMENTS):
        if seg.kind in (b"\xff\xd9", b"\xff\xda") or seg.end < seg.start:
            break  # end of image, start of scan (no metadata beyond) or a length under 2
        if seg.kind == b"\xff\xed":
            payload = data[seg.start : seg.end]
            if payload.startswith(b"Photoshop 3.0\x00"):
                block = _photoshop_resource(payload[14:], 0x0404)
                if block:
                    found.append(block)
    return tuple(found)


def _photoshop_resource(block: bytes, wanted: int) -> bytes | None:
    """The data of resource ``wanted`` in a run of Photoshop ``8BIM`` image resources."""
    pos, n = 0, len(block)
    while pos + 12 <= n and block[pos : pos + 4] == b"8BIM":
        (rid,) = struct.unpack(">H", block[pos + 4 : pos + 6])
        name_len = block[pos + 6]
        pos += 7 + name_len + ((name_len + 1) % 2)  # Pascal string padded to even length
        if pos + 4 > n:
            return None
        (size,) = struct.unpack(">I", block[pos : pos + 4])
        pos += 4
        if rid == wanted:
            return block[pos : pos + size]
        pos += size + (size % 2)
    return None


def _is_c2pa_jumbf(payload: bytes) -> bool:
    # APP11 JPEG-XT framing: "JP", a 2-byte instance, a 4-byte sequence number, then JUMBF.
    if not payload.startswith(b"JP"):
        return False
    box = payload[8:]
    return box[4:8] == b"jumb" and (_JUMBF_C2PA_TYPE in box[:64] or b"c2pa" in box[:64])
