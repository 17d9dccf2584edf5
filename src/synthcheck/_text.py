"""Text that is safe to show and to store, whatever bytes a file name or a metadata field held.

File names on POSIX are bytes; Python hands names that are not valid UTF-8 to us as strings with
lone surrogates (``os.fsdecode``'s "surrogateescape"), and damaged metadata can put control bytes
into a message. Neither may crash a writer or reach a terminal raw: ``printable`` escapes them for
people, ``json_dumps`` keeps them reversible in JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_dumps", "printable"]

# C0 controls (tab kept), DEL and C1 controls: a terminal may act on them.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    # "surrogateescape" maps an undecodable byte b to U+DC00 + b: show the byte itself.
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters and undecodable bytes written as ``\\xNN`` escapes."""
    return _SURROGATE.sub(_escape_surrogate, _CONTROL.sub(_escape_control, text))


def _json_escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` with readable non-ASCII text that still encodes as UTF-8.

    A lone surrogate (a file name that is not UTF-8) is written as its ``\\uDCxx`` JSON escape,
    which ``json.loads`` turns back into the same string, so the name round-trips exactly. Lone
    surrogates can only occur inside JSON strings, so the substitution keeps the document valid.
    """
    return _SURROGATE.sub(_json_escape_surrogate, json.dumps(value, ensure_ascii=False, **kwargs))
