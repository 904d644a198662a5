#!/usr/bin/env bash
# Creates (or reuses) the Python venv with aiortc (a standards WebRTC client no one here wrote)
# and PyAV (its H.264 decoder), used by the webrtc transport tests.
# Usage: scripts/webrtc/setup-venv.sh            -> venv at <repo>/.venv/webrtc
#        OVHOST_WEBRTC_VENV=/some/dir scripts/webrtc/setup-venv.sh
# Prints the venv's python path on success. Idempotent and quiet.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${OVHOST_WEBRTC_VENV:-$repo_root/.venv/webrtc}"
python="$venv/bin/python"
if [ -x "$python" ] && "$python" -c 'import aiortc, av' >/dev/null 2>&1; then
    echo "$python"
    exit 0
fi
python3 -m venv "$venv" >/dev/null
"$python" -m pip install --quiet --disable-pip-version-check 'aiortc==1.16.0' >&2
"$python" -c 'import aiortc, av' >/dev/null
echo "$python"
