# lib/netns.sh: a small fleet on real links, for the netns_*.sh integration tests (this file is
# in a subfolder so that tests/tests.cmake does not take it for a test).
#
# A star without a bridge: the coordinator in namespace fb-c-$$, agent N in fb-aN-$$, and one
# veth pair per agent between them, each its own /30: the coordinator is 10.231.N.1 on
# fbcN-$$, agent N is 10.231.N.2 on fbaN-$$. These addresses exist only inside the test's own
# namespaces, which are deleted on exit (their veths go with them), whatever happens. Every
# name carries the test's PID, so parallel tests never collide.
#
# Without CAP_NET_ADMIN (ip netns add fails) the test prints "SKIP: reason" and exits 0.
# Without tc's netem (kernel without sch_netem) links get no delay: NS_NETEM=0 and the test
# skips its delay checks with a note.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NS_TAG=$$
NS_C=fb-c-$NS_TAG
NS_LIST=()
NS_NETEM=1

skip() {
    echo "SKIP: $*"
    exit 0
}

ns_cleanup() {
    local ns
    s_cleanup
    for ns in "${NS_LIST[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap ns_cleanup EXIT
trap 'exit 130' INT TERM

# Agent N (1-based) lives in namespace NS_A[N], behind veth DEV_A[N] with address ADDR_A[N];
# the coordinator's end of that link is DEV_C[N] with ADDR_C[N]. Set by ns_fleet.
NS_A=() DEV_A=() DEV_C=() ADDR_A=() ADDR_C=()

# ns_add NAME: a namespace with its loopback up; skips the test when it cannot be made.
ns_add() {
    command -v ip >/dev/null || skip "no ip(8) (iproute2)"
    if ! ip netns add "$1" 2>"$WORK/netns.err"; then
        skip "cannot create a network namespace (needs CAP_NET_ADMIN): $(cat "$WORK/netns.err")"
    fi
    NS_LIST+=("$1")
    ip -n "$1" link set lo up
}

# ns_fleet N: the coordinator's namespace and N agent namespaces, linked and addressed.
ns_fleet() {
    local n=$1 i
    for ((i = 1; i <= n; i++)); do
        NS_A[i]=fb-a$i-$NS_TAG DEV_A[i]=fba$i-$NS_TAG DEV_C[i]=fbc$i-$NS_TAG
        ADDR_A[i]=10.231.$i.2 ADDR_C[i]=10.231.$i.1
    done
    ns_add "$NS_C"
    for ((i = 1; i <= n; i++)); do ns_add "${NS_A[i]}"; done
    # Few ip processes (forks are slow on a loaded machine): the pairs, the coordinator's ends,
    # then each agent's end.
    for ((i = 1; i <= n; i++)); do
        echo "link add ${DEV_C[i]} netns $NS_C type veth peer name ${DEV_A[i]} netns ${NS_A[i]}"
    done >"$WORK/links.ip"
    for ((i = 1; i <= n; i++)); do
        echo "addr add ${ADDR_C[i]}/30 dev ${DEV_C[i]}"
        echo "link set ${DEV_C[i]} up"
    done >"$WORK/links-c.ip"
    ip -batch "$WORK/links.ip" || fail "could not make the veth pairs"
    ip -n "$NS_C" -batch "$WORK/links-c.ip" || fail "could not set up the coordinator's ends"
    for ((i = 1; i <= n; i++)); do
        printf 'addr add %s/30 dev %s\nlink set %s up\n' "${ADDR_A[i]}" "${DEV_A[i]}" "${DEV_A[i]}" |
            ip -n "${NS_A[i]}" -batch - || fail "could not set up ${DEV_A[i]}"
    done
    for ((i = 1; i <= n; i++)); do
        ns_wait_link "$i" || fail "link $i (${DEV_C[i]} - ${DEV_A[i]}) did not come up in 3 s"
    done
}

# ns_wait_link N: up to 3 s for both ends of agent N's link to be up (carrier on).
ns_wait_link() {
    local t
    for ((t = 0; t < 30; t++)); do
        [[ $(ip -n "$NS_C" link show "${DEV_C[$1]}") == *"state UP"* ]] &&
            [[ $(ip -n "${NS_A[$1]}" link show "${DEV_A[$1]}") == *"state UP"* ]] && return 0
        sleep 0.1
    done
    return 1
}

# ns_delay N MS: MS of delay each way on agent N's link (netem on both ends: rtt >= 2*MS).
# Sets NS_NETEM=0, once, with a note, when the kernel has no netem.
ns_delay() {
    local i=$1 ms=$2
    [ "$NS_NETEM" = 1 ] || return 0
    if ! command -v tc >/dev/null; then
        NS_NETEM=0
        echo "NOTE: no tc(8): links run without delay, delay checks skipped"
        return 0
    fi
    if ! tc -n "$NS_C" qdisc add dev "${DEV_C[i]}" root netem delay "${ms}ms" \
        2>"$WORK/netem.err"; then
        NS_NETEM=0
        echo "NOTE: netem unavailable ($(cat "$WORK/netem.err")): links run without delay, delay checks skipped"
        return 0
    fi
    tc -n "${NS_A[i]}" qdisc add dev "${DEV_A[i]}" root netem delay "${ms}ms" ||
        fail "netem took the coordinator's end of link $i but not the agent's"
}

# ns_link N up|down: cuts or restores agent N's link (its end of the veth; the coordinator's
# end loses carrier with it).
ns_link() { ip -n "${NS_A[$1]}" link set "${DEV_A[$1]}" "$2"; }

# ns_bg NS NAME CMD...: bg, inside namespace NS. ip netns exec execs CMD, so $LAST_PID is
# CMD's own pid (kill -9 reaches it).
ns_bg() {
    local ns=$1 name=$2
    shift 2
    bg "$name" ip netns exec "$ns" "$@"
}

# ns_coord NAME PORT ARGS...: coord run ... bound on every address of the coordinator's
# namespace (each agent link), over CURVE with ./keys.
ns_coord() {
    local name=$1 port=$2
    shift 2
    ns_bg "$NS_C" "$name" "$COORD" run "$@" --bind "tcp://*:$port" --keys "$WORK/keys" --local 0
}

# ns_agent_run N NAME PORT ARGS...: agent-N in its namespace, to the coordinator's address on
# its link, over CURVE.
ns_agent_run() {
    local i=$1 name=$2 port=$3
    shift 3
    ns_bg "${NS_A[i]}" "$name" "$AGENT" --coordinator "tcp://${ADDR_C[i]}:$port" \
        --id "agent-$i" --cert "$WORK/keys/agents/agent-$i.key" \
        --coordinator-key "$WORK/keys/coordinator.key" --state-dir "$WORK/state" "$@"
}

# ns_keys N: coordinator and N agent key pairs in ./keys.
ns_keys() { "$COORD" keygen --out "$WORK/keys" --agents "$1" >"$WORK/keygen.log" || fail "keygen failed"; }

# wait_pid PID SECONDS: waits for PID (a child) to exit, at most SECONDS; its exit code in $CODE.
wait_pid() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "pid $pid still running after $2 s"
    set +e
    wait "$pid"
    CODE=$?
    set -e
}

