# Benchmarks: bench/bench_<name>.c, built with the tree, run only by ./bench.sh.
file(GLOB FB_BENCHES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/bench_*.c)
# The peers some of them run beside ours (wrk, h2load, nginx), and our runner driven as an agent
# drives it.
add_library(fb_benchpeer STATIC ${CMAKE_SOURCE_DIR}/bench/peer.c ${CMAKE_SOURCE_DIR}/bench/runs.c)
target_link_libraries(fb_benchpeer PRIVATE fleetbench)
foreach(src ${FB_BENCHES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE fb_benchpeer fleetbench)
endforeach()

# bench_tor preloads this module into the tor processes of one private network (TCP_NODELAY on
# every tor socket) for two rows of its circuit build table. Not sanitized: tor is not.
add_library(fb_nodelay MODULE ${CMAKE_SOURCE_DIR}/bench/fb_nodelay.c)
target_link_libraries(fb_nodelay PRIVATE ${CMAKE_DL_LIBS})
target_compile_options(fb_nodelay PRIVATE -Wall -Wextra -Werror -fno-sanitize=all)
add_dependencies(bench_tor fb_nodelay)
target_compile_definitions(bench_tor PRIVATE FB_NODELAY_MODULE="$<TARGET_FILE:fb_nodelay>")
