"""Laundering transforms: what happens to images on their way to a user (training and benchmarks).

Training on laundered copies stops a detector from learning format, size or JPEG quality as a
shortcut; benchmarks apply the fixed conditions (``jpeg(q=60)``, ``resize(0.5)``).
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = ["encode_decode", "jpeg", "launder", "launder_hard", "random_crop", "resize"]


def encode_decode(pixels: NDArray[np.uint8], fmt: str, quality: int = 90) -> NDArray[np.uint8]:
    """Round-trip ``pixels`` through an encoder ("JPEG", "WEBP" or "PNG")."""
    buf = io.BytesIO()
    img = Image.fromarray(pixels)
    if fmt == "PNG":
        img.save(buf, format="PNG", compress_level=1)
    else:
        img.save(buf, format=fmt, quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as out:
        return np.asarray(out.convert("RGB"), dtype=np.uint8)


def jpeg(pixels: NDArray[np.uint8], quality: int) -> NDArray[np.uint8]:
    """JPEG re-encode at ``quality`` (4:2:0, Pillow defaults)."""
    return encode_decode(pixels, "JPEG", quality)


def resize(pixels: NDArray[np.uint8], factor: float) -> NDArray[np.uint8]:
    """Resize by ``factor`` (bicubic, antialiased when shrinking); at least 16 px a side."""
    h, w = pixels.shape[:2]
    nh, nw = max(16, round(h * factor)), max(16, round(w * factor))
    if (nh, nw) == (h, w):
        return pixels
    out = Image.fromarray(pixels).resize((nw, nh), Image.Resampling.BICUBIC)
    return np.asarray(out, dtype=np.uint8)


def random_crop(
    pixels: NDArray[np.uint8], rng: np.random.Generator, min_frac: float = 0.6
) -> NDArray[np.uint8]:
    """A random crop keeping ``min_frac``..1 of each side (offsets not aligned to JPEG blocks)."""
    h, w = pixels.shape[:2]
    ch = max(16, int(h * rng.uniform(min_frac, 1.0)))
    cw = max(16, int(w * rng.uniform(min_frac, 1.0)))
    y = int(rng.integers(0, h - ch + 1))
    x = int(rng.integers(0, w - cw + 1))
    return pixels[y : y + ch, x : x + cw]


def launder(pixels: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    """One random laundering: crop (p=0.5), resize 0.5-1.5x (p=0.7), then JPEG q50-100 (60%),
    WebP q50-100 (20%) or PNG (20%)."""
    out = pixels
    if rng.random() < 0.5:
        out = random_crop(out, rng)
    if rng.random() < 0.7:
        out = resize(out, float(np.exp(rng.uniform(np.log(0.5), np.log(1.5)))))
    u = rng.random()
    if u < 0.6:
        return jpeg(out, int(rng.integers(50, 101)))
    if u < 0.8:
        return encode_decode(out, "WEBP", int(rng.integers(50, 101)))
    return encode_decode(out, "PNG")


def launder_hard(pixels: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    """A heavy laundering, as social platforms apply: crop (p=0.5), shrink 0.5-1x (p=0.5), then
    always JPEG q50-75. :func:`launder` spreads over quality 50-100 and three formats, so strong
    JPEG is rare in it; this view puts it in every training image."""
    out = pixels
    if rng.random() < 0.5:
        out = random_crop(out, rng)
    if rng.random() < 0.5:
        out = resize(out, float(rng.uniform(0.5, 1.0)))
    return jpeg(out, int(rng.integers(50, 76)))
