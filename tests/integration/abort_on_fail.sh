# abort_on_fail: a target that fails from the start (a billion operations a second on a
# closed-loop event bus) with delay: 1s stops a 30 s run long before its end: the agents are
# told to stop, their last reports still count, exit 1 (a failed target, not an incomplete
# run), and the terminal, run.json, report.md and junit.xml say it stopped early, which
# target, its value and when; the workload after it is skipped. The bound below is generous
# (the run is planned for 60 s): it tells "stopped early" from "ran to the end", nothing more.
# delay without abort_on_fail, and a delay past the workload's duration, are file:line:col
# errors at `coord check`.
source "$(dirname "$0")/lib.sh"
cat >stop.yaml <<'YAML'
name: stop
agents: { expect: 2, join_timeout: 15s, heartbeat_timeout: 5s }
defaults: { duration: 30s, warmup: 1s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 1us }
    targets:
      - "p99 < 10s"
      - { target: "throughput > 1000000000/s", abort_on_fail: true, delay: 1s }
  - name: later
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 1us }
    targets: [ "p99 < 10s" ]
YAML
"$COORD" check stop.yaml >check.log 2>&1 || fail "coord check refused abort_on_fail: $(cat check.log)"
started=$(date +%s)
run_coord 1 run stop.yaml --bind "tcp://127.0.0.1:0" --local 2 --quiet
took=$(($(date +%s) - started))
[ "$took" -lt 20 ] || fail "a run stopped early took $took s (planned: 60 s)"
out=$(cat coord.log)
case "$out" in
*'failed: stopped early: target "throughput > 1000000000/s" of bus failed on host local-'*' s into the measured window (throughput was '*'/s; abort_on_fail); 1 target failed (on host'*) ;;
*) fail "the headline does not say it stopped early: $out" ;;
esac
[ "$(jqr '.exit_code')" = 1 ] || fail "run.json exit_code $(jqr '.exit_code')"
[ "$(jqr '.stopped_early.target')" = "throughput > 1000000000/s" ] || fail "stopped_early: $(jqr '.stopped_early')"
[ "$(jqr '.stopped_early.workload')" = bus ] || fail "stopped_early.workload: $(jqr '.stopped_early')"
jq -e '.stopped_early.measured_s >= 1 and .stopped_early.measured_s < 15 and .stopped_early.value > 0' \
    "$(run_dir)/run.json" >/dev/null || fail "stopped_early figures: $(jqr '.stopped_early')"
[ "$(jqr '.workloads[0].verdicts[1].verdict')" = failed ] || fail "the aborting target: $(jqr '.workloads[0].verdicts[1]')"
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = held ] || fail "the other target is judged on what ran: $(jqr '.workloads[0].verdicts[0]')"
[ "$(jqr '.workloads[1].verdicts[0].verdict')" = skipped ] || fail "the later workload: $(jqr '.workloads[1].verdicts[0]')"
report=$(cat "$(run_dir)/report.md")
case "$report" in
*'**Stopped early**: target "throughput > 1000000000/s" of bus failed on host'*'stopped the run early: throughput was'*'Not run: the run stopped early.'*) ;;
*) fail "report.md does not say it stopped early: $report" ;;
esac
junit=$(cat "$(run_dir)/junit.xml")
case "$junit" in
*'<failure type="target" message="failed on '*'stopped the run early'*) ;;
*) fail "junit.xml: $junit" ;;
esac
pass "stopped early after $took s, exit 1: $(jqr '.stopped_early.reason')"

# delay needs abort_on_fail, and must fall inside the measured window.
sed 's/{ target: "throughput > 1000000000\/s", abort_on_fail: true, delay: 1s }/{ target: "errors < 1%", delay: 1s }/' stop.yaml >nodelay.yaml
sed 's/delay: 1s/delay: 30s/' stop.yaml >late.yaml
for f in nodelay late; do
    set +e
    "$COORD" check $f.yaml >$f.log 2>&1
    code=$?
    set -e
    [ "$code" = 2 ] || fail "coord check $f.yaml exited $code, expected 2"
done
out=$(cat nodelay.log)
case "$out" in
*'nodelay.yaml:10:41: delay is how long abort_on_fail waits'*) ;;
*) fail "delay without abort_on_fail: $out" ;;
esac
out=$(cat late.log)
case "$out" in
*"late.yaml:10:76: delay must be shorter than the workload's duration, 30s"*) ;;
*) fail "delay past the duration: $out" ;;
esac
pass "delay without abort_on_fail or past the duration: exit 2 with file:line:col"
