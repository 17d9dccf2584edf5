"""Mutation fuzzing of intake and every metadata parser, shared by the CI smoke test
(tests/test_fuzz_smoke.py) and the bounded-time campaign (benchmarks/fuzz.py).

Every input must end as a ScanResult — a verdict, or a typed per-file error — within a time bound.
An exception escaping ``Detector.scan_file`` or a hang is a finding.
"""

from __future__ import annotations

import io
import random
import signal
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from synthcheck.engine.detector import Detector
from synthcheck.errors import SynthcheckError


def _codes(cls: type[SynthcheckError]) -> set[str]:
    out = {cls.code}
    for sub in cls.__subclasses__():
        out |= _codes(sub)
    return out


KNOWN_ERROR_CODES = _codes(SynthcheckError)

A1111 = (
    "portrait of a cat\nNegative prompt: lowres\nSteps: 30, Sampler: DPM++ 2M Karras, "
    "CFG scale: 7, "
    "Seed: 42, Size: 64x48, Model hash: 31e35c80fc, Model: sd_xl_base_1.0"
)
XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
    'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>'
    '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def _pixels(seed: int = 0, size: tuple[int, int] = (64, 48)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def seed_corpus() -> dict[str, bytes]:
    """Small valid files of every format, with metadata for the parsers to chew on."""
    im = _pixels()
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif[0x0131] = "Adobe Photoshop 25.0"
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + A1111.encode("utf-16-be")
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    info.add_text(
        "prompt",
        '{"4": {"class_type": "CheckpointLoaderSimple", '
        '"inputs": {"ckpt_name": "flux1-dev.safetensors"}}}',
    )
    info.add_itxt("XML:com.adobe.xmp", XMP)
    seeds = {
        "a.jpg": _save(im, "JPEG", quality=90, exif=exif.tobytes(), xmp=XMP.encode()),
        "a.png": _save(im, "PNG", pnginfo=info),
        "p.png": _save(im.convert("P"), "PNG"),
        "a.webp": _save(im, "WEBP", quality=80, exif=exif.tobytes()),
        "l.webp": _save(im, "WEBP", lossless=True),
        "a.gif": _save(im.convert("P"), "GIF", comment=b"made with midjourney"),
        "a.bmp": _save(im, "BMP"),
        "a.tif": _save(im, "TIFF", exif=exif.tobytes()),
    }
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        seeds["a.heic"] = _save(im, "HEIF", quality=80)
        seeds["a.avif"] = _save(im, "AVIF", quality=80)
    except Exception:  # a missing encoder shrinks the corpus, it does not stop the fuzzing
        pass
    return seeds


def _flip_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(1, len(data))]


def _splice(rng: random.Random, data: bytes) -> bytes:
    i, j = sorted(rng.randrange(len(data)) for _ in range(2))
    k = rng.randrange(len(data))
    return data[:k] + data[i:j] + data[k:]


def _interesting_ints(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    pos = rng.randrange(max(1, len(b) - 4))
    val = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
    b[pos : pos + 4] = struct.pack(rng.choice([">I", "<I"]), val)
    return bytes(b)


def _png_chunk(rng: random.Random, data: bytes) -> bytes:
    if not data.startswith(b"\x89PNG"):
        return _flip_bytes(rng, data)
    kind = rng.choice([b"tEXt", b"iTXt", b"zTXt", b"caBX", b"eXIf"])
    body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if kind == b"tEXt":
        body = b"parameters\x00" + body
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return data[:33] + chunk + data[33:]


MUTATORS: list[Callable[[random.Random, bytes], bytes]] = [
    _flip_bytes,
    _truncate,
    _splice,
    _interesting_ints,
    _png_chunk,
]


def mutations(seeds: dict[str, bytes], rng: random.Random) -> Iterator[tuple[str, bytes]]:
    names = sorted(seeds)
    while True:
        name = rng.choice(names)
        data = seeds[name]
        for _ in range(rng.randint(1, 3)):
            if len(data) < 2:
                break
            data = rng.choice(MUTATORS)(rng, data) or b"\x00"
        yield name, data


class _HangError(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def _raise(signum: int, frame: object) -> None:
        raise _HangError

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Finding:
    name: str
    data: bytes
    problem: str


def check_one(detector: Detector, path: Path, data: bytes, *, seconds: float = 10.0) -> str | None:
    """Scan ``data`` written at ``path``; return a description of the problem, or None if fine."""
    path.write_bytes(data)
    try:
        with time_limit(seconds):
            result = detector.scan_file(path)
    except _HangError:
        return f"took longer than {seconds} s"
    except Exception as exc:
        return f"uncaught {type(exc).__name__}: {exc}"
    if result.verdict not in ("ai", "real", "unsure", "error"):
        return f"invalid verdict {result.verdict!r}"
    if result.verdict == "error":
        if result.error is None or result.error.type not in KNOWN_ERROR_CODES:
            return f"error without a known type: {result.error}"
        if not result.error.message:
            return "error without a message"
    return None
