"""Profiles of the default pixel detector: which heads run, on how many tiles.

``fast``      an EfficientNet-Lite0 probe on one central 224-px tile and the artifact signal on at
              most 8 native-resolution 128-px tiles, fused (the Lite0 weights ship inside
              synthcheck, so this profile always works).
``thorough``  CLIP ViT-B/16 probes on the whole image seen at 224 px (``clip-global``: the CLS
              token after layer 8 and the projected embedding) and on ``THOROUGH_MAX_TILES``
              central 224-px tile at native resolution (``clip-probe``: the CLS token after layer
              8, so its session runs 8 of the 12 layers), fused; the artifact signal on
              native-resolution tiles is reported as evidence.
``auto``      ``thorough`` when the CLIP backbone is installed, else ``fast`` (with a note).

Fusion weights are non-negative. A head whose fitted weight is 0 is not run for the verdict (it
cannot move p_ai); ``clip-probe`` then runs only for a heatmap and is reported from the heatmap's
tiles. The fused score is scaled so that the fixed verdict thresholds fall where the rates of
:data:`synthcheck.pixel.fitting.MAX_REAL_CALLED_AI` hold on sources unseen in training.

Heatmaps are drawn only on request, from up to ``HEATMAP_MAX_TILES`` tiles (the model's
``heatmap_tiles`` budget, 1 to ``HEATMAP_TILES_LIMIT``) of the fused head with the smallest tiles.
``thorough``: ``clip-probe``'s tiles cover the whole image, and its patch head
(``PROFILE_HEATMAP_HEADS``) gives each 16-px patch of them a calibrated p_ai from the same pass
(without a patch head file, one cell per tile). ``fast``: the artifact head's p_ai per native
tile. The verdict always comes from the budgets above.

Every choice here (heads, feature keys, tile budgets, what is fused) was measured; the figures
live in the model card (``models/default/MODEL_CARD.md``, sections "Heads" and "Unseen sources"),
not here, so that they cannot go stale in two places.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthcheck.errors import ConfigError
from synthcheck.pixel.artifacts import artifact_feature_names
from synthcheck.pixel.heads import HeadSpec

__all__ = [
    "BACKBONE_TILES",
    "GLOBAL_SUFFIX",
    "GLOBAL_VIEW_HEADS",
    "HEAD_SPECS",
    "HEATMAP_MAX_TILES",
    "HEATMAP_TILES_LIMIT",
    "PATCH_HEAD_FEATURE",
    "PROFILES",
    "PROFILE_EXTRA_HEADS",
    "PROFILE_HEADS",
    "PROFILE_HEATMAP_HEADS",
    "THOROUGH_MAX_TILES",
    "Profile",
    "check_heatmap_tiles",
]

#: A feature block named ``<backbone>-global`` holds the backbone's features of the whole-image
#: view (:func:`synthcheck.pixel.tiling.global_view`) instead of native-resolution tiles.
GLOBAL_SUFFIX = "-global"

#: Every head the training script knows; a head is trained when its features are cached.
HEAD_SPECS: tuple[HeadSpec, ...] = (
    # Of the artifact feature groups, the SPAM co-occurrences alone generalised best across
    # generators (model card, "Heads").
    HeadSpec(
        "artifacts",
        block="artifacts",
        C=0.005,
        keys=tuple(n for n in artifact_feature_names() if n.startswith("spam_")),
    ),
    # The native-tile head reads the CLS token after layer 8 of 12, so its session (pruned to the
    # features it reads) runs 8 layers per tile: it draws the heatmaps, tens of tiles each. The
    # whole-image head, one pass per image, also reads the projected embedding (all 12 layers):
    # on sources unseen in training that raised AUC and most of all TPR at 1% FPR (model card,
    # "Unseen sources").
    HeadSpec("clip-probe", block="clip-vit-b16", C=0.0003, keys=("cls_l8",)),
    HeadSpec(
        "clip-global", block="clip-vit-b16" + GLOBAL_SUFFIX, C=0.0003, keys=("cls_l8", "embed")
    ),
    # fast's backbone head sees the whole image at 224 px, like clip-global: on sources unseen in
    # training that beat one native tile (model card, "Version 5").
    HeadSpec(
        "effnet-global", block="efficientnet-lite0" + GLOBAL_SUFFIX, C=0.0003, keys=("pooled",)
    ),
)

#: Heads fused by each profile (order = fusion input order).
PROFILE_HEADS: dict[str, tuple[str, ...]] = {
    "fast": ("effnet-global", "artifacts"),
    "thorough": ("clip-probe", "clip-global"),
}

#: Heads a profile runs and reports as signals without fusing them into p_ai: fusing the artifact
#: head into ``thorough`` lowered its true-positive rate at low false-positive rates (model
#: card, "Heads"), so it is shown as evidence only.
PROFILE_EXTRA_HEADS: dict[str, tuple[str, ...]] = {"thorough": ("artifacts",)}

#: The patch head each profile's heatmap reads, when it has one: a probe on the patch tokens of
#: the tiles its tiled backbone head scores, trained by ``scripts/train_patch_head.py``. Each
#: 224-px tile then gives 14 x 14 cells from the same pass that scores the tile, so a few
#: covering tiles map the whole image finely (model card, "Heatmap"). fast's map stays the
#: artifact head's native tiles.
PROFILE_HEATMAP_HEADS: dict[str, str] = {"thorough": "clip-patch"}
#: The backbone feature a patch head reads (see :mod:`synthcheck.backbones.clip`).
PATCH_HEAD_FEATURE = "patches_l8"

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
THOROUGH_MAX_TILES = 1
#: Tiles of the heatmap, scored only when a heatmap is asked for (the verdict keeps the profile's
#: budget, so a result does not depend on whether a heatmap was drawn). thorough's map covers every
#: pixel with at most this many tiles (native up to about 0.3 MP, shrunk beyond) and scores each
#: 16-px patch of them; fast's artifact map thins native tiles to it. Budgets of 4, 6 and 12 are
#: compared on composites in the model card ("Heatmap"): 6 pointed best within 3 x the scan.
HEATMAP_MAX_TILES = 6
#: The largest heatmap budget accepted: with thorough each tile is one CLIP pass (about 0.1 s on 2
#: cores), so 1,024 tiles (a 30 MP image covered) already cost minutes per image.
HEATMAP_TILES_LIMIT = 1024


def check_heatmap_tiles(value: object) -> int:
    """``value`` as a heatmap tile budget, or :class:`~synthcheck.errors.ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"heatmap_tiles must be an integer, got {value!r}")
    if not 1 <= value <= HEATMAP_TILES_LIMIT:
        raise ConfigError(f"heatmap_tiles must be between 1 and {HEATMAP_TILES_LIMIT}, got {value}")
    return value


#: Native tiles per view that each backbone's heads score at run time and therefore train on:
#: the first this many of the tiles cached per view (the training cache holds up to 2 CLIP tiles).
BACKBONE_TILES: dict[str, int] = {
    "clip-vit-b16": THOROUGH_MAX_TILES,
    "efficientnet-lite0": FAST_BACKBONE_TILES,
}


@dataclass(frozen=True)
class Profile:
    name: str
    heads: tuple[str, ...]
    extra_heads: tuple[str, ...]
    artifact_tiles: int
    backbone_tiles: int
    heatmap_head: str | None = None


PROFILES: dict[str, Profile] = {
    "fast": Profile("fast", PROFILE_HEADS["fast"], (), FAST_ARTIFACT_TILES, FAST_BACKBONE_TILES),
    "thorough": Profile(
        "thorough",
        PROFILE_HEADS["thorough"],
        PROFILE_EXTRA_HEADS["thorough"],
        THOROUGH_ARTIFACT_TILES,
        THOROUGH_MAX_TILES,
        PROFILE_HEATMAP_HEADS["thorough"],
    ),
}
