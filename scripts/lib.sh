#!/usr/bin/env bash
# Shared helpers for the scripts in this folder. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

log() { printf '\033[1;34m[ovhost]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[ovhost] error:\033[0m %s\n' "$*" >&2; exit 1; }

# apt_install PKG... — installs missing Debian packages, retrying (apt's clean-up hook can fail once).
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    log "installing ${missing[*]}"
    local attempt
    for attempt in 1 2 3; do
        if [ ! -f /tmp/.ovhost-apt-updated ]; then
            $sudo apt-get update -qq >/dev/null 2>&1 && touch /tmp/.ovhost-apt-updated || true
        fi
        if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/ovhost-apt.log 2>&1; then
            return 0
        fi
        log "apt-get install failed (attempt $attempt); retrying"
        rm -f /tmp/.ovhost-apt-updated
        sleep $((attempt * 3))
    done
    cat /tmp/ovhost-apt.log >&2
    die "could not install ${missing[*]}"
}

# Packages the host needs to build (OpenH264 assembly; protoc and its well-known types for the
# Agones SDK's gRPC stubs) and to render without a GPU (Mesa).
HOST_PACKAGES=(nasm pkg-config protobuf-compiler libprotobuf-dev libvulkan1 mesa-vulkan-drivers libegl1 libegl-mesa0 libgl1-mesa-dri)
# Extra packages the tests need: a real browser and Python venvs for the USD/ovstream oracles.
# (FFmpeg is only for the optional libx264 comparison in h264_bench: apt-get install ffmpeg.)
TEST_PACKAGES=(chromium python3-venv python3-pip)
