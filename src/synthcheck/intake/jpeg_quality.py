"""Estimate the IJG quality a JPEG was saved with, from its luminance quantisation table."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

__all__ = ["estimate_jpeg_quality", "quality_from_tables"]

# IJG (libjpeg) reference luminance table, natural order; quality q scales it.
_IJG_LUMA = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.float64,
)  # fmt: skip


def _ijg_tables() -> np.ndarray:
    qualities = np.arange(1, 101, dtype=np.float64)
    scale = np.where(qualities < 50, 5000.0 / qualities, 200.0 - 2.0 * qualities)
    tables = np.floor((_IJG_LUMA[None, :] * scale[:, None] + 50.0) / 100.0)
    return np.clip(tables, 1.0, 255.0)


_TABLES = _ijg_tables()


def estimate_jpeg_quality(data: bytes) -> float | None:
    """The IJG quality (1-100) whose luminance table is closest to the file's, or None when the
    bytes are not a JPEG with readable tables. Camera tables are not IJG-scaled; the estimate is
    then the nearest equivalent, good enough to compare distributions. Intake stores it for every
    JPEG it loads (``ContainerMetadata.jpeg_quality``); this reads a file of its own."""
    try:
        with Image.open(io.BytesIO(data)) as pil:
            if pil.format != "JPEG":
                return None
            return quality_from_tables(getattr(pil, "quantization", None))
    except Exception:  # any parse failure just means "no estimate"
        return None


def quality_from_tables(tables: Mapping[int, Sequence[int]] | None) -> float | None:
    """The estimate of :func:`estimate_jpeg_quality` from a Pillow JPEG's ``quantization``
    tables (the lowest-numbered one is the luminance table), None without a usable one."""
    try:
        if not tables:
            return None
        luma = np.asarray(tables[min(tables)], dtype=np.float64)
    except Exception:  # damaged tables just mean "no estimate"
        return None
    if luma.size != 64:
        return None
    distance = np.abs(_TABLES - luma[None, :]).sum(axis=1)
    return float(np.argmin(distance) + 1)
