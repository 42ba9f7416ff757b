#!/usr/bin/env bash
# hlog_java.sh: HdrHistogram's own Java implementation (Debian's libhdrhistogram-java, read by
# its HistogramLogProcessor) reads our .hlog files and finds the same percentiles we report:
# the nearest rank, ceil(p/100 * n). First a file with a known answer (1059 samples at 1 ms
# and 11 at 1 s: p99 is a second), then a real run's run.json against its own .hlog.
. "$(dirname "$0")/lib.sh"
JAR=/usr/share/java/hdrhistogram.jar
[ -f "$JAR" ] || fail "$JAR is missing: ./setup.sh installs libhdrhistogram-java"
command -v java >/dev/null || fail "java is missing: ./setup.sh installs default-jre-headless"

# java_totals FILE [TAG]: the processor's last Total_ row as count,p50,p90,p99,p99.9,p99.99,max
# (without TAG it reads the untagged rows, as it does when given no flag)
java_totals() {
    local tag=()
    [ -n "${2:-}" ] && tag=(-tag "$2")
    timeout 60 java -cp "$JAR" org.HdrHistogram.HistogramLogProcessor -i "$1" "${tag[@]}" -csv \
        -outputValueUnitRatio 1 -o "$WORK/java.csv" >"$WORK/java.log" 2>&1 ||
        fail "HistogramLogProcessor could not read $1: $(tail -n 3 "$WORK/java.log")"
    tail -n 1 "$WORK/java.csv" | awk -F, '{ for (i = 6; i <= 12; i++) printf "%s%d", (i > 6 ? "," : ""), $i; print "" }'
}

# 1. Known data, each side's percentiles of the same file.
cases=("1000000:1059 1000000000:11" "1000:10000 100000000:1" "5000:1 7000:1 9000:1"
    "1000:99 2000:1" "1000:990 2000:9 3000:1" "123456:1")
for c in "${cases[@]}"; do
    # shellcheck disable=SC2086 # one argument per VALUE:COUNT
    ours=$("$FB_BUILD_DIR/fb_hlog_write" "$WORK/known.hlog" latency $c) || fail "fb_hlog_write $c"
    java=$(java_totals "$WORK/known.hlog" latency)
    [ "$ours" = "$java" ] || fail "data $c: we read $ours, HdrHistogram (Java) reads $java"
done
p99=$("$FB_BUILD_DIR/fb_hlog_write" "$WORK/known.hlog" latency 1000000:1059 1000000000:11 | cut -d, -f4)
[ "$p99" -gt 900000000 ] || fail "p99 of 1059 x 1 ms and 11 x 1 s reads $p99 ns, not about 1 s"
pass "known data: every Total_ percentile equals HdrHistogram's"

# 2. A real run with two hosts: run.json's percentiles for a host against Java on the host's
# .hlog, and the fleet's against the fleet's .hlog; latency rows untagged, the others tagged.
port=$(free_port)
cat >"$WORK/java.yaml" <<YAML
name: java
agents: { expect: 2, join_timeout: 15s, heartbeat_timeout: 5s }
defaults: { duration: 2s, warmup: 0s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 2us }
    rate: 2000/s
YAML
# Exit 1 is fine here: on a loaded machine (a sanitizer build, other tests) the open-loop
# schedule verdict may fail for a few late operations, and the files are what is checked.
set +e
timeout 150 "$COORD" run "$WORK/java.yaml" --local 2 --bind "tcp://127.0.0.1:$port" --quiet \
    >"$WORK/coord.log" 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "coord run exited $rc"
dir=$(run_dir)
# check_file FILE JQ_PATH: each metric's count and percentiles in run.json (at JQ_PATH) equal
# Java's reading of FILE, latency read with no -tag.
check_file() {
    [ -f "$1" ] || fail "no $1"
    local metric ours java
    for metric in latency service; do
        ours=$(jqr "$2.metrics.$metric | [.count, .p50, .p90, .p99, .[\"p99.9\"]] | map(tostring) | join(\",\")")
        if [ "$metric" = latency ]; then java=$(java_totals "$1"); else java=$(java_totals "$1" "$metric"); fi
        java=$(cut -d, -f1-5 <<<"$java")
        [ "$ours" = "$java" ] || fail "$1 $metric: run.json says $ours, HdrHistogram (Java) reads $java"
    done
}
check_file "$dir/local-1.bus.hlog" '.workloads[0].hosts["local-1"]'
check_file "$dir/fleet.bus.hlog" '.workloads[0].fleet'
# Given nothing but the file, the processor reads the fleet's latency: its total count is the
# fleet's count.
timeout 60 java -cp "$JAR" org.HdrHistogram.HistogramLogProcessor -i "$dir/fleet.bus.hlog" \
    >"$WORK/plain.out" 2>"$WORK/plain.err" || fail "HistogramLogProcessor -i alone: $(tail -n 3 "$WORK/plain.err")"
count=$(jqr '.workloads[0].fleet.metrics.latency.count')
total=$(sed -n 's/.*Total count *= *\([0-9]*\)\]$/\1/p' "$WORK/plain.out")
[ "$total" = "$count" ] ||
    fail "HistogramLogProcessor -i fleet.bus.hlog does not total $count: $(tail -n 4 "$WORK/plain.out")"
[ "$count" = "$(jqr '[.workloads[0].hosts[].metrics.latency.count] | add')" ] ||
    fail "the fleet's latency count is not the sum of the hosts'"
pass "run.json's count, p50, p90, p99 and p99.9 equal HdrHistogram's reading of a host's and the fleet's .hlog"
