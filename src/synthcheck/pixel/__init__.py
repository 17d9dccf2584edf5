"""Pixel detection: native-resolution tiles, the artifact signal, backbone probes, fusion, heatmaps.

Public entry points: :func:`create_pixel_model` (profiles ``auto``, ``fast``, ``thorough``),
:func:`render_heatmap`, :func:`list_profiles`.
"""

from __future__ import annotations

from synthcheck.pixel.heatmap import render_heatmap
from synthcheck.pixel.model import DefaultPixelModel, PixelResult, create_pixel_model
from synthcheck.pixel.profiles import PROFILES

__all__ = [
    "DefaultPixelModel",
    "PixelResult",
    "create_pixel_model",
    "list_profiles",
    "render_heatmap",
]


def list_profiles() -> list[str]:
    """Profiles accepted by :func:`create_pixel_model`."""
    return ["auto", *PROFILES]
