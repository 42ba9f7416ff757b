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
    jq procps iproute2 psmisc python3 libxml2-utils python3-jsonschema curl prometheus
    libhttp-parser-dev wrk nginx nghttp2-client
    clang libclang-rt-14-dev llvm
    ansible-core openssh-server openssh-client systemd
    tor
    libhdrhistogram-java default-jre-headless
    scdoc man-db groff-base bash-completion lintian debootstrap apt-file
    chromium fonts-dejavu-core python3-pil
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Packages are installed, never started: tor would reach for the public Tor network,
    # openssh-server would listen on port 22 and nginx on port 80. A policy-rc.d that says no (exit 101) keeps
    # invoke-rc.d and deb-systemd-invoke from starting any service during the install.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\n# fleetbench setup.sh: no service starts while installing\nexit 101\n' |
            $sudo tee $policy >/dev/null
        $sudo chmod 755 $policy
        trap '$sudo rm -f $policy' EXIT
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    # apt-file answers from Debian's Contents indexes, which apt-get update leaves out until
    # apt-file is installed (tests/integration/deploy_package.sh checks our file names with it).
    if [[ " ${missing[*]} " == *" apt-file "* ]]; then
        $sudo apt-file update >/dev/null
    fi
    # Nor at the next boot: the tor and ssh services we installed stay disabled (the workloads
    # and tests start their own, on loopback). A service the machine already had is untouched.
    for p in "${missing[@]}"; do
        case $p in
        tor) svc=tor ;;
        openssh-server) svc=ssh ;;
        nginx) svc=nginx ;;
        *) continue ;;
        esac
        $sudo systemctl disable "$svc" >/dev/null 2>&1 || true
        $sudo update-rc.d "$svc" disable >/dev/null 2>&1 || true
    done
    # A tor the package started anyway (a policy-rc.d that was not ours allowed it) must not
    # stay on the public network: stop the package's daemon only, by its pid file and user.
    if [[ " ${missing[*]} " == *" tor "* ]]; then
        for pid in $(cat /run/tor/tor.pid 2>/dev/null) \
            $(pgrep -u debian-tor -x tor 2>/dev/null || true); do
            $sudo kill "$pid" 2>/dev/null || true
        done
    fi
fi
[ "${1:-}" = "--deps-only" ] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/coord and build/agent"
