"""Decode JPEG, PNG, WebP, GIF, BMP, TIFF (Pillow), HEIF (pillow-heif) and AVIF (Pillow).

Pillow keeps process-wide state that intake must control: the decompression-bomb limit
(``Image.MAX_IMAGE_PIXELS``), ``ImageFile.LOAD_TRUNCATED_IMAGES`` (truncation must be an error, not
a grey fill) and Python's warning filters (Pillow warns about corrupt EXIF, odd palettes, ...).
All are set for the duration of one decode under :data:`PILLOW_LOCK`, so a decode never sees
another thread's settings; parallel scans use processes, not threads.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps, PngImagePlugin, UnidentifiedImageError

from synthcheck._text import printable
from synthcheck.errors import (
    CorruptImageError,
    ImageTooLargeError,
    InputError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from synthcheck.intake.budget import (
    DEFAULT_MAX_IMAGE_BYTES,
    check_decode_budget,
    check_plausible_size,
)
from synthcheck.intake.containers import (
    count_gif_frames,
    drop_damaged_png_chunks,
    find_truncation,
    iter_png_chunks,
    png_missing_rows,
)
from synthcheck.intake.damage import jpeg_fill_warning
from synthcheck.intake.image import ContainerMetadata
from synthcheck.intake.metadata import pillow_metadata
from synthcheck.intake.pixels import SIXTEEN_BIT_MODES, has_alpha, to_rgb8
from synthcheck.intake.png_text import TEXT_CHUNKS, PngText, read_png_text

__all__ = ["PILLOW_LOCK", "PillowDecoded", "decode_with_pillow", "quiet_warnings"]

#: Serialises decodes that touch Pillow's global limit and the warning filters.
PILLOW_LOCK = threading.RLock()

# Pillow's plugin id for each detected type (restricting Image.open to it stops Pillow from
# guessing a different format for a damaged file).
_PLUGIN = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "WEBP": "WEBP",
    "GIF": "GIF",
    "BMP": "BMP",
    "TIFF": "TIFF",
    "HEIF": "HEIF",
    "AVIF": "AVIF",
    "DNG": "TIFF",
    "RAW": "TIFF",
}
_TRUNCATION_WORDS = ("truncated", "end of file", "premature", "unexpected end", "ended early")
_TOO_LARGE_WORDS = ("security limit", "too large", "exceeds the maximum")
_UNSUPPORTED_WORDS = ("unsupported", "not supported", "not implemented", "unknown compression")

_heif_lock = threading.Lock()
_heif_registered = False


@dataclass
class PillowDecoded:
    """What the Pillow path produced for one file."""

    pixels: NDArray[np.uint8]
    metadata: ContainerMetadata
    mode: str
    bit_depth: int
    has_alpha: bool
    frame_count: int
    orientation: int
    notes: list[str] = field(default_factory=list)
    pixel_warnings: list[str] = field(default_factory=list)


def _register_heif() -> None:
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            # Only the primary image: thumbnails, depth and auxiliary images are never decoded.
            pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
            _heif_registered = True


@contextmanager
def quiet_warnings(notes: list[str]) -> Iterator[None]:
    """Record warnings raised inside the block as notes instead of letting them escape."""
    with PILLOW_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                text = f"decoder warning: {str(w.message).strip()}"
                if text not in notes and not issubclass(w.category, ResourceWarning):
                    notes.append(text)


@contextmanager
def _native_stderr_as_notes(notes: list[str]) -> Iterator[None]:
    """Record what native decoders print on file descriptor 2 as notes.

    libtiff reports damaged tags (a RowsPerStrip of 0, say) by printing to stderr, which reached
    the user's terminal in the middle of a scan's output. The descriptor is pointed at a
    temporary file for the decode (under :data:`PILLOW_LOCK`, so decodes do not interleave) and
    each line becomes a note, escaped, at most ten.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read(64 * 1024).decode("utf-8", "replace")
            for line in [ln.strip() for ln in text.splitlines() if ln.strip()][:10]:
                note = f"decoder warning: {printable(line)}"
                if note not in notes:
                    notes.append(note)


@contextmanager
def _pillow_limits() -> Iterator[None]:
    # Intake applies its own budget to the header size before any pixel is decoded, and must see
    # truncation as an error even if someone in the process asked Pillow to fill it with grey.
    old_pixels, old_truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = None, False
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = old_pixels, old_truncated


