"""Registry of backbones, in the manner of timm: ``create_backbone("name")``, ``list_backbones()``.

Besides the registered names, ``create_backbone("local-dir:PATH")`` loads a user's own ONNX model
from a folder (see :mod:`synthcheck.backbones.local_dir`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synthcheck.backbones.base import Backbone
from synthcheck.errors import ConfigError

__all__ = [
    "LOCAL_DIR_PREFIX",
    "BackboneSpec",
    "backbone_available",
    "create_backbone",
    "get_backbone_spec",
    "list_backbones",
    "register_backbone",
]

LOCAL_DIR_PREFIX = "local-dir:"


@dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone.

    Attributes:
        name: the registry name.
        description: one line for listings.
        factory: builds the backbone; accepts ``batch_size`` and ``threads`` keywords.
        available: whether its weights are installed (cheap: no model is loaded).
        install_command: what installs the weights when they are missing.
    """

    name: str
    description: str
    factory: Callable[..., Backbone]
    available: Callable[[], bool]
    install_command: str


_REGISTRY: dict[str, BackboneSpec] = {}
_loaded = False


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Add ``spec`` to the registry; a name can be registered once."""
    if not spec.name or spec.name.startswith(LOCAL_DIR_PREFIX):
        raise ValueError(f"invalid backbone name {spec.name!r}")
    existing = _REGISTRY.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"backbone name {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        from synthcheck.backbones import builtin  # noqa: F401  (registers on import)

        _loaded = True


def list_backbones() -> list[str]:
    """Names of the registered backbones, installed or not, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def get_backbone_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` registered under ``name``."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError(
            f"unknown backbone {name!r}; known: {known}, or {LOCAL_DIR_PREFIX}PATH"
        ) from None


def backbone_available(name: str) -> bool:
    """Whether :func:`create_backbone` can load ``name`` here (its weights are installed). Unknown
    names raise :class:`ConfigError`."""
    if name.startswith(LOCAL_DIR_PREFIX):
        from synthcheck.backbones.local_dir import local_dir_available

        return local_dir_available(name[len(LOCAL_DIR_PREFIX) :])
    return get_backbone_spec(name).available()


def create_backbone(name: str, **kwargs: Any) -> Backbone:
    """Load the backbone ``name`` (a registered name or ``local-dir:PATH``).

    Keyword arguments go to the backbone: ``batch_size`` (crops per ONNX Runtime call),
    ``threads`` (intra-op threads; default ``$SYNTHCHECK_THREADS`` or the available CPUs) and
    ``features`` (compute only these named features; the graph is pruned to what they need).

    Raises:
        ConfigError: unknown name or invalid argument.
        BackboneNotInstalledError: the weights are not installed; the message gives the command.
        BackboneError: the model file is present but unusable.
    """
    if name.startswith(LOCAL_DIR_PREFIX):
        from synthcheck.backbones.local_dir import LocalDirBackbone

        return LocalDirBackbone(name[len(LOCAL_DIR_PREFIX) :], **kwargs)
    return get_backbone_spec(name).factory(**kwargs)
