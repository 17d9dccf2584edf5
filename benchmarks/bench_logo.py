"""Leave-one-generator-family-out benchmark of the default pixel heads on ../shared/data/dev.

For each generator family (SD 1.5 fine-tunes, SD 1/2 official, SDXL, Kolors, GPT-4o, StyleGAN2,
Stein-GAN, InfoMax-GAN, DDPM/DDIM) the heads and their fusion are trained without that family and
without one real source group (rotating over pets / camera JPEGs / ImageNet / benchmark photos),
then tested on the held-out family against the held-out real group: both sides of the test are
unseen in training. Conditions: the clean file, JPEG q60, and 0.5x resize. Prints AUC and TPR at
5% FPR per family and the mean.

Needs the cached features of ``scripts/train_default.py extract`` (same --cache).

    python benchmarks/bench_logo.py --heads clip-probe,clip-global   # the shipped thorough profile
    python benchmarks/bench_logo.py --heads effnet-global,artifacts   # the shipped fast profile
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.pixel.devpool import VIEWS, load_devpool  # noqa: E402
from synthcheck.pixel.fitting import HeadSpec, head_blocks, load_feature_blocks, logo_evaluate  # noqa: E402
from synthcheck.pixel.profiles import BACKBONE_TILES, HEAD_SPECS  # noqa: E402

CONDITIONS = ("clean", "jpeg60", "half")


def _parse_keys(values: list[str]) -> dict[str, tuple[str, ...]]:
    """``--keys`` values as {head: keys}; the head "" stands for every backbone head."""
    out: dict[str, tuple[str, ...]] = {}
    for value in values:
        head, _, listed = value.rpartition("=")
        keys = tuple(k for k in listed.split(",") if k)
        if not keys:
            raise ValueError(f"--keys {value!r} names no feature keys")
        out[head] = keys
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dev", type=Path, default=REPO.parent / "shared" / "data" / "dev")
    ap.add_argument("--cache", type=Path, default=Path("/work/cache/pixel"))
    ap.add_argument(
        "--heads", default="clip-probe,clip-global", help="comma-separated heads to fuse"
    )
    ap.add_argument("--C", type=float, default=None, help="override the probes' C (exploration)")
    ap.add_argument(
        "--keys",
        action="append",
        default=[],
        help="override the backbone feature keys (exploration): K1,K2 for every backbone head, or "
        "HEAD=K1,K2 for one head; repeatable",
    )
    ap.add_argument(
        "--train-views",
        default="",
        help="override the training views, comma-separated names from VIEWS (exploration)",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = ap.parse_args(argv)

    images = load_devpool(args.dev)
    try:
        keys = _parse_keys(args.keys)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    raw = load_feature_blocks(args.cache, len(images), max_tiles=BACKBONE_TILES)
    known = {s.name: s for s in HEAD_SPECS}
    specs = []
    for name in args.heads.split(","):
        if name not in known:
            print(f"unknown head {name!r}; known: {', '.join(known)}", file=sys.stderr)
            return 2
        spec = known[name]
        head_keys = keys.get(name, keys.get("", ())) if spec.block != "artifacts" else ()
        if args.C is not None or head_keys:
            spec = HeadSpec(spec.name, spec.block, args.C or spec.C, head_keys or spec.keys)
        if spec.block not in raw:
            print(
                f"no cached features for head {name} (block {spec.block}); run the extract step",
                file=sys.stderr,
            )
            return 2
        specs.append(spec)
    blocks = head_blocks(raw, specs)
    train_views = [v for v in args.train_views.split(",") if v] or None
    unknown = sorted(set(train_views or ()) - set(VIEWS))
    if unknown:
        print(f"unknown views {unknown}; known: {', '.join(VIEWS)}", file=sys.stderr)
        return 2
    rows = logo_evaluate(images, blocks, specs, CONDITIONS, train_views=train_views)

    head = f"{'held-out family':<16} {'real group':<11} {'n_ai':>5} {'n_real':>6}"
    for c in CONDITIONS:
        head += f" {'AUC ' + c:>12} {'TPR@5 ' + c:>13}"
    print(
        "heads: "
        + ", ".join(f"{s.name} [{'+'.join(s.keys)}]" for s in specs)
        + f"; trained on views {train_views or 'default'}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        line = f"{r['family']:<16} {r['real_group']:<11} {r['n_fake']:>5} {r['n_real']:>6}"
        for c in CONDITIONS:
            line += f" {r[f'auc_{c}']:>12.3f} {r[f'tpr5_{c}']:>13.3f}"
        print(line)
    line = f"{'mean':<16} {'':<11} {'':>5} {'':>6}"
    for c in CONDITIONS:
        auc = np.mean([r[f"auc_{c}"] for r in rows])
        tpr = np.mean([r[f"tpr5_{c}"] for r in rows])
        line += f" {auc:>12.3f} {tpr:>13.3f}"
    print(line)
    if len(specs) > 1:
        for s in specs:
            means = [np.mean([r[f"auc_{c}_{s.name}"] for r in rows]) for c in CONDITIONS]
            print(
                f"  head {s.name} alone: mean AUC "
                + ", ".join(f"{c} {m:.3f}" for c, m in zip(CONDITIONS, means, strict=True))
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
