"""One result as a JSONL line, a CSV row or a short headline; CSV rows parse back to results."""

from __future__ import annotations

import json
from typing import Any

from synthcheck._text import json_dumps
from synthcheck.engine.cautions import short_caution
from synthcheck.results import ScanResult, SignalResult

__all__ = [
    "CSV_COLUMNS",
    "csv_row",
    "headline",
    "jsonl_line",
    "plain_verdict",
    "result_from_csv_row",
    "signal_word",
    "strongest_signal",
    "tampered_manifest",
]

#: CSV columns. ``signals`` holds the JSONL ``signals`` list as JSON so that rows parse back fully.
CSV_COLUMNS = (
    "path",
    "verdict",
    "p_ai",
    "evidence",
    "error_type",
    "error_message",
    "sha256",
    "format",
    "width",
    "height",
    "detector",
    "seconds",
    "heatmap",
    "notes",
    "signals",
)


def jsonl_line(result: ScanResult) -> str:
    """The JSONL contract line of ``result`` (with the trailing newline)."""
    return json_dumps(result.to_dict(), separators=(",", ":")) + "\n"


def strongest_signal(result: ScanResult) -> SignalResult | None:
    """The signal that best explains the verdict: a decisive one, else one that fed the verdict
    and agrees with it, else one that fed it; the score farthest from 0.5 wins. Signals shown as
    evidence only (``details.fused`` false) explain the verdict only when nothing else can."""
    fed = [s for s in result.signals if s.details.get("fused") is not False]
    with_verdict = [s for s in result.signals if s.verdict != "none"]
    decisive = [s for s in with_verdict if s.decisive]
    fed_verdict = [s for s in fed if s.verdict != "none"]
    agreeing = [s for s in fed_verdict if s.verdict == result.verdict]
    # An "unsure" verdict is best explained by the pixel score that left it unsure.
    pixel = [s for s in fed if s.kind == "pixel"] if result.verdict == "unsure" else []
    pool = decisive or agreeing or pixel or fed_verdict or with_verdict
    if not pool:
        return None
    return max(pool, key=lambda s: abs(s.score - 0.5))


def tampered_manifest(result: ScanResult) -> SignalResult | None:
    """The C2PA signal when the file's manifest fails validation (altered after signing, or not
    this image's), else None. Such a manifest says nothing about AI, but a reader must see it."""
    for s in result.signals:
        if s.name == "c2pa" and s.details.get("integrity") == "invalid":
            return s
    return None


def signal_word(signal: SignalResult) -> str:
    """What a signal says, in plain words: "AI", "camera", "tampered" or "no information"."""
    if signal.name == "c2pa" and signal.details.get("integrity") == "invalid":
        return "tampered"
    return {"ai": "AI", "real": "camera"}.get(signal.verdict, "no information")


def plain_verdict(result: ScanResult) -> str:
    """The verdict as a sentence a non-specialist reads first."""
    if result.error is not None:
        return "Could not be analysed"
    decisive = any(s.decisive for s in result.signals)
    return {
        "ai": "Made by AI: its own metadata says so"
        if decisive
        else "Probably made by AI (from its pixels)",
        "real": "Probably a camera photo",
        "unsure": "Can't tell: the evidence is not strong either way",
    }.get(result.verdict, result.verdict)


def headline(result: ScanResult) -> str:
    """A short explanation of the verdict for tables and CSV."""
    if result.error is not None:
        return result.error.message
    signal = strongest_signal(result) or next((s for s in result.signals if s.evidence), None)
    text = "no evidence either way" if signal is None else f"{signal.name}: {signal.summary}"
    tampered = tampered_manifest(result)
    if tampered is not None and tampered is not signal:
        # An invalid manifest never moves the verdict (it is no evidence of AI), so it would
        # otherwise hide under a "none" row while the headline talks about pixels.
        text = f"C2PA manifest INVALID (altered after signing or not this image's); {text}"
    # A caution belongs in front of a pixel-based verdict; decisive provenance does not need it.
    caution = short_caution(result.notes)
    if caution is not None and not any(s.decisive for s in result.signals):
        text = f"caution, {caution}: {text}"
    return text


def _one_line(text: str) -> str:
    # CSV rows stay on one physical line so that a torn tail can be cut at the last newline.
    return " ".join(text.split())


def csv_row(result: ScanResult) -> list[str]:
    d = result.to_dict()
    err = d["error"] or {}
    return [
        _one_line(d["path"]),
        d["verdict"],
        "" if d["p_ai"] is None else f"{d['p_ai']:.6f}",
        _one_line(headline(result)),
        err.get("type", ""),
        _one_line(err.get("message", "")),
        d["sha256"] or "",
        d["format"] or "",
        "" if d["width"] is None else str(d["width"]),
        "" if d["height"] is None else str(d["height"]),
        d["detector"] or "",
        "" if d["seconds"] is None else f"{d['seconds']:.4f}",
        d["heatmap"] or "",
        _one_line("; ".join(d["notes"])),
        json_dumps(d["signals"], separators=(",", ":")),
    ]


def _int_or_none(text: str) -> int | None:
    return int(text) if text else None


def result_from_csv_row(row: dict[str, str]) -> ScanResult:
    """Rebuild a result from a CSV row written by :func:`csv_row`."""
    d: dict[str, Any] = {
        "path": row["path"],
        "verdict": row["verdict"],
        "p_ai": float(row["p_ai"]) if row.get("p_ai") else None,
        "signals": json.loads(row["signals"]) if row.get("signals") else [],
        "error": (
            {"type": row["error_type"], "message": row.get("error_message", "")}
            if row.get("error_type")
            else None
        ),
        "sha256": row.get("sha256") or None,
        "format": row.get("format") or None,
        "width": _int_or_none(row.get("width", "")),
        "height": _int_or_none(row.get("height", "")),
        "notes": [n for n in row.get("notes", "").split("; ") if n],
        "detector": row.get("detector") or None,
        "heatmap": row.get("heatmap") or None,
        "seconds": float(row["seconds"]) if row.get("seconds") else None,
    }
    return ScanResult.from_dict(d)
