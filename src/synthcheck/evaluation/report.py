"""The evaluation report: what :func:`synthcheck.evaluation.evaluate_model` returns, JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from synthcheck.evaluation.bias_audit import BiasAudit
from synthcheck.evaluation.metrics import ReliabilityBin
from synthcheck.evaluation.scoring import Skip
from synthcheck.fusion.rules import Thresholds

__all__ = ["ConditionResult", "EvaluationReport", "GroupResult", "ImageRecord"]


@dataclass(frozen=True)
class ConditionResult:
    """Metrics under one laundering condition.

    ``tpr_at_1`` / ``tpr_at_5`` use a threshold re-fitted on this condition's real scores (what a
    user who calibrated on such images would get); ``fpr_at_threshold`` / ``tpr_at_threshold`` use
    the active ``ai_threshold`` unchanged, which shows how far the clean threshold drifts.
    ``roc`` holds up to ~200 ``(fpr, tpr)`` points for plotting.
    """

    condition: str
    description: str
    n_real: int
    n_ai: int
    auc: float | None
    auc_ci: tuple[float, float] | None
    tpr_at_1: float | None
    tpr_at_5: float | None
    fpr_at_threshold: float | None
    tpr_at_threshold: float | None
    balanced_accuracy: float | None
    failed: int = 0
    roc: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class GroupResult:
    """One generator (AI images) or source (real or AI images) against the other class.

    ``auc`` compares this group with every image of the other class; ``flagged`` is the share of
    the group called AI at the active threshold (recall for AI groups, FPR for real groups).
    """

    kind: Literal["generator", "source"]
    name: str
    label: Literal["real", "ai"]
    n: int
    auc: float | None
    flagged: float
    mean_score: float


@dataclass(frozen=True)
class ImageRecord:
    """One scored image: its label, groups and score per condition (None where it failed)."""

    path: str
    label: Literal["real", "ai"]
    generator: str | None
    source: str | None
    scores: dict[str, float | None]


@dataclass
class EvaluationReport:
    """Everything ``synthcheck evaluate`` reports. The bias audit comes first on purpose: read it
    before any number. ``conditions[0]`` is the clean condition."""

    model: str
    thresholds: Thresholds
    calibration: str | None
    n_real: int
    n_ai: int
    bias: BiasAudit
    conditions: list[ConditionResult]
    verdict_rates: dict[str, dict[str, float]]
    ece: float
    reliability: list[ReliabilityBin]
    generators: list[GroupResult]
    sources: list[GroupResult]
    skipped: list[Skip]
    images: list[ImageRecord]
    ignored_files: int = 0
    seconds: float = 0.0
    created: str = ""
    scores_cached: int = 0
    scores_computed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> ConditionResult:
        return self.conditions[0]

    @property
    def skipped_files(self) -> int:
        """Files left out entirely (a failed condition of a kept file is not counted here)."""
        return sum(1 for s in self.skipped if s.condition is None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "calibration": self.calibration,
            "thresholds": {
                "real_threshold": self.thresholds.real_threshold,
                "ai_threshold": self.thresholds.ai_threshold,
            },
            "n_real": self.n_real,
            "n_ai": self.n_ai,
            "skipped_files": self.skipped_files,
            "ignored_files": self.ignored_files,
            "bias_audit": self.bias.to_dict(),
            "conditions": [_condition_dict(c) for c in self.conditions],
            "verdict_rates": self.verdict_rates,
            "ece": self.ece,
            "reliability": [asdict(b) for b in self.reliability],
            "generators": [asdict(g) for g in self.generators],
            "sources": [asdict(g) for g in self.sources],
            "skipped": [s.to_dict() for s in self.skipped],
            "images": [asdict(i) for i in self.images],
            "seconds": self.seconds,
            "created": self.created,
            "scores_cached": self.scores_cached,
            "scores_computed": self.scores_computed,
            "notes": self.notes,
        }


def _condition_dict(result: ConditionResult) -> dict[str, Any]:
    data = asdict(result)
    data["auc_ci"] = list(result.auc_ci) if result.auc_ci is not None else None
    data["roc"] = [list(point) for point in result.roc]
    return data
