# Exit codes: 1 when a target cannot hold, 2 for broken YAML (with file:line:col), 3 when
# fewer agents join than expected.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)

TARGET="p50 < 1ns" scenario impossible 1 2s
run_coord 1 run impossible.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet
[ "$(jqr '.outcome')" = failed ] || fail "outcome should be failed"
[ "$(jqr '.workloads[0].verdicts[0].verdict')" = failed ] || fail "verdict should be failed"
grep -q "<failure" "$(run_dir)/junit.xml" || fail "junit.xml has no failure"
grep -q 'FAILED' "$WORK/coord.log" || fail "summary does not show the failed target"
pass "impossible target: exit 1"

printf 'name: broken\nworkloads:\n  - name: a\n    kind: eventbus\n    rate: fast\n' >broken.yaml
run_coord 2 run broken.yaml
grep -q 'broken.yaml:5:11' "$WORK/coord.log" || fail "no file:line:col in: $(cat coord.log)"
run_coord 2 check broken.yaml
pass "broken YAML: exit 2 with file:line:col"

rm -rf results
scenario two 2 2s
sed -i 's/join_timeout: 15s/join_timeout: 2s/' two.yaml
run_coord 3 run two.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet
grep -q 'only 1 of 2 agent(s) joined' "$WORK/coord.log" || fail "no 'only 1 of 2' message"
[ "$(jqr '.outcome')" = incomplete ] || fail "run.json outcome should be incomplete"
pass "one of two agents: exit 3 after join_timeout"

run_coord 2 run nosuchfile.yaml
run_coord 2 frobnicate
run_coord 0 --help
pass "command line errors: exit 2"
