"""Resolve a ``--model`` name into a pixel model to evaluate or calibrate, and the loaders of the
model-name prefixes that the engine cannot build itself.

Names are parsed and built by :func:`synthcheck.engine.models.create_model` (the one factory
``scan``, ``serve``, ``evaluate`` and ``calibrate`` share): ``auto`` (``default``), ``fast``,
``thorough``, ``local-dir:PATH`` and ``project:NAME``, whose loader is :func:`load_project`
here (project models live in ``synthcheck.training``, above the engine). This module is cheap to
import (the package loads its other modules on first use), so ``scan`` and ``serve`` pass
:func:`model_loaders` on to their workers without loading scikit-learn for other models.
"""

from __future__ import annotations

from synthcheck.engine.detector import PixelModel
from synthcheck.engine.models import MODEL_ALIASES, MODEL_CHOICES, ModelLoader, create_model
from synthcheck.errors import ConfigError

__all__ = ["MODEL_CHOICES", "concrete_spec", "load_project", "model_loaders", "resolve_model"]


def load_project(name: str) -> PixelModel:
    """The current model of project ``name`` (the loader of ``project:NAME``)."""
    from synthcheck.training import load_project_model

    model: PixelModel = load_project_model(name)
    return model


def model_loaders() -> tuple[tuple[str, ModelLoader], ...]:
    """``(prefix, loader)`` pairs for :class:`~synthcheck.engine.options.ScanOptions` ``loaders``
    and :func:`~synthcheck.engine.models.create_model`: the prefixes built above the engine."""
    return (("project", load_project),)


def resolve_model(spec: str, *, heatmap_tiles: int | None = None) -> PixelModel:
    """The pixel model named by ``spec`` (see the module docstring). Raises
    :class:`ConfigError` for an unknown form or "provenance" (no pixel model to measure) and
    :class:`~synthcheck.errors.ModelError` (or
    :class:`~synthcheck.errors.BackboneNotInstalledError`) when it cannot be loaded."""
    model = create_model(spec, heatmap_tiles=heatmap_tiles, loaders=dict(model_loaders()))
    if model is None:
        raise ConfigError(
            f"model {spec!r} runs no pixel model, so there is nothing to score; choose "
            f"{MODEL_CHOICES.replace('provenance, ', '')}"
        )
    return model


def concrete_spec(spec: str, model: PixelModel) -> str:
    """``spec`` with ``default`` / ``auto`` replaced by the profile that actually loaded ("fast"
    without the CLIP backbone, "thorough" with it), so that a calibration records the model its
    thresholds were fitted on rather than a choice that depends on what is installed."""
    value = spec.strip()
    if MODEL_ALIASES.get(value, value) != "auto":
        return value
    profile = getattr(getattr(model, "profile", None), "name", None)
    return profile if profile in ("fast", "thorough") else "auto"
