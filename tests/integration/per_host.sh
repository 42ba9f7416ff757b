# Targets per host: two agents run the same process workload, but one's allow-list makes every
# child wait 300 ms before its first output. "p50 < 150ms" per host (the default) fails and
# names that host in the terminal headline, run.json, report.md and junit.xml, while the same
# target per: fleet holds (the fast host's many operations hide the slow one's). A bad per:
# value is a file:line:col error at `coord check`.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
cat >fast.yaml <<'YAML'
work: [/bin/sh, -c, "echo ready; exec sleep 5"]
YAML
cat >slow.yaml <<'YAML'
work: [/bin/sh, -c, "sleep 0.3; echo ready; exec sleep 5"]
YAML
cat >per.yaml <<'YAML'
name: per
agents: { expect: 2, join_timeout: 15s, heartbeat_timeout: 5s }
defaults: { duration: 3s, warmup: 1s, interval: 1s }
workloads:
  - name: procs
    kind: process
    params: { command: work, op: lifecycle }
    targets:
      - "first_output.p50 < 150ms"
      - { target: "first_output.p50 < 150ms", per: fleet }
      - { target: "errors < 50%", per: cpu }
YAML
"$COORD" check per.yaml >check.log 2>&1 || fail "coord check refused the map form: $(cat check.log)"
for id in fast slow; do
    bg "$id" "$AGENT" --coordinator "tcp://127.0.0.1:$PORT" --id "$id" --once --allow "$id.yaml" \
        --state-dir "$WORK/state-$id" --quiet
done
run_coord 1 run per.yaml --bind "tcp://127.0.0.1:$PORT" --local 0 --quiet
out=$(cat coord.log)
case "$out" in
*"failed: 1 target failed (on host slow), 2 targets held"*) ;;
*) fail "the headline does not name the slow host: $out" ;;
esac
[ "$(jqr '.workloads[0].verdicts[0].per')" = host ] || fail "per: host not in run.json"
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = failed ] || fail "the per-host target should fail: $(jqr '.workloads[0].verdicts[0].detail')"
[ "$(jqr '.workloads[0].verdicts[0].failed_on | join(",")')" = slow ] || fail "failed_on: $(jqr '.workloads[0].verdicts[0].failed_on')"
[ "$(jqr '.workloads[0].verdicts[0].groups | sort_by(.name) | map(.name + "=" + .verdict) | join(",")')" = "fast=held,slow=failed" ] ||
    fail "groups: $(jqr '.workloads[0].verdicts[0].groups')"
[ "$(jqr '.workloads[0].verdicts[1].verdict')" = held ] || fail "per: fleet should hold: $(jqr '.workloads[0].verdicts[1].detail')"
[ "$(jqr '.workloads[0].verdicts[1].per')" = fleet ] || fail "per: fleet not in run.json"
[ "$(jqr '.workloads[0].verdicts[2].groups | length')" = 1 ] || fail "per: cpu: one CPU model on this machine: $(jqr '.workloads[0].verdicts[2].groups')"
report=$(cat "$(run_dir)/report.md")
case "$report" in
*'**FAILED** `first_output.p50 < 150ms (per host)`: failed on 1 of 2 hosts: slow first_output.p50'*) ;;
*) fail "report.md does not name the slow host: $report" ;;
esac
junit=$(cat "$(run_dir)/junit.xml")
case "$junit" in
*'name="first_output.p50 &lt; 150ms (per host)" time="'*'<failure type="target" message="failed on 1 of 2 hosts: slow'*) ;;
*) fail "junit.xml does not name the slow host: $junit" ;;
esac
pass "per host: $(jqr '.workloads[0].verdicts[0].detail' | cut -c1-120)"

# A per: that is none of fleet, host, board, cpu: file:line:col at coord check.
sed 's/per: fleet/per: rack/' per.yaml >bad.yaml
set +e
"$COORD" check bad.yaml >bad.log 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "coord check of a bad per: exited $code, expected 2"
out=$(cat bad.log)
case "$out" in
*'bad.yaml:10:52: per: expected fleet, host, board or cpu (got "rack")'*) ;;
*) fail "coord check does not point at the bad per: $out" ;;
esac
pass "bad per: value: exit 2 with file:line:col"
