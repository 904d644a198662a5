#!/usr/bin/env bash
# Runs on the GPU machine (NVIDIA driver, no NVENC) from the repository root, with the folder
# scripts/gpu/pack-cuda-path.sh made carried (its path is the first argument, default
# target/cuda-carry). Runs the CUDA tests there: the CUDA converters against the CPU reference,
# the ovrtx plugin's CUDA output over the test double's real device memory, and the real host
# with a CUDA-producing renderer feeding ovstream SHM and CUDASHM through rgba-to-bgra-cuda with
# no host copy plus a web client getting H.264 through the download converter. Logs go to $OUT.
set -uo pipefail
carry="${1:-target/cuda-carry}"
work="${TMPDIR:-/tmp}/ovh-cuda-path"; rm -rf "$work"; mkdir -p "$work"
tar -C "$work" -xzf "$carry/cuda-path.tar.gz"
out="${OUT:-$work/out}"; mkdir -p "$out"
export OVSTREAM_LIB_PATH="$work/ovs/ovstream" OVHOST_BIN="$work/bin/ovhost" OVHOST_SHM_CLIENT="$work/bin/shm_client" \
    OVRTX_LIBRARY_PATH="$work/target/debug/libovrtx_double.so" CARGO_TARGET_DIR="$work/target" \
    OVHOST_ROOT="$(pwd)" OVHOST_SKIP_LOG="$out/skipped.txt" NO_COLOR=1
nvidia-smi -L
status=0
for t in cuda cuda_output cuda_path; do
    echo "== $t"
    "$work/tests/$t" --test-threads 1 --nocapture >"$out/$t.log" 2>&1 || status=1
    grep -E '^test |test result|consumer:|delivery:|skipped|panicked' "$out/$t.log" | cut -c1-600
done
echo "== skipped (counted, not passed):"; cat "$out/skipped.txt" 2>/dev/null || echo none
exit $status
