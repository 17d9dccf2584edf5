"""XMP / IPTC declarations: DigitalSourceType, the IPTC AI fields, Credit and creator tools.

Generators and platforms label their output here: IPTC ``DigitalSourceType``
``trainedAlgorithmicMedia`` (Midjourney, Google, Meta, Shutterstock...), ``photoshop:Credit``
"Made with Google AI", ``xmp:CreatorTool`` "Adobe Firefly", the IPTC 2025 ``AISystemUsed`` field.
These are the file's own unsigned statements: decisive when they declare generation (nobody adds
such a label to a photograph by accident), but easily stripped, so their absence proves nothing,
and a declared capture is only weak evidence.
"""

from __future__ import annotations

from typing import Any

from synthcheck.intake.image import LoadedImage
from synthcheck.results import Evidence, SignalResult
from synthcheck.signals._ai_tools import match_ai_tool, match_editor
from synthcheck.signals._iptc_iim import read_iim
from synthcheck.signals._source_types import classify_source_type, source_type_code
from synthcheck.signals._xmp import XmpError, XmpProperties, parse_xmp
from synthcheck.signals.base import Signal
from synthcheck.signals.registry import register_signal

__all__ = ["XmpIptcSignal"]

_UNSIGNED = "unsigned metadata: anyone can add or strip it"
# (prefix, local name, label) of free-text fields that may name the generating tool.
_TOOL_FIELDS = (
    ("xmp", "CreatorTool", "XMP CreatorTool"),
    ("tiff", "Software", "XMP tiff:Software"),
    ("stEvt", "softwareAgent", "XMP history softwareAgent"),
    ("photoshop", "Credit", "XMP photoshop:Credit"),
    ("photoshop", "Source", "XMP photoshop:Source"),
    ("dc", "creator", "XMP dc:creator"),
)
_IIM_TOOL_FIELDS = ("Credit", "OriginatingProgram", "Source", "By-line")
_AI_SYSTEM_FIELDS = ("AISystemUsed", "AISystemVersionUsed", "AIPromptInformation")


@register_signal
class XmpIptcSignal(Signal):
    """Reads XMP and IPTC-IIM for declared digital source types and AI tool labels."""

    name = "xmp-iptc"
    description = (
        "XMP and IPTC metadata: IPTC DigitalSourceType, the IPTC AI-system fields, Credit and "
        "creator-tool labels written by generators (Firefly, DALL-E, Midjourney, Google...)."
    )
    kind = "provenance"

    def analyze(self, image: LoadedImage) -> SignalResult:
        evidence: list[Evidence] = []
        props = XmpProperties()
        if image.metadata.xmp:
            try:
                props = parse_xmp(image.metadata.xmp)
            except XmpError as exc:
                evidence.append(Evidence(f"XMP packet ignored: {exc}"[:300], "xmp.error"))
        iim = read_iim(image.metadata.iptc_iim)
        if not props.values and not iim:
            return self.none("no XMP or IPTC metadata", evidence)
        return self._judge(props, iim, evidence)

    def _judge(
        self, props: XmpProperties, iim: dict[str, list[str]], evidence: list[Evidence]
    ) -> SignalResult:
        details: dict[str, Any] = {}
        dst_values = [
            v
            for (_, local), vals in props.values.items()
            if local.lower() == "digitalsourcetype"
            for v in vals
        ]
        ai_dst = [v for v in dst_values if classify_source_type(v) in ("ai", "composite-ai")]
        capture_dst = [v for v in dst_values if classify_source_type(v) == "capture"]
        for value in dst_values[:5]:
            evidence.append(
                Evidence(
                    f"IPTC DigitalSourceType {source_type_code(value)} ({_UNSIGNED})",
                    "Iptc4xmpExt:DigitalSourceType",
                    value,
                )
            )
        if dst_values:
            details["digital_source_types"] = sorted({source_type_code(v) for v in dst_values})
        ai_system = [(f, v) for f in _AI_SYSTEM_FIELDS for v in props.get("Iptc4xmpExt", f)]
        for field, value in ai_system[:5]:
            evidence.append(Evidence(f"IPTC {field}: {value[:200]}", f"Iptc4xmpExt:{field}", value))
        tool: str | None = None
        editors: list[str] = []
        for prefix, local, label in _TOOL_FIELDS:
            for value in list(dict.fromkeys(props.get(prefix, local)))[:20]:
                tool, editors = self._note_tool(
                    label, f"{prefix}:{local}", value, tool, editors, evidence
                )
        for name in _IIM_TOOL_FIELDS:
            for value in list(dict.fromkeys(iim.get(name, [])))[:20]:
                tool, editors = self._note_tool(
                    f"IPTC-IIM {name}", f"iptc:{name}", value, tool, editors, evidence
                )
        if tool:
            details["tool"] = tool
        if editors:
            details["editors"] = sorted(set(editors))
        if ai_dst:
            code = source_type_code(ai_dst[0])
            by = f" by {tool}" if tool else ""
            return self.result(
                "ai",
                0.97 if classify_source_type(ai_dst[0]) == "ai" else 0.95,
                f"XMP declares the image {code}{by} (unsigned declaration)",
                evidence,
                decisive=True,
                details=details,
            )
        if ai_system:
            system = tool or ai_system[0][1][:80]
            details.setdefault("tool", system)
            return self.result(
                "ai",
                0.97,
                f"IPTC AI-system fields name {system} (unsigned declaration)",
                evidence,
                decisive=True,
                details=details,
            )
        if tool:
            return self.result(
                "ai",
                0.95,
                f"metadata names the generator {tool} (unsigned declaration)",
                evidence,
                decisive=True,
                details=details,
            )
        if capture_dst:
            code = source_type_code(capture_dst[0])
            return self.result(
                "real",
                0.45,
                f"XMP declares the image {code} (unsigned, weak evidence)",
                evidence,
                details=details,
            )
        summary = "no AI or capture declaration in XMP/IPTC"
        if editors:
            summary += f"; edited with {', '.join(sorted(set(editors)))}"
        return self.result("none", 0.5, summary, evidence, details=details)

    @staticmethod
    def _note_tool(
        label: str,
        field: str,
        value: str,
        tool: str | None,
        editors: list[str],
        evidence: list[Evidence],
    ) -> tuple[str | None, list[str]]:
        found = match_ai_tool(value)
        if found:
            evidence.append(
                Evidence(f"{label} names the generator {found}: {value[:200]}", field, value[:500])
            )
            return tool or found, editors
        editor = match_editor(value)
        if editor:
            evidence.append(
                Evidence(f"{label}: edited with {editor} ({value[:120]})", field, value[:500])
            )
            return tool, [*editors, editor]
        return tool, editors
