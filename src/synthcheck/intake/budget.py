"""What a decode may cost, judged from the header before any pixel is decoded.

Two checks run on the declared size and colour mode:

* **Memory budget.** Decoding keeps Pillow's own buffer (4 bytes a pixel for RGB), the RGB8 array
  the signals read, the conversion copies of the colour mode (palette expansion, alpha
  compositing, 16-bit scaling, EXIF rotation) and what the analysis allocates per pixel. Their
  sum is compared with a budget in bytes, so one file cannot take a worker past its memory
  whatever its mode; the pixel budget alone let a 14000 x 14000 file use 3 GB.
* **Plausibility.** A file whose bytes are far too few for the pixels it declares (a 700-byte JPEG
  that claims 14000 x 14000, an 80-byte PNG that claims 199 megapixels) is a forged header or a
  decompression bomb: no photograph or generated picture compresses that far. It is refused
  before the decoder allocates anything.
"""

from __future__ import annotations

from synthcheck.errors import ImageTooLargeError

__all__ = [
    "DEFAULT_MAX_IMAGE_BYTES",
    "MAX_COMPRESSION_RATIO",
    "PLAUSIBILITY_MIN_PIXELS",
    "check_decode_budget",
    "check_plausible_size",
    "decode_cost_bytes",
]

#: Default memory budget for one image (decode, conversions and analysis): with the models of the
#: heaviest profile loaded (about 450 MB) a worker stays under 1.5 GB.
DEFAULT_MAX_IMAGE_BYTES = 1024 * 1024**2

# Bytes per pixel of Pillow's buffer for each mode (RGB is stored with a pad byte).
# LibRaw ("RAW") holds the mosaic (2 bytes) and a 4-channel 16-bit image (8 bytes).
_PILLOW_BYTES = {"RAW": 10, "1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# Extra bytes per pixel that the conversion to RGB8 holds at its peak, beyond Pillow's buffer:
# the array handed to numpy, the intermediate RGB/RGBA image, float copies for 32-bit data.
_CONVERSION_BYTES = {
    "RGB": 3,
    "RAW": 3,  # the 8-bit RGB output
    "L": 7,  # convert("RGB") (4) + array (3)
    "P": 7,
    "1": 7,
    "RGBA": 11,  # convert("RGBA") (4) + array (4) + composited RGB8 (3)
    "LA": 11,
    "PA": 11,
    "I;16": 5,  # array (2) + RGB8 (3)
    "I;16B": 5,
    "I;16L": 5,
    "I;16N": 5,
    "I": 11,  # array (4) + nan-free copy (4) + RGB8 (3)
    "F": 11,
}
_DEFAULT_CONVERSION = 7
#: Bytes per pixel that the signals and the pixel model allocate beyond the RGB8 array at most
#: (whole-image views, the watermark search's planes), measured on 24-megapixel JPEGs.
ANALYSIS_BYTES_PER_PIXEL = 4

#: Raw bytes (8 bits a sample) per compressed byte beyond which a declared size is implausible.
#: Deflate cannot exceed about 1032:1; uniform baseline JPEGs reach a few hundred to one; lossless
#: WebP and AV1/HEVC still pictures reach further on flat content, so they get more room.
MAX_COMPRESSION_RATIO = {"WEBP": 20_000, "HEIF": 20_000, "AVIF": 20_000}
_DEFAULT_RATIO = 4_000
#: Images smaller than this are never judged implausible: their headers dominate the file.
PLAUSIBILITY_MIN_PIXELS = 4_000_000


def decode_cost_bytes(width: int, height: int, mode: str, *, rotated: bool = False) -> int:
    """Peak bytes that decoding and analysing a ``width`` x ``height`` image in ``mode`` holds."""
    per_pixel = _PILLOW_BYTES.get(mode, 4)
    per_pixel += _CONVERSION_BYTES.get(mode, _DEFAULT_CONVERSION)
    if rotated:  # exif_transpose makes a rotated copy of Pillow's buffer
        per_pixel += _PILLOW_BYTES.get(mode, 4)
    return width * height * (per_pixel + ANALYSIS_BYTES_PER_PIXEL)


def check_decode_budget(
    path: str, width: int, height: int, mode: str, max_bytes: int, *, rotated: bool = False
) -> None:
    """Raise :class:`ImageTooLargeError` when decoding would need more than ``max_bytes``."""
    cost = decode_cost_bytes(width, height, mode, rotated=rotated)
    if cost > max_bytes:
        raise ImageTooLargeError(
            path,
            f"{width}x{height} ({mode}) needs about {_mb(cost)} to decode and analyse, over the "
            f"memory budget of {_mb(max_bytes)} (refused before decoding; raise it with "
            "--max-image-memory)",
        )


def check_plausible_size(path: str, fmt: str, width: int, height: int, file_bytes: int) -> None:
    """Raise :class:`ImageTooLargeError` when ``file_bytes`` is far too few for the pixels."""
    pixels = width * height
    if pixels < PLAUSIBILITY_MIN_PIXELS:
        return
    ratio = MAX_COMPRESSION_RATIO.get(fmt, _DEFAULT_RATIO)
    if pixels * 3 > ratio * max(file_bytes, 1):
        raise ImageTooLargeError(
            path,
            f"the {file_bytes:,}-byte {fmt} file declares {width}x{height} pixels, more than "
            f"{ratio:,} times its size in raw pixels: a forged header or a decompression bomb "
            "(refused before decoding)",
        )


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB"
