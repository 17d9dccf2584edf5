"""Robustness transforms and the cached, batched scoring they run through."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthcheck.errors import ConfigError, CorruptImageError, ModelError
from synthcheck.evaluation.bias_audit import estimate_jpeg_quality
from synthcheck.evaluation.dataset import LabelledImage
from synthcheck.evaluation.robustness import (
    CLEAN,
    DEFAULT_SWEEP,
    create_transform,
    list_transforms,
)
from synthcheck.evaluation.scoring import ScoreCache, model_key, score_images
from synthcheck.intake import LoadedImage, load_image, load_image_bytes
from synthcheck.results import SignalResult


@dataclass
class _Prediction:
    p_ai: float
    signals: list[SignalResult] = field(default_factory=list)


class SmoothnessModel:
    """Test double: p_ai rises as neighbouring pixels get more alike (deterministic)."""

    name = "smoothness"

    def __init__(self, refuse_below: int = 0) -> None:
        self.calls = 0
        self.refuse_below = refuse_below

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
        self.calls += 1
        if min(image.width, image.height) < self.refuse_below:
            raise CorruptImageError(image.path, "too small for this model")
        step = np.abs(np.diff(image.pixels.astype(np.float64), axis=1)).mean()
        return _Prediction(float(1.0 / (1.0 + np.exp((step - 12.0) / 4.0))))


class BatchModel(SmoothnessModel):
    name = "smoothness-batch"
    version = "3"

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def predict_many(self, images: list[LoadedImage]) -> list[_Prediction]:
        self.batches.append(len(images))
        return [self.predict(image) for image in images]


def _image(tmp_path: Path, name: str = "a.png", size: tuple[int, int] = (96, 64)) -> Path:
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path = tmp_path / name
    Image.fromarray(pixels).save(path)
    return path


def test_registry_lists_the_sweep_clean_first() -> None:
    names = list_transforms()
    assert names[0] == CLEAN
    assert tuple(names) == DEFAULT_SWEEP
    for expected in ("jpeg95", "jpeg75", "jpeg50", "resize0.5", "resize0.25", "crop50", "webp",
                     "screenshot"):  # fmt: skip
        assert expected in names
    with pytest.raises(ConfigError, match=r"unknown transform 'jpeg10'.*jpeg95"):
        create_transform("jpeg10")


def test_clean_is_the_identity(tmp_path: Path) -> None:
    image = load_image(_image(tmp_path))
    assert create_transform(CLEAN).apply(image) is image


@pytest.mark.parametrize(
    ("name", "fmt", "size"),
    [
        ("jpeg95", "JPEG", (96, 64)),
        ("jpeg50", "JPEG", (96, 64)),
        ("resize0.5", "PNG", (48, 32)),
        ("resize0.25", "PNG", (24, 16)),
        ("crop50", "PNG", (48, 32)),
        ("webp", "WEBP", (96, 64)),
        ("screenshot", "PNG", (64, 43)),
    ],
)
def test_transforms_reencode_through_intake(
    tmp_path: Path, name: str, fmt: str, size: tuple[int, int]
) -> None:
    image = load_image(_image(tmp_path))
    out = create_transform(name).apply(image)
    assert out.format == fmt
    assert (out.width, out.height) == size
    assert out.sha256 != image.sha256
    assert name in out.path
    assert not out.notes  # the synthetic name carries the right extension


@pytest.mark.parametrize("quality", [50, 75, 95])
def test_jpeg_transform_quality_is_what_the_tables_say(tmp_path: Path, quality: int) -> None:
    image = load_image(_image(tmp_path))
    out = create_transform(f"jpeg{quality}").apply(image)
    assert estimate_jpeg_quality(out.data) == quality


def test_crop_keeps_the_centre(tmp_path: Path) -> None:
    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[10:30, 10:30] = 200
    path = tmp_path / "centre.png"
    Image.fromarray(pixels).save(path)
    out = create_transform("crop50").apply(load_image(path))
    assert out.pixels.shape == (20, 20, 3)
    assert (out.pixels == 200).all()


def test_transforms_shrink_tiny_images_to_at_least_one_pixel(tmp_path: Path) -> None:
    out = create_transform("resize0.25").apply(load_image(_image(tmp_path, size=(3, 2))))
    assert (out.width, out.height) == (1, 1)


def _items(tmp_path: Path, n: int) -> list[LabelledImage]:
    return [LabelledImage(str(_image(tmp_path, f"{i}.png")), i % 2) for i in range(n)]


def test_scores_are_cached_by_hash_model_and_condition(tmp_path: Path) -> None:
    items = _items(tmp_path, 6)
    # A duplicate file under another name costs no extra inference.
    dup = tmp_path / "dup.png"
    dup.write_bytes(Path(items[0].path).read_bytes())
    items.append(LabelledImage(str(dup), 0))
    model = SmoothnessModel()
    cache = ScoreCache()
    first = score_images(model, items, [CLEAN, "jpeg75"], cache=cache, batch_size=4)
    assert first.computed == 12 and model.calls == 12
    assert first.scores[CLEAN][0] == first.scores[CLEAN][-1]
    second = score_images(model, items, [CLEAN, "jpeg75", "webp"], cache=cache)
    assert model.calls == 12 + 6
    assert second.cached == 14 and second.computed == 6
    assert second.scores["webp"][0] == second.scores["webp"][-1]
    np.testing.assert_array_equal(first.scores["jpeg75"], second.scores["jpeg75"])


def test_persistent_cache_survives_a_new_process(tmp_path: Path) -> None:
    items = _items(tmp_path, 4)
    db = tmp_path / "cache" / "scores.sqlite"
    with ScoreCache(db) as cache:
        before = score_images(BatchModel(), items, [CLEAN], cache=cache)
    model = BatchModel()
    with ScoreCache(db) as cache:
        after = score_images(model, items, [CLEAN], cache=cache)
    assert model.calls == 0
    assert after.cached == 4
    np.testing.assert_array_equal(before.scores[CLEAN], after.scores[CLEAN])
    assert after.facts == before.facts


def test_model_key_includes_a_version() -> None:
    assert model_key(SmoothnessModel()) == "smoothness"
    assert model_key(BatchModel()) == "smoothness-batch@3"


def test_models_with_predict_many_get_batches(tmp_path: Path) -> None:
    model = BatchModel()
    score_images(model, _items(tmp_path, 10), [CLEAN], batch_size=4)
    assert model.batches == [4, 4, 2]


def test_bad_files_are_skipped_and_counted(tmp_path: Path) -> None:
    items = _items(tmp_path, 4)
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    items += [
        LabelledImage(str(tmp_path / "text.jpg"), 0),
        LabelledImage(str(tmp_path / "empty.png"), 1),
        LabelledImage(str(tmp_path / "missing.png"), 1),
    ]
    scored = score_images(SmoothnessModel(), items, [CLEAN])
    assert len(scored.items) == 4
    reasons = {Path(s.path).name: s.reason for s in scored.skipped}
    assert set(reasons) == {"text.jpg", "empty.png", "missing.png"}
    assert "not an image" in reasons["text.jpg"]
    assert "empty" in reasons["empty.png"]
    assert "not found" in reasons["missing.png"]


def test_a_condition_the_model_refuses_leaves_nan_for_that_image_only(tmp_path: Path) -> None:
    items = [LabelledImage(str(_image(tmp_path, "big.png", (96, 96))), 0),
             LabelledImage(str(_image(tmp_path, "small.png", (40, 40))), 1)]  # fmt: skip
    scored = score_images(SmoothnessModel(refuse_below=16), items, [CLEAN, "resize0.25"])
    assert np.isfinite(scored.scores[CLEAN]).all()
    assert np.isfinite(scored.scores["resize0.25"][0])
    assert np.isnan(scored.scores["resize0.25"][1])
    (skip,) = scored.skipped
    assert skip.condition == "resize0.25" and "too small" in skip.reason


def test_out_of_range_model_output_is_an_error(tmp_path: Path) -> None:
    class Broken(SmoothnessModel):
        def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
            return _Prediction(1.5)

    with pytest.raises(ModelError, match="outside"):
        score_images(Broken(), _items(tmp_path, 2), [CLEAN])


def test_load_image_bytes_round_trip_of_a_transform_output(tmp_path: Path) -> None:
    out = create_transform("webp").apply(load_image(_image(tmp_path)))
    again = load_image_bytes(out.data, "x.webp")
    np.testing.assert_array_equal(again.pixels, out.pixels)
    buffer = io.BytesIO(out.data)
    assert Image.open(buffer).format == "WEBP"


def test_pipes_and_folders_are_skipped_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    folder = tmp_path / "dir.png"
    folder.mkdir()
    items = [*_items(tmp_path, 2), LabelledImage(str(fifo), 0), LabelledImage(str(folder), 1)]
    scored = score_images(SmoothnessModel(), items, [CLEAN])
    reasons = {Path(s.path).name: s.reason for s in scored.skipped}
    assert "not a regular file" in reasons["pipe.jpg"]
    assert "directory" in reasons["dir.png"]


def test_progress_reports_finished_files_only(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    score_images(
        SmoothnessModel(), _items(tmp_path, 5), [CLEAN], batch_size=2,
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert calls == [(2, 5), (4, 5), (5, 5)]
