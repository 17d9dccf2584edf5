"""Intake: turn a file into a decoded :class:`LoadedImage`, or a typed error naming the problem.

``load_image(path)`` reads JPEG, PNG, WebP, HEIC/HEIF, AVIF, TIFF, GIF, BMP and camera RAW/DNG at
native resolution, detects the type from the content, applies EXIF orientation, keeps the
original bytes and container metadata, and refuses files over the pixel budget before decoding.
"""

from synthcheck.intake.decode import (
    DEFAULT_MAX_PIXELS,
    MAX_FILE_BYTES,
    MIME_TYPES,
    load_image,
    load_image_bytes,
)
from synthcheck.intake.image import ContainerMetadata, LoadedImage
from synthcheck.intake.sniff import IMAGE_EXTENSIONS, SUPPORTED_FORMATS, sniff_format

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "MAX_FILE_BYTES",
    "MIME_TYPES",
    "SUPPORTED_FORMATS",
    "ContainerMetadata",
    "LoadedImage",
    "load_image",
    "load_image_bytes",
    "sniff_format",
]
