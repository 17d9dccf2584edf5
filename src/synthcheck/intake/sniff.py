"""Detect an image type from its first bytes, never from the file name."""

from __future__ import annotations

from synthcheck.intake.containers import tiff_ifd0_tags

__all__ = [
    "EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "SUPPORTED_FORMATS",
    "describe_unknown",
    "sniff_format",
]

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
        {
            ".nef",
            ".nrw",
            ".cr2",
            ".cr3",
            ".arw",
            ".srf",
            ".sr2",
            ".orf",
            ".rw2",
            ".raf",
            ".pef",
            ".srw",
            ".x3f",
            ".3fr",
            ".erf",
            ".kdc",
            ".mrw",
            ".dcr",
            ".iiq",
            ".rwl",
        }
    ),
}

_HEVC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1", b"heif", b"miaf"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _iso_bmff_kind(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compat = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    brands = {major} | compat
    if major == b"crx ":
        return "RAW"  # Canon CR3
    if major in _AVIF_BRANDS:
        return "AVIF"
    if brands & _HEVC_BRANDS:
        return "HEIF"
    if brands & _AVIF_BRANDS:
        return "AVIF"
    if brands & _GENERIC_HEIF_BRANDS:
        return "HEIF"
    return None


_DNG_VERSION, _SUB_IFDS, _MAKE, _CFA_PATTERN = 50706, 330, 271, 33422


def _tiff_kind(head: bytes, ext: str) -> str:
    # DNG and most camera RAW files are TIFF-structured; tell them apart by their first IFD.
    if head[:4] in (b"IIRO", b"IIRS", b"IIU\x00") or head[8:10] == b"CR":
        return "RAW"  # Olympus ORF, Panasonic RW2, Canon CR2
    tags = tiff_ifd0_tags(head)
    if _DNG_VERSION in tags:
        return "DNG"
    if ext in EXTENSIONS["RAW"]:
        return "RAW"
    if _CFA_PATTERN in tags or (_SUB_IFDS in tags and _MAKE in tags):
        return "RAW"  # a Bayer mosaic in IFD0, or a camera's raw data in sub-IFDs (NEF, ARW, PEF)
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
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+", b"IIRO", b"IIRS", b"IIU\x00"):
        return _tiff_kind(head, ext)
    bmff = _iso_bmff_kind(head)
    if bmff is not None:
        return bmff
    if head[:4] in (b"FUJI", b"FOVb", b"\x00MRM") or head[6:14] == b"HEAPCCDR":
        return "RAW"  # Fujifilm RAF, Sigma X3F, Minolta MRW, Canon CRW
    return None


#: Every type :func:`sniff_format` can return.
SUPPORTED_FORMATS = tuple(EXTENSIONS)
#: Every file extension of a supported type (lower case, with the dot), e.g. to pick files from a
#: folder; the type itself is always decided from the content.
IMAGE_EXTENSIONS = frozenset().union(*EXTENSIONS.values())

# Known signatures of files synthcheck does not decode: (prefix, offset, name, is_image).
_OTHER_SIGNATURES: tuple[tuple[bytes, int, str, bool], ...] = (
    (b"\xff\x0a", 0, "a JPEG XL image", True),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", 0, "a JPEG XL image", True),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "a JPEG 2000 image", True),
    (b"\xff\x4f\xff\x51", 0, "a JPEG 2000 codestream", True),
    (b"8BPS", 0, "a Photoshop document (PSD)", True),
    (b"\x00\x00\x01\x00", 0, "an icon file (ICO)", True),
    (b"qoif", 0, "a QOI image", True),
    (b"v/1\x01", 0, "an OpenEXR image", True),
    (b"#?RADIANCE", 0, "a Radiance HDR image", True),
    (b"%PDF", 0, "a PDF document", False),
    (b"PK\x03\x04", 0, "a ZIP archive", False),
    (b"\x1f\x8b", 0, "a gzip archive", False),
    (b"ftypqt  ", 4, "a QuickTime video", False),
    (b"ftyp", 4, "an MP4/ISO media file that is not a HEIF or AVIF image", False),
    (b"\x1aE\xdf\xa3", 0, "a Matroska/WebM video", False),
    (b"RIFF", 0, "a RIFF file that is not WebP (audio or video)", False),
    (b"ID3", 0, "an MP3 audio file", False),
    (b"\x7fELF", 0, "an executable", False),
)


def describe_unknown(head: bytes) -> tuple[str, bool]:
    """Name what ``head`` looks like when :func:`sniff_format` returned None.

    Returns ``(description, is_image)``: ``is_image`` is True for image formats synthcheck does not
    decode (an "unsupported" error), False for everything else ("not an image").
    """
    for prefix, offset, name, is_image in _OTHER_SIGNATURES:
        if head[offset : offset + len(prefix)] == prefix:
            return name, is_image
    text = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in head[:4096].lower():
        return "an SVG drawing (vector graphics are not analysed)", True
    if text.startswith((b"<!doctype html", b"<html")):
        return "an HTML page", False
    if head and all(b in _TEXT_BYTES for b in head[:1024]):
        return "a text file", False
    return "data of an unknown type", False


_TEXT_BYTES = frozenset(range(32, 127)) | {9, 10, 13} | frozenset(range(128, 256))
