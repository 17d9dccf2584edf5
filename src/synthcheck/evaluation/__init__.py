"""Evaluation: calibrate thresholds on real photos, measure any pixel model, audit data sets.

Calibration (:mod:`synthcheck.evaluation.calibration`) turns a folder of the user's real photos
into a named calibration (thresholds) for a target false-positive rate. Evaluation
(:func:`evaluate_model`) scores labelled images under a sweep of laundering transforms and reports
AUC, TPR at fixed FPR, calibration error and per-generator breakdowns, after a dataset-bias audit.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthcheck.evaluation.bias_audit import BiasAudit, BiasFinding, audit_bias
    from synthcheck.evaluation.calibrate import calibrate_model
    from synthcheck.evaluation.calibration import (
        Calibration,
        CalibrationProfile,
        ThresholdFit,
        fit_thresholds,
        list_calibrations,
        list_profiles,
        load_calibration,
        load_profile,
        save_calibration,
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

# Submodules load on first use, so that `synthcheck.evaluation.models` (the model-name loaders
# that `scan` and `serve` pass on) is cheap to import: the others load scikit-learn and the
# training store.
_LAZY = {
    "BiasAudit": "synthcheck.evaluation.bias_audit",
    "BiasFinding": "synthcheck.evaluation.bias_audit",
    "audit_bias": "synthcheck.evaluation.bias_audit",
    "calibrate_model": "synthcheck.evaluation.calibrate",
    "Calibration": "synthcheck.evaluation.calibration",
    "CalibrationProfile": "synthcheck.evaluation.calibration",
    "ThresholdFit": "synthcheck.evaluation.calibration",
    "fit_thresholds": "synthcheck.evaluation.calibration",
    "list_calibrations": "synthcheck.evaluation.calibration",
    "list_profiles": "synthcheck.evaluation.calibration",
    "load_calibration": "synthcheck.evaluation.calibration",
    "load_profile": "synthcheck.evaluation.calibration",
    "save_calibration": "synthcheck.evaluation.calibration",
    "save_profile": "synthcheck.evaluation.calibration",
    "LabelledImage": "synthcheck.evaluation.dataset",
    "items_from_csv": "synthcheck.evaluation.dataset",
    "items_from_folders": "synthcheck.evaluation.dataset",
    "items_from_paths": "synthcheck.evaluation.dataset",
    "evaluate_model": "synthcheck.evaluation.evaluate",
    "render_html": "synthcheck.evaluation.html",
    "resolve_model": "synthcheck.evaluation.models",
    "ConditionResult": "synthcheck.evaluation.report",
    "EvaluationReport": "synthcheck.evaluation.report",
    "GroupResult": "synthcheck.evaluation.report",
    "Transform": "synthcheck.evaluation.robustness",
    "create_transform": "synthcheck.evaluation.robustness",
    "list_transforms": "synthcheck.evaluation.robustness",
    "ScoreCache": "synthcheck.evaluation.scoring",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synthcheck.evaluation' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BiasAudit",
    "BiasFinding",
    "Calibration",
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
    "list_calibrations",
    "list_profiles",
    "list_transforms",
    "load_calibration",
    "load_profile",
    "render_html",
    "resolve_model",
    "save_calibration",
    "save_profile",
]
