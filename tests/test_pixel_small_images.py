"""Images smaller than the default model is reliable on get a score pulled toward 0.5."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from synthcheck.engine.detector import Detector
from synthcheck.pixel import create_pixel_model
from synthcheck.pixel.model import RELIABLE_SHORT_SIDE, size_reliability


@pytest.mark.parametrize(
    ("shape", "weight"), [((32, 32), 0.0), ((64, 500), 0.0), ((128, 128), 0.5), ((192, 900), 1.0)]
)
def test_size_reliability(shape: tuple[int, int], weight: float) -> None:
    assert size_reliability(*shape) == pytest.approx(weight)


def test_tiny_image_is_no_information_and_says_why() -> None:
    model = create_pixel_model("fast")
    pixels = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    result = model.predict_pixels(pixels, heatmap=True)
    assert result.p_ai == pytest.approx(0.5)
    assert result.heatmap is not None and np.allclose(result.heatmap, 0.5)
    assert any("32 px on its short side" in n for n in result.notes)


def test_large_image_is_not_shrunk() -> None:
    high = RELIABLE_SHORT_SIDE[1]
    model = create_pixel_model("fast")
    pixels = np.random.default_rng(2).integers(0, 256, (high, high + 10, 3), dtype=np.uint8)
    assert not any("short side" in n for n in model.predict_pixels(pixels).notes)


def test_cifar_real_photos_are_not_called_ai(shared_data: Path) -> None:
    with (shared_data / "cifar32" / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    reals = [shared_data / "cifar32" / r["file"] for r in rows if r["label"] == "real"][:20]
    detector = Detector(pixel_model=create_pixel_model("fast"))
    verdicts = [detector.scan_file(p).verdict for p in reals]
    assert verdicts.count("ai") == 0, verdicts
