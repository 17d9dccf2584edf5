"""Fine-tune the default detector with a project's images (``train --init default``).

The default detector's heads are linear probes on features a project also caches: the whole-image
CLIP probe (``clip-global``) reads outputs of ``clip-vit-b16`` that projects cache (``cls_l8``
since model version 3) and the artifact head reads a subset of the ``artifacts`` features. Each
head's logit becomes a one-column feature block (a fixed linear map of the cached vector, so
nothing new is computed), and the sweep tries those logits alone (the default detector recalibrated
on the user's labels) and stacked on the project's best block (the default detector corrected by
what the user's images teach). The sweep keeps whichever CV says is best, so ``--init default``
never makes the chosen model worse on CV.

Projects see each image as one centre square resized to the backbone's input, the same view
``clip-global`` was trained on; the native-tile probe ``clip-probe`` is not used here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import ModelError
from synthcheck.training.features import ARTIFACTS, Extractor
from synthcheck.training.sweep import RawBlock

__all__ = ["INIT_CHOICES", "default_head_blocks"]

INIT_CHOICES = ("none", "default")
_CLIP = "clip-vit-b16"
#: The default head trained on the view projects cache (one centre square per image).
_CLIP_HEAD = "clip-global"


def _probe(path: Path) -> tuple[NDArray[np.float64], float, dict[str, NDArray[np.generic]]]:
    """(coef / scale, intercept - mean/scale . coef, extra arrays) of a default-model probe."""
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    coef = data["coef"] / data["scale"]
    bias = float(data["intercept"]) - float((data["mean"] / data["scale"]) @ data["coef"])
    return coef.astype(np.float64), bias, data


def default_head_blocks(
    extractors: Mapping[str, Extractor],
    feats: Mapping[str, NDArray[np.float32]],
    model_dir: Path | None = None,
) -> tuple[list[RawBlock], list[str]]:
    """Blocks holding the default detector's head logits for the rows of ``feats``, and notes
    on the heads that could not be used (their extractor is not part of the project)."""
    from synthcheck.pixel.model import default_model_dir

    folder = model_dir or default_model_dir()
    blocks: list[RawBlock] = []
    notes: list[str] = []
    if _CLIP in extractors:
        ex = extractors[_CLIP]
        try:
            coef, bias, extra = _probe(folder / f"{_CLIP_HEAD}.npz")
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{folder}: cannot read the default CLIP probe: {exc}") from exc
        version = str(extra.get("version", ""))
        columns = [str(c) for c in extra.get("columns", ["embed"])]
        have = ex.blocks()
        missing = [c for c in columns if c not in have]
        if not ex.version.startswith(version + "|"):
            notes.append(
                f"default CLIP probe skipped: trained on {version}, the project caches {ex.version}"
            )
        elif missing:
            notes.append(
                f"default CLIP probe skipped: it reads {', '.join(columns)}, the project's "
                f"{_CLIP} features lack {', '.join(missing)}"
            )
        else:
            weight = np.zeros((ex.dim, 1))
            at = 0
            for c in columns:
                sl = have[c]
                width = sl.stop - sl.start
                weight[sl, 0] = coef[at : at + width]
                at += width
            if at != coef.size:
                raise ModelError(
                    f"{folder}: the default CLIP probe has {coef.size} weights, its columns "
                    f"{columns} hold {at}"
                )
            x = feats[_CLIP].astype(np.float64) @ weight + bias
            blocks.append(
                RawBlock(
                    ex.name,
                    ex.version,
                    f"default-{_CLIP_HEAD}",
                    0,
                    ex.dim,
                    x,
                    weight,
                    np.array([bias]),
                )
            )
    else:
        notes.append(f"default CLIP probe not used: add {_CLIP} to the project's features")
    if ARTIFACTS in extractors:
        from synthcheck.pixel.artifacts import artifact_feature_names

        ex = extractors[ARTIFACTS]
        try:
            coef, bias, extra = _probe(folder / "artifacts.npz")
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{folder}: cannot read the default artifact head: {exc}") from exc
        if not ex.version.startswith(f"v{extra.get('version', '')}|"):
            notes.append(
                f"default artifact head skipped: trained on feature version "
                f"{extra.get('version')}, the project caches {ex.version}"
            )
            return blocks, notes
        names = list(artifact_feature_names())
        weight = np.zeros((ex.dim, 1))
        for c, name in zip(coef, [str(n) for n in extra["columns"]], strict=True):
            weight[names.index(name), 0] = c
        x = feats[ARTIFACTS].astype(np.float64) @ weight + bias
        blocks.append(
            RawBlock(
                ex.name, ex.version, "default-artifacts", 0, ex.dim, x, weight, np.array([bias])
            )
        )
    else:
        notes.append("default artifact head not used: add 'artifacts' to the project's features")
    return blocks, notes
