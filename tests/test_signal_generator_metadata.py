"""The generator-metadata signal on files carrying each tool's metadata, written at test time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagegen import exif_bytes, make_jpeg, make_png, make_webp, xmp_packet
from synthcheck.intake import load_image
from synthcheck.results import SignalResult
from synthcheck.signals import create_signal
from synthcheck.signals._exif import decode_user_comment
from synthcheck.signals._generators import parse_a1111

A1111 = (
    "photo of a red fox in snow, bokeh\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 512x768, "
    "Model hash: 9aba26abdf, Model: deliberate_v2, "
    'ControlNet 0: "preprocessor: none, model: control_v11p_sd15_openpose [cab727d4]", '
    "Version: v1.6.0"
)


def analyze(path: Path) -> SignalResult:
    return create_signal("generator-metadata").analyze(load_image(path))


def assert_tool(result: SignalResult, tool: str, model: str | None) -> None:
    assert result.verdict == "ai" and result.decisive and result.score >= 0.95
    assert result.details["tool"] == tool
    assert result.details["model"] == model
    assert tool in result.summary


def _webp_with_user_comment(path: Path, raw: bytes) -> Path:
    ex = Image.Exif()
    ex.get_ifd(0x8769)[0x9286] = raw
    Image.new("RGB", (32, 24), (90, 120, 150)).save(path, "WEBP", exif=ex.tobytes())
    return path


def test_a1111_parameters_in_png_text(tmp_path: Path) -> None:
    result = analyze(make_png(tmp_path / "a.png", text={"parameters": A1111}))
    assert_tool(result, "AUTOMATIC1111 Stable Diffusion web UI", "deliberate_v2")
    messages = " ".join(e.message for e in result.evidence)
    assert "red fox" in messages and "9aba26abdf" in messages


def test_a1111_parameters_in_jpeg_user_comment(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg", exif=exif_bytes(user_comment=A1111))
    assert_tool(analyze(path), "AUTOMATIC1111 Stable Diffusion web UI", "deliberate_v2")


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_a1111_in_webp_user_comment_either_byte_order(tmp_path: Path, encoding: str) -> None:
    raw = b"UNICODE\x00" + A1111.encode(encoding)
    path = _webp_with_user_comment(tmp_path / "a.webp", raw)
    assert_tool(analyze(path), "AUTOMATIC1111 Stable Diffusion web UI", "deliberate_v2")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"UNICODE\x00" + "Steps: 5 ünï".encode("utf-16-be"), "Steps: 5 ünï"),
        (b"UNICODE\x00" + "Steps: 5 ünï".encode("utf-16-le"), "Steps: 5 ünï"),
        (b"UNICODE\x00\xff\xfe" + "hi".encode("utf-16-le"), "hi"),
        (b"UNICODE\x00\xfe\xff" + "hi".encode("utf-16-be"), "hi"),
        (b"ASCII\x00\x00\x00hello\x00", "hello"),
        (b"\x00" * 8 + b"plain", "plain"),
        (b"UNICODE\x00", None),
        (b"", None),
        (42, None),
    ],
)
def test_decode_user_comment(raw: Any, text: str | None) -> None:
    assert decode_user_comment(raw) == text


def test_parse_a1111_quoted_values_and_no_negative_prompt() -> None:
    parsed = parse_a1111('a cat\nSteps: 4, Lora hashes: "a: 1, b: 2", Seed: 7, Size: 64x64')
    assert parsed is not None
    assert parsed["prompt"] == "a cat" and parsed["negative_prompt"] == ""
    assert parsed["settings"] == {
        "Steps": "4",
        "Lora hashes": "a: 1, b: 2",
        "Seed": "7",
        "Size": "64x64",
    }
    assert parse_a1111("just a caption, nothing else") is None
    assert parse_a1111("Pancakes\nSteps: 3, then serve warm") is None


def test_forge_version_names_forge(tmp_path: Path) -> None:
    text = A1111.replace("Version: v1.6.0", "Version: f2.0.1v1.10.1-previous-313")
    result = analyze(make_png(tmp_path / "f.png", text={"parameters": text}))
    assert_tool(result, "Stable Diffusion WebUI Forge", "deliberate_v2")


COMFY_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.st"}},
    "10": {"class_type": "LoraLoader", "inputs": {"lora_name": "detail.safetensors"}},
}


def test_comfyui_prompt_graph(tmp_path: Path) -> None:
    text = {"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps({"nodes": []})}
    result = analyze(make_png(tmp_path / "c.png", text=text))
    assert_tool(result, "ComfyUI", "sd_xl_base_1.0.st")
    assert any(e.value == ["detail.safetensors"] for e in result.evidence)


def test_comfyui_unet_loader(tmp_path: Path) -> None:
    prompt = {"1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors"}}}
    result = analyze(make_png(tmp_path / "c.png", itxt={"prompt": json.dumps(prompt)}))
    assert_tool(result, "ComfyUI", "flux1-dev.safetensors")


def test_comfyui_workflow_only(tmp_path: Path) -> None:
    workflow = {
        "nodes": [
            {"id": 1, "type": "CheckpointLoaderSimple", "widgets_values": ["dreamshaper_8.st"]},
            {"id": 2, "type": "KSampler", "widgets_values": [1, "fixed", 20]},
        ]
    }
    result = analyze(make_png(tmp_path / "w.png", ztxt={"workflow": json.dumps(workflow)}))
    assert_tool(result, "ComfyUI", "dreamshaper_8.st")


@pytest.mark.parametrize(
    "text",
    [
        {"prompt": "{not json"},
        {"prompt": "a plain caption someone typed"},
        {"prompt": json.dumps({"a": 1})},
        {"workflow": json.dumps({"nodes": "nope"})},
        {"prompt": "[" * 100_000},
    ],
)
def test_malformed_comfyui_is_no_evidence(tmp_path: Path, text: dict[str, str]) -> None:
    result = analyze(make_png(tmp_path / "m.png", text=text))
    assert result.verdict == "none" and result.score == 0.5


def test_novelai(tmp_path: Path) -> None:
    comment = json.dumps({"prompt": "1girl", "steps": 28, "sampler": "k_euler", "uc": "bad"})
    text = {"Software": "NovelAI", "Source": "NovelAI Diffusion V4 5BDE6B3C", "Comment": comment}
    result = analyze(make_png(tmp_path / "n.png", text=text))
    assert_tool(result, "NovelAI", "NovelAI Diffusion V4 5BDE6B3C")


def test_invokeai_metadata(tmp_path: Path) -> None:
    meta = {"model": {"name": "juggernautXL", "base": "sdxl"}, "positive_prompt": "a castle"}
    result = analyze(make_png(tmp_path / "i.png", text={"invokeai_metadata": json.dumps(meta)}))
    assert_tool(result, "InvokeAI", "juggernautXL")


def test_legacy_invokeai_sd_metadata(tmp_path: Path) -> None:
    meta = {"model_weights": "stable-diffusion-1.5", "image": {"prompt": [{"prompt": "a dog"}]}}
    result = analyze(make_png(tmp_path / "i.png", text={"sd-metadata": json.dumps(meta)}))
    assert_tool(result, "InvokeAI", "stable-diffusion-1.5")


def test_fooocus(tmp_path: Path) -> None:
    params = {"prompt": "a lake", "base_model": "juggernautXL_v8.st", "version": "Fooocus v2.5.5"}
    text = {"parameters": json.dumps(params), "fooocus_scheme": "fooocus"}
    result = analyze(make_png(tmp_path / "f.png", text=text))
    assert_tool(result, "Fooocus", "juggernautXL_v8.st")


def test_swarmui(tmp_path: Path) -> None:
    params = {"sui_image_params": {"prompt": "a robot", "model": "flux1-schnell"}}
    result = analyze(make_png(tmp_path / "s.png", text={"parameters": json.dumps(params)}))
    assert_tool(result, "SwarmUI", "flux1-schnell")


def test_midjourney_job_id(tmp_path: Path) -> None:
    desc = "a lighthouse at dusk --ar 3:2 --v 6.1 Job ID: 0f3c2a9e-1b2c-4d5e-8f90-123456789abc"
    result = analyze(make_png(tmp_path / "mj.png", text={"Description": desc}))
    assert_tool(result, "Midjourney", "v6.1")
    assert any(e.value == "0f3c2a9e-1b2c-4d5e-8f90-123456789abc" for e in result.evidence)


def test_draw_things_xmp_user_comment(tmp_path: Path) -> None:
    comment = json.dumps({"c": "a teapot", "model": "sd_xl_turbo_f16.ckpt", "sampler": "DPM++"})
    xmp = xmp_packet({"exif:UserComment": comment, "xmp:CreatorTool": "Draw Things"})
    result = analyze(make_jpeg(tmp_path / "d.jpg", xmp=xmp))
    assert_tool(result, "Draw Things", "sd_xl_turbo_f16.ckpt")


def test_generator_named_in_exif_software(tmp_path: Path) -> None:
    result = analyze(make_webp(tmp_path / "s.webp", exif=exif_bytes(software="Midjourney")))
    assert_tool(result, "Midjourney", None)


def test_plain_image_has_no_generator_metadata(tmp_path: Path) -> None:
    text = {"Software": "GIMP 2.10", "Comment": "holiday", "parameters": "brightness=3"}
    result = analyze(make_png(tmp_path / "p.png", text=text))
    assert result.verdict == "none" and result.score == 0.5


def test_huge_text_is_bounded(tmp_path: Path) -> None:
    huge = "x, " * 3_000_000
    path = make_png(tmp_path / "h.png", ztxt={"parameters": huge, "prompt": "{" + huge})
    start = time.perf_counter()
    result = analyze(path)
    assert result.verdict == "none"
    assert time.perf_counter() - start < 5.0
