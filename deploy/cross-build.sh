#!/usr/bin/env bash
# cross-build.sh: builds fleetbench for Raspberry Pi boards on a Debian 12 machine with Debian's
# cross compilers and multiarch libraries, and packages it as a .deb (docs/cross-build.md).
#   ./deploy/cross-build.sh arm64              64-bit OS (Pi 3, 4, 5, Zero 2 W)
#   ./deploy/cross-build.sh armhf              32-bit OS on ARMv7 and later (Pi 2, 3, 4, 5)
#   ./deploy/cross-build.sh --deps-only ARCH   only install what is missing
# Installs what is missing (the foreign architecture, crossbuild-essential-ARCH, the libraries
# :ARCH, qemu-user-static), configures build-ARCH/ (Release, tests off), builds coord, agent and
# the helpers, checks they are ARCH binaries, runs `agent --version` under qemu and makes
# build-ARCH/fleetbench_<version>-1_ARCH.deb. Safe to run again: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

s_usage() {
    echo "usage: $0 [--deps-only] arm64|armhf" >&2
    exit 2
}
deps_only=0
if [ "${1:-}" = "--deps-only" ]; then
    deps_only=1
    shift
fi
[ $# -eq 1 ] || s_usage
arch=$1
case "$arch" in
arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64-static elf_machine=AArch64 ;;
armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm-static elf_machine=ARM ;;
*) s_usage ;;
esac

# Build machine packages: the cross compiler, the tools that run here (protoc-c, cmake,
# pkg-config, dpkg-shlibdeps for the .deb's Depends, scdoc for the man pages), qemu to try the
# result, and the native libczmq-dev and libhttp-parser-dev for their headers (see the shim
# below).
NATIVE=(crossbuild-essential-"$arch" cmake pkg-config protobuf-c-compiler dpkg-dev file git
    libczmq-dev libhttp-parser-dev qemu-user-static scdoc)
# Target packages, installed as PKG:ARCH next to the native ones (all Multi-Arch: same).
# libczmq-dev:ARCH and libhttp-parser-dev:ARCH cannot be (docs/cross-build.md): their runtime
# libraries stand in, with the shim below.
TARGET=(libzmq3-dev libprotobuf-c-dev libssl-dev libyaml-dev zlib1g-dev libjansson-dev
    libcmocka-dev libczmq4 libhttp-parser2.9)

s_installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'ok installed'; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
added=0
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "cross-build: dpkg --add-architecture $arch"
    $sudo dpkg --add-architecture "$arch"
    added=1
fi
missing=()
for p in "${NATIVE[@]}"; do s_installed "$p" || missing+=("$p"); done
for p in "${TARGET[@]}"; do s_installed "$p:$arch" || missing+=("$p:$arch"); done
if [ ${#missing[@]} -gt 0 ] || [ $added = 1 ]; then
    echo "cross-build: installing ${missing[*]:-nothing (new architecture: apt-get update)}"
    if ! $sudo apt-get update -qq; then
        # Every later apt-get update on this machine fetches the new architecture's indexes
        # too: one that fails to download (a mirror mid-sync) would fail them all, setup.sh's
        # included. A just-added architecture with nothing installed is taken back out.
        if [ $added = 1 ]; then
            $sudo dpkg --remove-architecture "$arch"
            echo "cross-build: apt-get update failed; removed the $arch architecture again" >&2
            exit 1
        fi
        echo "cross-build: apt-get update failed; trying with the package lists there are" >&2
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        # Multi-Arch: same packages must have one version on every architecture: apt may
        # upgrade a few native libraries to match. Waits for another apt run to finish.
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef \
            -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
    fi
fi
[ $deps_only = 1 ] && exit 0

# The shim: what libczmq-dev:ARCH and libhttp-parser-dev:ARCH would have given, made from
# installed files. Headers are the native packages' (identical on every architecture: czmq's
# are shared Multi-Arch: same files, http_parser.h has no architecture-specific part);
# libraries are links to the target's runtime libraries; libczmq.pc is Debian's without
# `nss` in Requires.private (libnss3-dev pulls in libnspr4-dev, which is not Multi-Arch: same;
# nothing here includes NSS headers and the shared library brings its own dependencies).
build=build-$arch
shim=$PWD/$build/cross-shim
libdir=/usr/lib/$triplet
mkdir -p "$shim/lib" "$shim/pkgconfig"
if [ ! -f "$libdir/pkgconfig/libczmq.pc" ]; then
    czmq_version=$(dpkg-query -W -f='${Version}' "libczmq4:$arch")
    czmq_version=${czmq_version#*:}
    ln -sfn "$libdir/libczmq.so.4" "$shim/lib/libczmq.so"
    pc=$(
        cat <<PC
# Written by deploy/cross-build.sh: czmq for $arch, headers of the native libczmq-dev,
# library of libczmq4:$arch.
prefix=/usr
libdir=$shim/lib
includedir=\${prefix}/include

Name: libczmq
Description: The high-level C binding for 0MQ ($arch, cross-build shim)
Version: ${czmq_version%%-*}
Requires.private: libzmq
Libs: -L\${libdir} -lczmq
Cflags: -I\${includedir}
PC
    )
    # Rewritten only when it changes, so a second run does not reconfigure for nothing.
    [ "$(cat "$shim/pkgconfig/libczmq.pc" 2>/dev/null)" = "$pc" ] ||
        printf '%s\n' "$pc" >"$shim/pkgconfig/libczmq.pc"
fi
if [ ! -e "$libdir/libhttp_parser.so" ]; then
    ln -sfn "$libdir/libhttp_parser.so.2.9" "$shim/lib/libhttp_parser.so"
fi

echo "cross-build: configuring $build/ ($triplet, Release)"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$PWD/deploy/toolchains/$triplet.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DFB_TESTS=OFF -DFB_CROSS_SHIM="$shim" >"$build/configure.log" ||
    {
        cat "$build/configure.log"
        exit 1
    }
cmake --build "$build" -j"${FB_JOBS:-$(nproc)}"

# Every program must be a binary for the board, not for this machine.
programs=("$build/coord" "$build/agent")
for src in workloads/*/fb-*.c; do
    [ -e "$src" ] && programs+=("$build/$(basename "$src" .c)")
done
for prog in "${programs[@]}"; do
    machine=$(readelf -h "$prog" | sed -n 's/^ *Machine: *//p')
    case "$machine" in
    "$elf_machine"*) ;;
    *)
        echo "cross-build: $prog is a \"$machine\" binary, expected $elf_machine" >&2
        exit 1
        ;;
    esac
done
# The :ARCH packages bring the target's own ld.so and libc, so qemu needs no -L (and must not
# get -L /usr/$triplet: that older cross libc mixed with libc6:ARCH hangs in pthread_create).
if command -v "$qemu" >/dev/null; then
    "$qemu" "$build/agent" --version
fi

rm -f "$build"/fleetbench_*_"$arch".deb
(cd "$build" && cpack -G DEB >cpack.log) || {
    cat "$build/cpack.log"
    exit 1
}
deb=$(ls "$build"/fleetbench_*_"$arch".deb)
echo "cross-build: $deb"
echo "  Depends: $(dpkg-deb -f "$deb" Depends)"
