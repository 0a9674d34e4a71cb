#!/usr/bin/env bash
# Runs each package's tests on its own (so each can be released alone), then the cross-package
# tests under tests/. Extra arguments go to every pytest call (e.g. -x, -k name).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
failed=()
for p in "${PROJECTS[@]}"; do
  echo "=== $p"
  "$PY" -m pytest "$p/tests" -q "$@" || failed+=("$p")
done
if [ -d tests ]; then
  echo "=== cross-package tests"
  "$PY" -m pytest tests -q --ignore=tests/tooling "$@" || failed+=(tests)
  echo "=== workspace tooling (scripts/: affected.py, release.py, the release and range checks)"
  "$PY" -m pytest tests/tooling -q "$@" || failed+=(tests/tooling)
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all tests passed"
