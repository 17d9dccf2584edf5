"""Pure functions of scripts/build_pool.py: reserved refusal, resize rule, near-duplicate filter.

Uses generated images only; needs neither ../shared nor git mirrors.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from repo_scripts import load_script

bp = load_script("build_pool")

RESERVED_MD = """# Reserved sources
Some text naming owner/name in prose is not an entry.

- Example-Lab/sample_workflows
- SomeOne/photo-sample-images  *(partly in shared)*
- Model-Org/ImageModel-3.0
- Low-Light/Enhance
"""


def _noise(seed: int, w: int = 96, h: int = 64) -> Image.Image:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, size=(h // 8, w // 8, 3), dtype=np.uint8)
    return Image.fromarray(a).resize((w, h), Image.Resampling.BILINEAR)


def test_parse_reserved_and_case_insensitive_refusal() -> None:
    res = bp.parse_reserved(RESERVED_MD)
    assert res == {
        "example-lab/sample_workflows",
        "someone/photo-sample-images",
        "model-org/imagemodel-3.0",
        "low-light/enhance",
    }
    assert bp.is_reserved("example-lab/Sample_Workflows", res)
    assert bp.is_reserved("SOMEONE/photo-sample-images/", res)
    assert not bp.is_reserved("Model-Org/ImageModel-2.1", res)
    # A sibling that extends a reserved name carries its data; another owner's repo does not.
    assert bp.is_reserved("Low-Light/Enhance_extension", res)
    assert bp.is_reserved("low-light/enhance++", res)
    assert not bp.is_reserved("Low-Light/Enhancements", res)
    assert not bp.is_reserved("other/enhance_extension", res)
    ok = [{"repository": "black-forest-labs/flux"}]
    bp.check_not_reserved(ok, res)
    with pytest.raises(bp.ReservedSourceError, match=r"(?i)photo-sample-images"):
        bp.check_not_reserved([*ok, {"repository": "someOne/PHOTO-sample-images"}], res)


def test_committed_sources_name_no_reserved_repository() -> None:
    reserved_md = Path(__file__).resolve().parents[2] / "shared" / "data" / "RESERVED.md"
    if not reserved_md.is_file():
        pytest.skip("needs ../shared/data/RESERVED.md")
    res = bp.parse_reserved(reserved_md.read_text(encoding="utf-8"))
    data = Path(__file__).resolve().parents[1] / "data"
    for name in ("sources.csv", "dev_paths.csv"):
        with (data / name).open(newline="", encoding="utf-8") as fh:
            named = {row["repository"] for row in csv.DictReader(fh)}
        assert not [r for r in named if bp.is_reserved(r, res)], name


def test_resize_rule_never_upscales() -> None:
    assert bp.target_size(640, 480) == (640, 480)
    assert bp.target_size(2048, 1000) == (2048, 1000)
    assert bp.target_size(4096, 3072) == (2048, 1536)
    assert bp.target_size(3000, 6000) == (1024, 2048)
    assert bp.target_size(100, 50, max_side=64) == (64, 32)
    img, facts = bp.process_bytes(_png(_noise(1, 300, 200)), max_side=128)
    assert img.size == (128, 85) and facts["resized"] == 1
    img, facts = bp.process_bytes(_png(_noise(1, 300, 200)), max_side=2048)
    assert img.size == (300, 200) and facts["resized"] == 0


def _png(img: Image.Image, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def test_exif_orientation_and_metadata_stripped() -> None:
    img = _noise(2, 120, 80)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    exif[0x010F] = "TestCam"
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    out, facts = bp.process_bytes(buf.getvalue(), 2048)
    assert out.size == (80, 120) and facts["orig_width"] == 80
    png = bp.png_bytes(out)
    back = Image.open(io.BytesIO(png))
    assert not back.getexif() and "icc_profile" not in back.info and "exif" not in back.info


def test_dhash_dedup_near_duplicates_per_label() -> None:
    a = _noise(3)
    a_jpeg = Image.open(io.BytesIO(_jpeg(a, 70)))
    b = _noise(4)
    ha, ha2, hb = bp.dhash64(a), bp.dhash64(a_jpeg), bp.dhash64(b)
    assert bp.hamming(ha, ha2) <= 4 < bp.hamming(ha, hb)
    items = [
        ("real", ha, "p1"),
        ("real", ha2, "p2"),
        ("real", hb, "p3"),
        ("fake", ha2, "p4"),  # same look, other label: kept (an edit next to its photo)
        ("fake", hb, "p3"),
    ]  # pixel-identical to a kept image: dropped whatever the label
    kept, dropped = bp.dedup(items, threshold=4)
    assert kept == [0, 2, 3]
    assert dropped == {1: 0, 4: 2}


def _jpeg(img: Image.Image, q: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=q)
    return buf.getvalue()


def test_match_paths_and_spread_deterministic() -> None:
    paths = ["a/1.png", "a/2.JPG", "a/x.txt", "b/3.webp", "a/sub/4.png"]
    assert bp.match_paths(paths, "a/*") == ["a/1.png", "a/2.JPG", "a/sub/4.png"]
    assert bp.match_paths(paths, "a/*;b/*", exclude="a/sub/*") == ["a/1.png", "a/2.JPG", "b/3.webp"]
    assert bp.spread(list(range(10)), 3) == [0, 3, 6]
    assert bp.spread(list(range(3)), 0) == [0, 1, 2]


def test_alpha_flattened_and_16bit() -> None:
    rgba = Image.new("RGBA", (200, 150), (0, 0, 0, 0))
    out, _ = bp.process_bytes(_png(rgba), 2048)
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255)
    a16 = np.arange(200 * 150, dtype=np.uint16).reshape(150, 200) * 2
    out, _ = bp.process_bytes(_png(Image.fromarray(a16)), 2048)
    assert out.mode == "RGB" and out.size == (200, 150)


def test_grey_std_flags_blank_images() -> None:
    assert bp.grey_std(Image.new("RGB", (300, 200), (128, 128, 128))) < 1
    assert bp.grey_std(_noise(5, 300, 200)) > 10


def test_camera_of_reads_make_and_model() -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestMake"
    exif[0x0110] = "Model 1"
    buf = io.BytesIO()
    _noise(6).save(buf, format="JPEG", exif=exif.tobytes())
    assert bp.camera_of(buf.getvalue()) == "TestMake Model 1"
    assert bp.camera_of(_png(_noise(6))) == ""


def test_icc_converted_png_is_metadata_free_and_deterministic() -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    _noise(7, 160, 120).save(buf, format="JPEG", quality=95, icc_profile=icc)
    a = bp.png_bytes(bp.process_bytes(buf.getvalue(), 2048)[0])
    b = bp.png_bytes(bp.process_bytes(buf.getvalue(), 2048)[0])
    assert a == b
    assert not bp.has_png_metadata(a)
    assert bp.has_png_metadata(_png(_noise(7), pnginfo=_text_chunk()))


def _text_chunk() -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a prompt")
    return info
