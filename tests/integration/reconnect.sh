# An agent whose link to the coordinator breaks for 2 s (shorter than the heartbeat timeout)
# reconnects, resends what was not acknowledged, and no sample is counted twice or lost:
# the coordinator's count equals the agent's own tally.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
PORT2=$(free_port)
HEARTBEAT=5s scenario reconnect 1 7s
bg coord "$COORD" run reconnect.yaml --bind tcp://127.0.0.1:$PORT --local 0
COORD_PID=$LAST_PID
bg relay "$FB_BUILD_DIR/fb_relay" "$PORT2" "$PORT" --cut-ms 2000
RELAY=$LAST_PID
sleep 0.3
bg a1 "$AGENT" --coordinator tcp://127.0.0.1:$PORT2 --id a1 --once --state-dir "$WORK/state"
wait_for a1.log 'starts in' 20
sleep 3
kill -USR1 "$RELAY"
set +e
wait "$COORD_PID"
code=$?
set -e
[ "$code" = 0 ] || fail "coord exited $code, expected 0"
wait_for a1.log 'finished:' 15
line=$(grep 'finished:' a1.log)
agent_ops=$(echo "$line" | sed -n 's/.*reports, \([0-9]*\) measured ops.*/\1/p')
resent=$(echo "$line" | sed -n 's/.*ops, \([0-9]*\) resent.*/\1/p')
coord_ops=$(jqr '.workloads[0].fleet.ops')
samples=$(jqr '.workloads[0].fleet.metrics.latency.count')
[ "$resent" -gt 0 ] || fail "the cut should have made the agent resend ($line)"
[ "$coord_ops" = "$agent_ops" ] || fail "coordinator counted $coord_ops ops, the agent $agent_ops"
[ "$samples" = "$agent_ops" ] || fail "$samples latency samples for $agent_ops ops"
[ "$(jqr '.hosts[0].reports')" = "$(echo "$line" | sed -n 's/.*finished: \([0-9]*\) reports.*/\1/p')" ] ||
    fail "report count differs"
pass "reconnect: $resent report(s) resent, $(jqr '.hosts[0].duplicates') duplicate(s) dropped, counts exact"
