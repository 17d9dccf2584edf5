"""Tiny labelled image sets for the train-your-own tests (no test functions here).

"real" images are smooth gradients with fine sensor-like noise; "ai" images are the same
gradients with blocky 4x-upsampled texture; "stripes" (for multi-class projects) adds periodic
stripes. The classes are visually separable, so every extractor (even the weight-free artifact
features) separates them and CV accuracy is high.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 64


def image_pixels(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, SIZE)[None, :, None] * np.ones((SIZE, 1, 3))
    ramp = ramp + rng.uniform(0, 50, 3)[None, None, :]
    if kind == "real":
        px = ramp + rng.normal(0, 20, (SIZE, SIZE, 3))
    elif kind == "ai":
        px = ramp * 0.5 + np.kron(rng.normal(64, 30, (SIZE // 8, SIZE // 8, 3)), np.ones((8, 8, 1)))
    elif kind == "stripes":
        stripes = 60 * (np.arange(SIZE) % 6 < 3)[None, :, None]
        px = ramp * 0.7 + stripes + rng.normal(0, 3, (SIZE, SIZE, 3))
    else:
        raise ValueError(kind)
    return np.clip(px, 0, 255).astype(np.uint8)


def make_images(folder: Path, kind: str, n: int, *, start: int = 0, fmt: str = "png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"{kind}_{i:03d}.{fmt}"
        seed = {"real": 0, "ai": 10_000, "stripes": 20_000}[kind] + i
        Image.fromarray(image_pixels(kind, seed)).save(path)
        paths.append(path)
    return paths


def make_dataset(root: Path, n: int = 12, kinds: tuple[str, ...] = ("real", "ai")) -> Path:
    """``root/<kind>/*.png`` with ``n`` images per kind; returns ``root``."""
    for kind in kinds:
        make_images(root / kind, kind, n)
    return root
