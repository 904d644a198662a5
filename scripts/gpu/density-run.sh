#!/usr/bin/env bash
# Runs on the GPU machine from the repository root with a carry folder (default
# target/gpu-carry-13b) holding ovhost.tar.gz (stripped release ovhost), density.py, stages/ and
# gl/*.deb (the Vulkan/EGL loader: the machine has the NVIDIA ICD but no loader). Pack it here with
# scripts/gpu/pack-density.sh. Usage: density-run.sh [density.py arguments...] — several sweeps
# separated by `--` run one after another, e.g.
#   density-run.sh --size 1920x1080 --steps 24,32,40,48 -- --size 1280x720 --steps 48,64,80
set -uo pipefail
carry="${CARRY:-target/gpu-carry-13b}"
for f in "$carry"/gl/*.deb; do dpkg -x "$f" /; done
ldconfig
work="${TMPDIR:-/tmp}/ovh-density-bin"; rm -rf "$work"; mkdir -p "$work"
tar -C "$work" -xzf "$carry/ovhost.tar.gz"
export NO_COLOR=1 PYTHONUNBUFFERED=1
nvidia-smi -L; echo "cpus: $(nproc)"
out="${OUT:-/tmp/ovh-density-out}"; mkdir -p "$out"
sweep=()
run() {
    [ ${#sweep[@]} -eq 0 ] && return
    python3 "$carry/density.py" --bin "$work/ovhost" --stages "$carry/stages" --log-dir "/tmp/ovh-density" "${sweep[@]}" 2>&1 | tee -a "$out/density.log"
    grep -h -m2 -E "chose its GPU adapter|I420 for H.264" /tmp/ovh-density/host0.log | cut -c1-220
    grep -h -E "ERROR|panicked" /tmp/ovh-density/*.log | cut -c1-200 | sort | uniq -c | sort -rn | head -5
    sweep=()
}
for a in "$@"; do
    if [ "$a" = "--" ]; then run; else sweep+=("$a"); fi
done
run
