"""Small files that claim huge images, damaged image data and blank images (hardening round 2)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagegen import png_chunk
from synthcheck.engine import Detector
from synthcheck.errors import ImageTooLargeError, TruncatedImageError
from synthcheck.intake.budget import DEFAULT_MAX_IMAGE_BYTES, decode_cost_bytes
from synthcheck.intake.containers import iter_jpeg_segments
from synthcheck.intake.damage import grey_fill_lines
from synthcheck.intake.decode import load_image_bytes
from synthcheck.intake.image import LoadedImage
from synthcheck.results import SignalResult


def _png(width: int, height: int, rows: int) -> bytes:
    """An RGB PNG whose complete zlib stream holds only ``rows`` of its ``height`` rows."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes([7, 100, 200]) * width for _ in range(rows))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def _photo_jpeg(size: tuple[int, int] = (320, 240), quality: int = 92) -> bytes:
    """A JPEG with photo-like texture (smooth noise), so its scan data is not trivially small."""
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (size[1] // 4, size[0] // 4, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(small).resize(size, Image.Resampling.BILINEAR).save(
        buf, "JPEG", quality=quality
    )
    return buf.getvalue()


def _with_sof_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` with the frame header rewritten to declare ``width`` x ``height``."""
    sof = next(s for s in iter_jpeg_segments(data) if s.kind in (b"\xff\xc0", b"\xff\xc2"))
    out = bytearray(data)
    out[sof.start + 1 : sof.start + 5] = struct.pack(">HH", height, width)
    return bytes(out)


def test_tiny_png_declaring_199_megapixels_is_refused_before_decoding() -> None:
    data = _png(1, 199_000_000, 1000)
    assert len(data) < 200
    with pytest.raises(ImageTooLargeError, match="forged header or a decompression bomb"):
        load_image_bytes(data, "bomb.png")


def test_png_rows_never_written_are_reported_not_filled_with_zeros() -> None:
    # Under the plausibility floor, so the decoder would run and fill 1,999,000 rows with black.
    data = _png(1, 2_000_000, 1000)
    with pytest.raises(TruncatedImageError, match=r"1,000 of 2,000,000 rows"):
        load_image_bytes(data, "short.png")


def test_complete_pngs_of_every_mode_still_decode(tmp_path: Path) -> None:
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"):
        im = Image.new(mode, (37, 23))
        buf = io.BytesIO()
        im.save(buf, "PNG")
        assert load_image_bytes(buf.getvalue(), f"{mode}.png").pixels.shape == (23, 37, 3)


def test_small_jpeg_declaring_14000_squared_is_refused() -> None:
    data = _with_sof_size(_photo_jpeg((64, 48)), 14000, 14000)
    assert len(data) < 4000
    with pytest.raises(ImageTooLargeError, match="forged header or a decompression bomb"):
        load_image_bytes(data, "forged.jpg")


def test_memory_budget_is_checked_on_the_header() -> None:
    data = _photo_jpeg((320, 240))
    cost = decode_cost_bytes(320, 240, "RGB", rotated=True)
    with pytest.raises(ImageTooLargeError, match="--max-image-memory"):
        load_image_bytes(data, "a.jpg", max_bytes=cost - 1)
    assert load_image_bytes(data, "a.jpg", max_bytes=cost).width == 320


def test_memory_budget_counts_conversion_copies() -> None:
    # Alpha compositing and palette expansion hold more copies than plain RGB.
    assert decode_cost_bytes(100, 100, "RGBA") > decode_cost_bytes(100, 100, "RGB")
    assert decode_cost_bytes(100, 100, "P") > decode_cost_bytes(100, 100, "L") - 1
    assert decode_cost_bytes(100, 100, "RGB", rotated=True) > decode_cost_bytes(100, 100, "RGB")
    # The default budget refuses the near-limit bombs of the pixel budget (14000 x 14000 RGB).
    assert decode_cost_bytes(14000, 14000, "RGB") > DEFAULT_MAX_IMAGE_BYTES
    # ... and keeps the photos people have: a 50-megapixel camera JPEG fits.
    assert decode_cost_bytes(8660, 5774, "RGB", rotated=True) <= DEFAULT_MAX_IMAGE_BYTES


def _cut_scan(data: bytes, keep: float) -> bytes:
    """``data`` with all but ``keep`` of its scan data cut out and the end marker re-appended."""
    sos = next(s for s in iter_jpeg_segments(data) if s.kind == b"\xff\xda")
    scan = len(data) - sos.end
    return data[: sos.end + int(scan * keep)] + b"\xff\xd9"


def test_jpeg_with_scan_data_cut_out_carries_a_pixel_warning() -> None:
    whole = load_image_bytes(_photo_jpeg(), "whole.jpg")
    assert whole.pixel_warnings == []
    cut = load_image_bytes(_cut_scan(_photo_jpeg(), 0.2), "cut.jpg")
    assert grey_fill_lines(cut.pixels) >= 100
    assert cut.pixel_warnings and "truncated" in cut.pixel_warnings[0]
    assert cut.pixel_warnings[0] in cut.notes


@pytest.mark.parametrize("colour", [(0, 0, 0), (128, 128, 128), (255, 255, 255), (200, 10, 10)])
def test_uniform_images_carry_a_pixel_warning(colour: tuple[int, int, int]) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buf, "PNG")
    image = load_image_bytes(buf.getvalue(), "flat.png")
    assert image.pixel_warnings and "single flat colour" in image.pixel_warnings[0]


@dataclass
class _Prediction:
    p_ai: float
    signals: list[SignalResult] = field(default_factory=list)


class _ConfidentlyRealModel:
    """A test double that calls every image camera-made, as the default model did on these."""

    name = "confidently-real"

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
        return _Prediction(0.03)


def _scan(data: bytes, name: str) -> tuple[str, float | None, list[str]]:
    detector = Detector(signals=[], pixel_model=_ConfidentlyRealModel())
    result = detector.scan_image(load_image_bytes(data, name))
    return result.verdict, result.p_ai, result.notes


def test_damaged_and_blank_images_are_never_called_real() -> None:
    assert _scan(_photo_jpeg(), "ok.jpg")[0] == "real"
    verdict, p_ai, notes = _scan(_cut_scan(_photo_jpeg(), 0.2), "cut.jpg")
    assert (verdict, p_ai) == ("unsure", 0.03)
    assert any("truncated" in n for n in notes)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "PNG")
    verdict, _, notes = _scan(buf.getvalue(), "black.png")
    assert verdict == "unsure"
    assert any("single flat colour" in n for n in notes)


def _tiff_rows_per_strip_zero() -> bytes:
    """An LZW TIFF whose RowsPerStrip is 0: libtiff prints an error about it on stderr."""
    arr = (np.indices((40, 50)).sum(axis=0) % 9 * 25).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.dstack([arr] * 3)).save(buf, "TIFF", compression="tiff_lzw")
    data = bytearray(buf.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack("<H", data[entry : entry + 2])[0] == 278:  # RowsPerStrip
            data[entry + 8 : entry + 12] = struct.pack("<I", 0)
    return bytes(data)


def test_libtiff_messages_become_part_of_the_error_not_stderr(tmp_path: Path) -> None:
    path = tmp_path / "strips.tif"
    path.write_bytes(_tiff_rows_per_strip_zero())
    code = (
        "import sys\n"
        "from synthcheck.intake.decode import load_image\n"
        "try:\n"
        "    load_image(sys.argv[1])\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.stderr == ""  # nothing reached the terminal behind the scan's back
    assert done.stdout.startswith("CorruptImageError")
    assert "RowsPerStrip" in done.stdout
