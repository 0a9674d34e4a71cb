#!/usr/bin/env bash
# Tests one project as its users get it: builds its wheel and those of the siblings it installs (from
# the tree), installs them alone into a fresh venv with the project's development extras
# (scripts/packages.sh), then runs the project's tests against the installed wheel, not the tree.
# This is one job of .github/workflows/ci.yml. Usage: bash scripts/test-wheel.sh packages/sr-blocks
# PY: the Python to test with (needs `build`, which brings packaging and, before 3.11, tomli).
# TORCH_SPEC / TORCH_INDEX: the torch to install first (CI: "torch" from the CPU wheel index).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
project=${1:?usage: bash scripts/test-wheel.sh packages/NAME|apps/NAME}
project=${project%/}
PY=${PY:-python3}
TORCH_SPEC=${TORCH_SPEC-torch==2.13.0}
TORCH_INDEX=${TORCH_INDEX:-}
extras=${EXTRAS[$project]:-test}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t needs < <("$PY" scripts/workspace.py closure "$project" --extras "$extras")
[ ${#needs[@]} -gt 0 ] || exit 1
for p in "${needs[@]}"; do
  "$PY" -m build --quiet --wheel --outdir "$tmp/dist/${p//\//_}" "$p" >/dev/null
done
wheels=()
for p in "${needs[@]}"; do
  whl=$(ls "$tmp/dist/${p//\//_}"/*.whl)
  if [ "$p" = "$project" ]; then wheels+=("$whl[$extras]"); else wheels+=("$whl"); fi
done

"$PY" -m venv "$tmp/venv"
pip=("$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if [ -n "$TORCH_SPEC" ]; then
  if [ -n "$TORCH_INDEX" ]; then "${pip[@]}" --index-url "$TORCH_INDEX" "$TORCH_SPEC"; else "${pip[@]}" "$TORCH_SPEC"; fi
fi
"${pip[@]}" "${wheels[@]}"
echo "=== $project[$extras] installed alone with: ${needs[*]}"
# From outside the tree, so that only the installed wheels can be imported.
root=$PWD
cd "$tmp"
"$tmp/venv/bin/python" -m pytest "$root/$project/tests" -q -p no:cacheprovider --rootdir "$root" -c "$root/pyproject.toml"
