#!/usr/bin/env bash
# Packs what scripts/gpu/density-run.sh needs on the GPU machine into DEST (default
# target/gpu-carry-13b of this checkout; carry it with the device tool, 64 MiB limit): the
# stripped release ovhost (gzipped), density.py, the sample stages and Debian's Vulkan/EGL loader
# packages. Build first: cargo build --release -p ovhost --bin ovhost
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="${1:-$root/target/gpu-carry-13b}"
mkdir -p "$dest/stages" "$dest/gl"
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
strip -o "$stage/ovhost" "$root/target/release/ovhost"
tar -C "$stage" -czf "$dest/ovhost.tar.gz" ovhost
cp "$root/scripts/gpu/density.py" "$root/scripts/gpu/density-run.sh" "$dest/"
cp "$root"/examples/stages/*.usda "$dest/stages/"
if ! ls "$dest"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
    mkdir -p /tmp/amd64/partial
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    # shellcheck disable=SC2086
    apt-get $o update >/dev/null
    # shellcheck disable=SC2086
    (cd "$dest/gl" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh "$dest"/*
