"""Signs in the decoded pixels that they do not show the picture the file was meant to hold.

Decoders paper over damage: libjpeg fills the blocks after a premature end of scan data with
mid-grey and only warns; a blank or uniform image decodes perfectly but carries nothing a pixel
detector can judge. These findings do not stop a scan: they become the result's
``pixel_warnings``, and the engine then reports no verdict stronger than "unsure" from pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["grey_fill_lines", "jpeg_fill_warning", "uniform_image"]

# libjpeg(-turbo) leaves the coefficients of every block after the data runs out at zero, which
# decodes to exactly this value in all three channels.
_JPEG_FILL = 128
#: A fill narrower than one 8-pixel block row could be a genuine grey border.
MIN_FILL_LINES = 8
#: Peak-to-peak range (in 8-bit levels) at or under which an image counts as uniform.
UNIFORM_RANGE = 2


def _edge_run(lines: NDArray[np.bool_]) -> int:
    """How many entries at the end of ``lines`` are True in a row."""
    false = np.flatnonzero(~lines)
    return int(lines.size if false.size == 0 else lines.size - 1 - false[-1])


def grey_fill_lines(pixels: NDArray[np.uint8]) -> int:
    """The longest run of whole rows or columns of decoder grey fill at any edge of the image.

    Every edge is checked because EXIF orientation may have moved the bottom of the scan.
    """
    grey = np.all(pixels == _JPEG_FILL, axis=2)
    rows = np.all(grey, axis=1)
    cols = np.all(grey, axis=0)
    return max(_edge_run(rows), _edge_run(rows[::-1]), _edge_run(cols), _edge_run(cols[::-1]))


def jpeg_fill_warning(pixels: NDArray[np.uint8]) -> str | None:
    """A plain-words warning when a JPEG's edge is decoder grey fill, else None."""
    lines = grey_fill_lines(pixels)
    if lines < MIN_FILL_LINES:
        return None
    return (
        f"{lines} rows or columns at an edge are flat mid-grey, which is what a JPEG decoder "
        "draws where the scan data ends early: the file is probably truncated or damaged"
    )


def uniform_image(pixels: NDArray[np.uint8]) -> str | None:
    """A plain-words warning when every pixel is (almost) the same colour, else None."""
    if pixels.size == 0:
        return "the image has no pixels"
    low = pixels.min(axis=(0, 1))
    high = pixels.max(axis=(0, 1))
    spread = int((high.astype(np.int16) - low.astype(np.int16)).max())
    if spread > UNIFORM_RANGE:
        return None
    colour = ", ".join(str(int(v)) for v in low)
    return (
        f"the image is a single flat colour (RGB {colour}, within {spread} levels): "
        "there is no picture for the pixel model to judge"
    )
