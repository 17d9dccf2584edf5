"""Type detection from content: signatures, ISO-BMFF brands, TIFF-based RAW, unknown types."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from PIL import Image

from imagegen import encode, make_dng, make_jpeg, make_png, make_tiff, noise_pixels
from synthcheck.errors import NotAnImageError, UnsupportedFormatError
from synthcheck.intake import load_image_bytes, sniff_format
from synthcheck.intake.sniff import SUPPORTED_FORMATS, describe_unknown


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 32


def _tiff_with_tags(*tags: int, endian: str = "<") -> bytes:
    head = (b"II*\x00" if endian == "<" else b"MM\x00*") + struct.pack(endian + "I", 8)
    ifd = struct.pack(endian + "H", len(tags))
    for tag in tags:
        ifd += struct.pack(endian + "HHII", tag, 3, 1, 0)
    return head + ifd + b"\x00\x00\x00\x00" + b"\x00" * 64


SIGNATURES = [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "", "JPEG"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "", "PNG"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "", "WEBP"),
    (b"GIF87a\x01\x00", "", "GIF"),
    (b"GIF89a\x01\x00", "", "GIF"),
    (b"BM" + b"\x00" * 30, "", "BMP"),
    (_tiff_with_tags(256, 257), "", "TIFF"),
    (_tiff_with_tags(256, 257, endian=">"), "", "TIFF"),
    (_tiff_with_tags(256, 50706), "", "DNG"),  # DNGVersion in IFD0
    (_tiff_with_tags(256, 50706, endian=">"), ".tif", "DNG"),
    (_tiff_with_tags(256, 257), ".nef", "RAW"),  # TIFF-structured, RAW extension
    (_tiff_with_tags(256, 271, 330), "", "RAW"),  # Make + SubIFDs: NEF / ARW / PEF layout
    (_tiff_with_tags(256, 33422), "", "RAW"),  # CFAPattern in IFD0
    (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\x00" * 32, "", "RAW"),  # Canon CR2
    (b"IIRO\x08\x00\x00\x00" + b"\x00" * 32, "", "RAW"),  # Olympus ORF
    (b"IIU\x00\x08\x00\x00\x00" + b"\x00" * 32, "", "RAW"),  # Panasonic RW2
    (b"FUJIFILMCCD-RAW " + b"\x00" * 16, "", "RAW"),
    (_ftyp(b"heic", b"mif1", b"heic"), "", "HEIF"),
    (_ftyp(b"mif1", b"heic"), "", "HEIF"),
    (_ftyp(b"heix", b"mif1"), "", "HEIF"),
    (_ftyp(b"avif", b"mif1", b"miaf"), "", "AVIF"),
    (_ftyp(b"mif1", b"avif"), "", "AVIF"),
    (_ftyp(b"avis", b"msf1"), "", "AVIF"),
    (_ftyp(b"crx ", b"isom"), "", "RAW"),  # Canon CR3
]


@pytest.mark.parametrize(("head", "ext", "expected"), SIGNATURES)
def test_sniff_table(head: bytes, ext: str, expected: str) -> None:
    assert sniff_format(head, ext) == expected


def test_sniff_ignores_the_extension_for_non_raw_types() -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    for ext in (".png", ".webp", ".txt", ".heic", ""):
        assert sniff_format(jpeg, ext) == "JPEG"


def test_every_sniffed_format_is_listed() -> None:
    assert {expected for _, _, expected in SIGNATURES} == set(SUPPORTED_FORMATS)


@pytest.mark.parametrize(
    ("head", "fragment", "is_image"),
    [
        (b"\xff\x0a\xfa\x7f", "JPEG XL", True),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000", True),
        (b"8BPS\x00\x01", "Photoshop", True),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG", True),
        (b"%PDF-1.7\n", "PDF", False),
        (b"PK\x03\x04\x14\x00", "ZIP", False),
        (_ftyp(b"isom", b"mp41"), "MP4", False),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "RIFF", False),
        (b"hello, this is plain text\n", "text", False),
        (b"<!DOCTYPE html><html></html>", "HTML", False),
        (bytes(range(256)) * 4, "unknown", False),
    ],
)
def test_describe_unknown(head: bytes, fragment: str, is_image: bool) -> None:
    assert sniff_format(head) is None
    description, image = describe_unknown(head)
    assert fragment.lower() in description.lower()
    assert image is is_image


def test_unknown_image_type_is_unsupported_and_other_data_is_not_an_image() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"x\.jxl: a JPEG XL image"):
        load_image_bytes(b"\xff\x0a\xfa\x7f" + b"\x00" * 64, "x.jxl")
    with pytest.raises(NotAnImageError, match=r"doc\.jpg: not an image.*PDF"):
        load_image_bytes(b"%PDF-1.7\n" + b"\x00" * 64, "doc.jpg")


@pytest.mark.parametrize(
    ("maker", "fmt"),
    [(make_jpeg, "JPEG"), (make_png, "PNG"), (make_tiff, "TIFF"), (make_dng, "DNG")],
)
def test_sniff_real_files(tmp_path: Path, maker: object, fmt: str) -> None:
    path = maker(tmp_path / "image.bin")  # type: ignore[operator]
    assert sniff_format(path.read_bytes()[:65536], ".bin") == fmt


@pytest.mark.parametrize(("fmt", "kw"), [("WEBP", {}), ("GIF", {}), ("BMP", {})])
def test_sniff_encoded_formats(fmt: str, kw: dict[str, object]) -> None:
    data = encode(Image.fromarray(noise_pixels()), fmt, **kw)
    assert sniff_format(data) == fmt


def test_public_tables_are_consistent() -> None:
    from synthcheck import intake

    assert set(intake.MIME_TYPES) == set(intake.SUPPORTED_FORMATS)
    assert {".jpg", ".png", ".webp", ".heic", ".avif", ".tif", ".gif", ".bmp", ".dng", ".nef"} <= (
        intake.IMAGE_EXTENSIONS
    )
    assert all(ext.startswith(".") and ext == ext.lower() for ext in intake.IMAGE_EXTENSIONS)
    assert sorted(intake.__all__) == sorted(set(intake.__all__))
