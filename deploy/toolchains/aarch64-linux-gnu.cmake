# aarch64-linux-gnu.cmake: 64-bit Raspberry Pi OS / Debian arm64 (Pi 3, 4, 5, Zero 2 W) with
# Debian's cross compiler (crossbuild-essential-arm64). deploy/cross-build.sh arm64 uses it;
# by hand:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=deploy/toolchains/aarch64-linux-gnu.cmake
set(FB_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
