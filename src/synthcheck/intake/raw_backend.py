"""Decode camera RAW and DNG files with LibRaw (rawpy), checking the pixel budget first."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import (
    CorruptImageError,
    ImageTooLargeError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from synthcheck.intake.budget import DEFAULT_MAX_IMAGE_BYTES, check_decode_budget

__all__ = ["RawDecoded", "decode_raw"]

RawDecoded = tuple[NDArray[np.uint8], int, int]  # pixels, sensor bit depth, LibRaw flip code

# LibRaw's flip code -> EXIF orientation (LibRaw applies it while post-processing).
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


def decode_raw(
    data: bytes, path: str, fmt: str, max_pixels: int, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES
) -> RawDecoded:
    """Demosaic ``data`` to 8-bit sRGB at full sensor resolution (camera white balance).

    The sensor size is read from the header and checked against ``max_pixels`` and the memory
    budget ``max_bytes`` before the raw data is unpacked.
    """
    import rawpy

    raw = rawpy.RawPy()
    try:
        raw.open_buffer(io.BytesIO(data))
        sizes = raw.sizes
        pixels = max(sizes.width * sizes.height, sizes.raw_width * sizes.raw_height)
        if pixels > max_pixels:
            raise ImageTooLargeError(
                path,
                f"{sizes.width}x{sizes.height} sensor ({pixels:,} pixels) is over the pixel "
                f"budget of {max_pixels:,} (refused before decoding)",
            )
        check_decode_budget(path, sizes.raw_width, sizes.raw_height, "RAW", max_bytes)
        raw.unpack()
        rgb = raw.postprocess(use_camera_wb=True, output_bps=8)
        white = int(raw.white_level)
        flip = int(sizes.flip)
    except ImageTooLargeError:
        raise
    except rawpy.LibRawFileUnsupportedError:
        raise UnsupportedFormatError(
            path, f"{fmt} file from a camera or variant that LibRaw cannot decode"
        ) from None
    except (rawpy.LibRawTooBigError, rawpy.LibRawUnsufficientMemoryError, MemoryError):
        raise ImageTooLargeError(path, f"{fmt} data is too large to decode in memory") from None
    except rawpy.LibRawIOError:
        raise TruncatedImageError(
            path, f"{fmt} file is truncated: the raw data ends early"
        ) from None
    except (rawpy.LibRawError, rawpy.NotSupportedError, ValueError, OSError) as exc:
        raise CorruptImageError(path, f"{fmt} raw data is damaged ({exc})") from None
    finally:
        raw.close()
    bit_depth = max(8, min(16, white.bit_length())) if white > 0 else 16
    orientation = _FLIP_TO_ORIENTATION.get(flip, 1)
    return np.ascontiguousarray(rgb, dtype=np.uint8), bit_depth, orientation
