#!/usr/bin/env bash
# Creates the Python venv the ovstream interop tests use (.venv/ovstream) and puts the unpacked
# wheel (third_party/ovstream, from fetch.sh) on its path. The tests import only the pure-Python
# file ovstream_utils/messaging.py, so no NVIDIA driver is needed. Idempotent and quiet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv/ovstream"
"$root/scripts/ovstream/fetch.sh"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" || { echo "setup-venv.sh: python3 -m venv failed (install python3-venv)" >&2; exit 1; }
fi
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$root/third_party/ovstream" >"$site/ovhost-ovstream.pth"
"$venv/bin/python" - "$root" <<'PY'
import importlib.util, pathlib, sys
path = pathlib.Path(sys.argv[1]) / "third_party/ovstream/ovstream_utils/messaging.py"
spec = importlib.util.spec_from_file_location("ovstream_messaging", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert hasattr(module, "AppMessenger"), "ovstream_utils.messaging has no AppMessenger"
PY
