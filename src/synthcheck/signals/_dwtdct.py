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

The float readings (pipelines that hand float arrays to the encoder) are linear in the pixels, and
so is the Haar LL band: their LL is a weighted sum of each colour channel's 2 x 2 pixel sums, which
:func:`read_votes` computes once and shares between the two float readings. They agree with
reading a float32 U plane up to its rounding (a vote differs only where ``|c| mod 36`` lies within
about 1e-4 of 18).

:func:`read_votes` can also read an evenly spaced sample of block rows instead of every one
(``max_blocks``): each strip of block rows carries every payload bit, in imwatermark's order, so a
mark laid over the whole image shows in any such sample; the caller decides when the sample is
not enough and reads the rest.

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
    "read_votes",
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
# block), large enough for numpy to stay efficient, small enough to bound temporaries. A sample
# (``max_blocks``) takes whole strips, so a smaller strip spreads it over more of the image.
_STRIP_ROWS = 256
_SAMPLE_STRIP_ROWS = 64
# OpenCV's float BGR -> YUV: Y = 0.114 B + 0.587 G + 0.299 R, U = 0.492 (B - Y) + 0.5.
_Y_B, _Y_G, _Y_R, _U_SCALE, _U_OFFSET = 0.114, 0.587, 0.299, 0.492, 0.5
# U is linear in B, G, R, and one Haar LL sample is _LO**2 = 1/2 times a 2 x 2 pixel sum, so
# LL(U) = 0.5 * (wb * sum(B) + wg * sum(G) + wr * sum(R)) + 4 * 0.5 * _U_OFFSET.
_FLOAT_WB = _U_SCALE * (1.0 - _Y_B)
_FLOAT_WG = -_U_SCALE * _Y_G
_FLOAT_WR = -_U_SCALE * _Y_R
_FLOAT_LL_OFFSET = 2.0 * _U_OFFSET


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
    y = np.float32(_Y_B) * b + np.float32(_Y_G) * rgb[..., 1] + np.float32(_Y_R) * red
    u: NDArray[np.float32] = (b - y) * np.float32(_U_SCALE) + np.float32(_U_OFFSET)
    return u


def _ll_votes(ll: NDArray[np.float64], n_cols: int) -> NDArray[np.uint8]:
    """Block votes (1 where ``|c| mod 36 > 18``) of an LL band, raster order."""
    n_rows = ll.shape[0] // BLOCK
    blocks = (
        ll[: n_rows * BLOCK, : n_cols * BLOCK]
        .reshape(n_rows, BLOCK, n_cols, BLOCK)
        .transpose(0, 2, 1, 3)
        .reshape(n_rows * n_cols, BLOCK * BLOCK)
    )
    # The largest magnitude itself (imwatermark looks it up by its argmax; same value).
    peak = np.abs(blocks[:, 1:]).max(axis=1)
    votes: NDArray[np.uint8] = (np.remainder(peak, SCALE) > 0.5 * SCALE).astype(np.uint8)
    return votes


def _strip_votes(u: NDArray[np.uint8] | NDArray[np.float32], n_cols: int) -> NDArray[np.uint8]:
    """Block votes of one strip of U, raster order."""
    return _ll_votes(haar_ll(u), n_cols)


