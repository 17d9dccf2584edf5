"""A numpy + PyWavelets port of invisible-watermark's dwtDct *encoder*, for tests only.

It follows ``imwatermark.maxDct.EmbedMaxDct.encode`` step by step, including its quirks: only the
U channel is marked (scales ``[0, 36, 36]`` and ``for channel in range(2)``), the LL band is
marked block by block without any DCT, the detail bands go back to ``idwt2`` as ``(v, h, d)``
(swapped), and for 8-bit input the reconstructed U plane is cast back to uint8 by truncation.
OpenCV's colour conversions are reproduced: the 14-bit fixed-point formulas for 8-bit images and
the float formulas (delta 0.5) for float images.

Two entry points mirror how generators call it:

* :func:`embed_uint8` - the CompVis / Stability SD 1 and SD 2 scripts: PIL RGB -> BGR uint8 ->
  ``encode`` -> RGB.
* :func:`embed_float` - diffusers' SDXL watermarker (``rgb_as_bgr=True``: it hands RGB floats to an
  encoder that expects BGR) and generative-models / FLUX reference code (``rgb_as_bgr=False``),
  followed by the pipelines' clamp and round to uint8.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pywt
from numpy.typing import NDArray

__all__ = ["bits_of_bytes", "embed_float", "embed_uint8", "encode_bgr_uint8"]

SHIFT = 14
HALF = 1 << (SHIFT - 1)
B2Y, G2Y, R2Y, B2U, R2V = 1868, 9617, 4899, 8061, 14369
U2B, U2G, V2G, V2R = 33292, -6472, -9519, 18678
SCALES = (0.0, 36.0, 36.0)
BLOCK = 4


def bits_of_bytes(content: bytes) -> list[int]:
    """``WatermarkEncoder.set_watermark("bytes", content)``."""
    return [int(b) for b in np.unpackbits(np.frombuffer(content, dtype=np.uint8))]


def _descale(x: NDArray[np.int64]) -> NDArray[np.int64]:
    return (x + HALF) >> SHIFT


def bgr2yuv_uint8(bgr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``cv2.cvtColor(bgr, COLOR_BGR2YUV)`` for uint8."""
    b, g, r = (bgr[..., i].astype(np.int64) for i in range(3))
    y = _descale(b * B2Y + g * G2Y + r * R2Y)
    u = _descale((b - y) * B2U + (128 << SHIFT))
    v = _descale((r - y) * R2V + (128 << SHIFT))
    return np.clip(np.stack([y, u, v], axis=-1), 0, 255).astype(np.uint8)


def yuv2bgr_uint8(yuv: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``cv2.cvtColor(yuv, COLOR_YUV2BGR)`` for uint8."""
    y, u, v = (yuv[..., i].astype(np.int64) for i in range(3))
    b = y + _descale((u - 128) * U2B)
    g = y + _descale((u - 128) * U2G + (v - 128) * V2G)
    r = y + _descale((v - 128) * V2R)
    return np.clip(np.stack([b, g, r], axis=-1), 0, 255).astype(np.uint8)


def bgr2yuv_float(bgr: NDArray[np.float32]) -> NDArray[np.float32]:
    """``cv2.cvtColor(bgr, COLOR_BGR2YUV)`` for float32 (chroma offset 0.5)."""
    b, g, r = bgr[..., 0], bgr[..., 1], bgr[..., 2]
    y = np.float32(0.114) * b + np.float32(0.587) * g + np.float32(0.299) * r
    u = (b - y) * np.float32(0.492) + np.float32(0.5)
    v = (r - y) * np.float32(0.877) + np.float32(0.5)
    return np.stack([y, u, v], axis=-1).astype(np.float32)


def yuv2bgr_float(yuv: NDArray[np.float32]) -> NDArray[np.float32]:
    """``cv2.cvtColor(yuv, COLOR_YUV2BGR)`` for float32."""
    y, u, v = yuv[..., 0], yuv[..., 1] - np.float32(0.5), yuv[..., 2] - np.float32(0.5)
    b = y + np.float32(2.032) * u
    g = y + np.float32(-0.395) * u + np.float32(-0.581) * v
    r = y + np.float32(1.140) * v
    return np.stack([b, g, r], axis=-1).astype(np.float32)


def _diffuse(block: NDArray[np.floating], bit: int, scale: float) -> None:
    """``EmbedMaxDct.diffuse_dct_matrix``, in place."""
    flat = block.reshape(-1)
    pos = int(np.argmax(np.abs(flat[1:]))) + 1
    i, j = divmod(pos, BLOCK)
    val = block[i, j]
    magnitude = (abs(val) // scale + 0.25 + 0.5 * bit) * scale
    block[i, j] = magnitude if val >= 0.0 else -magnitude


def _encode_frame(frame: NDArray[np.floating], bits: Sequence[int], scale: float) -> None:
    rows, cols = frame.shape
    num = 0
    for i in range(rows // BLOCK):
        for j in range(cols // BLOCK):
            block = frame[i * BLOCK : (i + 1) * BLOCK, j * BLOCK : (j + 1) * BLOCK]
            _diffuse(block, bits[num % len(bits)], scale)
            num += 1


def _encode_yuv(yuv: NDArray[np.generic], bits: Sequence[int]) -> None:
    rows, cols = yuv.shape[0] // 4 * 4, yuv.shape[1] // 4 * 4
    for channel in range(2):
        if SCALES[channel] <= 0:
            continue
        ca, (h, v, d) = pywt.dwt2(yuv[:rows, :cols, channel], "haar")
        _encode_frame(ca, bits, SCALES[channel])
        yuv[:rows, :cols, channel] = pywt.idwt2((ca, (v, h, d)), "haar")


def encode_bgr_uint8(bgr: NDArray[np.uint8], bits: Sequence[int]) -> NDArray[np.uint8]:
    """``WatermarkEncoder.encode(bgr, "dwtDct")`` for an 8-bit BGR image."""
    if bgr.shape[0] * bgr.shape[1] < 256 * 256:
        raise ValueError("image too small, should be larger than 256x256")
    yuv = bgr2yuv_uint8(bgr)
    _encode_yuv(yuv, bits)
    return yuv2bgr_uint8(yuv)


def embed_uint8(rgb: NDArray[np.uint8], bits: Sequence[int]) -> NDArray[np.uint8]:
    """The SD 1 / SD 2 scripts' ``put_watermark``: RGB -> BGR -> encode -> RGB."""
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    return np.ascontiguousarray(encode_bgr_uint8(bgr, bits)[..., ::-1])


def embed_float(
    rgb: NDArray[np.uint8], bits: Sequence[int], *, rgb_as_bgr: bool
) -> NDArray[np.uint8]:
    """Float-pipeline watermarking (diffusers SDXL, generative-models, FLUX), then to uint8.

    The image goes in as ``255 * x`` float32; with ``rgb_as_bgr`` the RGB array is handed to the
    encoder unchanged (diffusers), otherwise it is flipped to BGR and back. The result is clamped
    to [0, 255] and rounded, as the pipelines' ``numpy_to_pil`` does.
    """
    image = rgb.astype(np.float32)
    bgr = image if rgb_as_bgr else np.ascontiguousarray(image[..., ::-1])
    yuv = bgr2yuv_float(bgr)
    _encode_yuv(yuv, bits)
    out = yuv2bgr_float(yuv)
    out = out if rgb_as_bgr else out[..., ::-1]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
