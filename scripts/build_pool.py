"""Build the native-resolution training pool (issue #25, section 1) from local git mirrors.

Reads ``data/sources.csv`` (one row per source: repository, commit, path glob(s), label, generator
or real-source name, family, release year, photoreal, licence, how the label was verified), reads
the matching files straight out of bare git mirrors (``--mirrors``, laid out as the ``fetch`` tool
leaves them: ``<mirrors>/<owner>+<name>/repo``), and writes the pool to ``--out`` (outside the
repository; images are never committed):

* refuses every repository listed in RESERVED.md (``--reserved``; owner/name, case-insensitive):
  the build stops before reading anything;
* decodes (Pillow + pillow-heif; first frame of animations), applies the EXIF orientation,
  converts embedded ICC profiles to sRGB, flattens alpha onto white, 16-bit to 8-bit;
* keeps native resolution: long side at most ``--max-side`` (2048) px, larger images are
  downscaled (Lanczos), never upscaled; images whose short side is below ``--min-side`` are skipped;
* drops near-duplicates: 64-bit dHash, Hamming distance <= ``--hamming`` (default 4) to an image
  already kept with the same label (sources in CSV order, files in path order: the first wins);
  across labels only pixel-identical copies are dropped (an AI edit stays next to its source photo);
* strips all metadata and writes lossless PNG: ``<out>/<label>/<name>/<file>.png``;
* writes ``<out>/manifest.csv``: one row per image with sha256 (of the PNG file) and pixel_sha256
  (of the decoded RGB pixels), label, source, generator, family, photoreal, year, width, height,
  original size and format, repository, commit, path, licence, verification, dhash.

Deterministic: same mirrors and same sources.csv give the same pool (no randomness; stable order).
A cache (``<out>/.cache.json``, keyed by git blob id and processing settings) makes rebuilds cheap.

    python scripts/build_pool.py --mirrors /work/.mirror --out /work/pool \\
        --reserved ../shared/data/RESERVED.md
    python scripts/build_pool.py --out /work/pool --report [--dev ../shared/data/dev/manifest.csv]

Only stdlib, numpy, Pillow and pillow-heif.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fnmatch
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

try:  # HEIC / HEIF / AVIF
    import pillow_heif

    pillow_heif.register_heif_opener()
except Exception:  # pragma: no cover - optional
    pillow_heif = None

Image.MAX_IMAGE_PIXELS = 400_000_000

REPO = Path(__file__).resolve().parents[1]
PROCESS_VERSION = "pool-1"  # bump when decoding / resizing / writing changes
IMAGE_EXT = (
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".heic",
    ".heif",
    ".hif",
    ".avif",
    ".tif",
    ".tiff",
    ".bmp",
)
SOURCE_FIELDS = [
    "repository",
    "commit",
    "pattern",
    "exclude",
    "require",
    "label",
    "name",
    "family",
    "year",
    "photoreal",
    "licence",
    "verification",
    "max_images",
    "notes",
]
MANIFEST_FIELDS = [
    "file",
    "sha256",
    "pixel_sha256",
    "label",
    "source",
    "generator",
    "family",
    "photoreal",
    "year",
    "width",
    "height",
    "orig_width",
    "orig_height",
    "orig_format",
    "resized",
    "repository",
    "commit",
    "path",
    "licence",
    "verification",
    "camera",
    "dhash",
]


# ----------------------------------------------------------------------------------------------
# pure functions (unit-tested in tests/test_build_pool.py)


def parse_reserved(text: str) -> set[str]:
    """owner/name (lower case) of every list item of RESERVED.md."""
    out = set()
    for line in text.splitlines():
        m = re.match(r"^\s*[-*]\s+`?([A-Za-z0-9][\w.-]*/[\w.-]+?)`?(\s|$)", line)
        if m:
            out.add(m.group(1).lower())
    return out


def is_reserved(repository: str, reserved: set[str]) -> bool:
    """True for a reserved owner/name, and for the same owner's repositories that extend a
    reserved name (``owner/name_extension``, ``owner/name-v2``, ``owner/name++``): such siblings
    carry the reserved repository's data (Zero-DCE_extension ships Zero-DCE's test photos)."""
    key = repository.strip().strip("/").lower()
    if key in reserved:
        return True
    owner, _, name = key.partition("/")
    siblings = ("-", "_", ".", "+")
    return any(
        r_owner == owner and name.startswith(r_name) and name[len(r_name) :][:1] in siblings
        for r_owner, _, r_name in (r.partition("/") for r in reserved)
    )


class ReservedSourceError(RuntimeError):
    pass


def check_not_reserved(sources: Iterable[dict], reserved: set[str]) -> None:
    bad = sorted({s["repository"] for s in sources if is_reserved(s["repository"], reserved)})
    if bad:
        raise ReservedSourceError(
            "sources.csv names repositories reserved for independent evaluation: " + ", ".join(bad)
        )


def target_size(width: int, height: int, max_side: int = 2048) -> tuple[int, int]:
    """Size after the resize rule: long side <= max_side, aspect kept, never upscaled."""
    long_side = max(width, height)
    if long_side <= max_side:
        return width, height
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def dhash64(img: Image.Image) -> int:
    """64-bit difference hash: 9x8 grey thumbnail, one bit per horizontal neighbour comparison."""
    g = img.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    a = np.asarray(g, dtype=np.int16)
    bits = (a[:, 1:] > a[:, :-1]).flatten()
    v = 0
    for b in bits:
        v = (v << 1) | int(b)
    return v


def grey_std(img: Image.Image) -> float:
    """Standard deviation of the grey levels of a 256-px thumbnail (blank test images are ~0)."""
    g = img.convert("L")
    g.thumbnail((256, 256))
    return round(float(np.asarray(g, dtype=np.float32).std()), 3)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def dedup(
    items: Sequence[tuple[str, int, str]], threshold: int
) -> tuple[list[int], dict[int, int]]:
    """Near-duplicate filter in order. items: (label, dhash, pixel_sha256).

    Keeps an item unless an earlier kept item has the same label and a dHash within ``threshold``
    bits, or (any label) the same pixel hash. Returns (kept indices, {dropped: kept it duplicates}).
    """
    kept: list[int] = []
    dropped: dict[int, int] = {}
    by_label: dict[str, list[tuple[int, int]]] = defaultdict(list)
    arrays: dict[str, np.ndarray] = {}
    pix: dict[str, int] = {}
    for i, (label, h, psha) in enumerate(items):
        if psha in pix:
            dropped[i] = pix[psha]
            continue
        lst = by_label[label]
        hit = None
        if lst:
            arr = arrays.get(label)
            if arr is None or len(arr) != len(lst):
                arr = np.array([x[1] for x in lst], dtype=np.uint64)
                arrays[label] = arr
            x = np.bitwise_xor(arr, np.uint64(h))
            d = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
            j = int(np.argmin(d))
            if d[j] <= threshold:
                hit = lst[j][0]
        if hit is not None:
            dropped[i] = hit
            continue
        kept.append(i)
        lst.append((i, h))
        pix[psha] = i
    return kept, dropped


def match_paths(paths: Iterable[str], pattern: str, exclude: str = "") -> list[str]:
    """Sorted image paths matching any ';'-separated glob of pattern and none of exclude."""
    pats = [p.strip() for p in pattern.split(";") if p.strip()]
    excl = [p.strip() for p in exclude.split(";") if p.strip()]
    out = []
    for p in paths:
        if not p.lower().endswith(IMAGE_EXT):
            continue
        if any(fnmatch.fnmatchcase(p, q) for q in pats) and not any(
            fnmatch.fnmatchcase(p, q) for q in excl
        ):
            out.append(p)
    return sorted(out)


def spread(items: Sequence, k: int) -> list:
    """Deterministic, evenly spaced subset of at most k items (all when k <= 0)."""
    n = len(items)
    if k <= 0 or n <= k:
        return list(items)
    return [items[(i * n) // k] for i in range(k)]


def to_srgb_rgb(img: Image.Image) -> Image.Image:
    """Orientation, ICC -> sRGB, alpha flattened onto white, 8-bit RGB."""
    with contextlib.suppress(Exception):
        img.seek(0)
    img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        scale = 257.0 if a.max() > 255 else 1.0
        img = Image.fromarray(np.clip(a / scale, 0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    if icc and img.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            mode = "RGB" if img.mode != "L" else "L"
            img = ImageCms.profileToProfile(img, src, dst, outputMode=mode)
        except Exception:
            pass
    return img.convert("RGB")


def process_bytes(data: bytes, max_side: int) -> tuple[Image.Image, dict]:
    """Decode bytes to the pool image (RGB, resized by the rule) and its facts."""
    with Image.open(io.BytesIO(data)) as im:
        fmt = im.format or ""
        im.load()
        rgb = to_srgb_rgb(im)
    w0, h0 = rgb.size
    tw, th = target_size(w0, h0, max_side)
    resized = (tw, th) != (w0, h0)
    if resized:
        rgb = rgb.resize((tw, th), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb, {
        "orig_format": fmt,
        "orig_width": w0,
        "orig_height": h0,
        "width": tw,
        "height": th,
        "resized": int(resized),
    }


def png_bytes(img: Image.Image) -> bytes:
    """Lossless PNG of the pixels only. A fresh image is encoded: Pillow would otherwise write
    ``img.info`` (an ICC profile, DPI) into the file, and the sRGB profile that ImageCms creates
    carries a timestamp, so the bytes would differ from run to run."""
    clean = Image.frombytes("RGB", img.size, img.convert("RGB").tobytes())
    buf = io.BytesIO()
    clean.save(buf, format="PNG", compress_level=4)
    return buf.getvalue()


def has_png_metadata(png: bytes) -> bool:
    """True when a PNG carries a chunk other than IHDR / IDAT / IEND (written by older builds)."""
    i = 8
    while i + 8 <= len(png):
        n = int.from_bytes(png[i : i + 4], "big")
        if png[i + 4 : i + 8] not in (b"IHDR", b"IDAT", b"IEND"):
            return True
        i += 12 + n
    return False


# ----------------------------------------------------------------------------------------------
# sources and mirrors


@dataclass
class Source:
    row: dict

    def __getitem__(self, k):
        return self.row[k]

    @property
    def slug(self) -> str:
        return self.row["repository"].replace("/", "+")


def read_sources(path: Path) -> list[dict]:
    with Path(path).open(newline="", encoding="utf-8") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r.get("repository", "").strip() and not r["repository"].lstrip().startswith("#")
        ]
    for r in rows:
        for k in SOURCE_FIELDS:
            r.setdefault(k, "")
            r[k] = (r[k] or "").strip()
        if r["label"] not in ("real", "fake"):
            raise ValueError(f"bad label {r['label']!r} for {r['repository']} {r['pattern']}")
    return rows


def read_skip_list(path: Path) -> set[tuple[str, str]]:
    """(repository lower case, path) pairs already in the dev pool: not taken again."""
    if not path.exists():
        print(f"skip list {path} not found: nothing skipped", file=sys.stderr)
        return set()
    with path.open(newline="", encoding="utf-8") as f:
        return {(r["repository"].lower(), r["path"]) for r in csv.DictReader(f)}


def dev_hashes(dev_dir: Path, out: Path) -> list[tuple[str, int, str, str]]:
    """(label, dHash, 'dev:<file>', file) of every dev-pool image, so that pool images that are
    near-duplicates of a dev image (the same photo at another size) are not taken twice."""
    manifest = dev_dir / "manifest.csv"
    if not manifest.exists():
        print(f"{manifest} not found: no dedup against the dev pool", file=sys.stderr)
        return []
    cache_path = out / ".dev_hashes.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    res = []
    with manifest.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            fp = dev_dir / r["file"]
            if not fp.exists():
                continue
            key = f"{r['file']}:{fp.stat().st_size}"
            if key not in cache:
                with Image.open(fp) as im:
                    cache[key] = f"{dhash64(im):016x}"
            res.append((r["label"], int(cache[key], 16), "dev:" + r["file"], r["file"]))
    cache_path.write_text(json.dumps(cache))
    return res


def git_dir(mirrors: Path, repository: str) -> Path:
    gd = mirrors / repository.replace("/", "+") / "repo"
    return gd / ".git" if (gd / ".git").is_dir() else gd


def ls_tree(gd: Path, commit: str) -> dict[str, tuple[str, int]]:
    out = subprocess.run(
        ["git", f"--git-dir={gd}", "ls-tree", "-r", "-l", "-z", commit],
        check=True,
        capture_output=True,
    ).stdout
    res = {}
    for ent in out.split(b"\0"):
        if not ent:
            continue
        meta, path = ent.split(b"\t", 1)
        _mode, typ, sha, size = meta.split()
        if typ != b"blob" or not size.isdigit():  # missing from the snapshot (>= 4 MiB, LFS)
            continue
        res[path.decode("utf-8", "surrogateescape")] = (sha.decode(), int(size))
    return res


def camera_of(data: bytes) -> str:
    """'Make Model' from the EXIF of the original file ('' when there is none)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            make, model = exif.get(0x010F, ""), exif.get(0x0110, "")
    except Exception:
        return ""
    text = " ".join(str(x) for x in (make, model) if x)
    return " ".join("".join(ch for ch in text if ch.isprintable()).split())


