# Gates: without a baseline they are skipped (not passed); `coord baseline save` keeps a run's
# numbers; against it a loose gate holds (exit 0), and against a far faster baseline a gate
# fails (exit 1).
source "$(dirname "$0")/lib.sh"
write() { # write RATE_LINE ALLOWANCE
    cat >gated.yaml <<YAML
name: gated
agents: { expect: 1, heartbeat_timeout: 3s }
defaults: { duration: 2s, warmup: 1s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: 0us }
    $1
    gates: [ { metric: p50, max_regression: $2 }, { metric: errors, max_regression: 50% } ]
YAML
}
write "rate: 1000/s" 1000%
run_coord 0 run gated.yaml --bind tcp://127.0.0.1:5771 --local 1 --quiet
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = skipped ] || fail "a gate without baseline must be skipped"
grep -q 'no baseline' "$(run_dir)/report.md" || fail "report.md does not say why the gate was skipped"
"$COORD" baseline save "$(run_dir)" >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
[ -s baselines/gated.json ] || fail "no baselines/gated.json"
pass "gate without baseline: skipped; baseline saved"

rm -rf results
run_coord 0 run gated.yaml --bind tcp://127.0.0.1:5771 --local 1 --quiet
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = held ] || fail "loose gate should hold: $(jqr '.workloads[0].verdicts[0].detail')"
base=$(jq -r '.workloads[0].fleet.metrics.latency.p50' baselines/gated.json)
[ "$(jqr '.workloads[0].verdicts[0].baseline | floor')" = "$base" ] ||
    fail "the gate did not compare with the saved p50 ($base)"
pass "loose gate against the saved baseline: held"

# Closed loop publishes in ~a microsecond; open loop at 1000/s waits for timer wake-ups
# (tens of microseconds at least): against the closed-loop baseline the p50 gate must fail.
rm -rf results baselines
write "" 100%
run_coord 0 run gated.yaml --bind tcp://127.0.0.1:5771 --local 1 --quiet
"$COORD" baseline save "$(run_dir)" --out fast >/dev/null
rm -rf results
write "rate: 1000/s" 100%
run_coord 1 run gated.yaml --bind tcp://127.0.0.1:5771 --local 1 --quiet --baseline fast/gated.json
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = failed ] || fail "the p50 gate should fail"
pass "gate against a far faster baseline: exit 1 ($(jqr '.workloads[0].verdicts[0].detail'))"
