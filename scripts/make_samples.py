"""Make the small sample images that the README's first command scans.

    python scripts/make_samples.py samples
    synthcheck scan samples

Every image is drawn procedurally by this script (a landscape-like scene from gradients, sine
hills and seeded noise), so the samples are original works of this repository, dedicated to the
public domain under CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/). The metadata
they carry imitates what the named tools write; no generative model or camera was involved.

The files:

``generated-a1111.png``      PNG with an AUTOMATIC1111 ``parameters`` text chunk (expected: ai)
``generated-comfyui.png``    PNG with ComfyUI ``prompt`` and ``workflow`` graphs (expected: ai)
``declared-ai-xmp.jpg``      JPEG whose XMP declares IPTC DigitalSourceType
                             trainedAlgorithmicMedia (expected: ai)
``camera-exif.jpg``          JPEG with camera EXIF: make, model, lens, exposure (weak camera
                             evidence; never proof of "real")
``plain-photo.jpg``          the same kind of scene with no metadata at all (provenance has
                             nothing to say; only the pixel model can)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, PngImagePlugin

SIZE = (512, 384)

A1111_PARAMETERS = (
    "a lighthouse on a cliff at golden hour, volumetric light\n"
    "Negative prompt: blurry, low quality\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890, Size: 512x384, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.9.4"
)

COMFY_PROMPT = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 42,
            "steps": 20,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "4": {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"},
    },
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": 512, "height": 384, "batch_size": 1},
    },
    "6": {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "rolling hills at dusk", "clip": ["4", 1]},
    },
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}

COMFY_WORKFLOW = {
    "last_node_id": 9,
    "nodes": [
        {
            "id": 4,
            "type": "CheckpointLoaderSimple",
            "widgets_values": ["sd_xl_base_1.0.safetensors"],
        },
        {
            "id": 3,
            "type": "KSampler",
            "widgets_values": [42, "fixed", 20, 7.0, "euler", "normal", 1.0],
        },
        {"id": 9, "type": "SaveImage", "widgets_values": ["ComfyUI"]},
    ],
    "version": 0.4,
}

XMP_AI = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def scene(seed: int, size: tuple[int, int] = SIZE) -> NDArray[np.uint8]:
    """A landscape-like RGB image: graded sky, a sun, two layers of hills, grain."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    t = y / height
    sky_top, sky_low = (
        rng.uniform([20, 60, 140], [60, 110, 200]),
        rng.uniform([200, 150, 110], [250, 200, 160]),
    )
    img = sky_top[None, None, :] * (1 - t[..., None]) + sky_low[None, None, :] * t[..., None]
    sx, sy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.45) * height
    sun = np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * (0.04 * width) ** 2))
    img += sun[..., None] * np.array([255.0, 220.0, 150.0]) * 0.8
    for depth, colour in ((0.55, [70, 95, 70]), (0.72, [40, 70, 35])):
        phase, freq = rng.uniform(0, 2 * np.pi, 2), rng.uniform(1.5, 4.0, 2)
        ridge = depth * height + 0.06 * height * (
            np.sin(freq[0] * 2 * np.pi * x / width + phase[0])
            + 0.5 * np.sin(freq[1] * 2 * np.pi * x / width + phase[1])
        )
        below = y > ridge
        shade = 1.0 - 0.35 * (y - ridge) / height
        img = np.where(below[..., None], np.array(colour, dtype=np.float64) * shade[..., None], img)
    img += rng.normal(0.0, 4.0, img.shape)
    return np.asarray(np.clip(np.round(img), 0, 255), dtype=np.uint8)


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R6"  # Model
    exif[0x0131] = "Firmware Version 1.8.1"  # Software
    exif[0x0132] = "2024:05:18 19:42:07"  # DateTime
    ifd = exif.get_ifd(0x8769)
    ifd[0x829A] = 1 / 250  # ExposureTime
    ifd[0x829D] = 8.0  # FNumber
    ifd[0x8827] = 200  # ISOSpeedRatings
    ifd[0x9003] = "2024:05:18 19:42:07"  # DateTimeOriginal
    ifd[0x920A] = 35.0  # FocalLength
    ifd[0xA434] = "RF24-105mm F4 L IS USM"  # LensModel
    return exif


def make_samples(folder: Path) -> list[Path]:
    """Write the sample images into ``folder`` and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    a1111 = PngImagePlugin.PngInfo()
    a1111.add_text("parameters", A1111_PARAMETERS)
    path = folder / "generated-a1111.png"
    Image.fromarray(scene(1)).save(path, pnginfo=a1111)
    written.append(path)

    comfy = PngImagePlugin.PngInfo()
    comfy.add_text("prompt", json.dumps(COMFY_PROMPT))
    comfy.add_text("workflow", json.dumps(COMFY_WORKFLOW))
    path = folder / "generated-comfyui.png"
    Image.fromarray(scene(2)).save(path, pnginfo=comfy)
    written.append(path)

    path = folder / "declared-ai-xmp.jpg"
    Image.fromarray(scene(3)).save(path, quality=90, xmp=XMP_AI.encode("utf-8"))
    written.append(path)

    path = folder / "camera-exif.jpg"
    Image.fromarray(scene(4)).save(path, quality=92, exif=camera_exif())
    written.append(path)

    path = folder / "plain-photo.jpg"
    Image.fromarray(scene(5)).save(path, quality=88)
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default="samples", type=Path)
    args = parser.parse_args(argv)
    for path in make_samples(args.folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
