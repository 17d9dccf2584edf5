"""EXIF parsing shared by the signals: Pillow's parser, hardened against damaged blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from synthcheck.intake.pillow_backend import quiet_warnings

__all__ = ["ExifData", "decode_user_comment", "exif_text", "read_exif"]

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
USER_COMMENT = 0x9286
_MAX_TEXT = 1 << 20


@dataclass(frozen=True)
class ExifData:
    """The tags of IFD0, the Exif IFD and the GPS IFD, as Pillow decodes them."""

    ifd0: dict[int, Any] = field(default_factory=dict)
    exif: dict[int, Any] = field(default_factory=dict)
    gps: dict[int, Any] = field(default_factory=dict)
    #: Parser warnings on damaged entries (skipped tags, bad counts), in plain words.
    notes: tuple[str, ...] = ()

    def get(self, tag: int) -> Any:
        """A tag from IFD0 or the Exif IFD (IFD0 first)."""
        if tag in self.ifd0:
            return self.ifd0[tag]
        return self.exif.get(tag)


def read_exif(raw: bytes | None) -> ExifData | None:
    """Parse a raw TIFF-structured EXIF block; None when absent or unparseable."""
    if not raw:
        return None
    notes: list[str] = []
    try:
        # Pillow warns (and, under a strict warnings filter, raises) on every damaged entry.
        with quiet_warnings(notes):
            ex = Image.Exif()
            ex.load(raw)
            ifd0 = {int(k): v for k, v in ex.items() if k not in (EXIF_IFD, GPS_IFD)}
            exif = _sub_ifd(ex, EXIF_IFD)
            gps = _sub_ifd(ex, GPS_IFD)
    except Exception:  # Pillow raises many types on damaged EXIF; damaged means "no EXIF" here
        return None
    if not (ifd0 or exif or gps):
        return None
    return ExifData(ifd0=ifd0, exif=exif, gps=gps, notes=tuple(notes[:10]))


def _sub_ifd(ex: Image.Exif, tag: int) -> dict[int, Any]:
    if tag not in ex:
        return {}
    try:
        return {int(k): v for k, v in ex.get_ifd(tag).items()}
    except Exception:  # one broken sub-IFD must not hide the rest
        return {}


def exif_text(value: Any) -> str | None:
    """A printable string from an ASCII-ish EXIF value (bytes or str), or None when empty."""
    if isinstance(value, bytes):
        value = value[:_MAX_TEXT].decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value[:_MAX_TEXT].replace("\x00", "").strip()
    return text or None


def decode_user_comment(value: Any) -> str | None:
    """Decode an EXIF UserComment: an 8-byte character-code prefix, then the text.

    ``UNICODE`` comments are UTF-16 whose byte order the standard ties to the TIFF byte order,
    but writers disagree (AUTOMATIC1111 always writes big-endian), so the order is taken from a
    byte-order mark or else guessed from where the zero bytes of ASCII-range text fall.
    """
    if isinstance(value, str):
        return value.strip("\x00").strip() or None
    if not isinstance(value, bytes) or not value:
        return None
    raw = value[: 2 * _MAX_TEXT]
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        text = _decode_utf16(body)
    elif prefix.startswith(b"ASCII") or prefix == b"\x00" * 8:
        text = body.decode("utf-8", "replace")
    elif prefix.startswith(b"JIS"):
        text = body.decode("shift_jis", "replace")
    else:
        text = raw.decode("utf-8", "replace")
    text = text.replace("\x00", "").strip()
    return text or None


def _decode_utf16(body: bytes) -> str:
    if body.startswith(b"\xfe\xff"):
        return body[2:].decode("utf-16-be", "replace")
    if body.startswith(b"\xff\xfe"):
        return body[2:].decode("utf-16-le", "replace")
    sample = body[:2048]
    zeros_even = sum(1 for b in sample[0::2] if b == 0)
    zeros_odd = sum(1 for b in sample[1::2] if b == 0)
    body = body[: len(body) // 2 * 2]
    return body.decode("utf-16-le" if zeros_odd > zeros_even else "utf-16-be", "replace")
