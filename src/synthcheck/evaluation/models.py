"""Resolve a ``--model`` specification into a pixel model to evaluate or calibrate.

``default``            the default detector's ``auto`` profile (CLIP when installed, else fast)
``auto|fast|thorough`` a profile of the default detector
``project:NAME``       the current model of a train-your-own project
``local-dir:PATH``     a model folder in the default detector's layout (heads + model card),
                       e.g. one written by ``scripts/train_default.py fit --out PATH``
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from synthcheck.engine.detector import PixelModel
from synthcheck.errors import ConfigError, ModelError

__all__ = ["MODEL_CHOICES", "concrete_spec", "resolve_model"]

MODEL_CHOICES = "default, auto, fast, thorough, project:NAME or local-dir:PATH"


def _pixel_module() -> Any:
    try:
        return importlib.import_module("synthcheck.pixel")
    except ImportError as exc:
        raise ModelError(f"the pixel detector is not available here: {exc}") from exc


def resolve_model(spec: str) -> PixelModel:
    """The pixel model named by ``spec`` (see the module docstring). Raises
    :class:`ConfigError` for an unknown form and :class:`ModelError` (or
    :class:`~synthcheck.errors.BackboneNotInstalledError`) when it cannot be loaded."""
    value = spec.strip()
    if value in ("default", "auto", "fast", "thorough"):
        profile = "auto" if value == "default" else value
        model: PixelModel = _pixel_module().create_pixel_model(profile)
        return model
    if value.startswith("local-dir:"):
        folder = Path(value.removeprefix("local-dir:")).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"local-dir model {folder} is not a folder")
        model = _pixel_module().create_pixel_model("auto", model_dir=folder)
        return model
    if value.startswith("project:"):
        name = value.removeprefix("project:")
        if not name:
            raise ConfigError("project:NAME needs a project name")
        return _project_model(name)
    raise ConfigError(f"unknown model {spec!r}; choose {MODEL_CHOICES}")


def _project_model(name: str) -> PixelModel:
    from synthcheck.training import load_project_model

    model: PixelModel = load_project_model(name)
    return model


def concrete_spec(spec: str, model: PixelModel) -> str:
    """``spec`` with ``default`` / ``auto`` replaced by the profile that actually loaded ("fast"
    without the CLIP backbone, "thorough" with it), so that a calibration records the model its
    thresholds were fitted on rather than a choice that depends on what is installed."""
    if spec.strip() not in ("default", "auto"):
        return spec.strip()
    profile = getattr(getattr(model, "profile", None), "name", None)
    return profile if profile in ("fast", "thorough") else "auto"
