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


def _grey_lines(lines: NDArray[np.uint8]) -> int:
    """How many of ``lines`` (line, pixel, channel), from the first on, are all decoder grey.

    Walked line by line so that a photo, whose edge is not grey, costs one line and not a pass
    over every pixel of the image."""
    count = 0
    for line in lines:
        if not np.all(line == _JPEG_FILL):
            break
        count += 1
    return count


def grey_fill_lines(pixels: NDArray[np.uint8]) -> int:
    """The longest run of whole rows or columns of decoder grey fill at any edge of the image.

    Every edge is checked because EXIF orientation may have moved the bottom of the scan.
    """
    columns = pixels.transpose(1, 0, 2)
    return max(
        _grey_lines(pixels),
        _grey_lines(pixels[::-1]),
        _grey_lines(columns),
        _grey_lines(columns[::-1]),
    )


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
    # A sparse sample settles almost every real picture without a pass over all its pixels.
    sample = pixels[::17, ::17].reshape(-1, pixels.shape[-1])
    if int(np.ptp(sample, axis=0).max()) > UNIFORM_RANGE:
        return None
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
