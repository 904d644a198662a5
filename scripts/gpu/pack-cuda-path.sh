#!/usr/bin/env bash
# Packs what scripts/gpu/cuda-path.sh needs on the GPU machine into one folder (default
# target/cuda-carry; carry it with the device tool, 64 MiB limit): the stripped debug ovhost, the
# SHM/CUDASHM consumer, the ovrtx TEST DOUBLE (real device memory where a driver exists), the CUDA
# test binaries (host/tests/cuda_path.rs, plugins/cuda/tests/cuda.rs,
# plugins/ovrtx/tests/cuda_output.rs), the ovstream libraries SHM/CUDASHM need (no RTSP plugins,
# no NATIVE client stack) and the runner script itself. Build first:
#   cargo build -p ovhost -p ovhost-fixture-ovrtx-double && cargo build -p ovhost-ovstream --bin shm_client
#   cargo test --no-run -p ovhost --test cuda_path
#   cargo test --no-run -p ovhost-plugin-cuda --test cuda
#   cargo test --no-run -p ovhost-plugin-ovrtx --test cuda_output
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="${1:-$root/target/cuda-carry}"
ovs="${OVSTREAM_DIR:-$root/third_party/ovstream/ovstream}"
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/tests" "$stage/target/debug" "$stage/ovs/ovstream"
strip -o "$stage/bin/ovhost" "$root/target/debug/ovhost"
strip -o "$stage/bin/shm_client" "$root/target/debug/shm_client"
strip -o "$stage/target/debug/libovrtx_double.so" "$root/target/debug/libovrtx_double.so"
# The newest build of each test binary (cargo names them <test>-<hash>).
for t in cuda_path cuda cuda_output; do
    bin="$(ls -t "$root"/target/debug/deps/"$t"-* | grep -v '\.d$' | head -1)"
    strip -o "$stage/tests/$t" "$bin"
done
for f in libovstream.so libovstream_shm_client.so libNvStreamBase.so libNvStreamServer.so libPoco.so \
         libssl_nvst.so.3 libcrypto_nvst.so.3 libcudart.so.12 libNicllsHandlerServer.so libNvcfBlasUpload.so \
         libAudioStreamShared.so; do
    cp "$ovs/$f" "$stage/ovs/ovstream/"
done
(cd "$ovs" && cp *-2.0.so.0 *-1.0.so.0 "$stage/ovs/ovstream/")
mkdir -p "$dest"
tar -C "$stage" -czf "$dest/cuda-path.tar.gz" .
cp "$root/scripts/gpu/cuda-path.sh" "$dest/"
ls -la "$dest"