def cat_blob(gd: Path, sha: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={gd}", "cat-file", "blob", sha], check=True, capture_output=True
    ).stdout


def safe_name(repo: str, path: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{repo.split('/')[-1]}__{path}")
    stem = stem.rsplit(".", 1)[0]
    if len(stem) > 120:
        stem = stem[:100] + "_" + hashlib.sha1(stem.encode()).hexdigest()[:12]
    return stem + ".png"


def _work(job: tuple) -> dict:
    """Decode one blob and write its PNG (to a temporary name; kept ones are renamed later)."""
    gd, sha, out_tmp, max_side = job
    try:
        data = cat_blob(Path(gd), sha)
        if data[:40].startswith(b"version https://git-lfs"):
            return {"error": "lfs pointer"}
        img, facts = process_bytes(data, max_side)
        facts["camera"] = camera_of(data)
        pix = hashlib.sha256(img.tobytes()).hexdigest()
        facts["pixel_sha256"] = pix
        facts["dhash"] = f"{dhash64(img):016x}"
        facts["grey_std"] = grey_std(img)
        png = png_bytes(img)
        facts["sha256"] = hashlib.sha256(png).hexdigest()
        facts["png_clean"] = 1
        Path(out_tmp).parent.mkdir(parents=True, exist_ok=True)
        with Path(out_tmp).open("wb") as f:
            f.write(png)
        return facts
    except Exception as e:  # undecodable, truncated, unsupported
        return {"error": f"{type(e).__name__}: {e}"[:200]}


def build(args) -> int:
    mirrors, out = Path(args.mirrors), Path(args.out)
    sources = read_sources(Path(args.sources))
    if not args.reserved or not Path(args.reserved).exists():
        print(
            f"RESERVED.md not found at {args.reserved!r}: refusing to build without it",
            file=sys.stderr,
        )
        return 2
    reserved = parse_reserved(Path(args.reserved).read_text(encoding="utf-8"))
    check_not_reserved(sources, reserved)
    out.mkdir(parents=True, exist_ok=True)
    blobs = out / ".blobs"
    cache_path = out / ".cache.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    settings = f"{PROCESS_VERSION}:{args.max_side}"

    skip = read_skip_list(Path(args.skip_list)) if args.skip_list else set()

    # 1. enumerate candidates in a fixed order
    cands = []  # (source row, path, blob sha)
    per_source = []
    for s in sources:
        gd = git_dir(mirrors, s["repository"])
        if not gd.exists():
            print(f"missing mirror {gd}: source skipped", file=sys.stderr)
            continue
        try:
            tree = ls_tree(gd, s["commit"] or "HEAD")
        except subprocess.CalledProcessError:
            print(f"commit {s['commit']} not in {gd}: source skipped", file=sys.stderr)
            continue
        paths = match_paths(tree, s["pattern"], s["exclude"])
        paths = [p for p in paths if tree[p][1] > 0 and (s["repository"].lower(), p) not in skip]
        paths = spread(paths, int(s["max_images"] or 0))
        per_source.append((s, len(paths)))
        if not paths:
            print(f"no files match {s['repository']} {s['pattern']}", file=sys.stderr)
        for p in paths:
            cands.append((s, p, tree[p][0], str(gd)))

    if args.dry_run:
        for s, n in per_source:
            print(f"{n:5d}  {s['label']:4s} {s['name']:32s} {s['repository']} {s['pattern']}")
        print(f"{len(cands)} candidate files")
        return 0

    # 2. decode what the cache lacks
    todo = []
    for _s, _p, sha, gd in cands:
        key = f"{settings}:{sha}"
        if key in cache and ("error" in cache[key] or (blobs / f"{sha}.png").exists()):
            continue
        todo.append((gd, sha, str(blobs / f"{sha}.png"), args.max_side))
    todo = list({t[1]: t for t in todo}.values())
    print(
        f"{len(cands)} candidate files from {len(sources)} sources; {len(todo)} to decode",
        file=sys.stderr,
    )
    done = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        for job, facts in zip(todo, ex.map(_work, todo, chunksize=4), strict=False):
            cache[f"{settings}:{job[1]}"] = facts
            done += 1
            if done % 200 == 0:
                print(f"  decoded {done}/{len(todo)}", file=sys.stderr)
                cache_path.write_text(json.dumps(cache))
    cache_path.write_text(json.dumps(cache))

    # 2b. cache upgrade: blobs of older builds kept Pillow's img.info (an ICC profile) in the PNG
    fixed = 0
    for _s, _p, sha, _gd in cands:
        f = cache[f"{settings}:{sha}"]
        blob = blobs / f"{sha}.png"
        if "error" in f or f.get("png_clean") or not blob.exists():
            continue
        data = blob.read_bytes()
        if has_png_metadata(data):
            with Image.open(io.BytesIO(data)) as im:
                data = png_bytes(im)
            blob.unlink()  # the pool folder may hold a hard link to the old file
            blob.write_bytes(data)
            f["sha256"] = hashlib.sha256(data).hexdigest()
            fixed += 1
        f["png_clean"] = 1
    if fixed:
        print(f"  {fixed} cached PNGs re-encoded without metadata", file=sys.stderr)
    cache_path.write_text(json.dumps(cache))

    # 3. filter, dedup, write
    items, rows, errors = [], [], Counter()
    for s, p, sha, gd in cands:
        f = cache[f"{settings}:{sha}"]
        if "error" in f:
            errors[(s["repository"], f["error"][:60])] += 1
            continue
        if min(f["width"], f["height"]) < args.min_side:
            errors[(s["repository"], "too small")] += 1
            continue
        if "camera" not in f or not f["camera"].isprintable():  # older cache entries
            f["camera"] = camera_of(cat_blob(Path(gd), sha))
        if s["require"] == "camera_exif" and not f["camera"]:
            errors[(s["repository"], "no camera EXIF (required)")] += 1
            continue
        if "grey_std" not in f:  # cache entries written before the flat-image rule
            with Image.open(blobs / f"{sha}.png") as im:
                f["grey_std"] = grey_std(im)
        if f["grey_std"] < args.min_std:
            errors[(s["repository"], "flat (blank test image)")] += 1
            continue
        items.append((s["label"], int(f["dhash"], 16), f["pixel_sha256"]))
        rows.append((s, p, sha, f))
    cache_path.write_text(json.dumps(cache))
    dev_items = dev_hashes(Path(args.dev_dir), out) if args.dev_dir else []
    n0 = len(dev_items)
    kept_all, dropped_all = dedup([d[:3] for d in dev_items] + items, args.hamming)
    kept = [i - n0 for i in kept_all if i >= n0]
    dropped = {i - n0: j for i, j in dropped_all.items() if i >= n0}  # j < n0: a dev image
    manifest, used = [], set()
    for i in kept:
        s, p, sha, f = rows[i]
        rel = f"{s['label']}/{s['name']}/{safe_name(s['repository'], p)}"
        if rel in used:
            rel = rel[:-4] + f"_{sha[:8]}.png"
        used.add(rel)
        dst = out / rel
        src = blobs / f"{sha}.png"
        if not dst.exists() or not dst.samefile(src):
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.exists():
                dst.unlink()
            os.link(src, dst)
        manifest.append(
            {
                "file": rel,
                "sha256": f["sha256"],
                "pixel_sha256": f["pixel_sha256"],
                "label": s["label"],
                "source": s["name"],
                "generator": s["name"] if s["label"] == "fake" else "",
                "family": s["family"],
                "photoreal": s["photoreal"],
                "year": s["year"],
                "width": f["width"],
                "height": f["height"],
                "orig_width": f["orig_width"],
                "orig_height": f["orig_height"],
                "orig_format": f["orig_format"],
                "resized": f["resized"],
                "repository": s["repository"],
                "commit": s["commit"],
                "path": p,
                "licence": s["licence"],
                "verification": s["verification"],
                "camera": f["camera"],
                "dhash": f["dhash"],
            }
        )
    # remove pool files that are no longer in the manifest
    for lab in ("real", "fake"):
        for fp in (out / lab).rglob("*.png") if (out / lab).exists() else []:
            if str(fp.relative_to(out)) not in used:
                fp.unlink()
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        w.writeheader()
        w.writerows(manifest)
    with (out / "dropped.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["repository", "path", "duplicate_of_repository", "duplicate_of_path"])
        for i, j in sorted(dropped.items()):
            dup = (
                ("dev pool", dev_items[j][3])
                if j < n0
                else (rows[j - n0][0]["repository"], rows[j - n0][1])
            )
            w.writerow([rows[i][0]["repository"], rows[i][1], *dup])
    print(
        f"pool: {len(manifest)} images ({len(dropped)} near-duplicates dropped, "
        f"{sum(errors.values())} skipped)",
        file=sys.stderr,
    )
    for (repo, why), n in sorted(errors.items()):
        print(f"  skipped {n:4d} {repo}: {why}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------------------
# report


def _load_dev(dev_manifest: Path, families: Path) -> list[dict]:
    fam = {}
    if families.exists():
        with Path(families).open(newline="", encoding="utf-8") as f:
            fam = {r["generator"]: r for r in csv.DictReader(f)}
    rows = []
    with Path(dev_manifest).open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            m = fam.get(r["generator"], {})
            rows.append(
                {
                    "label": r["label"],
                    "source": r["generator"],
                    "family": m.get("family", r["generator"]),
                    "year": m.get("year", ""),
                    "photoreal": m.get("photoreal", ""),
                }
            )
    return rows


def report(rows: list[dict], title: str) -> str:
    fakes = [r for r in rows if r["label"] == "fake"]
    reals = [r for r in rows if r["label"] == "real"]
    fam = Counter(r["family"] for r in fakes)
    src = Counter(r["source"] for r in reals)
    fam_year = {}
    for r in fakes:
        fam_year.setdefault(r["family"], r["year"])
        if r["year"]:
            fam_year[r["family"]] = max(fam_year[r["family"]] or "0", r["year"])
    recent = sorted(f for f, y in fam_year.items() if y and y[:4] >= "2024")
    pr = Counter(r["photoreal"] for r in fakes)
    lines = [
        f"## {title}",
        f"images: {len(rows)} (fake {len(fakes)}, real {len(reals)})",
        f"fake generators: {len({r['source'] for r in fakes})}; families: {len(fam)}; "
        f"families released 2024-2026: {len(recent)}",
        f"photoreal fakes: {pr.get('yes', 0)} / {len(fakes)} "
        f"({100 * pr.get('yes', 0) / max(1, len(fakes)):.1f}%)",
        f"real sources: {len(src)}",
    ]
    if fam:
        f0, n0 = fam.most_common(1)[0]
        lines.append(f"largest family: {f0} {n0} ({100 * n0 / len(fakes):.1f}% of fakes)")
    if src:
        s0, m0 = src.most_common(1)[0]
        lines.append(f"largest real source: {s0} {m0} ({100 * m0 / len(reals):.1f}% of reals)")
    lines.append("")
    lines.append("fake families (images, year, photoreal share):")
    for f, n in fam.most_common():
        p = sum(1 for r in fakes if r["family"] == f and r["photoreal"] == "yes")
        lines.append(f"  {n:5d}  {f:32s} {fam_year.get(f, '')!s:6s} {100 * p / n:5.0f}%")
    lines.append("real sources (images, family):")
    rf = {r["source"]: r["family"] for r in reals}
    for s, n in src.most_common():
        lines.append(f"  {n:5d}  {s:32s} {rf[s]}")
    yc = Counter(r["year"] for r in fakes)
    per_year = ", ".join(f"{y or '?'}: {n}" for y, n in sorted(yc.items()))
    lines.append(f"fakes per release year: {per_year}")
    lines.append(f"families released 2024-2026: {', '.join(recent)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sources", default=str(REPO / "data" / "sources.csv"))
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--reserved", default=str(REPO.parent / "shared" / "data" / "RESERVED.md"))
    ap.add_argument("--out", default="/work/pool")
    ap.add_argument("--max-side", type=int, default=2048)
    ap.add_argument("--min-side", type=int, default=128)
    ap.add_argument("--hamming", type=int, default=4)
    ap.add_argument("--min-std", type=float, default=0.5, help="drop blank (constant) images")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--dev-dir",
        default=str(REPO.parent / "shared" / "data" / "dev"),
        help="dev pool folder: pool images that near-duplicate a dev image are dropped ('' = off)",
    )
    ap.add_argument(
        "--skip-list",
        default=str(REPO / "data" / "dev_paths.csv"),
        help="repository,path CSV of files already in the dev pool (not taken again)",
    )
    ap.add_argument("--dry-run", action="store_true", help="list matches per source, write nothing")
    ap.add_argument("--report", action="store_true", help="print counts of an existing pool")
    ap.add_argument("--dev", default="", help="also report pool + dev pool (dev manifest.csv)")
    ap.add_argument("--dev-families", default=str(REPO / "data" / "dev_families.csv"))
    args = ap.parse_args(argv)
    if args.report:
        with (Path(args.out) / "manifest.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        print(report(rows, f"pool {args.out}"))
        if args.dev:
            print()
            print(
                report(rows + _load_dev(Path(args.dev), Path(args.dev_families)), "pool + dev pool")
            )
        return 0
    return build(args)


if __name__ == "__main__":
    sys.exit(main())
