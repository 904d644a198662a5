#!/usr/bin/env bash
# Packs the release ovhost, the SHM test client, the sample stages and the host verification
# script into target/gpu-carry/host.tar.gz for the GPU machine (carried with the device tool,
# 64 MiB limit). The ovstream libraries travel separately in target/ovs-carry/bundle.tar.gz
# (scripts/ovstream/pack-for-gpu.sh) and the Vulkan/EGL loader in target/gpu-carry/loader.tar.gz.
# Build first: cargo build --release -p ovhost --bin ovhost && cargo build --release -p ovhost-ovstream --bin shm_client
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/stages"
strip -o "$stage/bin/ovhost" "$root/target/release/ovhost"
strip -o "$stage/bin/shm_client" "$root/target/release/shm_client"
cp "$root"/examples/stages/*.usda "$stage/stages/"
mkdir -p "$root/target/gpu-carry"
tar -C "$stage" -czf "$root/target/gpu-carry/host.tar.gz" .
# Debian's Vulkan/EGL loader libraries (the GPU machine has the NVIDIA ICD but no loader).
if [ ! -f "$root/target/gpu-carry/loader.tar.gz" ]; then
    debs="$(mktemp -d)"
    (cd "$debs" && apt-get download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 >/dev/null 2>&1)
    mkdir -p "$debs/root"
    for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$debs/root"; done
    tar -C "$debs/root/usr/lib/x86_64-linux-gnu" -czf "$root/target/gpu-carry/loader.tar.gz" .
    rm -rf "$debs"
fi
ls -la "$root"/target/gpu-carry/