def _over_pillow_text_limits(text: PngText) -> bool:
    return (
        bool(text.skipped)
        or text.largest > PngImagePlugin.MAX_TEXT_CHUNK
        or text.total > PngImagePlugin.MAX_TEXT_MEMORY
    )


def _strip_text_chunks(data: bytes) -> bytes:
    out = [data[:8]]
    for chunk in iter_png_chunks(data):
        if chunk.kind not in TEXT_CHUNKS:
            out.append(data[chunk.start - 8 : chunk.end + 4])
    return b"".join(out)


def decode_with_pillow(
    data: bytes,
    path: str,
    fmt: str,
    max_pixels: int,
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
) -> PillowDecoded:
    """Decode the first frame of ``data`` (already sniffed as ``fmt``) at native resolution.

    The header's size is checked against ``max_pixels``, the memory budget ``max_bytes`` and the
    file's length (:mod:`~synthcheck.intake.budget`) before any pixel is decoded.
    """
    if fmt == "HEIF":
        _register_heif()
    plugin = _PLUGIN[fmt]
    Image.init()  # Pillow registers its plugins lazily; OPEN is empty before this
    if plugin not in Image.OPEN:
        # AVIF needs Pillow >= 11.3 built with libavif; pillow-heif's wheels carry no AV1 decoder.
        raise UnsupportedFormatError(path, f"no {fmt} decoder is installed in this environment")
    notes: list[str] = []
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(quiet_warnings(notes))
            stack.enter_context(_pillow_limits())
            if plugin == "TIFF":  # libtiff is the native decoder that prints
                stack.enter_context(_native_stderr_as_notes(notes))
            return _decode(data, path, fmt, plugin, (max_pixels, max_bytes), notes)
    except InputError:
        raise
    except MemoryError:
        raise ImageTooLargeError(path, "ran out of memory while decoding the image") from None
    except Exception as exc:  # any decoder failure on untrusted bytes becomes a typed error
        error = _classify(exc, data, path, fmt)
        said = next((n for n in notes if n.startswith("decoder warning: ")), None)
        if said is not None and isinstance(error, CorruptImageError):
            # What libtiff printed names the damage better than its bare error code.
            error = CorruptImageError(path, f"{error.reason}; {said}")
        raise error from None


def _open(data: bytes, path: str, fmt: str, plugin: str, notes: list[str]) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=[plugin])
    except UnidentifiedImageError:
        if fmt == "PNG":
            repaired, dropped = drop_damaged_png_chunks(data)
            if dropped:
                notes.append(f"damaged PNG metadata chunks ignored: {', '.join(dropped)}")
                return _open(repaired, path, fmt, plugin, notes)
        reason = find_truncation(fmt, data)
        if reason:
            raise TruncatedImageError(path, f"{fmt} file is truncated: {reason}") from None
        raise CorruptImageError(
            path, f"the {fmt} header is damaged or uses a variant this decoder does not read"
        ) from None


