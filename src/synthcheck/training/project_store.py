"""A project's records in the store: its settings, images, labels and model versions.

:class:`ProjectRecords` is the storage side of :class:`~synthcheck.training.project.Project`
(which adds import, training, review and prediction on top): one project's row of a
:class:`~synthcheck.training.store.Store`, with the checks that keep its labels and versions
consistent. Creating, listing and deleting projects live here too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthcheck.errors import ProjectError, ProjectNotFoundError
from synthcheck.training.features import check_extractors, default_extractors
from synthcheck.training.model import TrainedModel
from synthcheck.training.model_summary import ModelSummary
from synthcheck.training.store import ImageRow, ModelRow, ProjectRow, Store

__all__ = [
    "DEFAULT_LABELS",
    "ProjectRecords",
    "check_project_labels",
    "delete_project",
    "list_projects",
]

DEFAULT_LABELS = ("real", "ai")

#: A model version's predictions as the store keeps them: (sha256, predicted label, confidence,
#: p_ai, class probabilities as JSON, out of fold).
Prediction = tuple[str, str, float, float | None, str, bool]


def check_project_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """A project's label set, stripped; :class:`ProjectError` unless it has at least two
    distinct, non-empty labels without commas."""
    out = tuple(str(lab).strip() for lab in labels)
    if len(out) < 2:
        raise ProjectError(f"a project needs at least two labels, got {list(out)}")
    if any(not lab or "," in lab for lab in out):
        raise ProjectError(f"labels must be non-empty and contain no comma, got {list(out)}")
    if len(set(out)) != len(out):
        raise ProjectError(f"labels must be distinct, got {list(out)}")
    return out


class ProjectRecords:
    """One project's rows in an open :class:`Store` (which this object closes)."""

    def __init__(self, store: Store, row: ProjectRow) -> None:
        self.store = store
        self._row = row

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str,
        labels: Sequence[str],
        *,
        ai_labels: Sequence[str] | None,
        extractors: Sequence[str] | None,
        home: str | os.PathLike[str] | None,
    ) -> ProjectRecords:
        labs = check_project_labels(labels)
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
    def open(cls, name: str, *, home: str | os.PathLike[str] | None) -> ProjectRecords:
        store = Store(home)
        try:
            row = store.project(name)
        except BaseException:
            store.close()
            raise
        return cls(store, row)

    def close(self) -> None:
        self.store.close()

    # -- settings ----------------------------------------------------------------------------
    @property
    def id(self) -> int:
        return self._row.id

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
        checked = check_extractors(list(names))
        settings = {**self._row.settings, "extractors": checked}
        self.store.update_project(self._row.id, settings=settings)
        self._row = self.store.project(self.name)

    # -- images and labels -------------------------------------------------------------------
    def images(self) -> list[ImageRow]:
        return self.store.images(self._row.id)

    def check_label(self, label: str | None) -> None:
        """Raise :class:`ProjectError` unless ``label`` is None or one of the project's labels."""
        if label is not None and label not in self.labels:
            raise ProjectError(
                f"label {label!r} is not a label of project {self.name!r} "
                f"({', '.join(self.labels)}); use one of those, or create a project with "
                "--labels that include it"
            )

    def check_import_labels(self, labels: Sequence[str | None]) -> None:
        """Every label of an import at once, before any file is read."""
        bad = sorted({lab for lab in labels if lab is not None and lab not in self.labels})
        if bad:
            raise ProjectError(
                f"labels {bad} are not labels of project {self.name!r} "
                f"({', '.join(self.labels)}); fix the list or use another project"
            )

    def resolve(self, ref: str) -> str:
        """The SHA-256 of the one image ``ref`` (a path or a hash prefix) names."""
        shas = self.store.find_images(self._row.id, ref)
        if not shas:
            raise ProjectNotFoundError(
                f"no image of project {self.name!r} matches {ref!r}; give its path or a hash "
                "prefix of at least 6 characters (see `synthcheck project review`)"
            )
        if len(shas) > 1:
            raise ProjectError(f"{ref!r} matches {len(shas)} images; give a longer hash prefix")
        return shas[0]

    def set_label(self, ref: str, label: str | None) -> str:
        self.check_label(label)
        sha = self.resolve(ref)
        self.store.set_label(self._row.id, sha, label)
        return sha

    def remove(self, ref: str) -> str:
        sha = self.resolve(ref)
        self.store.remove_image(self._row.id, sha)
        return sha

    # -- model versions ----------------------------------------------------------------------
    def models(self) -> list[ModelRow]:
        return self.store.models(self._row.id)

    def current_model(self) -> ModelRow | None:
        return self.store.current_model(self._row.id)

    def model_row(self, version: int | None) -> ModelRow:
        """The given version, or the current one (None); an error naming what is missing."""
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

    def trained_model(self, version: int | None) -> tuple[ModelRow, TrainedModel]:
        row = self.model_row(version)
        source = f"{self.name} v{row.version}"
        return row, TrainedModel.from_bytes(self.store.model_file(row.id), source)

    def add_model(
        self, summary: ModelSummary, file: bytes, predictions: Sequence[Prediction]
    ) -> ModelRow:
        """Store a new version and make it current."""
        return self.store.add_model(self._row.id, summary, file, predictions, make_current=True)

    def import_model(self, path: str | os.PathLike[str]) -> int:
        """Add an exported model file as a new current version; returns the version."""
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
        summary = ModelSummary.imported(model.metadata, str(source))
        return self.add_model(summary, data, []).version

    # -- what `project show` prints ----------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        counts = self.store.label_counts(self._row.id)
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
                    "cv_score": m.summary.cv_score,
                    "chosen": m.summary.chosen,
                }
                for m in self.models()
            ],
            "current_model": None if current is None else current.summary.to_dict(),
        }


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
