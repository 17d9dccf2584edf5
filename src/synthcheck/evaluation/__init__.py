"""Evaluation: calibrate thresholds on real photos, measure any pixel model, audit data sets.

Calibration (:mod:`synthcheck.evaluation.calibration`) turns a folder of the user's real photos
into a named threshold profile for a target false-positive rate. Evaluation
(:func:`evaluate_model`) scores labelled images under a sweep of laundering transforms and reports
AUC, TPR at fixed FPR, calibration error and per-generator breakdowns, after a dataset-bias audit.
"""

from synthcheck.evaluation.calibration import (
    CalibrationProfile,
    ThresholdFit,
    fit_thresholds,
    list_profiles,
    load_profile,
    save_profile,
)

__all__ = [
    "CalibrationProfile",
    "ThresholdFit",
    "fit_thresholds",
    "list_profiles",
    "load_profile",
    "save_profile",
]
