"""Parsers for the metadata that image-generation tools write into their output files.

Each parser takes the collected text fields of one file and returns a :class:`GeneratorFinding`
(tool, model, where it was found) or None. They never raise: malformed JSON, huge values and
odd types are skipped, and a ``notes`` list collects what was skipped and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from synthcheck.signals._ai_tools import match_ai_tool

__all__ = ["GeneratorFinding", "find_generators", "parse_a1111"]

_MAX_JSON = 8 * 1024 * 1024
_MAX_NODES = 20_000

# ComfyUI node types that load the generating model, and the input naming the file.
_COMFY_LOADERS = {
    "CheckpointLoaderSimple": "ckpt_name",
    "CheckpointLoader": "ckpt_name",
    "CheckpointLoader|pysssss": "ckpt_name",
    "ImageOnlyCheckpointLoader": "ckpt_name",
    "unCLIPCheckpointLoader": "ckpt_name",
    "Efficient Loader": "ckpt_name",
    "UNETLoader": "unet_name",
    "UnetLoaderGGUF": "unet_name",
    "DiffusersLoader": "model_path",
    "NunchakuFluxDiTLoader": "model_path",
}
_COMFY_LORAS = {"LoraLoader": "lora_name", "LoraLoaderModelOnly": "lora_name"}

# Every field is cut to this length before any pattern or parser reads it, so that a small file
# with a huge text chunk costs at most linear time in a bounded length. Real settings lines of
# AUTOMATIC1111 / Forge (with LoRA hashes, ADetailer and hires options) stay far below it.
_MAX_FIELD = 1_000_000
_MAX_SETTINGS_LINE = 64 * 1024
# A settings key: a word character, then words, spaces, dashes, slashes and brackets.
_A1111_KEY = re.compile(r"\w[\w \-/()]*")
_MAX_KEY = 100
_A1111_KEYS = frozenset({"Sampler", "CFG scale", "Seed", "Size", "Model hash", "Model"})
_A1111_STEPS = re.compile(r"(?:^|\n)Steps: \d+")
_MJ_JOB = re.compile(
    r"Job ID:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.I
)
_MJ_VERSION = re.compile(r"--(v|version|niji)\s+([\d.]+)")
_DREAM = re.compile(r"\s-S\s?\d+|\s-s\s?\d+")


@dataclass(frozen=True)
class GeneratorFinding:
    """A generating tool identified from the file's metadata."""

    tool: str
    field: str
    model: str | None = None
    prompt: str | None = None
    extras: dict[str, Any] = dc_field(default_factory=dict)


Fields = Mapping[str, str]  # field label (e.g. "PNG text 'parameters'") -> text


def _lookup(fields: Fields, *names: str) -> tuple[str, str] | None:
    wanted = {n.lower() for n in names}
    for label, text in fields.items():
        key = label.rsplit(":", 1)[-1].strip().lower()
        if key in wanted and text:
            return label, text
    return None


def _json(text: str, notes: list[str], label: str) -> Any:
    if len(text) > _MAX_JSON:
        notes.append(f"{label}: {len(text)} characters, too large to parse")
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        notes.append(f"{label}: malformed JSON ({str(exc)[:80]})")
        return None


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:300]
    return None


def _excerpt(text: str | None, n: int = 200) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- AUTOMATIC1111


def parse_a1111(text: str) -> dict[str, Any] | None:
    """Split AUTOMATIC1111 ``parameters`` into prompt, negative prompt and settings, or None."""
    text = text[:_MAX_FIELD]
    if not _A1111_STEPS.search(text):
        return None
    lines = text.strip().split("\n")
    settings_at = max(i for i, line in enumerate(lines) if line.startswith("Steps: "))
    settings = _a1111_settings(lines[settings_at][:_MAX_SETTINGS_LINE])
    if len(_A1111_KEYS & settings.keys()) < 2:
        return None  # a "Steps:" line alone could be anyone's text (a recipe, a manual)
    head = lines[:settings_at]
    negative_at = next(
        (i for i, line in enumerate(head) if line.startswith("Negative prompt:")), None
    )
    if negative_at is None:
        prompt, negative = "\n".join(head), ""
    else:
        prompt = "\n".join(head[:negative_at])
        negative = "\n".join(head[negative_at:])[len("Negative prompt:") :]
    return {"prompt": prompt.strip(), "negative_prompt": negative.strip(), "settings": settings}


