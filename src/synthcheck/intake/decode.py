"""Open any supported image file into a :class:`LoadedImage`."""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from synthcheck.errors import (
    CorruptImageError,
    FileUnreadableError,
    ImageTooLargeError,
    NotAnImageError,
    TruncatedImageError,
    UnsupportedFormatError,
)
from synthcheck.intake.image import ContainerMetadata, LoadedImage
from synthcheck.intake.sniff import EXTENSIONS, sniff_format

__all__ = ["DEFAULT_MAX_PIXELS", "MAX_FILE_BYTES", "load_image", "load_image_bytes"]

#: Default pixel budget: 200 megapixels (a 16k x 12k panorama still fits).
DEFAULT_MAX_PIXELS = 200_000_000
#: Files larger than this are refused before reading (2 GiB).
MAX_FILE_BYTES = 2 * 1024**3

_MIME = {
    "JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif",
    "BMP": "image/bmp", "TIFF": "image/tiff", "HEIF": "image/heif", "AVIF": "image/avif",
    "DNG": "image/x-adobe-dng", "RAW": "image/x-raw",
}

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def load_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read and decode ``path``. Raises an :class:`~synthcheck.errors.InputError` subclass."""
    p = Path(path)
    try:
        if p.is_dir():
            raise FileUnreadableError(p, "is a directory, not a file")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageTooLargeError(p, f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
        data = p.read_bytes()
    except FileNotFoundError:
        raise FileUnreadableError(p, "file not found") from None
    except PermissionError:
        raise FileUnreadableError(p, "permission denied") from None
    except IsADirectoryError:
        raise FileUnreadableError(p, "is a directory, not a file") from None
    except OSError as exc:
        raise FileUnreadableError(p, f"could not be read ({exc.strerror or exc})") from None
    return load_image_bytes(data, str(path), max_pixels=max_pixels)


def load_image_bytes(
    data: bytes, path: str = "<bytes>", *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> LoadedImage:
    """Decode ``data``; ``path`` is used for messages and the extension check only."""
    if not data:
        raise NotAnImageError(path, "file is empty (0 bytes)")
    ext = os.path.splitext(path)[1].lower()
    fmt = sniff_format(data[:8192], ext)
    if fmt is None:
        raise NotAnImageError(path, "not an image: the content matches no supported image format")
    notes: list[str] = []
    if ext and ext not in EXTENSIONS.get(fmt, frozenset()):
        notes.append(f"extension {ext} does not match the content, which is {fmt}")
    if fmt in ("DNG", "RAW"):
        pixels, meta, bit_depth = _decode_raw(data, path, fmt, max_pixels)
        return LoadedImage(
            path=path, data=data, format=fmt, pixels=pixels,
            sha256=hashlib.sha256(data).hexdigest(), mime=_MIME[fmt], bit_depth=bit_depth,
            original_mode="RAW", metadata=meta, notes=notes,
        )
    return _decode_pillow(data, path, fmt, max_pixels, notes)


def _decode_pillow(
    data: bytes, path: str, fmt: str, max_pixels: int, notes: list[str]
) -> LoadedImage:
    if fmt in ("HEIF", "AVIF"):
        _register_heif()
    old_max = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = max_pixels
            try:
                im = Image.open(io.BytesIO(data))
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageTooLargeError(path, f"over the pixel budget of {max_pixels} pixels ({exc})") from None
            except Image.UnidentifiedImageError:
                raise UnsupportedFormatError(path, f"{fmt} data that no installed decoder can read") from None
            except (OSError, ValueError, SyntaxError) as exc:
                raise CorruptImageError(path, f"damaged {fmt} header ({exc})") from None
            w, h = im.size
            if w * h > max_pixels:
                raise ImageTooLargeError(path, f"{w}x{h} = {w * h} pixels is over the pixel budget of {max_pixels}")
            if w <= 0 or h <= 0:
                raise CorruptImageError(path, f"invalid dimensions {w}x{h}")
            frame_count = int(getattr(im, "n_frames", 1) or 1)
            meta = _pillow_metadata(im)
            mode = im.mode
            try:
                im.seek(0)
                im.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageTooLargeError(path, f"over the pixel budget ({exc})") from None
            except OSError as exc:
                msg = str(exc)
                if "truncated" in msg.lower() or "end of file" in msg.lower() or "incomplete" in msg.lower():
                    raise TruncatedImageError(path, f"{fmt} file is truncated: the image data ends early") from None
                raise CorruptImageError(path, f"{fmt} image data is damaged ({msg})") from None
            except (ValueError, SyntaxError, EOFError) as exc:
                raise CorruptImageError(path, f"{fmt} image data is damaged ({exc})") from None
            bit_depth = 16 if mode in ("I;16", "I;16B", "I;16L", "I", "RGB;16", "RGBA;16") else 8
            has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info)
            try:
                oriented = ImageOps.exif_transpose(im)
            except Exception:  # corrupt EXIF orientation must not lose the image
                oriented = im
                notes.append("EXIF orientation could not be applied (corrupt EXIF)")
            pixels = _to_rgb8(oriented)
    finally:
        Image.MAX_IMAGE_PIXELS = old_max
    if frame_count > 1:
        notes.append(f"{frame_count} frames; the first frame was analysed")
    return LoadedImage(
        path=path, data=data, format=fmt, pixels=pixels, sha256=hashlib.sha256(data).hexdigest(),
        mime=_MIME[fmt], frame_count=frame_count, bit_depth=bit_depth, has_alpha=has_alpha,
        original_mode=mode, metadata=meta, notes=notes,
    )


def _to_rgb8(im: Image.Image) -> NDArray[np.uint8]:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if arr.max(initial=0) > 255 else 255.0
        g = np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([g, g, g], axis=-1))
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min(initial=0)), float(arr.max(initial=1))
        g = np.clip((arr - lo) / max(hi - lo, 1e-12) * 255 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([g, g, g], axis=-1))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        bg.alpha_composite(rgba)
        return np.ascontiguousarray(np.asarray(bg.convert("RGB"), dtype=np.uint8))
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def _pillow_metadata(im: Image.Image) -> ContainerMetadata:
    info = im.info
    meta = ContainerMetadata()
    try:
        exif = im.getexif()
        raw = info.get("exif")
        if isinstance(raw, bytes) and raw:
            meta.exif = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
        elif len(exif):
            meta.exif = exif.tobytes()[6:] if exif.tobytes().startswith(b"Exif") else exif.tobytes()
    except Exception:
        meta.exif = None
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    if isinstance(xmp, str) and xmp.strip():
        meta.xmp = xmp
    text: dict[str, str] = {}
    for key, value in info.items():
        if key in ("exif", "xmp", "icc_profile", "XML:com.adobe.xmp"):
            continue
        if isinstance(value, str):
            text[str(key)] = value
        elif isinstance(value, bytes) and key in ("comment", "Comment"):
            text[str(key)] = value.decode("utf-8", "replace")
    meta.text = text
    icc = info.get("icc_profile")
    meta.icc = icc if isinstance(icc, bytes) and icc else None
    return meta


def _decode_raw(
    data: bytes, path: str, fmt: str, max_pixels: int
) -> tuple[NDArray[np.uint8], ContainerMetadata, int]:
    import rawpy

    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            sizes = raw.sizes
            if sizes.width * sizes.height > max_pixels:
                raise ImageTooLargeError(path, f"{sizes.width}x{sizes.height} sensor is over the pixel budget of {max_pixels}")
            rgb = raw.postprocess(use_camera_wb=True, output_bps=8, no_auto_bright=False)
    except ImageTooLargeError:
        raise
    except rawpy.LibRawFileUnsupportedError:
        raise UnsupportedFormatError(path, f"{fmt} file that LibRaw cannot decode") from None
    except (rawpy.LibRawIOError, rawpy.LibRawDataError) as exc:
        raise TruncatedImageError(path, f"{fmt} data is truncated or damaged ({exc})") from None
    except rawpy.LibRawError as exc:
        raise CorruptImageError(path, f"{fmt} data could not be decoded ({exc})") from None
    meta = ContainerMetadata()
    try:  # the TIFF structure of DNG/most RAW carries EXIF in IFD0; Pillow can read its tags
        with Image.open(io.BytesIO(data)) as tif:
            meta = _pillow_metadata(tif)
    except Exception:
        pass
    return np.ascontiguousarray(rgb, dtype=np.uint8), meta, 16
