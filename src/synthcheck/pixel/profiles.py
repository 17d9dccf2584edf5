"""Profiles of the default pixel detector: which heads run, on how many tiles.

``fast``      an EfficientNet-Lite0 probe on one central 224-px tile and the artifact signal on at
              most 8 native-resolution 128-px tiles, fused (the Lite0 weights ship inside
              synthcheck, so this profile always works).
``thorough``  CLIP ViT-B/16 probes on up to ``THOROUGH_MAX_TILES`` overlapping 224-px tiles at
              native resolution (``clip-probe``, which also draws the heatmap) and on the whole
              image seen at 224 px (``clip-global``), fused; the artifact signal is reported as
              evidence.
``auto``      ``thorough`` when the CLIP backbone is installed, else ``fast`` (with a note).

Choices were made by leave-one-generator-out on the dev pool (``benchmarks/bench_logo.py``),
mean AUC clean / JPEG q60 / 0.5x. The shipped ``thorough`` fusion scores 0.988 / 0.983 / 0.979.
Its heads alone score 0.953 / 0.942 / 0.973 (``clip-probe``) and 0.987 / 0.983 / 0.980
(``clip-global``). Lite0 probe 0.793 (1 tile), artifacts 0.784, Lite0 + artifacts fused 0.828.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthcheck.pixel.artifacts import artifact_feature_names
from synthcheck.pixel.fitting import HeadSpec

__all__ = [
    "GLOBAL_SUFFIX",
    "GLOBAL_VIEW_HEADS",
    "HEAD_SPECS",
    "PROFILES",
    "PROFILE_EXTRA_HEADS",
    "PROFILE_HEADS",
    "Profile",
]

#: A feature block named ``<backbone>-global`` holds the backbone's features of the whole-image
#: view (:func:`synthcheck.pixel.tiling.global_view`) instead of native-resolution tiles.
GLOBAL_SUFFIX = "-global"

#: Every head the training script knows; a head is trained when its features are cached.
HEAD_SPECS: tuple[HeadSpec, ...] = (
    # Of the artifact feature groups, the SPAM co-occurrences alone generalise best in
    # leave-one-generator-out (mean AUC 0.784 / 0.731 / 0.818 clean / JPEG q60 / 0.5x, against
    # 0.759 / 0.693 / 0.806 for all features; spectral 0.663, residual 0.653, chroma 0.633).
    HeadSpec(
        "artifacts",
        block="artifacts",
        C=0.005,
        keys=tuple(n for n in artifact_feature_names() if n.startswith("spam_")),
    ),
    HeadSpec("clip-probe", block="clip-vit-b16", C=0.0003, keys=("cls_l8", "embed")),
    HeadSpec(
        "clip-global", block="clip-vit-b16" + GLOBAL_SUFFIX, C=0.0003, keys=("cls_l8", "embed")
    ),
    HeadSpec("effnet-probe", block="efficientnet-lite0", C=0.001, keys=("pooled",)),
)

#: Heads fused by each profile (order = fusion input order).
PROFILE_HEADS: dict[str, tuple[str, ...]] = {
    "fast": ("effnet-probe", "artifacts"),
    "thorough": ("clip-probe", "clip-global"),
}

#: Heads a profile runs and reports as signals without fusing them into p_ai: in
#: leave-one-generator-out, fusing the artifact head with the CLIP probe lowered mean AUC
#: (0.940 vs 0.944) and TPR at 5% FPR (0.786 vs 0.815), so it is shown as evidence only.
PROFILE_EXTRA_HEADS: dict[str, tuple[str, ...]] = {"thorough": ("artifacts",)}

#: The backbone each backbone head runs (its block without the whole-image suffix).
HEAD_BACKBONE: dict[str, str] = {
    s.name: s.block.removesuffix(GLOBAL_SUFFIX) for s in HEAD_SPECS if s.block != "artifacts"
}

#: Heads whose backbone sees the whole-image view rather than native-resolution tiles.
GLOBAL_VIEW_HEADS = frozenset(s.name for s in HEAD_SPECS if s.block.endswith(GLOBAL_SUFFIX))

#: Tile budgets (documented in the model card): the cost per image is bounded by these.
FAST_ARTIFACT_TILES = 8
FAST_BACKBONE_TILES = 1
THOROUGH_ARTIFACT_TILES = 8
THOROUGH_MAX_TILES = 2


@dataclass(frozen=True)
class Profile:
    name: str
    heads: tuple[str, ...]
    extra_heads: tuple[str, ...]
    artifact_tiles: int
    backbone_tiles: int


PROFILES: dict[str, Profile] = {
    "fast": Profile("fast", PROFILE_HEADS["fast"], (), FAST_ARTIFACT_TILES, FAST_BACKBONE_TILES),
    "thorough": Profile(
        "thorough",
        PROFILE_HEADS["thorough"],
        PROFILE_EXTRA_HEADS["thorough"],
        THOROUGH_ARTIFACT_TILES,
        THOROUGH_MAX_TILES,
    ),
}
