# arm-linux-gnueabihf.cmake: 32-bit Raspberry Pi OS / Debian armhf (ARMv7 with VFPv3-D16 and
# Thumb-2, Debian's baseline: Pi 2, 3, 4, 5 running a 32-bit OS) with Debian's cross compiler
# (crossbuild-essential-armhf). deploy/cross-build.sh armhf uses it; by hand:
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=deploy/toolchains/arm-linux-gnueabihf.cmake
# Pi 1 and Zero (ARMv6) are not covered: Debian's armhf needs ARMv7 (Raspberry Pi OS's own
# armhf is ARMv6 and would need its own compiler and libraries).
set(FB_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
