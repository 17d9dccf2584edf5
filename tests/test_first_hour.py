"""Issue 27, "first hour with synthcheck": what a new user trips on, each pinned by a test."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


# ------------------------------------------------------------------ 1: serve after install


def test_base_install_carries_the_server() -> None:
    # The README's first command is `pip install -e .`: the web UI must work after it.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"]
    names = {dep.split(">")[0].split("=")[0].split("[")[0].lower() for dep in deps}
    assert {"fastapi", "uvicorn", "python-multipart"} <= names


def test_serve_without_uvicorn_says_one_line(tmp_path: Path) -> None:
    # Hide uvicorn from this interpreter, as in an environment where it is missing.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'uvicorn' or name.startswith('uvicorn.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    proc = subprocess.run(
        [sys.executable, "-m", "synthcheck.cli.main", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "uvicorn" in lines[0] and "pip install" in lines[0] and "[serve]" in lines[0]
