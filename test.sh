#!/usr/bin/env bash
# test.sh: builds the ASan+UBSan tree (build-asan/) and the release tree (build/) and runs
# every unit and integration test in both with ctest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --deps-only

jobs=$(nproc)
status=0
for tree in build-asan:Asan build:Release; do
    dir=${tree%%:*}
    type=${tree##*:}
    echo "== $type ($dir)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
    cmake --build "$dir" -j"$jobs"
    # Integration tests start real processes on loopback ports of their own; two at a time.
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j"$jobs") || status=1
done
# Every decoder of outside input, fuzzed briefly (tests/fuzz/ci.sh: 10 s a target).
echo "== Fuzz (build-fuzz)"
tests/fuzz/ci.sh || status=1
exit $status
