#!/usr/bin/env bash
# Builds the wheel and sdist of every package into dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
PY=${PY:-.venv/bin/python}
rm -rf dist && mkdir -p dist
for p in "${PROJECTS[@]}"; do
  "$PY" -m build --quiet --outdir dist "$p" >/dev/null
done
ls dist
