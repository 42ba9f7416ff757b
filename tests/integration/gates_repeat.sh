# Repetitions: `coord run --repeat 3` runs the scenario three times with fresh agents and the
# last repetition's verdicts, intervals and fleet numbers rest on all three; its folder saved as
# a baseline holds three runs. A gate with on_inconclusive: rerun against a one-run baseline
# asks for one more repetition (up to --rerun-budget) and is then judged with two.
source "$(dirname "$0")/lib.sh"
write() { # write ON_INCONCLUSIVE
    cat >rep.yaml <<YAML
name: rep
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 1s, warmup: 500ms, interval: 250ms }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: 0us }
    rate: 400/s
    gates: [ { metric: throughput, max_regression: 50%, on_inconclusive: $1 } ]
YAML
}
BIND="tcp://127.0.0.1:*"
write pass
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet --repeat 3
[ "$(ls results | wc -l)" = 3 ] || fail "--repeat 3 should leave three results folders"
last=$(ls -d results/*/ | tail -n 1)
[ "$(jq '.workloads[0].samples.runs | length' "$last/run.json")" = 3 ] || fail "the last repetition should carry three runs of intervals"
[ "$(jq '.workloads[0].fleet.ops' "$last/run.json")" = 1200 ] || fail "the fleet should merge three repetitions of 400 ops: $(jq '.workloads[0].fleet.ops' "$last/run.json")"
[ "$(jq '.workloads[0].fleet_ci.p50.between_runs' "$last/run.json")" = true ] || fail "the intervals should include run-to-run variance"
[ "$(jq '.workloads[0].hosts["local-1"].ci.p95 | .lo <= .point and .point <= .hi' "$last/run.json")" = true ] ||
    fail "the host's p95 has no interval around it"
grep -q '^- local-1: p50 ' "$last/report.md" || fail "report.md gives no interval for the host"
grep -q '^- fleet: p50 ' "$last/report.md" || fail "report.md gives no interval for the fleet"
[ "$(jq '.workloads[0].verdicts[0].verdict' "$last/run.json")" = '"skipped"' ] || fail "no baseline: the gate is skipped"
first=$(ls -d results/*/ | head -n 1)
[ "$(jq '[.workloads[0].verdicts[] | select(.type == "gate")] | length' "$first/run.json")" = 0 ] || fail "an intermediate repetition judges no gate"
# coord compare: ratios to the reference with their intervals; open-loop throughput is the rate
# in every repetition, so no difference is shown.
"$COORD" compare results/*/ --json >compare.json || fail "coord compare failed"
ci=$(jq -c '.workloads[0].metrics[] | select(.metric == "latency") | .rows[1].throughput_vs_ref_ci' compare.json)
[ "$(echo "$ci" | jq '.difference_shown')" = false ] || fail "same rate: no throughput difference should be shown: $ci"
[ "$(echo "$ci" | jq '.lo <= .hi')" = true ] || fail "a malformed interval: $ci"
jq -e '.workloads[0].metrics[0].rows[1].p50_vs_ref_ci.hi' compare.json >/dev/null || fail "no p50 ratio interval"
"$COORD" compare results/*/ >compare.txt || fail "coord compare (text) failed"
grep -q 'no difference shown' compare.txt || fail "the text table does not say no difference shown"
"$COORD" baseline save "$last" >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
[ "$(jq '.workloads[0].samples.runs | length' baselines/rep.json)" = 3 ] || fail "the baseline should hold three runs"
rm -rf results
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet --repeat 2
last=$(ls -d results/*/ | tail -n 1)
[ "$(jq -r '.workloads[0].verdicts[0].verdict' "$last/run.json")" = held ] || fail "2 repetitions against 3: throughput should hold: $(jq -r '.workloads[0].verdicts[0].detail' "$last/run.json")"
pass "--repeat: repetitions merged, a three-run baseline from one folder, gate held"

# --continue DIR: a run joins an earlier run's series (as the next repetition would), so two
# builds' runs can alternate; a run of other params, of another scenario or a missing folder is
# refused before any agent starts.
rm -rf results baselines
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet --out first
one=$(ls -d first/*/)
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet --out second --continue "$one"
two=$(ls -d second/*/)
[ "$(jq '.workloads[0].samples.runs | length' "$two/run.json")" = 2 ] || fail "--continue should carry two runs of intervals"
[ "$(jq '.workloads[0].fleet.ops' "$two/run.json")" = 800 ] || fail "--continue should merge both runs' 400 ops: $(jq '.workloads[0].fleet.ops' "$two/run.json")"
sed 's|rate: 400/s|rate: 300/s|' rep.yaml >other_rate.yaml
run_coord 2 run other_rate.yaml --bind "$BIND" --local 1 --quiet --out third --continue "$two"
grep -q -- "--continue .*run.json: workload bus ran with other params or rate" "$WORK/coord.log" ||
    fail "other rate: no clear refusal: $(cat "$WORK/coord.log")"
[ ! -e third ] || fail "a refused --continue should leave no results folder"
sed 's|^name: rep|name: other|' rep.yaml >other_name.yaml
run_coord 2 run other_name.yaml --bind "$BIND" --local 1 --quiet --continue "$two"
grep -q 'a run of scenario "rep", this one is "other"' "$WORK/coord.log" ||
    fail "other scenario: no clear refusal: $(cat "$WORK/coord.log")"
run_coord 2 run rep.yaml --bind "$BIND" --local 1 --quiet --continue "$WORK/none"
grep -q "none/run.json: No such file or directory" "$WORK/coord.log" ||
    fail "missing folder: no clear refusal: $(cat "$WORK/coord.log")"
pass "--continue: a series of two runs merged; other rate, other scenario, missing folder refused"

# on_inconclusive: rerun against a one-run baseline: one run on each side is inconclusive, so a
# second repetition runs, and the gate is judged with two.
rm -rf results baselines
write rerun
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet
"$COORD" baseline save "$(run_dir)" >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
rm -rf results
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet --rerun-budget 1
[ "$(ls results | wc -l)" = 2 ] || fail "on_inconclusive: rerun should have run one more repetition ($(ls results | wc -l) folders)"
last=$(ls -d results/*/ | tail -n 1)
[ "$(jq '.workloads[0].samples.runs | length' "$last/run.json")" = 2 ] || fail "the rerun should judge two runs"
jq -r '.workloads[0].verdicts[0].detail' "$last/run.json" | grep -vq 'one run on each side' || fail "still judged on one run"
pass "on_inconclusive: rerun: one more repetition, judged with both ($(jq -r '.workloads[0].verdicts[0].verdict' "$last/run.json"))"

