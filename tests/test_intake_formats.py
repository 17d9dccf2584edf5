"""Every supported format decodes at native size, with orientation, depth, alpha and metadata."""

from __future__ import annotations

import hashlib
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageCms, ImageFile

from imagegen import (
    XMP_AI,
    exif_bytes,
    gradient_pixels,
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
    noise_pixels,
    with_c2pa_box,
    with_xmp,
)
from synthcheck.errors import ConfigError, TruncatedImageError
from synthcheck.intake import LoadedImage, load_image, load_image_bytes

SIZE = (64, 48)  # width, height


def _oriented(a: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """What a viewer shows for stored pixels ``a`` with EXIF ``orientation``."""
    ops = {
        1: lambda x: x,
        2: np.fliplr,
        3: lambda x: np.rot90(x, 2),
        4: np.flipud,
        5: lambda x: x.transpose(1, 0, 2),
        6: lambda x: np.rot90(x, -1),
        7: lambda x: np.rot90(x, 2).transpose(1, 0, 2),
        8: lambda x: np.rot90(x, 1),
    }
    return np.ascontiguousarray(ops[orientation](a))


def _check_basics(image: LoadedImage, path: Path, fmt: str, size: tuple[int, int] = SIZE) -> None:
    data = path.read_bytes()
    assert image.format == fmt
    assert (image.width, image.height) == size
    assert image.pixels.dtype == np.uint8
    assert image.pixels.shape == (size[1], size[0], 3)
    assert image.pixels.flags.c_contiguous
    assert image.data == data
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.path == str(path)


# ------------------------------------------------------------------------------------- JPEG


def test_jpeg(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg", exif=exif_bytes(make="Canon", model="EOS R5"))
    image = load_image(path)
    _check_basics(image, path, "JPEG")
    assert image.mime == "image/jpeg"
    assert image.bit_depth == 8 and not image.has_alpha and image.frame_count == 1
    assert image.metadata.exif is not None and image.metadata.exif[:2] in (b"II", b"MM")
    assert b"Canon" in image.metadata.exif
    assert image.notes == []
    with Image.open(path) as reference:
        np.testing.assert_array_equal(image.pixels, np.asarray(reference.convert("RGB")))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    plain = load_image(make_jpeg(tmp_path / "plain.jpg"))
    rotated = load_image(make_jpeg(tmp_path / "rot.jpg", orientation=orientation))
    assert rotated.orientation == orientation
    np.testing.assert_array_equal(rotated.pixels, _oriented(plain.pixels, orientation))


def test_load_image_bytes_matches_load_image(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg")
    from_file, from_bytes = load_image(path), load_image_bytes(path.read_bytes(), str(path))
    np.testing.assert_array_equal(from_file.pixels, from_bytes.pixels)
    assert from_file.sha256 == from_bytes.sha256 and from_file.format == from_bytes.format


def test_native_resolution_is_kept(tmp_path: Path) -> None:
    image = load_image(make_jpeg(tmp_path / "big.jpg", size=(2400, 1600), quality=70))
    assert (image.width, image.height) == (2400, 1600)


def test_jpeg_comment_icc_and_xmp(tmp_path: Path) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = make_jpeg(tmp_path / "a.jpg", comment="made by hand", icc=icc, xmp=XMP_AI)
    meta = load_image(path).metadata
    assert meta.text == {"comment": "made by hand"}
    assert meta.icc == icc
    assert meta.xmp is not None and "trainedAlgorithmicMedia" in meta.xmp
    assert not meta.c2pa


def test_cmyk_and_greyscale_jpeg(tmp_path: Path) -> None:
    for mode in ("L", "CMYK"):
        image = load_image(make_jpeg(tmp_path / f"{mode}.jpg", mode=mode))
        assert image.original_mode == mode and image.pixels.shape == (48, 64, 3)


# ------------------------------------------------------------------------------------- PNG


def test_png_rgb_is_lossless(tmp_path: Path) -> None:
    path = make_png(tmp_path / "a.png")
    image = load_image(path)
    _check_basics(image, path, "PNG")
    np.testing.assert_array_equal(image.pixels, noise_pixels(SIZE))


def test_png_16_bit(tmp_path: Path) -> None:
    path = make_png(tmp_path / "deep.png", bits16=True)
    image = load_image(path)
    _check_basics(image, path, "PNG")
    assert image.bit_depth == 16 and image.original_mode.startswith("I")
    with Image.open(path) as im:
        source = np.asarray(im, dtype=np.float64)
    expected = np.clip(np.round(source / 257.0), 0, 255)
    assert np.abs(image.pixels[..., 0].astype(np.float64) - expected).max() <= 1
    assert (image.pixels[..., 0] == image.pixels[..., 2]).all()
    assert image.pixels.max() > 200  # scaled by the 16-bit range, not clipped or left dark


def test_png_palette_with_transparency(tmp_path: Path) -> None:
    path = make_png(tmp_path / "pal.png", mode="P+tRNS")
    image = load_image(path)
    assert image.original_mode == "P" and image.has_alpha and image.bit_depth <= 8
    with Image.open(path) as im:
        index = np.asarray(im)
    assert (image.pixels[index == 0] == 255).all()  # transparent entry composited on white
    assert image.pixels.shape == (48, 64, 3)


def test_png_palette_opaque(tmp_path: Path) -> None:
    image = load_image(make_png(tmp_path / "pal.png", mode="P"))
    assert image.original_mode == "P" and not image.has_alpha


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_png_alpha_is_composited_on_white(tmp_path: Path, mode: str) -> None:
    image = load_image(make_png(tmp_path / "alpha.png", mode=mode))
    assert image.has_alpha and image.original_mode == mode
    assert (image.pixels[:, 0] == 255).all()  # alpha 0 in the first column
    if mode == "RGBA":
        np.testing.assert_array_equal(image.pixels[:, -1], noise_pixels(SIZE, 4)[:, -1, :3])


def test_png_text_chunks(tmp_path: Path) -> None:
    path = make_png(
        tmp_path / "t.png",
        text={"parameters": "a cat, Steps: 20"},
        ztxt={"prompt": '{"3": {"class_type": "KSampler"}}'},
        itxt={"workflow": "ünïcödé ✓"},
        xmp=XMP_AI,
    )
    meta = load_image(path).metadata
    assert meta.text == {
        "parameters": "a cat, Steps: 20",
        "prompt": '{"3": {"class_type": "KSampler"}}',
        "workflow": "ünïcödé ✓",
    }
    assert meta.xmp is not None and "trainedAlgorithmicMedia" in meta.xmp


def test_png_text_after_image_data_is_kept(tmp_path: Path) -> None:
    data = make_png(tmp_path / "a.png").read_bytes()
    iend = data.rindex(b"IEND") - 4
    chunk = b"tEXt" + b"late\x00after IDAT"
    packed = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    path = tmp_path / "late.png"
    path.write_bytes(data[:iend] + packed + data[iend:])
    assert load_image(path).metadata.text == {"late": "after IDAT"}


def test_png_text_over_pillows_limit_is_kept(tmp_path: Path) -> None:
    """Pillow refuses zTXt chunks that inflate past 1 MiB; big ComfyUI workflows do."""
    workflow = '{"nodes": [' + ",".join(f'{{"id": {i}}}' for i in range(200_000)) + "]}"
    assert len(workflow) > 2 * 1024 * 1024
    path = make_png(tmp_path / "wf.png", ztxt={"workflow": workflow})
    image = load_image(path)
    assert image.metadata.text["workflow"] == workflow
    np.testing.assert_array_equal(image.pixels, noise_pixels(SIZE))


def test_png_exif_chunk(tmp_path: Path) -> None:
    image = load_image(make_png(tmp_path / "e.png", exif=exif_bytes(orientation=6, make="X")))
    assert image.metadata.exif is not None and (image.width, image.height) == (48, 64)


# ------------------------------------------------------------------------------------- WebP


def test_webp_lossy(tmp_path: Path) -> None:
    path = make_webp(tmp_path / "a.webp", exif=exif_bytes(user_comment="Steps: 20"), xmp=XMP_AI)
    image = load_image(path)
    _check_basics(image, path, "WEBP")
    assert (
        image.metadata.exif is not None and "Steps: 20".encode("utf-16-be") in image.metadata.exif
    )
    assert image.metadata.xmp is not None and "trainedAlgorithmicMedia" in image.metadata.xmp
    assert np.abs(image.pixels.astype(int) - noise_pixels(SIZE)).mean() < 20


def test_webp_lossless_with_alpha(tmp_path: Path) -> None:
    image = load_image(make_webp(tmp_path / "a.webp", lossless=True, alpha=True))
    assert image.has_alpha
    np.testing.assert_array_equal(image.pixels[:, -1], noise_pixels(SIZE, 4)[:, -1, :3])


def test_webp_animated_first_frame_and_count(tmp_path: Path) -> None:
    path = make_webp(tmp_path / "anim.webp", animated=True, frames=4, lossless=True)
    image = load_image(path)
    _check_basics(image, path, "WEBP")
    assert image.frame_count == 4
    assert any("4 frames" in note for note in image.notes)
    np.testing.assert_array_equal(image.pixels, noise_pixels(SIZE, seed=0))


def test_webp_orientation(tmp_path: Path) -> None:
    image = load_image(make_webp(tmp_path / "r.webp", exif=exif_bytes(orientation=8)))
    assert (image.width, image.height) == (48, 64) and image.orientation == 8


# ------------------------------------------------------------------------------------- HEIF / AVIF


def test_heic(tmp_path: Path) -> None:
    path = make_heic(tmp_path / "a.heic", exif=exif_bytes(make="Apple"), xmp=XMP_AI)
    image = load_image(path)
    _check_basics(image, path, "HEIF")
    assert image.mime == "image/heif"
    assert image.metadata.exif is not None and b"Apple" in image.metadata.exif
    assert image.metadata.xmp is not None and "trainedAlgorithmicMedia" in image.metadata.xmp
    assert np.abs(image.pixels.astype(int) - noise_pixels(SIZE)).mean() < 25


def test_heic_orientation_applied_once(tmp_path: Path) -> None:
    plain = load_image(make_heic(tmp_path / "p.heic", size=(64, 48)))
    rotated = load_image(make_heic(tmp_path / "r.heic", size=(64, 48), orientation=6))
    assert (rotated.width, rotated.height) == (48, 64)
    diff = np.abs(rotated.pixels.astype(int) - _oriented(plain.pixels, 6)).mean()
    assert diff < 3


def test_heic_with_alpha(tmp_path: Path) -> None:
    image = load_image(make_heic(tmp_path / "a.heic", alpha=True))
    assert image.has_alpha and image.format == "HEIF"


def test_avif(tmp_path: Path) -> None:
    path = make_avif(tmp_path / "a.avif", exif=exif_bytes(make="Google"), xmp=XMP_AI)
    image = load_image(path)
    _check_basics(image, path, "AVIF")
    assert image.metadata.exif is not None and b"Google" in image.metadata.exif
    assert image.metadata.xmp is not None and "trainedAlgorithmicMedia" in image.metadata.xmp
    assert np.abs(image.pixels.astype(int) - noise_pixels(SIZE)).mean() < 25


def test_avif_orientation(tmp_path: Path) -> None:
    plain = load_image(make_avif(tmp_path / "p.avif"))
    rotated = load_image(make_avif(tmp_path / "r.avif", exif=exif_bytes(orientation=6)))
    assert (rotated.width, rotated.height) == (48, 64)
    assert np.abs(rotated.pixels.astype(int) - _oriented(plain.pixels, 6)).mean() < 3


# ------------------------------------------------------------------------------------- others


def test_tiff_multipage_first_page(tmp_path: Path) -> None:
    path = make_tiff(tmp_path / "pages.tiff", pages=3)
    image = load_image(path)
    _check_basics(image, path, "TIFF")
    assert image.frame_count == 3
    assert any("3 pages" in note for note in image.notes)
    np.testing.assert_array_equal(image.pixels, noise_pixels(SIZE, seed=0))


def test_tiff_exif(tmp_path: Path) -> None:
    image = load_image(make_tiff(tmp_path / "e.tif", exif=exif_bytes(make="Nikon")))
    assert image.metadata.exif is not None and b"Nikon" in image.metadata.exif


def test_gif_animation_and_comment(tmp_path: Path) -> None:
    path = make_gif(tmp_path / "a.gif", frames=3, comment="hello")
    image = load_image(path)
    _check_basics(image, path, "GIF")
    assert image.frame_count == 3 and image.metadata.text.get("comment") == "hello"
    with Image.open(path) as first:
        np.testing.assert_array_equal(image.pixels, np.asarray(first.convert("RGB")))


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "1"])
def test_bmp(tmp_path: Path, mode: str) -> None:
    path = make_bmp(tmp_path / "a.bmp", mode=mode)
    image = load_image(path)
    _check_basics(image, path, "BMP")
    if mode == "RGB":
        np.testing.assert_array_equal(image.pixels, noise_pixels(SIZE))


def test_dng_via_rawpy(tmp_path: Path) -> None:
    path = make_dng(tmp_path / "a.dng", size=(64, 48), make="Leica", model="M11")
    image = load_image(path)
    _check_basics(image, path, "DNG")
    assert image.mime == "image/x-adobe-dng" and image.original_mode == "RAW"
    assert image.bit_depth == 12
    assert image.metadata.exif is not None and b"Leica" in image.metadata.exif
    # Demosaiced picture follows the gradient the mosaic was sampled from.
    grad = gradient_pixels(SIZE).astype(float)
    corr = np.corrcoef(image.pixels[..., 0].ravel(), grad[..., 0].ravel())[0, 1]
    assert corr > 0.8


def test_dng_named_tif_is_still_dng(tmp_path: Path) -> None:
    image = load_image(make_dng(tmp_path / "raw.tif"))
    assert image.format == "DNG"
    assert any("extension .tif" in note for note in image.notes)


# ------------------------------------------------------------------------------ cross-cutting


@pytest.mark.parametrize(
    ("maker", "fmt"),
    [(make_jpeg, "JPEG"), (make_png, "PNG"), (make_webp, "WEBP"), (make_gif, "GIF")],
)
def test_wrong_extension_is_a_note(tmp_path: Path, maker: object, fmt: str) -> None:
    path = maker(tmp_path / "photo.heic")  # type: ignore[operator]
    image = load_image(path)
    assert image.format == fmt
    assert image.notes == [f"the extension .heic does not match the content, which is {fmt}"]


def test_c2pa_presence_jpeg_png(tmp_path: Path) -> None:
    for maker, name in ((make_jpeg, "a.jpg"), (make_png, "a.png")):
        plain = maker(tmp_path / name)
        assert not load_image(plain).metadata.c2pa
        marked = with_c2pa_box(plain, out=tmp_path / f"c2pa-{name}")
        assert load_image(marked).metadata.c2pa


def test_c2pa_presence_webp_and_heif(tmp_path: Path) -> None:
    webp = make_webp(tmp_path / "a.webp").read_bytes()
    chunk = b"C2PA" + struct.pack("<I", 16) + b"\x00" * 16
    body = webp[12:] + chunk
    marked = b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    assert load_image_bytes(marked, "a.webp").metadata.c2pa
    assert not load_image_bytes(webp, "a.webp").metadata.c2pa

    heic = make_heic(tmp_path / "a.heic").read_bytes()
    uuid_box = struct.pack(">I", 8 + 16 + 8) + b"uuid"
    uuid_box += bytes.fromhex("d8fec3d61b0e483c92975828877ec481") + b"\x00" * 8
    assert load_image_bytes(heic + uuid_box, "a.heic").metadata.c2pa
    assert not load_image_bytes(heic, "a.heic").metadata.c2pa


def test_with_xmp_helper_round_trips(tmp_path: Path) -> None:
    for maker, name in ((make_jpeg, "a.jpg"), (make_png, "a.png")):
        path = with_xmp(maker(tmp_path / name), XMP_AI)
        meta = load_image(path).metadata
        assert meta.xmp is not None and "trainedAlgorithmicMedia" in meta.xmp


def test_png_chunk_helper_keeps_png_valid(tmp_path: Path) -> None:
    data = insert_png_chunk(make_png(tmp_path / "a.png").read_bytes(), b"teSt", b"1234")
    assert load_image_bytes(data, "a.png").format == "PNG"


@pytest.mark.parametrize("bad", [0, -5, 1.5, True])
def test_max_pixels_is_validated(tmp_path: Path, bad: object) -> None:
    path = make_jpeg(tmp_path / "a.jpg")
    with pytest.raises(ConfigError, match="max_pixels"):
        load_image(path, max_pixels=bad)  # type: ignore[arg-type]


def test_truncation_reported_even_if_pillow_was_told_to_hide_it(tmp_path: Path) -> None:
    data = make_jpeg(tmp_path / "a.jpg", size=(256, 256)).read_bytes()
    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(TruncatedImageError):
            load_image_bytes(data[: len(data) // 2], "cut.jpg")
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is restored
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = old


def test_pillow_globals_are_restored(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    load_image(make_png(tmp_path / "a.png"), max_pixels=10_000)
    assert before == Image.MAX_IMAGE_PIXELS


def test_concurrent_decodes_agree(tmp_path: Path) -> None:
    paths = [
        make_jpeg(tmp_path / "a.jpg", orientation=6),
        make_png(tmp_path / "b.png", bits16=True),
        make_webp(tmp_path / "c.webp", animated=True),
        make_heic(tmp_path / "d.heic"),
        make_tiff(tmp_path / "e.tif", pages=2),
        make_gif(tmp_path / "f.gif"),
    ] * 4
    sequential = [load_image(p).pixels for p in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda p: load_image(p).pixels, paths))
    for a, b in zip(sequential, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


def test_tiff_named_as_camera_raw_falls_back_to_tiff(tmp_path: Path) -> None:
    path = make_tiff(tmp_path / "photo.nef")
    image = load_image(path)
    assert image.format == "TIFF"
    assert any("LibRaw" in note for note in image.notes)
    np.testing.assert_array_equal(image.pixels, noise_pixels(SIZE))


def test_gif_frames_are_counted_without_decoding(tmp_path: Path) -> None:
    from synthcheck.intake.containers import count_gif_frames

    for frames in (1, 2, 7):
        path = make_gif(tmp_path / f"{frames}.gif", frames=frames)
        with Image.open(path) as im:
            n_frames = getattr(im, "n_frames", 1)  # GifImageFile's, absent from ImageFile's type
            assert count_gif_frames(path.read_bytes()) == n_frames == frames


def test_missing_decoder_is_unsupported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from synthcheck.errors import UnsupportedFormatError

    path = make_avif(tmp_path / "a.avif")
    Image.init()
    monkeypatch.delitem(Image.OPEN, "AVIF")
    with pytest.raises(UnsupportedFormatError, match="no AVIF decoder"):
        load_image(path)


def test_tiff_orientation_applied_once(tmp_path: Path) -> None:
    plain = load_image(make_tiff(tmp_path / "p.tif"))
    rotated = load_image(make_tiff(tmp_path / "r.tif", exif=exif_bytes(orientation=6)))
    np.testing.assert_array_equal(rotated.pixels, _oriented(plain.pixels, 6))


def test_tiff_preview_page_is_skipped(tmp_path: Path) -> None:
    import tifffile

    full = noise_pixels((128, 96), seed=3)
    path = tmp_path / "preview.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(full[::4, ::4], photometric="rgb", subfiletype=1)  # reduced-resolution preview
        tif.write(full, photometric="rgb")
    image = load_image(path)
    assert (image.width, image.height) == (128, 96)
    np.testing.assert_array_equal(image.pixels, full)
    assert any("preview" in note for note in image.notes)


def test_big_text_chunk_after_image_data_is_kept(tmp_path: Path) -> None:
    data = make_png(tmp_path / "a.png").read_bytes()
    workflow = "x" * (3 * 1024 * 1024)
    payload = b"workflow\x00\x00" + zlib.compress(workflow.encode(), 9)
    chunk = struct.pack(">I", len(payload)) + b"zTXt" + payload
    chunk += struct.pack(">I", zlib.crc32(b"zTXt" + payload) & 0xFFFFFFFF)
    iend = data.rindex(b"IEND") - 4
    image = load_image_bytes(data[:iend] + chunk + data[iend:], "late.png")
    assert image.metadata.text["workflow"] == workflow


def test_blockwise_conversions_match_reference() -> None:
    """Alpha compositing and 16-bit scaling run over row blocks; results must not depend on it."""
    from synthcheck.intake.pixels import to_rgb8

    rng = np.random.default_rng(0)
    rgba = Image.fromarray(rng.integers(0, 256, (1201, 1703, 4), dtype=np.uint8))
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    white.alpha_composite(rgba)
    np.testing.assert_array_equal(to_rgb8(rgba), np.asarray(white.convert("RGB")))
    deep = rng.integers(0, 65536, (1201, 1703), dtype=np.uint16)
    grey = to_rgb8(Image.fromarray(deep))
    np.testing.assert_array_equal(grey[..., 0], np.round(deep / 257.0).astype(np.uint8))
    np.testing.assert_array_equal(grey[..., 0], grey[..., 2])


def test_png_raw_profile_exif_and_xmp(tmp_path: Path) -> None:
    """ImageMagick writes EXIF and XMP as hex "Raw profile type ..." zTXt chunks."""
    exif = exif_bytes(make="Fujifilm")
    xmp = XMP_AI.encode()

    def profile(name: str, payload: bytes) -> str:
        hexed = payload.hex()
        lines = "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
        return f"\n{name}\n{len(payload):8d}\n{lines}\n"

    path = make_png(
        tmp_path / "magick.png",
        ztxt={
            "Raw profile type exif": profile("exif", exif),
            "Raw profile type xmp": profile("xmp", xmp),
        },
    )
    meta = load_image(path).metadata
    assert meta.exif is not None and b"Fujifilm" in meta.exif and meta.exif[:2] in (b"II", b"MM")
    assert meta.xmp is not None and "trainedAlgorithmicMedia" in meta.xmp


@pytest.mark.parametrize(
    ("mode", "size"),
    [
        ("RGB", (1703, 1201)),
        ("RGB", (1, 1)),
        ("RGB", (1, 777)),
        ("L", (333, 17)),
        ("CMYK", (64, 9)),
    ],
)
def test_rgb_conversion_copies_once_and_matches_pillow(mode: str, size: tuple[int, int]) -> None:
    """RGB pixels come out of Pillow's raw encoder in one buffer; they equal np.asarray."""
    from synthcheck.intake.pixels import to_rgb8

    rng = np.random.default_rng(sum(size))
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    im = rgb.convert(mode)
    out = to_rgb8(im)
    assert out.shape == (size[1], size[0], 3) and out.dtype == np.uint8
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.asarray(im.convert("RGB")))
