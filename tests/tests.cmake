# Unit tests: one cmocka executable per module, tests/unit/test_<module>.c.
file(GLOB FB_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${FB_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE fleetbench PkgConfig::CMOCKA)
  target_compile_definitions(${name} PRIVATE FB_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data")
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES TIMEOUT 120 LABELS unit)
endforeach()

# Small programs the integration tests drive (garbage senders, a TCP relay that cuts links).
file(GLOB FB_TEST_TOOLS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/tools/*.c)
foreach(src ${FB_TEST_TOOLS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE fleetbench)
endforeach()

# Integration tests: tests/integration/<name>.sh, run against the real binaries.
file(GLOB FB_INTEGRATION_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/*.sh)
list(FILTER FB_INTEGRATION_TESTS EXCLUDE REGEX ".*/lib\\.sh$")
# Those that test the system around fleetbench (deployment, a real tor, a real nginx, our client through real
# tor relays, network namespaces, cross builds, HdrHistogram's Java reading our files, a browser,
# a fleet of 200 simulated agents) carry the label "system":
# ./test.sh runs them in the release tree only, where sanitizers would add minutes and find nothing of
# ours.
foreach(script ${FB_INTEGRATION_TESTS})
  get_filename_component(name ${script} NAME_WE)
  set(labels integration)
  if(name MATCHES "^(deploy_|tor_real|tor_interop|netns_|cross_|hlog_java|browser_|scale_|http_nginx)")
    set(labels integration system)
  endif()
  add_test(NAME integration.${name} COMMAND bash ${script})
  set_tests_properties(integration.${name} PROPERTIES TIMEOUT 240 LABELS "${labels}"
    ENVIRONMENT "FB_BUILD_DIR=${CMAKE_BINARY_DIR};FB_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  # A private tor network of five tor processes, or 200 simulated agents, loads both cores
  # for up to a minute: run alone, so that the tests that time a baseline against a rerun
  # (gates per host) and tor's own bootstrap do not judge that load.
  if(name MATCHES "^(tor_real|tor_interop|scale_)")
    set_tests_properties(integration.${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
  # Its first run makes a Debian 12 chroot with debootstrap (bounded at 10 minutes); later
  # runs reuse it and take under a minute.
  if(name STREQUAL "deploy_install")
    set_tests_properties(integration.${name} PROPERTIES TIMEOUT 900)
  endif()
endforeach()
