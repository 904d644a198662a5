#!/usr/bin/env bash
# Downloads the ovstream 0.5.7 wheel from PyPI (cached) and unpacks its native libraries into
# third_party/ovstream/ (git-ignored). Idempotent and quiet; safe to run repeatedly.
#
#   scripts/ovstream/fetch.sh          # → third_party/ovstream/{ovstream,ovstream_utils}/
#
# Environment: OVSTREAM_VERSION (default 0.5.7), OVHOST_CACHE_DIR (default <repo>/.cache).
set -euo pipefail

version="${OVSTREAM_VERSION:-0.5.7}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${OVHOST_CACHE_DIR:-$root/.cache}/ovstream-$version"
dest="$root/third_party/ovstream"
stamp="$dest/.ovstream-version"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$version" && -f "$dest/ovstream/libovstream.so" ]]; then
    exit 0
fi

python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "fetch.sh: python3 is needed to run pip; install it first" >&2; exit 1; }

mkdir -p "$cache"
wheel="$(ls "$cache"/ovstream-"$version"-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "$wheel" ]]; then
    if ! "$python" -m pip download --quiet --no-deps --disable-pip-version-check \
            --only-binary=:all: --platform manylinux_2_35_x86_64 --platform manylinux_2_28_x86_64 \
            --platform manylinux2014_x86_64 --platform linux_x86_64 \
            --dest "$cache" "ovstream==$version" >"$cache/pip.log" 2>&1; then
        echo "fetch.sh: could not download ovstream==$version from PyPI (no network or no such wheel)." >&2
        echo "fetch.sh: pip said:" >&2
        tail -n 5 "$cache/pip.log" >&2
        echo "fetch.sh: fix the network/proxy, or point OVSTREAM_LIB_PATH at an existing ovstream library directory." >&2
        exit 1
    fi
    wheel="$(ls "$cache"/ovstream-"$version"-*.whl 2>/dev/null | head -n1 || true)"
    [[ -n "$wheel" ]] || { echo "fetch.sh: pip reported success but no ovstream-$version wheel is in $cache" >&2; exit 1; }
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ovstream-fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$python" - "$wheel" "$tmp" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    members = [m for m in z.infolist() if m.filename.split("/")[0] in ("ovstream", "ovstream_utils")]
    if not any(m.filename == "ovstream/libovstream.so" for m in members):
        sys.exit(f"fetch.sh: {wheel} has no ovstream/libovstream.so; is it a Linux x86_64 wheel?")
    for m in members:
        z.extract(m, out)
PY
# zipfile drops the executable bit; shared objects do not need it, but keep .so readable.
rm -rf "$dest"
mkdir -p "$dest"
mv "$tmp/ovstream" "$dest/ovstream"
[[ -d "$tmp/ovstream_utils" ]] && mv "$tmp/ovstream_utils" "$dest/ovstream_utils"
echo "$version" >"$stamp"
