"""Train synthcheck's default pixel detector from ../shared/data/dev (reproducible, fixed seed).

Two steps, both deterministic:

1. ``extract``: for every dev-pool image and every view (clean, JPEG q60, 0.5x resize, two random
   launderings: crop / resize 0.5-1.5x / JPEG q50-100, WebP or PNG, and one heavy laundering:
   crop / shrink / JPEG q50-75), compute the artifact features
   (mean over tiles) and the backbone features of native-resolution 224-px tiles (or, for a
   ``<backbone>-global`` block, of the one whole-image view), cached
   as .npz under ``--cache`` (default /work/cache/pixel or $SYNTHCHECK_FEATURE_CACHE). Shardable
   (``--shard k/n``) so it can run in pieces or on several machines.
2. ``fit``: train the heads on the clean + laundered views of every image (the JPEG q60 and 0.5x
   views are kept for the benchmark), fuse them with a stacked logistic regression on
   out-of-fold scores (folds grouped by generator family / real source) and write the model files
   to ``src/synthcheck/models/default``.

    python scripts/train_default.py extract --what artifacts --workers 2      # ~8 min, 2 cores
    python scripts/train_default.py extract --what efficientnet-lite0        # ~6 min, 2 cores
    python scripts/train_default.py extract --what clip-vit-b16  # ~80 min, 2 VNNI cores; with a GPU
    python scripts/train_default.py extract --what clip-vit-b16-global  # ~65 min, 2 cores
    python scripts/extract_clip_gpu.py --onnx .../clip_encoder.int8.onnx --verify  # instead
    python scripts/train_default.py fit
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.pixel.artifacts import ARTIFACT_FEATURE_VERSION, artifact_features  # noqa: E402
from synthcheck.pixel.devpool import (  # noqa: E402
    VIEWS,
    DevImage,
    load_devpool,
    load_pool,
    load_training_images,
    make_view,
    read_pixels,
)
from synthcheck.pixel.profiles import GLOBAL_SUFFIX  # noqa: E402
from synthcheck.pixel.tiling import extract_tiles, global_view  # noqa: E402

SEED = 20261122
DEFAULT_DEV = REPO.parent / "shared" / "data" / "dev"
DEFAULT_CACHE = Path(os.environ.get("SYNTHCHECK_FEATURE_CACHE", "/work/cache/pixel"))
#: Tiles per view for each backbone, the same plans the profiles score at run time (thorough: up
#: to 2 CLIP tiles, fast: 1 EfficientNet tile). A linear head on the tile-mean features equals the
#: mean of per-tile logits. Training on the run-time plan beat training on 4-tile means when
#: tested on 2 tiles (leave-one-generator-out TPR at 5% FPR 0.801 vs 0.768).
BACKBONE_TRAIN_TILES = {"clip-vit-b16": 2, "efficientnet-lite0": 1}


def _artifact_rows(job: tuple[DevImage, tuple[str, ...]]) -> tuple[int, np.ndarray]:
    image, views = job
    pixels = read_pixels(image.path)
    rows = []
    for view in VIEWS:
        if view not in views:
            rows.append(None)
            continue
        feats, _ = artifact_features(make_view(image, pixels, view, SEED))
        rows.append(feats.mean(axis=0))
    width = next(len(r) for r in rows if r is not None)
    # A view left out is a NaN row: the fit drops it, and load_feature_blocks keeps the layout.
    return image.index, np.stack([np.full(width, np.nan) if r is None else r for r in rows])


def extract_artifacts(
    images: list[DevImage], out: Path, workers: int, views: tuple[str, ...] = VIEWS
) -> None:
    feats: dict[int, np.ndarray] = {}
    start = time.perf_counter()
    jobs = [(image, views) for image in images]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for n, (idx, rows) in enumerate(pool.map(_artifact_rows, jobs, chunksize=8), 1):
            feats[idx] = rows
            if n % 200 == 0:
                print(
                    f"  artifacts {n}/{len(images)} {time.perf_counter() - start:.0f}s", flush=True
                )
    idx = np.array(sorted(feats))
    np.savez_compressed(
        out,
        index=idx,
        features=np.stack([feats[i] for i in idx]).astype(np.float32),
        views=np.array(VIEWS),
        version=ARTIFACT_FEATURE_VERSION,
    )


def extract_backbone(
    images: list[DevImage],
    name: str,
    out: Path,
    batch: int,
    views: tuple[str, ...] = VIEWS,
    n_tiles: int | None = None,
) -> None:
    """Backbone features of every view: native-resolution tiles, or with a ``-global`` block
    name (``clip-vit-b16-global``) the one whole-image view of :func:`global_view`."""
    from synthcheck.backbones import create_backbone

    whole = name.endswith(GLOBAL_SUFFIX)
    bb = create_backbone(name.removesuffix(GLOBAL_SUFFIX))
    size = bb.input_size
    keys: list[str] | None = None
    meta: list[tuple[int, int, int]] = []
    chunks: dict[str, list[np.ndarray]] = {}
    pending: list[np.ndarray] = []

    def flush() -> None:
        nonlocal keys
        if not pending:
            return
        got = bb.features(np.concatenate(pending))
        keys = keys or sorted(got)
        for k in keys:
            chunks.setdefault(k, []).append(got[k].astype(np.float16))
        pending.clear()

    start = time.perf_counter()
    for n, image in enumerate(images, 1):
        pixels = read_pixels(image.path)
        for v, view in enumerate(VIEWS):
            if view not in views:
                continue
            viewed = make_view(image, pixels, view, SEED)
            tiles, _ = (
                global_view(viewed, size=size)
                if whole
                else extract_tiles(
                    viewed, tile=size, max_tiles=n_tiles or BACKBONE_TRAIN_TILES[name]
                )
            )
            pending.append(tiles)
            meta.extend((image.index, v, t) for t in range(len(tiles)))
        if sum(len(p) for p in pending) >= batch:
            flush()
        if n % 100 == 0:
            print(f"  {name} {n}/{len(images)} {time.perf_counter() - start:.0f}s", flush=True)
    flush()
    assert keys is not None
    np.savez(
        out,
        meta=np.array(meta, dtype=np.int32),
        version=np.array(str(bb.version)),
        **{f"f_{k}": np.concatenate(chunks[k]) for k in keys},
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="compute and cache features of the dev pool")
    ex.add_argument(
        "--what", required=True, help="'artifacts' or a backbone name (clip-vit-b16, ...)"
    )
    ex.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    ex.add_argument(
        "--pool",
        type=Path,
        action="append",
        default=[],
        help="a native-resolution pool built by scripts/build_pool.py (repeatable); its images "
        "are indexed after the dev pool's",
    )
    ex.add_argument(
        "--subset",
        choices=("all", "dev", "pool", "last"),
        default="all",
        help="extract only the dev pool's, only the pools', or only the last --pool's images "
        "(the cache file is named so: _dev, _pool, _<last pool's folder name>), so that a pool "
        "added later is extracted without recomputing the others",
    )
    ex.add_argument(
        "--views",
        default=",".join(VIEWS),
        help=f"comma-separated views to extract (default all: {','.join(VIEWS)})",
    )
    ex.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ex.add_argument("--shard", default="0/1", help="k/n: the k-th of n interleaved shards")
    ex.add_argument("--workers", type=int, default=2)
    ex.add_argument(
        "--tiles",
        type=int,
        default=None,
        help="native tiles per view for a tile backbone (default: BACKBONE_TRAIN_TILES)",
    )
    ex.add_argument("--batch", type=int, default=32)
    ex.add_argument(
        "--only-present", action="store_true", help="skip manifest rows whose file is absent"
    )
    fit = sub.add_parser("fit", help="train the heads from cached features and write the model")
    fit.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    fit.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    fit.add_argument("--pool", type=Path, action="append", default=[])
    fit.add_argument("--out", type=Path, default=REPO / "src" / "synthcheck" / "models" / "default")
    fit.add_argument(
        "--profiles",
        default=None,
        help="comma-separated profiles to refit (default all); the others' heads and entries are "
        "kept from --out's manifest",
    )
    fit.add_argument(
        "--exclude-source",
        action="append",
        default=[],
        help="a generator or real-source name never to train on (repeatable)",
    )
    args = ap.parse_args(argv)

    if args.cmd == "extract":
        k, n = (int(x) for x in args.shard.split("/"))
        views = tuple(v.strip() for v in args.views.split(",") if v.strip())
        unknown = sorted(set(views) - set(VIEWS))
        if unknown:
            ap.error(f"unknown views {unknown}; choose from {', '.join(VIEWS)}")
        images = load_training_images(args.dev, args.pool)
        n_dev = len(load_devpool(args.dev))
        if args.subset == "dev":
            images = images[:n_dev]
        elif args.subset == "pool":
            images = images[n_dev:]
        elif args.subset == "last":
            if not args.pool:
                ap.error("--subset last needs at least one --pool")
            images = images[len(images) - len(load_pool(args.pool[-1])) :]
        images = images[k::n]
        if args.only_present:
            images = [im for im in images if im.path.is_file()]
        args.cache.mkdir(parents=True, exist_ok=True)
        suffix = {"all": "", "last": f"_{args.pool[-1].name}" if args.pool else ""}.get(
            args.subset, f"_{args.subset}"
        )
        out = args.cache / f"{args.what}_shard{k}of{n}{suffix}.npz"
        print(f"extract {args.what} ({','.join(views)}): {len(images)} images -> {out}", flush=True)
        t0 = time.perf_counter()
        if args.what == "artifacts":
            extract_artifacts(images, out, args.workers, views)
        else:
            extract_backbone(images, args.what, out, args.batch, views, args.tiles)
        print(f"done in {time.perf_counter() - t0:.0f}s")
        return 0
    import logging

    from synthcheck.pixel.fitting import train_default_model

    logging.basicConfig(level=logging.INFO, format="%(message)s")

    train_default_model(
        load_training_images(args.dev, args.pool),
        args.cache,
        args.out,
        seed=SEED,
        profiles=None if args.profiles is None else args.profiles.split(","),
        exclude=args.exclude_source,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
