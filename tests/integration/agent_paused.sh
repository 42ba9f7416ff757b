# An agent paused (SIGSTOP) for less than the heartbeat timeout resumes: what it could not send
# goes late, the run passes, and the fleet total equals the agent's own tally (no duplicate,
# no gap).
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
HEARTBEAT=6s scenario paused 1 8s
bg coord "$COORD" run paused.yaml --bind tcp://127.0.0.1:$PORT --local 0
COORD_PID=$LAST_PID
bg a1 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a1 --once --state-dir "$WORK/state"
A1=$LAST_PID
wait_for a1.log 'starts in' 20
sleep 2.5
kill -STOP "$A1"
sleep 2.5
kill -CONT "$A1"

# A Hello from an unknown agent in the middle of the run gets an Error, and the run goes on.
"$FB_BUILD_DIR/fb_zsend" tcp://127.0.0.1:$PORT hello --id intruder --wait-ms 1000 >intruder.out 2>&1 || true
grep -q 'reply ERROR' intruder.out || fail "a Hello from an unknown agent during the run should get an Error: $(cat intruder.out)"

set +e
wait "$COORD_PID"
code=$?
set -e
[ "$code" = 0 ] || fail "coord exited $code after the pause, expected 0"
wait_for a1.log 'finished:' 15
line=$(grep 'finished:' a1.log)
agent_ops=$(echo "$line" | sed -n 's/.*reports, \([0-9]*\) measured ops.*/\1/p')
[ "$(jqr '.workloads[0].fleet.ops')" = "$agent_ops" ] || fail "fleet $(jqr '.workloads[0].fleet.ops') ops, agent says $agent_ops"
[ "$(jqr '.workloads[0].fleet.ops')" = 16000 ] || fail "open loop at 2000/s for 8 s must run 16000 ops, got $(jqr '.workloads[0].fleet.ops')"
[ "$(jqr '.hosts[0].state')" = done ] || fail "a1 should be done"
pass "agent paused 2.5 s: resumed, $agent_ops ops counted exactly once"
