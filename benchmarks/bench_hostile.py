"""Time and peak memory of a scan on hostile files, each in a fresh process, default settings.

    python benchmarks/bench_hostile.py [--profile auto] [--out DIR]

Each file is scanned by ``synthcheck scan`` with no flags but the profile, in its own process,
so the peak RSS printed is the whole worker's (models included). A benign 1-megapixel JPEG is
the baseline printed first. The issue's targets: no file over 60 s, no worker over 1.5 GB.
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from imagegen import png_chunk

CHILD = r"""
import resource, sys, json, time
from synthcheck.engine.executor import ScanConfig, scan_one
config = ScanConfig(profile=sys.argv[1])
detector = config.build()
start = time.perf_counter()
result = scan_one(detector, sys.argv[2], config)
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "verdict": result.verdict,
    "error": None if result.error is None else result.error.type,
}))
"""


def _png(width: int, height: int, rows: int, colour: int = 2) -> bytes:
    channels = {0: 1, 2: 3}[colour]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x07" * (width * channels) for _ in range(rows))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def _jpeg(size: tuple[int, int], quality: int = 90) -> bytes:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (max(1, size[1] // 8), max(1, size[0] // 8), 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(small).resize(size).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _forged_jpeg(width: int, height: int) -> bytes:
    data = bytearray(_jpeg((64, 48)))
    at = data.index(b"\xff\xc0") + 5  # SOF0: marker, length, precision, then height and width
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


def _gif_screen(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("P", (8, 8)).save(buf, "GIF")
    data = bytearray(buf.getvalue())
    data[6:10] = struct.pack("<HH", width, height)  # logical screen size
    return bytes(data)


def _flat_png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (width, height), 9).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _cut_jpeg() -> bytes:
    data = _jpeg((1600, 1200))
    sos = data.index(b"\xff\xda")
    return data[: sos + (len(data) - sos) // 5] + b"\xff\xd9"


def _a1111_png() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "Steps: 20, " + "a" * 1_000_000, zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


CASES = {
    "benign 1 MP JPEG (baseline)": ("base.jpg", lambda: _jpeg((1152, 864))),
    "A1111 'Steps: 20, ' + 1M letters (zTXt)": ("steps.png", _a1111_png),
    "80-byte PNG, 1 x 199,000,000": ("tall.png", lambda: _png(1, 199_000_000, 1000)),
    "PNG 1 x 3,000,000, 1,000 rows of data": ("rows.png", lambda: _png(1, 3_000_000, 1000)),
    "flat greyscale PNG 14000 x 14000": ("flat.png", lambda: _flat_png(14000, 14000)),
    "JPEG with forged size 14000 x 14000": ("forged.jpg", lambda: _forged_jpeg(14000, 14000)),
    "GIF logical screen 14000 x 14000": ("screen.gif", lambda: _gif_screen(14000, 14000)),
    "JPEG with 80% of its scan data cut": ("cut.jpg", _cut_jpeg),
    # The largest RGB JPEG the default memory budget admits: the worst legitimate case.
    "JPEG 9600 x 7200 (69 MP, under the budget)": ("big.jpg", lambda: _jpeg((9600, 7200))),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="auto")
    ap.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = ap.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"profile {args.profile}; each file in a fresh process; targets: <= 60 s, <= 1536 MB")
    print(f"{'file':<44} {'bytes':>10} {'seconds':>8} {'peak MB':>8}  result")
    for label, (name, make) in CASES.items():
        path = folder / name
        path.write_bytes(make())
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, args.profile, str(path)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"{label:<44} crashed after {wall:.1f} s: {proc.stderr[-300:]}")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        outcome = row["verdict"] if row["error"] is None else f"error: {row['error']}"
        print(
            f"{label:<44} {path.stat().st_size:>10,} {row['seconds']:>8.2f} "
            f"{row['peak_mb']:>8.0f}  {outcome}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
