"""Heatmap overlays drawn with numpy."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from synthcheck.errors import ConfigError
from synthcheck.pixel.heatmap import colorize, render_heatmap


def test_overlay_size_and_colours() -> None:
    pixels = np.full((300, 400, 3), 128, np.uint8)
    grid = np.array([[0.0, 1.0], [0.0, 1.0]])
    out = render_heatmap(pixels, grid)
    assert isinstance(out, Image.Image) and out.size == (400, 300) and out.mode == "RGB"
    arr = np.asarray(out).astype(int)
    left, right = arr[150, 10], arr[150, 390]
    assert left[2] > left[0]  # real side is blue
    assert right[0] > right[2]  # ai side is red


def test_large_images_are_previewed_small() -> None:
    out = render_heatmap(np.zeros((3000, 2000, 3), np.uint8), np.full((3, 2), 0.5), max_side=512)
    assert max(out.size) == 512


def test_colour_ramp_endpoints() -> None:
    rgb = colorize(np.array([0.0, 0.5, 1.0, np.nan]))
    assert rgb.shape == (4, 3)
    assert rgb[0, 2] == 255 and rgb[2, 0] > 200 and (rgb[3] == rgb[1]).all()


def test_bad_grid_is_rejected() -> None:
    with pytest.raises(ConfigError, match="2-D"):
        render_heatmap(np.zeros((10, 10, 3), np.uint8), np.zeros(4))
