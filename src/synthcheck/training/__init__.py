"""Train your own detector: projects, import, cached features, a CV sweep, review, invoke.

Public API: :class:`Project` (create/open, import, train, review, label, predict, export),
:class:`ImageClassifier` (a scikit-learn estimator over image paths), :func:`load_project_model`
(a project's current model as an engine pixel model), :class:`TrainReport`, :class:`ReviewItem`,
:class:`ImportReport`.
"""

from __future__ import annotations

from synthcheck.training.estimator import ImageClassifier
from synthcheck.training.importing import ImportReport
from synthcheck.training.inference import ProjectModel, ProjectPrediction
from synthcheck.training.project import (
    Project,
    TrainReport,
    delete_project,
    list_projects,
    load_project_model,
)
from synthcheck.training.review import ReviewItem

__all__ = [
    "ImageClassifier",
    "ImportReport",
    "Project",
    "ProjectModel",
    "ProjectPrediction",
    "ReviewItem",
    "TrainReport",
    "delete_project",
    "list_projects",
    "load_project_model",
]
