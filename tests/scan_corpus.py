"""A small mixed folder for scan tests: a generated PNG, a camera JPEG, a plain JPEG, junk."""

from __future__ import annotations

from pathlib import Path

from imagegen import exif_bytes, make_jpeg, make_png

A1111 = (
    "a lighthouse at dusk\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model: sd15"
)


def make_corpus(root: Path, *, malformed: bool = True) -> dict[str, Path]:
    """Files under ``root``; keys name what each one is."""
    files = {
        "ai": make_png(root / "gen.png", text={"parameters": A1111}),
        "camera": make_jpeg(root / "cam.jpg", exif=exif_bytes(make="Canon", model="EOS R5")),
        "plain": make_jpeg(root / "sub" / "plain.jpg", seed=3),
    }
    if malformed:
        bad = root / "broken.jpg"
        bad.write_text("this is not a JPEG")
        files["bad"] = bad
    notes = root / "notes.txt"
    notes.write_text("not scanned: no image extension")
    files["notes"] = notes
    return files


def many_images(root: Path, n: int, size: tuple[int, int] = (32, 24)) -> list[Path]:
    """``n`` distinct small PNGs under ``root``."""
    return [make_png(root / f"img{i:05d}.png", size=size, seed=i) for i in range(n)]
