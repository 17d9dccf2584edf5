"""Native-resolution tiling: where the pixel detector looks, and how tile scores map back.

An image is never blindly downscaled. It is cut into overlapping square tiles of the backbone's
input size at native resolution (stride ``overlap`` x tile, default 0.75). When the full grid
holds more than ``max_tiles`` tiles, rows and columns are thinned evenly so that the kept tiles
still spread over the whole image (first and last row/column always kept); this bounds the cost
per image. An image whose short side is below the tile size is upscaled (bicubic) until the short
side equals the tile size, and the plan records it; the verdict's tiles see no other resampling.

A heatmap must cover the whole picture at a bounded cost, so its tiles are planned differently
(:func:`extract_cover_tiles`): a grid of non-overlapping tiles over every pixel, at native
resolution when the tile budget allows, otherwise on the image shrunk just enough for the budget
to cover it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from synthcheck.errors import ConfigError

__all__ = [
    "REDUCING_GAP",
    "TilePlan",
    "cover_scale",
    "extract_cover_tiles",
    "extract_tiles",
    "global_view",
    "patch_grid",
    "plan_tiles",
    "prepare_for_tiling",
]


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles lie in the (possibly upscaled) image.

    ``ys``/``xs`` are the top/left offsets of the kept rows/columns; the tiles are their cross
    product, row-major, so scores reshape to a ``(len(ys), len(xs))`` heatmap grid.
    ``scale`` is the resize factor applied first (1.0 = native resolution; above 1 a small image
    was upscaled to one tile, below 1 an image was shrunk for a covering heatmap); ``height`` and
    ``width`` are the resized image's, and :meth:`image_boxes` maps the tiles back.
    """

    tile: int
    height: int
    width: int
    ys: tuple[int, ...]
    xs: tuple[int, ...]
    scale: float = 1.0

    @property
    def count(self) -> int:
        return len(self.ys) * len(self.xs)

    @property
    def grid_shape(self) -> tuple[int, int]:
        return len(self.ys), len(self.xs)

    def boxes(self) -> list[tuple[int, int, int, int]]:
        """``(top, left, bottom, right)`` of every tile, row-major."""
        return [(y, x, y + self.tile, x + self.tile) for y in self.ys for x in self.xs]

    def image_boxes(self) -> list[tuple[int, int, int, int]]:
        """:meth:`boxes` in the coordinates of the image before the resize (``scale``), clipped
        to it: where each heatmap cell lies in the image the user gave."""
        if self.scale == 1.0:
            return self.boxes()
        h, w = round(self.height / self.scale), round(self.width / self.scale)
        return [
            (
                min(h, round(t / self.scale)),
                min(w, round(le / self.scale)),
                min(h, round(b / self.scale)),
                min(w, round(r / self.scale)),
            )
            for t, le, b, r in self.boxes()
        ]


def _check_pixels(pixels: NDArray[np.uint8]) -> None:
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ConfigError(
            f"expected H x W x 3 uint8 pixels, got shape {pixels.shape} {pixels.dtype}"
        )


