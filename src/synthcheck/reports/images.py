"""Images embedded in HTML reports as ``data:`` URIs (reports must be one self-contained file)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from synthcheck.errors import InputError
from synthcheck.intake.decode import load_image

__all__ = ["file_data_uri", "thumbnail_data_uri"]

#: Embedded files larger than this are left out (a report must stay openable).
MAX_EMBED_BYTES = 4 * 1024 * 1024


def thumbnail_data_uri(
    path: str, *, max_side: int = 192, max_pixels: int | None = None
) -> str | None:
    """A small JPEG thumbnail of the image at ``path``, or None when it cannot be decoded."""
    try:
        image = load_image(path) if max_pixels is None else load_image(path, max_pixels=max_pixels)
    except (InputError, OSError):
        return None
    thumb = Image.fromarray(image.pixels)
    thumb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    thumb.save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def file_data_uri(path: str | None, mime: str = "image/png") -> str | None:
    """The file's bytes as a data URI, or None when missing, unreadable or too large."""
    if not path:
        return None
    source = Path(path)
    try:
        if source.stat().st_size > MAX_EMBED_BYTES:
            return None
        data = source.read_bytes()
    except OSError:
        return None
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
