# Faults across real links: the coordinator and three agents each in a network namespace of its
# own, linked by veth pairs (netem 5 ms each way on agent 2's link, 40 ms on agent 3's), over
# CURVE.
#  1. kill -9 of one of three agents mid-run: the run finishes with the other two, run.json and
#     report.md name the lost host, exit 3; the same with allow_lost: 1 exits 0.
#  2. an agent whose link goes down for 2 s (ip link set DEV down, then up), less than the
#     heartbeat timeout, resumes: every count exact against the agents' own tallies.
#  3. kill -9 of the coordinator: every agent stops within the heartbeat timeout (+2 s), keeps
#     its results in its state folder ("kept in PATH") and keeps running, waiting.
# Skipped without CAP_NET_ADMIN; without netem the links just have no delay.
source "$(dirname "$0")/lib/netns.sh"
ns_fleet 3
ns_delay 2 5
ns_delay 3 40
ns_keys 3

# wait_all PATTERN SECONDS LOG...: until every LOG holds PATTERN.
wait_all() {
    local pattern=$1 secs=$2 f
    shift 2
    for f in "$@"; do wait_for "$f" "$pattern" "$secs"; done
}

# --- 1. kill -9 of one agent mid-run -------------------------------------------------------
HEARTBEAT=2s scenario lost 3 5s
ns_coord coord1 5871 lost.yaml --quiet --out "$WORK/r1"
COORD_PID=$LAST_PID
for i in 1 2 3; do ns_agent_run "$i" "l$i" 5871 --once; done
A3=$LAST_PID
wait_all 'starts in' 20 l1.log l2.log l3.log
sleep 2.5
kill -9 "$A3"
wait_pid "$COORD_PID" 30
[ "$CODE" = 3 ] || fail "agent killed: coord exited $CODE, expected 3"
rj=$(ls -d "$WORK"/r1/*/)run.json
host_facts "$rj"
[ "${H_STATE[agent-3]:-}" = lost ] || fail "agent-3 not lost in run.json (${H_STATE[agent-3]:-absent})"
[ "${H_LOST_AT[agent-3]}" != - ] || fail "no lost_at for agent-3"
grep -q '| agent-3 | lost |' "$(dirname "$rj")/report.md" || fail "report.md does not name agent-3 as lost"
wait_all 'finished:' 10 l1.log l2.log
sum=0
for i in 1 2; do
    [ "${H_STATE[agent-$i]}" = "done" ] || fail "agent-$i not done (${H_STATE[agent-$i]})"
    read -r _ ops _ <<<"$(agent_tally "l$i.log")"
    [ "${H_OPS[agent-$i]}" = "$ops" ] || fail "agent-$i: run.json ${H_OPS[agent-$i]} ops, the agent $ops"
    sum=$((sum + ops))
done
[ "$F_OPS" = "$sum" ] || fail "fleet ops $F_OPS: should be agents 1 and 2's alone ($sum)"
pass "agent-3 killed mid-run: exit 3, lost at ${H_LOST_AT[agent-3]} (${H_PROBLEM[agent-3]}), fleet = agents 1+2 = $sum ops"

HEARTBEAT=2s scenario lost1 3 3s "allow_lost: 1"
ns_coord coord1b 5872 lost1.yaml --quiet --out "$WORK/r1b"
COORD_PID=$LAST_PID
for i in 1 2 3; do ns_agent_run "$i" "m$i" 5872 --once; done
wait_all 'starts in' 20 m1.log m2.log m3.log
sleep 1.5
kill -9 "$LAST_PID"
wait_pid "$COORD_PID" 30
[ "$CODE" = 0 ] || fail "allow_lost: 1: coord exited $CODE, expected 0"
pass "allow_lost: 1: exit 0 with agent-3 lost"

# --- 2. a link down for 2 s, less than the heartbeat timeout ------------------------------
HEARTBEAT=6s scenario cut 3 6s
ns_coord coord2 5873 cut.yaml --quiet --out "$WORK/r2"
COORD_PID=$LAST_PID
for i in 1 2 3; do ns_agent_run "$i" "c$i" 5873 --once; done
wait_all 'starts in' 20 c1.log c2.log c3.log
sleep 2
ns_link 2 down
sleep 2
ns_link 2 up
wait_pid "$COORD_PID" 40
[ "$CODE" = 0 ] || fail "link down 2 s: coord exited $CODE, expected 0"
wait_all 'finished:' 15 c1.log c2.log c3.log
host_facts "$(ls -d "$WORK"/r2/*/)run.json"
sum=0 sum_count=0
for i in 1 2 3; do
    id=agent-$i
    [ "${H_STATE[$id]}" = "done" ] || fail "$id not done after the cut (${H_STATE[$id]})"
    read -r reports ops resent <<<"$(agent_tally "c$i.log")"
    [ "${H_OPS[$id]}" = "$ops" ] || fail "$id: coordinator counted ${H_OPS[$id]} ops, the agent $ops"
    [ "${H_COUNT[$id]}" = "$ops" ] || fail "$id: ${H_COUNT[$id]} latency samples for $ops ops"
    [ "${H_REPORTS[$id]}" = "$reports" ] || fail "$id: ${H_REPORTS[$id]} reports counted, the agent sent $reports"
    [ "$i" = 2 ] && cut_resent=$resent cut_ops=$ops
    sum=$((sum + H_OPS[$id])) sum_count=$((sum_count + H_COUNT[$id]))
done
[ "$cut_resent" -gt 0 ] || fail "the cut should have made agent-2 resend ($(grep finished: c2.log))"
[ "$F_OPS" = "$sum" ] || fail "fleet ops $F_OPS != sum $sum"
[ "$F_COUNT" = "$sum_count" ] || fail "fleet latency count $F_COUNT != sum $sum_count"
pass "agent-2's link down 2 s: $cut_resent report(s) resent, agent-2 $cut_ops ops exact, fleet $sum = sum of the agents' tallies"

# --- 3. kill -9 of the coordinator --------------------------------------------------------
HEARTBEAT=2s scenario orphan 3 20s
ns_coord coord3 5874 orphan.yaml --quiet --out "$WORK/r3"
COORD_PID=$LAST_PID
APIDS=()
for i in 1 2 3; do
    ns_agent_run "$i" "o$i" 5874
    APIDS+=("$LAST_PID")
done
wait_all 'starts in' 20 o1.log o2.log o3.log
sleep 2.5
kill -9 "$COORD_PID"
killed_at=$(date +%s%N)
wait_all 'kept in' 8 o1.log o2.log o3.log
took_ms=$((($(date +%s%N) - killed_at) / 1000000))
[ "$took_ms" -le 4000 ] || fail "the agents took $took_ms ms to keep their results (heartbeat timeout 2 s + 2 s)"
for i in 1 2 3; do
    kept=$(sed -n 's/.*kept in \(.*\)$/\1/p' "o$i.log")
    [ -s "$kept" ] || fail "agent-$i: no results file at $kept"
    ops=$(jq -r '.workloads[0].ops' "$kept")
    [ "$ops" -gt 0 ] || fail "agent-$i: kept results hold no operations"
    kill -0 "${APIDS[i - 1]}" 2>/dev/null || fail "agent-$i should keep running, waiting for the next coordinator"
done
sleep 1
for i in 1 2 3; do kill -0 "${APIDS[i - 1]}" 2>/dev/null || fail "agent-$i exited after keeping its results"; done
pass "coordinator killed: all 3 agents kept their results within $took_ms ms (timeout 2 s) and wait"