def _offsets(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    n = math.ceil((length - tile) / stride) + 1
    # Spread n offsets evenly from 0 to length - tile so the last tile ends at the border.
    return sorted({round(i * (length - tile) / (n - 1)) for i in range(n)})


def _thin(offsets: list[int], keep: int) -> list[int]:
    if keep >= len(offsets):
        return offsets
    if keep == 1:
        return [offsets[len(offsets) // 2]]
    idx = np.unique(np.round(np.linspace(0, len(offsets) - 1, keep)).astype(int))
    return [offsets[i] for i in idx]


def plan_tiles(
    height: int, width: int, *, tile: int, overlap: float = 0.75, max_tiles: int = 16
) -> TilePlan:
    """Plan tiles for an image of ``height`` x ``width`` (already at least ``tile`` on its short
    side; see :func:`prepare_for_tiling`)."""
    if tile < 8:
        raise ConfigError(f"tile must be at least 8 pixels, got {tile}")
    if not 0.1 <= overlap <= 1.0:
        raise ConfigError(
            f"overlap (stride as a fraction of the tile) must be in [0.1, 1], got {overlap}"
        )
    if max_tiles < 1:
        raise ConfigError(f"max_tiles must be at least 1, got {max_tiles}")
    if min(height, width) < tile:
        raise ConfigError(
            f"image {height}x{width} is smaller than the {tile}-pixel tile; prepare it first"
        )
    stride = max(1, round(tile * overlap))
    ys = _offsets(height, tile, stride)
    xs = _offsets(width, tile, stride)
    # Thin the longer axis first so the kept grid keeps roughly the image's aspect ratio.
    while len(ys) * len(xs) > max_tiles:
        if len(ys) >= len(xs):
            ys = _thin(ys, len(ys) - 1)
        else:
            xs = _thin(xs, len(xs) - 1)
    return TilePlan(tile=tile, height=height, width=width, ys=tuple(ys), xs=tuple(xs))


#: An image that must be upscaled keeps at most this aspect ratio (centre crop of the long side),
#: so a 1 x 100000 strip cannot turn into gigabytes of upscaled pixels.
MAX_UPSCALE_ASPECT = 16


def _resize_short_side(pixels: NDArray[np.uint8], size: int) -> tuple[NDArray[np.uint8], float]:
    """Resize (bicubic; antialiased when shrinking) so the short side is ``size``, after a centre
    crop to an aspect ratio of at most ``MAX_UPSCALE_ASPECT``; also the scale factor."""
    h, w = pixels.shape[:2]
    short = min(h, w)
    limit = MAX_UPSCALE_ASPECT * short
    if h > limit:
        top = (h - limit) // 2
        pixels, h = pixels[top : top + limit], limit
    if w > limit:
        left = (w - limit) // 2
        pixels, w = pixels[:, left : left + limit], limit
    scale = size / short
    new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
    out = Image.fromarray(pixels).resize((new_w, new_h), Image.Resampling.BICUBIC)
    return np.asarray(out, dtype=np.uint8), scale


def prepare_for_tiling(pixels: NDArray[np.uint8], tile: int) -> tuple[NDArray[np.uint8], float]:
    """Return the image unchanged when its short side is at least ``tile``, else upscaled
    (bicubic) so that the short side equals ``tile``; also the scale factor applied. An image
    to upscale is first centre-cropped to an aspect ratio of at most ``MAX_UPSCALE_ASPECT``."""
    if min(pixels.shape[:2]) >= tile:
        return pixels, 1.0
    return _resize_short_side(pixels, tile)


def extract_tiles(
    pixels: NDArray[np.uint8], *, tile: int, overlap: float = 0.75, max_tiles: int = 16
) -> tuple[NDArray[np.uint8], TilePlan]:
    """Cut ``pixels`` (H x W x 3 uint8) into an ``N x tile x tile x 3`` stack and its plan."""
    _check_pixels(pixels)
    prepared, scale = prepare_for_tiling(pixels, tile)
    plan = plan_tiles(
        prepared.shape[0], prepared.shape[1], tile=tile, overlap=overlap, max_tiles=max_tiles
    )
    plan = TilePlan(plan.tile, plan.height, plan.width, plan.ys, plan.xs, scale)
    crops = np.stack([prepared[t:b, le:r] for t, le, b, r in plan.boxes()])
    return np.ascontiguousarray(crops), plan


def cover_scale(height: int, width: int, *, tile: int, max_tiles: int) -> float:
    """The largest scale (at most 1) at which a grid of at most ``max_tiles`` non-overlapping
    ``tile``-px squares covers a ``height`` x ``width`` image, never below one tile on the short
    side (an image longer than ``max_tiles`` tiles then keeps one row of thinned tiles)."""
    if max_tiles < 1:
        raise ConfigError(f"max_tiles must be at least 1, got {max_tiles}")
    if math.ceil(height / tile) * math.ceil(width / tile) <= max_tiles:
        return 1.0
    best = 0.0
    for rows in range(1, max_tiles + 1):
        cols = max_tiles // rows
        best = max(best, min(rows * tile / height, cols * tile / width))
    return min(1.0, max(best, tile / min(height, width)))


def extract_cover_tiles(
    pixels: NDArray[np.uint8], *, tile: int, max_tiles: int
) -> tuple[NDArray[np.uint8], TilePlan]:
    """Non-overlapping ``tile``-px tiles over every pixel of ``pixels``, at most ``max_tiles``.

    At native resolution when that many tiles cover the image; otherwise the image is first shrunk
    (bicubic, antialiased; box-reduced by integers first, :data:`REDUCING_GAP`) by
    :func:`cover_scale`. An image smaller than a tile is upscaled as for :func:`extract_tiles`.
    Tiles are spread evenly, so where the size is not a multiple of the tile, neighbours overlap
    by a few pixels. The plan's ``scale`` records the resize; see :meth:`TilePlan.image_boxes`.
    """
    _check_pixels(pixels)
    prepared, scale = prepare_for_tiling(pixels, tile)
    h, w = prepared.shape[:2]
    shrink = cover_scale(h, w, tile=tile, max_tiles=max_tiles)
    if shrink < 1.0:
        new_h, new_w = max(tile, round(h * shrink)), max(tile, round(w * shrink))
        prepared = np.asarray(
            Image.fromarray(prepared).resize(
                (new_w, new_h), Image.Resampling.BICUBIC, reducing_gap=REDUCING_GAP
            ),
            dtype=np.uint8,
        )
        scale *= new_h / h
    plan = plan_tiles(
        prepared.shape[0], prepared.shape[1], tile=tile, overlap=1.0, max_tiles=max_tiles
    )
    plan = TilePlan(plan.tile, plan.height, plan.width, plan.ys, plan.xs, scale)
    crops = np.stack([prepared[t:b, le:r] for t, le, b, r in plan.boxes()])
    return np.ascontiguousarray(crops), plan


def patch_grid(
    plan: TilePlan, values: NDArray[np.floating], patch: int
) -> tuple[NDArray[np.float64], TilePlan]:
    """Per-patch values of covering tiles as one regular grid over the image, and its plan.

    ``values`` holds ``plan.count`` x ``k`` x ``k`` values, one per ``patch``-px square of each
    tile (``k * patch == plan.tile``). The grid has one cell per ``patch`` px of the tiled image
    (the last row and column end at its border); each cell takes the mean value of the patches,
    of every tile, that hold its centre, so tiles that overlap by a few pixels do not make the
    grid irregular. A cell no tile holds (an image so elongated that the budget kept one thinned
    row of tiles) is NaN: no information. The returned plan places the cells like tiles of
    ``patch`` px (same ``scale``, so :meth:`TilePlan.image_boxes` maps them back to the image).
    """
    v = np.asarray(values, dtype=np.float64)
    k = plan.tile // patch
    if k * patch != plan.tile or v.shape != (plan.count, k, k):
        raise ConfigError(
            f"expected {plan.count} x {k} x {k} patch values for {plan.tile}-px tiles of "
            f"{patch} px, got shape {v.shape}"
        )
    ys = _offsets(plan.height, patch, patch)
    xs = _offsets(plan.width, patch, patch)
    cy = np.array(ys) + patch / 2
    cx = np.array(xs) + patch / 2
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros((len(ys), len(xs)))
    for t, (top, left, bottom, right) in enumerate(plan.boxes()):
        rows = np.flatnonzero((cy >= top) & (cy < bottom))
        cols = np.flatnonzero((cx >= left) & (cx < right))
        pi = ((cy[rows] - top) // patch).astype(int)
        pj = ((cx[cols] - left) // patch).astype(int)
        total[np.ix_(rows, cols)] += v[t][np.ix_(pi, pj)]
        count[np.ix_(rows, cols)] += 1
    grid = np.full(total.shape, np.nan)
    held = count > 0
    grid[held] = total[held] / count[held]
    cells = TilePlan(patch, plan.height, plan.width, tuple(ys), tuple(xs), plan.scale)
    return grid, cells


#: Downscaling by at least twice this factor starts with an integer box reduction (Pillow's
#: ``reducing_gap``): the bicubic filter then runs on an image about this many times larger than
#: the output instead of on every source pixel. Below (a short side under 1,344 px for the
#: 224-px view) the view is the plain antialiased bicubic resize, bit for bit.
REDUCING_GAP = 3.0


def global_view(pixels: NDArray[np.uint8], *, size: int) -> tuple[NDArray[np.uint8], TilePlan]:
    """The whole image as one ``size``-px square: resized (bicubic, antialiased) so that its short
    side is ``size``, then centre-cropped; a ``1 x size x size x 3`` stack and its plan.

    This view complements the native-resolution tiles, it does not replace them: the tiles keep
    the fine detail, this view shows the backbone the whole composition at the scale it was
    pretrained on. An image longer than ``MAX_UPSCALE_ASPECT`` times its short side is first
    centre-cropped to that ratio, which leaves the centre square unchanged but bounds the cost.

    An image whose short side is at least ``2 * REDUCING_GAP * size`` (1,344 px for 224) is
    resampled only under the centre square (Pillow's ``box``) and box-reduced by an integer
    factor first (:data:`REDUCING_GAP`): pixels within a few levels of the exact resize (measured
    on a 10 MP photo: mean 0.17, max 3) at a fraction of the cost (a 12 MP photo's view took
    half a second). Smaller images get the exact resize.
    """
    _check_pixels(pixels)
    if size < 8:
        raise ConfigError(f"size must be at least 8 pixels, got {size}")
    h, w = pixels.shape[:2]
    if min(h, w) < 2 * REDUCING_GAP * size:  # no box reduction: the plain resize, bit for bit
        resized, scale = _resize_short_side(pixels, size)
        new_h, new_w = resized.shape[:2]
        top, left = (new_h - size) // 2, (new_w - size) // 2
        crop = resized[top : top + size, left : left + size]
        plan = TilePlan(size, new_h, new_w, (top,), (left,), scale)
        return np.ascontiguousarray(crop[None]), plan
    short = min(h, w)
    limit = MAX_UPSCALE_ASPECT * short
    if h > limit:
        pixels, h = pixels[(h - limit) // 2 :][:limit], limit
    if w > limit:
        pixels, w = pixels[:, (w - limit) // 2 :][:, :limit], limit
    scale = size / short
    new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    # The output square's footprint in the source, in Pillow's coordinates (output pixel i of
    # the full resize samples around (i + 0.5) * w / new_w).
    fy, fx = h / new_h, w / new_w
    y0, y1 = top * fy, (top + size) * fy
    x0, x1 = left * fx, (left + size) * fx
    # Only the rows under the square (plus the filter's reach) are handed to Pillow, a
    # contiguous slice it copies once; the columns are chosen by ``box``.
    margin = math.ceil(3 * fy) + 2
    sy0, sy1 = max(0, math.floor(y0) - margin), min(h, math.ceil(y1) + margin)
    source = Image.fromarray(np.ascontiguousarray(pixels[sy0:sy1]))
    out = source.resize(
        (size, size),
        Image.Resampling.BICUBIC,
        box=(x0, y0 - sy0, x1, y1 - sy0),
        reducing_gap=REDUCING_GAP,
    )
    plan = TilePlan(size, new_h, new_w, (top,), (left,), scale)
    return np.ascontiguousarray(np.asarray(out, dtype=np.uint8)[None]), plan
