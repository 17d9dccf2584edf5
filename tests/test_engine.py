from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from synthcheck.engine import Detector
from synthcheck.intake.image import LoadedImage
from synthcheck.results import SignalResult
from synthcheck.signals.base import Signal


@dataclass
class _Prediction:
    p_ai: float
    signals: list[SignalResult] = field(default_factory=list)
    heatmap: np.ndarray | None = None


class _BrightnessModel:
    """A test double: p_ai from mean brightness, so the engine's wiring can be checked exactly."""

    name = "brightness-test-model"

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
        p = float(image.pixels.mean() / 255.0)
        sig = SignalResult(name="brightness", kind="pixel", verdict="none", score=p, summary="test")
        return _Prediction(p, [sig], np.full((2, 2), p, dtype=np.float32))


class _BrokenSignal(Signal):
    name = "broken-test-signal"
    description = "raises on purpose"
    kind = "provenance"

    def analyze(self, image: LoadedImage) -> SignalResult:
        raise RuntimeError("boom")


def _png(path: Path, value: int) -> Path:
    # A checkerboard of value +- 3 keeps the mean at ``value``; a flat image would be reported as
    # having no picture to judge (never "real" or "ai" from pixels).
    board = (np.indices((40, 60)).sum(axis=0) % 2 * 6 - 3)[..., None]
    pixels = np.clip(value + board, 0, 255).astype(np.uint8).repeat(3, axis=2)
    Image.fromarray(pixels).save(path)
    return path


def test_provenance_only_scan_is_unsure_without_evidence(tmp_path: Path) -> None:
    r = Detector().scan_file(_png(tmp_path / "grey.png", 128))
    assert r.verdict == "unsure"
    assert r.p_ai is None
    assert (r.width, r.height, r.format) == (60, 40, "PNG")
    assert r.error is None
    assert all(s.verdict == "none" for s in r.signals)


def test_pixel_model_drives_verdict_and_heatmap(tmp_path: Path) -> None:
    det = Detector(signals=[], pixel_model=_BrightnessModel())
    bright = det.scan_file(_png(tmp_path / "w.png", 250), heatmap=True)
    dark = det.scan_file(_png(tmp_path / "b.png", 5))
    assert bright.verdict == "ai" and dark.verdict == "real"
    assert bright.p_ai is not None and abs(bright.p_ai - 250 / 255) < 1e-6
    assert [s.name for s in bright.signals] == ["brightness"]
    assert bright.heatmap_grid is not None and bright.heatmap_grid.shape == (2, 2)
    assert dark.heatmap_grid is None  # not asked for
    assert bright.detector == "brightness-test-model"


def test_bad_file_becomes_error_result_not_exception(tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    r = Detector().scan_file(bad)
    assert r.verdict == "error"
    assert r.error is not None and r.error.type == "not_an_image"
    assert str(bad) in r.error.message or "not an image" in r.error.message
    missing = Detector().scan_file(tmp_path / "missing.png")
    assert missing.error is not None and missing.error.type == "unreadable"


def test_failing_signal_is_reported_and_others_still_run(tmp_path: Path) -> None:
    det = Detector(signals=[], pixel_model=_BrightnessModel())
    det.signals.append(_BrokenSignal())
    r = det.scan_file(_png(tmp_path / "x.png", 100))
    broken = next(s for s in r.signals if s.name == "broken-test-signal")
    assert broken.verdict == "none" and "boom" in broken.summary
    assert r.p_ai is not None