def _decode(
    data: bytes, path: str, fmt: str, plugin: str, limits: tuple[int, int], notes: list[str]
) -> PillowDecoded:
    max_pixels, max_bytes = limits
    png_text = read_png_text(data) if fmt == "PNG" else None
    pillow_data = data
    if png_text is not None and _over_pillow_text_limits(png_text):
        # Pillow would refuse the whole file; it gets the pixels only, the text is read by intake.
        pillow_data = _strip_text_chunks(data)
    im = _open(pillow_data, path, fmt, plugin, notes)
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise CorruptImageError(path, f"the {fmt} header gives invalid dimensions {w}x{h}")
        if w * h > max_pixels:
            raise ImageTooLargeError(
                path,
                f"{w}x{h} = {w * h:,} pixels is over the pixel budget of {max_pixels:,} "
                "(refused before decoding, as a decompression-bomb guard)",
            )
        check_plausible_size(path, fmt, w, h, len(data))
        if fmt == "TIFF":
            _skip_tiff_preview(im, max_pixels, notes)
        mode = im.mode
        # Counted as if rotated: reading the EXIF orientation of a PNG loads the pixels, so it
        # is only known after the decode this budget must come before.
        check_decode_budget(path, *im.size, mode, max_bytes, rotated=True)
        if fmt == "PNG":
            missing = png_missing_rows(data)
            if missing:
                # A cut-off chunk names the cause better than the missing rows it leads to.
                reason = find_truncation(fmt, data) or missing
                raise TruncatedImageError(path, f"PNG file is truncated: {reason}")
        im.load()
        metadata = pillow_metadata(im, data, fmt, notes, png_text)
        bit_depth = _bit_depth(im, data, fmt)
        alpha = has_alpha(im)
        orientation = _orientation(im)
        try:
            oriented = ImageOps.exif_transpose(im) if orientation != 1 else im
        except Exception:  # a damaged EXIF block must not lose the picture
            oriented, orientation = im, 1
            notes.append("the EXIF orientation could not be applied (damaged EXIF)")
        try:
            pixels = to_rgb8(oriented)
        except ValueError as exc:
            raise UnsupportedFormatError(
                path, f"{fmt} colour mode {mode} cannot be converted to RGB ({exc})"
            ) from None
        frame_count = max(1, count_gif_frames(data)) if fmt == "GIF" else _frame_count(im, notes)
    if frame_count > 1:
        if fmt == "HEIF":
            notes.append(f"{frame_count} images in the file; the primary image was analysed")
        else:
            kind = "pages" if fmt == "TIFF" else "frames"
            notes.append(f"{frame_count} {kind}; the first was analysed")
    # JPEG is excluded: data after the end-of-image marker is common and harmless there.
    cut = None if fmt == "JPEG" else find_truncation(fmt, data)
    if cut:
        notes.append(
            f"the file is truncated ({cut}), but the first image decoded completely; "
            "later frames or metadata may be missing"
        )
    warnings_ = [w for w in (jpeg_fill_warning(pixels),) if w] if fmt == "JPEG" else []
    return PillowDecoded(
        pixels, metadata, mode, bit_depth, alpha, frame_count, orientation, notes, warnings_
    )


def _skip_tiff_preview(im: Image.Image, max_pixels: int, notes: list[str]) -> None:
    """Move to the full-size page when the first TIFF page is a reduced-resolution preview."""
    tags = getattr(im, "tag_v2", None)
    subfile = tags.get(254, 0) if tags is not None else 0
    pages = int(getattr(im, "n_frames", 1) or 1)
    if not (isinstance(subfile, int) and subfile & 1) or pages < 2:
        return
    best, best_area = 0, im.size[0] * im.size[1]
    for index in range(1, min(pages, 64)):
        im.seek(index)
        area = im.size[0] * im.size[1]
        if best_area < area <= max_pixels:
            best, best_area = index, area
    im.seek(best)
    if best:
        notes.append(f"page 1 is a reduced-resolution preview; page {best + 1} was analysed")


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _frame_count(im: Image.Image, notes: list[str]) -> int:
    try:
        return max(1, int(getattr(im, "n_frames", 1) or 1))
    except Exception:  # later frames of an animation may be damaged; the first one decoded
        notes.append("the number of frames could not be determined (later frames are damaged)")
        return 1


def _bit_depth(im: Image.Image, data: bytes, fmt: str) -> int:
    if fmt == "PNG" and len(data) > 24:
        return int(data[24])
    if im.mode in SIXTEEN_BIT_MODES or im.mode == "I":
        return 16
    if im.mode == "F":
        return 32
    heif_depth = im.info.get("bit_depth")
    if isinstance(heif_depth, int):
        return heif_depth
    if fmt == "TIFF":
        bits = getattr(im, "tag_v2", {}).get(258)
        if isinstance(bits, tuple) and bits and isinstance(bits[0], int):
            return int(bits[0])
        if isinstance(bits, int):
            return bits
    return 1 if im.mode == "1" else 8


def _classify(exc: BaseException, data: bytes, path: str, fmt: str) -> InputError:
    message = str(exc).strip() or type(exc).__name__
    lowered = message.lower()
    reason = find_truncation(fmt, data)
    if reason:
        return TruncatedImageError(path, f"{fmt} file is truncated: {reason}")
    if any(word in lowered for word in _TRUNCATION_WORDS):
        return TruncatedImageError(path, f"{fmt} file is truncated: the image data ends early")
    if any(word in lowered for word in _TOO_LARGE_WORDS):
        return ImageTooLargeError(
            path, f"{fmt} image is over the decoder's size limits ({message})"
        )
    if any(word in lowered for word in _UNSUPPORTED_WORDS):
        return UnsupportedFormatError(path, f"{fmt} variant that cannot be decoded ({message})")
    return CorruptImageError(path, f"{fmt} image data is damaged ({message})")
