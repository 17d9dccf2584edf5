"""Names of image generators as they appear in Software / CreatorTool / Credit fields.

Shared by the signals that read free-text tool names (EXIF Software, XMP CreatorTool, IPTC
Credit, C2PA claim generators). Patterns are anchored on word boundaries and kept specific, so
that ordinary software (Photoshop, Lightroom, GIMP) and words such as "flux" in other contexts
do not match.
"""

from __future__ import annotations

import re

__all__ = ["match_ai_tool", "match_editor"]

# (canonical tool name, pattern); the first match wins, so put specific names first.
_AI_TOOLS: tuple[tuple[str, str], ...] = (
    ("Adobe Firefly", r"adobe[ _-]?firefly"),
    ("OpenAI DALL-E", r"\bdall[ ·.\-_?]?e\b"),
    ("OpenAI GPT-4o", r"\bgpt[- ]?4o\b|\bgpt-image"),
    ("OpenAI ChatGPT", r"\bchatgpt\b"),
    ("Midjourney", r"\bmidjourney\b"),
    ("Google AI", r"made with google ai|google imagen|\bimagen \d|google gemini|\bsynthid\b"),
    (
        "Microsoft Designer",
        r"microsoft designer|bing image creator|image creator from microsoft"
        r"|responsible ai image provenance",
    ),
    ("Stable Diffusion", r"stable[ _-]?diffusion|\bsdxl\b|\bdreamstudio\b"),
    ("NovelAI", r"\bnovelai\b"),
    ("ComfyUI", r"\bcomfyui\b"),
    ("InvokeAI", r"\binvokeai\b"),
    ("Fooocus", r"\bfooocus\b"),
    ("Draw Things", r"\bdraw things\b"),
    ("SwarmUI", r"\bswarmui\b|stableswarmui"),
    ("FLUX", r"\bflux\.1\b|black forest labs"),
    ("Leonardo.Ai", r"\bleonardo\.ai\b"),
    ("Ideogram", r"\bideogram\b"),
    ("Runway", r"\brunwayml\b|\brunway gen-?\d"),
    ("Craiyon", r"\bcraiyon\b"),
    ("NightCafe", r"\bnightcafe\b"),
    ("Playground AI", r"\bplayground ?ai\b"),
    ("Kling AI", r"\bkling ai\b"),
    ("Recraft", r"\brecraft\b"),
)
_AI_RES = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in _AI_TOOLS)

_EDITORS: tuple[tuple[str, str], ...] = (
    ("Adobe Lightroom", r"lightroom"),  # before Photoshop: "Adobe Photoshop Lightroom"
    ("Adobe Camera Raw", r"camera raw"),
    ("Adobe Photoshop", r"photoshop"),
    ("Capture One", r"capture one"),
    ("GIMP", r"\bgimp\b"),
    ("Snapseed", r"snapseed"),
    ("Affinity Photo", r"affinity photo"),
    ("darktable", r"darktable"),
    ("RawTherapee", r"rawtherapee"),
    ("Pixelmator", r"pixelmator"),
    ("Paint.NET", r"paint\.net"),
    ("DxO PhotoLab", r"\bdxo\b"),
    ("Luminar", r"luminar"),
    ("Picasa", r"picasa"),
    ("Apple Photos", r"^photos \d"),
    ("ImageMagick", r"imagemagick"),
    ("Canva", r"\bcanva\b"),
)
_EDITOR_RES = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in _EDITORS)

_MAX_TEXT = 4096


def match_ai_tool(text: str) -> str | None:
    """The canonical name of the image generator named in ``text``, or None."""
    sample = text[:_MAX_TEXT]
    for name, rx in _AI_RES:
        if rx.search(sample):
            return name
    return None


def match_editor(text: str) -> str | None:
    """The canonical name of the photo editor named in ``text``, or None."""
    sample = text[:_MAX_TEXT]
    for name, rx in _EDITOR_RES:
        if rx.search(sample):
            return name
    return None
