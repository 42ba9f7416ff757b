# CURVE: a full run over CURVE passes (external and local agents); an agent with an unknown
# key is refused and the coordinator names the key; an agent given the wrong coordinator key
# cannot join; a secret key readable by others is refused.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
"$COORD" keygen --out keys --agents 2 >keygen.log || fail "keygen failed"
"$COORD" keygen --out other --agents 1 >/dev/null || fail "second keygen failed"
[ "$(stat -c %a keys/agents/agent-1.key_secret)" = 600 ] || fail "secret key is not 0600"
HEARTBEAT=3s scenario curve 1 2s
sed -i 's/join_timeout: 15s/join_timeout: 4s/' curve.yaml
EP=tcp://127.0.0.1:$PORT

bg coord "$COORD" run curve.yaml --bind "$EP" --local 0 --keys keys --quiet
COORD_PID=$LAST_PID
bg a1 "$AGENT" --coordinator "$EP" --id agent-1 --once --state-dir "$WORK/state" \
    --cert keys/agents/agent-1.key --coordinator-key keys/coordinator.key
set +e; wait "$COORD_PID"; code=$?; set -e
[ "$code" = 0 ] || fail "run over CURVE exited $code"
pass "full run over CURVE with an external agent"

rm -rf results
run_coord 0 run curve.yaml --bind "$EP" --local 1 --keys keys --quiet
pass "full run over CURVE with a local agent (keys made for the run)"

rm -rf results
bg coord2 "$COORD" run curve.yaml --bind "$EP" --local 0 --keys keys --quiet
COORD_PID=$LAST_PID
bg stranger "$AGENT" --coordinator "$EP" --id stranger --state-dir "$WORK/state" \
    --cert other/agents/agent-1.key --coordinator-key keys/coordinator.key
set +e; wait "$COORD_PID"; code=$?; set -e
[ "$code" = 3 ] || fail "an unknown key should leave the run incomplete (exit $code)"
key=$(sed -n 's/.*public-key = "\(.*\)"/\1/p' other/agents/agent-1.key)
grep -qF "refused an agent from" coord2.log || fail "coordinator did not log the refusal: $(cat coord2.log)"
grep -qF -e "$key" coord2.log || fail "coordinator did not name the refused key $key"
grep -q "agent stranger joined" coord2.log && fail "the stranger joined"
pass "unknown agent key refused and named"

rm -rf results
bg coord3 "$COORD" run curve.yaml --bind "$EP" --local 0 --keys keys --quiet
COORD_PID=$LAST_PID
bg misled "$AGENT" --coordinator "$EP" --id agent-2 --state-dir "$WORK/state" \
    --cert keys/agents/agent-2.key --coordinator-key other/coordinator.key
set +e; wait "$COORD_PID"; code=$?; set -e
[ "$code" = 3 ] || fail "an agent with the wrong coordinator key should not join (exit $code)"
pass "agent given the wrong coordinator key cannot join"

chmod 640 keys/agents/agent-2.key_secret
set +e
"$AGENT" --coordinator "$EP" --id agent-2 --once --cert keys/agents/agent-2.key \
    --coordinator-key keys/coordinator.key >perm.log 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "agent with a group-readable secret exited $code, expected 2"
grep -q "readable by group or others" perm.log || fail "no permission message: $(cat perm.log)"
pass "secret key readable by others: refused"

set +e
"$COORD" run curve.yaml --bind tcp://0.0.0.0:$(free_port) --local 0 >open.log 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q "coord keygen" open.log || fail "non-loopback bind without keys should exit 2 saying how to make keys"
pass "plain TCP on a non-loopback bind refused with a pointer to keygen"
