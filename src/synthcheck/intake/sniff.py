"""Detect an image type from its first bytes, never from the file name."""

from __future__ import annotations

__all__ = ["EXTENSIONS", "sniff_format"]

# Extensions a user would expect for each detected type; used only to note mismatches.
EXTENSIONS: dict[str, frozenset[str]] = {
    "JPEG": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    "PNG": frozenset({".png"}),
    "WEBP": frozenset({".webp"}),
    "GIF": frozenset({".gif"}),
    "BMP": frozenset({".bmp", ".dib"}),
    "TIFF": frozenset({".tif", ".tiff"}),
    "HEIF": frozenset({".heic", ".heif", ".hif"}),
    "AVIF": frozenset({".avif"}),
    "DNG": frozenset({".dng"}),
    "RAW": frozenset(
        {".nef", ".nrw", ".cr2", ".cr3", ".arw", ".srf", ".sr2", ".orf", ".rw2", ".raf",
         ".pef", ".srw", ".x3f", ".3fr", ".erf", ".kdc", ".mrw", ".dcr", ".iiq", ".rwl"}
    ),
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"heif"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _iso_bmff_kind(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compat = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    brands = {major} | compat
    if major in _AVIF_BRANDS or (brands & _AVIF_BRANDS and major not in _HEIF_BRANDS):
        return "AVIF"
    if major == b"crx ":
        return "RAW"  # Canon CR3
    if brands & (_HEIF_BRANDS | _AVIF_BRANDS):
        return "HEIF"
    return None


def _tiff_kind(head: bytes, ext: str) -> str:
    # DNG and most camera RAW files are TIFF-structured; tell them apart by tags / extension.
    if b"\xc6\x12" in head[:4096] or b"\x12\xc6" in head[:4096]:  # DNGVersion tag 50706
        return "DNG"
    if ext in EXTENSIONS["RAW"]:
        return "RAW"
    if head[:4] == b"IIRO" or head[8:10] == b"CR":
        return "RAW"
    return "TIFF"


def sniff_format(head: bytes, ext: str = "") -> str | None:
    """Return the detected type of ``head`` (the first few KiB of a file), or None if unknown."""
    ext = ext.lower()
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM" and len(head) >= 26:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+", b"IIRO", b"IIRS"):
        return _tiff_kind(head, ext)
    bmff = _iso_bmff_kind(head)
    if bmff is not None:
        return bmff
    if head[:4] == b"FUJI" or head[:4] == b"FOVb" or head[:8] == b"\x00MRM\x00\x00\x00\x00"[:4]:
        return "RAW"
    return None
