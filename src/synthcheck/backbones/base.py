"""The :class:`Backbone` contract and its ONNX Runtime implementation.

A backbone turns square RGB crops at its native input size into named float32 feature vectors.
The caller cuts tiles or crops at native resolution; the backbone only normalizes and runs the
network, in bounded batches, deterministically: a crop's features never depend on the other
crops of the call.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.backbones.quant_rewrite import prune_unused
from synthcheck.backbones.runtime import atomic_write_bytes, create_session
from synthcheck.errors import BackboneError, ConfigError

__all__ = ["DEFAULT_BATCH_SIZE", "Backbone", "OnnxBackbone", "pruned_graph"]

#: Crops per ONNX Runtime call. Measured on 2 cores (CPU ms per image at batch 1 / 4 / 16):
#: EfficientNet-Lite0 9.7 / 9.9 / 13.1, Lite2 18.6 / 20.7 / 25.0 (larger batches overflow the
#: caches), CLIP about the same at any batch; 4 keeps call overhead and activation memory small.
DEFAULT_BATCH_SIZE = 4


class Backbone(ABC):
    """A pretrained feature extractor.

    Attributes:
        name: registry name (``"clip-vit-b16"``) or ``"local-dir:PATH"``.
        version: changes whenever the features for the same pixels could change; use it in
            feature-cache keys.
        input_size: side of the square crops :meth:`features` takes.
        feature_dims: feature name -> vector length, in the order :meth:`features` returns them.
    """

    name: str
    version: str
    input_size: int
    feature_dims: dict[str, int]

    @abstractmethod
    def features(self, crops: NDArray[np.uint8]) -> dict[str, NDArray[np.float32]]:
        """Features of ``crops`` (N x S x S x 3 uint8 RGB, S == :attr:`input_size`).

        Returns one N x dim float32 array per name in :attr:`feature_dims`.
        """

    def check_crops(self, crops: NDArray[Any]) -> None:
        """Raise :class:`ConfigError` unless ``crops`` is N x S x S x 3 uint8, S == input_size."""
        if not isinstance(crops, np.ndarray):
            raise ConfigError(
                f"{self.name}: crops must be a numpy array, got {type(crops).__name__}"
            )
        s = self.input_size
        if crops.dtype != np.uint8:
            raise ConfigError(f"{self.name}: crops must be uint8 RGB, got dtype {crops.dtype}")
        if crops.ndim != 4 or crops.shape[1:] != (s, s, 3):
            raise ConfigError(
                f"{self.name}: crops must have shape (N, {s}, {s}, 3), got {crops.shape}"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r})"


class OnnxBackbone(Backbone):
    """A backbone served by ONNX Runtime from one ONNX file.

    Args:
        name: registry name.
        version: feature-cache key (see :class:`Backbone`).
        model_path: the ONNX file; its input takes N x 3 x S x S float32 (NCHW).
        input_size: S.
        mean, std: per-channel normalization applied to pixels scaled to [0, 1].
        outputs: graph output name -> feature name; each output must be N x dim.
        feature_dims: feature name -> dim.
        input_name: graph input name (default: the graph's only input).
        batch_size: crops per ONNX Runtime call.
        threads: intra-op threads (default:
            :func:`synthcheck.backbones.runtime.default_threads`).
        session_config: extra ONNX Runtime session configuration entries.
        features: compute only these features (default: all). The graph is then pruned to the
            nodes they need, so a head that reads a middle layer does not pay for the layers
            after it; the pruned graph is cached under :func:`synthcheck.home.cache_dir`. A
            feature's values are the same as from the whole graph.
    """

    def __init__(
        self,
        *,
        name: str,
        version: str,
        model_path: Path,
        input_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        outputs: Mapping[str, str],
        feature_dims: Mapping[str, int],
        input_name: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        session_config: Mapping[str, str] | None = None,
        features: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        if len(mean) != 3 or len(std) != 3 or any(v <= 0 for v in std):
            raise ConfigError(f"{name}: mean and std need 3 values each, std > 0")
        self.name = name
        self.version = version
        self.input_size = int(input_size)
        self.batch_size = batch_size
        self.threads = threads
        self._outputs = _select_outputs(name, outputs, features)
        self.selected = None if features is None else tuple(features)
        self.feature_dims = {
            f: int(feature_dims[f]) for f in feature_dims if f in self._outputs.values()
        }
        self.model_path = Path(model_path)
        if len(self._outputs) < len(outputs):
            self.model_path = pruned_graph(self.model_path, version, sorted(self._outputs))
        # Normalization folded into one multiply-add on [0, 255] pixels.
        std_arr = np.asarray(std, dtype=np.float64)
        self._scale = (1.0 / (255.0 * std_arr)).astype(np.float32).reshape(1, 3, 1, 1)
        self._shift = (
            (-np.asarray(mean, dtype=np.float64) / std_arr).astype(np.float32).reshape(1, 3, 1, 1)
        )
        self._session = create_session(self.model_path, threads=threads, config=session_config)
        inputs = [i.name for i in self._session.get_inputs()]
        if input_name is None:
            if len(inputs) != 1:
                raise BackboneError(f"{self.model_path}: expected one graph input, found {inputs}")
            input_name = inputs[0]
        elif input_name not in inputs:
            raise BackboneError(f"{self.model_path}: no graph input {input_name!r} (has {inputs})")
        self._input_name = input_name
        available = {o.name for o in self._session.get_outputs()}
        missing = sorted(set(self._outputs) - available)
        if missing:
            raise BackboneError(
                f"{self.model_path}: graph outputs {missing} not found (has {sorted(available)})"
            )

    def __reduce__(self) -> tuple[Any, tuple[str, dict[str, Any]]]:
        # ONNX Runtime sessions do not pickle: a worker process reloads the backbone by name
        # (the rewritten and pruned graphs come from the cache).
        kwargs: dict[str, Any] = {"batch_size": self.batch_size, "threads": self.threads}
        if self.selected is not None:
            kwargs["features"] = self.selected
        return (_recreate, (self.name, kwargs))

    def preprocess(self, crops: NDArray[np.uint8]) -> NDArray[np.float32]:
        """N x S x S x 3 uint8 -> normalized N x 3 x S x S float32."""
        x = crops.transpose(0, 3, 1, 2).astype(np.float32)
        x *= self._scale
        x += self._shift
        return np.ascontiguousarray(x)

    def features(self, crops: NDArray[np.uint8]) -> dict[str, NDArray[np.float32]]:
        self.check_crops(crops)
        n = crops.shape[0]
        out = {f: np.empty((n, d), dtype=np.float32) for f, d in self.feature_dims.items()}
        names = list(self._outputs)
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            got = self._session.run(names, {self._input_name: self.preprocess(crops[start:stop])})
            for graph_name, value in zip(names, got, strict=True):
                feature = self._outputs[graph_name]
                arr = np.asarray(value, dtype=np.float32).reshape(stop - start, -1)
                if arr.shape[1] != self.feature_dims[feature]:
                    raise BackboneError(
                        f"{self.name}: output {graph_name!r} has {arr.shape[1]} values per crop, "
                        f"expected {self.feature_dims[feature]}"
                    )
                out[feature][start:stop] = arr
        return out


def _select_outputs(
    name: str, outputs: Mapping[str, str], features: Sequence[str] | None
) -> dict[str, str]:
    """The graph outputs (graph name -> feature name) that give ``features``."""
    if features is None:
        return dict(outputs)
    if isinstance(features, str):
        raise ConfigError(
            f"{name}: features must be a sequence of names, got the string {features!r}"
        )
    known = list(outputs.values())
    unknown = [f for f in features if f not in known]
    if unknown or not features:
        raise ConfigError(
            f"{name}: unknown features {unknown} (available: {', '.join(known)})"
            if unknown
            else f"{name}: features must name at least one of {', '.join(known)}"
        )
    return {g: f for g, f in outputs.items() if f in set(features)}


def pruned_graph(model_path: Path, version: str, graph_outputs: Sequence[str]) -> Path:
    """``model_path`` cut down to the nodes that ``graph_outputs`` need; cached by ``version``
    (which changes whenever the graph's features could) and the outputs kept."""
    from synthcheck.home import cache_dir

    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", text)

    tag = "+".join(safe(o) for o in graph_outputs)
    if len(tag) > 80:
        tag = hashlib.sha256(tag.encode()).hexdigest()[:16]
    target = cache_dir() / "backbones" / f"{safe(version)}-only-{tag}.onnx"
    if target.is_file():
        return target
    import onnx

    try:
        model = onnx.load(str(model_path))
    except Exception as exc:  # onnx raises DecodeError, OSError, ...
        raise BackboneError(f"{model_path}: cannot read the ONNX graph: {exc}") from exc
    wanted = set(graph_outputs)
    kept = [o for o in model.graph.output if o.name in wanted]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    prune_unused(model)
    atomic_write_bytes(target, model.SerializeToString())
    return target


def _recreate(name: str, kwargs: dict[str, Any]) -> Backbone:
    from synthcheck.backbones.registry import create_backbone

    return create_backbone(name, **kwargs)
