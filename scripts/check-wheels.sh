#!/usr/bin/env bash
# Installs each built wheel alone into a fresh venv (CPU torch first, then only what the wheel
# declares, local siblings from dist/) and imports it: an undeclared dependency fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
TORCH_SPEC=${TORCH_SPEC-torch==2.13.0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in "${PROJECTS[@]}"; do
  dist=$(sed -n 's/^name = "\(.*\)"/\1/p' "$p/pyproject.toml" | tr - _)
  mod=$(sed -n 's/^packages = \["src\/\(.*\)"\]/\1/p' "$p/pyproject.toml")
  python3 -m venv "$tmp/venv"
  pip=("$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
  [ -n "$TORCH_SPEC" ] && "${pip[@]}" "$TORCH_SPEC"
  whl=$(ls dist/"$dist"-*.whl)
  "${pip[@]}" --find-links dist "$whl${SMOKE_EXTRAS[$p]:+[${SMOKE_EXTRAS[$p]}]}"
  "$tmp/venv/bin/python" -c "import $mod; print('$dist', $mod.__version__, 'imports alone')"
  if [ -n "${SMOKE[$p]:-}" ]; then "$tmp/venv/bin/python" -c "${SMOKE[$p]}"; fi
  rm -rf "$tmp/venv"
done
