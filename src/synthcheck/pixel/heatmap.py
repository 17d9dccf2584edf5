"""Heatmap overlays: the tile grid of p_ai drawn over the image (numpy colours, no matplotlib)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from synthcheck.errors import ConfigError

__all__ = ["colorize", "render_heatmap"]

# Anchor colours of a blue (real) -> yellow (unsure) -> red (ai) ramp, at p = 0, 0.5, 1.
_ANCHORS = np.array(
    [
        [0.0, 0.0, 0.0, 1.0],
        [0.25, 0.0, 0.75, 1.0],
        [0.5, 1.0, 0.9, 0.2],
        [0.75, 1.0, 0.45, 0.0],
        [1.0, 0.85, 0.0, 0.0],
    ]
)


def colorize(values: NDArray[np.floating]) -> NDArray[np.uint8]:
    """Map values in [0, 1] to RGB uint8 (same shape plus a trailing 3)."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.5), 0.0, 1.0)
    rgb = np.stack([np.interp(v, _ANCHORS[:, 0], _ANCHORS[:, c]) for c in (1, 2, 3)], axis=-1)
    return np.asarray(np.round(rgb * 255), dtype=np.uint8)


def _upsample(grid: NDArray[np.float64], height: int, width: int) -> NDArray[np.float64]:
    """Bilinear interpolation of a cell-centred grid to ``height`` x ``width``."""
    gh, gw = grid.shape
    ys = np.clip((np.arange(height) + 0.5) * gh / height - 0.5, 0, gh - 1)
    xs = np.clip((np.arange(width) + 0.5) * gw / width - 0.5, 0, gw - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, gh - 1), np.minimum(x0 + 1, gw - 1)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = grid[y0][:, x0] * (1 - wx) + grid[y0][:, x1] * wx
    bottom = grid[y1][:, x0] * (1 - wx) + grid[y1][:, x1] * wx
    out: NDArray[np.float64] = top * (1 - wy) + bottom * wy
    return out


def render_heatmap(
    pixels: NDArray[np.uint8],
    grid: NDArray[np.floating],
    *,
    alpha: float = 0.45,
    max_side: int = 1024,
) -> Image.Image:
    """Overlay the tile grid of p_ai (rows x cols, values in [0, 1]) on the image.

    Tiles cover the whole image evenly (see :mod:`synthcheck.pixel.tiling`), so the grid is
    interpolated over the image area. The overlay is at most ``max_side`` pixels on its long side
    (a preview, not an analysis product).
    """
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim != 2 or g.size == 0:
        raise ConfigError(f"heatmap grid must be a non-empty 2-D array, got shape {g.shape}")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ConfigError(f"expected H x W x 3 pixels, got shape {pixels.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
    base = Image.fromarray(np.asarray(pixels, dtype=np.uint8))
    if max(base.size) > max_side:
        base.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    w, h = base.size
    colours = colorize(_upsample(g, h, w)).astype(np.float64)
    mixed = (1.0 - alpha) * np.asarray(base, dtype=np.float64) + alpha * colours
    return Image.fromarray(np.asarray(np.round(mixed), dtype=np.uint8))
