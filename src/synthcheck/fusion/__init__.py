"""Fusion: many signals in, one calibrated verdict out."""

from synthcheck.fusion.rules import DEFAULT_THRESHOLDS, Thresholds, fuse

__all__ = ["DEFAULT_THRESHOLDS", "Thresholds", "fuse"]
