"""A trained project model: feature blocks -> head -> calibrated class probabilities.

The model is plain arrays plus JSON metadata, serialised as one zip file (``model.json`` and
``arrays.npz``, read with ``allow_pickle=False``): safe to share and to load from strangers.

Pipeline for one image: each extractor's cached vector is cut into the model's blocks; each block
is standardised and projected on its principal components; the blocks are concatenated; the head
gives decision scores; the calibrator turns them into class probabilities; ``p_ai`` is the total
probability of the project's AI labels.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, softmax

from synthcheck.errors import ModelError
from synthcheck.training.heads import head_scores

__all__ = ["FORMAT", "BlockTransform", "Calibrator", "TrainedModel"]

F64 = NDArray[np.float64]
FORMAT = "synthcheck-project-model"
FORMAT_VERSION = 1


@dataclass
class BlockTransform:
    """One feature block: ``extractor`` output ``output`` (columns ``start:stop`` of the
    extractor's cached vector), optionally mapped through a fixed linear map ``pre_weight`` /
    ``pre_bias`` (how the default detector's heads enter a stacked model), standardised with
    ``mean``/``scale`` and projected on ``components`` (d x r; None keeps every column)."""

    extractor: str
    version: str
    output: str
    start: int
    stop: int
    mean: F64
    scale: F64
    components: F64 | None
    pre_weight: F64 | None = None
    pre_bias: F64 | None = None

    @property
    def name(self) -> str:
        return f"{self.extractor}:{self.output}"

    @property
    def width(self) -> int:
        return self.stop - self.start if self.components is None else self.components.shape[1]

    def apply(self, raw: NDArray[Any]) -> F64:
        x = np.asarray(raw[:, self.start : self.stop], dtype=np.float64)
        if self.pre_weight is not None and self.pre_bias is not None:
            x = x @ self.pre_weight + self.pre_bias
        x = (x - self.mean) / self.scale
        return x if self.components is None else x @ self.components


@dataclass
class Calibrator:
    """Scores -> probabilities: Platt scaling for two labels (``a * s + b``), otherwise a
    temperature and per-class offsets (``softmax(a * s + b)``); fitted on out-of-fold scores."""

    a: float
    b: F64

    def predict_proba(self, scores: F64) -> F64:
        if scores.shape[1] == 1:
            p1 = expit(self.a * scores[:, 0] + self.b[0])
            return np.stack([1.0 - p1, p1], axis=1)
        return softmax(self.a * scores + self.b[None, :], axis=1)  # type: ignore[no-any-return]


@dataclass
class TrainedModel:
    """A project model (see the module docstring). ``labels`` are the class names in score
    order; ``ai_labels`` those whose probability adds up to ``p_ai``."""

    labels: tuple[str, ...]
    ai_labels: tuple[str, ...]
    blocks: list[BlockTransform]
    head: str
    value: float
    params: dict[str, F64]
    calibrator: Calibrator
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def extractors(self) -> dict[str, str]:
        """Extractor name -> version the model needs."""
        return {b.extractor: b.version for b in self.blocks}

    @property
    def feature_set(self) -> list[str]:
        return [b.name for b in self.blocks]

    def transform(self, raw: dict[str, NDArray[Any]]) -> F64:
        """Concatenated block features from ``{extractor: N x dim}`` raw vectors."""
        missing = sorted({b.extractor for b in self.blocks} - set(raw))
        if missing:
            raise ModelError(f"features missing for extractors {missing}")
        return np.hstack([b.apply(raw[b.extractor]) for b in self.blocks])

    def decision_scores(self, raw: dict[str, NDArray[Any]]) -> F64:
        return head_scores(self.params, self.transform(raw))

    def predict_proba(self, raw: dict[str, NDArray[Any]]) -> F64:
        """N x len(labels) calibrated class probabilities."""
        return self.calibrator.predict_proba(self.decision_scores(raw))

    def p_ai(self, proba: F64) -> F64:
        idx = [i for i, lab in enumerate(self.labels) if lab in self.ai_labels]
        return proba[:, idx].sum(axis=1) if idx else np.zeros(proba.shape[0])

    # -- serialisation -----------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        arrays: dict[str, F64] = {}
        blocks = []
        for i, b in enumerate(self.blocks):
            arrays[f"block{i}.mean"] = b.mean
            arrays[f"block{i}.scale"] = b.scale
            if b.components is not None:
                arrays[f"block{i}.components"] = b.components
            if b.pre_weight is not None and b.pre_bias is not None:
                arrays[f"block{i}.pre_weight"] = b.pre_weight
                arrays[f"block{i}.pre_bias"] = b.pre_bias
            blocks.append(
                {
                    "extractor": b.extractor,
                    "version": b.version,
                    "output": b.output,
                    "start": b.start,
                    "stop": b.stop,
                    "projected": b.components is not None,
                    "pre": b.pre_weight is not None,
                }
            )
        for key, arr in self.params.items():
            arrays[f"head.{key}"] = arr
        arrays["calibration.b"] = self.calibrator.b
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "labels": list(self.labels),
            "ai_labels": list(self.ai_labels),
            "blocks": blocks,
            "head": {"name": self.head, "value": self.value, "params": sorted(self.params)},
            "calibration": {"a": self.calibrator.a},
            "metadata": self.metadata,
        }
        npz = io.BytesIO()
        np.savez(npz, **arrays)  # type: ignore[arg-type]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("model.json", json.dumps(meta, indent=1))
            zf.writestr("arrays.npz", npz.getvalue())
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<model>") -> TrainedModel:
        """Load a model written by :meth:`to_bytes`; :class:`ModelError` when it is not one."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                meta = json.loads(zf.read("model.json"))
                if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                    raise ModelError(f"{source}: not a synthcheck project model file")
                npz_bytes = zf.read("arrays.npz")
            with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
                arrays = {k: np.asarray(npz[k], dtype=np.float64) for k in npz.files}
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
            raise ModelError(f"{source}: not a synthcheck project model ({exc})") from exc
        if int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelError(f"{source}: written by a newer synthcheck; upgrade to load it")
        try:
            blocks = [
                BlockTransform(
                    extractor=b["extractor"],
                    version=b["version"],
                    output=b["output"],
                    start=int(b["start"]),
                    stop=int(b["stop"]),
                    mean=arrays[f"block{i}.mean"],
                    scale=arrays[f"block{i}.scale"],
                    components=arrays[f"block{i}.components"] if b["projected"] else None,
                    pre_weight=arrays[f"block{i}.pre_weight"] if b.get("pre") else None,
                    pre_bias=arrays[f"block{i}.pre_bias"] if b.get("pre") else None,
                )
                for i, b in enumerate(meta["blocks"])
            ]
            params = {k: arrays[f"head.{k}"] for k in meta["head"]["params"]}
            return cls(
                labels=tuple(meta["labels"]),
                ai_labels=tuple(meta["ai_labels"]),
                blocks=blocks,
                head=str(meta["head"]["name"]),
                value=float(meta["head"]["value"]),
                params=params,
                calibrator=Calibrator(float(meta["calibration"]["a"]), arrays["calibration.b"]),
                metadata=dict(meta.get("metadata", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{source}: damaged project model ({exc!r})") from exc