# Five runs on each side: the ratio's interval ranks the runs (each run's own throughput one
# value) instead of bootstrapping them, and the verdict says so.
rm -rf results baselines
write pass
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet --repeat 5 --out base5
"$COORD" baseline save "$(ls -d base5/*/ | tail -n 1)" >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
run_coord 0 run rep.yaml --bind "$BIND" --local 1 --quiet --repeat 5 --out now5
last=$(ls -d now5/*/ | tail -n 1)
detail=$(jq -r '.workloads[0].verdicts[0].detail' "$last/run.json")
case "$detail" in *"runs ranked against "*) ;; *) fail "5 runs against 5 should be ranked: $detail" ;; esac
[ "$(jq -r '.workloads[0].verdicts[0].verdict' "$last/run.json")" = held ] || fail "same rate, 50 % allowed: should hold: $detail"
pass "five runs a side: ranked ($detail)"

# repeat: on a workload: it runs in the last N repetitions; the others in the last one, so the
# last folder holds every workload, each with its own number of runs.
rm -rf results baselines
cat >per.yaml <<YAML
name: per
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 1s, warmup: 500ms, interval: 250ms }
workloads:
  - name: thrice
    kind: eventbus
    params: { publishers: 1, workers: 1, handler_work: 0us }
    rate: 200/s
    repeat: 3
  - name: once
    kind: eventbus
    params: { publishers: 1, workers: 1, handler_work: 0us }
    rate: 200/s
YAML
run_coord 0 run per.yaml --bind "$BIND" --local 1
[ "$(ls results | wc -l)" = 3 ] || fail "repeat: 3 on one workload should make three repetitions"
first=$(ls -d results/*/ | head -n 1)
last=$(ls -d results/*/ | tail -n 1)
[ "$(jq -c '[.workloads[].name]' "$first/run.json")" = '["thrice"]' ] ||
    fail "the first repetition should run only the repeated workload: $(jq -c '[.workloads[].name]' "$first/run.json")"
[ "$(jq -c '[.workloads[] | .samples.runs | length]' "$last/run.json")" = '[3,1]' ] ||
    fail "the last folder should hold 3 runs of thrice and 1 of once: $(jq -c '[.workloads[] | .samples.runs | length]' "$last/run.json")"
out=$(cat "$WORK/coord.log")
case "$out" in *"repetition 1 of 3, 1 workload(s)"*) ;; *) fail "no progress line for the partial repetition: $out" ;; esac
pass "repeat: per workload: 3 repetitions of one, the other in the last, both in the last folder"

sed -i 's/    repeat: 3/    repeat: 33/' per.yaml
run_coord 2 check per.yaml
grep -q 'per.yaml:[0-9]*:[0-9]*: repeat must be an integer from 1 to 32' "$WORK/coord.log" ||
    fail "repeat: 33 should be a file:line:col error: $(cat "$WORK/coord.log")"
pass "repeat: out of range is a file:line:col error"
