"""Build a :class:`Detector` from user-facing choices (model name, calibration, limits).

Every front end (CLI ``scan``, the Python API, ``serve``, batch workers) goes through here (most
of them by way of :class:`synthcheck.engine.options.ScanOptions`) so that the same options mean
the same thing everywhere. Model names are parsed and built by :mod:`synthcheck.engine.models`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from synthcheck.engine.detector import Detector, PixelModel
from synthcheck.engine.models import PROFILES, ModelLoader, create_model
from synthcheck.fusion.calibration import load_calibration
from synthcheck.fusion.rules import DEFAULT_THRESHOLDS, Thresholds
from synthcheck.intake.decode import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS

__all__ = ["PROFILES", "build_detector", "create_pixel_model_for"]


def create_pixel_model_for(
    profile: str,
    *,
    heatmap_tiles: int | None = None,
    loaders: Mapping[str, ModelLoader] | None = None,
) -> PixelModel | None:
    """The pixel model named ``profile`` (None for "provenance"): the old name of
    :func:`synthcheck.engine.models.create_model`, which accepts every model name."""
    return create_model(profile, heatmap_tiles=heatmap_tiles, loaders=loaders)


def build_detector(
    profile: str = "auto",
    *,
    calibration: str | None = None,
    thresholds: Thresholds | None = None,
    signals: Sequence[str] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    heatmap_tiles: int | None = None,
    loaders: Mapping[str, ModelLoader] | None = None,
) -> Detector:
    """A ready detector. ``profile`` is any model name (:mod:`synthcheck.engine.models`;
    ``loaders`` builds prefixes handled above the engine). ``calibration`` names a stored
    calibration whose thresholds replace the defaults (``thresholds`` overrides both);
    ``heatmap_tiles`` is the pixel model's heatmap tile budget (None: its default)."""
    chosen = thresholds or DEFAULT_THRESHOLDS
    if calibration is not None and thresholds is None:
        chosen = load_calibration(calibration).thresholds
    return Detector(
        signals=signals,
        pixel_model=create_model(profile, heatmap_tiles=heatmap_tiles, loaders=loaders),
        thresholds=chosen,
        max_pixels=max_pixels,
        max_image_bytes=max_image_bytes,
    )
