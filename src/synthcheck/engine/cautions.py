"""Cheap checks for images the pixel model is known to read badly, reported as cautions.

The default pixel model learnt from camera photos and generated pictures. Flat graphics
(drawings with few colours, screenshots, logos, test patterns) and images with transparency lie
outside that, and small images are pulled toward "no information" by the model itself (its own
note says so). These checks never change a verdict: they add a ``caution: ...`` note to the
result and a word to its headline, so that a confident score on such a file is read for what it
is. They only claim what they measure (an alpha channel, a count of distinct colours, a size);
a scanned drawing with many colours or a heavily edited photo is not detected here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synthcheck.intake.image import LoadedImage

__all__ = ["CAUTION_PREFIX", "MAX_FLAT_COLOURS", "colour_count", "pixel_cautions", "short_caution"]

CAUTION_PREFIX = "caution: "
#: An image with fewer distinct colours than this (in a sample of at most 65,536 pixels) is a
#: flat graphic. Camera photos, even greyscale ones (up to 256 grey levels), and generated
#: pictures have far more (the measurement is in the model card, "Cautions on results").
MAX_FLAT_COLOURS = 64
_SAMPLE = 65_536


def colour_count(pixels: NDArray[np.uint8]) -> int:
    """Distinct RGB colours in an even sample of at most 65,536 pixels (cheap on any size)."""
    h, w = pixels.shape[:2]
    step = max(1, int(np.ceil(np.sqrt(h * w / _SAMPLE))))
    sample = pixels[::step, ::step].reshape(-1, 3).astype(np.uint32)
    packed = (sample[:, 0] << 16) | (sample[:, 1] << 8) | sample[:, 2]
    return int(np.unique(packed).size)


def pixel_cautions(image: LoadedImage) -> list[str]:
    """``caution: <short>: <why>`` notes for this image (empty for an ordinary photo)."""
    out: list[str] = []
    if image.has_alpha:
        out.append(
            f"{CAUTION_PREFIX}transparent image: it has an alpha channel, so it was composited "
            "on white before analysis; the pixel model learnt from opaque photos and generated "
            "pictures, and its score on such files is unreliable"
        )
    colours = colour_count(image.pixels)
    if colours < MAX_FLAT_COLOURS:
        out.append(
            f"{CAUTION_PREFIX}flat graphic: only {colours} distinct colour"
            f"{'' if colours == 1 else 's'}, as in drawings, screenshots, logos and test "
            "patterns, which the pixel model was not trained on; its score says little here"
        )
    return out


def short_caution(notes: list[str]) -> str | None:
    """The short forms of the caution notes (``transparent image; flat graphic``), or None."""
    shorts = [
        n[len(CAUTION_PREFIX) :].split(":", 1)[0] for n in notes if n.startswith(CAUTION_PREFIX)
    ]
    return "; ".join(shorts) if shorts else None
