"""Training a project: features, the CV sweep, the keep-or-discard decision, the saved version.

:func:`train_project` runs the phases in order, each a function of its own:

1. :func:`project_features`: the feature matrices of the project's images (computing and
   caching what the cache lacks; unreadable files are skipped and reported);
2. :func:`sweep_blocks`: the sweep's feature blocks (plus the default detector's head logits
   with ``init="default"``);
3. :func:`~synthcheck.training.sweep.run_sweep`, with the current version's configuration as the
   baseline evaluated on the same folds;
4. :func:`decide`: keep the new model or the current version;
5. :func:`save_version` when kept: the model file, its :class:`ModelSummary` and the
   (out-of-fold) predictions that review reads, in one transaction;
6. the :class:`TrainReport`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import ConfigError, DataError, InputError
from synthcheck.intake import load_image
from synthcheck.training.features import create_extractor
from synthcheck.training.importing import cache_features
from synthcheck.training.model_summary import ModelSummary
from synthcheck.training.project_store import Prediction, ProjectRecords
from synthcheck.training.store import ImageRow, ModelRow, Store
from synthcheck.training.sweep import HEAD_ORDER, RawBlock, SweepResult, run_sweep
from synthcheck.training.warmstart import INIT_CHOICES, default_head_blocks

__all__ = [
    "Decision",
    "ProjectFeatures",
    "TrainReport",
    "decide",
    "project_features",
    "save_version",
    "sweep_blocks",
    "train_project",
]

_FEATURE_BATCH = 32  # images decoded per feature-cache transaction
_REPORTED_SKIPS = 50


@dataclass
class TrainReport:
    """What ``train`` measured and decided."""

    project: str
    labels: list[str]
    accuracy_per_class: dict[str, float]
    balanced_accuracy: float
    auc: float | None
    confusion: list[list[int]]
    n_images: int
    n_labelled: int
    n_skipped: int
    folds: int
    seconds_features: float
    seconds_sweep: float
    chosen: dict[str, Any]
    candidates: int
    kept: bool
    version: int | None
    message: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "cv_accuracy_per_class": {k: round(v, 6) for k, v in self.accuracy_per_class.items()},
            "cv_balanced_accuracy": round(self.balanced_accuracy, 6),
            "cv_auc": None if self.auc is None else round(self.auc, 6),
            "confusion_matrix": {"labels": self.labels, "rows_true_cols_predicted": self.confusion},
            "n_images": self.n_images,
            "n_labelled": self.n_labelled,
            "n_skipped": self.n_skipped,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "folds": self.folds,
            "seconds_features": round(self.seconds_features, 3),
            "seconds_sweep": round(self.seconds_sweep, 3),
            "chosen": self.chosen,
            "candidates_evaluated": self.candidates,
            "kept": self.kept,
            "version": self.version,
            "message": self.message,
            "notes": self.notes,
        }


@dataclass
class ProjectFeatures:
    """The images whose features could be had (``rows``, in project order), one matrix per
    extractor (a row per image), and the images skipped with the reason."""

    rows: list[ImageRow]
    matrices: dict[str, NDArray[np.float32]]
    skipped: list[tuple[str, str]]
    seconds_computing: float

    @property
    def fingerprint(self) -> str:
        """The SHA-256 of the labelled images and their labels: whether the data changed."""
        return hashlib.sha256(
            "\n".join(sorted(f"{r.sha256}:{r.label}" for r in self.rows if r.label)).encode()
        ).hexdigest()

    @property
    def n_labelled(self) -> int:
        return sum(1 for r in self.rows if r.label)


@dataclass(frozen=True)
class Decision:
    """Whether the new model becomes a version, and why, in plain words."""

    keep: bool
    message: str


def train_project(
    records: ProjectRecords,
    *,
    folds: int = 5,
    seed: int = 0,
    heads: Sequence[str] = HEAD_ORDER,
    force: bool = False,
    init: str = "none",
    progress: Callable[[int, int], None] | None = None,
) -> TrainReport:
    """What :meth:`synthcheck.training.Project.train` does (see there)."""
    if init not in INIT_CHOICES:
        raise ConfigError(f"unknown init {init!r}; choose one of {', '.join(INIT_CHOICES)}")
    t0 = time.perf_counter()
    rows = records.images()
    if not rows:
        raise DataError(
            f"project {records.name!r} has no images; import some with "
            f"`synthcheck project import {records.name} DIR --label L`"
        )
    extractors = records.extractors
    feats = project_features(records.store, rows, extractors, progress)
    seconds_features = time.perf_counter() - t0
    blocks, notes = sweep_blocks(extractors, feats.matrices, init)
    current = records.current_model()
    result = run_sweep(
        blocks,
        [r.label for r in feats.rows],
        records.labels,
        records.ai_labels,
        k=folds,
        seed=seed,
        heads=heads,
        baseline=None if current is None else current.summary.baseline(),
        row_ids=[r.sha256 for r in feats.rows],
        cache=records.store,
    )
    decision = decide(result, current, feats.fingerprint, force)
    notes.extend(clip_hint(records.name, result, extractors))
    version = current.version if current is not None else None
    message = decision.message
    if decision.keep:
        version = save_version(records, result, feats, folds)
        message = f"saved as version {version}: {message}"
    return TrainReport(
        project=records.name,
        labels=list(result.model.labels),
        accuracy_per_class=result.accuracy_per_class,
        balanced_accuracy=result.chosen.balanced_accuracy,
        auc=result.auc,
        confusion=result.confusion,
        n_images=len(rows),
        n_labelled=feats.n_labelled,
        n_skipped=len(feats.skipped),
        folds=folds,
        seconds_features=seconds_features,
        seconds_sweep=result.seconds,
        chosen=result.chosen.to_dict(),
        candidates=len(result.candidates),
        kept=decision.keep,
        version=version,
        message=message,
        skipped=feats.skipped[:_REPORTED_SKIPS],
        notes=notes,
    )


# -- phase 1: features ---------------------------------------------------------------------------
def project_features(
    store: Store,
    rows: list[ImageRow],
    extractors: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> ProjectFeatures:
    """Feature matrices for ``rows`` (computing what the cache lacks); rows whose file can no
    longer be read are skipped and reported. ``progress(done, total)`` counts the images whose
    features had to be computed."""
    shas = [r.sha256 for r in rows]
    missing: set[str] = set()
    for name in extractors:
        ex = create_extractor(name)
        have = store.get_features(ex.name, ex.version, shas)
        missing |= {s for s in shas if s not in have}
    todo = [r for r in rows if r.sha256 in missing]
    skipped, spent = _compute_missing(store, todo, extractors, progress)
    per_ex = {}
    for name in extractors:
        ex = create_extractor(name)
        per_ex[name] = (ex, store.get_features(ex.name, ex.version, shas))
    keep = [i for i, s in enumerate(shas) if all(s in got for _, got in per_ex.values())]
    matrices: dict[str, NDArray[np.float32]] = {}
    for name, (ex, got) in per_ex.items():
        matrices[name] = (
            np.stack([got[shas[i]] for i in keep])
            if keep
            else np.zeros((0, ex.dim), dtype=np.float32)
        )
    return ProjectFeatures([rows[i] for i in keep], matrices, skipped, spent)


def _compute_missing(
    store: Store,
    todo: list[ImageRow],
    extractors: Sequence[str],
    progress: Callable[[int, int], None] | None,
) -> tuple[list[tuple[str, str]], float]:
    """Decode ``todo`` in batches and cache their features; (skipped images, seconds spent)."""
    skipped: list[tuple[str, str]] = []
    spent = 0.0
    if progress is not None and todo:
        progress(0, len(todo))
    for start in range(0, len(todo), _FEATURE_BATCH):
        pixels: dict[str, NDArray[np.uint8]] = {}
        for r in todo[start : start + _FEATURE_BATCH]:
            source = r.blob if r.blob and Path(r.blob).is_file() else r.path
            try:
                pixels[r.sha256] = load_image(source).pixels
            except InputError as exc:
                skipped.append(
                    (
                        r.path,
                        f"{exc.reason}; re-import it, or import with --copy "
                        "so the project keeps its own copy",
                    )
                )
        spent += cache_features(store, extractors, pixels)
        if progress is not None:
            progress(min(start + _FEATURE_BATCH, len(todo)), len(todo))
    return skipped, spent


# -- phase 2: the sweep's blocks ----------------------------------------------------------------
def sweep_blocks(
    extractors: Sequence[str], feats: dict[str, NDArray[np.float32]], init: str
) -> tuple[list[RawBlock], list[str]]:
    """The sweep's feature blocks (each extractor's outputs) and, with ``init="default"``, the
    default detector's head logits stacked on them; and the notes that came with those."""
    blocks: list[RawBlock] = []
    for name in extractors:
        ex = create_extractor(name)
        for output, sl in ex.blocks().items():
            blocks.append(
                RawBlock(ex.name, ex.version, output, sl.start, sl.stop, feats[name][:, sl])
            )
    notes: list[str] = []
    if init == "default":
        stacked, notes = default_head_blocks(
            {name: create_extractor(name) for name in extractors}, feats
        )
        if not stacked:
            raise ConfigError(
                "--init default needs the features of a default-detector head: " + "; ".join(notes)
            )
        blocks.extend(stacked)
    return blocks, notes


