"""Tiling geometry: full coverage at native resolution, bounded tile count, small images."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from synthcheck.errors import ConfigError
from synthcheck.pixel.tiling import (
    MAX_UPSCALE_ASPECT,
    REDUCING_GAP,
    TilePlan,
    cover_scale,
    extract_cover_tiles,
    extract_tiles,
    global_view,
    patch_grid,
    plan_tiles,
    prepare_for_tiling,
)


@pytest.mark.parametrize(
    ("h", "w"), [(224, 224), (225, 300), (512, 512), (1000, 1500), (4000, 3000), (224, 5000)]
)
def test_full_grid_covers_every_pixel(h: int, w: int) -> None:
    plan = plan_tiles(h, w, tile=224, overlap=0.75, max_tiles=10_000)
    covered = np.zeros((h, w), bool)
    for top, left, bottom, right in plan.boxes():
        assert top >= 0 and left >= 0 and bottom <= h and right <= w
        covered[top:bottom, left:right] = True
    assert covered.all()


@pytest.mark.parametrize("max_tiles", [1, 2, 4, 9, 16])
def test_tile_count_is_bounded_and_spread(max_tiles: int) -> None:
    plan = plan_tiles(3000, 4000, tile=224, max_tiles=max_tiles)
    assert 1 <= plan.count <= max_tiles
    if max_tiles >= 4:
        # First and last rows/columns survive the thinning: the tiles still span the image.
        assert plan.ys[0] == 0 and plan.ys[-1] == 3000 - 224
        assert plan.xs[0] == 0 and plan.xs[-1] == 4000 - 224


def test_stride_follows_overlap() -> None:
    plan = plan_tiles(224, 224 + 168 * 3, tile=224, overlap=0.75, max_tiles=100)
    assert plan.xs == (0, 168, 336, 504)


def test_tiles_are_native_pixels() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (600, 900, 3), dtype=np.uint8)
    tiles, plan = extract_tiles(img, tile=224, max_tiles=6)
    assert plan.scale == 1.0
    assert tiles.shape == (plan.count, 224, 224, 3)
    for crop, (top, left, bottom, right) in zip(tiles, plan.boxes(), strict=True):
        np.testing.assert_array_equal(crop, img[top:bottom, left:right])


def test_small_images_are_upscaled_to_one_tile() -> None:
    img = np.zeros((64, 100, 3), np.uint8)
    up, scale = prepare_for_tiling(img, 224)
    assert min(up.shape[:2]) == 224 and scale == pytest.approx(3.5)
    tiles, plan = extract_tiles(img, tile=224, max_tiles=4)
    assert plan.scale == pytest.approx(3.5) and tiles.shape[1:] == (224, 224, 3)


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ConfigError, match="max_tiles"):
        plan_tiles(500, 500, tile=224, max_tiles=0)
    with pytest.raises(ConfigError, match="overlap"):
        plan_tiles(500, 500, tile=224, overlap=0.0)
    with pytest.raises(ConfigError, match="uint8"):
        extract_tiles(np.zeros((300, 300), np.float32), tile=224)


@pytest.mark.parametrize(("h", "w"), [(1, 1), (3, 50_000), (8, 8), (100, 2)])
def test_degenerate_sizes_stay_bounded(h: int, w: int) -> None:
    tiles, plan = extract_tiles(np.zeros((h, w, 3), np.uint8), tile=224, max_tiles=4)
    assert 1 <= plan.count <= 4 and tiles.shape[1:] == (224, 224, 3)
    assert max(plan.height, plan.width) <= 16 * 224


@pytest.mark.parametrize(("h", "w"), [(512, 384), (384, 512), (224, 224), (100, 60), (1343, 4000)])
def test_global_view_is_the_resized_centre_square(h: int, w: int) -> None:
    rng = np.random.default_rng(h * w)
    pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    crops, plan = global_view(pixels, size=224)
    assert crops.shape == (1, 224, 224, 3) and crops.dtype == np.uint8
    assert plan.count == 1 and plan.scale == pytest.approx(224 / min(h, w))
    # The same resize done by hand, then the centre square: the view is exactly that.
    new_h, new_w = max(224, round(h * plan.scale)), max(224, round(w * plan.scale))
    full = np.asarray(Image.fromarray(pixels).resize((new_w, new_h), Image.Resampling.BICUBIC))
    top, left = (new_h - 224) // 2, (new_w - 224) // 2
    assert np.array_equal(crops[0], full[top : top + 224, left : left + 224])


def _smooth_photo(h: int, w: int, seed: int) -> NDArray[np.uint8]:
    """Gradients plus grain: like a photo, unlike pure noise, its downscale is not flat grey."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 60 * np.sin(xx / (w / 5.0) + seed) * np.cos(yy / (h / 3.0))
    img = base[..., None] + rng.normal(0, 12, (h, w, 3)) + np.array([20.0, -10.0, 0.0])
    out: NDArray[np.uint8] = np.clip(img, 0, 255).astype(np.uint8)
    return out


