#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan in
# build-fuzz/ and runs each one for SECONDS over its seed corpus, one target at a time.
#   ./fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 60); TARGET: wire, hist, ...
# New inputs go to build-fuzz/fuzz-work/<target>/ (the committed tests/fuzz/corpus/ is only
# read). Prints a table target / runs / result and exits 1 when any target crashed, leaked, hung
# or ran out of memory; the input that did it is saved under build-fuzz/fuzz-crashes/<target>/
# and its path printed. Reproduce with: build-fuzz/fuzz_<target> <that file>
# FB_JOBS sets the build's parallelism (default: nproc).
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
case $seconds in '' | *[!0-9]*) echo "usage: ./fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
build=build-fuzz
jobs=${FB_JOBS:-$(nproc)}

command -v clang >/dev/null || { echo "fuzz.sh: clang is missing (./setup.sh --deps-only)" >&2; exit 2; }
CC=clang cmake -S . -B "$build" -DFB_FUZZ=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target fuzz -j"$jobs" >"$build/fuzz-build.log" 2>&1 || {
    tail -40 "$build/fuzz-build.log" >&2
    echo "fuzz.sh: the build failed (whole log: $build/fuzz-build.log)" >&2
    exit 2
}

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in tests/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c)
        name=${name#fuzz_}
        [ -x "$build/fuzz_$name" ] && targets+=("$name")  # fuzz.cmake may hold one back
    done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
rows=()
for name in "${targets[@]}"; do
    bin=$build/fuzz_$name
    seeds=tests/fuzz/corpus/$name
    work=$build/fuzz-work/$name
    crashes=$build/fuzz-crashes/$name
    log=$build/fuzz-logs/$name.log
    [ -x "$bin" ] || { echo "fuzz.sh: no target $name ($bin)" >&2; exit 2; }
    rm -rf "$work"
    mkdir -p "$work" "$crashes" "$(dirname "$log")"
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$crashes/")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
    echo "== fuzz_$name: ${seconds}s over $(ls "$seeds" 2>/dev/null | wc -l) seeds (log: $log)"
    # The first folder receives what libFuzzer finds; the seed folder is only read.
    rc=0
    timeout --signal=INT $((seconds + 120)) "$bin" "${args[@]}" "$work" "$seeds" >"$log" 2>&1 ||
        rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        status=1
        kind=$(grep -o -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer): [a-z-]+|runtime error: .{0,60}|fuzz check failed: .{0,60}' "$log" || true)
        result="FAILED (exit $rc${kind:+: $kind})${artifact:+ input: $artifact}"
        echo "-- fuzz_$name failed; the end of its log:"
        # From the first report (sanitizer, UBSan, our check, libFuzzer) on, without status lines.
        awk '/fuzz check failed|runtime error|==[0-9]+==ERROR|ERROR: libFuzzer/ {p = 1} p' "$log" |
            grep -v -E '^#[0-9]+' | head -60
        [ -n "$artifact" ] && echo "-- reproduce: $bin $artifact"
    fi
    rows+=("$(printf '%-12s %12s  %s' "$name" "${runs:-?}" "$result")")
done

echo
printf '%-12s %12s  %s\n' target runs result
printf '%s\n' "${rows[@]}"
exit $status
