"""Registry of signals, in the manner of timm's model registry."""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from synthcheck.errors import ConfigError
from synthcheck.signals.base import Signal

__all__ = ["create_signal", "get_signal_class", "list_signals", "register_signal"]

# Built-in signal modules, imported on first use of the registry so that importing synthcheck stays
# cheap. Each module registers its classes with @register_signal.
_BUILTIN_MODULES: tuple[str, ...] = (
    "synthcheck.signals.c2pa",
    "synthcheck.signals.xmp_iptc",
    "synthcheck.signals.generator_metadata",
    "synthcheck.signals.camera_exif",
    "synthcheck.signals.watermark",
)

_REGISTRY: dict[str, type[Signal]] = {}
_loaded = False

S = TypeVar("S", bound=type[Signal])


def register_signal(cls: S) -> S:
    """Class decorator adding a :class:`Signal` subclass to the registry under ``cls.name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__} must define a non-empty class attribute 'name'")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"signal name {name!r} is already registered by {existing.__qualname__}")
    _REGISTRY[name] = cls
    return cls


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        _loaded = True


def list_signals(kind: str | None = None) -> list[str]:
    """Names of the registered signals, sorted; optionally only those of ``kind``."""
    _ensure_loaded()
    return sorted(n for n, c in _REGISTRY.items() if kind is None or c.kind == kind)


def get_signal_class(name: str) -> type[Signal]:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ConfigError(f"unknown signal {name!r}; known signals: {known}") from None


def create_signal(name: str, **kwargs: Any) -> Signal:
    """Instantiate the signal registered as ``name``."""
    return get_signal_class(name)(**kwargs)
