"""The decoded image handed to every signal."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["ContainerMetadata", "LoadedImage"]


@dataclass
class ContainerMetadata:
    """Metadata as found in the container, before any interpretation.

    ``exif`` is the raw TIFF-structured EXIF block (starting with ``II*`` or ``MM*``), ``xmp`` the
    XMP packet as text, ``text`` PNG tEXt/iTXt/zTXt chunks (the JPEG / GIF comment under
    ``"comment"`` for those formats), ``icc`` the ICC profile bytes. ``c2pa`` is True when the
    container carries a C2PA manifest store (JPEG APP11 JUMBF, PNG ``caBX``, ISO-BMFF ``uuid``,
    WebP ``C2PA``, TIFF tag 52545), found by a cheap structural scan; validating it is the C2PA
    signal's job. ``iptc_iim`` holds a JPEG's IPTC-IIM blocks (Photoshop APP13 resource 0x0404),
    in file order, undecoded; ``jpeg_quality`` the IJG quality a JPEG's luminance quantisation
    table is closest to (:mod:`synthcheck.intake.jpeg_quality`), None for other formats. Intake
    walks the container once and fills these, so signals interpret them without re-reading
    ``LoadedImage.data``.
    """

    exif: bytes | None = None
    xmp: str | None = None
    text: dict[str, str] = field(default_factory=dict)
    icc: bytes | None = None
    c2pa: bool = False
    iptc_iim: tuple[bytes, ...] = ()
    jpeg_quality: float | None = None


@dataclass
class LoadedImage:
    """One decoded image at native resolution, plus the original bytes and container metadata.

    ``pixels`` is H x W x 3 uint8 RGB after EXIF orientation (alpha composited on white, 16-bit
    reduced to 8-bit, palette expanded). ``format`` is the type detected from the bytes (e.g.
    "JPEG", "PNG", "WEBP", "HEIF", "AVIF", "TIFF", "GIF", "BMP", "DNG", "RAW"), never the extension.
    ``frame_count`` counts frames (animations) or pages (TIFF); only the first is decoded.
    ``bit_depth`` is the bits per sample of the source; ``orientation`` the EXIF orientation (1-8)
    that was applied to reach ``pixels``. ``notes`` are plain-words remarks (a wrong extension,
    damaged metadata, decoder warnings) that did not stop decoding. ``pixel_warnings`` are the
    reasons the pixels cannot carry a confident verdict (decoder fill after damaged data, a blank
    image); they are notes too, and the engine reports no pixel verdict stronger than "unsure".
    """

    path: str
    data: bytes
    format: str
    pixels: NDArray[np.uint8]
    sha256: str
    mime: str = "application/octet-stream"
    frame_count: int = 1
    bit_depth: int = 8
    has_alpha: bool = False
    original_mode: str = "RGB"
    metadata: ContainerMetadata = field(default_factory=ContainerMetadata)
    notes: list[str] = field(default_factory=list)
    orientation: int = 1
    pixel_warnings: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])
