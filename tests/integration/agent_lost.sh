# kill -9 of one of two agents mid-run: the run finishes with the other, whose results are
# complete; run.json and report.md name the lost host and when; exit 3.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
HEARTBEAT=2s scenario lost 2 6s
bg coord "$COORD" run lost.yaml --bind tcp://127.0.0.1:$PORT --local 0
COORD_PID=$LAST_PID
bg a1 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a1 --once --state-dir "$WORK/state"
bg a2 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a2 --once --state-dir "$WORK/state"
A2=$LAST_PID
wait_for a2.log 'starts in' 20
sleep 3
kill -9 "$A2"
set +e
timeout 60 tail --pid="$COORD_PID" -f /dev/null
wait "$COORD_PID"
code=$?
set -e
[ "$code" = 3 ] || fail "coord exited $code, expected 3"
dir=$(run_dir)
[ "$(jqr '.hosts[] | select(.id=="a2") | .state')" = lost ] || fail "a2 not lost in run.json"
[ "$(jqr '.hosts[] | select(.id=="a2") | .lost_at')" != null ] || fail "no lost_at for a2"
[ "$(jqr '.hosts[] | select(.id=="a1") | .state')" = done ] || fail "a1 not done"
grep -q '| a2 | lost |' "$dir/report.md" || fail "report.md does not name a2 as lost"
wait_for a1.log 'finished:' 10
a1_ops=$(sed -n 's/.*finished: [0-9]* reports, \([0-9]*\) measured ops.*/\1/p' a1.log)
[ "$(jqr '.workloads[0].hosts.a1.ops')" = "$a1_ops" ] || fail "a1: run.json $(jqr '.workloads[0].hosts.a1.ops') ops, agent says $a1_ops"
[ "$(jqr '.workloads[0].fleet.ops')" = "$a1_ops" ] || fail "fleet ops should be a1's alone"
pass "agent killed mid-run: exit 3, a2 lost, a1 complete ($a1_ops ops)"

# The same with allow_lost: 1 is judged by the verdicts: exit 0.
rm -rf results
HEARTBEAT=2s scenario lost1 2 5s "allow_lost: 1"
bg coord2 "$COORD" run lost1.yaml --bind tcp://127.0.0.1:$PORT --local 0
COORD_PID=$LAST_PID
bg b1 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id b1 --once --state-dir "$WORK/state"
bg b2 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id b2 --once --state-dir "$WORK/state"
wait_for b2.log 'starts in' 20
sleep 2
kill -9 "$LAST_PID"
set +e
wait "$COORD_PID"
code=$?
set -e
[ "$code" = 0 ] || fail "allow_lost: 1: coord exited $code, expected 0"
pass "allow_lost: 1: exit 0 with one host lost"
