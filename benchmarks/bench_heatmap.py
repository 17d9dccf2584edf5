"""Does the heatmap point at generated regions? Composites of camera photos and generated images.

Each composite is a large camera photo from ``../shared/data/fixtures`` (``exif_samples`` with a
short side of at least 800 px) with one generated dev image (``../shared/data/dev``, at least 384
px, pasted at native size at a seeded random position), re-encoded as JPEG q90 so that both parts
share the last compression. The default model draws the heatmap on request
(``predict_pixels(..., heatmap=True)``: up to ``--tiles`` native 224-px tiles). Printed:

* coverage: composites where at least one heatmap tile lies at least half inside the pasted
  region (large images are covered by thinned tiles, so a region can fall between them);
* pointing: of the covered composites, how often the hottest tile is such a tile, against the
  chance of picking one at random;
* tile AUC: heatmap values of tiles at least half inside the region against tiles that do not
  touch it, pooled over composites;
* the hosts alone: their hottest tile and their p_ai (false-alarm level of the map).

    python benchmarks/bench_heatmap.py [--per-host 8] [--profile thorough] [--tiles 16]

``--tiles`` is the model's ``heatmap_tiles`` budget (default ``HEATMAP_MAX_TILES``, 48), the
same as ``scan --heatmap-tiles``: coverage against cost.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.evaluation.metrics import auc_of  # noqa: E402
from synthcheck.intake.decode import load_image  # noqa: E402
from synthcheck.pixel import create_pixel_model  # noqa: E402
from synthcheck.pixel.augment import jpeg  # noqa: E402
from synthcheck.pixel.profiles import HEATMAP_MAX_TILES  # noqa: E402
from synthcheck.pixel.tiling import plan_tiles  # noqa: E402

MIN_HOST_SIDE = 800
MIN_PASTE_SIDE = 384


def _rows(manifest: Path) -> list[dict[str, str]]:
    with manifest.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _inside(box: tuple[int, int, int, int], region: tuple[int, int, int, int]) -> float:
    """Fraction of ``box`` (top, left, bottom, right) inside ``region``."""
    t, left, b, r = box
    rt, rl, rb, rr = region
    h = max(0, min(b, rb) - max(t, rt))
    w = max(0, min(r, rr) - max(left, rl))
    return h * w / ((b - t) * (r - left))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--per-host", type=int, default=8, help="composites per host photo")
    ap.add_argument("--profile", default="thorough")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiles", type=int, default=HEATMAP_MAX_TILES, help="heatmap tile budget")
    args = ap.parse_args(argv)
    fixtures, dev = args.data / "fixtures", args.data / "dev"
    if not (fixtures / "manifest.csv").is_file() or not (dev / "manifest.csv").is_file():
        print(f"needs {fixtures} and {dev} (../shared/data)", file=sys.stderr)
        return 2
    hosts = [
        fixtures / r["file"]
        for r in _rows(fixtures / "manifest.csv")
        if r["set"] == "exif_samples"
        and min(int(r["width"] or 0), int(r["height"] or 0)) >= MIN_HOST_SIDE
    ]
    pastes = [
        dev / r["file"]
        for r in _rows(dev / "manifest.csv")
        if r["label"] == "fake" and min(int(r["width"]), int(r["height"])) >= MIN_PASTE_SIDE
    ]
    rng = np.random.default_rng(args.seed)
    model = create_pixel_model(args.profile, heatmap_tiles=args.tiles)
    print(
        f"model {model.name}, heatmap of up to {args.tiles} tiles: {len(hosts)} host photos x "
        f"{args.per_host} composites, "
        f"pastes drawn from {len(pastes)} generated dev images"
    )
    covered = hits = 0
    chance: list[float] = []
    pos: list[float] = []
    neg: list[float] = []
    host_max: list[float] = []
    host_p: list[float] = []
    composite_p: list[float] = []
    n = 0
    for host_path in hosts:
        host = load_image(host_path).pixels
        alone = model.predict_pixels(host, heatmap=True)
        assert alone.heatmap is not None
        host_max.append(float(alone.heatmap.max()))
        host_p.append(alone.p_ai)
        h, w = host.shape[:2]
        # The heatmap's own tiles (224 px for thorough's CLIP map, 128 px for fast's artifacts).
        plan = alone.heatmap_plan or plan_tiles(h, w, tile=224, max_tiles=args.tiles)
        boxes = plan.boxes()
        for _ in range(args.per_host):
            paste = load_image(pastes[int(rng.integers(len(pastes)))]).pixels
            ph, pw = min(paste.shape[0], h), min(paste.shape[1], w)
            top, left = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
            pixels = host.copy()
            pixels[top : top + ph, left : left + pw] = paste[:ph, :pw]
            result = model.predict_pixels(jpeg(pixels, 90), heatmap=True)
            assert result.heatmap is not None
            composite_p.append(result.p_ai)
            values = result.heatmap.ravel()
            region = (top, left, top + ph, left + pw)
            inside = np.array([_inside(b, region) for b in boxes])
            n += 1
            pos += list(values[inside >= 0.5])
            neg += list(values[inside == 0])
            if (inside >= 0.5).any():
                covered += 1
                hits += int(inside[int(values.argmax())] >= 0.5)
                chance.append(float((inside >= 0.5).mean()))
    print(f"composites: {n}; covered (a tile at least half inside the paste): {covered}")
    if covered:
        print(
            f"pointing: hottest tile inside the paste in {hits}/{covered} covered composites "
            f"({hits / covered:.2f}; chance {np.mean(chance):.2f})"
        )
    tile_auc = auc_of(pos, neg) if pos and neg else float("nan")
    print(f"tile AUC, inside vs outside the paste: {tile_auc:.3f} ({len(pos)} / {len(neg)})")
    print(
        f"p_ai: composites mean {np.mean(composite_p):.2f}, hosts alone mean {np.mean(host_p):.2f}"
    )
    print("hottest tile of each host alone: " + ", ".join(f"{v:.2f}" for v in host_max))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