# agent_tally LOG: "reports ops resent" from the agent's "finished:" line.
agent_tally() {
    sed -n 's/.*finished: \([0-9]*\) reports, \([0-9]*\) measured ops, \([0-9]*\) resent.*/\1 \2 \3/p' "$1" |
        tail -n 1
}

# host_facts RUN_JSON: one jq for everything the tests check per host (jq is slow to start on
# a loaded machine). Fills associative arrays keyed by host id: H_STATE, H_FP (how many of
# hostname arch cpu_model kernel build clocksource are set), H_CORES, H_REPORTS, H_RTT, H_OFF,
# H_SKEW, H_LOST_AT, H_PROBLEM, H_OPS and H_COUNT (first workload); and F_OPS, F_COUNT (fleet),
# F_SKEW (.start_skew_ns), N_HOSTS.
declare -A H_STATE H_FP H_CORES H_REPORTS H_RTT H_OFF H_SKEW H_LOST_AT H_PROBLEM H_OPS H_COUNT
host_facts() {
    local id st fp cores rep rtt off sk lost ops cnt problem
    H_STATE=() H_FP=() H_CORES=() H_REPORTS=() H_RTT=() H_OFF=() H_SKEW=() H_LOST_AT=()
    H_PROBLEM=() H_OPS=() H_COUNT=()
    jq -r '.workloads[0] as $w
        | (.hosts[] | [.id, .state,
             ([.fingerprint | (.hostname, .arch, .cpu_model, .kernel, .build, .clocksource)]
              | map(select(. != null and . != "")) | length),
             (.fingerprint.cores // "-"), (.reports // "-"), (.clock.rtt_ns // "-"),
             (.clock.offset_ns // "-"), (.clock.start_skew_ns // "-"), (.lost_at // "-"),
             ($w.hosts[.id].ops // "-"), ($w.hosts[.id].metrics.latency.count // "-"),
             (if (.problem // "") == "" then "-" else .problem end)] | @tsv),
          (["fleet", ($w.fleet.ops // "-"), ($w.fleet.metrics.latency.count // "-"),
            (.start_skew_ns // "-"), (.hosts | length)] | @tsv)' "$1" >"$WORK/facts.tsv" || fail "cannot read $1"
    while IFS=$'\t' read -r id st fp cores rep rtt off sk lost ops cnt problem; do
        if [ "$id" = fleet ]; then
            F_OPS=$st F_COUNT=$fp F_SKEW=$cores N_HOSTS=$rep
            continue
        fi
        H_STATE[$id]=$st H_FP[$id]=$fp H_CORES[$id]=$cores H_REPORTS[$id]=$rep H_RTT[$id]=$rtt
        H_OFF[$id]=$off H_SKEW[$id]=$sk H_LOST_AT[$id]=$lost H_OPS[$id]=$ops H_COUNT[$id]=$cnt
        H_PROBLEM[$id]=$problem
    done <"$WORK/facts.tsv"
}
