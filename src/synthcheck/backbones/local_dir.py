"""``local-dir:PATH``: a user's own ONNX model as a backbone.

The folder holds ``model.onnx`` and ``config.json``::

    {
      "input_size": 224,                      # the square side the network takes
      "mean": [0.485, 0.456, 0.406],          # per RGB channel, on pixels scaled to [0, 1]
      "std": [0.229, 0.224, 0.225],
      "input_name": "pixel_values",           # optional when the graph has one input
      "outputs": {"pooled": "pooled"}         # graph output name -> feature name
    }

The graph takes N x 3 x S x S float32 (NCHW, RGB, normalized as configured) with a dynamic batch
axis; each listed output must give N x ... values per crop (flattened to a vector). The feature
sizes are read by running one blank crop at load time. The backbone's ``version`` is a hash of both
files, so feature caches notice any change to the model or its configuration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from synthcheck.backbones.base import DEFAULT_BATCH_SIZE, OnnxBackbone
from synthcheck.backbones.runtime import sha256_file
from synthcheck.errors import BackboneError

__all__ = ["CONFIG_FILE", "MODEL_FILE", "LocalDirBackbone", "local_dir_available"]

MODEL_FILE = "model.onnx"
CONFIG_FILE = "config.json"


def local_dir_available(path: str) -> bool:
    """Whether ``path`` is a folder holding both files (contents are checked on load)."""
    folder = Path(path).expanduser()
    return (folder / MODEL_FILE).is_file() and (folder / CONFIG_FILE).is_file()


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BackboneError(f"{path}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BackboneError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise BackboneError(f"{path}: must hold a JSON object")

    def fail(reason: str) -> BackboneError:
        return BackboneError(f"{path}: {reason}")

    size = config.get("input_size")
    if not isinstance(size, int) or isinstance(size, bool) or not 8 <= size <= 4096:
        raise fail(f"'input_size' must be an integer in [8, 4096], got {size!r}")
    for key in ("mean", "std"):
        values = config.get(key)
        if (
            not isinstance(values, list)
            or len(values) != 3
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        ):
            raise fail(f"{key!r} must be a list of 3 numbers (R, G, B), got {values!r}")
    if any(v <= 0 for v in config["std"]):
        raise fail("'std' values must be positive")
    outputs = config.get("outputs")
    if (
        not isinstance(outputs, dict)
        or not outputs
        or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in outputs.items())
    ):
        raise fail("'outputs' must map graph output names to feature names (strings)")
    if len(set(outputs.values())) != len(outputs):
        raise fail("'outputs' maps two graph outputs to the same feature name")
    input_name = config.get("input_name")
    if input_name is not None and not isinstance(input_name, str):
        raise fail(f"'input_name' must be a string, got {input_name!r}")
    return config


class LocalDirBackbone(OnnxBackbone):
    """A backbone from a folder with ``model.onnx`` and ``config.json`` (module docstring)."""

    def __init__(
        self,
        path: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        features: Sequence[str] | None = None,
    ) -> None:
        folder = Path(path).expanduser()
        name = f"local-dir:{path}"
        if not folder.is_dir():
            raise BackboneError(f"{folder}: not a folder (for {name!r})")
        model = folder / MODEL_FILE
        if not model.is_file():
            raise BackboneError(f"{folder}: no {MODEL_FILE} (for {name!r})")
        config = _read_config(folder)
        digest = hashlib.sha256()
        digest.update(sha256_file(model).encode())
        digest.update(json.dumps(config, sort_keys=True).encode())
        outputs: dict[str, str] = config["outputs"]
        size = int(config["input_size"])
        # Sizes are not known until the graph runs; probe with a placeholder then fix them.
        super().__init__(
            name=name,
            version=f"local-dir-{digest.hexdigest()[:16]}",
            model_path=model,
            input_size=size,
            mean=config["mean"],
            std=config["std"],
            outputs=outputs,
            feature_dims={f: 1 for f in outputs.values()},
            input_name=config.get("input_name"),
            batch_size=batch_size,
            threads=threads,
            features=features,
        )
        blank = np.zeros((1, 3, size, size), dtype=np.float32)
        try:
            got = self._session.run(list(self._outputs), {self._input_name: blank})
        except Exception as exc:  # ORT's own errors: wrong input shape, dtype, ...
            raise BackboneError(
                f"{model}: running one {size}x{size} crop failed (the graph must take "
                f"N x 3 x {size} x {size} float32): {exc}"
            ) from exc
        self.feature_dims = {
            f: int(np.asarray(v).size) for f, v in zip(self._outputs.values(), got, strict=True)
        }
