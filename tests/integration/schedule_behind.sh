#!/usr/bin/env bash
# schedule_behind.sh: an open-loop workload whose generator cannot keep its rate (each publish
# waits ~5 ms for room in a queue of one, against one planned every 0.5 ms). It must stop at
# the planned end, count what it could not start as missed, fail a `schedule` verdict (exit
# 1) in run.json, report.md and junit.xml, report throughput as operations over the time they
# took (below the rate), and leave the next workload its planned start.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
cat >"$WORK/behind.yaml" <<YAML
name: behind
agents: { expect: 1, join_timeout: 15s, heartbeat_timeout: 5s }
defaults: { duration: 2s, warmup: 0s, interval: 1s }
workloads:
  - name: slow
    kind: eventbus
    params: { publishers: 1, workers: 1, queue: 1, overflow: block, mix: logline, handlers: 1,
              handler_work: 5ms }
    rate: 2000/s
    targets: [ "throughput > 1/s" ]
  - name: next
    kind: eventbus
    params: { publishers: 1, workers: 1, handler_work: 1us }
    duration: 1s
YAML
run_coord 1 run "$WORK/behind.yaml" --local 1 --bind "tcp://127.0.0.1:$port" --quiet
dir=$(run_dir)

v=$(jqr '.workloads[0].verdicts[] | select(.type == "schedule") | .verdict')
[ "$v" = failed ] || fail "schedule verdict is \"$v\", expected failed"
ops=$(jqr '.workloads[0].fleet.ops')
missed=$(jqr '.workloads[0].fleet.counters.missed.value')
[ "$missed" -gt 0 ] || fail "nothing counted missed ($ops ops)"
[ $((ops + missed)) = 4000 ] || fail "ops $ops + missed $missed is not the 4000 planned"
[ "$(jqr '.workloads[1].verdicts | map(select(.type == "schedule")) | length')" = 0 ] ||
    fail "a closed-loop workload has no schedule to judge"

# Throughput: operations over the time they took, never the planned rate.
awk -v t="$(jqr '.workloads[0].fleet.throughput')" -v ops="$ops" \
    -v ns="$(jqr '.workloads[0].fleet.measured_ns')" \
    'BEGIN { exit !(t < 2000 && ns >= 2e9 && (t - ops * 1e9 / ns) ^ 2 < 1e-6) }' ||
    fail "throughput $(jqr '.workloads[0].fleet.throughput') is not ops $ops over measured_ns"

grep -q 'FAILED\*\* `schedule' "$dir/report.md" || fail "report.md does not show the schedule verdict"
grep -q 'missed' "$dir/report.md" || fail "report.md does not say what was missed"
grep -q 'schedule' "$dir/junit.xml" || fail "junit.xml has no schedule case"
grep -q 'generator fell behind' "$WORK/coord.log" || fail "the summary does not say it fell behind"

# The next workload began at its planned instant: 2 s + the 1 s gap after the run's start
# (not after the ~20 s the late operations would have taken).
first=$(grep -m 1 -E '^[0-9]' "$dir/local-1.next.hlog" | cut -d, -f1)
awk -v s="$first" 'BEGIN { exit !(s >= 2.9 && s < 4.0) }' ||
    fail "workload 2 began at $first s, planned 3.0 s"
pass "missed $missed of 4000, schedule failed, throughput honest, next workload on time"
