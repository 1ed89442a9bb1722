#!/usr/bin/env bash
# Installs everything the tests need (Debian packages; Python deps into the project virtual environment .venv)
# and runs lint, types and the suite. Never installs into the system Python.
# Usage: bash scripts/test.sh [extra pytest args]      (CI: .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
. scripts/venv.sh
ensure_venv test
PY="$VENV/bin/python"

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
venv_hint
exit "$rc"
