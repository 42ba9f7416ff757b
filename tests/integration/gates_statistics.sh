# Noise-aware gates: a large injected regression (the handlers' work raised from 0 to 2 ms,
# which the completion latency carries) fails for real against a three-run baseline; a baseline file that is truncated, of an older
# format, of another scenario or with corrupt histograms stops the run with exit 2 naming the
# file before any agent runs, never a pass; out-of-range gate options are file:line:col errors at `coord check`.
source "$(dirname "$0")/lib.sh"
write() { # write HANDLER_WORK [EXTRA GATE KEYS]
    cat >stat.yaml <<YAML
name: stat
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 1500ms, warmup: 500ms, interval: 250ms }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: $1 }
    rate: 200/s
    gates: [ { metric: completion.p50, max_regression: 20%${2:-} } ]
YAML
}
BIND="tcp://127.0.0.1:*"
write 0us
for i in 1 2 3; do
    run_coord 0 run stat.yaml --bind "$BIND" --local 1 --quiet
    mv "$(run_dir)" "base$i"
done
"$COORD" baseline save base1 base2 base3 >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
cp baselines/stat.json good.json

# The regression: completion p50 goes from tens of microseconds to over 2 ms.
write 2ms
run_coord 1 run stat.yaml --bind "$BIND" --local 1 --quiet --allow-different params
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = failed ] || fail "a 2 ms handler should fail the completion.p50 gate: $(jqr '.workloads[0].verdicts[0].detail')"
jq -n "$(jqr '.workloads[0].verdicts[0].ratio.lo') > 1.2" | grep -q true || fail "the ratio's whole interval should be above 1.2x"
grep -q 'FAILED' "$(run_dir)/report.md" || fail "report.md does not show the failure"
grep -q '<failure' "$(run_dir)/junit.xml" || fail "junit.xml does not show the failure"
pass "injected regression: failed ($(jqr '.workloads[0].verdicts[0].detail' | cut -c1-140)...)"
mv "$(run_dir)" regressed

# --add: a third run joins the baseline.
"$COORD" baseline save regressed --add >save.log 2>&1 && fail "a run with other params must not join the baseline"
grep -q 'other params' save.log || fail "baseline save --add does not say why: $(cat save.log)"
"$COORD" baseline save base1 --add >save.log 2>&1 || fail "baseline save --add failed: $(cat save.log)"
[ "$(jq '.runs | length' baselines/stat.json)" = 4 ] || fail "--add should make four runs"
pass "baseline save --add appends runs of the same setting, refuses others"

# Bad baseline files: exit 2, the file named, the reason said.
write 0us
bad() { # bad REASON_PATTERN
    rm -rf results
    run_coord 2 run stat.yaml --bind "$BIND" --local 1 --quiet --baseline bad.json
    [ ! -d results ] || [ -z "$(ls results)" ] || fail "a run started against an unusable baseline"
    grep -q "bad.json" coord.log || fail "the error does not name the file: $(tail -3 coord.log)"
    grep -q "$1" coord.log || fail "the error does not say \"$1\": $(tail -3 coord.log)"
}
head -c 2000 good.json >bad.json
bad "corrupt or truncated"
jq 'del(.fleetbench_baseline)' good.json >bad.json
bad "older baseline format"
jq '.scenario.name = "other"' good.json >bad.json
bad 'scenario "other"'
jq '.workloads[0].samples.runs[0].intervals[0].metrics.latency = "SElTVA=="' good.json >bad.json
bad "run 1 interval 1"
pass "truncated, older, other-scenario and corrupt baselines: exit 2 naming the file"

# Gate options out of range: file:line:col at check.
write 0us ", confidence: 120%"
set +e
"$COORD" check stat.yaml >check.log 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "confidence 120% should be refused (exit $code)"
grep -q 'stat.yaml:9:[0-9]*: confidence' check.log || fail "no file:line:col: $(cat check.log)"
write 0us ", on_inconclusive: maybe"
set +e
"$COORD" check stat.yaml >check.log 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q 'stat.yaml:9:[0-9]*: on_inconclusive: expected pass, fail or rerun' check.log ||
    fail "on_inconclusive: maybe should be refused with file:line:col: $(cat check.log)"
write 0us ", on_inconclusive: fail, confidence: 90%"
"$COORD" check stat.yaml >check.log 2>&1 || fail "valid gate options refused: $(cat check.log)"
pass "confidence and on_inconclusive checked at coord check"
