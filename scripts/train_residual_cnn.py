"""Train the low-level residual expert: a compact CNN on neighbouring-pixel residuals of native
patches (after NPR, CVPR 2024), and measure it with both sides unseen.

    python scripts/train_residual_cnn.py eval  [--dev ../shared/data/dev] [--pool /work/pool]
    python scripts/train_residual_cnn.py train [--dev ...] [--pool ...] --out residual-cnn.onnx

``eval`` runs group folds in which every test fold holds fake families *and* real sources that
its training folds never saw (leave-family-out together with leave-source-out) and prints the
out-of-fold AUC per fold and pooled, with TPR at 5% and 1% FPR. ``train`` fits on everything and
exports the trunk (residual transform, convolutions, global average pool) to ONNX with one output,
``pooled``, so that synthcheck serves it like any backbone; the probe on top is fitted by
``scripts/train_default.py`` like the other heads.

Both classes go through the same laundering, drawn per image and epoch: a resize by 0.5-1.0
(p=0.5), a JPEG re-encode at quality 65-100 (p=0.8), then random 64-px crops at that resolution.
Needs torch (``pip install torch==2.13.0``, CPU); synthcheck itself never imports it.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from sklearn.metrics import roc_auc_score, roc_curve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from synthcheck.pixel.devpool import load_devpool

PATCH = 64
FEATURE_DIM = 64


@dataclass
class Item:
    pixels: NDArray[np.uint8]
    label: int  # 1 = generated
    group: str  # fake family or real source, held out together


def _load_image(path: Path, max_side: int) -> NDArray[np.uint8]:
    with Image.open(path) as im:
        im = im.convert("RGB")
        if max(im.size) > max_side:
            scale = max_side / max(im.size)
            size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
            im = im.resize(size, Image.Resampling.LANCZOS)
        return np.asarray(im, dtype=np.uint8).copy()


def load_items(dev: Path | None, pool: Path | None, max_side: int) -> list[Item]:
    items: list[Item] = []
    if dev is not None and dev.is_dir():
        for image in load_devpool(dev):
            pixels = _load_image(image.path, max_side)
            if min(pixels.shape[:2]) >= PATCH:
                items.append(Item(pixels, image.label, f"dev:{image.group}"))
    if pool is not None and (pool / "manifest.csv").is_file():
        with (pool / "manifest.csv").open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                fake = row["label"] == "fake"
                group = row.get("family") if fake else row.get("source")
                pixels = _load_image(pool / row["file"], max_side)
                if min(pixels.shape[:2]) >= PATCH:
                    items.append(Item(pixels, int(fake), f"pool:{group or 'unknown'}"))
    return items


def launder(pixels: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    """The same random resize and JPEG re-encode for either class."""
    im = Image.fromarray(pixels)
    if rng.random() < 0.5:
        scale = rng.uniform(0.5, 1.0)
        size = (max(PATCH, round(im.width * scale)), max(PATCH, round(im.height * scale)))
        im = im.resize(size, Image.Resampling.BICUBIC)
    if rng.random() < 0.8:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=int(rng.integers(65, 101)))
        buf.seek(0)
        im = Image.open(buf).convert("RGB")
    return np.asarray(im, dtype=np.uint8)


def crops(pixels: NDArray[np.uint8], n: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    h, w = pixels.shape[:2]
    ys = rng.integers(0, h - PATCH + 1, n)
    xs = rng.integers(0, w - PATCH + 1, n)
    return np.stack([pixels[y : y + PATCH, x : x + PATCH] for y, x in zip(ys, xs, strict=True)])


def grid_crops(pixels: NDArray[np.uint8], n: int) -> NDArray[np.uint8]:
    """Up to ``n`` patches on an even grid (what inference scores)."""
    h, w = pixels.shape[:2]
    side = max(1, int(np.ceil(np.sqrt(n))))
    ys = np.linspace(0, h - PATCH, side).astype(int)
    xs = np.linspace(0, w - PATCH, side).astype(int)
    out = [pixels[y : y + PATCH, x : x + PATCH] for y in ys for x in xs]
    return np.stack(out[:n])


def build_model():  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class Residual(nn.Module):
        """x minus its 2x nearest-neighbour down-and-up copy: what upsampling layers leave."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
            x = x[..., :h, :w]
            down = x[..., ::2, ::2]
            up = down.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
            return (x - up) * 4.0

    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    class Trunk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.residual = Residual()
            self.body = nn.Sequential(
                block(3, 16),
                nn.MaxPool2d(2),
                block(16, 32),
                nn.MaxPool2d(2),
                block(32, FEATURE_DIM),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # uint8-range NHWC in, like every synthcheck backbone.
            x = x.permute(0, 3, 1, 2) / 255.0
            return self.body(self.residual(x))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = Trunk()
            self.head = nn.Linear(FEATURE_DIM, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.trunk(x)).squeeze(-1)

    return Net()


def fit(items: Sequence[Item], epochs: int, per_image: int, seed: int):  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    labels = np.array([it.label for it in items])
    # Balance the classes per epoch: each class contributes the same number of patches.
    weights = np.where(labels == 1, 0.5 / max(1, labels.sum()), 0.5 / max(1, (1 - labels).sum()))
    steps = epochs * len(items) // 8
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(1, steps))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    step = 0
    for epoch in range(epochs):
        start = time.perf_counter()
        chosen = rng.choice(len(items), size=len(items) // 8 * 8, p=weights / weights.sum())
        total = 0.0
        for i in range(0, len(chosen), 8):
            batch_x, batch_y = [], []
            for j in chosen[i : i + 8]:
                patches = crops(launder(items[j].pixels, rng), per_image, rng)
                if rng.random() < 0.5:
                    patches = patches[:, :, ::-1]
                batch_x.append(patches)
                batch_y += [items[j].label] * per_image
            x = torch.from_numpy(np.ascontiguousarray(np.concatenate(batch_x))).float()
            y = torch.tensor(batch_y, dtype=torch.float32)
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            if step < steps:
                sched.step()
            step += 1
            total += float(loss.detach()) * len(batch_y)
        print(
            f"  epoch {epoch + 1}/{epochs}: loss {total / (len(chosen) * per_image):.4f} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return model


def score(model, items: Sequence[Item], n_patches: int) -> NDArray[np.float64]:  # type: ignore[no-untyped-def]
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for it in items:
            x = torch.from_numpy(np.ascontiguousarray(grid_crops(it.pixels, n_patches))).float()
            out.append(float(model(x).mean()))
    return np.array(out)


def group_folds(items: Sequence[Item], k: int) -> list[int]:
    """Fold of each item: fake families and real sources are dealt to folds round-robin (largest
    first), so each test fold holds groups of both classes unseen in its training folds."""
    fold_of: dict[str, int] = {}
    for label in (1, 0):
        sizes: dict[str, int] = {}
        for it in items:
            if it.label == label:
                sizes[it.group] = sizes.get(it.group, 0) + 1
        loads = [0] * k
        for group in sorted(sizes, key=lambda g: (-sizes[g], g)):
            f = int(np.argmin(loads))
            fold_of[group] = f
            loads[f] += sizes[group]
    return [fold_of[it.group] for it in items]


def tpr_at(y: NDArray[np.int_], s: NDArray[np.float64], fpr: float) -> float:
    fprs, tprs, _ = roc_curve(y, s)
    return float(np.interp(fpr, fprs, tprs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("command", choices=("eval", "train"))
    ap.add_argument("--dev", type=Path, default=Path("../shared/data/dev"))
    ap.add_argument("--pool", type=Path, default=None)
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--per-image", type=int, default=4)
    ap.add_argument("--patches", type=int, default=16, help="grid patches scored per image")
    ap.add_argument("--max-side", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    items = load_items(args.dev, args.pool, args.max_side)
    n_fake = sum(it.label for it in items)
    groups = len({it.group for it in items})
    print(f"{len(items)} images ({n_fake} generated), {groups} groups", flush=True)
    if args.command == "eval":
        folds = np.array(group_folds(items, args.folds))
        y = np.array([it.label for it in items])
        oof = np.zeros(len(items))
        for f in range(args.folds):
            train = [it for it, g in zip(items, folds, strict=True) if g != f]
            test_idx = np.flatnonzero(folds == f)
            print(f"fold {f + 1}: train {len(train)}, test {len(test_idx)}", flush=True)
            model = fit(train, args.epochs, args.per_image, args.seed + f)
            oof[test_idx] = score(model, [items[i] for i in test_idx], args.patches)
            auc = roc_auc_score(y[test_idx], oof[test_idx])
            held = sorted({items[i].group for i in test_idx})
            print(f"fold {f + 1}: AUC {auc:.3f} on unseen {', '.join(held)}", flush=True)
        print(
            f"pooled out-of-fold AUC {roc_auc_score(y, oof):.3f}, TPR@5% "
            f"{tpr_at(y, oof, 0.05):.3f}, TPR@1% {tpr_at(y, oof, 0.01):.3f}"
        )
        if args.out is not None:
            np.savez(args.out, oof=oof, y=y, groups=np.array([it.group for it in items]))
        return 0
    model = fit(items, args.epochs, args.per_image, args.seed)
    out = args.out or Path("residual-cnn.onnx")
    model.eval()
    dummy = torch.zeros(1, PATCH, PATCH, 3)
    torch.onnx.export(
        model.trunk,
        (dummy,),
        str(out),
        input_names=["pixels"],
        output_names=["pooled"],
        dynamic_axes={"pixels": {0: "n"}, "pooled": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
