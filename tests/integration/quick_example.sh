# The README's example: two local agents, exit 0, fleet counts equal the sum of the hosts'.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
run_coord 0 run "$FB_SOURCE_DIR/examples/quick.yaml" --bind tcp://127.0.0.1:$PORT --quiet
dir=$(run_dir)
for f in run.json report.md junit.xml local-1.bus-closed.hlog local-2.bus-open.hlog; do
    [ -s "$dir/$f" ] || fail "$f missing from $dir"
done
[ -z "$(find "$dir" -name '*.tmp')" ] || fail "temp files left in $dir"
[ "$(jqr '.outcome')" = passed ] || fail "outcome $(jqr .outcome)"
[ "$(jqr '.hosts | length')" = 2 ] || fail "expected 2 hosts"
for w in 0 1; do
    fleet=$(jqr ".workloads[$w].fleet.ops")
    sum=$(jqr "[.workloads[$w].hosts[].ops] | add")
    [ "$fleet" -gt 0 ] || fail "workload $w measured nothing"
    [ "$fleet" = "$sum" ] || fail "workload $w: fleet ops $fleet != sum of hosts $sum"
    fcount=$(jqr ".workloads[$w].fleet.metrics.latency.count")
    hcount=$(jqr "[.workloads[$w].hosts[].metrics.latency.count] | add")
    [ "$fcount" = "$hcount" ] || fail "workload $w: fleet samples $fcount != $hcount"
    [ "$fcount" = "$fleet" ] || fail "workload $w: $fcount latency samples for $fleet ops"
done
# Every hlog row decodes to the counts reported: latency rows of local-1 add up to its ops.
grep -q '^#\[Histogram log format version 1.3\]' "$dir/local-1.bus-open.hlog" || fail "hlog header"
grep -q 'passed: 5 targets held, 1 schedule held' "$WORK/coord.log" || fail "summary line missing"
pass "quick.yaml: exit 0, fleet = sum of hosts"

# coord compare: one row per host; grouped by CPU model (both hosts here), the merged p50 is
# exactly the fleet's; ratios are to the reference row.
"$COORD" compare "$dir" --json >compare.json || fail "coord compare failed"
[ "$(jq '.workloads[0].metrics[0].rows | length' compare.json)" = 2 ] || fail "compare should list 2 hosts"
[ "$(jq '.workloads[0].metrics[0].rows[0].p50_vs_ref' compare.json)" = 1 ] || fail "the reference row's ratio must be 1"
"$COORD" compare "$dir" --by cpu --json >bycpu.json || fail "coord compare --by cpu failed"
[ "$(jq '.workloads[0].metrics[0].rows[0].hosts' bycpu.json)" = 2 ] || fail "both hosts share a CPU model"
[ "$(jq '.workloads[0].metrics[0].rows[0].p50_ns' bycpu.json)" = "$(jqr '.workloads[0].fleet.metrics.latency.p50')" ] ||
    fail "the group's p50 is not the fleet's exact p50"
"$COORD" compare "$dir" --ref local-2 --markdown >ref.md || fail "coord compare --markdown failed"
grep -q 'reference: local-2' ref.md || fail "--ref ignored"
pass "coord compare: per host, by CPU (exact merge), markdown with --ref"
