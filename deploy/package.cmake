# package.cmake: install rules and the Debian package. `cpack` in a build tree makes
# fleetbench_<version>_<arch>.deb for that tree's architecture (build/: the build machine's;
# build-arm64/, build-armhf/ from deploy/cross-build.sh: the Pi's). Included at the end of
# CMakeLists.txt, so coord, agent and FB_HELPERS are known. See docs/cross-build.md.
#
# What the package holds (names no Debian 12 package has: checked with apt-file, see
# deploy/README.md):
#   /usr/bin/coord, /usr/bin/fleetbench-agent (the build tree's agent)
#   /usr/libexec/fleetbench/<helper> for each workloads/<system>/fb-<name>.c: no command of its
#     own, so off PATH; the agent finds it from its own path (agent/runner.h)
#   /usr/share/man/man1/coord.1.gz, man8/fleetbench-agent.8.gz, man5/fleetbench-scenario.5.gz
#     (docs/man/*.scd, rendered with scdoc at build time)
#   /usr/share/bash-completion/completions/coord   (deploy/bash-completion/coord)
#   /usr/share/doc/fleetbench/copyright, changelog.Debian.gz   (deploy/debian/)
#   /usr/share/lintian/overrides/fleetbench   (deploy/debian/lintian-overrides: each with why)
#   /lib/systemd/system/fleetbench-agent.service   (deploy/fleetbench-agent.service)
#   /usr/lib/sysusers.d/fleetbench.conf            (deploy/fleetbench.sysusers.conf)
#   /usr/share/doc/fleetbench/examples/            (deploy/*.example, examples/quick.yaml)
# Depends: worked out by dpkg-shlibdeps from the binaries, so it names exactly the Debian 12
# runtime packages they link (libczmq4, libzmq5, libssl3, ...) with their minimum versions.
# tests/integration/deploy_package.sh runs lintian on the result; deploy_install.sh installs
# it in a fresh Debian 12 chroot.

install(TARGETS coord RUNTIME DESTINATION bin)
# The build tree keeps the short name (./build/agent); installed, it is fleetbench-agent.
# install(PROGRAMS) copies the file as it is, unlike install(TARGETS): the build tree's RUNPATH
# (a cross tree's shim folder) is dropped here, and the file stripped when CPack asks for it.
install(PROGRAMS $<TARGET_FILE:agent> DESTINATION bin RENAME fleetbench-agent)
install(CODE "set(fb_agent \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin/fleetbench-agent\")
file(RPATH_REMOVE FILE \"\${fb_agent}\")
if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_STRIP}\" \"\${fb_agent}\" COMMAND_ERROR_IS_FATAL ANY)
endif()")
foreach(src ${FB_HELPERS})
  get_filename_component(name ${src} NAME_WE)
  install(TARGETS ${name} RUNTIME DESTINATION libexec/fleetbench)
endforeach()

# Man pages: scdoc source in docs/man/, rendered and compressed (gzip -9n: no name or time in
# the header, so the package is the same from one build to the next) into <build>/man/.
find_program(SCDOC scdoc REQUIRED)
find_program(GZIP gzip REQUIRED)
set(FB_MAN_OUT "")
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/man)
foreach(page coord.1 fleetbench-agent.8 fleetbench-scenario.5)
  set(src ${CMAKE_SOURCE_DIR}/docs/man/${page}.scd)
  set(out ${CMAKE_BINARY_DIR}/man/${page})
  add_custom_command(OUTPUT ${out} ${out}.gz
    COMMAND ${SCDOC} <${src} >${out}
    COMMAND ${GZIP} -9nc ${out} >${out}.gz
    DEPENDS ${src} COMMENT "scdoc ${page}")
  string(REGEX REPLACE "^.*[.]" "" section ${page})
  install(FILES ${out}.gz DESTINATION share/man/man${section})
  list(APPEND FB_MAN_OUT ${out} ${out}.gz)
endforeach()
add_custom_target(fb_man ALL DEPENDS ${FB_MAN_OUT})

# The Debian changelog, compressed the same way.
set(FB_CHANGELOG ${CMAKE_BINARY_DIR}/deb/changelog.Debian.gz)
add_custom_command(OUTPUT ${FB_CHANGELOG}
  COMMAND ${GZIP} -9nc ${CMAKE_SOURCE_DIR}/deploy/debian/changelog >${FB_CHANGELOG}
  DEPENDS ${CMAKE_SOURCE_DIR}/deploy/debian/changelog COMMENT "changelog.Debian.gz")
add_custom_target(fb_changelog ALL DEPENDS ${FB_CHANGELOG})
install(FILES ${FB_CHANGELOG} ${CMAKE_SOURCE_DIR}/deploy/debian/copyright
  DESTINATION share/doc/fleetbench)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/debian/lintian-overrides
  DESTINATION share/lintian/overrides RENAME fleetbench)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/bash-completion/coord
  DESTINATION share/bash-completion/completions)
