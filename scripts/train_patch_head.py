"""Train the heatmap's patch head (``clip-patch``): a linear probe on CLIP's layer-8 patch tokens.

``thorough`` draws its heatmap from the patch tokens of the tiles that cover the image: every
16-px patch of each 224-px tile gets a p_ai from the same 8-layer pass, so a handful of tiles
gives a fine map of the whole picture. This script trains that probe.

    python scripts/train_patch_head.py extract --pool /work/pool3 --out /work/cache/patch.npz
    python scripts/train_patch_head.py fit --features /work/cache/patch.npz [--write]

``extract`` takes a sample of the pool balanced over fake families and real sources, gives both
classes the same processing (a JPEG re-encode at a random quality 75-95, then the run-time
covering tiles at a random budget of 2 to 8 tiles, so the probe sees the scales the heatmap
uses), and keeps a random subset of each tile's 196 patch tokens. Only native-resolution pool
images are used, never the dev pool: ``benchmarks/bench_heatmap.py`` pastes generated dev images
into camera photos, and those must be images the probe never saw.

``fit`` trains a logistic regression on the patch tokens (each group weighted like the square
root of its size, as for the other heads), reports its out-of-fold AUC with folds that hold out
whole fake families and real sources together (per patch and per image, the image scored by its
mean patch logit), fits the Platt calibration on those out-of-fold logits and, with ``--write``,
saves ``clip-patch.npz`` into ``src/synthcheck/models/default``.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.pixel.augment import jpeg  # noqa: E402
from synthcheck.pixel.devpool import DevImage, load_pool, read_pixels  # noqa: E402
from synthcheck.pixel.tiling import extract_cover_tiles  # noqa: E402

SEED = 20261208
PATCH_FEATURE = "patches_l8"
HIDDEN = 768
BUDGETS = (2, 4, 6, 8)
MODEL_DIR = REPO / "src" / "synthcheck" / "models" / "default"


def balanced_sample(images: list[DevImage], per_label: int, seed: int) -> list[DevImage]:
    """Up to ``per_label`` images of each label, drawn round-robin over groups (fake families,
    real sources) so that no large group dominates."""
    rng = np.random.default_rng(seed)
    chosen: list[DevImage] = []
    for label in (0, 1):
        groups: dict[str, list[DevImage]] = {}
        for im in images:
            if im.label == label:
                groups.setdefault(im.group, []).append(im)
        queues = [list(rng.permutation(np.array(g, dtype=object))) for g in groups.values()]
        taken: list[DevImage] = []
        while len(taken) < per_label and any(queues):
            for q in queues:
                if q and len(taken) < per_label:
                    taken.append(q.pop())
        chosen += taken
    return sorted(chosen, key=lambda im: im.index)


def extract(args: argparse.Namespace) -> int:
    from synthcheck.backbones import create_backbone

    images: list[DevImage] = []
    for pool in args.pool:
        images += load_pool(pool, start=len(images))
    sample = balanced_sample(images, args.per_label, SEED)
    print(f"{len(sample)} images sampled of {len(images)}", flush=True)
    bb = create_backbone("clip-vit-b16", features=[PATCH_FEATURE])
    n_patch = bb.feature_dims[PATCH_FEATURE] // HIDDEN
    feats: list[np.ndarray] = []
    meta: list[tuple[int, int, int, int]] = []
    start = time.perf_counter()
    for n, image in enumerate(sample, 1):
        rng = np.random.default_rng(zlib.crc32(f"{SEED}:{image.path.name}".encode()))
        pixels = jpeg(read_pixels(image.path), int(rng.integers(75, 96)))
        budget = int(rng.choice(BUDGETS))
        crops, _ = extract_cover_tiles(pixels, tile=bb.input_size, max_tiles=budget)
        tokens = bb.features(crops)[PATCH_FEATURE].reshape(len(crops), n_patch, HIDDEN)
        for t in range(len(crops)):
            keep = rng.choice(n_patch, size=args.per_tile, replace=False)
            feats.append(tokens[t, keep].astype(np.float16))
            meta.extend((image.index, image.label, t, int(k)) for k in keep)
        if n % 100 == 0:
            print(f"  {n}/{len(sample)} {time.perf_counter() - start:.0f}s", flush=True)
    groups = {im.index: im.group for im in sample}
    meta_arr = np.array(meta, dtype=np.int32)
    np.savez(
        args.out,
        x=np.concatenate(feats),
        meta=meta_arr,
        group=np.array([groups[int(i)] for i in meta_arr[:, 0]]),
        version=np.array(str(bb.version)),
    )
    print(f"wrote {args.out}: {len(meta_arr)} patches in {time.perf_counter() - start:.0f}s")
    return 0


def fit(args: argparse.Namespace) -> int:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    from synthcheck.pixel.fitting import group_weights
    from synthcheck.pixel.heads import LinearProbe, PlattCalibrator

    data = np.load(args.features)
    x = data["x"].astype(np.float32)
    meta = data["meta"]
    image, y = meta[:, 0], meta[:, 1]
    group = data["group"]
    # Each group counts like sqrt(its patches), as for the other heads; then both classes weigh
    # the same in total.
    weight = group_weights(group)
    for label in (0, 1):
        weight[y == label] /= weight[y == label].sum()
    weight *= len(y) / weight.sum()

    oof = np.zeros(len(y))
    for k, (tr, te) in enumerate(GroupKFold(n_splits=args.folds).split(x, y, group)):
        probe = LinearProbe(C=args.C, max_iter=500).fit(x[tr], y[tr], sample_weight=weight[tr])
        oof[te] = probe.decision_function(x[te])
        print(f"  fold {k + 1}: patch AUC {roc_auc_score(y[te], oof[te]):.3f}", flush=True)
    ids = np.unique(image)
    per_image = np.array([oof[image == i].mean() for i in ids])
    y_image = np.array([y[image == i][0] for i in ids])
    print(
        f"out-of-fold (families and sources unseen): patch AUC {roc_auc_score(y, oof):.3f}, "
        f"image AUC (mean patch logit) {roc_auc_score(y_image, per_image):.3f}; "
        f"{len(ids)} images, {len(np.unique(group))} groups, {len(y)} patches"
    )
    platt = PlattCalibrator().fit(oof, y)
    print(f"Platt calibration on out-of-fold logits: a={platt.a_:.4f} b={platt.b_:.4f}")
    if not args.write:
        return 0
    probe = LinearProbe(C=args.C, max_iter=500).fit(x, y, sample_weight=weight)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "clip-patch.npz"
    # The calibration travels in the head's own file: train_default.py rewrites manifest.json.
    probe.save(
        out,
        columns=np.array([PATCH_FEATURE]),
        version=data["version"],
        platt_a=np.array(platt.a_),
        platt_b=np.array(platt.b_),
    )
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="sample the pool and cache patch tokens")
    ex.add_argument("--pool", type=Path, action="append", required=True)
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--per-label", type=int, default=1200, help="images per class")
    ex.add_argument("--per-tile", type=int, default=16, help="patch tokens kept per tile")
    ft = sub.add_parser("fit", help="train the patch probe from the cache")
    ft.add_argument("--features", type=Path, required=True)
    ft.add_argument("--C", type=float, default=0.01)
    ft.add_argument("--folds", type=int, default=4)
    ft.add_argument("--write", action="store_true", help="save the head into --out")
    ft.add_argument("--out", type=Path, default=MODEL_DIR, help="model directory")
    args = ap.parse_args(argv)
    return extract(args) if args.cmd == "extract" else fit(args)


if __name__ == "__main__":
    raise SystemExit(main())
