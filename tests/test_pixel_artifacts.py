"""Artifact features: deterministic, finite, and the same shape whatever the format or size."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from synthcheck.pixel.artifacts import (
    ARTIFACT_CHUNK,
    ARTIFACT_TILE,
    artifact_feature_names,
    artifact_features,
    tile_artifact_features,
)
from synthcheck.pixel.augment import encode_decode, launder, launder_hard, resize


def _photo_like(h: int, w: int, seed: int = 0) -> NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(xx / 17.0) * np.cos(yy / 23.0)
    img = base[..., None] + rng.normal(0, 6, (h, w, 3))
    out: NDArray[np.uint8] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def test_deterministic() -> None:
    img = _photo_like(300, 400)
    a, _ = artifact_features(img)
    b, _ = artifact_features(img.copy())
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
@pytest.mark.parametrize("size", [(40, 60), (128, 128), (333, 517), (1024, 768)])
def test_shape_and_finite_across_formats_and_sizes(fmt: str, size: tuple[int, int]) -> None:
    img = encode_decode(_photo_like(*size, seed=1), fmt, quality=75)
    feats, plan = artifact_features(img, max_tiles=16)
    assert feats.shape == (plan.count, len(artifact_feature_names()))
    assert 1 <= plan.count <= 16
    assert np.isfinite(feats).all()


def test_flat_image_does_not_produce_nan() -> None:
    feats = tile_artifact_features(np.full((2, ARTIFACT_TILE, ARTIFACT_TILE, 3), 128, np.uint8))
    assert np.isfinite(feats).all()


def test_features_see_upsampling() -> None:
    """A 2x nearest/bicubic upscale leaves a period-2 trace that the peak feature measures."""
    img = _photo_like(256, 256, seed=3)
    up = resize(img[::2, ::2].copy(), 2.0)
    names = artifact_feature_names()
    i = names.index("smoothness")
    native, _ = artifact_features(img)
    upsampled, _ = artifact_features(up)
    assert upsampled[:, i].mean() < native[:, i].mean()


def test_launder_is_reproducible() -> None:
    img = _photo_like(200, 300)
    a = launder(img, np.random.default_rng(5))
    b = launder(img, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint8 and a.ndim == 3


def test_hard_launder_is_reproducible_lossy_and_never_enlarges() -> None:
    img = _photo_like(200, 300)
    for seed in range(8):
        a = launder_hard(img, np.random.default_rng(seed))
        np.testing.assert_array_equal(a, launder_hard(img, np.random.default_rng(seed)))
        h, w = a.shape[:2]
        # crop keeps >= 0.6 of a side, the shrink >= 0.5: never below 0.3, never above 1
        assert 0.3 * 200 - 1 <= h <= 200 and 0.3 * 300 - 1 <= w <= 300
        if a.shape == img.shape:
            assert np.abs(a.astype(int) - img).mean() > 0.5  # JPEG q<=75 always alters pixels


def test_group_subset_equals_columns_of_full_set() -> None:
    tiles = np.stack([_photo_like(ARTIFACT_TILE, ARTIFACT_TILE, seed=s) for s in range(3)])
    full = tile_artifact_features(tiles)
    names = artifact_feature_names()
    for groups in (("spam",), ("spectral", "chroma")):
        sub = tile_artifact_features(tiles, groups=groups)
        idx = [names.index(n) for n in artifact_feature_names(groups)]
        np.testing.assert_array_equal(sub, full[:, idx])
    with pytest.raises(ValueError, match="unknown artifact feature groups"):
        tile_artifact_features(tiles, groups=("bogus",))


def test_features_in_chunks_equal_all_tiles_at_once() -> None:
    # 9 x 11 = 99 tiles: more than three chunks, the last one partial.
    img = _photo_like(9 * ARTIFACT_TILE, 11 * ARTIFACT_TILE, seed=5)
    chunked, plan = artifact_features(img, max_tiles=1024)
    assert plan.count == 99 > 3 * ARTIFACT_CHUNK
    tiles = np.stack([img[t:b, le:r] for t, le, b, r in plan.boxes()])
    np.testing.assert_array_equal(chunked, tile_artifact_features(tiles))