# -- phase 4: keep or discard ---------------------------------------------------------------------
def decide(
    result: SweepResult, current: ModelRow | None, fingerprint: str, force: bool
) -> Decision:
    """Keep the new model when there is no current version, when it beats the current one (on
    the same folds when the current configuration could be re-evaluated, else as measured when
    it was trained), when the labelled images changed, or when ``force``d."""
    metric = "AUC" if result.auc is not None else "balanced accuracy"
    new = result.chosen.score
    if current is None:
        return Decision(True, f"first model (CV {metric} {new:.4f})")
    old_version = current.version
    if result.baseline is not None:
        old = result.baseline.score
        where = "on the same folds"
    else:
        old = current.summary.score_or_worst
        where = "as measured when it was trained (its features are not available now)"
    changed = current.summary.fingerprint != fingerprint
    if new > old + 1e-9:
        return Decision(
            True, f"CV {metric} {new:.4f} beats version {old_version}'s {old:.4f} {where}"
        )
    if changed:
        return Decision(
            True,
            f"the labelled images changed since version {old_version}; CV {metric} "
            f"{new:.4f} (version {old_version}'s configuration: {old:.4f} {where})",
        )
    if force:
        return Decision(
            True, f"forced; CV {metric} {new:.4f} vs {old:.4f} for version {old_version}"
        )
    return Decision(
        False,
        f"kept version {old_version}: the best new model (CV {metric} {new:.4f}) does not "
        f"beat it ({old:.4f} {where}) and the labelled images have not changed",
    )


