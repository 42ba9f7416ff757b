#!/usr/bin/env bash
# stages.sh: load shapes through the real coord and two local agents. A workload in stages
# (200/s for 1 s, then a linear ramp to 600/s over 2 s) reports each measured interval's offered
# rate in run.json (the fleet's: 400, 600, 1000 per second, the hosts' summed) and its planned
# operations all run or are missed (2 x 1000, counted, not timed); the intervals' ops add up to
# the fleet's. A Poisson workload with a seed records it, and a second run with the same seed
# plans every host's schedule exactly as the first (its planned count, run + missed, is the
# same per host), while the two hosts' schedules differ. report.md sets latency against offered
# load. A stage overlapping the previous one is a file:line:col error at coord check, exit 2.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/shapes.yaml" <<YAML
name: shapes
agents: { expect: 2, join_timeout: 15s, heartbeat_timeout: 5s }
defaults: { warmup: 0s, interval: 1s }
workloads:
  - name: ramp
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 1us }
    stages:
      - { duration: 1s, rate: 200/s }
      - { duration: 2s, rate: 600/s }
    ramp: linear
  - name: pois
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 1us }
    rate: 500/s
    duration: 2s
    arrivals: poisson
    seed: 99
YAML

# planned POISSON-WORKLOAD-HOST: ops + missed of one host
planned() { jqr "(.workloads[$1].hosts[\"$2\"] | .ops + (.counters.missed.value // 0))"; }

run_coord 0 run "$WORK/shapes.yaml" --local 2 --bind "tcp://127.0.0.1:$(free_port)" --quiet
dir=$(run_dir)
[ "$(jqr '.workloads[0].ramp')/$(jqr '.workloads[0].arrivals')" = linear/uniform ] ||
    fail "run.json does not record ramp and arrivals"
[ "$(jqr '[.workloads[0].stages[].rate_per_s] | join(",")')" = 200,600 ] || fail "stages not in run.json"
[ "$(jqr '.workloads[0].duration_s')" = 3 ] || fail "duration is not the stages' sum"
targets=$(jqr '[.workloads[0].samples.runs[0].intervals[].target_rate_per_s | round] | join(",")')
[ "$targets" = 400,600,1000 ] || fail "intervals' target rates are $targets, expected 400,600,1000"
ops=$(jqr '.workloads[0].fleet.ops')
missed=$(jqr '.workloads[0].fleet.counters.missed.value // 0')
[ $((ops + missed)) = 2000 ] || fail "ops $ops + missed $missed is not the 2000 planned"
sum=$(jqr '[.workloads[0].samples.runs[0].intervals[].ops] | add')
[ "$sum" = "$ops" ] || fail "the intervals' ops add up to $sum, the fleet's are $ops"
for h in local-1 local-2; do
    [ "$(planned 0 $h)" = 1000 ] || fail "host $h planned $(planned 0 $h), expected 1000"
done
pass "stages: target rates 400,600,1000 per interval, 2000 planned, intervals add up"

[ "$(jqr '.workloads[1].seed')" = 99 ] || fail "the seed is not in run.json"
[ "$(jqr '.workloads[1].arrivals')" = poisson ] || fail "arrivals not recorded"
first1=$(planned 1 local-1) first2=$(planned 1 local-2)
[ "$first1" != "$first2" ] || fail "both hosts planned $first1: their Poisson streams are the same"
for n in "$first1" "$first2"; do # Poisson of mean 1000: 900..1100 is over 3 standard deviations
    [ "$n" -gt 900 ] && [ "$n" -lt 1100 ] || fail "a host planned $n operations at 500/s for 2 s"
done
grep -q 'Latency against offered load' "$dir/report.md" || fail "report.md has no offered-load table"
grep -q 'latency against offered load' "$dir/report.html" || fail "report.html has no offered-load chart"

mv "$WORK/results" "$WORK/results-1"
run_coord 0 run "$WORK/shapes.yaml" --local 2 --bind "tcp://127.0.0.1:$(free_port)" --quiet
[ "$(planned 1 local-1)/$(planned 1 local-2)" = "$first1/$first2" ] ||
    fail "the same seed planned $(planned 1 local-1)/$(planned 1 local-2), first $first1/$first2"
pass "poisson: seed recorded, hosts differ ($first1, $first2), the same seed repeats them"

cat >"$WORK/overlap.yaml" <<YAML
name: overlap
workloads:
  - name: a
    kind: eventbus
    stages:
      - { duration: 2s, rate: 200/s }
      - { at: 1s, duration: 2s, rate: 600/s }
YAML
run_coord 2 check "$WORK/overlap.yaml"
grep -q 'overlap.yaml:7:15: stage 2 starts at 1s, before stage 1 ends at 2s' "$WORK/coord.log" ||
    fail "coord check did not point at the overlap: $(cat "$WORK/coord.log")"
pass "an overlapping stage: file:line:col, exit 2"
