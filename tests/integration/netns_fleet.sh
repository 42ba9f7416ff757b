# A fleet on real links: the coordinator and three agents each in a network namespace of its
# own, linked by veth pairs (no delay on agent 1's link, netem 5 ms each way on agent 2's,
# 40 ms on agent 3's), a run over CURVE. Checks: exit 0; every host in run.json with its
# fingerprint and clock figures; exact merges (fleet = sum of hosts, each host = the agent's
# own tally, latency counts too); the start skew across hosts under 1 ms; rtts that reflect
# the delays. Skipped without CAP_NET_ADMIN; the delay checks are skipped without netem.
source "$(dirname "$0")/lib/netns.sh"
PORT=5861
ns_fleet 3
ns_delay 2 5
ns_delay 3 40
ns_keys 3
HEARTBEAT=3s scenario fleet 3 4s

ns_coord coord "$PORT" fleet.yaml --quiet
COORD_PID=$LAST_PID
for i in 1 2 3; do ns_agent_run "$i" "a$i" "$PORT" --once; done
wait_pid "$COORD_PID" 45
[ "$CODE" = 0 ] || fail "coord exited $CODE, expected 0"
for i in 1 2 3; do wait_for "a$i.log" 'finished:' 10; done
host_facts "$(run_dir)/run.json"

[ "$N_HOSTS" = 3 ] || fail "run.json has $N_HOSTS hosts, expected 3"
for i in 1 2 3; do
    id=agent-$i
    [ "${H_STATE[$id]:-}" = "done" ] || fail "$id: state ${H_STATE[$id]:-absent}, expected done"
    [ "${H_FP[$id]}" = 6 ] || fail "$id: fingerprint incomplete in run.json (hostname arch cpu_model kernel build clocksource)"
    [ "${H_CORES[$id]}" -gt 0 ] || fail "$id: fingerprint.cores not > 0"
done
pass "3 hosts over CURVE on veth links, each done with its fingerprint"

# Exact merges: each host = the agent's own tally, the fleet = the sum of the hosts.
sum_ops=0 sum_count=0
for i in 1 2 3; do
    id=agent-$i
    read -r reports ops resent <<<"$(agent_tally "a$i.log")"
    [ -n "$ops" ] || fail "$id printed no tally"
    [ "${H_OPS[$id]}" = "$ops" ] || fail "$id: run.json ${H_OPS[$id]} ops, the agent $ops"
    [ "${H_COUNT[$id]}" = "$ops" ] || fail "$id: ${H_COUNT[$id]} latency samples for $ops ops"
    [ "$ops" = 8000 ] || fail "$id: open loop at 2000/s for 4 s must run 8000 ops, got $ops"
    [ "${H_REPORTS[$id]}" = "$reports" ] || fail "$id: ${H_REPORTS[$id]} reports counted, the agent sent $reports"
    sum_ops=$((sum_ops + H_OPS[$id]))
    sum_count=$((sum_count + H_COUNT[$id]))
done
[ "$F_OPS" = "$sum_ops" ] || fail "fleet ops $F_OPS != sum of hosts $sum_ops"
[ "$F_COUNT" = "$sum_count" ] || fail "fleet latency count $F_COUNT != sum of hosts $sum_count"
pass "exact merges: fleet $sum_ops ops = sum of hosts = sum of the agents' tallies"

# Start skew: each host's start, in the coordinator's clock by its measured offset, against
# the shared instant; run.json holds the spread (max - min of the hosts' start_skew_ns).
figures="" told=""
for i in 1 2 3; do
    id=agent-$i
    # The offset the agent was told in Start (its log, in ms to the microsecond).
    start_off=$(sed -n 's/.*clock offset \(-\{0,1\}[0-9.]*\) ms, rtt.*/\1/p' "a$i.log" | tail -n 1)
    [ "${H_RTT[$id]}" -gt 0 ] || fail "$id: clock.rtt_ns ${H_RTT[$id]}, expected > 0"
    figures+=" $id{rtt ${H_RTT[$id]} offset ${H_OFF[$id]} skew ${H_SKEW[$id]}}"
    told+=" $id{offset $start_off ms}"
done
[[ "$F_SKEW" =~ ^[0-9]+$ ]] || fail "no start_skew_ns in run.json ($F_SKEW)"
[ "$F_SKEW" -lt 1000000 ] ||
    fail "start skew $F_SKEW ns, expected < 1 ms; run.json:$figures; offsets told in Start:$told"
pass "start skew $F_SKEW ns across hosts (< 1 ms):$figures"

# Every namespace reads the same CLOCK_MONOTONIC, so each true offset is 0 and the NTP bound
# |measured offset| <= rtt/2 must hold for every host: certain, whatever the load.
for i in 1 2 3; do
    id=agent-$i
    a=${H_OFF[$id]#-}
    [ $((2 * a)) -le "${H_RTT[$id]}" ] ||
        fail "$id: offset ${H_OFF[$id]} ns exceeds half its rtt ${H_RTT[$id]} ns (shared clock: true offset 0)"
done
pass "offsets within rtt/2 of the true 0 (shared clock); offsets told in Start:$told"

if [ "$NS_NETEM" = 1 ]; then
    # netem delays every packet by at least its delay, each way: rtt >= 2 x delay, certain.
    r1=${H_RTT[agent-1]} r2=${H_RTT[agent-2]} r3=${H_RTT[agent-3]}
    [ "$r2" -ge 10000000 ] || fail "agent-2 (5 ms each way): rtt $r2 ns < 10 ms"
    [ "$r3" -ge 80000000 ] || fail "agent-3 (40 ms each way): rtt $r3 ns < 80 ms"
    [ "$r3" -gt "$r2" ] || fail "rtt of the 40 ms link ($r3 ns) should exceed the 5 ms link's ($r2 ns)"
    pass "rtts reflect the links' delays: none $r1 ns, 5 ms $r2 ns, 40 ms $r3 ns"
else
    echo "SKIP: rtt-against-delay checks (no netem in this kernel)"
fi
