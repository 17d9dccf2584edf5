"""The IPTC Digital Source Type vocabulary, shared by the C2PA and XMP/IPTC signals.

Codes are URIs such as ``http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia``;
files in the wild also carry the bare code or older spellings, so only the last path segment is
compared, case-insensitively.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["SourceClass", "classify_source_type", "source_type_code"]

SourceClass = Literal["ai", "composite-ai", "capture", "other"]

_AI = frozenset({"trainedalgorithmicmedia", "algorithmicmedia"})
_COMPOSITE_AI = frozenset({"compositewithtrainedalgorithmicmedia", "compositesynthetic"})
# Photographs and scans of photographs: a claim that a camera (or film) recorded the scene.
_CAPTURE = frozenset({"digitalcapture", "negativefilm", "positivefilm", "print"})


def source_type_code(value: str) -> str:
    """The bare code of a Digital Source Type value (the URI's last segment), stripped."""
    text = value.strip().rstrip("/")
    return text.rsplit("/", 1)[-1].rsplit(":", 1)[-1].strip()


def classify_source_type(value: str) -> SourceClass:
    """Whether a Digital Source Type declares generated media, a composite with it, or a capture."""
    code = source_type_code(value).lower()
    if code in _AI:
        return "ai"
    if code in _COMPOSITE_AI:
        return "composite-ai"
    if code in _CAPTURE:
        return "capture"
    return "other"
