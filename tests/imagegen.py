"""Small, deterministic test images of every supported format, made at test time.

Shared by the whole test suite: import it as ``from imagegen import make_jpeg`` (``tests/`` is on
``sys.path`` under pytest's default rootdir import mode) or ``from tests.imagegen import ...``.

Every ``make_*`` function writes a file to ``path`` and returns ``path``; the pixels come from a
seeded generator (``noise_pixels``) so the same call always gives the same bytes. Helpers at the end
build EXIF and XMP payloads and splice extra segments / chunks (XMP, C2PA/JUMBF boxes) into
existing files, for provenance and malformed-input tests.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, PngImagePlugin

__all__ = [
    "XMP_AI",
    "encode",
    "exif_bytes",
    "gradient_pixels",
    "insert_jpeg_segment",
    "insert_png_chunk",
    "jumbf_c2pa_box",
    "make_avif",
    "make_bmp",
    "make_dng",
    "make_gif",
    "make_heic",
    "make_jpeg",
    "make_png",
    "make_tiff",
    "make_webp",
    "noise_pixels",
    "png_chunk",
    "with_c2pa_box",
    "with_xmp",
    "xmp_packet",
]

Size = tuple[int, int]  # (width, height), as Pillow spells it

# --------------------------------------------------------------------------- pixels


def noise_pixels(size: Size = (64, 48), channels: int = 3, seed: int = 0) -> NDArray[np.uint8]:
    """H x W x channels uint8 pixels: a smooth gradient plus seeded noise (compresses sensibly)."""
    w, h = size
    rng = np.random.default_rng(seed)
    base = gradient_pixels(size, channels).astype(np.int16)
    noise = rng.integers(-24, 25, (h, w, channels), dtype=np.int16)
    out: NDArray[np.uint8] = np.clip(base + noise, 0, 255).astype(np.uint8)
    return out


def gradient_pixels(size: Size = (64, 48), channels: int = 3) -> NDArray[np.uint8]:
    """A deterministic gradient, distinct per channel, so orientation changes are detectable."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    chans = [
        (xx * 255 // max(w - 1, 1)),
        (yy * 255 // max(h - 1, 1)),
        ((xx + yy) * 255 // max(w + h - 2, 1)),
        np.full((h, w), 200),
    ]
    return np.stack(chans[:channels], axis=-1).astype(np.uint8)


def _rgb(size: Size, seed: int) -> Image.Image:
    return Image.fromarray(noise_pixels(size, 3, seed))


def _rgba(size: Size, seed: int) -> Image.Image:
    arr = noise_pixels(size, 4, seed)
    arr[..., 3] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    return Image.fromarray(arr)


# --------------------------------------------------------------------------- metadata payloads


def exif_bytes(
    *,
    orientation: int | None = None,
    make: str | None = None,
    model: str | None = None,
    software: str | None = None,
    user_comment: str | None = None,
    image_description: str | None = None,
    extra: Mapping[int, Any] | None = None,
) -> bytes:
    """EXIF as Pillow writes it (``Exif\\0\\0`` + TIFF block); pass to ``exif=`` of any maker.

    ``user_comment`` goes into the Exif IFD (tag 0x9286) with the UNICODE character-code prefix,
    as AUTOMATIC1111 writes it into JPEG/WebP.
    """
    ex = Image.Exif()
    if orientation is not None:
        ex[0x0112] = orientation
    if make is not None:
        ex[0x010F] = make
    if model is not None:
        ex[0x0110] = model
    if software is not None:
        ex[0x0131] = software
    if image_description is not None:
        ex[0x010E] = image_description
    for tag, value in (extra or {}).items():
        ex[tag] = value
    if user_comment is not None:
        ifd = ex.get_ifd(0x8769)
        ifd[0x9286] = b"UNICODE\x00" + user_comment.encode("utf-16-be")
    return ex.tobytes()


def xmp_packet(properties: Mapping[str, str] | None = None, *, raw_body: str | None = None) -> str:
    """An XMP packet with attributes on one ``rdf:Description``.

    ``properties`` maps qualified names (``Iptc4xmpExt:DigitalSourceType``, ``xmp:CreatorTool``,
    ``photoshop:Credit``, ``tiff:Make`` ...) to values; the usual namespaces are declared.
    ``raw_body`` replaces the description (for malformed-XMP tests).
    """
    ns = {
        "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
        "xmp": "http://ns.adobe.com/xap/1.0/",
        "photoshop": "http://ns.adobe.com/photoshop/1.0/",
        "tiff": "http://ns.adobe.com/tiff/1.0/",
        "exif": "http://ns.adobe.com/exif/1.0/",
        "dc": "http://purl.org/dc/elements/1.1/",
        "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    }
    if raw_body is None:
        decls = " ".join(f'xmlns:{k}="{v}"' for k, v in ns.items())
        attrs = " ".join(f'{k}="{_xml_escape(v)}"' for k, v in (properties or {}).items())
        raw_body = f'<rdf:Description rdf:about="" {decls} {attrs}/>'
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{raw_body}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )


def _xml_escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


#: An XMP packet declaring IPTC DigitalSourceType trainedAlgorithmicMedia.
XMP_AI = xmp_packet(
    {
        "Iptc4xmpExt:DigitalSourceType": (
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        )
    }
)


# --------------------------------------------------------------------------- formats


def _path(path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def make_jpeg(
    path: str | Path,
    size: Size = (64, 48),
    *,
    exif: bytes | None = None,
    orientation: int | None = None,
    xmp: str | None = None,
    icc: bytes | None = None,
    comment: str | None = None,
    quality: int = 90,
    mode: str = "RGB",
    seed: int = 0,
) -> Path:
    """A baseline JPEG. ``orientation`` is a shortcut for ``exif=exif_bytes(orientation=...)``."""
    p = _path(path)
    im = _rgb(size, seed)
    if mode != "RGB":
        im = im.convert(mode)
    if orientation is not None:
        if exif is not None:
            raise ValueError("pass either exif= or orientation=, not both")
        exif = exif_bytes(orientation=orientation)
    kw: dict[str, Any] = {"quality": quality}
    if exif is not None:
        kw["exif"] = exif
    if xmp is not None:
        kw["xmp"] = xmp.encode("utf-8")
    if icc is not None:
        kw["icc_profile"] = icc
    if comment is not None:
        kw["comment"] = comment
    im.save(p, "JPEG", **kw)
    return p


def make_png(
    path: str | Path,
    size: Size = (64, 48),
    *,
    mode: str = "RGB",
    bits16: bool = False,
    text: Mapping[str, str] | None = None,
    itxt: Mapping[str, str] | None = None,
    ztxt: Mapping[str, str] | None = None,
    exif: bytes | None = None,
    xmp: str | None = None,
    icc: bytes | None = None,
    seed: int = 0,
) -> Path:
    """A PNG in ``mode`` ("RGB", "RGBA", "L", "LA", "P", "P+tRNS" for palette with transparency).

    ``bits16`` writes a 16-bit greyscale PNG (mode I;16). ``text`` become tEXt chunks, ``itxt``
    iTXt (UTF-8), ``ztxt`` compressed zTXt; ``xmp`` goes into the ``XML:com.adobe.xmp`` iTXt.
    """
    p = _path(path)
    if bits16:
        w, h = size
        arr = (gradient_pixels(size, 1)[..., 0].astype(np.uint16) * 257) ^ (
            np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint16)
        )
        im = Image.fromarray(arr.astype(np.uint16))
    elif mode == "RGBA":
        im = _rgba(size, seed)
    elif mode == "LA":
        im = _rgba(size, seed).convert("LA")
    elif mode in ("P", "P+tRNS"):
        im = _rgb(size, seed).quantize(colors=16)
        if mode == "P+tRNS":
            im.info["transparency"] = 0
    else:
        im = _rgb(size, seed).convert(mode)
    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        info.add_text(k, v)
    for k, v in (itxt or {}).items():
        info.add_itxt(k, v)
    for k, v in (ztxt or {}).items():
        info.add_text(k, v, zip=True)
    if xmp is not None:
        info.add_itxt("XML:com.adobe.xmp", xmp)
    kw: dict[str, Any] = {"pnginfo": info}
    if mode == "P+tRNS":
        kw["transparency"] = 0
    if exif is not None:
        kw["exif"] = exif
    if icc is not None:
        kw["icc_profile"] = icc
    im.save(p, "PNG", **kw)
    return p


def make_webp(
    path: str | Path,
    size: Size = (64, 48),
    *,
    lossless: bool = False,
    animated: bool = False,
    frames: int = 3,
    alpha: bool = False,
    exif: bytes | None = None,
    xmp: str | None = None,
    quality: int = 90,
    seed: int = 0,
) -> Path:
    """A WebP: lossy by default, ``lossless``, with ``alpha``, or ``animated`` with ``frames``."""
    p = _path(path)
    first = _rgba(size, seed) if alpha else _rgb(size, seed)
    kw: dict[str, Any] = {"lossless": lossless, "quality": quality}
    if exif is not None:
        kw["exif"] = exif
    if xmp is not None:
        kw["xmp"] = xmp.encode("utf-8")
    if animated:
        rest = [(_rgba if alpha else _rgb)(size, seed + i) for i in range(1, frames)]
        first.save(p, "WEBP", save_all=True, append_images=rest, duration=100, loop=0, **kw)
    else:
        first.save(p, "WEBP", **kw)
    return p


def _heif_save(
    path: str | Path,
    size: Size,
    fmt: str,
    exif: bytes | None,
    xmp: str | None,
    quality: int,
    alpha: bool,
    seed: int,
) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    p = _path(path)
    im = _rgba(size, seed) if alpha else _rgb(size, seed)
    kw: dict[str, Any] = {"quality": quality}
    if exif is not None:
        kw["exif"] = exif
    if xmp is not None:
        kw["xmp"] = xmp.encode("utf-8")
    im.save(p, fmt, **kw)
    return p


def make_heic(
    path: str | Path,
    size: Size = (64, 48),
    *,
    exif: bytes | None = None,
    orientation: int | None = None,
    xmp: str | None = None,
    quality: int = 80,
    alpha: bool = False,
    seed: int = 0,
) -> Path:
    """A HEIC (HEVC in HEIF) written by pillow-heif."""
    if orientation is not None:
        exif = exif_bytes(orientation=orientation)
    return _heif_save(path, size, "HEIF", exif, xmp, quality, alpha, seed)


def make_avif(
    path: str | Path,
    size: Size = (64, 48),
    *,
    exif: bytes | None = None,
    xmp: str | None = None,
    quality: int = 80,
    alpha: bool = False,
    seed: int = 0,
) -> Path:
    """An AVIF written by Pillow's built-in AVIF plugin (Pillow >= 11.3)."""
    p = _path(path)
    im = _rgba(size, seed) if alpha else _rgb(size, seed)
    kw: dict[str, Any] = {"quality": quality}
    if exif is not None:
        kw["exif"] = exif
    if xmp is not None:
        kw["xmp"] = xmp.encode("utf-8")
    im.save(p, "AVIF", **kw)
    return p


def make_tiff(
    path: str | Path,
    size: Size = (64, 48),
    *,
    pages: int = 1,
    mode: str = "RGB",
    compression: str | None = "tiff_deflate",
    exif: bytes | None = None,
    seed: int = 0,
) -> Path:
    """A TIFF (``pages`` > 1 writes a multi-page file; page i uses seed + i)."""
    p = _path(path)
    ims = [_rgb(size, seed + i).convert(mode) for i in range(pages)]
    kw: dict[str, Any] = {}
    if compression:
        kw["compression"] = compression
    if exif is not None:
        kw["exif"] = exif
    if pages > 1:
        ims[0].save(p, "TIFF", save_all=True, append_images=ims[1:], **kw)
    else:
        ims[0].save(p, "TIFF", **kw)
    return p


def make_gif(
    path: str | Path,
    size: Size = (64, 48),
    *,
    frames: int = 1,
    comment: str | None = None,
    seed: int = 0,
) -> Path:
    """A GIF; ``frames`` > 1 writes an animation (each frame a different seed)."""
    p = _path(path)
    ims = [_rgb(size, seed + i).quantize(colors=64) for i in range(frames)]
    kw: dict[str, Any] = {}
    if comment is not None:
        kw["comment"] = comment
    if frames > 1:
        ims[0].save(p, "GIF", save_all=True, append_images=ims[1:], duration=100, loop=0, **kw)
    else:
        ims[0].save(p, "GIF", **kw)
    return p


def make_bmp(path: str | Path, size: Size = (64, 48), *, mode: str = "RGB", seed: int = 0) -> Path:
    """A BMP (``mode`` "RGB", "L", "P" or "1")."""
    p = _path(path)
    im = _rgb(size, seed)
    im = im.quantize(colors=16) if mode == "P" else im.convert(mode)
    im.save(p, "BMP")
    return p


def make_dng(
    path: str | Path,
    size: Size = (64, 48),
    *,
    make: str = "Synthcheck",
    model: str = "Test Camera",
    seed: int = 0,
) -> Path:
    """A minimal uncompressed 16-bit CFA (RGGB Bayer) DNG that LibRaw / rawpy decodes.

    The mosaic is sampled from ``noise_pixels`` so the demosaiced picture resembles the others.
    Width and height should be even.
    """
    import tifffile

    p = _path(path)
    w, h = size
    rgb = noise_pixels(size, 3, seed).astype(np.uint16) * 16  # 12-bit range, white level 4095
    cfa = np.empty((h, w), dtype=np.uint16)
    cfa[0::2, 0::2] = rgb[0::2, 0::2, 0]  # R
    cfa[0::2, 1::2] = rgb[0::2, 1::2, 1]  # G
    cfa[1::2, 0::2] = rgb[1::2, 0::2, 1]  # G
    cfa[1::2, 1::2] = rgb[1::2, 1::2, 2]  # B
    # ColorMatrix1 (XYZ -> camera), an sRGB-like matrix as SRATIONAL numerator/denominator pairs.
    cm = [3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570]
    cm_rational: list[int] = []
    for v in cm:
        cm_rational += [round(v * 10000), 10000]
    extratags: list[tuple[int, str | int, int, Any, bool]] = [
        (271, "s", 0, make, True),  # Make
        (272, "s", 0, model, True),  # Model
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern RGGB
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, f"{make} {model}", True),  # UniqueCameraModel
        (50714, "H", 1, 0, True),  # BlackLevel
        (50717, "H", 1, 4095, True),  # WhiteLevel
        (50721, 10, 9, tuple(cm_rational), True),  # ColorMatrix1
        (50728, 5, 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1 = D65
    ]
    tifffile.imwrite(
        p,
        cfa,
        photometric=32803,  # CFA
        subfiletype=0,
        bitspersample=16,
        extratags=extratags,
    )
    return p


# --------------------------------------------------------------------------- splicing helpers


def insert_jpeg_segment(data: bytes, marker: int, payload: bytes) -> bytes:
    """Insert a marker segment (e.g. 0xEB for APP11) right after SOI (and after APP0/APP1).

    ``payload`` excludes the 2-byte length, which is computed here (payload must be < 65534 bytes).
    """
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    if len(payload) > 65533:
        raise ValueError("JPEG segment payload too large")
    pos = 2
    while data[pos] == 0xFF and data[pos + 1] in (0xE0, 0xE1):
        seg_len = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        pos += 2 + seg_len
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return data[:pos] + segment + data[pos:]


def png_chunk(ctype: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return (
        struct.pack(">I", len(payload))
        + ctype
        + payload
        + struct.pack(">I", zlib.crc32(ctype + payload) & 0xFFFFFFFF)
    )


def insert_png_chunk(data: bytes, ctype: bytes, payload: bytes) -> bytes:
    """Insert a chunk right after IHDR."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not a PNG")
    ihdr_end = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4
    return data[:ihdr_end] + png_chunk(ctype, payload) + data[ihdr_end:]


def jumbf_c2pa_box(content: bytes = b"", *, label: bytes = b"c2pa") -> bytes:
    """A JUMBF superbox (``jumb``) with a description box labelled ``label`` and ``content``.

    Only the container shape of a C2PA manifest store; the content is not a valid manifest, which
    makes it a "broken C2PA box" for malformed-input tests.
    """
    c2pa_uuid = bytes.fromhex("6332706100110010800000aa00389b71")  # 'c2pa' + ISO suffix
    jumd_payload = c2pa_uuid + b"\x03" + label + b"\x00"
    jumd = struct.pack(">I", 8 + len(jumd_payload)) + b"jumd" + jumd_payload
    body = jumd + content
    return struct.pack(">I", 8 + len(body)) + b"jumb" + body


def with_c2pa_box(
    path: str | Path, content: bytes = b"\x00" * 16, *, out: str | Path | None = None
) -> Path:
    """Splice a (broken) C2PA JUMBF box into a JPEG (APP11) or PNG (caBX chunk) file."""
    p = Path(path)
    data = p.read_bytes()
    box = jumbf_c2pa_box(content)
    if data.startswith(b"\xff\xd8"):
        # APP11 JPEG-XT framing: "JP", instance 0x0001, sequence number 1, then the box.
        new = insert_jpeg_segment(data, 0xEB, b"JP" + struct.pack(">HI", 1, 1) + box)
    elif data.startswith(b"\x89PNG"):
        new = insert_png_chunk(data, b"caBX", box)
    else:
        raise ValueError(f"{p}: only JPEG and PNG are supported")
    target = Path(out) if out is not None else p
    target.write_bytes(new)
    return target


def with_xmp(path: str | Path, xmp: str, *, out: str | Path | None = None) -> Path:
    """Add an XMP packet to an existing JPEG (APP1) or PNG (iTXt) file, keeping the pixels."""
    p = Path(path)
    data = p.read_bytes()
    if data.startswith(b"\xff\xd8"):
        payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp.encode("utf-8")
        new = insert_jpeg_segment(data, 0xE1, payload)
    elif data.startswith(b"\x89PNG"):
        itxt = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp.encode("utf-8")
        new = insert_png_chunk(data, b"iTXt", itxt)
    else:
        raise ValueError(f"{p}: with_xmp supports JPEG and PNG; pass xmp= to make_webp/make_heic")
    target = Path(out) if out is not None else p
    target.write_bytes(new)
    return target


def encode(im: Image.Image, fmt: str, **kw: Any) -> bytes:
    """Encode a Pillow image in memory (convenience for byte-level tests)."""
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()
