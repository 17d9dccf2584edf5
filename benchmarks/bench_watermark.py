"""Invisible-watermark decoder: speed on 1 MP images and false matches on real photos.

1. Speed: ms per image for the full ``invisible-watermark`` signal (both channel orders, four
   payloads) on synthetic 1 MP (1024 x 1024) RGB images, best and median of ``--repeat`` runs,
   and time plus extra peak memory for one 48 MP image.
2. False matches: every real photo under ``dev/real`` (the rows of ``dev/manifest.csv`` labelled
   real) and every decodable file of ``fixtures/`` is decoded; prints how many were flagged, the
   smallest adjusted chance probability seen and the highest agreement per payload. Also decodes
   ``dev/fake`` to show how many laundered generator samples still carry a mark.
3. Sampled reading (``--large`` photos of more than 4 MP): each payload is embedded over the whole
   photo the way its embedders do, saved as PNG and as JPEG q92 / q95 / q98, and decoded twice:
   the shipped way (a sample of strips, the whole image when in doubt) and reading every block.
   Prints both verdicts and chance probabilities, the milliseconds of each, and how often the
   unmarked photos needed the whole reading.

    python benchmarks/bench_watermark.py [--data ../shared/data] [--repeat 20] [--limit N]
        [--large PHOTO ...]
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from synthcheck.errors import InputError
from synthcheck.intake import load_image, load_image_bytes
from synthcheck.intake.image import LoadedImage
from synthcheck.signals import create_signal
from synthcheck.signals.watermark import PAYLOADS, InvisibleWatermarkSignal

REPO = Path(__file__).resolve().parents[1]
SAVES: tuple[tuple[str, dict[str, object]], ...] = (
    ("PNG", {}),
    ("JPEG", {"quality": 98}),
    ("JPEG", {"quality": 95}),
    ("JPEG", {"quality": 92}),
)


def _synthetic(seed: int) -> LoadedImage:
    rng = np.random.default_rng(seed)
    # Smooth texture plus noise, so block maxima vary as in photos.
    base = rng.integers(0, 256, (33, 33, 3)).astype(np.float32)
    up = np.kron(base, np.ones((32, 32, 1), dtype=np.float32))[:1024, :1024]
    pixels = np.clip(up + rng.normal(0, 12, up.shape), 0, 255).astype(np.uint8)
    return LoadedImage(path=f"synthetic-{seed}", data=b"", format="PNG", pixels=pixels, sha256="")


def bench_speed(signal: InvisibleWatermarkSignal, repeat: int) -> None:
    images = [_synthetic(seed) for seed in range(4)]
    signal.analyze(images[0])  # warm-up
    ms = []
    for i in range(repeat):
        start = time.perf_counter()
        signal.analyze(images[i % len(images)])
        ms.append((time.perf_counter() - start) * 1000)
    print(
        f"speed, 1024x1024 RGB: median {statistics.median(ms):.1f} ms/image, best {min(ms):.1f} ms"
    )


def bench_large(signal: InvisibleWatermarkSignal) -> None:
    """Time and extra peak memory for one 48 MP image (decoding runs in strips of rows)."""
    pixels = np.random.default_rng(0).integers(0, 256, (6000, 8000, 3), dtype=np.uint8)
    image = LoadedImage(path="large", data=b"", format="PNG", pixels=pixels, sha256="")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    signal.analyze(image)
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(
        f"large, 8000x6000 RGB ({pixels.nbytes / 2**20:.0f} MB of pixels): {seconds:.2f} s, "
        f"peak RSS grew by {grown:.0f} MB"
    )


def _files(data: Path, label: str | None, limit: int | None) -> list[Path]:
    manifest = data / ("dev" if label else "fixtures") / "manifest.csv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if label is None or r["label"] == label]
    paths = [manifest.parent / r["file"] for r in rows]
    return paths[:limit] if limit else paths


def bench_matches(signal: InvisibleWatermarkSignal, name: str, paths: list[Path]) -> None:
    if not paths:
        print(f"{name}: data absent, skipped")
        return
    verdicts: Counter[str] = Counter()
    too_small = errors = 0
    best_agreement: dict[str, float] = defaultdict(float)
    min_p = 1.0
    hits: list[str] = []
    ms: list[float] = []
    for path in paths:
        try:
            image = load_image(path)
        except InputError:
            errors += 1
            continue
        start = time.perf_counter()
        result = signal.analyze(image)
        ms.append((time.perf_counter() - start) * 1000)
        verdicts[result.verdict] += 1
        matches = result.details.get("matches")
        if not isinstance(matches, list):
            too_small += 1
            continue
        for m in matches:
            best_agreement[m["payload"]] = max(best_agreement[m["payload"]], m["agreement"])
            min_p = min(min_p, m["p_adjusted"])
        if result.verdict == "ai":
            hits.append(f"{path.relative_to(path.parents[2])}: {result.summary}")
    decoded = sum(verdicts.values()) - too_small
    agreement = ", ".join(f"{k} {v:.0%}" for k, v in sorted(best_agreement.items()))
    print(
        f"{name}: {len(paths)} files, {errors} undecodable, {too_small} too small, {decoded} "
        f"decoded; flagged ai: {verdicts['ai']}; mean {statistics.fmean(ms) if ms else 0:.1f} ms"
    )
    print(f"  smallest adjusted chance p: {min_p:.2g}; highest agreement: {agreement or '-'}")
    for hit in hits[:10]:
        print(f"  hit: {hit}")


def _decode(signal: InvisibleWatermarkSignal, image: LoadedImage) -> tuple[str, float, float]:
    start = time.perf_counter()
    res = signal.analyze(image)
    ms = 1000 * (time.perf_counter() - start)
    matches = res.details["matches"]
    assert isinstance(matches, list)
    best = min(float(m["p_adjusted"]) for m in matches)
    return res.verdict, best, ms


def bench_sampling(paths: list[Path]) -> None:
    """Sampled-then-whole reading against reading every block, on marks embedded in big photos."""
    sys.path.insert(0, str(REPO / "tests"))
    from PIL import Image

    from _dwtdct_encoder import embed_float, embed_uint8  # the test suite's reference encoder

    sampled, whole = InvisibleWatermarkSignal(), InvisibleWatermarkSignal(sample_blocks=None)
    print("\n## sampled reading vs whole reading (marks embedded over the whole photo)")
    print("| photo | payload | saved as | sampled: verdict, p_adj, ms | whole: the same |")
    disagree = escalated = unmarked = 0
    for path in paths:
        photo = load_image(path)
        # Unmarked: did the sample leave enough doubt to read the whole photo?
        details = sampled.analyze(photo).details
        unmarked += 1
        escalated += details["blocks_read"] == details["blocks"]
        for payload in PAYLOADS:
            reading = payload.readings[0]
            bits = list(payload.bits)
            marked = (
                embed_float(photo.pixels, bits, rgb_as_bgr=reading.swap_rb)
                if reading.float_path
                else embed_uint8(photo.pixels, bits)
            )
            for fmt, opts in SAVES:
                buf = io.BytesIO()
                Image.fromarray(marked).save(buf, fmt, **opts)
                image = load_image_bytes(buf.getvalue(), f"{path.name}-{payload.key}")
                vs, ps, ms_s = _decode(sampled, image)
                vw, pw, ms_w = _decode(whole, image)
                disagree += vs != vw
                saved = fmt if not opts else f"{fmt} q{opts['quality']}"
                print(
                    f"| {path.name} | {payload.key} | {saved} | {vs} {ps:.1e} {ms_s:.0f} | "
                    f"{vw} {pw:.1e} {ms_w:.0f} |"
                )
    print(f"verdicts that differ: {disagree}; unmarked photos read whole: {escalated}/{unmarked}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--limit", type=int, default=None, help="files per set (default: all)")
    parser.add_argument("--large", type=Path, nargs="*", default=[], help="photos over 4 MP")
    parser.add_argument("--only-large", action="store_true", help="run section 3 only")
    args = parser.parse_args()
    if args.large:
        bench_sampling(args.large)
    if args.only_large:
        return
    signal = create_signal("invisible-watermark")
    assert isinstance(signal, InvisibleWatermarkSignal)
    bench_speed(signal, args.repeat)
    bench_large(signal)
    bench_matches(signal, "dev/real (real photos)", _files(args.data, "real", args.limit))
    bench_matches(signal, "fixtures (all)", _files(args.data, None, args.limit))
    bench_matches(signal, "dev/fake (laundered)", _files(args.data, "fake", args.limit))


if __name__ == "__main__":
    main()
