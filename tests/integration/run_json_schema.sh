# run.json of real runs is valid against docs/run-json.schema.json (JSON Schema 2020-12, checked
# with Debian's python3-jsonschema): repetitions with their samples, gates judged against a
# baseline (intervals, ratio, limit), a suspect host, a failed schedule, an incomplete run, load
# shapes (stages, Poisson arrivals, a capacity search), and examples/quick.yaml.
# The schema is closed: a renamed field, a missing one or a wrong type fails validation.
source "$(dirname "$0")/lib.sh"
SCHEMA=$FB_SOURCE_DIR/docs/run-json.schema.json
BIND="tcp://127.0.0.1:*"
PY=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || fail "no python3 with jsonschema (setup.sh installs python3-jsonschema)"

# validate FILE...: 0 when every file is valid; the errors of each invalid one on stdout.
validate() {
    "$PY" - "$SCHEMA" "$@" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[2:]:
    errors = list(validator.iter_errors(json.load(open(path))))
    for e in errors[:5]:
        print("%s: %s: %s" % (path, "/".join(map(str, e.absolute_path)), e.message[:300]))
    bad += bool(errors)
sys.exit(1 if bad else 0)
PY
}
keep() { cp "$(run_dir)/run.json" "$1.json"; mv "$(run_dir)" "run-$1"; }
# run_judged ARGS...: coord run, passed or failed (exit 0 or 1): on a loaded machine an
# open-loop schedule can fall behind and fail the run, which changes nothing for the schema.
run_judged() {
    set +e
    timeout 150 "$COORD" run "$@" >coord.log 2>&1
    local code=$?
    set -e
    [ $code = 0 ] || [ $code = 1 ] || fail "coord run $* exited $code: $(tail -5 coord.log)"
}

cat >rj.yaml <<'YAML'
name: rj
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 1s, warmup: 250ms, interval: 250ms }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: 0us }
    rate: 400/s
    targets: [ "p99 < 10s", "throughput >= 1/s" ]
    gates: [ { metric: p50, max_regression: 100000% }, { metric: rss, max_regression: 1000% } ]
  - name: closed
    kind: eventbus
    params: { publishers: 1, workers: 1, handler_work: 0us }
    targets: [ "errors < 1%" ]
YAML

