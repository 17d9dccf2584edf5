"""Where synthcheck keeps user state: projects, calibration profiles, caches of converted models."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["HOME_ENV", "cache_dir", "synthcheck_home"]

#: Environment variable overriding the home folder (the CLI's ``--home`` option sets it too).
HOME_ENV = "SYNTHCHECK_HOME"


def synthcheck_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The home folder: ``override``, else ``$SYNTHCHECK_HOME``, else ``$XDG_DATA_HOME/synthcheck``
    (``~/.local/share/synthcheck``). Created on first use."""
    if override is not None:
        home = Path(override)
    elif os.environ.get(HOME_ENV):
        home = Path(os.environ[HOME_ENV])
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        home = Path(base) / "synthcheck"
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_dir() -> Path:
    """Cache for derived artefacts (rewritten ONNX graphs): ``$SYNTHCHECK_CACHE`` or
    ``$XDG_CACHE_HOME/synthcheck`` (``~/.cache/synthcheck``)."""
    if os.environ.get("SYNTHCHECK_CACHE"):
        path = Path(os.environ["SYNTHCHECK_CACHE"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "synthcheck"
    path.mkdir(parents=True, exist_ok=True)
    return path
