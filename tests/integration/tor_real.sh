# tor.circuit and tor.stream in mode tor: the agent builds a private Tor network of real tor
# processes on 127.0.0.1 (three authorities and an exit), builds circuits through the client's
# control port and moves bytes through its SOCKS port, then leaves no tor process and no temp
# folder behind, even when the agent is killed. Without tor installed it checks the plan error
# instead and says the rest was skipped.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib/tor.sh"
PORT=$(free_port)
export TMPDIR=$WORK # the networks' temp folders go here, so that pgrep -f can find their tors

tor_scenario() {
    cat >"$1.yaml" <<YAML
name: $1
agents: { expect: 1, join_timeout: 15s, heartbeat_timeout: 30s }
defaults: { duration: 3s, warmup: 1s, interval: 1s }
workloads:
  - name: circuits
    kind: tor.circuit
    params: { mode: tor, relays: 4, hops: 3, concurrency: 2, bootstrap_timeout: 60s }
  - name: streams
    kind: tor.stream
    params: { mode: tor, relays: 4, circuits: 2, streams: 6, concurrency: 3, request: 512B,
              onionperf: true, bootstrap_timeout: 60s }
YAML
}

tor_scenario real
skip_without_tor real.yaml "private network" "mode tor "

started=$(date +%s)
run_coord 0 run real.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet
for w in 0 1; do
    name=$(jqr ".workloads[$w].name")
    ops=$(jqr ".workloads[$w].fleet.ops")
    errors=$(jqr ".workloads[$w].fleet.errors")
    rss=$(jqr ".workloads[$w].fleet.counters.tor_rss.value")
    net_rss=$(jqr ".workloads[$w].fleet.counters.tor_net_rss.value")
    [ "$ops" -gt 0 ] || fail "$name: no operation done through tor (ops $ops)"
    [ $((errors * 10)) -le "$ops" ] || fail "$name: $errors errors in $ops ops"
    [ "$rss" -gt 1000000 ] || fail "$name: tor_rss $rss is not a tor client's memory"
    [ "$net_rss" -gt "$rss" ] || fail "$name: tor_net_rss $net_rss not above tor_rss $rss"
    echo "$name: $ops ops, $errors errors, client tor RSS $((rss / 1048576)) MB," \
        "network $((net_rss / 1048576)) MB"
done
[ "$(jqr '.workloads[1].fleet.counters.bytes.value')" -gt 0 ] || fail "streams moved no bytes"
[ "$(jqr '.workloads[0].fleet.metrics.build.count')" -gt 0 ] || fail "circuits recorded no build time"
# OnionPerf's downloads through real tor: each size measured, first byte never after the last
for size in 50kib 1mib 5mib; do
    [ "$(jqr ".workloads[1].fleet.metrics.ttlb_$size.count")" -gt 0 ] || fail "no $size download"
    [ "$(jqr ".workloads[1].fleet.metrics | .ttfb_$size.max <= .ttlb_$size.max")" = true ] ||
        fail "$size: time to first byte after the last"
done
[ -z "$(tors_left)" ] || fail "tor processes left: $(tors_left)"
! ls -d "$WORK"/fleetbench-tor.* >/dev/null 2>&1 || fail "a private network's folder was left"
pass "mode tor: circuits and streams through a private network in $(($(date +%s) - started)) s," \
    "no tor left"

# The agent killed while its network bootstraps: the kernel ends every tor (PR_SET_PDEATHSIG).
bg a1 "$AGENT" --coordinator tcp://127.0.0.1:$PORT --id a1 --once --state-dir "$WORK/state"
A1=$LAST_PID
bg coord2 "$COORD" run real.yaml --bind tcp://127.0.0.1:$PORT --local 0 --quiet
COORD2=$LAST_PID
for ((i = 0; i < 300; i++)); do
    [ "$(pgrep -f "$WORK/fleetbench-tor.*/client/torrc" || true)" ] && break
    sleep 0.1
done
[ -n "$(tors_left)" ] || fail "the agent started no tor within 30 s"
kill -9 "$A1"
for ((i = 0; i < 50; i++)); do
    [ -z "$(tors_left)" ] && break
    sleep 0.1
done
[ -z "$(tors_left)" ] || fail "tor processes outlived their killed agent: $(tors_left)"
kill "$COORD2" 2>/dev/null || true
pass "agent killed during bootstrap: no tor left"
