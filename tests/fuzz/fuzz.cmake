# tests/fuzz/fuzz.cmake: libFuzzer targets for every decoder of outside input (FB_FUZZ=ON, clang
# only; ./fuzz.sh configures build-fuzz/ and runs them). tests/fuzz/fuzz_<name>.c becomes the
# program fuzz_<name>; its seed corpus is tests/fuzz/corpus/<name>/.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "FB_FUZZ needs clang (libFuzzer): configure with CC=clang")
endif()

# -Wno-format-truncation (CMakeLists.txt) is a GCC warning clang 14 does not know; with -Werror
# that alone fails every file, so clang is told to let unknown -Wno- options pass.
target_compile_options(fleetbench PUBLIC -Wno-unknown-warning-option)

# The library gets coverage instrumentation without libFuzzer's main; every program that links
# it (coord, agent, unit tests) then needs the sanitizer runtimes, hence the INTERFACE link flags.
# UBSan does not recover, so undefined behaviour is a crash libFuzzer saves.
set(FB_FUZZ_SAN_FLAGS -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
target_compile_options(fleetbench PRIVATE -fsanitize=fuzzer-no-link,address,undefined
  ${FB_FUZZ_SAN_FLAGS})
target_link_options(fleetbench INTERFACE -fsanitize=address,undefined)

file(GLOB FB_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
# The allow-list parser (agent/allow.c) may not be in the tree yet; its fuzzer waits for it.
if(NOT EXISTS ${CMAKE_SOURCE_DIR}/agent/allow.c)
  list(FILTER FB_FUZZ_SOURCES EXCLUDE REGEX ".*/fuzz_allow\\.c$")
endif()
set(FB_FUZZ_TARGETS)
foreach(src ${FB_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined ${FB_FUZZ_SAN_FLAGS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE fleetbench)
  # Where a target finds what it reads besides its input (fuzz_baseline: baseline.yaml).
  target_compile_definitions(${name} PRIVATE FB_FUZZ_DIR="${CMAKE_SOURCE_DIR}/tests/fuzz")
  list(APPEND FB_FUZZ_TARGETS ${name})
endforeach()
# `cmake --build build-fuzz --target fuzz` builds only the fuzzers (what ./fuzz.sh needs).
add_custom_target(fuzz DEPENDS ${FB_FUZZ_TARGETS})

# The seed writer of make_corpus.sh (an ordinary program, built only when asked for).
add_executable(gen_corpus EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/tests/fuzz/gen_corpus.c)
target_link_libraries(gen_corpus PRIVATE fleetbench)
