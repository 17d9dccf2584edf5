"""Pretrained feature extractors served by ONNX Runtime, in a timm-style registry.

>>> from synthcheck.backbones import create_backbone, list_backbones
>>> list_backbones()  # doctest: +SKIP
['clip-vit-b16', 'efficientnet-lite0', 'efficientnet-lite2']
>>> bb = create_backbone("clip-vit-b16")  # doctest: +SKIP
>>> feats = bb.features(crops)  # N x 224 x 224 x 3 uint8 -> {"embed": ...}  # doctest: +SKIP

``create_backbone("local-dir:PATH")`` loads a user's own ONNX model from a folder holding
``model.onnx`` and ``config.json`` (see :mod:`synthcheck.backbones.local_dir`).
A backbone whose weights are missing raises
:class:`synthcheck.errors.BackboneNotInstalledError` naming the install command.
"""

from __future__ import annotations

from synthcheck.backbones.base import Backbone
from synthcheck.backbones.registry import (
    BackboneSpec,
    backbone_available,
    create_backbone,
    get_backbone_spec,
    list_backbones,
    register_backbone,
)

__all__ = [
    "Backbone",
    "BackboneSpec",
    "backbone_available",
    "create_backbone",
    "get_backbone_spec",
    "list_backbones",
    "register_backbone",
]
