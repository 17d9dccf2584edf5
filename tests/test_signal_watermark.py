"""The invisible-watermark signal: dwtDct payloads embedded at test time by a numpy port of the
encoder (``tests/_dwtdct_encoder.py``), decoded from files, and checked against imwatermark itself
when that package is importable (it is never a dependency of synthcheck)."""

from __future__ import annotations

import importlib.util
import io
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import pywt
from numpy.typing import NDArray
from PIL import Image
from scipy.ndimage import gaussian_filter

from _dwtdct_encoder import bits_of_bytes, embed_float, embed_uint8, encode_bgr_uint8
from synthcheck.errors import ConfigError
from synthcheck.intake import load_image
from synthcheck.intake.image import LoadedImage
from synthcheck.results import SignalResult
from synthcheck.signals import create_signal, list_signals
from synthcheck.signals._dwtdct import (
    BlockVotes,
    block_votes,
    haar_ll,
    majority_bits,
    read_votes,
    u_channel,
    u_channel_float,
)
from synthcheck.signals.watermark import PAYLOADS, InvisibleWatermarkSignal, stored_pixels

PAYLOAD = {p.key: list(p.bits) for p in PAYLOADS}


def texture(size: tuple[int, int] = (512, 512), seed: int = 0) -> NDArray[np.uint8]:
    """A deterministic, photo-like image: smooth colour fields plus fine grain."""
    rng = np.random.default_rng(seed)
    h, w = size
    smooth = gaussian_filter(rng.normal(0.0, 1.0, (h, w, 3)), sigma=(12, 12, 0))
    smooth = (smooth - smooth.mean()) / (smooth.std() + 1e-9)
    grain = rng.normal(0.0, 6.0, (h, w, 3))
    pixels: NDArray[np.uint8] = np.clip(128 + 45 * smooth + grain, 0, 255).astype(np.uint8)
    return pixels


def save(pixels: NDArray[np.uint8], path: Path, **params: Any) -> Path:
    Image.fromarray(pixels).save(path, **params)
    return path


def analyze(path: Path) -> SignalResult:
    return create_signal("invisible-watermark").analyze(load_image(path))


def match_of(result: SignalResult, key: str) -> dict[str, Any]:
    """The best reading of payload ``key``."""
    rows = [m for m in result.details["matches"] if m["payload"] == key]
    return max(rows, key=lambda m: m["agreement"])


# --- decoder internals -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(8, 8), (64, 130), (258, 512)])
def test_haar_ll_is_bit_identical_to_pywavelets(shape: tuple[int, int]) -> None:
    plane = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    expected, _ = pywt.dwt2(plane, "haar")
    assert np.array_equal(haar_ll(plane), expected)


