"""The signal contract: one small class per kind of evidence."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from synthcheck.intake.image import LoadedImage
from synthcheck.results import Evidence, SignalKind, SignalResult, SignalVerdict

__all__ = ["Signal"]


class Signal(ABC):
    """A named detector of one kind of evidence.

    Subclasses set ``name`` (kebab-case, unique), ``description`` (one sentence for humans) and
    ``kind`` ("provenance" for evidence read from the file, "pixel" for evidence computed from the
    pixels), and implement :meth:`analyze`. ``analyze`` must not raise on odd or hostile metadata:
    unparseable metadata is reported as a "none" result whose summary says what was wrong.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    kind: ClassVar[SignalKind]

    @abstractmethod
    def analyze(self, image: LoadedImage) -> SignalResult:
        """Examine ``image`` and report what was found."""

    def result(
        self,
        verdict: SignalVerdict,
        score: float,
        summary: str,
        evidence: list[Evidence] | tuple[Evidence, ...] = (),
        *,
        decisive: bool = False,
        details: dict[str, object] | None = None,
    ) -> SignalResult:
        return SignalResult(
            name=self.name,
            kind=self.kind,
            verdict=verdict,
            score=float(min(1.0, max(0.0, score))),
            summary=summary,
            evidence=tuple(evidence),
            decisive=decisive,
            details=dict(details or {}),
        )

    def none(
        self, summary: str, evidence: list[Evidence] | tuple[Evidence, ...] = ()
    ) -> SignalResult:
        """No evidence either way (never proof of "real")."""
        return self.result("none", 0.5, summary, evidence)
