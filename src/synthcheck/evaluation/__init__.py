"""Evaluation: calibrate thresholds on real photos, measure any pixel model, audit data sets.

Calibration (:mod:`synthcheck.evaluation.calibration`) turns a folder of the user's real photos
into a named threshold profile for a target false-positive rate. Evaluation
(:func:`evaluate_model`) scores labelled images under a sweep of laundering transforms and reports
AUC, TPR at fixed FPR, calibration error and per-generator breakdowns, after a dataset-bias audit.
"""

from synthcheck.evaluation.bias_audit import BiasAudit, BiasFinding, audit_bias
from synthcheck.evaluation.calibrate import calibrate_model
from synthcheck.evaluation.calibration import (
    CalibrationProfile,
    ThresholdFit,
    fit_thresholds,
    list_profiles,
    load_profile,
    save_profile,
)
from synthcheck.evaluation.dataset import (
    LabelledImage,
    items_from_csv,
    items_from_folders,
    items_from_paths,
)
from synthcheck.evaluation.evaluate import evaluate_model
from synthcheck.evaluation.html import render_html
from synthcheck.evaluation.models import resolve_model
from synthcheck.evaluation.report import ConditionResult, EvaluationReport, GroupResult
from synthcheck.evaluation.robustness import Transform, create_transform, list_transforms
from synthcheck.evaluation.scoring import ScoreCache

__all__ = [
    "BiasAudit",
    "BiasFinding",
    "CalibrationProfile",
    "ConditionResult",
    "EvaluationReport",
    "GroupResult",
    "LabelledImage",
    "ScoreCache",
    "ThresholdFit",
    "Transform",
    "audit_bias",
    "calibrate_model",
    "create_transform",
    "evaluate_model",
    "fit_thresholds",
    "items_from_csv",
    "items_from_folders",
    "items_from_paths",
    "list_profiles",
    "list_transforms",
    "load_profile",
    "render_html",
    "resolve_model",
    "save_profile",
]
