#!/usr/bin/env bash
# Runs on the GPU machine from the repository root with target/gpu-carry/{bench,loader}.tar.gz
# carried: the host benchmark and the viewer-protocol benchmark against the real host (raster on
# the NVIDIA Vulkan driver). Prints their JSON.
set -uo pipefail
work="${TMPDIR:-/tmp}/ovh-bench"; rm -rf "$work"; mkdir -p "$work/bin" "$work/loader"
tar -C "$work/bin" -xzf target/gpu-carry/bench.tar.gz
tar -C "$work/loader" -xzf target/gpu-carry/loader.tar.gz
export LD_LIBRARY_PATH="$work/loader" NO_COLOR=1 OVHOST_ROOT="$(pwd)"
nvidia-smi -L
echo "== host_bench"
"$work/bin/host_bench" 2>/dev/null
echo "== protocol_bench (raster)"
"$work/bin/protocol_bench" "$work/bin/ovhost" 2>/dev/null
