#!/usr/bin/env bash
# Creates (or reuses) the Python venv with Pixar's usd-core, the test oracle for the stage service.
# Usage: scripts/usd/setup-venv.sh            -> venv at <repo>/.venv/usd
#        OVHOST_USD_VENV=/some/dir scripts/usd/setup-venv.sh
# Prints the venv's python path on success. Idempotent and quiet.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${OVHOST_USD_VENV:-$repo_root/.venv/usd}"
python="$venv/bin/python"
if [ -x "$python" ] && "$python" -c 'import pxr.Usd' >/dev/null 2>&1; then
    echo "$python"
    exit 0
fi
python3 -m venv "$venv" >/dev/null
"$python" -m pip install --quiet --disable-pip-version-check 'usd-core>=25.5' >&2
"$python" -c 'import pxr.Usd' >/dev/null
echo "$python"