install(FILES ${CMAKE_SOURCE_DIR}/examples/quick.yaml DESTINATION share/doc/fleetbench/examples)

set(FB_DEPLOY_DIR ${CMAKE_SOURCE_DIR}/deploy)
# Debian 12 still ships units under /lib (the /usr-merge moratorium), as debhelper does.
if(EXISTS ${FB_DEPLOY_DIR}/fleetbench-agent.service)
  install(FILES ${FB_DEPLOY_DIR}/fleetbench-agent.service DESTINATION /lib/systemd/system)
endif()
if(EXISTS ${FB_DEPLOY_DIR}/fleetbench.sysusers.conf)
  install(FILES ${FB_DEPLOY_DIR}/fleetbench.sysusers.conf DESTINATION lib/sysusers.d
          RENAME fleetbench.conf)
endif()
file(GLOB FB_DEPLOY_EXAMPLES CONFIGURE_DEPENDS ${FB_DEPLOY_DIR}/*.example)
if(FB_DEPLOY_EXAMPLES)
  install(FILES ${FB_DEPLOY_EXAMPLES} DESTINATION share/doc/fleetbench/examples)
endif()

# The package's architecture is the target's, in Debian's words (arm64, armhf, amd64). CPack
# asks dpkg, which answers for the build machine; a cross tree asks dpkg-architecture about
# the toolchain's triplet instead.
set(FB_DEB_ARCH "")
if(CMAKE_CROSSCOMPILING AND CMAKE_LIBRARY_ARCHITECTURE)
  execute_process(COMMAND dpkg-architecture -t ${CMAKE_LIBRARY_ARCHITECTURE} -qDEB_HOST_ARCH
    OUTPUT_VARIABLE FB_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
else()
  execute_process(COMMAND dpkg --print-architecture
    OUTPUT_VARIABLE FB_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT FB_DEB_ARCH)
  # Not a Debian build machine: `cmake --install` still works, only the .deb is unavailable.
  return()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fleetbench)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Seed e6d415d1 maintainers <maintainers@users.noreply.r-seed-e6d415d1.example>"
    CACHE STRING "the .deb's Maintainer field")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "distributed load generator: coordinator, agent and workload helpers")
# CPack puts the summary first; this is the long description after it.
# At most 80 characters a line (lintian: extended-description-line-too-long).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "fleetbench compares hardware across a lab fleet and catches performance
regressions. The coordinator (coord) sends a scenario to agents
(fleetbench-agent, one per host) over ZeroMQ; every agent starts the workloads
at one shared instant and streams HDR latency histograms, which the
coordinator merges into exact fleet-wide percentiles.
.
The agent runs as the systemd service fleetbench-agent, which is installed but
not enabled: configure /etc/fleetbench/ first (see the examples).")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${FB_DEB_ARCH})
# The Debian revision -1: the packaging (deploy/) is ours but kept apart from the program, so
# the package is not a native one and its changelog is changelog.Debian.gz (deploy/debian/).
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME fleetbench_${PROJECT_VERSION}-1_${FB_DEB_ARCH}.deb)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)   # the cross tree's strip (CMAKE_STRIP) for a cross tree
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# dpkg-shlibdeps looks libraries up for the host architecture it is told; cpack runs it, so
# this file, read by cpack itself, tells it the target's (the target's .symbols files come
# from its runtime library packages, installed by deploy/cross-build.sh).
set(FB_CPACK_PROJECT_CONFIG ${CMAKE_BINARY_DIR}/deb/cpack-project-config.cmake)
file(CONFIGURE OUTPUT ${FB_CPACK_PROJECT_CONFIG} CONTENT
  "# Generated by deploy/package.cmake.\nset(ENV{DEB_HOST_ARCH} @FB_DEB_ARCH@)\n" @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${FB_CPACK_PROJECT_CONFIG})

# Maintainer scripts: the service user (sysusers.d) on install, and systemd told of the unit
# (not enabled or started: /etc/fleetbench/agent.env and the keys must be there first).
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/deb/postinst CONTENT [[#!/bin/sh
# postinst (generated by deploy/package.cmake)
set -e
if [ "$1" = configure ]; then
    if [ -f /usr/lib/sysusers.d/fleetbench.conf ] && command -v systemd-sysusers >/dev/null; then
        systemd-sysusers fleetbench.conf
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
    fi
fi
]] @ONLY)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/deb/postrm CONTENT [[#!/bin/sh
# postrm (generated by deploy/package.cmake)
set -e
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
]] @ONLY)
file(CHMOD ${CMAKE_BINARY_DIR}/deb/postinst ${CMAKE_BINARY_DIR}/deb/postrm
  PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
              WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/deb/postinst
    ${CMAKE_BINARY_DIR}/deb/postrm)

include(CPack)
