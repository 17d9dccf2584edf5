"""Pixel models by name: the one factory behind ``scan``, ``evaluate``, ``calibrate`` and ``serve``.

Like timm's ``create_model`` with its ``hf-hub:`` prefix, a model name is a bare profile name
or ``prefix:rest``:

``auto``                the default detector: ``thorough`` when CLIP is installed, else ``fast``
                        (``default`` is another name for it)
``fast``, ``thorough``  a profile of the default detector
``provenance``          no pixel model (verdicts come from provenance evidence alone)
``local-dir:PATH``      a model folder in the default detector's layout (heads + model card),
                        e.g. one written by ``scripts/train_default.py fit --out PATH``
``project:NAME``        the current model of a train-your-own project

:func:`parse_model_name` is the one place that splits and checks a name;
:func:`create_model` builds it. Project models live in ``synthcheck.training``, a layer above
this one, so their loader is passed in by the front ends that sit above it
(``loaders={"project": ...}``, see ``synthcheck.evaluation.models.model_loaders``); the prefix
is known here so that every surface accepts, and rejects, the same names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthcheck.engine.detector import PixelModel
from synthcheck.errors import ConfigError, ModelError

__all__ = [
    "MODEL_ALIASES",
    "MODEL_CHOICES",
    "MODEL_PREFIXES",
    "PROFILES",
    "ModelLoader",
    "ModelName",
    "create_model",
    "parse_model_name",
]

#: Bare model names: the default detector's profiles, and "provenance" (no pixel model).
PROFILES = ("auto", "fast", "thorough", "provenance")
#: Other names of bare models.
MODEL_ALIASES = {"default": "auto"}
#: Prefixes of ``prefix:rest`` names, with what ``rest`` names.
MODEL_PREFIXES = {"local-dir": "PATH", "project": "NAME"}
#: Every accepted form, for messages and help texts.
MODEL_CHOICES = ", ".join([*PROFILES, *(f"{p}:{what}" for p, what in MODEL_PREFIXES.items())])

#: Builds the model that ``rest`` names for a prefix handled outside the engine.
ModelLoader = Callable[[str], PixelModel]


@dataclass(frozen=True)
class ModelName:
    """A parsed model name: ``prefix`` is "" for a bare profile name (then ``rest`` is it)."""

    prefix: str
    rest: str

    def __str__(self) -> str:
        return f"{self.prefix}:{self.rest}" if self.prefix else self.rest


def parse_model_name(name: str, *, extra_prefixes: Collection[str] = ()) -> ModelName:
    """Split ``name`` into prefix and rest and check both; :class:`ConfigError` for an unknown
    bare name or prefix (the message lists the valid ones) or an empty rest."""
    if not isinstance(name, str):
        raise ConfigError(f"model must be a model name, got {name!r}")
    value = name.strip()
    prefix, colon, rest = value.partition(":")
    if not colon:
        bare = MODEL_ALIASES.get(value, value)
        if bare not in PROFILES:
            raise ConfigError(f"unknown model {name!r}; choose {MODEL_CHOICES}")
        return ModelName("", bare)
    prefixes = [*MODEL_PREFIXES, *(p for p in extra_prefixes if p not in MODEL_PREFIXES)]
    if prefix not in prefixes:
        valid = ", ".join(f"{p}:" for p in prefixes)
        raise ConfigError(
            f"unknown model prefix {prefix + ':'!r} in {name!r}; valid prefixes: {valid}"
        )
    if not rest.strip():
        what = MODEL_PREFIXES.get(prefix, "NAME")
        noun = "a project name" if prefix == "project" else f"a {what.lower()}"
        raise ConfigError(f"{prefix}:{what} needs {noun}")
    return ModelName(prefix, rest)


def create_model(
    name: str,
    *,
    heatmap_tiles: int | None = None,
    loaders: Mapping[str, ModelLoader] | None = None,
) -> PixelModel | None:
    """The pixel model ``name`` names (None for "provenance"); ``heatmap_tiles`` bounds the
    tiles the default detector's heatmaps score (None: its default). ``loaders`` builds the
    models of prefixes handled above the engine (``project``).

    Raises :class:`ConfigError` for a bad name and :class:`~synthcheck.errors.ModelError` (or
    :class:`~synthcheck.errors.BackboneNotInstalledError`) when the model cannot be loaded.
    """
    loaders = dict(loaders or {})
    parsed = parse_model_name(name, extra_prefixes=loaders)
    options = {} if heatmap_tiles is None else {"heatmap_tiles": heatmap_tiles}
    if parsed.prefix == "":
        if parsed.rest == "provenance":
            return None
        model: PixelModel = _pixel_module().create_pixel_model(parsed.rest, **options)
        return model
    if parsed.prefix in loaders:
        return loaders[parsed.prefix](parsed.rest)
    if parsed.prefix == "local-dir":
        folder = Path(parsed.rest).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"local-dir model {folder} is not a folder")
        model = _pixel_module().create_pixel_model("auto", model_dir=folder, **options)
        return model
    raise ConfigError(
        f"{parsed.prefix}:{MODEL_PREFIXES.get(parsed.prefix, 'NAME')} models are loaded by "
        "synthcheck.training: pass its loader (synthcheck.evaluation.models.model_loaders)"
    )


def _pixel_module() -> Any:
    # The default detector loads ONNX Runtime and its heads: only when a model is built.
    try:
        return importlib.import_module("synthcheck.pixel")
    except ImportError as exc:
        raise ModelError(f"the pixel detector is not available here: {exc}") from exc
