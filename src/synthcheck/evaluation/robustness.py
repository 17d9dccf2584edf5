"""Laundering transforms for the robustness sweep: what happens to images on the way to a user.

Each transform re-encodes in memory with Pillow and decodes the result through
:func:`synthcheck.intake.load_image_bytes`, so a model sees exactly what it would see had the file
arrived that way. Metadata does not survive (as on most platforms that re-encode). Geometric
transforms save a lossless PNG so that only the geometry changes.

    >>> create_transform("jpeg75").apply(image)        # a LoadedImage re-encoded at quality 75
    >>> list_transforms()                               # clean first, then the sweep
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from synthcheck.errors import ConfigError
from synthcheck.intake.decode import load_image_bytes
from synthcheck.intake.image import LoadedImage

__all__ = [
    "CLEAN",
    "DEFAULT_SWEEP",
    "Transform",
    "create_transform",
    "list_transforms",
]

CLEAN = "clean"
_Op = Callable[[Image.Image], tuple[Image.Image, str, dict[str, object]]]


@dataclass(frozen=True)
class Transform:
    """A named laundering condition. ``apply`` returns a new, re-decoded :class:`LoadedImage`
    (the clean condition returns the image itself)."""

    name: str
    description: str
    op: _Op | None

    def apply(self, image: LoadedImage) -> LoadedImage:
        if self.op is None:
            return image
        pil = Image.fromarray(image.pixels, mode="RGB")
        out, fmt, params = self.op(pil)
        buffer = io.BytesIO()
        out.save(buffer, format=fmt, **params)
        ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
        return load_image_bytes(buffer.getvalue(), f"{image.path}[{self.name}].{ext}")


def _resized(pil: Image.Image, factor: float, resample: Image.Resampling) -> Image.Image:
    width = max(1, round(pil.width * factor))
    height = max(1, round(pil.height * factor))
    return pil.resize((width, height), resample)


def _jpeg(quality: int) -> _Op:
    return lambda pil: (pil, "JPEG", {"quality": quality})


def _resize(factor: float) -> _Op:
    return lambda pil: (_resized(pil, factor, Image.Resampling.LANCZOS), "PNG", {})


def _centre_crop(fraction: float) -> _Op:
    def op(pil: Image.Image) -> tuple[Image.Image, str, dict[str, object]]:
        width = max(1, round(pil.width * fraction))
        height = max(1, round(pil.height * fraction))
        left, top = (pil.width - width) // 2, (pil.height - height) // 2
        return pil.crop((left, top, left + width, top + height)), "PNG", {}

    return op


def _screenshot(pil: Image.Image) -> tuple[Image.Image, str, dict[str, object]]:
    # A browser shows the image smaller (bilinear scaling) and the screen grab is saved as PNG.
    return _resized(pil, 2 / 3, Image.Resampling.BILINEAR), "PNG", {"optimize": False}


_TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform(CLEAN, "the file as given", None),
        Transform("jpeg95", "JPEG re-encode, quality 95", _jpeg(95)),
        Transform("jpeg75", "JPEG re-encode, quality 75", _jpeg(75)),
        Transform("jpeg50", "JPEG re-encode, quality 50", _jpeg(50)),
        Transform("resize0.5", "downscale to 0.5x (Lanczos), PNG", _resize(0.5)),
        Transform("resize0.25", "downscale to 0.25x (Lanczos), PNG", _resize(0.25)),
        Transform("crop50", "centre crop to half the width and height, PNG", _centre_crop(0.5)),
        Transform("webp", "WebP re-encode, quality 80", lambda p: (p, "WEBP", {"quality": 80})),
        Transform("screenshot", "shown at 2/3 size (bilinear) and grabbed as PNG", _screenshot),
    )
}

#: The sweep run by ``synthcheck evaluate --robustness``, clean first.
DEFAULT_SWEEP: tuple[str, ...] = tuple(_TRANSFORMS)


def list_transforms() -> list[str]:
    """Names of the registered transforms, clean first."""
    return list(_TRANSFORMS)


def create_transform(name: str) -> Transform:
    """The transform called ``name``; :class:`ConfigError` listing the known names otherwise."""
    try:
        return _TRANSFORMS[name]
    except KeyError:
        raise ConfigError(
            f"unknown transform {name!r}; choose from {', '.join(_TRANSFORMS)}"
        ) from None
