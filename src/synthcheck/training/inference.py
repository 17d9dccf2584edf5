"""A trained project model as a pixel model of the engine (``Detector(pixel_model=...)``).

The project's prediction appears as one signal of kind ``"pixel"`` named ``project:NAME``; its
``p_ai`` (the total probability of the project's AI labels) drives the scan's ``p_ai``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import ModelError
from synthcheck.intake.image import LoadedImage
from synthcheck.results import Evidence, SignalResult, SignalVerdict
from synthcheck.training.features import create_extractor
from synthcheck.training.model import TrainedModel
from synthcheck.training.model_summary import ModelSummary
from synthcheck.training.store import Store

__all__ = ["SIGNAL_AI_THRESHOLD", "SIGNAL_REAL_THRESHOLD", "ProjectModel", "ProjectPrediction"]

#: The signal's own verdict: "ai" at or above, "real" at or below, otherwise no evidence.
SIGNAL_AI_THRESHOLD = 0.7
SIGNAL_REAL_THRESHOLD = 0.3


@dataclass
class ProjectPrediction:
    """One image's prediction (satisfies the engine's ``PixelPrediction``)."""

    p_ai: float
    label: str
    proba: dict[str, float]
    signals: list[SignalResult] = field(default_factory=list)


class ProjectModel:
    """Pixel model from a :class:`TrainedModel`. ``store`` (optional) serves cached features of
    images already in a project, so predicting them needs no backbone run."""

    def __init__(
        self,
        model: TrainedModel,
        *,
        name: str = "project",
        version: str = "",
        store: Store | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.version = version
        self.fingerprint = hashlib.sha256(model.to_bytes()).hexdigest()[:16]
        self._store = store
        self._extractors = {}
        for ex_name, ex_version in model.extractors.items():
            ex = create_extractor(ex_name)
            if ex.version != ex_version:
                raise ModelError(
                    f"{name}: trained on {ex_name} features version {ex_version!r}, this "
                    f"installation computes {ex.version!r}; retrain the project"
                )
            self._extractors[ex_name] = ex

    def _raw(self, images: Sequence[LoadedImage]) -> dict[str, NDArray[np.float32]]:
        raw: dict[str, NDArray[np.float32]] = {}
        shas = [im.sha256 for im in images]
        for name, ex in self._extractors.items():
            cached = self._store.get_features(ex.name, ex.version, shas) if self._store else {}
            todo = [i for i, s in enumerate(shas) if s not in cached]
            x = np.empty((len(images), ex.dim), dtype=np.float32)
            if todo:
                x[todo] = ex.compute([images[i].pixels for i in todo])
            for i, s in enumerate(shas):
                if s in cached:
                    x[i] = cached[s]
            raw[name] = x
        return raw

    def predict_many(self, images: Sequence[LoadedImage]) -> list[ProjectPrediction]:
        """Predictions for several images (backbone calls batched)."""
        if not images:
            return []
        proba = self.model.predict_proba(self._raw(images))
        p_ai = np.clip(self.model.p_ai(proba), 0.0, 1.0)
        return [self._prediction(proba[i], float(p_ai[i])) for i in range(len(images))]

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> ProjectPrediction:
        """Score one image; a project model has no heatmap (``heatmap`` is ignored)."""
        return self.predict_many([image])[0]

    def _prediction(self, proba: NDArray[np.float64], p_ai: float) -> ProjectPrediction:
        labels = self.model.labels
        j = int(proba.argmax())
        verdict: SignalVerdict = (
            "ai"
            if p_ai >= SIGNAL_AI_THRESHOLD
            else "real"
            if p_ai <= SIGNAL_REAL_THRESHOLD
            else "none"
        )
        probs = {lab: round(float(p), 6) for lab, p in zip(labels, proba, strict=True)}
        evidence = [
            Evidence(
                f"predicted label {labels[j]!r} with probability {proba[j]:.2f}", "label", labels[j]
            ),
            Evidence(
                "class probabilities: " + ", ".join(f"{k} {v:.2f}" for k, v in probs.items()),
                "proba",
                probs,
            ),
        ]
        recorded = ModelSummary.from_dict(self.model.metadata)
        cv = recorded.cv_score
        if cv is not None:
            metric = recorded.cv_metric or "score"
            evidence.append(
                Evidence(
                    f"model {self.version or ''} cross-validated {metric} {float(cv):.3f}".replace(
                        "  ", " "
                    ),
                    "cv_score",
                    cv,
                )
            )
        signal = SignalResult(
            name=self.name,
            kind="pixel",
            verdict=verdict,
            score=p_ai,
            summary=f"project model says {labels[j]!r} (p_ai {p_ai:.2f})",
            evidence=tuple(evidence),
            details={"label": labels[j], "proba": probs, "model_version": self.version},
        )
        return ProjectPrediction(p_ai=p_ai, label=labels[j], proba=probs, signals=[signal])
