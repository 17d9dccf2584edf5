"""Does the heatmap point at generated regions? Composites of camera photos and generated images.

Each composite is a large camera photo from ``../shared/data/fixtures`` (``exif_samples`` with a
short side of at least 800 px) with one generated dev image (``../shared/data/dev``, at least 384
px, pasted at native size at a seeded random position), re-encoded as JPEG q90 so that both parts
share the last compression. Each composite gets the model's heatmap for every budget in
``--tiles`` (``predict_pixels(..., heatmap=True)``; with ``thorough`` the tiles cover the whole
image, shrunk to the budget when it is larger) and, for comparison, the map of models before
version 5 (``--native``: the tile head on that many native tiles, thinned evenly over a large
image) and of version 5 (``--tile-maps``: the tile head's p_ai per covering tile, one cell per
tile, where version 6 scores each tile's 16-px patches). Printed per map:

* covered: composites where at least one cell lies at least half inside the pasted region (a
  thinned native grid can leave the region between its tiles; a covering map can have cells
  larger than a small region);
* pointing: of the covered composites, how often the hottest cell is such a cell, against the
  chance of picking one at random;
* cell AUC: values of cells at least half inside the region against cells that do not touch it,
  pooled over composites;
* seconds per map and the median ratio of that time to the scan of the same composite without
  a heatmap, and the hottest cell of each host photo alone (the map's false-alarm level).

    python benchmarks/bench_heatmap.py [--per-host 8] [--profile thorough] [--tiles 4,6,12]
        [--native 48] [--tile-maps]

``--tiles`` holds ``heatmap_tiles`` budgets (default ``HEATMAP_MAX_TILES``), the same as
``scan --heatmap-tiles``: detail against cost.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.evaluation.metrics import auc_of  # noqa: E402
from synthcheck.intake.decode import load_image  # noqa: E402
from synthcheck.pixel import create_pixel_model  # noqa: E402
from synthcheck.pixel.augment import jpeg  # noqa: E402
from synthcheck.pixel.model import DefaultPixelModel  # noqa: E402
from synthcheck.pixel.profiles import HEATMAP_MAX_TILES  # noqa: E402

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


class _Tally:
    """Localisation figures of one kind of map over the composites."""

    def __init__(self) -> None:
        self.n = self.covered = self.hits = 0
        self.chance: list[float] = []
        self.pos: list[float] = []
        self.neg: list[float] = []
        self.seconds: list[float] = []
        self.ratios: list[float] = []
        self.cells: list[int] = []

    def add(
        self,
        values: np.ndarray,
        boxes: list[tuple[int, int, int, int]],
        region: tuple[int, int, int, int],
        seconds: float,
        scan_seconds: float,
    ) -> None:
        # A cell no tile holds (NaN: no information) is neither inside nor outside.
        held = np.isfinite(values)
        values = values[held]
        inside = np.array([_inside(b, region) for b, h in zip(boxes, held, strict=True) if h])
        self.n += 1
        self.seconds.append(seconds)
        self.ratios.append(seconds / scan_seconds)
        self.cells.append(len(values))
        self.pos += list(values[inside >= 0.5])
        self.neg += list(values[inside == 0])
        if (inside >= 0.5).any():
            self.covered += 1
            self.hits += int(inside[int(values.argmax())] >= 0.5)
            self.chance.append(float((inside >= 0.5).mean()))

    def row(self, name: str) -> str:
        auc = auc_of(self.pos, self.neg) if self.pos and self.neg else float("nan")
        pointing = f"{self.hits}/{self.covered}" if self.covered else "-"
        chance = f"{np.mean(self.chance):.2f}" if self.chance else "-"
        return (
            f"| {name:<40} | {np.mean(self.cells):6.0f} | {self.covered:3d}/{self.n:<3d} | "
            f"{pointing:>8} | {chance:>6} | {auc:8.3f} | {np.median(self.seconds):6.2f} | "
            f"{np.median(self.ratios):6.2f} |"
        )


def _tile_head_map(
    model: DefaultPixelModel, pixels: np.ndarray, budget: int, *, cover: bool
) -> tuple[np.ndarray, list[tuple[int, int, int, int]], float]:
    """An earlier rule: the tile head's own p_ai, one cell per tile. ``cover``: version 5's map,
    up to ``budget`` tiles covering the image (the tiles whose patches version 6 scores); else
    the map before version 5, up to ``budget`` native tiles thinned evenly over a large image
    (it leaves gaps there)."""
    start = time.perf_counter()
    head = next(h for h in model.heads if h.name == "clip-probe")
    out = model._run(head, pixels, max_tiles=budget, cover=cover)
    values = head.platt.predict_proba(out.tile_logits)
    return np.asarray(values), out.plan.image_boxes(), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--per-host", type=int, default=8, help="composites per host photo")
    ap.add_argument("--profile", default="thorough")
    ap.add_argument(
        "--model-dir", type=Path, default=None, help="model files (default: the shipped ones)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--tiles",
        default=str(HEATMAP_MAX_TILES),
        help="comma-separated heatmap tile budgets to compare (default: the shipped one)",
    )
    ap.add_argument(
        "--native",
        type=int,
        default=48,
        help="also draw the thinned native-tile map of this many tiles (thorough; 0: skip)",
    )
    ap.add_argument(
        "--tile-maps",
        action="store_true",
        help="also draw version 5's map (one cell per covering tile) at each budget (thorough)",
    )
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
    budgets = [int(t) for t in args.tiles.split(",")]
    models = {
        n: create_pixel_model(args.profile, model_dir=args.model_dir, heatmap_tiles=n)
        for n in budgets
    }
    native = args.native if args.profile == "thorough" else 0
    print(
        f"model {models[budgets[0]].name}: {len(hosts)} host photos x {args.per_host} composites, "
        f"pastes drawn from {len(pastes)} generated dev images; maps: "
        + ", ".join(f"shipped with {n} tiles" for n in budgets)
        + (f", thinned native grid of {native} tiles" if native else "")
    )
    tallies = {n: _Tally() for n in budgets}
    tile_tallies = {n: _Tally() for n in budgets}
    tile_maps = args.tile_maps and args.profile == "thorough"
    native_tally = _Tally()
    host_max: dict[int, list[float]] = {n: [] for n in budgets}
    host_p: list[float] = []
    composite_p: list[float] = []
    for host_path in hosts:
        host = load_image(host_path).pixels
        for n, model in models.items():
            alone = model.predict_pixels(host, heatmap=True)
            assert alone.heatmap is not None
            host_max[n].append(float(np.nanmax(alone.heatmap)))
        host_p.append(alone.p_ai)
        h, w = host.shape[:2]
        for _ in range(args.per_host):
            paste = load_image(pastes[int(rng.integers(len(pastes)))]).pixels
            ph, pw = min(paste.shape[0], h), min(paste.shape[1], w)
            top, left = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
            pixels = host.copy()
            pixels[top : top + ph, left : left + pw] = paste[:ph, :pw]
            pixels = jpeg(pixels, 90)
            region = (top, left, top + ph, left + pw)
            first = models[budgets[0]]
            start = time.perf_counter()
            scan = first.predict_pixels(pixels)
            scan_seconds = time.perf_counter() - start
            for n, model in models.items():
                result = model.predict_pixels(pixels, heatmap=True)
                assert result.heatmap is not None and result.heatmap_plan is not None
                assert result.p_ai == scan.p_ai  # a heatmap never changes the verdict
                tallies[n].add(
                    result.heatmap.ravel(),
                    result.heatmap_plan.image_boxes(),
                    region,
                    result.timings["heatmap"],
                    scan_seconds,
                )
                if tile_maps:
                    values, boxes, seconds = _tile_head_map(model, pixels, n, cover=True)
                    tile_tallies[n].add(values, boxes, region, seconds, scan_seconds)
            composite_p.append(scan.p_ai)
            if native:
                values, boxes, seconds = _tile_head_map(first, pixels, native, cover=False)
                native_tally.add(values, boxes, region, seconds, scan_seconds)
    print(
        "\ncovered: composites where a map cell lies at least half inside the paste; pointing: "
        "its hottest cell is such a cell (of the covered); chance: share of such cells; cell AUC: "
        "cells at least half inside vs cells outside the paste, pooled; s: median seconds per map; "
        "x scan: median of the map's seconds over the same composite's scan without a map"
    )
    print(f"| {'map':<40} |  cells | covered | pointing | chance | cell AUC |      s | x scan |")
    for n in budgets:
        print(tallies[n].row(f"shipped ({args.profile}), {n} tiles"))
    if tile_maps:
        for n in budgets:
            print(tile_tallies[n].row(f"one cell per covering tile, {n} tiles"))
    if native:
        print(native_tally.row(f"thinned native grid, {native} tiles"))
    print(
        f"p_ai: composites mean {np.mean(composite_p):.2f}, hosts alone mean {np.mean(host_p):.2f}"
    )
    for n in budgets:
        print(
            f"hottest cell of each host alone ({n} tiles): "
            + ", ".join(f"{v:.2f}" for v in host_max[n])
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
