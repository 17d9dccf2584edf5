"""The engine: intake → signals → fusion for one file. Every front end uses it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Protocol

from synthcheck.engine.cautions import CAUTION_PREFIX, pixel_cautions
from synthcheck.errors import InputError, SynthcheckError
from synthcheck.fusion.rules import DEFAULT_THRESHOLDS, Thresholds, fuse
from synthcheck.intake.decode import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS, load_image
from synthcheck.intake.image import LoadedImage
from synthcheck.results import ErrorInfo, ScanResult, SignalResult
from synthcheck.signals.base import Signal
from synthcheck.signals.registry import create_signal, list_signals

log = logging.getLogger(__name__)

__all__ = ["Detector", "PixelModel", "PixelPrediction"]


class PixelPrediction(Protocol):
    """A pixel model's output: ``p_ai`` (calibrated), its per-signal results and, optionally, a
    ``heatmap`` attribute holding the tile grid of p_ai values."""

    @property
    def p_ai(self) -> float: ...

    @property
    def signals(self) -> list[SignalResult]: ...


class PixelModel(Protocol):
    """What the engine needs from a pixel detector (the default model or a project model)."""

    name: str

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> PixelPrediction:
        """Score ``image``; with ``heatmap``, also fill the prediction's ``heatmap`` grid when
        the model can draw one (it may cost more, so it is computed only on request)."""
        ...


class Detector:
    """Scan files: decode, run every provenance signal and the pixel model, fuse.

    ``signals`` selects provenance signals by name (default: all registered). ``pixel_model`` is
    any :class:`PixelModel`; None means provenance only (then the verdict is "ai" or "unsure").
    """

    def __init__(
        self,
        *,
        signals: Sequence[str] | None = None,
        pixel_model: PixelModel | None = None,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    ) -> None:
        names = list(signals) if signals is not None else list_signals(kind="provenance")
        self.signals: list[Signal] = [create_signal(n) for n in names]
        self.pixel_model = pixel_model
        self.thresholds = thresholds
        self.max_pixels = max_pixels
        self.max_image_bytes = max_image_bytes

    @property
    def name(self) -> str:
        return self.pixel_model.name if self.pixel_model is not None else "provenance-only"

    def scan_file(self, path: str | os.PathLike[str], *, heatmap: bool = False) -> ScanResult:
        """Scan one file; never raises for a bad file (the error is in the result). ``heatmap``
        asks the pixel model for the grid behind a heatmap (``result.heatmap_grid``)."""
        start = time.perf_counter()
        spath = os.fspath(path)
        try:
            image = load_image(spath, max_pixels=self.max_pixels, max_bytes=self.max_image_bytes)
        except InputError as exc:
            return self._error(spath, exc.code, exc.reason, start)
        return self.scan_image(image, start=start, heatmap=heatmap)

    def scan_image(
        self, image: LoadedImage, *, start: float | None = None, heatmap: bool = False
    ) -> ScanResult:
        start = time.perf_counter() if start is None else start
        results: list[SignalResult] = []
        for signal in self.signals:
            try:
                results.append(signal.analyze(image))
            except Exception as exc:  # a signal bug must not lose the file's other evidence
                log.debug("signal %s failed on %s", signal.name, image.path, exc_info=True)
                results.append(
                    SignalResult.no_evidence(
                        signal.name, signal.kind, f"signal failed: {type(exc).__name__}: {exc}"
                    )
                )
        p_pixel: float | None = None
        grid = None
        notes = list(image.notes)
        if self.pixel_model is not None:
            try:
                prediction = self.pixel_model.predict(image, heatmap=heatmap)
            except SynthcheckError as exc:
                log.debug(
                    "pixel model %s failed on %s", self.pixel_model.name, image.path, exc_info=True
                )
                return self._error(image.path, exc.code, str(exc), start, image)
            p_pixel = float(prediction.p_ai)
            results.extend(prediction.signals)
            grid = getattr(prediction, "heatmap", None) if heatmap else None
            # The model's own reliability notes (a small image) and the cheap checks for files
            # it reads badly travel with the result, where every front end shows them.
            notes.extend(f"{CAUTION_PREFIX}{c}" for c in getattr(prediction, "cautions", ()))
            notes.extend(pixel_cautions(image))
            if grid is not None:
                from synthcheck.pixel.heatmap import heatmap_uninformative

                mute = heatmap_uninformative(grid)
                if mute is not None:
                    notes.append(f"heatmap uninformative: {mute}")
        verdict, p_ai = fuse(
            results, p_pixel, self.thresholds, pixels_reliable=not image.pixel_warnings
        )
        return ScanResult(
            path=image.path,
            verdict=verdict,
            p_ai=p_ai,
            signals=results,
            sha256=image.sha256,
            format=image.format,
            width=image.width,
            height=image.height,
            notes=notes,
            detector=self.name,
            seconds=time.perf_counter() - start,
            heatmap_grid=grid,
        )

    def _error(
        self, path: str, code: str, message: str, start: float, image: LoadedImage | None = None
    ) -> ScanResult:
        return ScanResult(
            path=path,
            verdict="error",
            error=ErrorInfo(code, message),
            sha256=image.sha256 if image else None,
            format=image.format if image else None,
            detector=self.name,
            seconds=time.perf_counter() - start,
        )
