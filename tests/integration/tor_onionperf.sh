# tor.stream with onionperf: true (model mode): each op is one OnionPerf download on a fresh
# stream, 50 KiB, 1 MiB and 5 MiB in turn; each size gets its time to first and to last byte,
# the sizes share the ops evenly, and every byte comes back (no bad cells, no failures). The
# same in mode tor is in tor_real.sh.
source "$(dirname "$0")/lib.sh"
cat >perf.yaml <<YAML
name: perf
agents: { expect: 1, heartbeat_timeout: 10s }
defaults: { duration: 2s, warmup: 250ms, interval: 1s }
workloads:
  - name: perf
    kind: tor.stream
    params: { circuits: 2, streams: 2, concurrency: 1, onionperf: true }
YAML
run_coord 0 run perf.yaml --bind "tcp://127.0.0.1:*" --local 1 --quiet
json="$(run_dir)/run.json"
ops=$(jq '.workloads[0].fleet.ops' "$json")
[ "$ops" -ge 3 ] || fail "too few downloads to cover the three sizes: $ops"
for size in 50kib 1mib 5mib; do
    n=$(jq ".workloads[0].fleet.metrics.ttlb_$size.count" "$json")
    nf=$(jq ".workloads[0].fleet.metrics.ttfb_$size.count" "$json")
    # the op after the warm-up may start at any size: each gets a third, give or take one
    [ "$n" = "$nf" ] && [ $((n * 3 - ops)) -ge -3 ] && [ $((n * 3 - ops)) -le 3 ] ||
        fail "$size: $n downloads (ttfb $nf) of $ops"
    [ "$(jq ".workloads[0].fleet.metrics | .ttfb_$size.max <= .ttlb_$size.max" "$json")" = true ] ||
        fail "$size: time to first byte after the last"
done
[ "$(jq '.workloads[0].fleet.counters.bad_cells.value' "$json")" = 0 ] || fail "bad cells"
[ "$(jq '.workloads[0].fleet.counters.failures.value' "$json")" = 0 ] || fail "failed downloads"
pass "onionperf: $ops downloads, a third of each size, ttfb and ttlb for each"
