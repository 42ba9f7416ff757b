# lib.sh: shared by the integration tests. Each test runs the real coord and agent binaries
# on loopback, in a temp folder of its own, on ports of its own, and cleans up after itself.
set -euo pipefail
: "${FB_BUILD_DIR:?run through ctest}" "${FB_SOURCE_DIR:?run through ctest}"
COORD=$FB_BUILD_DIR/coord
AGENT=$FB_BUILD_DIR/agent
WORK=$(mktemp -d /tmp/fleetbench-test.XXXXXX)
PIDS=()
cd "$WORK"

s_cleanup() {
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${FB_KEEP:-}" = "" ]; then rm -rf "$WORK"; fi
}
trap s_cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in "$WORK"/*.log "$WORK"/results/*/agents/*.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
    done
    # why a host was lost or failed, as the run recorded it (the agent's own log may be gone)
    for f in "$WORK"/results/*/run.json; do
        [ -f "$f" ] && jq -r '.hosts[]? | select(.problem) |
            "--- host \(.id): \(.state) after \(.lost_after_s // "?") s: \(.problem)"' "$f"
    done
    exit 1
}
pass() { echo "PASS: $*"; }

# bg NAME CMD...: starts CMD in the background, output in NAME.log; its pid in $LAST_PID.
bg() {
    local name=$1
    shift
    "$@" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick), so that
# two runs of the tests on one machine never share a port.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_coord CODE ARGS...: runs coord, expects exit CODE; output in coord.log.
run_coord() {
    local want=$1
    shift
    set +e
    timeout 150 "$COORD" "$@" >"$WORK/coord.log" 2>&1
    local got=$?
    set -e
    [ "$got" = "$want" ] || fail "coord $* exited $got, expected $want"
}

# The results folder of the only run in ./results.
run_dir() { ls -d "$WORK"/results/*/ | head -n 1; }
jqr() { jq -r "$1" "$(run_dir)/run.json"; }

# wait_for FILE PATTERN SECONDS: until grep finds PATTERN in FILE.
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "\"$2\" did not appear in $1 within $3 s"
}

# A scenario file: scenario NAME EXPECT DURATION [extra agents keys] -> NAME.yaml; env RATE
# (2000/s) and TARGET (p99 < 10s) set the bus's rate and target.
scenario() {
    cat >"$WORK/$1.yaml" <<YAML
name: $1
agents: { expect: $2, join_timeout: 15s, heartbeat_timeout: ${HEARTBEAT:-3s}${4:+, $4} }
defaults: { duration: $3, warmup: 1s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 1us }
    rate: ${RATE:-2000/s}
    targets: [ "${TARGET:-p99 < 10s}" ]
YAML
}
