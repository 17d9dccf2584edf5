"""Per-stage time and peak RSS on large camera photos, against a plain Pillow decode (issue 29).

Files come from ``../shared/data/fixtures`` (real camera files; nothing is synthesised): the
largest camera JPEGs there (8-10 MP; the fixtures hold no 12 MP JPEG), two high-quality iPhone
JPEGs (q93/q96, where the watermark decoder runs), the largest camera HEICs and generated PNGs of
about 1 MP. Each profile runs in its own subprocess (so peak RSS is its own); every file is scored
once to warm up, then ``--reps`` times, and the minimum per stage is printed.

Stages: ``pillow`` is the floor, ``Image.open`` + ``convert("RGB")`` + ``np.asarray`` of the same
file; ``intake`` is ``load_image`` (read, sniff, decode, metadata, orientation, conversion);
``conversion`` is the part of it after Pillow's decode (``to_rgb8`` and EXIF orientation), timed on
its own; one column per provenance signal; one per pixel head (``PixelResult.timings``); the
heatmap. ``total`` is intake + every signal + ``predict`` (what ``Detector.scan_file`` does per
file), and ``x`` is total / pillow, measured in the same process.

    python benchmarks/bench_camera.py [--reps 3] [--profiles provenance,fast,thorough,heatmap]
        [--extra PHOTO ...]

``--extra`` adds files of your own (group "extra"), for example the 12 MP camera originals that
some fetched repositories hold (``git -C <mirror> show HEAD:<path> > photo.jpg``): the Samsung
Galaxy S7 ``test/data/exiv2-bug2565.jpg`` of Exiv2/exiv2, the iPhone XS
``testdata/test_exif_full.jpg`` of h2non/bimg, the Olympus E-P3 ``jpg/tests/42_IndexError.jpg`` of
ianare/exif-samples and the iPhone 11 Pro ``heic/IMG_2929.HEIC`` of
drewnoakes/metadata-extractor-images.

Targets (issue 29): on camera JPEGs thorough <= 2.5 x, provenance <= 1.3 x, fast <= 1.5 x the
Pillow decode; a full-coverage heatmap <= 3 x the thorough scan.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "data" / "fixtures"

#: (group, file under fixtures/). The largest real camera files the fixtures hold.
FILES: tuple[tuple[str, str], ...] = (
    ("camera JPEG", "fixtures_c2pa/images_cloudscape-ACA-Cr.jpeg"),  # iPhone 13, 10.4 MP, q75
    ("camera JPEG", "exif_samples/jpg_tests_30-type_error.jpg"),  # 9.3 MP, q79
    ("camera JPEG", "exif_samples/jpg_tests_67-0_length_string.jpg"),  # Galaxy S7, 8.1 MP, q80
    ("camera JPEG hq", "fixtures_c2pa/images_crater-lake.jpeg"),  # iPhone 13, 3.0 MP, q96
    ("camera JPEG hq", "fixtures_c2pa/images_crater-lake-cr.jpg"),  # iPhone 13, 3.1 MP, q93
    ("camera HEIC", "metadata_extractor_images/heic_cheers_1440x960.heic"),
    ("camera HEIC", "fixtures_heif/tests_images_heif_other_nokia_bird_burst.heic"),
    ("generated PNG", "fixtures_c2pa/images_ChatGPT_Image.png"),  # GPT-4o, 1.6 MP
    ("generated PNG", "fixtures_c2pa/sdk_tests_fixtures_sample1.png"),  # 0.7 MP
)


def _pillow(path: Path) -> float:
    if path.suffix.lower() in (".heic", ".heif"):
        import pillow_heif

        pillow_heif.register_heif_opener()
    start = time.perf_counter()
    with Image.open(path) as im:
        np.asarray(im.convert("RGB"))
    return time.perf_counter() - start


def _conversion(path: Path) -> float:
    """Seconds intake spends after Pillow has decoded: orientation and conversion to RGB8."""
    from synthcheck.intake.pixels import to_rgb8

    with Image.open(path) as im:
        im.load()
        start = time.perf_counter()
        to_rgb8(ImageOps.exif_transpose(im))
        return time.perf_counter() - start


def child(profile: str, reps: int, fixtures: Path | None, extra: list[Path]) -> dict[str, object]:
    sys.path.insert(0, str(REPO / "src"))
    from synthcheck.engine.detector import Detector
    from synthcheck.intake.decode import load_image
    from synthcheck.pixel import create_pixel_model

    heatmap = profile == "heatmap"
    model = (
        None if profile == "provenance" else create_pixel_model("thorough" if heatmap else profile)
    )
    detector = Detector(pixel_model=model)
    rows = []
    files = [("fixture " + group, fixtures / name) for group, name in FILES] if fixtures else []
    files += [("extra", path) for path in extra]
    for group, path in files:
        stages: dict[str, list[float]] = {}

        def add(key: str, seconds: float, into: dict[str, list[float]] = stages) -> None:
            into.setdefault(key, []).append(seconds)

        for rep in range(reps + 1):
            add("pillow", _pillow(path))
            add("conversion", _conversion(path))
            begin = start = time.perf_counter()
            image = load_image(path)
            add("intake", time.perf_counter() - start)
            for signal in detector.signals:
                start = time.perf_counter()
                signal.analyze(image)
                add(signal.name, time.perf_counter() - start)
            if model is not None:
                start = time.perf_counter()
                res = model.predict(image, heatmap=heatmap)
                add("pixel", time.perf_counter() - start)
                for head, seconds in res.timings.items():
                    add(head, seconds)
            add("total", time.perf_counter() - begin)
            if rep == 0:  # warm-up
                stages.clear()
        best = {k: min(v) for k, v in stages.items()}
        result = detector.scan_image(image, heatmap=heatmap)
        rows.append(
            {
                "group": group,
                "file": str(path),
                "size": f"{image.width}x{image.height}",
                "mp": image.width * image.height / 1e6,
                "verdict": result.verdict,
                "p_ai": result.p_ai,
                "stages": best,
            }
        )
    return {
        "profile": profile,
        "rows": rows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions (minimum is kept)")
    ap.add_argument("--profiles", default="provenance,fast,thorough,heatmap")
    ap.add_argument("--fixtures", type=Path, default=FIXTURES)
    ap.add_argument("--child", metavar="PROFILE", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--extra", type=Path, nargs="*", default=[], help="more image files to measure")
    ap.add_argument("--no-fixtures", action="store_true", help="measure only the --extra files")
    args = ap.parse_args(argv)
    fixtures = None if args.no_fixtures else args.fixtures
    extra = [p.resolve() for p in args.extra]
    gone = [str(p) for p in extra if not p.is_file()]
    if gone:
        print(f"--extra: no such file {gone}", file=sys.stderr)
        return 2
    if args.child:
        print(json.dumps(child(args.child, args.reps, fixtures, extra)))
        return 0
    missing = [name for _, name in FILES if fixtures and not (fixtures / name).is_file()]
    if missing:
        print(f"needs {args.fixtures} (../shared/data); missing {missing}", file=sys.stderr)
        return 2
    results = []
    for profile in args.profiles.split(","):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                profile,
                "--reps",
                str(args.reps),
                "--fixtures",
                str(args.fixtures),
                *(["--no-fixtures"] if fixtures is None else []),
                "--extra",
                *map(str, extra),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"{profile}: failed: {proc.stderr.strip().splitlines()[-3:]}")
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    for r in results:
        print(f"\n## profile {r['profile']}  (peak RSS {r['peak_rss_mb']:.0f} MB), ms, min of reps")
        keys: list[str] = []
        for row in r["rows"]:
            keys.extend(k for k in row["stages"] if k not in keys and k != "total")
        print(
            f"| {'file':<34} | {'MP':>4} | "
            + " | ".join(f"{k[:10]:>10}" for k in keys)
            + " | total |    x | verdict |"
        )
        for row in r["rows"]:
            s = row["stages"]
            cells = " | ".join(f"{1000 * s[k]:10.0f}" if k in s else f"{'-':>10}" for k in keys)
            print(
                f"| {Path(row['file']).name[:34]:<34} | {row['mp']:4.1f} | {cells} | "
                f"{1000 * s['total']:5.0f} | {s['total'] / s['pillow']:4.2f} | "
                f"{row['verdict']:<7} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
