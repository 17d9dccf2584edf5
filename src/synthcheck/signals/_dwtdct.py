"""Decoder for the ``dwtDct`` method of the invisible-watermark package, in numpy + PyWavelets.

``imwatermark.WatermarkEncoder.encode(bgr, "dwtDct")`` (class ``EmbedMaxDct``, scales
``[0, 36, 36]``, block 4) does, for an 8-bit BGR image of at least 256 x 256 pixels:

1. ``cv2.cvtColor(bgr, COLOR_BGR2YUV)``; only channel 1 (U) is used: Y has scale 0 and the loop
   ``for channel in range(2)`` never reaches V.
2. A one-level Haar DWT (``pywt.dwt2``) of U cropped to a multiple of 4 pixels each way.
3. The LL band is cut into 4 x 4 blocks in raster order; block ``n`` carries bit ``n % len``. In
   each block the coefficient of largest magnitude, excluding the first (top-left) one, is
   quantised so that ``|c| mod 36`` is 9 for a 0 bit and 27 for a 1 bit. Despite the name no DCT
   is applied: ``infer_dct_matrix`` works on the LL block itself.

Decoding reads ``|c| mod 36 > 18`` in each block and takes the per-bit majority
(``mean * 255 > 127``). Here U is computed with OpenCV's 14-bit fixed-point arithmetic for 8-bit
images so that every block vote matches ``WatermarkDecoder.decode(bgr, "dwtDct")``; the image is
processed in row strips so memory stays bounded for large images.

The mark is fragile by design: it lives in the exact block grid of the pixels as they left the
generator, so resizing, cropping from the top or left, rotation, or heavy compression removes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pywt
from numpy.typing import NDArray

__all__ = [
    "BLOCK",
    "MIN_PIXELS",
    "SCALE",
    "BlockVotes",
    "block_votes",
    "haar_ll",
    "majority_bits",
    "u_channel",
    "u_channel_float",
]

BLOCK = 4
SCALE = 36.0
#: imwatermark refuses images with fewer pixels than this (``r * c < 256 * 256``).
MIN_PIXELS = 256 * 256

# OpenCV's fixed-point BGR -> YUV coefficients for 8-bit images (yuv_shift = 14).
_SHIFT = 14
_HALF = 1 << (_SHIFT - 1)
_B2Y, _G2Y, _R2Y = 1868, 9617, 4899
_B2U = 8061
_DELTA = 128 << _SHIFT
# Both taps of the Haar low-pass filter are 1/sqrt(2); PyWavelets' value is taken as is.
_LO = np.float64(pywt.Wavelet("haar").dec_lo[0])

# Image rows decoded per strip: a multiple of 8 (two LL rows per image row pair, 4 LL rows per
# block), large enough for numpy to stay efficient, small enough to bound temporaries.
_STRIP_ROWS = 256


def u_channel(rgb: NDArray[np.uint8], *, swap_rb: bool = False) -> NDArray[np.uint8]:
    """The U plane that ``cv2.cvtColor(bgr, COLOR_BGR2YUV)`` gives for 8-bit input.

    ``rgb`` is H x W x 3 in RGB order (as synthcheck decodes images); it is read as the BGR array
    imwatermark would see after ``cv2.cvtColor(rgb, COLOR_RGB2BGR)``. With ``swap_rb`` the RGB
    array itself is taken as BGR, which is what pipelines that hand RGB arrays straight to the
    encoder (diffusers' ``StableDiffusionXLWatermarker``) effectively embedded into.
    """
    blue, red = (rgb[..., 0], rgb[..., 2]) if swap_rb else (rgb[..., 2], rgb[..., 0])
    b = blue.astype(np.int32)
    y = (
        b * _B2Y + rgb[..., 1].astype(np.int32) * _G2Y + red.astype(np.int32) * _R2Y + _HALF
    ) >> _SHIFT
    u = ((b - y) * _B2U + _DELTA + _HALF) >> _SHIFT
    plane: NDArray[np.uint8] = np.clip(u, 0, 255).astype(np.uint8)
    return plane


def haar_ll(plane: NDArray[np.uint8] | NDArray[np.float32]) -> NDArray[np.float64]:
    """The approximation (LL) band of ``pywt.dwt2(plane, "haar")`` for a plane of even size.

    Computed directly, rows then columns with PyWavelets' own filter taps and the same floating
    point operations, so the result is bit-identical (a test pins this) at a tenth of the cost:
    ``dwt2`` would also compute the three detail bands that dwtDct never reads.
    """
    x = plane.astype(np.float64)
    rows = _LO * x[0::2] + _LO * x[1::2]
    ll: NDArray[np.float64] = _LO * rows[:, 0::2] + _LO * rows[:, 1::2]
    return ll


def u_channel_float(rgb: NDArray[np.uint8], *, swap_rb: bool = False) -> NDArray[np.float32]:
    """The U plane that ``cv2.cvtColor`` gives for float32 input holding 0-255 values.

    OpenCV's float formula adds a chroma offset of 0.5 (it assumes [0, 1] images), not 128, so
    pipelines that watermark float arrays (diffusers, generative-models, FLUX) mark LL values near
    zero; reading the same pixels through the 8-bit formula looks at values near 256, where the
    "largest coefficient" of a block is often another one.
    """
    blue, red = (rgb[..., 0], rgb[..., 2]) if swap_rb else (rgb[..., 2], rgb[..., 0])
    b = blue.astype(np.float32)
    y = np.float32(0.114) * b + np.float32(0.587) * rgb[..., 1] + np.float32(0.299) * red
    u: NDArray[np.float32] = (b - y) * np.float32(0.492) + np.float32(0.5)
    return u


def _strip_votes(u: NDArray[np.uint8] | NDArray[np.float32], n_cols: int) -> NDArray[np.uint8]:
    """Block votes (1 where ``|c| mod 36 > 18``) of one strip of U, raster order."""
    ll = haar_ll(u)
    n_rows = ll.shape[0] // BLOCK
    blocks = (
        ll[: n_rows * BLOCK, : n_cols * BLOCK]
        .reshape(n_rows, BLOCK, n_cols, BLOCK)
        .transpose(0, 2, 1, 3)
        .reshape(n_rows * n_cols, BLOCK * BLOCK)
    )
    magnitude = np.abs(blocks[:, 1:])
    peak = magnitude[np.arange(magnitude.shape[0]), np.argmax(magnitude, axis=1)]
    votes: NDArray[np.uint8] = (np.remainder(peak, SCALE) > 0.5 * SCALE).astype(np.uint8)
    return votes


@dataclass(frozen=True)
class BlockVotes:
    """Per-block bit votes of one image, in imwatermark's block order."""

    votes: NDArray[np.uint8]
    rows: int
    cols: int

    def __len__(self) -> int:
        return int(self.votes.shape[0])


def block_votes(
    rgb: NDArray[np.uint8], *, swap_rb: bool = False, float_path: bool = False
) -> BlockVotes:
    """Every 4 x 4 LL block's vote for ``rgb`` (H x W x 3 uint8 RGB), as imwatermark reads them.

    ``swap_rb`` reads the RGB array as BGR (see :func:`u_channel`); ``float_path`` reads U the way
    an encoder fed float arrays saw it (:func:`u_channel_float`) instead of imwatermark's own
    8-bit decoder.

    Only the region covered by whole blocks (``H // 8 * 8`` x ``W // 8 * 8`` pixels) influences
    the votes, exactly as in imwatermark; it is processed in strips of rows.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 array, got {rgb.dtype} {rgb.shape}")
    # LL has (H // 4 * 4) / 2 rows, cut into blocks of 4: H // 8 block rows (same for columns).
    n_block_rows, n_block_cols = rgb.shape[0] // 8, rgb.shape[1] // 8
    width = n_block_cols * 8
    parts: list[NDArray[np.uint8]] = []
    for top in range(0, n_block_rows * 8, _STRIP_ROWS):
        bottom = min(top + _STRIP_ROWS, n_block_rows * 8)
        strip = rgb[top:bottom, :width]
        u = (
            u_channel_float(strip, swap_rb=swap_rb)
            if float_path
            else u_channel(strip, swap_rb=swap_rb)
        )
        parts.append(_strip_votes(u, n_block_cols))
    votes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
    return BlockVotes(votes=votes, rows=n_block_rows, cols=n_block_cols)


def majority_bits(votes: BlockVotes, length: int) -> NDArray[np.uint8]:
    """The ``length`` payload bits imwatermark would decode from ``votes``.

    Bit ``k`` is the majority of the blocks ``n`` with ``n % length == k`` (imwatermark's
    ``mean * 255 > 127``, so a tie decodes as 1); a bit that no block carries decodes as 0, as
    imwatermark's NaN mean does.
    """
    if length <= 0:
        raise ValueError(f"payload length must be positive, got {length}")
    slot = np.arange(len(votes)) % length
    ones = np.bincount(slot, weights=votes.votes, minlength=length)
    total = np.bincount(slot, minlength=length)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = ones / total
    bits: NDArray[np.uint8] = (np.nan_to_num(mean, nan=0.0) * 255 > 127).astype(np.uint8)
    return bits
