"""Intake over the format fixtures: decoded / failed per format (with reasons) and throughput.

For every file in ``fixtures/manifest.csv`` it runs ``synthcheck.intake.load_image`` and, as a
reference, the underlying libraries directly (Pillow with pillow-heif, else rawpy). It prints one
row per detected format, the failure reasons, files whose size disagrees with the reference, and
decode throughput (files/s, megapixels/s) on this machine.

A second table decodes a generated ~1 MP image of every format (camera RAW as a DNG, which the
fixtures lack) to give per-format decode cost at a fixed size.

    python benchmarks/bench_intake.py [--data ../shared/data] [--repeat 1] [--synthetic-only]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from reference_decode import reference_size  # noqa: E402
from synthcheck.errors import InputError  # noqa: E402
from synthcheck.intake import load_image  # noqa: E402


@dataclass
class Row:
    files: int = 0
    decoded: int = 0
    failed: int = 0
    reference_ok: int = 0
    size_mismatch: int = 0
    seconds: float = 0.0
    megapixels: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)


def synthetic_table(repeat: int) -> None:
    """ms per decode of a generated 1152x864 image in every format."""
    import tempfile

    import imagegen

    size = (1152, 864)
    makers = {
        "JPEG q90": lambda p: imagegen.make_jpeg(p / "a.jpg", size),
        "PNG": lambda p: imagegen.make_png(p / "a.png", size),
        "PNG 16-bit": lambda p: imagegen.make_png(p / "b.png", size, bits16=True),
        "WebP lossy": lambda p: imagegen.make_webp(p / "a.webp", size),
        "WebP lossless": lambda p: imagegen.make_webp(p / "b.webp", size, lossless=True),
        "HEIC": lambda p: imagegen.make_heic(p / "a.heic", size),
        "AVIF": lambda p: imagegen.make_avif(p / "a.avif", size),
        "TIFF deflate": lambda p: imagegen.make_tiff(p / "a.tif", size),
        "GIF": lambda p: imagegen.make_gif(p / "a.gif", size),
        "BMP": lambda p: imagegen.make_bmp(p / "a.bmp", size),
        "DNG (LibRaw)": lambda p: imagegen.make_dng(p / "a.dng", size),
    }
    print(
        f"\nsynthetic {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.2f} MP), {repeat} decodes each"
    )
    print(f"{'format':<16}{'bytes':>10}{'ms/image':>10}{'MP/s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in makers.items():
            path = make(Path(tmp))
            load_image(path)  # warm-up: plugin registration, library loading
            start = time.perf_counter()
            for _ in range(repeat):
                load_image(path)
            ms = (time.perf_counter() - start) / repeat * 1000
            mps = size[0] * size[1] / 1e6 / (ms / 1000)
            print(f"{name:<16}{path.stat().st_size:>10}{ms:>10.1f}{mps:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=1, help="decode every file this many times")
    parser.add_argument("--synthetic-only", action="store_true", help="skip the fixtures table")
    args = parser.parse_args()
    if args.synthetic_only:
        synthetic_table(max(args.repeat, 5))
        return
    root = args.data / "fixtures"
    with (root / "manifest.csv").open(newline="") as fh:
        files = [root / r["file"] for r in csv.DictReader(fh)]

    rows: dict[str, Row] = defaultdict(Row)
    mismatches: list[str] = []
    total_seconds = 0.0
    for path in files:
        data = path.read_bytes()
        ref = reference_size(data)
        start = time.perf_counter()
        try:
            for _ in range(args.repeat):
                image = load_image(path)
        except InputError as exc:
            elapsed = time.perf_counter() - start
            key = f"({path.suffix.lower().lstrip('.')})"
            row = rows[key]
            row.failed += 1
            row.reasons[f"{exc.code}: {exc.reason[:90]}"] += 1
        else:
            elapsed = (time.perf_counter() - start) / args.repeat
            row = rows[image.format]
            row.decoded += 1
            row.megapixels += image.width * image.height / 1e6
            if ref is not None and sorted(ref) != sorted((image.width, image.height)):
                row.size_mismatch += 1
                mismatches.append(f"{path.name}: intake {image.width}x{image.height}, ref {ref}")
        row.files += 1
        row.seconds += elapsed
        row.reference_ok += ref is not None
        total_seconds += elapsed

    header = f"{'format':<10}{'files':>6}{'decoded':>9}{'failed':>8}{'ref ok':>8}"
    header += f"{'size≠ref':>10}{'files/s':>9}{'MP/s':>8}"
    print(header)
    print("-" * len(header))
    for fmt in sorted(rows):
        r = rows[fmt]
        fps = r.files / r.seconds if r.seconds else float("nan")
        mps = r.megapixels / r.seconds if r.seconds else float("nan")
        print(
            f"{fmt:<10}{r.files:>6}{r.decoded:>9}{r.failed:>8}{r.reference_ok:>8}"
            f"{r.size_mismatch:>10}{fps:>9.1f}{mps:>8.1f}"
        )
    n = sum(r.files for r in rows.values())
    decoded = sum(r.decoded for r in rows.values())
    mp = sum(r.megapixels for r in rows.values())
    print("-" * len(header))
    print(
        f"{'all':<10}{n:>6}{decoded:>9}{n - decoded:>8}"
        f"{sum(r.reference_ok for r in rows.values()):>8}{len(mismatches):>10}"
        f"{n / total_seconds:>9.1f}{mp / total_seconds:>8.1f}"
    )
    print("(failed rows are keyed by file extension, since no format was detected or decoded)")
    for fmt, r in sorted(rows.items()):
        for reason, count in r.reasons.most_common():
            print(f"  {fmt} x{count}: {reason}")
    for line in mismatches:
        print(f"  size mismatch: {line}")
    synthetic_table(max(args.repeat, 5))


if __name__ == "__main__":
    main()
