"""Control characters in text the server sends back (file names, decoder messages, echoed
headers) are written as visible escapes, so that no message can move a terminal's cursor or
hide text when a client prints it."""

from __future__ import annotations

__all__ = ["escape_controls"]


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_controls(text: str) -> str:
    """``text`` with every non-printable character (C0/C1 controls, DEL, bidi overrides, lone
    surrogates) replaced by a Python-style escape; printable text is unchanged."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
