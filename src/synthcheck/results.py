"""Result types: what a signal reports and what a scan reports per file.

The JSONL contract of ``synthcheck scan`` (one object per input file) is ``ScanResult.to_dict()``:

``path``      the file as the user named it
``verdict``   "ai" | "real" | "unsure" | "error"
``p_ai``      probability the image is AI-generated, in [0, 1], or null when no pixel model ran
``signals``   list of ``{"name", "kind", "verdict", "score", "decisive", "summary", "evidence"}``
``error``     null, or ``{"type": <error code>, "message": <plain words>}``

Further keys (``sha256``, ``format``, ``width``, ``height``, ``notes``, ``detector``, ...) are
informative and may grow; the five above are stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ErrorInfo",
    "Evidence",
    "ScanResult",
    "ScanVerdict",
    "SignalKind",
    "SignalResult",
    "SignalVerdict",
]

SignalVerdict = Literal["ai", "real", "none"]
ScanVerdict = Literal["ai", "real", "unsure", "error"]
SignalKind = Literal["provenance", "pixel"]

JSONValue = Any


@dataclass(frozen=True)
class Evidence:
    """One human-readable finding, with the raw value it rests on."""

    message: str
    field: str | None = None
    value: JSONValue = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {"message": self.message, "field": self.field, "value": self.value}


@dataclass(frozen=True)
class SignalResult:
    """What one signal found in one image.

    ``score`` is the signal's estimate that the image is AI-generated, in [0, 1]; 0.5 means the
    signal has no information. ``verdict`` is "none" whenever the signal found no evidence:
    absence of evidence is never reported as "real". ``decisive`` marks evidence strong enough to
    settle the verdict on its own (a valid C2PA AI declaration, generator metadata, a watermark
    match).
    """

    name: str
    kind: SignalKind
    verdict: SignalVerdict
    score: float
    summary: str
    evidence: tuple[Evidence, ...] = ()
    decisive: bool = False
    details: dict[str, JSONValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"signal {self.name!r}: score {self.score} is outside [0, 1]")
        if self.verdict not in ("ai", "real", "none"):
            raise ValueError(f"signal {self.name!r}: unknown verdict {self.verdict!r}")

    @classmethod
    def no_evidence(cls, name: str, kind: SignalKind, summary: str) -> SignalResult:
        return cls(name=name, kind=kind, verdict="none", score=0.5, summary=summary)

    def to_dict(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {
            "name": self.name,
            "kind": self.kind,
            "verdict": self.verdict,
            "score": round(float(self.score), 6),
            "decisive": self.decisive,
            "summary": self.summary,
            "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True)
class ErrorInfo:
    type: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message}


@dataclass
class ScanResult:
    """Everything synthcheck concluded about one input file."""

    path: str
    verdict: ScanVerdict
    p_ai: float | None = None
    signals: list[SignalResult] = field(default_factory=list)
    error: ErrorInfo | None = None
    sha256: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    notes: list[str] = field(default_factory=list)
    detector: str | None = None
    heatmap: str | None = None
    seconds: float | None = None
    #: Tile grid of p_ai in [0, 1] behind the heatmap; kept in memory only, never serialised.
    heatmap_grid: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "path": self.path,
            "verdict": self.verdict,
            "p_ai": None if self.p_ai is None else round(float(self.p_ai), 6),
            "signals": [s.to_dict() for s in self.signals],
            "error": None if self.error is None else self.error.to_dict(),
            "sha256": self.sha256,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "notes": list(self.notes),
            "detector": self.detector,
            "heatmap": self.heatmap,
            "seconds": None if self.seconds is None else round(self.seconds, 4),
        }

    @classmethod
    def from_dict(cls, d: dict[str, JSONValue]) -> ScanResult:
        """Rebuild a result from its JSONL form (used by resumable scans and reports)."""
        signals = [
            SignalResult(
                name=s["name"],
                kind=s.get("kind", "provenance"),
                verdict=s["verdict"],
                score=float(s["score"]),
                summary=s.get("summary", ""),
                evidence=tuple(
                    Evidence(e["message"], e.get("field"), e.get("value"))
                    for e in s.get("evidence", [])
                ),
                decisive=bool(s.get("decisive", False)),
                details=dict(s.get("details", {})),
            )
            for s in d.get("signals", [])
        ]
        err = d.get("error")
        return cls(
            path=d["path"],
            verdict=d["verdict"],
            p_ai=d.get("p_ai"),
            signals=signals,
            error=None if err is None else ErrorInfo(err["type"], err["message"]),
            sha256=d.get("sha256"),
            format=d.get("format"),
            width=d.get("width"),
            height=d.get("height"),
            notes=list(d.get("notes", [])),
            detector=d.get("detector"),
            heatmap=d.get("heatmap"),
            seconds=d.get("seconds"),
        )
