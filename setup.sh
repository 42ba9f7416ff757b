#!/usr/bin/env bash
# setup.sh: installs the Debian 12 packages fleetbench needs (only those missing), then
# configures and builds the release tree in build/. Safe to run again: a second run installs
# nothing and only rebuilds.
#   ./setup.sh              install what is missing, build build/ (Release, -O2)
#   ./setup.sh --deps-only  only install what is missing
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
    build-essential cmake pkg-config git ca-certificates
    libzmq3-dev libczmq-dev libprotobuf-c-dev protobuf-c-compiler
    libssl-dev libyaml-dev zlib1g-dev libjansson-dev libcmocka-dev
    jq procps iproute2 psmisc
    libhttp-parser-dev wrk
    clang libclang-rt-14-dev llvm
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi
[ "${1:-}" = "--deps-only" ] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/coord and build/agent"