def test_u_channel_follows_the_bt601_yuv_formula() -> None:
    rgb = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    r, g, b = (rgb[..., i].astype(float) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    assert np.abs(u_channel(rgb).astype(float) - (0.492 * (b - y) + 128)).max() <= 1.0
    swapped = 0.299 * b + 0.587 * g + 0.114 * r
    expected = 0.492 * (r - swapped) + 128
    assert np.abs(u_channel(rgb, swap_rb=True).astype(float) - expected).max() <= 1.0


def reference_votes(rgb: NDArray[np.uint8]) -> list[int]:
    """imwatermark's ``decode_frame`` / ``infer_dct_matrix`` loop, transcribed literally."""
    u = u_channel(rgb)
    rows, cols = u.shape[0] // 4 * 4, u.shape[1] // 4 * 4
    ca, _ = pywt.dwt2(u[:rows, :cols], "haar")
    votes = []
    for i in range(ca.shape[0] // 4):
        for j in range(ca.shape[1] // 4):
            block = ca[i * 4 : i * 4 + 4, j * 4 : j * 4 + 4]
            pos = int(np.argmax(abs(block.flatten()[1:]))) + 1
            val = abs(block[pos // 4][pos % 4])
            votes.append(int((val % 36) > 0.5 * 36))
    return votes


@pytest.mark.parametrize("shape", [(256, 256), (601, 333)])  # 601 rows: several strips
def test_block_votes_match_the_reference_loop(shape: tuple[int, int]) -> None:
    rgb = embed_uint8(texture(shape, seed=5), PAYLOAD["sdxl"])
    assert block_votes(rgb).votes.tolist() == reference_votes(rgb)


def test_float_readings_share_channel_sums_but_match_the_float_u_plane() -> None:
    rgb = texture((264, 328), seed=5)
    for swap_rb in (False, True):
        plane_ll = haar_ll(u_channel_float(rgb, swap_rb=swap_rb))
        fast = block_votes(rgb, swap_rb=swap_rb, float_path=True)
        n_rows, n_cols = fast.rows, fast.cols
        blocks = plane_ll[: 4 * n_rows, : 4 * n_cols].reshape(n_rows, 4, n_cols, 4)
        peak = np.abs(blocks.transpose(0, 2, 1, 3).reshape(-1, 16)[:, 1:]).max(axis=1)
        expected = (np.remainder(peak, 36.0) > 18.0).astype(np.uint8)
        assert np.array_equal(fast.votes, expected)


def test_a_sampled_reading_is_the_whole_reading_at_the_sampled_blocks() -> None:
    rgb = texture((1024, 520), seed=6)  # 128 x 65 blocks
    readings = ((False, False), (True, True), (False, True))
    whole = read_votes(rgb, readings)
    sampled = read_votes(rgb, readings, max_blocks=2000)
    for full, part in zip(whole, sampled, strict=True):
        assert full.complete and not part.complete
        assert part.index is not None
        assert 2000 <= len(part) < 0.5 * len(full)
        assert np.array_equal(part.votes, full.votes[part.index])
        # Evenly spaced whole rows of blocks: the first strip starts at the top, the rest spread.
        rows = np.unique(part.index // full.cols)
        assert rows[0] == 0 and rows[-1] > 0.5 * full.rows
    # An image of fewer blocks than max_blocks is read whole.
    assert read_votes(rgb, readings[:1], max_blocks=10**6)[0].complete


def test_majority_bits_of_a_sample_use_the_block_numbers() -> None:
    votes = BlockVotes(
        votes=np.array([1, 1, 0], dtype=np.uint8), rows=2, cols=4, index=np.array([1, 5, 6])
    )
    assert majority_bits(votes, 4).tolist() == [0, 1, 0, 0]


def test_majority_bits_ties_give_one_and_empty_slots_zero() -> None:
    votes = BlockVotes(votes=np.array([1, 0, 1, 0, 0, 0, 1], dtype=np.uint8), rows=1, cols=7)
    # slot 0 <- blocks 0, 4 (1, 0): a tie, 0.5 * 255 > 127 -> 1; slot 1 <- 1, 5 (0, 0) -> 0;
    # slot 2 <- 2, 6 (1, 1) -> 1; slot 3 <- 3 (0) -> 0
    assert majority_bits(votes, 4).tolist() == [1, 0, 1, 0]
    assert majority_bits(votes, 8).tolist() == [1, 0, 1, 0, 0, 0, 1, 0]
    with pytest.raises(ValueError, match="positive"):
        majority_bits(votes, 0)


def test_payload_constants() -> None:
    assert PAYLOAD["sd-v1"] == bits_of_bytes(b"StableDiffusionV1") and len(PAYLOAD["sd-v1"]) == 136
    assert PAYLOAD["sd-2"] == bits_of_bytes(b"SDV2")
    sdxl = "".join(map(str, PAYLOAD["sdxl"]))
    assert len(sdxl) == 48 and int(sdxl, 2) == 0xB3EC907BB19E
    # FLUX's message starts with two zero bits that bin() drops: 46 bits are embedded.
    assert len(PAYLOAD["flux"]) == 46 and PAYLOAD["flux"][:4] == [1, 0, 1, 0]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_pixels_undoes_pillow_exif_transpose(orientation: int) -> None:
    stored = np.random.default_rng(orientation).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", exif=exif)
    from PIL import ImageOps

    shown = np.asarray(ImageOps.exif_transpose(Image.open(buffer)))
    assert np.array_equal(stored_pixels(shown, orientation), stored)


# --- the signal -------------------------------------------------------------------------------


def test_registered() -> None:
    assert "invisible-watermark" in list_signals(kind="provenance")


@pytest.mark.parametrize("key", ["sd-v1", "sd-2", "sdxl", "flux"])
def test_uint8_embedding_is_found_after_png_round_trip(key: str, tmp_path: Path) -> None:
    marked = embed_uint8(texture(seed=11), PAYLOAD[key])
    result = analyze(save(marked, tmp_path / "marked.png"))
    assert result.verdict == "ai" and result.decisive and result.score > 0.95
    evidence = result.evidence[0]
    assert evidence.value["payload"] == key and evidence.value["agreement"] >= 0.85
    label = next(p.label for p in PAYLOADS if p.key == key)
    assert label in result.summary and label in evidence.message


def test_diffusers_rgb_as_bgr_embedding_is_found(tmp_path: Path) -> None:
    marked = embed_float(texture(seed=12), PAYLOAD["sdxl"], rgb_as_bgr=True)
    result = analyze(save(marked, tmp_path / "sdxl.png"))
    assert result.verdict == "ai" and result.decisive
    assert result.evidence[0].value["payload"] == "sdxl"
    assert result.evidence[0].value["reading"] == "RGB passed as BGR, float pipeline"
    assert result.evidence[0].value["agreement"] >= 0.9


def test_float_bgr_embedding_is_found(tmp_path: Path) -> None:
    marked = embed_float(texture(seed=13), PAYLOAD["flux"], rgb_as_bgr=False)
    result = analyze(save(marked, tmp_path / "flux.png"))
    assert result.verdict == "ai" and result.evidence[0].value["payload"] == "flux"


def test_other_payloads_are_not_reported_for_a_marked_image(tmp_path: Path) -> None:
    result = analyze(save(embed_uint8(texture(seed=14), PAYLOAD["sdxl"]), tmp_path / "m.png"))
    assert result.evidence[0].value["payload"] == "sdxl"
    for key in ("sd-v1", "sd-2", "flux"):
        assert match_of(result, key)["p_adjusted"] > 1e-4


def test_an_unknown_payload_is_no_evidence(tmp_path: Path) -> None:
    other = [int(b) for b in np.random.default_rng(99).integers(0, 2, 48)]
    result = analyze(save(embed_uint8(texture(seed=15), other), tmp_path / "other.png"))
    assert result.verdict == "none" and result.score == 0.5 and not result.decisive


@pytest.mark.parametrize("seed", range(4))
def test_unmarked_images_give_none(seed: int, tmp_path: Path) -> None:
    result = analyze(save(texture(seed=20 + seed), tmp_path / "plain.png"))
    assert result.verdict == "none" and result.score == 0.5 and not result.decisive
    assert min(m["p_adjusted"] for m in result.details["matches"]) > 1e-4
    assert "no known invisible watermark" in result.summary


def test_flat_image_gives_none(tmp_path: Path) -> None:
    result = analyze(save(np.full((300, 300, 3), 200, np.uint8), tmp_path / "flat.png"))
    assert result.verdict == "none"


def test_small_image_gives_none_with_a_clear_summary(tmp_path: Path) -> None:
    result = analyze(save(texture((200, 255)), tmp_path / "small.png"))
    assert (
        result.verdict == "none" and "too small" in result.summary and "255x200" in result.summary
    )


def test_survives_jpeg_quality_95(tmp_path: Path) -> None:
    marked = embed_uint8(texture(seed=16), PAYLOAD["sd-v1"])
    result = analyze(save(marked, tmp_path / "q95.jpg", quality=95))
    assert result.verdict == "ai" and result.evidence[0].value["payload"] == "sd-v1"


@pytest.mark.parametrize("quality", [50, 75, 90])
def test_low_quality_jpeg_is_not_decoded_and_says_why(tmp_path: Path, quality: int) -> None:
    marked = embed_uint8(texture(seed=19), PAYLOAD["sd-v1"])
    result = analyze(save(marked, tmp_path / f"q{quality}.jpg", quality=quality))
    assert result.verdict == "none"
    assert f"quality about {quality}" in result.summary and "not decoded" in result.summary


def test_the_jpeg_quality_comes_from_intake_not_a_second_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from synthcheck.intake.jpeg_quality import estimate_jpeg_quality

    marked = embed_uint8(texture(seed=19), PAYLOAD["sd-v1"])
    image = load_image(save(marked, tmp_path / "q75.jpg", quality=75))
    assert image.metadata.jpeg_quality == estimate_jpeg_quality(image.data) == 75.0

    def no_open(*args: object, **kwargs: object) -> object:
        raise AssertionError("the signal parsed the file again")

    monkeypatch.setattr(Image, "open", no_open)
    result = create_signal("invisible-watermark").analyze(dataclasses.replace(image, data=b""))
    assert result.verdict == "none" and "quality about 75" in result.summary


def test_resizing_launders_the_mark(tmp_path: Path) -> None:
    marked = Image.fromarray(embed_uint8(texture(seed=17), PAYLOAD["sdxl"]))
    half = marked.resize((256, 256), Image.Resampling.BICUBIC)
    result = analyze(save(np.asarray(half), tmp_path / "half.png"))
    assert result.verdict == "none"


def test_exif_orientation_is_undone_before_decoding(tmp_path: Path) -> None:
    marked = embed_uint8(texture((512, 384), seed=18), PAYLOAD["sd-v1"])
    image = Image.fromarray(marked)
    exif = image.getexif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.png"
    image.save(path, exif=exif)
    loaded = load_image(path)
    assert loaded.orientation == 6 and loaded.pixels.shape[:2] == (384, 512)
    assert create_signal("invisible-watermark").analyze(loaded).verdict == "ai"


def test_a_provenance_only_scan_calls_a_marked_file_ai(tmp_path: Path) -> None:
    from synthcheck.engine import Detector

    path = save(embed_uint8(texture(seed=22), PAYLOAD["sd-v1"]), tmp_path / "sd.png")
    result = Detector().scan_file(path)
    assert result.verdict == "ai"
    assert any(s.name == "invisible-watermark" and s.verdict == "ai" for s in result.signals)


def test_works_on_a_loaded_image_without_a_file() -> None:
    pixels = embed_uint8(texture((320, 480), seed=19), PAYLOAD["sd-2"])
    image = LoadedImage(path="mem", data=b"", format="PNG", pixels=pixels, sha256="")
    assert InvisibleWatermarkSignal().analyze(image).verdict == "ai"


@pytest.mark.parametrize("alpha", [0, 1, -0.1, math.nan, "0.01", True, None])
def test_alpha_is_validated(alpha: Any) -> None:
    with pytest.raises(ConfigError, match="alpha"):
        InvisibleWatermarkSignal(alpha=alpha)


@pytest.mark.parametrize("sample_blocks", [0, 4095, 1.5e5, "65536", True])
def test_sample_blocks_is_validated(sample_blocks: Any) -> None:
    with pytest.raises(ConfigError, match="sample_blocks"):
        InvisibleWatermarkSignal(sample_blocks=sample_blocks)


def test_a_large_unmarked_image_is_read_in_a_sample_and_says_so() -> None:
    image = LoadedImage(
        path="big.png", data=b"", format="PNG", pixels=texture((1024, 1024), seed=7), sha256=""
    )
    result = InvisibleWatermarkSignal(sample_blocks=4096).analyze(image)
    assert result.verdict == "none"
    assert 4096 <= result.details["blocks_read"] < result.details["blocks"] == 128 * 128
    assert f"read {result.details['blocks_read']:,} of 16,384 blocks" in result.summary
    whole = InvisibleWatermarkSignal(sample_blocks=None).analyze(image)
    assert whole.details["blocks_read"] == whole.details["blocks"]
    assert "blocks" not in whole.summary


@pytest.mark.parametrize("key", ["sd-v1", "flux"])
def test_a_large_marked_image_is_found_and_decided_on_every_block(key: str) -> None:
    payload = next(p for p in PAYLOADS if p.key == key)
    rgb = texture((1024, 1024), seed=8)
    marked = (
        embed_float(rgb, PAYLOAD[key], rgb_as_bgr=False)
        if payload.readings[0].float_path
        else embed_uint8(rgb, PAYLOAD[key])
    )
    image = LoadedImage(path="m.png", data=b"", format="PNG", pixels=marked, sha256="")
    result = InvisibleWatermarkSignal(sample_blocks=4096).analyze(image)
    assert result.verdict == "ai" and result.decisive
    assert payload.label in result.summary
    # A sample this close to a hit escalates: the verdict comes from reading every block.
    assert result.details["blocks_read"] == result.details["blocks"]


def test_a_stricter_alpha_rejects_a_partial_match(tmp_path: Path) -> None:
    marked = embed_uint8(texture(seed=21), PAYLOAD["sd-2"])
    image = load_image(save(marked, tmp_path / "m.png"))
    assert InvisibleWatermarkSignal(alpha=1e-300).analyze(image).verdict == "none"


# --- cross-check against invisible-watermark itself (skipped unless importable) --------------


def _imwatermark_maxdct() -> ModuleType:
    """``imwatermark/maxDct.py`` loaded on its own: the package __init__ imports torch."""
    pytest.importorskip("cv2")
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("invisible-watermark is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "maxDct.py"
    module_spec = importlib.util.spec_from_file_location("_imwatermark_maxdct", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("key", ["sd-v1", "sdxl"])
def test_cross_check_with_imwatermark(key: str) -> None:
    maxdct = _imwatermark_maxdct()
    bits = PAYLOAD[key]
    bgr = np.ascontiguousarray(texture((300, 420), seed=30)[..., ::-1])
    reference = maxdct.EmbedMaxDct(list(bits), wmLen=len(bits)).encode(bgr.copy())
    assert np.array_equal(encode_bgr_uint8(bgr.copy(), bits), reference)
    decoder = maxdct.EmbedMaxDct(watermarks=[], wmLen=len(bits))
    for image in (reference, bgr):
        rgb = np.ascontiguousarray(image[..., ::-1])
        expected = np.asarray(decoder.decode(image), dtype=np.uint8)
        assert np.array_equal(majority_bits(block_votes(rgb), len(bits)), expected)


def test_cross_check_float_embedding_with_imwatermark() -> None:
    maxdct = _imwatermark_maxdct()
    bits = PAYLOAD["sdxl"]
    rgb = texture((300, 420), seed=31)
    # diffusers: the float RGB array goes in as if it were BGR.
    reference = maxdct.EmbedMaxDct(list(bits), wmLen=len(bits)).encode(rgb.astype(np.float32))
    expected = np.clip(np.round(reference), 0, 255).astype(np.uint8)
    mine = embed_float(rgb, bits, rgb_as_bgr=True)
    # OpenCV's float colour conversion differs from numpy's in the last float32 bits, which can
    # move a value across a rounding boundary.
    assert np.abs(mine.astype(int) - expected).max() <= 1
    assert np.mean(mine != expected) < 1e-3
