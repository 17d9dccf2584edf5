"""Generator metadata: the settings that image-generation tools embed in their output.

AUTOMATIC1111 and its forks write ``parameters`` (PNG text, or EXIF UserComment in JPEG/WebP);
ComfyUI writes its ``prompt`` graph and ``workflow``; NovelAI, InvokeAI, Fooocus, SwarmUI, Draw
Things and Midjourney have their own fields. Finding one is decisive: cameras do not write
sampler settings. The tool and model are reported in ``details`` as ``{"tool", "model"}``.
"""

from __future__ import annotations

from typing import Any

from synthcheck.intake.image import LoadedImage
from synthcheck.results import Evidence, SignalResult
from synthcheck.signals._exif import USER_COMMENT, decode_user_comment, exif_text, read_exif
from synthcheck.signals._generators import find_generators
from synthcheck.signals._xmp import XmpError, parse_xmp
from synthcheck.signals.base import Signal
from synthcheck.signals.registry import register_signal

__all__ = ["GeneratorMetadataSignal"]

_EXIF_TEXT_TAGS = {0x010E: "ImageDescription", 0x0131: "Software", 0x013B: "Artist"}
_XP_COMMENT = 0x9C9C  # Windows XPComment, UTF-16LE


def collect_fields(image: LoadedImage) -> dict[str, str]:
    """The text fields of ``image`` that generators write to, labelled by where they came from."""
    fields: dict[str, str] = {}
    container = "PNG text" if image.format == "PNG" else f"{image.format} text"
    for key, value in image.metadata.text.items():
        if isinstance(value, str) and value.strip():
            fields[f"{container}:{key}"] = value
    exif = read_exif(image.metadata.exif)
    if exif is not None:
        comment = decode_user_comment(exif.exif.get(USER_COMMENT))
        if comment:
            fields["EXIF:UserComment"] = comment
        for tag, name in _EXIF_TEXT_TAGS.items():
            text = exif_text(exif.ifd0.get(tag))
            if text:
                fields[f"EXIF:{name}"] = text
        xp = exif.ifd0.get(_XP_COMMENT)
        if isinstance(xp, bytes) and xp:
            text = xp[: 1 << 20].decode("utf-16-le", "replace").replace("\x00", "").strip()
            if text:
                fields["EXIF:XPComment"] = text
    if image.metadata.xmp and "UserComment" in image.metadata.xmp:
        try:
            props = parse_xmp(image.metadata.xmp)
        except XmpError:
            props = None
        if props is not None:
            for value in props.get("exif", "UserComment")[:1]:
                fields["XMP:exif:UserComment"] = value
    return fields


@register_signal
class GeneratorMetadataSignal(Signal):
    """Finds the settings of Stable Diffusion UIs, ComfyUI, NovelAI, Midjourney and others."""

    name = "generator-metadata"
    description = (
        "Generation settings embedded by AI image tools (AUTOMATIC1111 parameters, ComfyUI "
        "prompt/workflow, NovelAI, InvokeAI, Fooocus, SwarmUI, Draw Things, Midjourney), with "
        "the tool and model named."
    )
    kind = "provenance"

    def analyze(self, image: LoadedImage) -> SignalResult:
        fields = collect_fields(image)
        if not fields:
            return self.none("no generator metadata")
        findings, notes = find_generators(fields)
        skipped = [Evidence(note, "generator.skipped") for note in notes[:5]]
        if not findings:
            return self.none("no generator metadata", skipped)
        main = findings[0]
        evidence: list[Evidence] = []
        for f in findings:
            model = f" with model {f.model}" if f.model else ""
            evidence.append(
                Evidence(
                    f"{f.tool} metadata in {f.field}{model}",
                    f.field,
                    {"tool": f.tool, "model": f.model},
                )
            )
            if f.prompt:
                evidence.append(Evidence(f"prompt: {f.prompt}", f"{f.field}.prompt", f.prompt))
            for key, value in list(f.extras.items())[:8]:
                evidence.append(Evidence(f"{key}: {value}"[:300], f"{f.field}.{key}", value))
        details: dict[str, Any] = {"tool": main.tool, "model": main.model}
        if len(findings) > 1:
            details["also"] = [{"tool": f.tool, "model": f.model} for f in findings[1:]]
        model = f", model {main.model}" if main.model else ""
        return self.result(
            "ai",
            0.99,
            f"generated with {main.tool}{model} (from {main.field})",
            [*evidence, *skipped],
            decisive=True,
            details=details,
        )
