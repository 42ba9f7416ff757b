# The coordinator at fleet scale: 200 simulated agents (bench_ingest's fake agents, in one
# process) complete a 3-workload run against a real `coord run`: it passes, every workload's
# fleet operations are exactly what the agents reported, the coordinator holds as many
# descriptors after the last workload as after the first, and its peak RSS stays under 150 MB.
# Release tree only: the bound is the release build's.
source "$(dirname "$0")/lib.sh"
[ -x "$FB_BUILD_DIR/bench_ingest" ] || fail "no $FB_BUILD_DIR/bench_ingest (built with the tree)"
out=$("$FB_BUILD_DIR/bench_ingest" --check 200 2>&1) || fail "$out"
pass "$out"
