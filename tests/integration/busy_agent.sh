# A second coordinator that sends a plan to an agent busy with another run: the agent refuses
# with a clear Error naming the run it is busy with, says so in its log, and, once its own
# coordinator is gone for good, keeps its results and goes back to waiting.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
HEARTBEAT=4s scenario first 1 30s
bg coord "$COORD" run first.yaml --bind tcp://127.0.0.1:$PORT --local 0
COORD_PID=$LAST_PID
bg a1 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a1 --state-dir "$WORK/state"
wait_for a1.log 'starts in' 20
sleep 1
run_id=$(sed -n 's/.*plan \([^:]*\): .*/\1/p' a1.log | head -n 1)
kill -9 "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true # gone, its port free, before another binds it
# The second coordinator takes over the endpoint while a1 is still in the first run.
"$FB_BUILD_DIR/fb_fakecoord" tcp://127.0.0.1:$PORT --wait-ms 3000 >fake.out 2>&1
grep -q "reply ERROR: agent a1 is busy with run $run_id" fake.out ||
    fail "the second coordinator should hear that a1 is busy with $run_id: $(cat fake.out)"
wait_for a1.log "refused plan intruder-run: busy with run $run_id" 5
pass "a plan from a second coordinator is refused by the busy agent, both sides say why"
wait_for a1.log 'kept in' 10
kill -0 "$LAST_PID" 2>/dev/null || fail "the agent should still be running"
pass "the agent then kept its results and went back to waiting"
