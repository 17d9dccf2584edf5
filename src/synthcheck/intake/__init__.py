"""Intake: turn a file into a decoded :class:`LoadedImage`, or a typed error naming the problem."""

from synthcheck.intake.decode import DEFAULT_MAX_PIXELS, load_image, load_image_bytes
from synthcheck.intake.image import ContainerMetadata, LoadedImage
from synthcheck.intake.sniff import sniff_format

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ContainerMetadata",
    "LoadedImage",
    "load_image",
    "load_image_bytes",
    "sniff_format",
]
