#!/usr/bin/env bash
# capacity.sh: a capacity search through the real coord and two local agents. The event bus
# with one pool worker, a queue of one and handlers sleeping 1 ms lets at most ~1000 publishes a
# second through, against steps from 100/s doubling to 6400/s (1 s each): each host stops its
# own search before the last step, and reports its capacity, a step's rate, as the counter
# `capacity` in run.json (per host; the fleet's is the highest). The target on it is judged per
# host, report.md lists the capacities under the table of latency against offered load, and an
# objective that does not parse or a start above max is a file:line:col error at coord check.
# Only counts and the search's bookkeeping are asserted, not where the knee is (that is timing:
# a machine loaded by other work can fail even the first step, capacity 0, target failed).
. "$(dirname "$0")/lib.sh"

cat >"$WORK/cap.yaml" <<YAML
name: cap
agents: { expect: 2, join_timeout: 15s, heartbeat_timeout: 5s }
defaults: { warmup: 1s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 2, workers: 1, queue: 1, overflow: block, mix: logline, handlers: 1,
              handler_work: 0us, handler_sleep: 1ms, workers_as: thread }
    capacity: { objective: "p99 < 20ms", start: 100/s, max: 6400/s, step: 2x, hold: 1s }
    targets: [ "capacity > 1/s" ]
YAML
# Exit 0, or 1 when a host loaded by other work met the objective on no step (capacity 0).
set +e
timeout 150 "$COORD" run "$WORK/cap.yaml" --local 2 --bind "tcp://127.0.0.1:$(free_port)" \
    --quiet >"$WORK/coord.log" 2>&1
code=$?
set -e
[ $code = 0 ] || [ $code = 1 ] || fail "coord run exited $code"
dir=$(run_dir)
[ "$(jqr '.workloads[0].capacity.objective')" = "p99 < 20ms" ] || fail "capacity not in run.json"
[ "$(jqr '.workloads[0].stages | length')" = 7 ] || fail "expected the 7 steps 100..6400/s"
best=0
worst=-1
for h in local-1 local-2; do
    c=$(jqr ".workloads[0].hosts[\"$h\"].counters.capacity.value")
    case " 0 100 200 400 800 1600 3200 " in *" $c "*) ;; *) fail "host $h: capacity \"$c\" is no step's rate" ;; esac
    u=$(jqr ".workloads[0].hosts[\"$h\"].counters.capacity_unsure.value")
    [ "$u" -ge 0 ] && [ "$u" -le 7 ] || fail "host $h: capacity_unsure \"$u\" is not 0..7 steps"
    n=$(jqr ".workloads[0].hosts[\"$h\"].measured_ns")
    [ "$n" -lt 7000000000 ] || fail "host $h measured $n ns: its search did not stop past the knee"
    [ "$c" -gt "$best" ] && best=$c
    { [ "$worst" -lt 0 ] || [ "$c" -lt "$worst" ]; } && worst=$c
done
[ "$(jqr '.workloads[0].fleet.counters.capacity.value')" = "$best" ] ||
    fail "the fleet's capacity is not the highest host's ($best)"
want=held # the target holds per host: it fails when any host's capacity is 0
[ "$worst" -gt 0 ] || want=failed
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = "$want" ] || fail "capacity > 1/s is not $want"
[ $code = $([ $want = held ] && echo 0 || echo 1) ] || fail "exit $code with the target $want"
grep -q 'Capacity (the highest step that met `p99 < 20ms`' "$dir/report.md" ||
    fail "report.md does not list the capacities"
# coord compare sets the hosts' capacities side by side: each row's own, its ratio to the first.
"$COORD" compare "$dir" --by host --json >"$WORK/cmp.json" 2>"$WORK/cmp.log" ||
    fail "coord compare: $(cat "$WORK/cmp.log")"
for i in 0 1; do
    h=$(jq -r ".workloads[0].capacity[$i].name" "$WORK/cmp.json")
    got=$(jq -r ".workloads[0].capacity[$i].per_host_per_s" "$WORK/cmp.json")
    want=$(jqr ".workloads[0].hosts[\"$h\"].counters.capacity.value")
    [ "${got%.0}" = "$want" ] || fail "compare: capacity of $h is $got, run.json says $want"
done
"$COORD" compare "$dir" --by board --markdown >"$WORK/cmp.md" 2>"$WORK/cmp.log" ||
    fail "coord compare --by board: $(cat "$WORK/cmp.log")"
grep -q '^### bus: capacity (reference: ' "$WORK/cmp.md" || fail "no capacity table by board"
pass "capacity: each host stopped past its knee, capacity a step's rate, fleet the highest"

cat >"$WORK/bad.yaml" <<YAML
name: bad
workloads:
  - name: a
    kind: eventbus
    capacity: { objective: "p99 < 2ms", start: 5000/s, max: 1000/s }
YAML
run_coord 2 check "$WORK/bad.yaml"
grep -q 'bad.yaml:5:48: capacity.start (5000/s) must not be above max' "$WORK/coord.log" ||
    fail "start above max: $(cat "$WORK/coord.log")"
sed -i 's/p99 < 2ms/p99 soon/; s/5000/500/' "$WORK/bad.yaml"
run_coord 2 check "$WORK/bad.yaml"
grep -q 'bad.yaml:5:28: capacity.objective: target "p99 soon"' "$WORK/coord.log" ||
    fail "objective that does not parse: $(cat "$WORK/coord.log")"
pass "start above max and an unparsable objective: file:line:col, exit 2"
