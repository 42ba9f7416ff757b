# Gates per host: two local agents (local-1, local-2) keep their own intervals in run.json,
# carried across --repeat; a baseline of three repetitions keeps them per host. A large
# injected regression (the handlers' work raised from 0 to 2 ms) fails the per-host gate
# naming a host in the headline, run.json, report.md and junit.xml; an A/A run does not fail
# it. A host the baseline lacks is incomparable and named; `baseline save --add` adds it. A
# baseline without host intervals makes the gate incomparable (not a crash); a corrupt host
# interval stops the run with exit 2 naming the file.
source "$(dirname "$0")/lib.sh"
write() { # write HANDLER_WORK
    cat >ph.yaml <<YAML
name: ph
agents: { expect: 2, heartbeat_timeout: 5s }
defaults: { duration: 1500ms, warmup: 500ms, interval: 250ms }
workloads:
  - name: bus
    kind: eventbus
    # Kernel threads for the pool: the A/A below adds a third agent on the same two cores,
    # and goroutine-like carriers (ncpu per agent) double completion.p50 when they outnumber
    # the cores; this test is of the gate, not of the model.
    params: { publishers: 1, workers: 2, handler_work: $1, workers_as: thread, spawn_as: thread }
    rate: 100/s
    gates: [ { metric: completion.p50, max_regression: 50%, per: host } ]
YAML
}
BIND="tcp://127.0.0.1:*"
write 0us
"$COORD" check ph.yaml >check.log 2>&1 || fail "per: host on a gate refused: $(cat check.log)"
run_coord 0 run ph.yaml --bind "$BIND" --local 2 --quiet --repeat 3
last=$(ls -d results/*/ | tail -n 1)
for h in local-1 local-2; do
    [ "$(jq ".workloads[0].hosts[\"$h\"].samples.runs | length" "$last/run.json")" = 3 ] ||
        fail "$h should carry three repetitions of intervals"
    [ "$(jq -c ".workloads[0].hosts[\"$h\"].samples.runs[0].intervals[0].metrics | keys" "$last/run.json")" = '["completion"]' ] ||
        fail "$h should keep only the metric the gate needs"
done
"$COORD" baseline save "$last" >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
[ "$(jq '.workloads[0].hosts["local-1"].samples.runs | length' baselines/ph.json)" = 3 ] ||
    fail "the baseline should keep local-1's three repetitions"
cp baselines/ph.json good.json
rm -rf results
pass "hosts' intervals in run.json, carried across --repeat, kept by baseline save"

# The regression: completion p50 from tens of microseconds to over 2 ms, on every host.
write 2ms
run_coord 1 run ph.yaml --bind "$BIND" --local 2 --quiet --allow-different params
v='.workloads[0].verdicts[0]'
[ "$(jqr "$v.verdict")" = failed ] || fail "the per-host gate should fail: $(jqr "$v.detail")"
[ "$(jqr "$v.per")" = host ] || fail "per: host not in run.json"
[ "$(jqr "$v.groups | length")" = 2 ] || fail "two hosts judged: $(jqr "$v.groups")"
[ "$(jqr "$v.groups | map(.ratio.point > 3) | all")" = true ] || fail "each host's ratio above 3x: $(jqr "$v.groups")"
jqr "$v.failed_on | join(\",\")" >failed_on.txt
grep -q 'local-[12]' failed_on.txt || fail "failed_on names no host: $(cat failed_on.txt)"
out=$(cat coord.log)
case "$out" in
*"1 gate failed (on host local-"* | *"1 gate failed (on hosts local-"*) ;;
*) fail "the headline does not name the hosts: $out" ;;
esac
report=$(cat "$(run_dir)/report.md")
case "$report" in
*'(per host)`: failed on '[12]' of 2 hosts: local-'*) ;;
*) fail "report.md does not name the hosts: $report" ;;
esac
junit=$(cat "$(run_dir)/junit.xml")
case "$junit" in
*'<failure type="gate" message="failed on '[12]' of 2 hosts: local-'*) ;;
*) fail "junit.xml does not name the hosts: $junit" ;;
esac
rm -rf results
pass "injected regression fails per host: $(echo "$out" | grep -o '1 gate failed[^,]*')"

# A/A: the same setting again does not fail; a third host the baseline lacks is incomparable.
write 0us
sed 's/expect: 2/expect: 3/' ph.yaml >ph3.yaml
run_coord 0 run ph3.yaml --bind "$BIND" --local 3 --quiet --baseline good.json
[ "$(jqr "$v.verdict")" != failed ] || fail "A/A should not fail: $(jqr "$v.detail")"
[ "$(jqr "$v.groups | map(select(.name == \"local-3\")) | .[0].verdict")" = incomparable ] ||
    fail "local-3 is not in the baseline: $(jqr "$v.groups")"
[ "$(jqr "$v.groups | map(select(.name != \"local-3\") | .verdict != \"failed\") | all")" = true ] ||
    fail "A/A: local-1 and local-2 should not fail: $(jqr "$v.groups")"
jqr "$v.detail" >detail.txt
grep -q 'the baseline has no host local-3' detail.txt || fail "local-3 not named: $(cat detail.txt)"
pass "A/A does not fail; a host the baseline lacks is incomparable: $(cut -c1-100 detail.txt)"

# --add: hosts matched by id, the new one added.
cp good.json baselines/ph.json
"$COORD" baseline save "$(run_dir)" --add >save.log 2>&1 || fail "baseline save --add failed: $(cat save.log)"
[ "$(jq '.workloads[0].hosts["local-1"].samples.runs | length' baselines/ph.json)" = 4 ] ||
    fail "--add should give local-1 a fourth run"
[ "$(jq '.workloads[0].hosts["local-3"].samples.runs | length' baselines/ph.json)" = 1 ] ||
    fail "--add should add local-3"
rm -rf results
pass "baseline save --add matches hosts by id and adds a new one"

# A baseline without host intervals (saved before they were kept): incomparable, exit 0.
jq 'del(.workloads[].hosts[].samples)' good.json >old.json
run_coord 0 run ph.yaml --bind "$BIND" --local 2 --quiet --baseline old.json
[ "$(jqr "$v.verdict")" = incomparable ] || fail "no host samples: incomparable: $(jqr "$v.detail")"
jqr "$v.detail" >detail.txt
grep -q 'keeps no samples of host local-' detail.txt || fail "not said why: $(cat detail.txt)"
rm -rf results
pass "a baseline without host intervals: incomparable"

# A corrupt host interval: exit 2 naming the file, before any agent runs.
jq '.workloads[0].hosts["local-2"].samples.runs[0].intervals[0].metrics.completion = "SElTVA=="' good.json >bad.json
run_coord 2 run ph.yaml --bind "$BIND" --local 2 --quiet --baseline bad.json
[ ! -d results ] || [ -z "$(ls results)" ] || fail "a run started against an unusable baseline"
grep -q 'bad.json' coord.log || fail "the error does not name the file: $(tail -3 coord.log)"
grep -q 'host local-2: samples: run 1 interval 1' coord.log || fail "the error does not name the host: $(tail -3 coord.log)"
pass "a corrupt host interval: exit 2 naming the file and host"
