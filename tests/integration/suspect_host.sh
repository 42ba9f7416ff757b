# A host whose open-loop scheduler cannot keep up is marked suspect next to its numbers in
# run.json, report.md and the summary. The workload makes that certain, not the machine: each
# publish blocks on a one-slot queue behind 5 handlers of 2 ms, so 200 publishes a second
# cannot start on time anywhere.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
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
# It also misses operations by the planned end, so its schedule verdict fails the run.
run_coord 1 run slow.yaml --bind tcp://127.0.0.1:$PORT --local 1
[ "$(jqr '.workloads[0].verdicts[] | select(.type == "schedule") | .verdict')" = failed ] ||
    fail "a scheduler that fell behind must fail the schedule verdict"
suspect=$(jqr '.hosts[0].suspect')
case "$suspect" in
*"started up to"*"late"*) ;;
*) fail "host should be suspect for a late scheduler, run.json says: $suspect" ;;
esac
grep -q "| local-1 | done |.*late (p99)" "$(run_dir)/report.md" || fail "report.md does not show the suspect host"
grep -q "is suspect" coord.log || fail "the summary does not say the host is suspect"
[ "$(jqr '.workloads[0].fleet.counters.steal.kind')" = max ] || fail "no steal counter"
pass "late scheduler: host marked suspect ($suspect)"
