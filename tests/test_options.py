"""One frozen, validated ScanOptions for every front end, and one model-name factory."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from imagegen import make_png
from synthcheck.cli import scan as scan_cli
from synthcheck.cli.main import app
from synthcheck.engine import options as options_module
from synthcheck.engine.batch import scan
from synthcheck.engine.executor import ScanConfig
from synthcheck.engine.models import (
    MODEL_CHOICES,
    ModelName,
    create_model,
    parse_model_name,
)
from synthcheck.engine.options import (
    DEFAULT_HEATMAP_TILES,
    DEFAULT_MAX_IMAGE_MB,
    DEFAULT_MAX_PIXELS,
    DEFAULT_TIMEOUT_S,
    MAX_HEATMAP_TILES,
    MIN_HEATMAP_TILES,
    MIN_IMAGE_MB,
    MIN_MAX_PIXELS,
    MIN_MEMORY_MB,
    MIN_WORKERS,
    ScanOptions,
)
from synthcheck.errors import ConfigError, ProjectNotFoundError
from synthcheck.evaluation.models import load_project, model_loaders, resolve_model
from synthcheck.pixel.profiles import HEATMAP_MAX_TILES, HEATMAP_TILES_LIMIT
from synthcheck.service.settings import ServiceSettings


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": "turbo"}, "unknown model 'turbo'; choose auto, fast, thorough, provenance"),
        ({"model": "hub:x"}, "unknown model prefix 'hub:' in 'hub:x'; valid prefixes: local-dir:"),
        ({"model": "project:"}, "project:NAME needs a project name"),
        ({"model": "local-dir: "}, "local-dir:PATH needs a path"),
        ({"model": 3}, "model must be a model name, got 3"),
        ({"calibration": 1}, "calibration must be a string or None, got 1"),
        ({"max_pixels": 0}, "max_pixels must be at least 1, got 0"),
        ({"max_pixels": 1.5}, "max_pixels must be an integer, got 1.5"),
        ({"max_image_mb": 0}, "max_image_mb must be at least 1, got 0"),
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
        ({"timeout": -1.0}, "timeout must be a positive number of seconds, got -1.0"),
        ({"timeout": "60"}, "timeout must be a positive number of seconds, got 60"),
        ({"heatmap_tiles": 0}, "heatmap_tiles must be between 1 and 1024, got 0"),
        ({"heatmap_tiles": 2000}, "heatmap_tiles must be between 1 and 1024, got 2000"),
        ({"heatmap_tiles": True}, "heatmap_tiles must be an integer, got True"),
        ({"max_memory_mb": 100}, "max_memory_mb must be at least 256 (the models alone need"),
        ({"workers": 0}, "workers must be at least 1, got 0"),
        ({"batch_size": 0}, "batch size must be at least 1, got 0"),
        ({"cluster": 5}, "cluster must be a string or None, got 5"),
        ({"heatmaps_dir": Path("x")}, "heatmaps_dir must be a string or None"),
        ({"model": "fast", "profile": "thorough"}, "give model or its old name profile"),
    ],
)
def test_invalid_options_are_rejected_with_specific_messages(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        ScanOptions(**fields)
    assert str(info.value).startswith(message), str(info.value)


def test_options_are_frozen_picklable_and_keep_the_old_names() -> None:
    options = ScanOptions(profile="provenance", timeout=None, heatmap_tiles=5)
    assert options.model == "provenance" and ScanConfig is ScanOptions
    assert options == ScanOptions(model="provenance", timeout=None, heatmap_tiles=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.model = "fast"  # type: ignore[misc]
    with_loaders = ScanOptions(model="project:cats", loaders=model_loaders())
    assert pickle.loads(pickle.dumps(with_loaders)) == with_loaders
    assert hash(with_loaders) == hash(pickle.loads(pickle.dumps(with_loaders)))
    assert dataclasses.replace(options, workers=3).model == "provenance"
    assert options.max_image_bytes == DEFAULT_MAX_IMAGE_MB * 2**20


def test_each_limit_is_named_once() -> None:
    assert (MAX_HEATMAP_TILES, DEFAULT_HEATMAP_TILES) == (HEATMAP_TILES_LIMIT, HEATMAP_MAX_TILES)
    defaults = ScanOptions()
    assert defaults.max_pixels == DEFAULT_MAX_PIXELS and defaults.timeout == DEFAULT_TIMEOUT_S
    assert ServiceSettings().max_pixels == DEFAULT_MAX_PIXELS
    assert ServiceSettings().max_image_mb == DEFAULT_MAX_IMAGE_MB
    assert ServiceSettings(max_image_mb=None).scan_options().max_image_mb == DEFAULT_MAX_IMAGE_MB
    # A number like 200_000_000 or 1024 is written in one module only.
    src = Path(options_module.__file__).parents[1]
    for literal in ("200_000_000", "max=1024", "min=256"):
        users = [p.name for p in src.rglob("*.py") if literal in p.read_text(encoding="utf-8")]
        assert len(users) <= 1, (literal, users)


def _options_of(command_name: str) -> dict[str, Any]:
    command: Any = typer.main.get_command(app)
    sub = command.commands[command_name]
    return {opt: p for p in sub.params for opt in getattr(p, "opts", [])}


def _bounds(param: Any) -> tuple[Any, Any]:
    # Typer 0.29 keeps an option's range on the option itself (older ones on click.IntRange).
    kind = getattr(param, "type", None)
    return getattr(kind, "min", getattr(param, "min", None)), getattr(
        kind, "max", getattr(param, "max", None)
    )


@pytest.mark.parametrize("command", ["scan", "serve"])
def test_cli_bounds_read_the_constants(command: str) -> None:
    params = _options_of(command)
    assert _bounds(params["--heatmap-tiles"]) == (MIN_HEATMAP_TILES, MAX_HEATMAP_TILES)
    assert _bounds(params["--max-memory"])[0] == MIN_MEMORY_MB
    assert _bounds(params["--workers"])[0] == MIN_WORKERS
    assert params["--model"] is params["--profile"]  # the old name stays an alias
    if command == "scan":
        assert _bounds(params["--max-pixels"])[0] == MIN_MAX_PIXELS
        assert _bounds(params["--max-image-memory"])[0] == MIN_IMAGE_MB
        assert params["--max-pixels"].default == DEFAULT_MAX_PIXELS
        assert params["--max-image-memory"].default == DEFAULT_MAX_IMAGE_MB
        assert params["--timeout"].default == DEFAULT_TIMEOUT_S


def test_the_cli_scan_hands_one_options_object_to_the_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_png(tmp_path / "a.png")
    seen: list[ScanOptions] = []
    real = scan_cli.make_executor  # type: ignore[attr-defined]  # patched where cli.scan looks

    def spy(options: ScanOptions, **kwargs: Any) -> Any:
        seen.append(options)
        return real(options, **kwargs)

    monkeypatch.setattr(scan_cli, "make_executor", spy)
    args = ["scan", str(tmp_path), "--profile", "provenance", "-f", "jsonl", "--timeout", "9",
            "--max-pixels", "1000000", "--max-image-memory", "64", "--heatmaps",
            str(tmp_path / "h"), "--heatmap-tiles", "7", "-q"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [options] = seen
    assert (options.model, options.timeout, options.max_pixels, options.max_image_mb) == (
        "provenance",
        9.0,
        1_000_000,
        64,
    )
    assert (options.heatmap_tiles, options.workers) == (7, 1)  # a small scan runs here
    assert dict(options.loaders) == dict(model_loaders())


def test_the_server_validates_through_the_same_options() -> None:
    settings = ServiceSettings(profile="fast", heatmap_tiles=5, timeout=7.5, workers=3)
    options = settings.scan_options()
    assert isinstance(options, ScanOptions)
    assert (options.model, options.heatmap_tiles, options.timeout, options.workers) == (
        "fast",
        5,
        7.5,
        3,
    )
    cases: list[dict[str, Any]] = [
        {"heatmap_tiles": 0},
        {"timeout": 0},
        {"workers": 0},
        {"max_pixels": 0},
    ]
    for fields in cases:
        with pytest.raises(ConfigError) as from_options:
            ScanOptions(**fields)
        with pytest.raises(ConfigError) as from_settings:
            ServiceSettings(**fields)
        assert str(from_settings.value) == str(from_options.value)


def test_the_python_api_takes_options_or_keywords(tmp_path: Path) -> None:
    make_png(tmp_path / "a.png")
    options = ScanOptions(model="provenance")
    [by_object] = scan(tmp_path, options=options)
    [by_keywords] = scan(tmp_path, profile="provenance")
    assert by_object.verdict == by_keywords.verdict != "error"
    with pytest.raises(ConfigError, match="either as options"):
        list(scan(tmp_path, options=options, timeout=5))
    with pytest.raises(ConfigError, match="heatmap_tiles must be between 1 and 1024"):
        list(scan(tmp_path, profile="provenance", heatmap_tiles=0))


# ------------------------------------------------------------------------ model names


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("auto", ModelName("", "auto")),
        (" default ", ModelName("", "auto")),
        ("provenance", ModelName("", "provenance")),
        ("project:cats", ModelName("project", "cats")),
        ("local-dir:/m/a:b", ModelName("local-dir", "/m/a:b")),
    ],
)
def test_model_names_parse_into_prefix_and_rest(name: str, parsed: ModelName) -> None:
    assert parse_model_name(name) == parsed


def test_an_unknown_prefix_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        parse_model_name("hf-hub:org/model")
    assert "valid prefixes: local-dir:, project:" in str(info.value)
    assert "project:NAME" in MODEL_CHOICES and "local-dir:PATH" in MODEL_CHOICES


def test_project_models_need_the_loader_from_above_the_engine() -> None:
    assert create_model("provenance") is None
    with pytest.raises(ConfigError, match=r"loaded by synthcheck\.training"):
        create_model("project:cats")
    with pytest.raises(ConfigError, match="is not a folder"):
        create_model("local-dir:/no/such/folder")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNTHCHECK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SYNTHCHECK_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_every_surface_accepts_and_rejects_the_same_names(home: Path) -> None:
    """scan (CLI and options), serve, evaluate and calibrate share one parser and factory: the
    same bad name gives the same message everywhere, and project:NAME reaches the project
    loader everywhere (here: a project that does not exist)."""
    make_png(home / "real" / "a.png")
    bad = "hub:x"
    expected = "unknown model prefix 'hub:'"
    with pytest.raises(ConfigError, match=expected):
        ScanOptions(model=bad)
    with pytest.raises(ConfigError, match=expected):
        ServiceSettings(profile=bad)
    with pytest.raises(ConfigError, match=expected):
        resolve_model(bad)
    runner = CliRunner()
    commands = {
        "scan": ["scan", str(home / "real"), "-q", "-f", "jsonl", "--model"],
        "evaluate": [
            "evaluate",
            "--real",
            str(home / "real"),
            "--ai",
            str(home / "real"),
            "--no-robustness",
            "--model",
        ],
        "calibrate": ["calibrate", str(home / "real"), "--model"],
    }
    for name, args in commands.items():
        result = runner.invoke(app, [*args, bad])
        assert result.exit_code == 2 and expected in result.output, (name, result.output)
        result = runner.invoke(app, [*args, "project:nope"])
        assert result.exit_code != 0 and "nope" in result.output, (name, result.output)
    with pytest.raises(ProjectNotFoundError):
        load_project("nope")
    with pytest.raises(ProjectNotFoundError):
        ScanOptions(model="project:nope", loaders=model_loaders()).build()
    assert ServiceSettings(profile="project:nope").scan_options().model == "project:nope"
