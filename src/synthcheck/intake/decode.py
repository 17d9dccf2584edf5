"""Open any supported image file into a :class:`LoadedImage`, or raise a typed error naming it.

The type comes from the bytes (:mod:`~synthcheck.intake.sniff`); a wrong extension is a note.
The pixel budget is checked on the header dimensions before any pixel is decoded. Images are
never downscaled: ``LoadedImage.pixels`` has the native size after EXIF orientation.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from synthcheck.errors import (
    ConfigError,
    FileUnreadableError,
    ImageTooLargeError,
    NotAnImageError,
    UnsupportedFormatError,
)
from synthcheck.intake.budget import DEFAULT_MAX_IMAGE_BYTES
from synthcheck.intake.damage import uniform_image
from synthcheck.intake.image import LoadedImage
from synthcheck.intake.metadata import tiff_container_metadata
from synthcheck.intake.pillow_backend import decode_with_pillow
from synthcheck.intake.raw_backend import decode_raw
from synthcheck.intake.sniff import EXTENSIONS, describe_unknown, sniff_format

__all__ = [
    "DEFAULT_MAX_IMAGE_BYTES",
    "DEFAULT_MAX_PIXELS",
    "MAX_FILE_BYTES",
    "MIME_TYPES",
    "load_image",
    "load_image_bytes",
    "read_image_file",
]

#: Default pixel budget: 200 megapixels (a 16k x 12k panorama still fits).
DEFAULT_MAX_PIXELS = 200_000_000
#: Files larger than this are refused before reading (2 GiB).
MAX_FILE_BYTES = 2 * 1024**3

#: MIME type of each detected format.
MIME_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "HEIF": "image/heif",
    "AVIF": "image/avif",
    "DNG": "image/x-adobe-dng",
    "RAW": "image/x-raw",
}
_SNIFF_BYTES = 1 << 16  # TIFF-based RAW/DNG need their first IFD, which may not be at the start


def load_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
) -> LoadedImage:
    """Read and decode ``path``.

    Raises a subclass of :class:`~synthcheck.errors.InputError` naming the file when it cannot be
    read, is not an image, is truncated, damaged, unsupported, over ``max_pixels``, would need
    more than ``max_bytes`` of memory to decode and analyse, or declares far more pixels than its
    size can hold.
    """
    return load_image_bytes(
        read_image_file(path), os.fspath(path), max_pixels=max_pixels, max_bytes=max_bytes
    )


def read_image_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path``, refusing anything but a regular file under the size limit with a
    :class:`~synthcheck.errors.InputError` that says why in plain words."""
    p = Path(path)
    try:
        return _read_regular_file(p)
    except FileNotFoundError:
        raise FileUnreadableError(p, "file not found") from None
    except PermissionError:
        raise FileUnreadableError(p, "permission denied") from None
    except IsADirectoryError:
        raise FileUnreadableError(p, "is a directory, not a file") from None
    except OSError as exc:
        raise FileUnreadableError(p, f"could not be read ({exc.strerror or exc})") from None


def _read_regular_file(p: Path) -> bytes:
    # Opened without blocking (a FIFO would wait for a writer) and checked on the descriptor, so
    # a device or pipe can never make the read block or run forever (/dev/zero has size 0).
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise FileUnreadableError(p, "is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise FileUnreadableError(p, "is not a regular file (a device, pipe or socket)")
        if st.st_size > MAX_FILE_BYTES:
            raise ImageTooLargeError(
                p, f"file is {st.st_size:,} bytes, over the {MAX_FILE_BYTES:,} byte limit"
            )
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImageTooLargeError(p, f"file grew past the {MAX_FILE_BYTES:,} byte limit while read")
    return data


def load_image_bytes(
    data: bytes,
    path: str = "<bytes>",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
) -> LoadedImage:
    """Decode ``data``; ``path`` names the file in messages and is used for the extension check."""
    for name, value in (("max_pixels", max_pixels), ("max_bytes", max_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if not data:
        raise NotAnImageError(path, "the file is empty (0 bytes)")
    ext = Path(path).suffix.lower()
    head = data[:_SNIFF_BYTES]
    fmt = sniff_format(head, ext)
    if fmt is None:
        what, is_image = describe_unknown(head)
        if is_image:
            raise UnsupportedFormatError(
                path,
                f"{what}, a format synthcheck does not read (it reads "
                "JPEG, PNG, WebP, HEIC/HEIF, AVIF, TIFF, GIF, BMP and camera RAW/DNG)",
            )
        raise NotAnImageError(path, f"not an image: the content looks like {what}")
    notes: list[str] = []
    if ext and ext not in EXTENSIONS[fmt]:
        notes.append(f"the extension {ext} does not match the content, which is {fmt}")
    sha256 = hashlib.sha256(data).hexdigest()
    if fmt in ("DNG", "RAW"):
        try:
            pixels, bit_depth, orientation = decode_raw(data, path, fmt, max_pixels, max_bytes)
        except UnsupportedFormatError:
            if fmt != "RAW" or data[:4] not in (b"II*\x00", b"MM\x00*"):
                raise
            # Only the extension or a loose tag heuristic said "camera RAW"; it is a plain TIFF.
            notes.append(
                "LibRaw does not recognise this TIFF-structured file as camera RAW; "
                "it was decoded as TIFF"
            )
            fmt = "TIFF"
        else:
            warnings_ = [w for w in (uniform_image(pixels),) if w]
            return LoadedImage(
                path=path,
                data=data,
                format=fmt,
                pixels=pixels,
                sha256=sha256,
                mime=MIME_TYPES[fmt],
                bit_depth=bit_depth,
                original_mode="RAW",
                metadata=tiff_container_metadata(data, fmt),
                notes=notes + warnings_,
                orientation=orientation,
                pixel_warnings=warnings_,
            )
    decoded = decode_with_pillow(data, path, fmt, max_pixels, max_bytes)
    warnings_ = decoded.pixel_warnings + [w for w in (uniform_image(decoded.pixels),) if w]
    return LoadedImage(
        path=path,
        data=data,
        format=fmt,
        pixels=decoded.pixels,
        sha256=sha256,
        mime=MIME_TYPES[fmt],
        frame_count=decoded.frame_count,
        bit_depth=decoded.bit_depth,
        has_alpha=decoded.has_alpha,
        original_mode=decoded.mode,
        metadata=decoded.metadata,
        notes=notes + decoded.notes + warnings_,
        orientation=decoded.orientation,
        pixel_warnings=warnings_,
    )