def clip_hint(project: str, result: SweepResult, extractors: Sequence[str]) -> list[str]:
    """A note suggesting CLIP features when the model is not near perfect without them and
    CLIP is installed."""
    if result.chosen.balanced_accuracy >= 0.98 or "clip-vit-b16" in extractors:
        return []
    from synthcheck.training.features import available_extractors

    if "clip-vit-b16" not in available_extractors():
        return []
    return [
        "CLIP features are slower to compute but usually more accurate: "
        f"synthcheck project train {project} --features " + ",".join(["clip-vit-b16", *extractors])
    ]


# -- phase 5: the saved version -------------------------------------------------------------------
def save_version(
    records: ProjectRecords, result: SweepResult, feats: ProjectFeatures, folds: int
) -> int:
    """Store the sweep's model as the project's new current version; returns its number."""
    summary = ModelSummary(
        cv_score=result.chosen.score,
        cv_metric="auc" if result.auc is not None else "balanced_accuracy",
        cv_accuracy_per_class=result.accuracy_per_class,
        cv_auc=result.auc,
        chosen=result.chosen.to_dict(),
        cv_balanced_accuracy=result.chosen.balanced_accuracy,
        n_labelled=feats.n_labelled,
        n_images=len(feats.rows),
        fingerprint=feats.fingerprint,
        folds=folds,
    )
    result.model.metadata = {"project": records.name, **summary.to_dict()}
    row = records.add_model(summary, result.model.to_bytes(), predictions(result, feats.rows))
    return row.version


def predictions(result: SweepResult, rows: list[ImageRow]) -> list[Prediction]:
    """Each image's prediction as review shows it: out-of-fold for a labelled image (a model
    that never saw it), the final model's for an unlabelled one."""
    labels = result.model.labels
    p_ai_all = result.model.p_ai(result.proba_all)
    out: list[Prediction] = []
    oof_i = 0
    for i, r in enumerate(rows):
        if r.label is not None:
            proba = result.oof_proba[oof_i]
            p_ai = float(result.model.p_ai(proba[None, :])[0])
            oof_i += 1
            oof = True
        else:
            proba = result.proba_all[i]
            p_ai = float(p_ai_all[i])
            oof = False
        j = int(proba.argmax())
        out.append(
            (
                r.sha256,
                labels[j],
                float(proba[j]),
                p_ai,
                json.dumps({lab: round(float(p), 6) for lab, p in zip(labels, proba, strict=True)}),
                oof,
            )
        )
    return out
