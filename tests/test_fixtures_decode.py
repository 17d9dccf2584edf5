"""Conformance over ``../shared/data/fixtures``: intake decodes what the libraries decode.

Every file in the fixtures manifest that Pillow (with pillow-heif) or rawpy decodes directly must
decode through :func:`load_image` at the same size (width and height swapped when EXIF orientation
says so); files they cannot decode must fail with a typed :class:`InputError`. Skipped when the
shared data is absent.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from reference_decode import reference_size
from synthcheck.errors import InputError
from synthcheck.intake import load_image

pytestmark = pytest.mark.shared

C2PA_JUMBF_TYPE = bytes.fromhex("6332706100110010800000aa00389b71")  # "c2pa" + ISO suffix


def _manifest(root: Path) -> list[dict[str, str]]:
    with (root / "fixtures" / "manifest.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_fixtures_decode_like_the_libraries(shared_data: Path) -> None:
    rows = _manifest(shared_data)
    assert rows, "empty fixtures manifest"
    formats: Counter[str] = Counter()
    problems: list[str] = []
    for row in rows:
        path = shared_data / "fixtures" / row["file"]
        reference = reference_size(path.read_bytes())
        try:
            image = load_image(path)
        except InputError as exc:
            if reference is not None:
                problems.append(f"{row['file']}: libraries decode it, intake says {exc}")
            continue
        formats[image.format] += 1
        got = (image.width, image.height)
        if reference is not None and got not in (reference, reference[::-1]):
            problems.append(f"{row['file']}: intake {got}, libraries {reference}")
        if reference is not None and got == reference[::-1] and got != reference:
            assert image.orientation in (5, 6, 7, 8) or image.format == "HEIF", row["file"]
        assert image.pixels.shape == (image.height, image.width, 3)
    assert not problems, "\n".join(problems)
    # The fixtures cover every container the brief names except camera RAW.
    assert {"JPEG", "PNG", "WEBP", "HEIF", "AVIF", "TIFF"} <= set(formats)


@pytest.mark.slow
def test_fixture_metadata_is_collected(shared_data: Path) -> None:
    rows = _manifest(shared_data)
    c2pa_files = [r for r in rows if r["set"] == "fixtures_c2pa"]
    with_manifest = 0
    for row in c2pa_files:
        path = shared_data / "fixtures" / row["file"]
        data = path.read_bytes()
        image = load_image(path)
        # Oracle: the JUMBF description box type of a C2PA manifest store appears in the bytes.
        assert image.metadata.c2pa == (C2PA_JUMBF_TYPE in data), row["file"]
        if "no_manifest" in row["file"]:
            assert not image.metadata.c2pa
        with_manifest += image.metadata.c2pa
    assert with_manifest >= 10

    comfy = [r for r in rows if r["set"] == "comfyui_examples" and r["file"].endswith(".png")]
    assert comfy
    keys = set()
    for row in comfy:
        keys |= set(load_image(shared_data / "fixtures" / row["file"]).metadata.text)
    assert {"prompt", "workflow"} & keys

    a1111 = [r for r in rows if r["set"] == "sd_cheatsheet"]
    assert a1111
    assert all(load_image(shared_data / "fixtures" / r["file"]).metadata.exif for r in a1111)
