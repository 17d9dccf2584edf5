"""Train-your-own projects: the Python API behind ``synthcheck project ...``.

>>> from synthcheck.training import Project
>>> p = Project.create("cameras-vs-sdxl", labels=["real", "ai"])  # doctest: +SKIP
>>> p.import_folder("photos/", label="real"); p.import_folder("sdxl/", label="ai")  # doctest: +SKIP
>>> report = p.train()  # doctest: +SKIP
>>> report.accuracy_per_class  # doctest: +SKIP
{'real': 0.99, 'ai': 0.985}
>>> p.review(filter="disagree", limit=20)  # doctest: +SKIP
>>> p.predict(["new.jpg"])[0].p_ai  # doctest: +SKIP

:class:`Project` is a facade: storage (settings, images, labels, model versions) lives in
:mod:`.project_store`, training (features, sweep, the keep-or-discard decision, the saved version)
in :mod:`.project_train`, review in :mod:`.review`, import in :mod:`.importing`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from synthcheck.engine.walk import WalkStats
from synthcheck.results import ScanResult
from synthcheck.training.importing import ImportReport, import_items
from synthcheck.training.inference import ProjectModel
from synthcheck.training.model import TrainedModel
from synthcheck.training.project_store import (
    DEFAULT_LABELS,
    ProjectRecords,
    delete_project,
    list_projects,
)
from synthcheck.training.project_train import TrainReport, train_project
from synthcheck.training.review import ReviewItem, review_project
from synthcheck.training.sources import (
    ImportItem,
    from_folder,
    from_label_folders,
    from_list_file,
)
from synthcheck.training.store import ImageRow, ModelRow, Store
from synthcheck.training.sweep import HEAD_ORDER

__all__ = [
    "DEFAULT_LABELS",
    "Project",
    "TrainReport",
    "delete_project",
    "list_projects",
    "load_project_model",
]


class Project:
    """A named project in a home folder's store. Open one with :meth:`open` or :meth:`create`.

    Labels are fixed at creation; ``ai_labels`` name the labels whose probability makes
    ``p_ai`` (default: every label except ``"real"``).
    """

    def __init__(self, records: ProjectRecords) -> None:
        self._records = records

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
        return cls(
            ProjectRecords.create(
                name, labels, ai_labels=ai_labels, extractors=extractors, home=home
            )
        )

    @classmethod
    def open(cls, name: str, *, home: str | os.PathLike[str] | None = None) -> Project:
        """Open an existing project; :class:`ProjectError` naming the known ones if missing."""
        return cls(ProjectRecords.open(name, home=home))

    def close(self) -> None:
        self._records.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({self.name!r}, labels={list(self.labels)})"

    # -- properties --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._records.name

    @property
    def labels(self) -> tuple[str, ...]:
        return self._records.labels

    @property
    def ai_labels(self) -> tuple[str, ...]:
        return self._records.ai_labels

    @property
    def extractors(self) -> list[str]:
        return self._records.extractors

    def set_extractors(self, names: Sequence[str]) -> None:
        """Change the project's feature extractors (validated; cached features are kept, and
        the next :meth:`train` computes what is missing)."""
        self._records.set_extractors(names)

    @property
    def store(self) -> Store:
        return self._records.store

    def images(self) -> list[ImageRow]:
        return self._records.images()

    def models(self) -> list[ModelRow]:
        return self._records.models()

    def current_model(self) -> ModelRow | None:
        return self._records.current_model()

    def summary(self) -> dict[str, Any]:
        """Labels, counts, model versions and the current model's summary (JSON-ready)."""
        return self._records.summary()

    # -- import ------------------------------------------------------------------------------
    def check_label(self, label: str | None) -> None:
        """Raise :class:`ProjectError` unless ``label`` is None or one of the project's labels."""
        self._records.check_label(label)

    def import_items(
        self,
        items: Iterable[ImportItem],
        *,
        copy: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import ``items``; every label is checked before any file is read."""
        todo = list(items)
        self._records.check_import_labels([i.label for i in todo])
        return import_items(
            self.store, self._records.id, todo, self.extractors, copy=copy, progress=progress
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
    def label(self, ref: str, label: str | None) -> str:
        """Set the label of the image ``ref`` (path or hash prefix); returns its SHA-256."""
        return self._records.set_label(ref, label)

    def remove(self, ref: str) -> str:
        """Remove the image ``ref`` from the project; returns its SHA-256."""
        return self._records.remove(ref)

    # -- train and review --------------------------------------------------------------------
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
        ``progress(done, total)`` follows the feature extraction (the slow part with CLIP).
        The phases are in :mod:`synthcheck.training.project_train`."""
        return train_project(
            self._records,
            folds=folds,
            seed=seed,
            heads=heads,
            force=force,
            init=init,
            progress=progress,
        )

    def review(
        self, *, sort: str = "confidence", filter: str | None = None, limit: int | None = 50
    ) -> list[ReviewItem]:
        """Predictions of the current model (out-of-fold for labelled images), sorted by
        ``"confidence"`` (least confident first) or ``"recent"`` (latest imports first) and
        filtered by ``"disagree"``, ``"agree"``, ``"label:L"`` or ``"unlabelled"``."""
        return review_project(self._records, sort=sort, filter=filter, limit=limit)

    # -- models ------------------------------------------------------------------------------
    def trained_model(self, version: int | None = None) -> TrainedModel:
        """The current (or the given) model version."""
        return self._records.trained_model(version)[1]

    def model(self, version: int | None = None) -> ProjectModel:
        """The current (or given) model version as a pixel model for
        :class:`synthcheck.engine.Detector`."""
        row, trained = self._records.trained_model(version)
        return ProjectModel(
            trained, name=f"project:{self.name}", version=f"v{row.version}", store=self.store
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
        return self._records.import_model(path)


def load_project_model(name: str, *, home: str | os.PathLike[str] | None = None) -> ProjectModel:
    """The current model of project ``name`` as a pixel model (used by ``--model project:NAME``)."""
    project = Project.open(name, home=home)
    return project.model()
