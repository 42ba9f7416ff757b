#!/usr/bin/env bash
# test.sh: builds the ASan+UBSan tree (build-asan/) and the release tree (build/), runs every
# unit and integration test with ctest (the "system" ones, which test deployment, a real tor,
# network namespaces and cross builds, in the release tree only), then fuzzes every decoder
# of outside input briefly. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --deps-only

jobs=$(nproc)
status=0
started=$(date +%s)
for tree in build-asan:Asan:system build:Release:; do
    IFS=: read -r dir type skip <<<"$tree"
    echo "== $type ($dir)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
    cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
    # Integration tests start real processes on loopback ports of their own, and mostly wait
    # on their scenarios' durations: one more at a time than there are cores.
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j"$((jobs + 1))" ${skip:+-LE "$skip"}) || status=1
done
# Every decoder of outside input, fuzzed briefly (tests/fuzz/ci.sh: 10 s a target).
echo "== Fuzz (build-fuzz)"
tests/fuzz/ci.sh || status=1
echo "test.sh: $(($(date +%s) - started)) s, $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
