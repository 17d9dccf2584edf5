"""Convert a decoded Pillow image of any mode to H x W x 3 uint8 RGB, at its native size."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = ["SIXTEEN_BIT_MODES", "has_alpha", "to_rgb8"]

SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


def has_alpha(im: Image.Image) -> bool:
    """True when ``im`` carries transparency (an alpha band or a transparent palette entry)."""
    return im.mode in _ALPHA_MODES or (im.mode in ("P", "L", "RGB") and "transparency" in im.info)


def to_rgb8(im: Image.Image) -> NDArray[np.uint8]:
    """RGB pixels of ``im``: 16-bit scaled to 8-bit, palette expanded, alpha composited on white.

    Raises ValueError for colour modes Pillow cannot convert to RGB.
    """
    mode = im.mode
    if mode in SIXTEEN_BIT_MODES:
        grey = _scale_to_8bit(np.asarray(im, dtype=np.float64), 65535.0)
        return _grey_to_rgb(grey)
    if mode == "I":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min(initial=0.0)), float(arr.max(initial=0.0))
        # 32-bit integer images are 16-bit data in practice (PNG/TIFF); scale by the type range
        # when it fits, so a dark picture stays dark, otherwise by the data range.
        if lo >= 0 and hi <= 65535:
            return _grey_to_rgb(_scale_to_8bit(arr, 65535.0 if hi > 255 else 255.0))
        return _grey_to_rgb(_scale_to_8bit(arr - lo, max(hi - lo, 1.0)))
    if mode == "F":
        arr = np.nan_to_num(np.asarray(im, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(arr.min(initial=0.0)), float(arr.max(initial=0.0))
        if lo >= 0.0 and hi <= 1.0:
            return _grey_to_rgb(_scale_to_8bit(arr, 1.0))
        return _grey_to_rgb(_scale_to_8bit(arr - lo, max(hi - lo, 1e-12)))
    if has_alpha(im):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return np.ascontiguousarray(np.asarray(background.convert("RGB"), dtype=np.uint8))
    if mode == "RGB":
        return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def _scale_to_8bit(arr: NDArray[np.float64], peak: float) -> NDArray[np.uint8]:
    return np.clip(arr * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)


def _grey_to_rgb(grey: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=-1))
