"""The labelled development pool (``../shared/data/dev``): manifest, generator families, views.

Used by ``scripts/train_default.py`` and ``benchmarks/bench_logo.py``; never needed at run time.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from synthcheck.errors import DataError
from synthcheck.pixel.augment import jpeg, launder, launder_hard, resize

__all__ = [
    "FAKE_FAMILIES",
    "REAL_GROUPS",
    "VIEWS",
    "DevImage",
    "family_of",
    "load_devpool",
    "load_pool",
    "load_training_images",
    "make_view",
    "read_pixels",
    "real_group_of",
]

#: Generator name prefix -> family held out together in leave-one-generator-out.
FAKE_FAMILIES: dict[str, str] = {
    "sd15_": "sd15-finetunes",
    "sd1_": "sd-official",
    "sd2_": "sd-official",
    "sdxl_": "sdxl",
    "kolors": "kolors",
    "gpt4o_": "gpt4o",
    "stylegan2_": "stylegan2",
    "steingan_": "steingan",
    "infomaxgan_": "infomaxgan",
    "ddpm_": "ddpm-ddim",
    "ddim_": "ddpm-ddim",
}

#: Real source -> group; a held-out fake family is tested against a real group unseen in training.
REAL_GROUPS: dict[str, str] = {
    "asirra_catsdogs": "pets",
    "cat_breeds_web": "pets",
    "dog_breeds_kaggle": "pets",
    "camera_exif_jpeg": "camera",
    "imagenet_val_photo": "imagenet",
    "cbsd68_bsds300": "benchmarks",
    "kodak24": "benchmarks",
    "mcmaster18": "benchmarks",
    "rni15_real_noisy": "benchmarks",
    "set14": "benchmarks",
    "set5": "benchmarks",
}

#: Views of each image: the clean file, the two benchmark conditions, two random launderings and
#: one heavy (JPEG q50-75) laundering.
VIEWS: tuple[str, ...] = ("clean", "jpeg60", "half", "aug1", "aug2", "hard1")


def family_of(generator: str) -> str:
    for prefix, family in FAKE_FAMILIES.items():
        if generator.startswith(prefix):
            return family
    raise DataError(f"generator {generator!r} belongs to no known family; extend FAKE_FAMILIES")


def real_group_of(source: str) -> str:
    try:
        return REAL_GROUPS[source]
    except KeyError:
        raise DataError(
            f"real source {source!r} belongs to no known group; extend REAL_GROUPS"
        ) from None


@dataclass(frozen=True)
class DevImage:
    index: int
    path: Path
    label: int  # 1 = generated, 0 = real
    generator: str
    group: str  # fake family or real group
    #: 1 image in 20 (fixed by a hash of its path) is never trained on: tests check the shipped
    #: model on these.
    holdout: bool = False


def load_devpool(root: Path) -> list[DevImage]:
    """Read ``root/manifest.csv`` (``root`` is the ``dev`` folder)."""
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        raise DataError(f"{manifest}: the dev pool manifest is missing")
    out: list[DevImage] = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            fake = row["label"] == "fake"
            gen = row["generator"]
            out.append(
                DevImage(
                    index=i,
                    path=root / row["file"],
                    label=int(fake),
                    generator=gen,
                    group=family_of(gen) if fake else real_group_of(gen),
                    holdout=_holdout(row["file"]),
                )
            )
    return out


#: Families of the native-resolution pool (``scripts/build_pool.py``) that are the same family as
#: a dev-pool one, so that leave-one-family-out holds them out together.
POOL_FAMILY_ALIASES: dict[str, str] = {"sd1": "sd-official", "sd2": "sd-official"}


def _holdout(file: str) -> bool:
    return zlib.crc32(file.encode()) % 20 == 0


def load_pool(root: Path, start: int = 0) -> list[DevImage]:
    """Read the pool manifest ``root/manifest.csv`` written by ``scripts/build_pool.py``.

    Fakes are grouped by generator family (merged with the dev pool's family of the same model,
    :data:`POOL_FAMILY_ALIASES`), reals by their source, so that group folds keep every family and
    every real source on one side. Indices continue from ``start`` (the dev pool's length), so both
    pools share one feature cache."""
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        raise DataError(
            f"{manifest}: the pool manifest is missing; build it with scripts/build_pool.py"
        )
    out: list[DevImage] = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            fake = row["label"] == "fake"
            family = POOL_FAMILY_ALIASES.get(row["family"], row["family"])
            out.append(
                DevImage(
                    index=start + i,
                    path=root / row["file"],
                    label=int(fake),
                    generator=row["generator"] if fake else row["source"],
                    group=family if fake else f"pool:{row['source']}",
                    holdout=_holdout(row["file"]),
                )
            )
    return out


def load_training_images(dev: Path, pools: Sequence[Path] = ()) -> list[DevImage]:
    """The dev pool followed by each native-resolution pool, indexed in that order."""
    images = load_devpool(dev)
    for pool in pools:
        images += load_pool(pool, start=len(images))
    return images


def _seed(image: DevImage, view: str, seed: int) -> int:
    return zlib.crc32(f"{seed}:{image.path.name}:{view}".encode())


_FIXED: dict[str, Callable[[NDArray[np.uint8]], NDArray[np.uint8]]] = {
    "clean": lambda p: p,
    "jpeg60": lambda p: jpeg(p, 60),
    "half": lambda p: resize(p, 0.5),
}


def make_view(
    image: DevImage, pixels: NDArray[np.uint8], view: str, seed: int = 0
) -> NDArray[np.uint8]:
    """The ``view`` of ``image`` (deterministic for a given ``seed``)."""
    if view in _FIXED:
        return _FIXED[view](pixels)
    if view.startswith("aug"):
        return launder(pixels, np.random.default_rng(_seed(image, view, seed)))
    if view.startswith("hard"):
        return launder_hard(pixels, np.random.default_rng(_seed(image, view, seed)))
    raise DataError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")


def read_pixels(path: Path) -> NDArray[np.uint8]:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
