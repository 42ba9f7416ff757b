# The coordinator at fleet scale: 200 simulated agents (bench_ingest's fake agents, in one
# process) complete a 3-workload run against a real `coord run`: it passes, every workload's
# fleet operations are exactly what the agents reported, the coordinator holds as many
# descriptors after the last workload as after the first, and its peak RSS stays under 150 MB.
# Then the same 200 agents through 6 workloads: what the coordinator holds does not grow with
# the workloads it has run (peak RSS after the sixth under 1.3 times the peak after the second,
# the same descriptors after each).
# Release tree only: the bounds are the release build's.
source "$(dirname "$0")/lib.sh"
[ -x "$FB_BUILD_DIR/bench_ingest" ] || fail "no $FB_BUILD_DIR/bench_ingest (built with the tree)"
out=$("$FB_BUILD_DIR/bench_ingest" --check 200 2>&1) || fail "$out"
growth=$("$FB_BUILD_DIR/bench_ingest" --check-growth 200 2>&1) || fail "$growth"
pass "$out; $growth"
