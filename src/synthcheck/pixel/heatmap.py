"""Heatmap overlays: the tile grid of p_ai drawn over the image (numpy colours, no matplotlib)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from synthcheck.errors import ConfigError

__all__ = [
    "LEGEND_WORDS",
    "UNINFORMATIVE_SPREAD",
    "colorize",
    "heatmap_uninformative",
    "render_heatmap",
]

#: What the colours mean, at p_ai 0, 0.5 and 1 (the PNG legend, the HTML report, the web UI).
LEGEND_WORDS = ("camera-made", "no information", "generated")
#: A map whose tiles all lie within this range of p_ai does not point to any region: the
#: overlay is one tint and says no more than the image's own score.
UNINFORMATIVE_SPREAD = 0.1
_LEGEND_MIN_WIDTH = 360

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


def heatmap_uninformative(grid: NDArray[np.floating]) -> str | None:
    """Why the map cannot point to a region (one tile, or every tile about the same), or None."""
    g = np.asarray(grid, dtype=np.float64)
    finite = g[np.isfinite(g)]
    if finite.size <= 1:
        return "one tile covers the whole image, so the map cannot point to a region"
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < UNINFORMATIVE_SPREAD:
        return (
            f"every cell scores about the same (p_ai {lo:.2f} to {hi:.2f}), so the map does not "
            "point to a region"
        )
    return None


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    width: int,
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(lines[-1] + " " + word, font=font) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _legend(width: int, grid: NDArray[np.float64]) -> Image.Image:
    """A strip with the colour scale, what its ends mean and, when so, why the map is mute."""
    font = ImageFont.load_default(size=13)
    margin, bar_top, bar_h, line_h = 10, 22, 12, 18
    mute = heatmap_uninformative(grid)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    notes = (
        [] if mute is None else _wrap(measure, "uninformative: " + mute, font, width - 2 * margin)
    )
    height = bar_top + bar_h + 4 + line_h * (1 + len(notes)) + 4
    strip = Image.new("RGB", (width, height), (255, 255, 255))
    ramp = colorize(np.linspace(0.0, 1.0, width - 2 * margin))
    bar = np.repeat(ramp[None, :, :], bar_h, axis=0)
    strip.paste(Image.fromarray(bar), (margin, bar_top))
    draw = ImageDraw.Draw(strip)
    ink = (40, 40, 40)
    draw.text((margin, 3), "p_ai per region (how generated each region looks)", fill=ink, font=font)
    y = bar_top + bar_h + 3
    draw.text((margin, y), f"0 {LEGEND_WORDS[0]}", fill=ink, font=font)
    draw.text((width // 2, y), f"0.5 {LEGEND_WORDS[1]}", fill=ink, font=font, anchor="ma")
    draw.text((width - margin, y), f"{LEGEND_WORDS[2]} 1", fill=ink, font=font, anchor="ra")
    for i, line in enumerate(notes, start=1):
        draw.text((margin, y + i * line_h), line, fill=(150, 30, 30), font=font)
    return strip


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
    legend: bool = False,
) -> Image.Image:
    """Overlay the tile grid of p_ai (rows x cols, values in [0, 1]) on the image.

    Tiles cover the whole image evenly (see :mod:`synthcheck.pixel.tiling`), so the grid is
    interpolated over the image area. The overlay is at most ``max_side`` pixels on its long side
    (a preview, not an analysis product). With ``legend`` a strip below it shows the colour
    scale, what it means and, when the map cannot point to a region, why (files a person opens
    get one; the web UI draws its own legend beside an overlay of the image's size).
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
    overlay = Image.fromarray(np.asarray(np.round(mixed), dtype=np.uint8))
    if not legend:
        return overlay
    width = max(w, _LEGEND_MIN_WIDTH)
    strip = _legend(width, g)
    canvas = Image.new("RGB", (width, h + strip.height), (255, 255, 255))
    canvas.paste(overlay, (0, 0))
    canvas.paste(strip, (0, h))
    return canvas
