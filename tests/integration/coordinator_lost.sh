# kill -9 of the coordinator mid-run: the agent stops its workloads within the heartbeat
# timeout, keeps its results in its state folder (and says where), and waits for the next
# coordinator, with which it then completes a run.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
HEARTBEAT=2s scenario first 1 20s
bg coord "$COORD" run first.yaml --bind tcp://127.0.0.1:$PORT --local 0 --out "$WORK/r1"
COORD_PID=$LAST_PID
bg agent "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a1 --state-dir "$WORK/state"
AGENT_PID=$LAST_PID
wait_for agent.log 'starts in' 20
sleep 3
kill -9 "$COORD_PID"
killed_at=$(date +%s)
wait_for agent.log 'kept in' 10
[ $(($(date +%s) - killed_at)) -le 6 ] || fail "agent took too long to notice"
kept=$(sed -n 's/.*kept in \(.*\)$/\1/p' agent.log)
[ -s "$kept" ] || fail "no results file at $kept"
ops=$(jq -r '.workloads[0].ops' "$kept")
[ "$ops" -gt 0 ] || fail "kept results hold no operations"
kill -0 "$AGENT_PID" || fail "the agent should wait for the next coordinator"
pass "coordinator killed: agent kept $ops ops in $kept"

# A longer heartbeat timeout here: this part checks the rejoin, and a loaded machine can
# delay a heartbeat past 2 s (the host is then lost and the run exits 3).
HEARTBEAT=10s scenario second 1 2s
run_coord 0 run second.yaml --bind tcp://127.0.0.1:$PORT --local 0 --quiet
[ "$(jqr '.hosts[0].id')" = a1 ] || fail "the second run should have used a1"
kill -TERM "$AGENT_PID"
for _ in $(seq 50); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$AGENT_PID" 2>/dev/null && fail "agent did not stop on SIGTERM"
pass "the agent joined the next coordinator and stopped cleanly"