def _pair_sums(channel: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Every 2 x 2 pixel sum (exact integers, as float64) of an even-sized channel."""
    x = channel.astype(np.int32)
    rows = x[0::2] + x[1::2]
    return (rows[:, 0::2] + rows[:, 1::2]).astype(np.float64)


@dataclass(frozen=True)
class BlockVotes:
    """Per-block bit votes of one image, in imwatermark's block order.

    ``index`` holds each vote's block number when only a sample of the blocks was read (None: all
    ``rows * cols`` blocks, in order).
    """

    votes: NDArray[np.uint8]
    rows: int
    cols: int
    index: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.votes.shape[0])

    @property
    def complete(self) -> bool:
        """Whether every block of the image was read."""
        return self.index is None


def _strip_tops(
    n_block_rows: int, n_block_cols: int, max_blocks: int | None
) -> tuple[list[int], int, bool]:
    """Top image row of each strip to read, the strip height, and whether that is a sample:
    every strip, or evenly spaced ones totalling about ``max_blocks`` blocks."""
    height = n_block_rows * 8
    if max_blocks is None or n_block_rows * n_block_cols <= max_blocks:
        return list(range(0, height, _STRIP_ROWS)), _STRIP_ROWS, False
    per_strip = (_SAMPLE_STRIP_ROWS // 8) * n_block_cols
    n_strips = -(-height // _SAMPLE_STRIP_ROWS)
    take = min(n_strips, max(1, -(-max_blocks // per_strip)))
    tops = [(i * n_strips // take) * _SAMPLE_STRIP_ROWS for i in range(take)]
    return tops, _SAMPLE_STRIP_ROWS, take < n_strips


def read_votes(
    rgb: NDArray[np.uint8],
    readings: tuple[tuple[bool, bool], ...],
    *,
    max_blocks: int | None = None,
) -> list[BlockVotes]:
    """Block votes of ``rgb`` (H x W x 3 uint8 RGB) for several readings in one pass.

    Each reading is ``(swap_rb, float_path)`` as in :func:`block_votes`. With ``max_blocks``, an
    image of more blocks than that is read in evenly spaced strips of block rows covering about
    ``max_blocks`` blocks (the votes then carry their block numbers); otherwise every block.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 array, got {rgb.dtype} {rgb.shape}")
    # LL has (H // 4 * 4) / 2 rows, cut into blocks of 4: H // 8 block rows (same for columns).
    n_block_rows, n_block_cols = rgb.shape[0] // 8, rgb.shape[1] // 8
    width, height = n_block_cols * 8, n_block_rows * 8
    tops, rows_per_strip, sampled = _strip_tops(n_block_rows, n_block_cols, max_blocks)
    parts: list[list[NDArray[np.uint8]]] = [[] for _ in readings]
    for top in tops:
        strip = rgb[top : min(top + rows_per_strip, height), :width]
        sums: tuple[NDArray[np.float64], ...] | None = None
        for k, (swap_rb, float_path) in enumerate(readings):
            if not float_path:
                parts[k].append(_strip_votes(u_channel(strip, swap_rb=swap_rb), n_block_cols))
                continue
            if sums is None:
                sums = tuple(_pair_sums(strip[..., c]) for c in range(3))  # R, G, B
            red, green, blue = sums
            if swap_rb:
                red, blue = blue, red
            ll = 0.5 * (_FLOAT_WB * blue + _FLOAT_WG * green + _FLOAT_WR * red) + _FLOAT_LL_OFFSET
            parts[k].append(_ll_votes(ll, n_block_cols))
    index: NDArray[np.int64] | None = None
    if sampled:
        block_rows = [
            np.arange(top // 8, min(top + rows_per_strip, height) // 8, dtype=np.int64)
            for top in tops
        ]
        rows = np.concatenate(block_rows)
        index = (rows[:, None] * n_block_cols + np.arange(n_block_cols)).reshape(-1)
    return [
        BlockVotes(
            votes=np.concatenate(p) if p else np.zeros(0, dtype=np.uint8),
            rows=n_block_rows,
            cols=n_block_cols,
            index=index,
        )
        for p in parts
    ]


def block_votes(
    rgb: NDArray[np.uint8], *, swap_rb: bool = False, float_path: bool = False
) -> BlockVotes:
    """Every 4 x 4 LL block's vote for ``rgb`` (H x W x 3 uint8 RGB), as imwatermark reads them.

    ``swap_rb`` reads the RGB array as BGR (see :func:`u_channel`); ``float_path`` reads U the way
    an encoder fed float arrays saw it (:func:`u_channel_float`, up to its float32 rounding)
    instead of imwatermark's own 8-bit decoder.

    Only the region covered by whole blocks (``H // 8 * 8`` x ``W // 8 * 8`` pixels) influences
    the votes, exactly as in imwatermark; it is processed in strips of rows.
    """
    (votes,) = read_votes(rgb, ((swap_rb, float_path),))
    return votes


def majority_bits(votes: BlockVotes, length: int) -> NDArray[np.uint8]:
    """The ``length`` payload bits imwatermark would decode from ``votes``.

    Bit ``k`` is the majority of the blocks ``n`` with ``n % length == k`` (imwatermark's
    ``mean * 255 > 127``, so a tie decodes as 1); a bit that no block carries decodes as 0, as
    imwatermark's NaN mean does.
    """
    if length <= 0:
        raise ValueError(f"payload length must be positive, got {length}")
    slot = (np.arange(len(votes)) if votes.index is None else votes.index) % length
    ones = np.bincount(slot, weights=votes.votes, minlength=length)
    total = np.bincount(slot, minlength=length)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = ones / total
    bits: NDArray[np.uint8] = (np.nan_to_num(mean, nan=0.0) * 255 > 127).astype(np.uint8)
    return bits
