"""The layer contract: a module imports its own package and lower layers only (ARCHITECTURE.md).

Every import counts: at module level, inside functions, under ``TYPE_CHECKING``, and
``importlib.import_module("literal")``. The package root (``synthcheck/__init__.py``) is the public
facade on top: it may import anything, and no module inside the package imports it (doing so would
load the whole engine). A lower layer that needs something from a higher one is a design error to
fix by moving code down, never by hiding the import in a function.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import synthcheck

# Lowest first. Names in one tuple are one layer: they may import lower layers, not each other.
# ARCHITECTURE.md draws the same list as :func:`diagram` prints it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_text", "_version"),
    ("errors", "results", "home"),
    ("intake",),
    ("signals", "backbones"),
    ("pixel",),
    ("fusion",),
    ("engine",),
    ("reports",),
    ("training",),
    ("evaluation",),
    ("service",),
    ("cli",),
)

PACKAGE_ROOT = Path(synthcheck.__file__).parent


def _imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in ``tree``, wherever it sits."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from pkg import sub` imports pkg (its __init__) and possibly pkg.sub.
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
            value = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
            if isinstance(value, str):
                found.append((node.lineno, value))
    return found


def _is_import_module(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id == "import_module"


def layer_violations(root: Path, package: str, layers: tuple[tuple[str, ...], ...]) -> list[str]:
    """Imports in the package at ``root`` that break ``layers`` (lowest first), one line each."""
    rank = {name: i for i, layer in enumerate(layers) for name in layer}
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        parts = relative.with_suffix("").parts
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if not parts:
            continue  # the package root is the facade
        module = ".".join((package, *parts))
        own = parts[0]
        if own not in rank:
            problems.append(f"{relative}: package '{own}' is not in the layer list")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in _imported_modules(tree, module, is_package):
            if target != package and not target.startswith(package + "."):
                continue  # third-party or stdlib
            target_parts = target.split(".")[1:]
            if not target_parts:
                problems.append(f"{relative}:{line}: imports the package root '{package}'")
                continue
            other = target_parts[0]
            if other == own or (other not in rank and not (root / other).exists()):
                continue  # own package, or a name imported from the root (reported above)
            if other not in rank:
                problems.append(f"{relative}:{line}: imports '{target}', which has no layer")
            elif rank[other] >= rank[own]:
                problems.append(
                    f"{relative}:{line}: {own} (layer {rank[own]}) imports {target} "
                    f"(layer {rank[other]})"
                )
    return problems


def test_synthcheck_follows_the_layers() -> None:
    assert layer_violations(PACKAGE_ROOT, "synthcheck", LAYERS) == []


def diagram(layers: tuple[tuple[str, ...], ...]) -> str:
    """The layers as ARCHITECTURE.md draws them, lowest first."""
    lines = [" | ".join(layers[0])] + ["  -> " + " | ".join(layer) for layer in layers[1:]]
    return "\n".join(lines)


def test_architecture_md_draws_the_same_layers() -> None:
    text = (PACKAGE_ROOT.parents[1] / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert f"```\n{diagram(LAYERS)}\n```" in text, diagram(LAYERS)


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_checker_fails_on_a_back_edge(tmp_path: Path) -> None:
    layers = (("base",), ("low", "side"), ("high",))
    pkg = tmp_path / "pkg"
    _write(pkg, "__init__.py", "from pkg.high import run\n")
    _write(pkg, "base.py", "VALUE = 1\n")
    _write(pkg, "low/__init__.py", "from pkg.base import VALUE\nfrom . import helpers\n")
    _write(pkg, "low/helpers.py", "from ..base import VALUE\n")
    _write(pkg, "side/__init__.py", "")
    _write(pkg, "high/__init__.py", "from pkg.low import VALUE\n\ndef run():\n    return VALUE\n")
    assert layer_violations(pkg, "pkg", layers) == []

    # The deliberate back-edges: hidden in a function, relative, via importlib, via the root,
    # and between two packages of one layer.
    _write(
        pkg,
        "low/helpers.py",
        "import importlib\n"
        "from ..base import VALUE\n"
        "from ..high import run\n"
        "def late():\n"
        "    from pkg.high import run\n"
        "    return importlib.import_module('pkg.high')\n",
    )
    _write(pkg, "side/__init__.py", "import pkg.low\nfrom pkg import base\n")
    _write(pkg, "base.py", "from pkg import VALUE\n")
    problems = layer_violations(pkg, "pkg", layers)
    assert problems == [
        "base.py:1: imports the package root 'pkg'",
        "low/helpers.py:3: low (layer 1) imports pkg.high (layer 2)",
        "low/helpers.py:3: low (layer 1) imports pkg.high.run (layer 2)",
        "low/helpers.py:5: low (layer 1) imports pkg.high (layer 2)",
        "low/helpers.py:5: low (layer 1) imports pkg.high.run (layer 2)",
        "low/helpers.py:6: low (layer 1) imports pkg.high (layer 2)",
        "side/__init__.py:1: side (layer 1) imports pkg.low (layer 1)",
        "side/__init__.py:2: imports the package root 'pkg'",
    ]


def test_importing_the_pixel_package_loads_no_training_module() -> None:
    training_only = [
        "synthcheck.pixel.fitting",
        "synthcheck.pixel.devpool",
        "synthcheck.pixel.augment",
        "synthcheck.training",
        "synthcheck.evaluation",
    ]
    code = (
        f"import sys, synthcheck.pixel\nprint([m for m in {training_only!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