@pytest.mark.parametrize(
    ("h", "w"),
    [(1344, 2000), (3000, 4000), (4000, 3000), (1500, 1500), (1400, 30_000)],
)
def test_global_view_of_a_large_image_is_close_to_the_exact_resize(h: int, w: int) -> None:
    # From 2 * REDUCING_GAP * 224 px on the short side, the view is box-reduced first and only
    # the centre square's rows are resampled: a few levels from resizing everything.
    assert min(h, w) >= 2 * REDUCING_GAP * 224
    pixels = _smooth_photo(h, w, seed=h + w)
    crops, plan = global_view(pixels, size=224)
    assert crops.shape == (1, 224, 224, 3) and plan.scale == pytest.approx(224 / min(h, w))
    limit = MAX_UPSCALE_ASPECT * min(h, w)
    if w > limit:  # the strip case: the same 16:1 centre crop as the exact path
        pixels = pixels[:, (w - limit) // 2 :][:, :limit]
    new_h, new_w = plan.height, plan.width
    full = np.asarray(Image.fromarray(pixels).resize((new_w, new_h), Image.Resampling.BICUBIC))
    top, left = plan.ys[0], plan.xs[0]
    diff = np.abs(crops[0].astype(int) - full[top : top + 224, left : left + 224])
    assert diff.mean() < 1.0 and diff.max() <= 8


def test_global_view_of_an_extreme_strip_stays_bounded() -> None:
    strip = np.full((2, 40_000, 3), 128, np.uint8)
    crops, plan = global_view(strip, size=224)
    assert crops.shape == (1, 224, 224, 3)
    assert plan.width <= MAX_UPSCALE_ASPECT * 224


def test_global_view_names_bad_input() -> None:
    with pytest.raises(ConfigError, match="H x W x 3 uint8"):
        global_view(np.zeros((10, 10), np.uint8), size=224)
    with pytest.raises(ConfigError, match="size must be at least 8"):
        global_view(np.zeros((10, 10, 3), np.uint8), size=4)


def _covered(plan: TilePlan, height: int, width: int) -> NDArray[np.bool_]:
    mask = np.zeros((height, width), bool)
    for top, left, bottom, right in plan.image_boxes():
        mask[top:bottom, left:right] = True
    return mask


@pytest.mark.parametrize(
    ("shape", "budget", "native"),
    [
        ((700, 1000), 24, True),  # 4 x 5 tiles fit the budget: native resolution
        ((1024, 1024), 24, False),  # 5 x 5 would not: shrunk to 4 x 4
        ((3024, 4032), 24, False),  # a 12 MP photo
        ((300, 5000), 24, False),  # a panorama: one row
        ((3024, 4032), 1, False),  # one tile: the image shrunk to its short side, one tile kept
    ],
)
def test_cover_tiles_reach_every_pixel_within_the_budget(
    shape: tuple[int, int], budget: int, native: bool
) -> None:
    h, w = shape
    pixels = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    crops, plan = extract_cover_tiles(pixels, tile=224, max_tiles=budget)
    assert crops.shape == (plan.count, 224, 224, 3) and plan.count <= budget
    assert (plan.scale == 1.0) is native and plan.scale <= 1.0
    if budget > 1:
        assert _covered(plan, h, w).all()
    if native:
        top, left, bottom, right = plan.boxes()[-1]
        assert np.array_equal(crops[-1], pixels[top:bottom, left:right])


def test_cover_scale_is_the_largest_that_fits_the_budget() -> None:
    s = cover_scale(3024, 4032, tile=224, max_tiles=24)
    assert math.ceil(3024 * s / 224) * math.ceil(4032 * s / 224) <= 24
    # A little larger and no grid of at most 24 tiles covers it.
    t = s * 1.02
    assert math.ceil(3024 * t / 224) * math.ceil(4032 * t / 224) > 24
    assert cover_scale(700, 1000, tile=224, max_tiles=24) == 1.0
    with pytest.raises(ConfigError, match="max_tiles"):
        cover_scale(700, 1000, tile=224, max_tiles=0)


def test_a_small_image_is_upscaled_to_one_tile_and_mapped_back() -> None:
    pixels = np.zeros((100, 80, 3), np.uint8)
    crops, plan = extract_cover_tiles(pixels, tile=224, max_tiles=24)
    assert plan.scale > 1.0 and crops.shape[1:] == (224, 224, 3)
    assert _covered(plan, 100, 80).all()
    assert max(b for _, _, b, _ in plan.image_boxes()) == 100


@pytest.mark.parametrize(("h", "w", "budget"), [(224, 224, 1), (300, 500, 4), (1000, 1500, 6)])
def test_patch_grid_is_regular_and_takes_each_cell_from_the_tiles_over_it(
    h: int, w: int, budget: int
) -> None:
    _, plan = extract_cover_tiles(np.zeros((h, w, 3), np.uint8), tile=224, max_tiles=budget)
    # Each patch's value encodes where it lies in the tiled image: its centre's row and column.
    values = np.empty((plan.count, 14, 14))
    rows = np.empty_like(values)
    for t, (top, left, _, _) in enumerate(plan.boxes()):
        values[t] = (left + 16 * np.arange(14) + 8)[None, :] + 0 * np.arange(14)[:, None]
        rows[t] = (top + 16 * np.arange(14) + 8)[:, None] + 0 * np.arange(14)[None, :]
    grid, cells = patch_grid(plan, values, 16)
    row_grid, _ = patch_grid(plan, rows, 16)
    expected = (math.ceil(plan.height / 16), math.ceil(plan.width / 16))
    assert grid.shape == cells.grid_shape == expected
    assert (cells.tile, cells.height, cells.width, cells.scale) == (
        16,
        plan.height,
        plan.width,
        plan.scale,
    )
    assert list(cells.ys) == sorted(cells.ys) and cells.ys[-1] + 16 == plan.height
    assert list(cells.xs) == sorted(cells.xs) and cells.xs[-1] + 16 == plan.width
    # A cell's value comes from patches within one patch of it (overlapping tiles are averaged).
    centre_x = np.array(cells.xs) + 8
    centre_y = np.array(cells.ys) + 8
    assert np.abs(grid - centre_x[None, :]).max() < 16
    assert np.abs(row_grid - centre_y[:, None]).max() < 16
    covered = np.zeros((plan.height, plan.width), bool)
    for top, left, bottom, right in cells.boxes():
        covered[top:bottom, left:right] = True
    assert covered.all()


def test_patch_grid_leaves_cells_no_tile_holds_empty_and_checks_its_input() -> None:
    # Far longer than the budget can cover: one row of thinned tiles, gaps between them.
    _, plan = extract_cover_tiles(np.zeros((100, 900, 3), np.uint8), tile=224, max_tiles=3)
    grid, _ = patch_grid(plan, np.full((plan.count, 14, 14), 0.25), 16)
    assert np.isnan(grid).any() and np.nanmax(grid) == 0.25
    with pytest.raises(ConfigError, match="patch values"):
        patch_grid(plan, np.zeros((plan.count, 7, 7)), 16)
    with pytest.raises(ConfigError, match="patch values"):
        patch_grid(plan, np.zeros((plan.count, 14, 14)), 15)