def _a1111_settings(line: str) -> dict[str, str]:
    """``key: value`` pairs of a settings line, in one left-to-right pass.

    A backtracking pattern for this grammar took quadratic time on a long run of letters without
    a colon (a 1 KB file could hang a scan), so the line is scanned by hand: every character is
    visited a bounded number of times. Values may be double-quoted and then contain commas and
    backslash escapes; an unterminated quote runs to the next comma.
    """
    settings: dict[str, str] = {}
    pos, n = 0, len(line)
    unclosed_from = n + 1  # once a quote has no closing quote, later ones are not searched again
    while pos < n:
        colon = line.find(":", pos)
        if colon < 0:
            break
        # The key is what follows the last comma before the colon (earlier text is junk).
        start = line.rfind(",", pos, colon) + 1 or pos
        key = line[start:colon].strip()
        pos = colon + 1
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos < n and line[pos] == '"':
            end = _closing_quote(line, pos + 1) if pos < unclosed_from else -1
            if end < 0:
                unclosed_from = min(unclosed_from, pos)
            if end >= 0:
                value, pos = line[pos + 1 : end], end + 1
            else:
                end = line.find(",", pos)
                end = n if end < 0 else end
                value, pos = line[pos:end], end
        else:
            end = line.find(",", pos)
            end = n if end < 0 else end
            value, pos = line[pos:end], end
        comma = line.find(",", pos)
        pos = n if comma < 0 else comma + 1
        if len(key) <= _MAX_KEY and _A1111_KEY.fullmatch(key):
            settings[key] = value.strip()
    return settings


def _closing_quote(line: str, pos: int) -> int:
    """Index of the unescaped ``"`` that closes a quoted value opened before ``pos``, or -1."""
    n = len(line)
    while pos < n:
        ch = line[pos]
        if ch == "\\":
            pos += 2
        elif ch == '"':
            return pos
        else:
            pos += 1
    return -1


def _a1111(fields: Fields, notes: list[str]) -> GeneratorFinding | None:
    for label, text in fields.items():
        if text.lstrip().startswith("{"):
            continue  # JSON parameters belong to other tools
        parsed = parse_a1111(text)
        if parsed is None:
            continue
        settings: dict[str, str] = parsed["settings"]
        version = settings.get("Version", "")
        if "fooocus" in version.lower():
            tool = "Fooocus"
        elif version.startswith("f") and version[1:2].isdigit():
            tool = "Stable Diffusion WebUI Forge"
        elif "sd.next" in text.lower() or "Backend: Diffusers" in text:
            tool = "SD.Next"
        else:
            tool = "AUTOMATIC1111 Stable Diffusion web UI"
        model = settings.get("Model")
        model_hash = settings.get("Model hash")
        extras: dict[str, Any] = {
            k: settings[k]
            for k in ("Model hash", "Sampler", "Steps", "Seed", "CFG scale", "Size", "Version")
            if k in settings
        }
        return GeneratorFinding(
            tool=tool,
            field=label,
            model=model or (f"model hash {model_hash}" if model_hash else None),
            prompt=_excerpt(parsed["prompt"]),
            extras=extras,
        )
    return None


# --------------------------------------------------------------------------- ComfyUI


def _comfy(fields: Fields, notes: list[str]) -> GeneratorFinding | None:
    models: list[str] = []
    loras: list[str] = []
    found_in: str | None = None
    hit = _lookup(fields, "prompt")
    if hit:
        graph = _json(hit[1], notes, hit[0]) if hit[1].lstrip().startswith("{") else None
        if isinstance(graph, dict) and any(
            isinstance(n, dict) and "class_type" in n for n in list(graph.values())[:_MAX_NODES]
        ):
            found_in = hit[0]
            for node in list(graph.values())[:_MAX_NODES]:
                if not isinstance(node, dict):
                    continue
                ctype = str(node.get("class_type", ""))
                inputs = node.get("inputs")
                named: dict[str, Any] = inputs if isinstance(inputs, dict) else {}
                _collect_comfy(ctype, named.get, models, loras)
    hit = _lookup(fields, "workflow")
    if hit:
        wf = _json(hit[1], notes, hit[0]) if hit[1].lstrip().startswith("{") else None
        nodes = wf.get("nodes") if isinstance(wf, dict) else None
        if isinstance(nodes, list):
            found_in = found_in or hit[0]
            for node in nodes[:_MAX_NODES]:
                if not isinstance(node, dict):
                    continue
                widgets = node.get("widgets_values")
                first = widgets[0] if isinstance(widgets, list) and widgets else None
                ctype = str(node.get("type", ""))
                _collect_comfy(ctype, lambda _name, v=first: v, models, loras)
    if found_in is None:
        return None
    models = list(dict.fromkeys(models))
    extras: dict[str, Any] = {}
    if len(models) > 1:
        extras["models"] = models
    if loras:
        extras["loras"] = list(dict.fromkeys(loras))
    return GeneratorFinding("ComfyUI", found_in, models[0] if models else None, None, extras)


def _collect_comfy(ctype: str, value: Any, models: list[str], loras: list[str]) -> None:
    """Record the file a loader node names; ``value`` maps an input name to its value."""
    if ctype in _COMFY_LOADERS:
        name = _str(value(_COMFY_LOADERS[ctype]))
        if name:
            models.append(name)
    elif ctype in _COMFY_LORAS:
        name = _str(value(_COMFY_LORAS[ctype]))
        if name:
            loras.append(name)


# --------------------------------------------------------------------------- JSON-writing tools


