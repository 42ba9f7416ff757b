# Gates: without a baseline they are skipped (not passed); `coord baseline save` keeps a run's
# numbers; against it a gate holds (exit 0), and against a baseline the run cannot reach it
# fails (exit 1). The verdicts rest on open-loop throughput, which is the rate whatever the
# machine's speed (to within the last operation's end past the planned end, a fraction of a
# millisecond in 2 s), so no timing decides this test.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
write() { # write RATE P50_ALLOWANCE
    cat >gated.yaml <<YAML
name: gated
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 2s, warmup: 1s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: 0us }
    rate: $1
    gates: [ { metric: throughput, max_regression: 10% }, { metric: p50, max_regression: $2 } ]
YAML
}
write 1000/s 10%
run_coord 0 run gated.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = skipped ] || fail "a gate without baseline must be skipped"
[ "$(jqr '.workloads[0].verdicts[1].verdict')" = skipped ] || fail "a gate without baseline must be skipped"
grep -q 'no baseline' "$(run_dir)/report.md" || fail "report.md does not say why the gate was skipped"
grep -q 'passed: 1 schedule held, 2 gates skipped (no baseline)' coord.log || fail "headline: $(grep passed coord.log)"
[ "$(jqr '.summary')" = "passed: 1 schedule held, 2 gates skipped (no baseline)" ] || fail "run.json summary: $(jqr '.summary')"
"$COORD" baseline save "$(run_dir)" >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
[ -s baselines/gated.json ] || fail "no baselines/gated.json"
pass "gates without a baseline: skipped; baseline saved"

# Same rate: throughput is the same 1000/s and the gate holds. The p50 gate allows a
# thousandfold slowdown, so only a broken comparison could fail it; it must read the saved p50.
rm -rf results
write 1000/s 100000%
run_coord 0 run gated.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = held ] || fail "throughput gate should hold: $(jqr '.workloads[0].verdicts[0].detail')"
near() { awk -v v="$1" -v want="$2" 'BEGIN { exit !(v <= want && v >= want * 0.99) }'; }
near "$(jqr '.workloads[0].verdicts[0].baseline')" 1000 ||
    fail "baseline throughput should be 1000, not $(jqr '.workloads[0].verdicts[0].baseline')"
base=$(jq -r '.workloads[0].fleet.metrics.latency.p50' baselines/gated.json)
[ "$(jqr '.workloads[0].verdicts[1].baseline | floor')" = "$base" ] ||
    fail "the p50 gate did not compare with the saved p50 ($base)"
pass "gates against the saved baseline: held"

# Half the rate: throughput 500/s against 1000/s, at most 10% lower allowed: the gate fails.
rm -rf results
write 500/s 100000%
run_coord 1 run gated.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = failed ] || fail "the throughput gate should fail"
near "$(jqr '.workloads[0].verdicts[0].actual')" 500 ||
    fail "throughput should be 500, not $(jqr '.workloads[0].verdicts[0].actual')"
pass "gate against a baseline out of reach: exit 1 ($(jqr '.workloads[0].verdicts[0].detail'))"
