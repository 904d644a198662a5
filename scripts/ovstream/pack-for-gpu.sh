#!/usr/bin/env bash
# Packs what scripts/ovstream/gpu_verify.sh needs on the GPU machine into
# target/ovs-carry/bundle.tar.gz (< 64 MiB): the stripped release verification binaries, the
# ovstream libraries the server + SHM client need (no duplicate .so aliases, no NATIVE client
# stack), gst-plugins and the wheel's Python package. Build first:
#   cargo build -p ovhost-ovstream --release --features probe-h264 --bins
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/third_party/ovstream/ovstream"
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/pkg/ovstream"
for b in ovstream_probe shm_client; do strip -o "$stage/bin/$b" "$root/target/release/$b"; done
cd "$src"
cp -r gst-plugins *.py py.typed "$stage/pkg/ovstream/"
for f in libovstream.so libovstream_shm_client.so libNvStreamBase.so libNvStreamServer.so libPoco.so \
         libssl_nvst.so.3 libcrypto_nvst.so.3 libcudart.so.12 libNicllsHandlerServer.so libNvcfBlasUpload.so \
         libAudioStreamShared.so *-2.0.so.0 *-1.0.so.0; do
    cp "$f" "$stage/pkg/ovstream/"
done
mkdir -p "$root/target/ovs-carry"
rm -f "$root/target/ovs-carry/"bundle.tar.*
tar -C "$stage" -czf "$root/target/ovs-carry/bundle.tar.gz" .
ls -la "$root/target/ovs-carry/bundle.tar.gz"
