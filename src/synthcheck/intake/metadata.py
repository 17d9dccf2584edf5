"""Collect container metadata (EXIF, XMP, text, ICC, C2PA presence) without interpreting it."""

from __future__ import annotations

from PIL import Image

from synthcheck.intake.containers import (
    has_c2pa,
    iter_jpeg_segments,
    jpeg_iptc_blocks,
    tiff_ifd0_tags,
    tiff_value,
)
from synthcheck.intake.image import ContainerMetadata
from synthcheck.intake.jpeg_quality import quality_from_tables
from synthcheck.intake.png_text import PngText, read_png_text

__all__ = ["exif_from_tiff", "pillow_metadata", "tiff_container_metadata"]

_XMP_TAG, _EXIF_IFD, _GPS_IFD = 700, 0x8769, 0x8825
_MAX_XMP = 4 * 1024 * 1024


def _strip_exif_header(raw: bytes) -> bytes:
    return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw


def _as_text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def pillow_metadata(
    im: Image.Image, data: bytes, fmt: str, notes: list[str], png_text: PngText | None = None
) -> ContainerMetadata:
    """Metadata of a Pillow-opened image (call after ``load()``, when trailing chunks are read).

    PNG text comes from ``png_text`` (or is read from ``data``), never from Pillow, whose limits
    are lower than intake's.
    """
    info = im.info
    if fmt == "JPEG":
        # One walk of the markers serves the C2PA check and the IPTC blocks.
        segments = list(iter_jpeg_segments(data))
        meta = ContainerMetadata(
            c2pa=has_c2pa(fmt, data, segments),
            iptc_iim=jpeg_iptc_blocks(data, segments),
            jpeg_quality=(
                quality_from_tables(getattr(im, "quantization", None))
                if im.format == "JPEG"
                else None
            ),
        )
    else:
        meta = ContainerMetadata(c2pa=has_c2pa(fmt, data))
    raw_exif = info.get("exif")
    if isinstance(raw_exif, bytes) and raw_exif:
        meta.exif = _strip_exif_header(raw_exif)
    elif fmt == "TIFF":
        meta.exif = exif_from_tiff(data)
    xmp = _as_text(info.get("xmp")) or _as_text(info.get("XML:com.adobe.xmp"))
    if xmp is None and fmt == "TIFF":
        xmp = _tiff_xmp(data)
    meta.xmp = xmp if xmp and xmp.strip() else None
    if fmt == "PNG":
        png_text = png_text if png_text is not None else read_png_text(data)
        meta.text = png_text.text
        notes.extend(f"PNG text chunk skipped: {why}" for why in png_text.skipped)
        meta.text.pop("XML:com.adobe.xmp", None)
        # ImageMagick and exiftool keep EXIF / XMP in hex "Raw profile" text chunks.
        if meta.exif is None:
            raw = _raw_profile(meta.text.get("Raw profile type exif"))
            meta.exif = _strip_exif_header(raw) if raw and b"*" in raw[:10] else None
        if meta.xmp is None:
            raw = _raw_profile(meta.text.get("Raw profile type xmp"))
            meta.xmp = raw.decode("utf-8", "replace") if raw else None
    else:
        for key in ("comment", "Comment"):  # JPEG COM segment, GIF comment extension
            text = _as_text(info.get(key))
            if text:
                meta.text[key] = text
    icc = info.get("icc_profile")
    meta.icc = icc if isinstance(icc, bytes) and icc else None
    return meta


def _raw_profile(text: str | None) -> bytes | None:
    """Decode an ImageMagick "Raw profile" text chunk: a name line, a length, then hex digits."""
    if not text:
        return None
    lines = text.strip().split("\n", 2)
    if len(lines) < 3 or not lines[1].strip().isdigit():
        return None
    try:
        data = bytes.fromhex("".join(lines[2].split()))
    except ValueError:
        return None
    return data[: int(lines[1].strip())] or None


def exif_from_tiff(data: bytes) -> bytes | None:
    """The EXIF block (IFD0 plus Exif and GPS IFDs) of a TIFF-structured file, re-serialised.

    In TIFF, DNG and most camera RAW files the file itself is the EXIF structure; this copies the
    tags out so that signals get a self-contained block like every other format.
    """
    try:
        exif = Image.Exif()
        exif.load(data)
        if not len(exif):
            return None
        for ifd in (_EXIF_IFD, _GPS_IFD):
            if ifd in exif:
                exif.get_ifd(ifd)
        for bulky in (273, 279, 324, 325, 330, _XMP_TAG, 34377, 37724, 50740):
            exif.pop(bulky, None)  # strip/tile offsets, sub-IFDs, XMP, Photoshop data, DNG private
        return _strip_exif_header(exif.tobytes())
    except Exception:  # damaged EXIF is "no EXIF", never a failed image
        return None


def _tiff_xmp(data: bytes) -> str | None:
    entry = tiff_ifd0_tags(data).get(_XMP_TAG)
    if entry is None:
        return None
    return tiff_value(data, entry, limit=_MAX_XMP).decode("utf-8", "replace") or None


def tiff_container_metadata(data: bytes, fmt: str) -> ContainerMetadata:
    """Metadata of a TIFF-structured file read without Pillow decoding it (DNG, camera RAW)."""
    is_tiff = data[:2] in (b"II", b"MM")
    return ContainerMetadata(
        exif=exif_from_tiff(data) if is_tiff else None,
        xmp=_tiff_xmp(data) if is_tiff else None,
        icc=_tiff_icc(data) if is_tiff else None,
        c2pa=has_c2pa(fmt, data),
    )


def _tiff_icc(data: bytes) -> bytes | None:
    entry = tiff_ifd0_tags(data).get(34675)
    return tiff_value(data, entry, limit=_MAX_XMP) or None if entry else None
