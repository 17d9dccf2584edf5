"""Registrations of the built-in backbones (imported by the registry on first use)."""

from __future__ import annotations

from typing import Any

from synthcheck.backbones import clip, efficientnet
from synthcheck.backbones.base import Backbone
from synthcheck.backbones.registry import BackboneSpec, register_backbone

__all__: list[str] = []


def _clip(**kwargs: Any) -> Backbone:
    return clip.ClipBackbone(**kwargs)


register_backbone(
    BackboneSpec(
        name="clip-vit-b16",
        description="OpenAI CLIP ViT-B/16 image tower (INT8 weights, float compute)",
        factory=_clip,
        # Looked up at call time so that a patched source (tests) is honoured.
        available=lambda: clip.CLIP_SOURCE.is_installed(),
        install_command=clip.CLIP_SOURCE.install_command,
    )
)


def _efficientnet_spec(name: str, description: str) -> BackboneSpec:
    def factory(**kwargs: Any) -> Backbone:
        return efficientnet.EfficientNetLiteBackbone(name, **kwargs)

    return BackboneSpec(
        name=name,
        description=description,
        factory=factory,
        available=lambda: efficientnet.model_path(name).is_file(),
        install_command=efficientnet.REINSTALL_COMMAND,
    )


register_backbone(
    _efficientnet_spec("efficientnet-lite0", "EfficientNet-Lite0, ImageNet, 224 px (ships inside)")
)
register_backbone(
    _efficientnet_spec("efficientnet-lite2", "EfficientNet-Lite2, ImageNet, 260 px (ships inside)")
)
