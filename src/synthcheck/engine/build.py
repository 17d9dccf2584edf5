"""Build a :class:`Detector` from user-facing choices (profile, calibration, limits).

Every front end (CLI ``scan``, the Python API, ``serve``, batch workers) goes through here so that
the same options mean the same thing everywhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from synthcheck.engine.detector import Detector, PixelModel
from synthcheck.errors import ConfigError
from synthcheck.fusion.calibration import load_profile
from synthcheck.fusion.rules import DEFAULT_THRESHOLDS, Thresholds
from synthcheck.intake.decode import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS

__all__ = ["PROFILES", "build_detector", "create_pixel_model_for"]

#: Pixel-model profiles; "provenance" runs no pixel model (verdicts are then "ai" or "unsure").
PROFILES = ("auto", "fast", "thorough", "provenance")


def create_pixel_model_for(profile: str, *, heatmap_tiles: int | None = None) -> PixelModel | None:
    """The pixel model of ``profile`` (None for "provenance"); ``heatmap_tiles`` bounds the tiles
    its heatmaps score (None: the model's default)."""
    if profile == "provenance":
        return None
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    pixel = importlib.import_module("synthcheck.pixel")
    options = {} if heatmap_tiles is None else {"heatmap_tiles": heatmap_tiles}
    model: PixelModel = pixel.create_pixel_model(profile, **options)
    return model


def build_detector(
    profile: str = "auto",
    *,
    calibration: str | None = None,
    thresholds: Thresholds | None = None,
    signals: Sequence[str] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    heatmap_tiles: int | None = None,
) -> Detector:
    """A ready detector. ``calibration`` names a stored calibration profile whose thresholds
    replace the defaults (``thresholds`` overrides both); ``heatmap_tiles`` is the pixel model's
    heatmap tile budget (None: its default)."""
    chosen = thresholds or DEFAULT_THRESHOLDS
    if calibration is not None and thresholds is None:
        chosen = load_profile(calibration).thresholds
    return Detector(
        signals=signals,
        pixel_model=create_pixel_model_for(profile, heatmap_tiles=heatmap_tiles),
        thresholds=chosen,
        max_pixels=max_pixels,
        max_image_bytes=max_image_bytes,
    )
