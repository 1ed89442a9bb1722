#!/usr/bin/env bash
# Installs everything the tests need (Debian packages + Python deps) and runs lint, types and the suite.
# Usage: bash scripts/test.sh [extra pytest args]      (CI: .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

bash scripts/install-system-deps.sh
"$PY" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'

echo "== ruff"
"$PY" -m ruff check calicotool tests benchmarks
echo "== mypy"
"$PY" -m mypy
echo "== pytest"
set +e
"$PY" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose (a suite that runs nothing proves nothing)" >&2
  exit 1
fi
exit "$rc"
