# A coordinator under a low descriptor limit keeps every interval log: it opens an .hlog only
# while it writes one, so 3 hosts x 24 workloads (72 files) fit in 64 descriptors. (It held one
# open per host and workload, and files past the limit went missing while the run said passed.)
source "$(dirname "$0")/lib.sh"

N_WORKLOADS=24
N_HOSTS=3
{
    echo "name: many"
    echo "agents: { expect: $N_HOSTS, join_timeout: 30s, heartbeat_timeout: 10s }"
    echo "defaults: { duration: 200ms, warmup: 0s, interval: 100ms }"
    echo "workloads:"
    for w in $(seq 1 $N_WORKLOADS); do
        echo "  - { name: w$w, kind: eventbus, params: { publishers: 1, workers: 1, handler_work: 0us }, rate: 200/s }"
    done
} >many.yaml

set +e
(ulimit -n 64 && exec "$COORD" run many.yaml --bind tcp://127.0.0.1:0 --local $N_HOSTS \
    --quiet) >coord.log 2>&1 &
coord=$! # the subshell's pid, which exec made the coordinator's
PIDS+=($coord)
# The most descriptors the coordinator held while it ran; at most 200 s.
max_fds=0
for ((i = 0; i < 1000; i++)); do
    kill -0 "$coord" 2>/dev/null || break
    n=$(ls "/proc/$coord/fd" 2>/dev/null | wc -l)
    [ "$n" -gt "$max_fds" ] && max_fds=$n
    sleep 0.2
done
kill -0 "$coord" 2>/dev/null && fail "the run did not end within 200 s"
wait "$coord"
rc=$?
set -e
echo "most descriptors held by the coordinator: $max_fds"
dir=$(run_dir)
hlogs=$(find "$dir" -maxdepth 1 -name '*.hlog' ! -name 'fleet.*' | wc -l)
if [ "$rc" = 3 ]; then
    grep -q 'cannot write' coord.log || fail "exit 3 without naming the file that could not be written"
    pass "descriptor limit: a loud exit 3 ($(grep -m1 'cannot write' coord.log))"
else
    [ "$rc" = 0 ] || fail "coord exited $rc: $(tail -n 5 coord.log)"
    [ "$hlogs" = $((N_WORKLOADS * N_HOSTS)) ] || fail "exit 0 with $hlogs of $((N_WORKLOADS * N_HOSTS)) .hlog files"
    [ -z "$(find "$dir" -name '*.tmp')" ] || fail "temp files left: $(find "$dir" -name '*.tmp')"
    [ "$max_fds" -lt 64 ] || fail "the coordinator held $max_fds descriptors"
    pass "descriptor limit 64: all $hlogs .hlog files written, at most $max_fds descriptors held"
fi
