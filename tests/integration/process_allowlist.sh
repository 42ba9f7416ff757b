# The process workload runs only what the agent's own allow-list names: a scenario naming any
# other command makes `coord run` exit 2 with the agent's message before Start, and nothing
# runs, even a program of that name on the agent's PATH. A name on the list runs its argv.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)

# A program on the agent's PATH that would leave a marker if the agent ever ran it.
mkdir -p bin
printf '#!/bin/sh\ntouch "%s/marker"\n' "$WORK" >bin/fb-make-marker
chmod +x bin/fb-make-marker
cat >allow.yaml <<YAML
touch-ran: [/bin/sh, -c, "touch $WORK/ran; echo ran; sleep 5"]
YAML

# scenario_for NAME COMMAND OP: a one-workload process scenario.
scenario_for() {
    cat >"$1.yaml" <<YAML
name: $1
agents: { expect: 1, join_timeout: 15s }
defaults: { duration: 2s, warmup: 1s, interval: 1s }
workloads:
  - name: procs
    kind: process
    params: { command: $2, op: $3 }
YAML
}

scenario_for refused fb-make-marker start
PATH="$WORK/bin:$PATH" bg a1 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a1 --once \
    --allow allow.yaml --state-dir "$WORK/state"
A1=$LAST_PID
run_coord 2 run refused.yaml --bind tcp://127.0.0.1:$PORT --local 0 --quiet
want='command "fb-make-marker" is not on this agent.s allow-list (allowed: fb-child, touch-ran)'
grep -q "agent a1 refused the plan: procs: $want" coord.log || fail "no refusal in: $(cat coord.log)"
grep -q "refused plan" a1.log || fail "the agent did not log the refusal"
sleep 1
[ ! -e marker ] || fail "the refused command ran"
[ -z "$(ls results/*/agents 2>/dev/null)" ] || true
pass "command not on the allow-list: exit 2 with the agent's message, nothing ran"
kill "$A1" 2>/dev/null || true
wait "$A1" 2>/dev/null || true

# A bad allow-list stops the agent at once, with file:line:col.
printf 'touch-ran: /bin/true\n' >bad.yaml
set +e
"$AGENT" --coordinator tcp://127.0.0.1:$PORT --allow bad.yaml >bad.log 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "agent with a bad allow-list exited $code, expected 2"
grep -q 'bad.yaml:1:12: expected the argv of touch-ran as a list' bad.log || fail "$(cat bad.log)"
pass "bad allow-list: agent exits 2 with file:line:col"

# A bad http: entry (port 0) stops the agent the same way, the column inside the entry.
printf 'touch-ran: [/bin/true]\nhttp:\n  - 127.0.0.1\n  - 10.0.0.0/8:0\n' >badhttp.yaml
set +e
# (bounded: an agent that took the file would wait for a coordinator that never comes)
timeout 20 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --allow badhttp.yaml >badhttp.log 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "agent with a bad http: entry exited $code, expected 2"
grep -q 'badhttp.yaml:4:16: http: expected a port from 1 to 65535' badhttp.log ||
    fail "$(cat badhttp.log)"
pass "bad http: entry: agent exits 2 with file:line:col"

# coord run --allow with that file: the local agent refuses it; coord says so at once, exit 2.
rm -rf results
scenario_for allowed touch-ran lifecycle
run_coord 2 run allowed.yaml --allow badhttp.yaml --quiet
grep -q 'local agent local-1 exited with 2 while the run waited for agents: see .*/agents/local-1.log' coord.log ||
    fail "$(cat coord.log)"
grep -q 'badhttp.yaml:4:16: http: expected a port' results/*/agents/local-1.log ||
    fail "the local agent's log does not say why"
pass "coord run --allow with a bad file: exit 2 at once, naming the local agent's log"

# The allowed name runs the list's argv (a lifecycle: start, first output, stop).
rm -rf results
scenario_for allowed touch-ran lifecycle
bg a2 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a2 --once --allow allow.yaml \
    --state-dir "$WORK/state"
run_coord 0 run allowed.yaml --bind tcp://127.0.0.1:$PORT --local 0 --quiet
[ -e ran ] || fail "the allowed command did not run"
[ ! -e marker ] || fail "the marker appeared"
ops=$(jqr '.workloads[0].fleet.ops')
[ "$ops" -gt 0 ] || fail "no lifecycle measured"
pass "allowed command: $ops lifecycles of the list's argv"
