# debian-multiarch.cmake: what both Raspberry Pi toolchain files share. Debian's cross
# compilers (crossbuild-essential-ARCH) and its multiarch -dev packages (libzmq3-dev:ARCH ...)
# make the sysroot "/" itself: the target's libraries live in /usr/lib/<triplet>, its headers
# in /usr/include/<triplet> and the arch-independent /usr/include, and the cross libc in
# /usr/<triplet>. The including file sets FB_CROSS_TRIPLET and CMAKE_SYSTEM_PROCESSOR first.
# See docs/cross-build.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${FB_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${FB_CROSS_TRIPLET})

# Find roots. Programs (protoc-c, git) are the build machine's. Libraries and headers are
# looked for under /usr/<triplet> first, then in the host's own prefixes: with
# CMAKE_LIBRARY_ARCHITECTURE set, those are /usr/lib/<triplet> (never the build machine's
# /usr/lib/x86_64-linux-gnu) and /usr/include. ONLY would miss everything multiarch installs.
set(CMAKE_FIND_ROOT_PATH /usr/${FB_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config reads only the target's .pc files (PKG_CONFIG_LIBDIR replaces the default path,
# so the build machine's never leak in). FB_CROSS_SHIM, set by deploy/cross-build.sh, is a
# folder standing in for the -dev packages Debian 12 cannot install next to the native ones
# (libczmq-dev, libhttp-parser-dev): shim/pkgconfig/*.pc and shim/lib/*.so links to the
# target's runtime libraries. Both are read only while configuring.
# try_compile reads this file again in the same process, without FB_CROSS_SHIM, and the
# environment is the process's: it must not undo what the real configure set.
get_property(_fb_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT _fb_in_try_compile)
  set(_fb_pc_dirs /usr/lib/${FB_CROSS_TRIPLET}/pkgconfig /usr/share/pkgconfig)
  if(FB_CROSS_SHIM)
    list(PREPEND _fb_pc_dirs ${FB_CROSS_SHIM}/pkgconfig)
    list(APPEND CMAKE_LIBRARY_PATH ${FB_CROSS_SHIM}/lib)
  endif()
  string(REPLACE ";" ":" _fb_pc_dirs "${_fb_pc_dirs}")
  set(ENV{PKG_CONFIG_LIBDIR} "${_fb_pc_dirs}")
  set(ENV{PKG_CONFIG_PATH} "")
  unset(ENV{PKG_CONFIG_SYSROOT_DIR})
endif()

# Tests and benchmarks are not cross-built: they run on the build machine (the qemu test,
# tests/integration/cross_arm64.sh, drives the cross-built agent itself).
set(FB_TESTS OFF CACHE BOOL "build the unit tests, test tools and benchmarks")