def _json_tools(fields: Fields, notes: list[str]) -> GeneratorFinding | None:
    hit = _lookup(fields, "sui_image_params")
    if hit:
        data = _json(hit[1], notes, hit[0])
        if isinstance(data, dict):
            return GeneratorFinding("SwarmUI", hit[0], _str(data.get("model")), None)
    hit = _lookup(fields, "parameters")
    if hit and hit[1].lstrip().startswith("{"):
        data = _json(hit[1], notes, hit[0])
        if isinstance(data, dict):
            sui = data.get("sui_image_params")
            if isinstance(sui, dict):
                return GeneratorFinding(
                    "SwarmUI", hit[0], _str(sui.get("model")), _excerpt(_str(sui.get("prompt")))
                )
            version = _str(data.get("version")) or ""
            if "fooocus" in version.lower() or _lookup(fields, "fooocus_scheme"):
                model = _str(data.get("base_model")) or _str(data.get("Base Model"))
                return GeneratorFinding(
                    "Fooocus",
                    hit[0],
                    model,
                    _excerpt(_str(data.get("prompt"))),
                    {"version": version} if version else {},
                )
    hit = _lookup(fields, "invokeai_metadata")
    if hit:
        data = _json(hit[1], notes, hit[0])
        if isinstance(data, dict):
            model = data.get("model")
            name = (
                _str(model.get("model_name")) or _str(model.get("name"))
                if isinstance(model, dict)
                else _str(model)
            )
            return GeneratorFinding(
                "InvokeAI", hit[0], name, _excerpt(_str(data.get("positive_prompt")))
            )
    hit = _lookup(fields, "sd-metadata")
    if hit:
        data = _json(hit[1], notes, hit[0])
        if isinstance(data, dict):
            image = data.get("image")
            prompt = image.get("prompt") if isinstance(image, dict) else None
            if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
                prompt = prompt[0].get("prompt")
            return GeneratorFinding(
                "InvokeAI",
                hit[0],
                _str(data.get("model_weights")) or _str(data.get("model")),
                _excerpt(_str(prompt)),
            )
    hit = _lookup(fields, "Dream")
    if hit and _DREAM.search(hit[1][:10_000]):
        return GeneratorFinding("InvokeAI", hit[0], None, _excerpt(hit[1]))
    return None


def _novelai(fields: Fields, notes: list[str]) -> GeneratorFinding | None:
    software = _lookup(fields, "Software")
    source = _lookup(fields, "Source")
    comment = _lookup(fields, "Comment")
    is_nai = bool(software and "novelai" in software[1].lower())
    data: Any = None
    if comment and comment[1].lstrip().startswith("{"):
        data = _json(comment[1], notes, comment[0])
        if isinstance(data, dict) and {"uc", "sampler", "steps"} <= set(data):
            is_nai = True
    if not is_nai:
        return None
    model = _str(source[1]) if source else None
    prompt = _str(data.get("prompt")) if isinstance(data, dict) else None
    where = software[0] if software else (comment[0] if comment else "metadata")
    return GeneratorFinding("NovelAI", where, model, _excerpt(prompt))


def _midjourney(fields: Fields, notes: list[str]) -> GeneratorFinding | None:
    for label, text in fields.items():
        job = _MJ_JOB.search(text[:100_000])
        if not job:
            continue
        version = _MJ_VERSION.search(text[:100_000])
        model = None
        if version:
            model = (
                f"niji {version.group(2)}" if version.group(1) == "niji" else f"v{version.group(2)}"
            )
        return GeneratorFinding(
            "Midjourney", label, model, _excerpt(text[: job.start()]), {"job_id": job.group(1)}
        )
    return None


def _draw_things(fields: Fields, notes: list[str]) -> GeneratorFinding | None:
    for label, text in fields.items():
        if "UserComment" not in label or not text.lstrip().startswith("{"):
            continue
        data = _json(text, notes, label)
        if isinstance(data, dict) and "model" in data and ("c" in data or "sampler" in data):
            return GeneratorFinding(
                "Draw Things", label, _str(data.get("model")), _excerpt(_str(data.get("c")))
            )
    return None


def _software(fields: Fields, notes: list[str]) -> GeneratorFinding | None:
    for label, text in fields.items():
        key = label.rsplit(":", 1)[-1].strip().lower()
        if key in ("software", "creatortool", "generator", "source"):
            tool = match_ai_tool(text)
            if tool:
                return GeneratorFinding(tool, label, None, None, {"software": text[:200]})
    return None


_PARSERS: tuple[Callable[[Fields, list[str]], GeneratorFinding | None], ...] = (
    _comfy,
    _json_tools,
    _novelai,
    _a1111,
    _midjourney,
    _draw_things,
    _software,
)


def find_generators(fields: Fields) -> tuple[list[GeneratorFinding], list[str]]:
    """Every tool identified in ``fields`` (most specific first), and notes on skipped fields."""
    findings: list[GeneratorFinding] = []
    notes: list[str] = []
    for parser in _PARSERS:
        try:
            found = parser(fields, notes)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            notes.append(f"{parser.__name__.strip('_')} metadata skipped: {type(exc).__name__}")
            continue
        if found is not None:
            findings.append(found)
    return findings, list(dict.fromkeys(notes))
