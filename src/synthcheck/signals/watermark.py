"""Invisible watermark: the dwtDct marks that Stable Diffusion and FLUX reference code embed.

Generation scripts that call ``imwatermark.WatermarkEncoder().encode(image, "dwtDct")`` leave a
fixed payload in the chroma of every image they save:

* ``StableDiffusionV1`` (136 bits) - CompVis stable-diffusion ``scripts/txt2img.py`` and
  ``img2img.py``;
* ``SDV2`` (32 bits) - Stability-AI stablediffusion (SD 2.x) scripts and demos;
* the 48-bit SDXL message ``0xB3EC907BB19E`` - Stability generative-models and diffusers'
  ``StableDiffusionXLWatermarker`` (the SDXL pipelines when invisible-watermark is installed);
* the 46-bit message of black-forest-labs/flux (``0b0010...1110``; ``bin()`` drops the two
  leading zeros) - the FLUX.1 reference CLI and demos.

Each payload is decoded from the pixels as stored in the file (EXIF orientation undone) and
compared bit for bit, once per way its embedders call the encoder (a :class:`Reading`): the SD 1/2
scripts pass 8-bit BGR; generative-models and FLUX pass float BGR, whose chroma OpenCV offsets
differently; diffusers passes float RGB where BGR is expected. Reading each the way it was
written recovers clearly more bits than imwatermark's own 8-bit decoder does for float embedders.
The chance probability of at least the observed agreement under a fair-coin null (binomial tail)
is multiplied by the number of comparisons (6, Bonferroni); a hit needs an adjusted probability
below ``alpha`` (1e-6 by default: at least 30/32, 40/46, 42/48 or 98/136 bits).

Even untouched output rarely decodes perfectly: dwtDct marks the largest of 15 LL samples per
block, and on smooth chroma re-quantising it often makes another sample the largest, so single
block votes are noisy and the per-bit majority typically recovers 85-100% of the bits.
A hit is decisive evidence of those generators. A miss is no evidence at all: most generators do
not use this mark, many users disable it, and resizing, cropping, screenshots or strong JPEG
compression erase it.

Large images are first read in a sample: evenly spaced strips of block rows, about
``sample_blocks`` blocks in all (the block area of a 4-megapixel image). Every strip carries every
payload bit, so a mark laid over the whole image, the only way one survives (a crop from the top
or left, a resize or pasting into another image moves the block grid), shows in the sample with
thousands of votes per bit. Whenever the sample leaves any doubt (an adjusted chance probability
below ``ESCALATE_P``, which a tenth of unmarked images reach by chance), the whole image is read
and that reading decides. Generated images of up to 4 megapixels are always read whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

from synthcheck.errors import ConfigError
from synthcheck.intake.image import LoadedImage
from synthcheck.results import Evidence, SignalResult
from synthcheck.signals._dwtdct import MIN_PIXELS, BlockVotes, majority_bits, read_votes
from synthcheck.signals.base import Signal
from synthcheck.signals.registry import register_signal

#: JPEGs saved at this IJG quality or lower are not decoded: no mark survived q90 in any measured
#: case (0/32 across the four payloads) while q95 kept 31/32. IJG-made files are estimated
#: exactly; camera tables map to the nearest IJG quality (cameras embed no SD watermark).
MAX_DESTRUCTIVE_JPEG_QUALITY = 90

#: Blocks read first in a large image (4 x 4 LL blocks, 64 pixels each: 4.2 megapixels).
SAMPLE_BLOCKS = 65_536
#: A sampled reading this close to a hit (Bonferroni-adjusted chance probability) reads the whole
#: image. Under no mark 6 tests reach it about 10% of the time; a mark that the whole image would
#: show at the hit level shows far below it in a sample of a third of the blocks or more.
ESCALATE_P = 0.1

__all__ = [
    "ESCALATE_P",
    "PAYLOADS",
    "SAMPLE_BLOCKS",
    "InvisibleWatermarkSignal",
    "Reading",
    "WatermarkPayload",
    "stored_pixels",
]


@dataclass(frozen=True)
class Reading:
    """How an embedder handed pixels to the encoder, hence how to read them back.

    ``swap_rb``: an RGB array was passed where BGR was expected (diffusers). ``float_path``: the
    encoder got float arrays, whose chroma OpenCV offsets by 0.5 instead of 128.
    """

    swap_rb: bool = False
    float_path: bool = False

    @property
    def words(self) -> str:
        order = "RGB passed as BGR" if self.swap_rb else "BGR"
        return f"{order}, {'float' if self.float_path else '8-bit'} pipeline"


@dataclass(frozen=True)
class WatermarkPayload:
    """One known dwtDct payload: a short key, who embeds it, its bits, and how to read it."""

    key: str
    label: str
    bits: tuple[int, ...]
    readings: tuple[Reading, ...]

    @classmethod
    def from_bytes(
        cls, key: str, label: str, content: bytes, readings: tuple[Reading, ...]
    ) -> WatermarkPayload:
        """A payload set with ``WatermarkEncoder.set_watermark("bytes", content)``."""
        bits = np.unpackbits(np.frombuffer(content, dtype=np.uint8))
        return cls(key, label, tuple(int(b) for b in bits), readings)

    @classmethod
    def from_int(
        cls, key: str, label: str, message: int, readings: tuple[Reading, ...]
    ) -> WatermarkPayload:
        """A payload set with ``set_watermark("bits", [int(b) for b in bin(message)[2:]])``."""
        return cls(key, label, tuple(int(b) for b in bin(message)[2:]), readings)


_UINT8 = Reading()
_FLOAT = Reading(float_path=True)
_FLOAT_RGB = Reading(swap_rb=True, float_path=True)

PAYLOADS: tuple[WatermarkPayload, ...] = (
    WatermarkPayload.from_bytes(
        "sd-v1",
        "Stable Diffusion v1 reference scripts (CompVis)",
        b"StableDiffusionV1",
        (_UINT8,),
    ),
    WatermarkPayload.from_bytes(
        "sd-2", "Stable Diffusion 2 reference scripts (Stability AI)", b"SDV2", (_UINT8,)
    ),
    WatermarkPayload.from_int(
        "sdxl",
        "SDXL (Stability AI generative-models, diffusers SDXL pipelines)",
        0b101100111110110010010000011110111011000110011110,
        (_FLOAT_RGB, _FLOAT, _UINT8),
    ),
    WatermarkPayload.from_int(
        "flux",
        "FLUX.1 reference code (Black Forest Labs)",
        0b001010101111111010000111100111001111010100101110,
        (_FLOAT,),
    ),
)
_N_TESTS = sum(len(p.readings) for p in PAYLOADS)
_HIT_SCORE = 0.99


def stored_pixels(pixels: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """Undo EXIF ``orientation`` (1-8) that intake applied, giving the pixels as stored."""
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1]
    if orientation == 5:
        return pixels.transpose(1, 0, 2)
    if orientation == 6:
        return np.rot90(pixels, 1)
    if orientation == 7:
        return pixels[::-1, ::-1].transpose(1, 0, 2)
    if orientation == 8:
        return np.rot90(pixels, -1)
    return pixels


@dataclass(frozen=True)
class _Match:
    payload: WatermarkPayload
    reading: Reading
    matches: int
    p_chance: float
    p_adjusted: float

    @property
    def length(self) -> int:
        return len(self.payload.bits)

    @property
    def agreement(self) -> float:
        return self.matches / self.length

    def to_dict(self) -> dict[str, object]:
        return {
            "payload": self.payload.key,
            "reading": self.reading.words,
            "matching_bits": self.matches,
            "bits": self.length,
            "agreement": round(self.agreement, 4),
            "p_chance": float(f"{self.p_chance:.3g}"),
            "p_adjusted": float(f"{self.p_adjusted:.3g}"),
        }


def _chance(matches: int, length: int) -> float:
    """P(at least ``matches`` of ``length`` fair coin flips agree)."""
    return float(binom.sf(matches - 1, length, 0.5))


def _compare(payload: WatermarkPayload, reading: Reading, votes: BlockVotes) -> _Match:
    expected = np.asarray(payload.bits, dtype=np.uint8)
    agree = int(np.count_nonzero(majority_bits(votes, expected.size) == expected))
    p = _chance(agree, expected.size)
    return _Match(payload, reading, agree, p, min(1.0, p * _N_TESTS))


def _read_all(
    pixels: NDArray[np.uint8], sample_blocks: int | None
) -> tuple[list[_Match], BlockVotes]:
    """Every payload compared under each of its readings, all readings taken in one pass."""
    readings = tuple(dict.fromkeys(r for p in PAYLOADS for r in p.readings))
    read = read_votes(
        pixels, tuple((r.swap_rb, r.float_path) for r in readings), max_blocks=sample_blocks
    )
    votes = dict(zip(readings, read, strict=True))
    matches = [_compare(p, r, votes[r]) for p in PAYLOADS for r in p.readings]
    return matches, read[0]


@register_signal
class InvisibleWatermarkSignal(Signal):
    """Decodes the invisible-watermark dwtDct payloads of SD v1, SD 2, SDXL and FLUX.1 code.

    Parameters
    ----------
    alpha:
        Largest Bonferroni-adjusted chance probability that still counts as a hit, in (0, 1).
        The default 1e-6 never fired on real photos in our measurements (see
        ``benchmarks/bench_watermark.py``).
    sample_blocks:
        Blocks read first in a larger image (see the module docstring), at least 4096; None reads
        every block of every image.
    """

    name = "invisible-watermark"
    description = (
        "Decodes the invisible-watermark (dwtDct) payloads that Stable Diffusion v1/2, SDXL and "
        "FLUX.1 reference code embed; a hit is decisive, a miss is no evidence."
    )
    kind = "provenance"

    def __init__(self, *, alpha: float = 1e-6, sample_blocks: int | None = SAMPLE_BLOCKS) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise ConfigError(f"alpha must be a number in (0, 1), got {type(alpha).__name__}")
        if not 0.0 < float(alpha) < 1.0 or math.isnan(alpha):
            raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
        if sample_blocks is not None and (
            isinstance(sample_blocks, bool)
            or not isinstance(sample_blocks, int)
            or sample_blocks < 4096
        ):
            raise ConfigError(
                f"sample_blocks must be an integer of at least 4096 or None, got {sample_blocks!r}"
            )
        self.alpha = float(alpha)
        self.sample_blocks = sample_blocks

    def analyze(self, image: LoadedImage) -> SignalResult:
        pixels = stored_pixels(image.pixels, image.orientation)
        height, width = pixels.shape[:2]
        if height * width < MIN_PIXELS:
            return self.none(
                f"image too small for an invisible watermark ({width}x{height}; dwtDct needs at "
                f"least {MIN_PIXELS} pixels, e.g. 256x256)"
            )
        if image.format == "JPEG":
            quality = image.metadata.jpeg_quality  # intake read it from the file's tables
            if quality is not None and quality <= MAX_DESTRUCTIVE_JPEG_QUALITY:
                return self.none(
                    f"not decoded: the file is a JPEG of quality about {quality:.0f}, and "
                    "dwtDct watermarks do not survive compression at 90 or below"
                )
        matches, read = _read_all(pixels, self.sample_blocks)
        if not read.complete and min(m.p_adjusted for m in matches) < ESCALATE_P:
            matches, read = _read_all(pixels, None)
        best = min(matches, key=lambda m: (m.p_adjusted, -m.agreement))
        total = read.rows * read.cols
        details: dict[str, object] = {
            "matches": [m.to_dict() for m in matches],
            "blocks_read": len(read),
            "blocks": total,
        }
        coverage = (
            ""
            if read.complete
            else f"; read {len(read):,} of {total:,} blocks in evenly spaced strips"
        )
        if best.p_adjusted < self.alpha:
            return self.result(
                "ai",
                _HIT_SCORE,
                f"invisible watermark of {best.payload.label}: {best.matches}/{best.length} bits "
                f"match (chance {best.p_chance:.1e})",
                [self._evidence(best)],
                decisive=True,
                details=details,
            )
        return self.result(
            "none",
            0.5,
            "no known invisible watermark (best: "
            f"{best.payload.key} {best.matches}/{best.length} bits, chance {best.p_chance:.2g}"
            f"{coverage}); a resized, cropped or recompressed image loses it",
            details=details,
        )

    @staticmethod
    def _evidence(match: _Match) -> Evidence:
        return Evidence(
            message=(
                f"dwtDct watermark payload '{match.payload.key}' ({match.payload.label}) found: "
                f"{match.matches} of {match.length} bits agree ({match.agreement:.0%}, read as "
                f"{match.reading.words}); chance probability {match.p_chance:.1e}"
            ),
            field="invisible-watermark",
            value=match.to_dict(),
        )
