"""A malformed corpus made at test time: every file is a typed error or a decoded image with a note.

Nothing may escape as an untyped exception or a warning (the suite runs with
``filterwarnings = error``), and truncation is reported, never filled with grey.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from imagegen import (
    insert_jpeg_segment,
    insert_png_chunk,
    make_avif,
    make_bmp,
    make_dng,
    make_gif,
    make_heic,
    make_jpeg,
    make_png,
    make_tiff,
    make_webp,
    png_chunk,
    with_c2pa_box,
    with_xmp,
    xmp_packet,
)
from synthcheck.errors import (
    CorruptImageError,
    FileUnreadableError,
    ImageTooLargeError,
    InputError,
    NotAnImageError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from synthcheck.intake import LoadedImage, load_image, load_image_bytes

BIG = (256, 192)

# --------------------------------------------------------------------------- truncation

TRUNCATABLE: dict[str, Callable[[Path], Path]] = {
    "jpeg": lambda p: make_jpeg(p / "t.jpg", BIG),
    "jpeg-progressive": lambda p: _progressive_jpeg(p / "tp.jpg"),
    "png": lambda p: make_png(p / "t.png", BIG),
    "png-16bit": lambda p: make_png(p / "t16.png", BIG, bits16=True),
    "webp-lossy": lambda p: make_webp(p / "t.webp", BIG),
    "webp-lossless": lambda p: make_webp(p / "tl.webp", BIG, lossless=True),
    "webp-animated": lambda p: make_webp(p / "ta.webp", BIG, animated=True),
    "heic": lambda p: make_heic(p / "t.heic", BIG),
    "avif": lambda p: make_avif(p / "t.avif", BIG),
    "gif": lambda p: make_gif(p / "t.gif", BIG),
    "bmp": lambda p: make_bmp(p / "t.bmp", BIG),
    "tiff": lambda p: make_tiff(p / "t.tif", BIG),
    "tiff-uncompressed": lambda p: make_tiff(p / "tu.tif", BIG, compression=None),
    "dng": lambda p: make_dng(p / "t.dng", BIG),
}


def _progressive_jpeg(path: Path) -> Path:
    from PIL import Image

    from imagegen import noise_pixels

    Image.fromarray(noise_pixels(BIG)).save(path, "JPEG", progressive=True, quality=90)
    return path


@pytest.mark.parametrize("kind", sorted(TRUNCATABLE))
@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95])
def test_truncated_files_are_reported_as_truncated(
    tmp_path: Path, kind: str, fraction: float
) -> None:
    data = TRUNCATABLE[kind](tmp_path).read_bytes()
    cut = data[: int(len(data) * fraction)]
    with pytest.raises((TruncatedImageError, CorruptImageError)) as info:
        load_image_bytes(cut, f"cut-{kind}")
    # Where the container says how long it is, the error must say "truncated", not "corrupt".
    assert isinstance(info.value, TruncatedImageError), info.value
    assert info.value.path == f"cut-{kind}"
    assert "truncated" in str(info.value)


def test_truncated_animation_keeps_the_intact_first_frame_with_a_note(tmp_path: Path) -> None:
    data = make_gif(tmp_path / "a.gif", BIG, frames=3).read_bytes()
    image = load_image_bytes(data[: int(len(data) * 0.8)], "anim.gif")
    assert image.format == "GIF"
    assert any("truncated" in note for note in image.notes)


def test_png_cut_after_its_image_data_decodes_with_a_note(tmp_path: Path) -> None:
    data = make_png(tmp_path / "a.png").read_bytes()
    image = load_image_bytes(data[:-1], "a.png")  # only the IEND checksum is missing
    assert any("truncated" in note and "IEND" in note for note in image.notes)
    with pytest.raises(TruncatedImageError, match="IDAT"):
        load_image_bytes(data[: data.index(b"IEND") - 200], "a.png")


# --------------------------------------------------------------------------- not images


@pytest.mark.parametrize(
    ("name", "content", "error", "words"),
    [
        ("empty.jpg", b"", NotAnImageError, "empty"),
        ("notes.jpg", b"These are my holiday notes.\nNot a picture.\n", NotAnImageError, "text"),
        ("page.png", b"<!DOCTYPE html><html><body>hi</body></html>", NotAnImageError, "HTML"),
        ("zeros.webp", b"\x00" * 4096, NotAnImageError, "not an image"),
        ("doc.heic", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", NotAnImageError, "PDF"),
        ("image.jxl", b"\xff\x0a\xfa\x7f\x00\x00", UnsupportedFormatError, "JPEG XL"),
        ("magic-only.jpg", b"\xff\xd8\xff", TruncatedImageError, "truncated"),
        ("magic-only.png", b"\x89PNG\r\n\x1a\n", TruncatedImageError, "truncated"),
        ("riff.webp", b"RIFF\x00\x10\x00\x00WEBPVP8 ", TruncatedImageError, "truncated"),
        ("gif.gif", b"GIF89a", TruncatedImageError, "truncated"),
        ("short.tif", b"II*\x00\x08", TruncatedImageError, "truncated"),
        ("short.heic", b"\x00\x00\x00\x18ftypheic", TruncatedImageError, "truncated"),
    ],
)
def test_non_images(
    tmp_path: Path, name: str, content: bytes, error: type[InputError], words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as info:
        load_image(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert words.lower() in str(info.value).lower()


def test_random_bytes_after_a_jpeg_signature_are_corrupt() -> None:
    rng = np.random.default_rng(1)
    data = b"\xff\xd8\xff\xe0" + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes() + b"\xff\xd9"
    with pytest.raises((CorruptImageError, TruncatedImageError)):
        load_image_bytes(data, "noise.jpg")


def test_garbage_heif_is_corrupt() -> None:
    ftyp = struct.pack(">I", 24) + b"ftypheic\x00\x00\x00\x00mif1heic"
    with pytest.raises(CorruptImageError, match=r"bad\.heic"):
        load_image_bytes(ftyp + struct.pack(">I", 16) + b"meta" + b"\x00" * 8, "bad.heic")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FileUnreadableError, match="not found"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(FileUnreadableError, match="directory"):
        load_image(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    import os

    path = make_jpeg(tmp_path / "secret.jpg")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(FileUnreadableError, match="permission denied"):
            load_image(path)
    finally:
        path.chmod(0o644)


def test_damaged_image_data_is_corrupt(tmp_path: Path) -> None:
    data = bytearray(make_png(tmp_path / "a.png").read_bytes())
    at = data.index(b"IDAT") + 20
    data[at : at + 8] = b"\xde\xad\xbe\xef" * 2  # breaks the deflate stream and the CRC
    with pytest.raises(CorruptImageError, match=r"a\.png"):
        load_image_bytes(bytes(data), "a.png")


# --------------------------------------------------------------------------- bombs


def _png(width: int, height: int, idat: bytes, *, bits: int = 8, colour: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def test_png_header_claiming_100k_by_100k_is_refused_before_decoding() -> None:
    data = _png(100_000, 100_000, zlib.compress(b"\x00" * 1024))
    start = time.perf_counter()
    with pytest.raises(ImageTooLargeError, match=r"100000x100000.*pixel budget") as info:
        load_image_bytes(data, "bomb.png")
    assert time.perf_counter() - start < 1.0
    assert info.value.path == "bomb.png"


def test_real_compressed_bomb_is_refused_by_the_budget() -> None:
    side = 3000  # 9 MP of zeros deflates to a few KB
    raw = (b"\x00" + b"\x00" * side) * side
    data = _png(side, side, zlib.compress(raw, 9))
    assert len(data) < 50_000
    with pytest.raises(ImageTooLargeError):
        load_image_bytes(data, "bomb.png", max_pixels=1_000_000)
    assert load_image_bytes(data, "bomb.png", max_pixels=10_000_000).width == side


def test_budget_is_exact(tmp_path: Path) -> None:
    path = make_png(tmp_path / "a.png", (64, 48))
    assert load_image(path, max_pixels=64 * 48).width == 64
    with pytest.raises(ImageTooLargeError):
        load_image(path, max_pixels=64 * 48 - 1)


def _patched(data: bytes, at: int, fmt: str, *values: int) -> bytes:
    return data[:at] + struct.pack(fmt, *values) + data[at + struct.calcsize(fmt) :]


def test_header_bombs_in_every_format(tmp_path: Path) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg").read_bytes()
    sof = jpeg.index(b"\xff\xc0")
    gif = make_gif(tmp_path / "a.gif").read_bytes()
    bmp = make_bmp(tmp_path / "a.bmp").read_bytes()
    heic = make_heic(tmp_path / "a.heic").read_bytes()
    ispe = heic.index(b"ispe")
    bombs = {
        "bomb.jpg": _patched(jpeg, sof + 5, ">HH", 65000, 65000),
        "bomb.gif": _patched(gif, 6, "<HH", 65535, 65535),
        "bomb.bmp": _patched(bmp, 18, "<ii", 50_000, 50_000),
        "bomb.heic": _patched(heic, ispe + 8, ">II", 100_000, 100_000),
        "bomb.dng": _dng_with_size(make_dng(tmp_path / "a.dng").read_bytes(), 60_000, 60_000),
        "bomb.tif": _tiff_with_size(make_tiff(tmp_path / "a.tif").read_bytes(), 60_000, 60_000),
    }
    for name, data in bombs.items():
        start = time.perf_counter()
        with pytest.raises(ImageTooLargeError) as info:
            load_image_bytes(data, name)
        assert info.value.path == name
        assert time.perf_counter() - start < 2.0, name


def _ifd0_patch(data: bytes, sizes: dict[int, int]) -> bytes:
    e = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(e + "I", data[4:8])[0]
    count = struct.unpack(e + "H", data[offset : offset + 2])[0]
    out = bytearray(data)
    for i in range(count):
        at = offset + 2 + 12 * i
        tag, typ = struct.unpack(e + "HH", data[at : at + 4])
        if tag in sizes:
            value = (
                struct.pack(e + "HH", sizes[tag], 0)
                if typ == 3
                else struct.pack(e + "I", sizes[tag])
            )
            out[at + 8 : at + 12] = value
    return bytes(out)


def _dng_with_size(data: bytes, width: int, height: int) -> bytes:
    return _ifd0_patch(data, {256: width, 257: height})


def _tiff_with_size(data: bytes, width: int, height: int) -> bytes:
    return _ifd0_patch(data, {256: width, 257: height})


def test_png_ztxt_bomb_is_skipped_with_a_note(tmp_path: Path) -> None:
    plain = make_png(tmp_path / "a.png").read_bytes()
    payload = b"parameters\x00\x00" + zlib.compress(b"A" * (40 * 1024 * 1024), 9)
    data = insert_png_chunk(plain, b"zTXt", payload)
    image = load_image_bytes(data, "ztxt-bomb.png")
    assert "parameters" not in image.metadata.text
    assert any("parameters" in note and "skipped" in note for note in image.notes)


# --------------------------------------------------------------------------- damaged metadata


def _decodes_with_metadata_damage(data: bytes, name: str) -> LoadedImage:
    image = load_image_bytes(data, name)
    assert image.pixels.shape[2] == 3 and image.width > 0
    return image


def test_corrupt_exif_block(tmp_path: Path) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg").read_bytes()
    rng = np.random.default_rng(7)
    garbage = b"Exif\x00\x00" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes()
    _decodes_with_metadata_damage(insert_jpeg_segment(jpeg, 0xE1, garbage), "exif.jpg")


def test_exif_pointing_past_the_end(tmp_path: Path) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg").read_bytes()
    block = b"Exif\x00\x00II*\x00" + struct.pack("<I", 0x7FFFFFF0)
    image = _decodes_with_metadata_damage(insert_jpeg_segment(jpeg, 0xE1, block), "exif.jpg")
    assert image.orientation == 1


def test_exif_with_an_ifd_loop_and_bad_orientation(tmp_path: Path) -> None:
    # IFD0 with Orientation = 99 (invalid) whose next-IFD pointer points at itself.
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 99, 0) + struct.pack("<I", 8)
    block = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd
    jpeg = make_jpeg(tmp_path / "a.jpg").read_bytes()
    image = _decodes_with_metadata_damage(insert_jpeg_segment(jpeg, 0xE1, block), "loop.jpg")
    assert image.orientation == 1 and (image.width, image.height) == (64, 48)


def test_exif_truncated_inside_a_webp(tmp_path: Path) -> None:
    webp = make_webp(tmp_path / "a.webp").read_bytes()
    chunk = b"EXIF" + struct.pack("<I", 12) + b"II*\x00\x08\x00\x00\x00\x05\x00\x01\x01"
    body = webp[12:] + chunk
    data = b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    _decodes_with_metadata_damage(data, "exif.webp")


@pytest.mark.parametrize(
    "xmp",
    [
        "<x:xmpmeta><rdf:RDF><rdf:Description unclosed",
        xmp_packet(raw_body='<rdf:Description xmlns:a="b" a:x="&undefined;"/>'),
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>',
        "\x00\x01\x02 not xml at all \ufffd",
    ],
)
def test_corrupt_xmp_is_kept_as_text(tmp_path: Path, xmp: str) -> None:
    for maker, name in ((make_jpeg, "a.jpg"), (make_png, "a.png")):
        path = with_xmp(maker(tmp_path / name), xmp)
        image = _decodes_with_metadata_damage(path.read_bytes(), name)
        assert image.metadata.xmp is not None


def test_broken_c2pa_box_in_jpeg_app11(tmp_path: Path) -> None:
    path = with_c2pa_box(make_jpeg(tmp_path / "a.jpg"), content=b"\xff" * 40)
    image = _decodes_with_metadata_damage(path.read_bytes(), "c2pa.jpg")
    assert image.metadata.c2pa


def test_c2pa_box_with_lying_lengths(tmp_path: Path) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg").read_bytes()
    lying = b"JP\x00\x01\x00\x00\x00\x01" + struct.pack(">I", 0xFFFFFFF0) + b"jumb" + b"\x00" * 8
    image = _decodes_with_metadata_damage(insert_jpeg_segment(jpeg, 0xEB, lying), "c2pa.jpg")
    assert not image.metadata.c2pa  # a JUMBF box without a C2PA label is not a manifest


def test_app11_that_is_not_jumbf(tmp_path: Path) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg").read_bytes()
    image = _decodes_with_metadata_damage(insert_jpeg_segment(jpeg, 0xEB, b"junk" * 10), "a.jpg")
    assert not image.metadata.c2pa


def test_broken_c2pa_chunk_in_png(tmp_path: Path) -> None:
    path = with_c2pa_box(make_png(tmp_path / "a.png"), content=b"\x00\x01")
    assert _decodes_with_metadata_damage(path.read_bytes(), "c2pa.png").metadata.c2pa


def test_png_text_chunk_with_bad_checksum(tmp_path: Path) -> None:
    data = bytearray(make_png(tmp_path / "a.png", text={"parameters": "hello"}).read_bytes())
    at = data.index(b"tEXt") + 6
    data[at] ^= 0xFF
    image = _decodes_with_metadata_damage(bytes(data), "crc.png")
    assert "parameters" not in image.metadata.text
    assert any("tEXt" in note for note in image.notes)


def test_damaged_icc_profile(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg", icc=b"this is not an ICC profile")
    image = _decodes_with_metadata_damage(path.read_bytes(), "icc.jpg")
    assert image.metadata.icc == b"this is not an ICC profile"


def test_whole_corpus_is_typed(tmp_path: Path) -> None:
    """Byte flips all over every format: each decode ends as an image or an InputError."""
    rng = np.random.default_rng(0)
    seeds = [maker(tmp_path) for maker in TRUNCATABLE.values()]
    outcomes = {"decoded": 0, "error": 0}
    for seed in seeds:
        data = seed.read_bytes()
        for _ in range(6):
            mutated = bytearray(data)
            for at in rng.integers(0, len(data), 8):
                mutated[int(at)] = int(rng.integers(0, 256))
            try:
                load_image_bytes(bytes(mutated), seed.name)
                outcomes["decoded"] += 1
            except InputError:
                outcomes["error"] += 1
    assert sum(outcomes.values()) == 6 * len(seeds)


def test_decoder_warnings_become_notes(tmp_path: Path) -> None:
    """Pillow warns about EXIF tags pointing past the block; the warning is a note, not an error."""
    jpeg = make_jpeg(tmp_path / "a.jpg").read_bytes()
    ifd = struct.pack("<H", 2)
    ifd += struct.pack("<HHII", 0x010F, 2, 200, 0x1000)  # Make: 200 bytes far past the end
    ifd += struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack("<I", 0)  # Orientation 6
    block = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd
    image = load_image_bytes(insert_jpeg_segment(jpeg, 0xE1, block), "warn.jpg")
    assert any(note.startswith("decoder warning:") for note in image.notes)
    assert image.orientation == 6 and (image.width, image.height) == (48, 64)


def test_devices_and_pipes_are_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        if not path.exists():
            continue
        with pytest.raises(FileUnreadableError, match="not a regular file"):
            load_image(path)