# 1. Two repetitions: the last carries both runs' intervals; gates skipped (no baseline).
run_judged rj.yaml --bind "$BIND" --local 1 --quiet --repeat 2
[ "$(ls results | wc -l)" = 2 ] || fail "--repeat 2 should leave two results folders"
first=$(ls -d results/*/ | head -n 1)
cp "$first/run.json" rep1.json
rm -rf "$first"
[ "$(jqr '.workloads[0].samples.runs | length')" = 2 ] || fail "the last repetition should carry two runs"
[ "$(jqr '.schema_version')" = 2 ] || fail "no schema_version 2 in run.json"
keep rep2
validate rep1.json rep2.json >errors.txt || fail "repeated runs: $(cat errors.txt)"
pass "two repetitions with samples: valid"

# 2. Gates judged against a baseline of both repetitions: intervals, ratio and limit.
"$COORD" baseline save run-rep2 >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
run_judged rj.yaml --bind "$BIND" --local 1 --quiet
[ "$(jqr '.workloads[0].verdicts[] | select(.type == "gate") | .verdict' | grep -c -v skipped)" = 2 ] ||
    fail "both gates should be judged: $(jqr '.workloads[0].verdicts')"
[ "$(jqr '[.workloads[0].verdicts[] | select(has("ratio"))] | length')" = 1 ] || fail "the p50 gate has no ratio"
keep gated
validate gated.json >errors.txt || fail "gated run: $(cat errors.txt)"
pass "gates against a baseline: valid"

# 2b. Params typed, the unit in the key; the scenario's text and hash, enough to re-run it.
types=$(jq -c '.workloads[0].params | [(.publishers | type), .handler_work_ns, (.overflow | type),
    has("handler_work")]' gated.json)
[ "$types" = '["number",0,"string",false]' ] || fail "params not typed: $(jq -c '.workloads[0].params' gated.json)"
[ "$(jq '.workloads[0].params.workers' gated.json)" = 2 ] || fail "workers should be the number 2"
jq -j '.scenario.text' gated.json >again.yaml
cmp -s again.yaml rj.yaml || fail "scenario.text is not the file as read"
[ "$(sha256sum again.yaml | cut -d' ' -f1)" = "$(jq -r '.scenario.sha256' gated.json)" ] ||
    fail "scenario.sha256 is not the text's"
"$COORD" check again.yaml >check.log 2>&1 || fail "coord check refuses scenario.text: $(cat check.log)"
pass "params typed, scenario.text re-runs with its sha256"

# 2c. A baseline saved before params were typed (schema_version 1: every param as its text)
# still judges the gates: the same params are not "incomparable".
jq '.schema_version = 1 | del(.scenario.sha256, .scenario.text) | .workloads[].params |=
    with_entries(if (.key | endswith("_ns")) then {key: (.key | rtrimstr("_ns")), value: "\(.value)ns"}
                 else {key: .key, value: (.value | tostring)} end)' \
    baselines/rj.json >old.json
[ "$(jq -r '.workloads[0].params.handler_work' old.json)" = 0ns ] || fail "old.json: $(jq -c '.workloads[0].params' old.json)"
run_judged rj.yaml --bind "$BIND" --local 1 --quiet --baseline old.json
[ "$(jqr '[.workloads[0].verdicts[] | select(.type == "gate") | .verdict] | map(select(. == "incomparable" or . == "skipped")) | length')" = 0 ] ||
    fail "an old-format baseline with the same params should be comparable: $(jqr '.workloads[0].verdicts')"
rm -rf "$(run_dir)"
cp -r run-gated run-old
jq '.schema_version = 1' gated.json >run-old/run.json
set +e
"$COORD" baseline save run-old --add >add.log 2>&1
code=$?
set -e
add_log=$(cat add.log)
[ $code != 0 ] && [[ $add_log == *"schema_version 1, the baseline's runs are of 2"* ]] ||
    fail "baseline save --add of another schema_version: exit $code: $add_log"
pass "a baseline of schema_version 1 (text params) still judges the gates; --add refuses mixing"

# 3. A suspect host with a failed schedule (see suspect_host.sh).
cat >slow.yaml <<'YAML'
name: slow
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 2s, warmup: 0s, interval: 1s }
workloads:
  - name: blocked
    kind: eventbus
    params: { publishers: 1, workers: 1, queue: 1, overflow: block, handler_work: 2ms, mix: logline }
    rate: 200/s
YAML
run_coord 1 run slow.yaml --bind "$BIND" --local 1 --quiet
[ "$(jqr '.hosts[0].suspect | length > 0')" = true ] || fail "the host should be suspect"
keep suspect
validate suspect.json >errors.txt || fail "suspect host: $(cat errors.txt)"
pass "suspect host, failed schedule: valid"

# 4. Incomplete: one of two agents joins.
sed 's/expect: 1/expect: 2, join_timeout: 2s/' rj.yaml >rj2.yaml
run_coord 3 run rj2.yaml --bind "$BIND" --local 1 --quiet
[ "$(jqr '.outcome')" = incomplete ] || fail "the outcome should be incomplete"
keep incomplete
validate incomplete.json >errors.txt || fail "incomplete run: $(cat errors.txt)"
pass "incomplete run: valid"

# 5. The README's first run (examples/quick.yaml, two local agents).
run_judged "$FB_SOURCE_DIR/examples/quick.yaml" --bind "$BIND" --quiet
keep quick
validate quick.json >errors.txt || fail "examples/quick.yaml: $(cat errors.txt)"
pass "examples/quick.yaml: valid"

# 5b. Load shapes: stages with a linear ramp and Poisson arrivals (seed recorded), a capacity
# search (its object, the counter), each interval's target rate.
cat >shapes.yaml <<'YAML'
name: shapes
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { warmup: 250ms, interval: 250ms }
workloads:
  - name: ramp
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: 0us }
    stages: [ { duration: 500ms, rate: 200/s }, { duration: 500ms, rate: 400/s } ]
    ramp: linear
    arrivals: poisson
  - name: cap
    kind: eventbus
    params: { publishers: 1, workers: 1, queue: 1, overflow: block, mix: logline, handlers: 1,
              handler_work: 0us, handler_sleep: 1ms, workers_as: thread }
    capacity: { objective: "p99 < 20ms", start: 100/s, max: 3200/s, step: 2x, hold: 250ms }
    targets: [ "capacity > 1/s" ]
YAML
run_judged shapes.yaml --bind "$BIND" --local 1 --quiet
[ "$(jqr '.workloads[0].seed | type')/$(jqr '.workloads[1].capacity.step')" = number/2 ] ||
    fail "no seed or capacity in run.json"
keep shapes
validate shapes.json >errors.txt || fail "stages, poisson, capacity: $(cat errors.txt)"
pass "stages, poisson arrivals, capacity search: valid"
for edit in \
    '.workloads[0].stages[0].rate = 1' \
    '.workloads[0].ramp = "smooth"' \
    '.workloads[0].seed = "1"' \
    '.workloads[1].capacity.step = "2x"' \
    '.workloads[0].samples.runs[0].intervals[0].target_rate_per_s = "200/s"'; do
    jq "$edit" shapes.json >mutated.json || fail "jq: $edit"
    if validate mutated.json >errors.txt; then fail "the schema accepts a run.json edited by: $edit"; fi
done
pass "the schema refuses mistyped stages, ramp, seed, capacity and target rates"

# 6. The schema catches a renamed, missing or mistyped field, at every level.
n=0
for edit in \
    '.run_id as $v | del(.run_id) | .runid = $v' \
    'del(.schema_version)' \
    '.schema_version = 1' \
    '.workloads[0].params.handler_work_ns = "0us"' \
    '.workloads[0].params.handler_work_ns = 0.5' \
    '.workloads[0].params.workers = 2.5' \
    'del(.scenario.text)' \
    '.scenario.sha256 = "abc"' \
    '.hosts[0].fingerprint.cpu = .hosts[0].fingerprint.cpu_model | del(.hosts[0].fingerprint.cpu_model)' \
    '.workloads[0].rate = .workloads[0].rate_per_s | del(.workloads[0].rate_per_s)' \
    '.workloads[0].fleet.metrics.latency.p999 = 1' \
    '.workloads[0].fleet.throughput = "400/s"' \
    '.workloads[0].hosts["local-1"].ci.p50.low = 1' \
    '.workloads[0].verdicts[0].failed = .workloads[0].verdicts[0].counts_as_failed | del(.workloads[0].verdicts[0].counts_as_failed)' \
    '(.workloads[0].verdicts[] | select(has("ratio"))).ratio.hi = "1.2"' \
    '.workloads[0].samples.runs[0].intervals[0].length = 1' \
    '.outcome = "ok"'; do
    n=$((n + 1))
    jq "$edit" gated.json >mutated.json || fail "jq: $edit"
    if validate mutated.json >errors.txt; then fail "the schema accepts a run.json edited by: $edit"; fi
done
pass "$n edited run.json files: each one refused"
