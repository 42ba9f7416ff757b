# The installed layout, from this build tree (cmake --install into a folder of our own, as the
# .deb lays it out): /usr/bin holds only coord and fleetbench-agent, fb-child sits in
# /usr/libexec/fleetbench, and the installed coord runs a process workload with local agents
# that find fleetbench-agent and fb-child from their own paths. An agent whose helper is
# missing (installed or in a flat folder) exits 2 naming the path it looked for.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
ROOT=$WORK/root

DESTDIR=$ROOT cmake --install "$FB_BUILD_DIR" --prefix /usr >install.log 2>&1 ||
    fail "cmake --install: $(tail -n 5 install.log)"
bin=$(cd "$ROOT/usr/bin" && ls | tr '\n' ' ')
[ "$bin" = "coord fleetbench-agent " ] || fail "usr/bin holds \"$bin\", expected coord and fleetbench-agent"
[ -x "$ROOT/usr/libexec/fleetbench/fb-child" ] || fail "no usr/libexec/fleetbench/fb-child"
pass "usr/bin: $bin; helpers in usr/libexec/fleetbench: $(ls "$ROOT/usr/libexec/fleetbench")"

cat >procs.yaml <<YAML
name: procs
agents: { expect: 1, join_timeout: 15s }
defaults: { duration: 2s, warmup: 1s, interval: 1s }
workloads:
  - name: lifecycle
    kind: process
    params: { op: lifecycle }
    targets: [ "errors < 1%" ]
YAML
set +e
timeout 120 "$ROOT/usr/bin/coord" run procs.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet \
    >coord.log 2>&1
code=$?
set -e
[ $code = 0 ] || fail "the installed coord run exited $code"
ops=$(jqr '.workloads[0].fleet.ops')
[ "$ops" -gt 0 ] || fail "no lifecycle of fb-child ran"
pass "installed coord and fleetbench-agent: $ops lifecycles of /usr/libexec/fleetbench/fb-child"

# The package's helper removed by hand: the agent says which file it looked for, exit 2.
rm "$ROOT/usr/libexec/fleetbench/fb-child"
set +e
"$ROOT/usr/bin/fleetbench-agent" --coordinator tcp://127.0.0.1:$PORT --once >missing.log 2>&1
code=$?
set -e
[ $code = 2 ] || fail "an agent without its helper exited $code, expected 2"
grep -qF "$ROOT/usr/libexec/fleetbench/fb-child" missing.log ||
    fail "the message does not name the helper's path: $(cat missing.log)"
pass "helper removed: exit 2, \"$(head -n 1 missing.log)\""

# Outside a bin folder (the build tree, a fleet-ssh folder) the helper is next to the agent.
mkdir flat
cp "$AGENT" flat/agent
set +e
flat/agent --coordinator tcp://127.0.0.1:$PORT --once >flat.log 2>&1
code=$?
set -e
[ $code = 2 ] && grep -qF "$WORK/flat/fb-child" flat.log ||
    fail "an agent in a folder without fb-child exited $code: $(cat flat.log)"
pass "agent in a folder without fb-child: exit 2 naming $WORK/flat/fb-child"
