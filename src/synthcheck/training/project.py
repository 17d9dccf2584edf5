"""Train-your-own projects: the Python API behind ``synthcheck project ...``.

>>> from synthcheck.training import Project
>>> p = Project.create("cameras-vs-sdxl", labels=["real", "ai"])  # doctest: +SKIP
>>> p.import_folder("photos/", label="real"); p.import_folder("sdxl/", label="ai")  # doctest: +SKIP
>>> report = p.train()  # doctest: +SKIP
>>> report.accuracy_per_class  # doctest: +SKIP
{'real': 0.99, 'ai': 0.985}
>>> p.review(filter="disagree", limit=20)  # doctest: +SKIP
>>> p.predict(["new.jpg"])[0].p_ai  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.engine.walk import WalkStats
from synthcheck.errors import ConfigError, DataError, InputError, ProjectError, ProjectNotFoundError
from synthcheck.intake import load_image
from synthcheck.results import ScanResult
from synthcheck.training.features import check_extractors, create_extractor, default_extractors
from synthcheck.training.importing import ImportReport, cache_features, import_items
from synthcheck.training.inference import ProjectModel
from synthcheck.training.model import TrainedModel
from synthcheck.training.review import ReviewItem, review_items
from synthcheck.training.sources import (
    ImportItem,
    from_folder,
    from_label_folders,
    from_list_file,
)
from synthcheck.training.store import ImageRow, ModelRow, ProjectRow, Store
from synthcheck.training.sweep import HEAD_ORDER, RawBlock, SweepResult, run_sweep
from synthcheck.training.warmstart import INIT_CHOICES, default_head_blocks

__all__ = [
    "DEFAULT_LABELS",
    "Project",
    "TrainReport",
    "delete_project",
    "list_projects",
    "load_project_model",
]

DEFAULT_LABELS = ("real", "ai")


def _check_labels(labels: Sequence[str]) -> tuple[str, ...]:
    out = tuple(str(lab).strip() for lab in labels)
    if len(out) < 2:
        raise ProjectError(f"a project needs at least two labels, got {list(out)}")
    if any(not lab or "," in lab for lab in out):
        raise ProjectError(f"labels must be non-empty and contain no comma, got {list(out)}")
    if len(set(out)) != len(out):
        raise ProjectError(f"labels must be distinct, got {list(out)}")
    return out


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


class Project:
    """A named project in a home folder's store. Open one with :meth:`open` or :meth:`create`.

    Labels are fixed at creation; ``ai_labels`` name the labels whose probability makes
    ``p_ai`` (default: every label except ``"real"``).
    """

    def __init__(self, store: Store, row: ProjectRow) -> None:
        self._store = store
        self._row = row

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str,
        labels: Sequence[str] = DEFAULT_LABELS,
        *,
        ai_labels: Sequence[str] | None = None,
        extractors: Sequence[str] | None = None,
        home: str | os.PathLike[str] | None = None,
    ) -> Project:
        """Create project ``name``. ``extractors`` default to the most accurate installed
        backbone plus the artifact features (see
        :func:`~synthcheck.training.features.default_extractors`)."""
        labs = _check_labels(labels)
        ai = tuple(ai_labels) if ai_labels is not None else tuple(x for x in labs if x != "real")
        unknown = [lab for lab in ai if lab not in labs]
        if unknown:
            raise ProjectError(
                f"AI labels {unknown} are not among the project's labels {list(labs)}"
            )
        exts = check_extractors(list(extractors)) if extractors else default_extractors()
        store = Store(home)
        try:
            row = store.create_project(name, labs, ai, {"extractors": exts, "views": 1})
        except BaseException:
            store.close()
            raise
        return cls(store, row)

    @classmethod
    def open(cls, name: str, *, home: str | os.PathLike[str] | None = None) -> Project:
        """Open an existing project; :class:`ProjectError` naming the known ones if missing."""
        store = Store(home)
        try:
            row = store.project(name)
        except BaseException:
            store.close()
            raise
        return cls(store, row)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({self.name!r}, labels={list(self.labels)})"

    # -- properties --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._row.name

    @property
    def labels(self) -> tuple[str, ...]:
        return self._row.labels

    @property
    def ai_labels(self) -> tuple[str, ...]:
        return self._row.ai_labels

    @property
    def extractors(self) -> list[str]:
        return list(self._row.settings.get("extractors", []))

    def set_extractors(self, names: Sequence[str]) -> None:
        """Change the project's feature extractors (validated; cached features are kept, and
        the next :meth:`train` computes what is missing)."""
        checked = check_extractors(list(names))
        settings = {**self._row.settings, "extractors": checked}
        self._store.update_project(self._row.id, settings=settings)
        self._row = self._store.project(self.name)

    @property
    def store(self) -> Store:
        return self._store

    def images(self) -> list[ImageRow]:
        return self._store.images(self._row.id)

    def models(self) -> list[ModelRow]:
        return self._store.models(self._row.id)

    def current_model(self) -> ModelRow | None:
        return self._store.current_model(self._row.id)

    def summary(self) -> dict[str, Any]:
        counts = self._store.label_counts(self._row.id)
        current = self.current_model()
        return {
            "name": self.name,
            "labels": list(self.labels),
            "ai_labels": list(self.ai_labels),
            "extractors": self.extractors,
            "images": sum(counts.values()),
            "per_label": {lab: counts.get(lab, 0) for lab in self.labels},
            "unlabelled": counts.get(None, 0),
            "models": [
                {
                    "version": m.version,
                    "created": m.created,
                    "cv_score": m.summary.get("cv_score"),
                    "chosen": m.summary.get("chosen"),
                }
                for m in self.models()
            ],
            "current_model": None if current is None else current.summary,
        }

    # -- import ------------------------------------------------------------------------------
    def check_label(self, label: str | None) -> None:
        """Raise :class:`ProjectError` unless ``label`` is None or one of the project's labels."""
        if label is not None and label not in self.labels:
            raise ProjectError(
                f"label {label!r} is not a label of project {self.name!r} "
                f"({', '.join(self.labels)}); use one of those, or create a project with "
                "--labels that include it"
            )

    def import_items(
        self,
        items: Iterable[ImportItem],
        *,
        copy: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import ``items``; every label is checked before any file is read."""
        todo = list(items)
        bad = sorted({i.label for i in todo if i.label is not None and i.label not in self.labels})
        if bad:
            raise ProjectError(
                f"labels {bad} are not labels of project {self.name!r} "
                f"({', '.join(self.labels)}); fix the list or use another project"
            )
        return import_items(
            self._store, self._row.id, todo, self.extractors, copy=copy, progress=progress
        )

    def import_folder(
        self,
        folder: str | os.PathLike[str],
        label: str | None = None,
        *,
        copy: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Every image under ``folder`` with ``label`` (None: unlabelled)."""
        self.check_label(label)
        stats = WalkStats()
        report = self.import_items(from_folder(folder, label, stats), copy=copy, progress=progress)
        report.skipped.update(stats.skipped)
        return report

    def import_label_folders(
        self,
        folder: str | os.PathLike[str],
        *,
        copy: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Folder-per-label layout: ``folder/<label>/...``."""
        stats = WalkStats()
        items = from_label_folders(folder, self.labels, stats)
        report = self.import_items(items, copy=copy, progress=progress)
        report.skipped.update(stats.skipped)
        return report

    def import_list(
        self,
        list_file: str | os.PathLike[str],
        *,
        copy: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """A CSV (``path,label``) or JSONL (``{"path", "label"}``) list."""
        return self.import_items(from_list_file(list_file), copy=copy, progress=progress)

    # -- labels ------------------------------------------------------------------------------
    def _resolve(self, ref: str) -> str:
        shas = self._store.find_images(self._row.id, ref)
        if not shas:
            raise ProjectNotFoundError(
                f"no image of project {self.name!r} matches {ref!r}; give its path or a hash "
                "prefix of at least 6 characters (see `synthcheck project review`)"
            )
        if len(shas) > 1:
            raise ProjectError(f"{ref!r} matches {len(shas)} images; give a longer hash prefix")
        return shas[0]

    def label(self, ref: str, label: str | None) -> str:
        """Set the label of the image ``ref`` (path or hash prefix); returns its SHA-256."""
        self.check_label(label)
        sha = self._resolve(ref)
        self._store.set_label(self._row.id, sha, label)
        return sha

    def remove(self, ref: str) -> str:
        """Remove the image ``ref`` from the project; returns its SHA-256."""
        sha = self._resolve(ref)
        self._store.remove_image(self._row.id, sha)
        return sha

    # -- features ----------------------------------------------------------------------------
    def _features(
        self,
        rows: list[ImageRow],
        extractors: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[dict[str, NDArray[np.float32]], list[int], list[tuple[str, str]], float]:
        """Feature matrices for ``rows`` (computing what the cache lacks); rows whose file can
        no longer be read are skipped and reported. ``progress(done, total)`` counts the images
        whose features had to be computed."""
        shas = [r.sha256 for r in rows]
        spent = 0.0
        missing: set[str] = set()
        for name in extractors:
            ex = create_extractor(name)
            have = self._store.get_features(ex.name, ex.version, shas)
            missing |= {s for s in shas if s not in have}
        skipped: list[tuple[str, str]] = []
        todo = [r for r in rows if r.sha256 in missing]
        if progress is not None and todo:
            progress(0, len(todo))
        for start in range(0, len(todo), 32):
            pixels: dict[str, NDArray[np.uint8]] = {}
            for r in todo[start : start + 32]:
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
            spent += cache_features(self._store, extractors, pixels)
            if progress is not None:
                progress(min(start + 32, len(todo)), len(todo))
        out: dict[str, NDArray[np.float32]] = {}
        keep: list[int] = []
        per_ex = {}
        for name in extractors:
            ex = create_extractor(name)
            per_ex[name] = (ex, self._store.get_features(ex.name, ex.version, shas))
        for i, s in enumerate(shas):
            if all(s in got for _, got in per_ex.values()):
                keep.append(i)
        for name, (ex, got) in per_ex.items():
            out[name] = (
                np.stack([got[shas[i]] for i in keep])
                if keep
                else np.zeros((0, ex.dim), dtype=np.float32)
            )
        return out, keep, skipped, spent

    # -- train -------------------------------------------------------------------------------
    def train(
        self,
        *,
        folds: int = 5,
        seed: int = 0,
        heads: Sequence[str] = HEAD_ORDER,
        force: bool = False,
        init: str = "none",
        progress: Callable[[int, int], None] | None = None,
    ) -> TrainReport:
        """Sweep heads x hyperparameters x feature sets with stratified ``folds``-fold CV and
        store the best model as a new version when it beats the current one (or when the
        labelled data changed since the current one was trained, or ``force``).

        ``init="default"`` also offers the sweep the default detector's head logits, alone and
        stacked on the project's features (see :mod:`synthcheck.training.warmstart`).
        ``progress(done, total)`` follows the feature extraction (the slow part with CLIP)."""
        if init not in INIT_CHOICES:
            raise ConfigError(f"unknown init {init!r}; choose one of {', '.join(INIT_CHOICES)}")
        t0 = time.perf_counter()
        rows = self.images()
        if not rows:
            raise DataError(
                f"project {self.name!r} has no images; import some with "
                f"`synthcheck project import {self.name} DIR --label L`"
            )
        extractors = self.extractors
        feats, keep, skipped, _spent = self._features(rows, extractors, progress)
        seconds_features = time.perf_counter() - t0
        kept_rows = [rows[i] for i in keep]
        blocks, notes = _raw_blocks(extractors, feats, init)
        current = self.current_model()
        labels_of_rows = [r.label for r in kept_rows]
        result = run_sweep(
            blocks,
            labels_of_rows,
            self.labels,
            self.ai_labels,
            k=folds,
            seed=seed,
            heads=heads,
            baseline=_baseline_of(current),
            row_ids=[r.sha256 for r in kept_rows],
            cache=self._store,
        )
        fingerprint = hashlib.sha256(
            "\n".join(sorted(f"{r.sha256}:{r.label}" for r in kept_rows if r.label)).encode()
        ).hexdigest()
        kept, message = self._decide(result, current, fingerprint, force)
        notes.extend(self._clip_hint(result, extractors))
        version: int | None = current.version if current is not None else None
        n_labelled = sum(1 for r in kept_rows if r.label)
        summary: dict[str, Any] = {
            "cv_score": result.chosen.score,
            "cv_metric": "auc" if result.auc is not None else "balanced_accuracy",
            "cv_accuracy_per_class": result.accuracy_per_class,
            "cv_auc": result.auc,
            "cv_balanced_accuracy": result.chosen.balanced_accuracy,
            "chosen": result.chosen.to_dict(),
            "n_labelled": n_labelled,
            "n_images": len(kept_rows),
            "fingerprint": fingerprint,
            "folds": folds,
        }
        if kept:
            result.model.metadata = {"project": self.name, **summary}
            row = self._store.add_model(
                self._row.id,
                summary,
                result.model.to_bytes(),
                self._predictions(result, kept_rows),
                make_current=True,
            )
            version = row.version
            message = f"saved as version {version}: {message}"
        return TrainReport(
            project=self.name,
            labels=list(result.model.labels),
            accuracy_per_class=result.accuracy_per_class,
            balanced_accuracy=result.chosen.balanced_accuracy,
            auc=result.auc,
            confusion=result.confusion,
            n_images=len(rows),
            n_labelled=n_labelled,
            n_skipped=len(skipped),
            folds=folds,
            seconds_features=seconds_features,
            seconds_sweep=result.seconds,
            chosen=result.chosen.to_dict(),
            candidates=len(result.candidates),
            kept=kept,
            version=version,
            message=message,
            skipped=skipped[:50],
            notes=notes,
        )

    def _clip_hint(self, result: SweepResult, extractors: Sequence[str]) -> list[str]:
        """A note suggesting CLIP features when the model is not near perfect without them and
        CLIP is installed."""
        if result.chosen.balanced_accuracy >= 0.98 or "clip-vit-b16" in extractors:
            return []
        from synthcheck.training.features import available_extractors

        if "clip-vit-b16" not in available_extractors():
            return []
        return [
            "CLIP features are slower to compute but usually more accurate: "
            f"synthcheck project train {self.name} --features "
            + ",".join(["clip-vit-b16", *extractors])
        ]

    def _decide(
        self, result: SweepResult, current: ModelRow | None, fingerprint: str, force: bool
    ) -> tuple[bool, str]:
        metric = "AUC" if result.auc is not None else "balanced accuracy"
        new = result.chosen.score
        if current is None:
            return True, f"first model (CV {metric} {new:.4f})"
        old_version = current.version
        if result.baseline is not None:
            old = result.baseline.score
            where = "on the same folds"
        else:
            old = float(current.summary.get("cv_score", float("-inf")))
            where = "as measured when it was trained (its features are not available now)"
        changed = current.summary.get("fingerprint") != fingerprint
        if new > old + 1e-9:
            return True, f"CV {metric} {new:.4f} beats version {old_version}'s {old:.4f} {where}"
        if changed:
            return True, (
                f"the labelled images changed since version {old_version}; CV {metric} "
                f"{new:.4f} (version {old_version}'s configuration: {old:.4f} {where})"
            )
        if force:
            return True, f"forced; CV {metric} {new:.4f} vs {old:.4f} for version {old_version}"
        return False, (
            f"kept version {old_version}: the best new model (CV {metric} {new:.4f}) does not "
            f"beat it ({old:.4f} {where}) and the labelled images have not changed"
        )

    def _predictions(
        self, result: SweepResult, rows: list[ImageRow]
    ) -> list[tuple[str, str, float, float | None, str, bool]]:
        import json

        labels = result.model.labels
        p_ai_all = result.model.p_ai(result.proba_all)
        out: list[tuple[str, str, float, float | None, str, bool]] = []
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
                    json.dumps(
                        {lab: round(float(p), 6) for lab, p in zip(labels, proba, strict=True)}
                    ),
                    oof,
                )
            )
        return out

    # -- review ------------------------------------------------------------------------------
    def review(
        self, *, sort: str = "confidence", filter: str | None = None, limit: int | None = 50
    ) -> list[ReviewItem]:
        """Predictions of the current model (out-of-fold for labelled images), sorted by
        ``"confidence"`` (least confident first) or ``"recent"`` (latest imports first) and
        filtered by ``"disagree"``, ``"agree"``, ``"label:L"`` or ``"unlabelled"``."""
        current = self.current_model()
        if current is None:
            raise ProjectError(
                f"project {self.name!r} has no trained model yet; run "
                f"`synthcheck project train {self.name}` first"
            )
        if filter is not None and filter.startswith("label:"):
            self.check_label(filter.removeprefix("label:"))
        return review_items(
            self.images(),
            self._store.predictions(current.id),
            sort=sort,
            filter=filter,
            limit=limit,
        )

    # -- models ------------------------------------------------------------------------------
    def _model_row(self, version: int | None) -> ModelRow:
        if version is None:
            row = self.current_model()
            if row is None:
                raise ProjectError(
                    f"project {self.name!r} has no trained model yet; run "
                    f"`synthcheck project train {self.name}` first"
                )
            return row
        matches = [m for m in self.models() if m.version == version]
        if not matches:
            raise ProjectNotFoundError(f"project {self.name!r} has no model version {version}")
        return matches[0]

    def trained_model(self, version: int | None = None) -> TrainedModel:
        """The current (or the given) model version."""
        row = self._model_row(version)
        source = f"{self.name} v{row.version}"
        return TrainedModel.from_bytes(self._store.model_file(row.id), source)

    def model(self, version: int | None = None) -> ProjectModel:
        """The current (or given) model version as a pixel model for
        :class:`synthcheck.engine.Detector`."""
        row = self._model_row(version)
        source = f"{self.name} v{row.version}"
        trained = TrainedModel.from_bytes(self._store.model_file(row.id), source)
        return ProjectModel(
            trained, name=f"project:{self.name}", version=f"v{row.version}", store=self._store
        )

    def predict(self, paths: Sequence[str | os.PathLike[str]]) -> list[ScanResult]:
        """Scan ``paths`` with provenance signals + this project's model (the ``scan`` JSONL
        contract; a bad file gives an ``error`` result, never an exception)."""
        from synthcheck.engine import Detector

        detector = Detector(pixel_model=self.model())
        return [detector.scan_file(p) for p in paths]

    def export_model(self, path: str | os.PathLike[str], version: int | None = None) -> Path:
        """Write the current (or given) model version as one file (zip: JSON + arrays)."""
        model = self.trained_model(version)
        target = Path(path)
        target.write_bytes(model.to_bytes())
        return target

    def import_model(self, path: str | os.PathLike[str]) -> int:
        """Add an exported model as a new version and make it current; returns the version."""
        source = Path(path)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise ProjectError(f"{source}: cannot read the model file: {exc}") from exc
        model = TrainedModel.from_bytes(data, str(source))
        extra = [lab for lab in model.labels if lab not in self.labels]
        if extra:
            raise ProjectError(
                f"{source}: the model predicts labels {extra} that project {self.name!r} "
                f"does not have ({', '.join(self.labels)})"
            )
        summary = {
            k: model.metadata.get(k)
            for k in ("cv_score", "cv_metric", "chosen", "cv_accuracy_per_class", "cv_auc")
        }
        summary["imported_from"] = str(source)
        row = self._store.add_model(self._row.id, summary, data, [], make_current=True)
        return row.version


def load_project_model(name: str, *, home: str | os.PathLike[str] | None = None) -> ProjectModel:
    """The current model of project ``name`` as a pixel model (used by ``--model project:NAME``)."""
    project = Project.open(name, home=home)
    return project.model()


def list_projects(home: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every project with its label counts and current model version."""
    with Store(home) as store:
        out = []
        for row in store.projects():
            current = store.current_model(row.id)
            counts = store.label_counts(row.id)
            out.append(
                {
                    "name": row.name,
                    "labels": list(row.labels),
                    "images": sum(counts.values()),
                    "labelled": sum(c for lab, c in counts.items() if lab is not None),
                    "model_version": None if current is None else current.version,
                }
            )
        return out


def delete_project(name: str, *, home: str | os.PathLike[str] | None = None) -> None:
    """Delete a project, its labels and model versions (cached features are kept)."""
    with Store(home) as store:
        store.delete_project(name)


def _raw_blocks(
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


def _baseline_of(current: ModelRow | None) -> tuple[tuple[str, ...], str, float] | None:
    """The current model's (feature set, head, value), for the sweep to evaluate on its folds."""
    if current is None or "chosen" not in current.summary:
        return None
    ch = current.summary["chosen"]
    return (tuple(ch["feature_set"]), str(ch["head"]), float(ch["value"]))
