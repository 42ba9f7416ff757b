# Agent ids name files and appear in reports, so they are checked at both ends: the agent
# refuses an unsafe --id at start (exit 2); the coordinator refuses a Hello with one (an
# Error the sender prints) and a second live agent with a taken id (an Error naming the id
# and the address holding it; that agent exits 2, the first one runs on).
source "$(dirname "$0")/lib.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP=tcp://127.0.0.1:$PORT

long=$(printf 'a%.0s' $(seq 64))
for id in "../../evil" "." ".." "a/b" "$long" "$(printf 'x\n\033[31mFAKE: run passed\033[0m')"; do
    set +e
    timeout 10 "$AGENT" --coordinator "$EP" --id "$id" --once >bad_id.log 2>&1
    code=$?
    set -e
    [ "$code" = 2 ] || fail "agent --id '$id' exited $code, expected 2"
    grep -q -- '--id must be 1 to 63 of' bad_id.log || fail "no reason given: $(cat bad_id.log)"
    if LC_ALL=C grep -q $'\033' bad_id.log; then fail "the id's escape bytes reached the terminal"; fi
done
pass "unsafe --id: the agent exits 2 at start"

mkdir -p deep/er/run && cd deep/er/run
HEARTBEAT=3s scenario ids 2 2s
sed -i "s/join_timeout: 15s/join_timeout: 30s/" "$WORK/ids.yaml"
bg coord "$COORD" run "$WORK/ids.yaml" --bind "$EP" --local 0 --out results
COORD_PID=$LAST_PID
wait_for "$WORK/coord.log" 'waiting for 2' 20
for id in "../../evil" ".." "../../../../../../../tmp/fb-evil"; do
    "$FB_BUILD_DIR/fb_zsend" "$EP" hello --id "$id" --wait-ms 3000 >"$WORK/zsend.out" 2>&1 || true
    grep -q 'reply ERROR: agent id .* is not allowed' "$WORK/zsend.out" ||
        fail "a Hello from id '$id' was not refused: $(cat "$WORK/zsend.out")"
done
pass "unsafe agent id in a Hello: refused with an Error"

bg a1 "$AGENT" --coordinator "$EP" --id twin --once
wait_for "$WORK/coord.log" 'agent twin joined' 20
set +e
timeout 20 "$AGENT" --coordinator "$EP" --id twin --once >"$WORK/a2.log" 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "the second agent with id twin exited $code, expected 2"
grep -q 'agent id "twin" is already taken by the agent at 127.0.0.1' "$WORK/a2.log" ||
    fail "the second agent did not print who holds its id: $(cat "$WORK/a2.log")"
grep -q 'refused a second agent with id twin' "$WORK/coord.log" || fail "coord did not log it"
bg a3 "$AGENT" --coordinator "$EP" --id other --once
set +e
wait "$COORD_PID"
code=$?
set -e
[ "$code" = 0 ] || fail "coord exited $code after a duplicate was refused, expected 0"
pass "duplicate --id: the second agent is told who holds it and exits 2; the run passes"

# The run id names the agent's results folder: one from outside must be a safe name too.
cd "$WORK"
PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bg a4 "$AGENT" --coordinator "tcp://127.0.0.1:$PORT2" --id a4 --state-dir "$WORK/state/deep"
"$FB_BUILD_DIR/fb_fakecoord" "tcp://127.0.0.1:$PORT2" --wait-ms 5000 --run-id ../../evil-run \
    >fake.out 2>&1
grep -q 'reply ERROR: run id is not allowed' fake.out || fail "a plan with run id ../../evil-run: $(cat fake.out)"
pass "a plan whose run id is not a safe name is refused"

strays=$(find "$WORK" /tmp -maxdepth 6 -name '*evil*' 2>/dev/null || true)
[ -z "$strays" ] || fail "files outside --out: $strays"
n=$(find "$WORK/deep/er/run/results" -name '*.hlog' | wc -l)
[ "$n" -ge 2 ] || fail "expected the two agents' .hlog files, found $n"
pass "nothing written outside --out"
