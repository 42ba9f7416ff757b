# gate_truth.sh: the A/A and A/B truth test of the noise-aware gate, on this machine. For each
# run length: a baseline of B runs of one build, then K runs of the same build judged against
# it (A/A: any failed gate is a false alarm) and K runs with a 25 % regression injected (A/B:
# a failed gate is a detection). Prints the false-alarm, detection and inconclusive rates at
# the default confidence (95 %) for a gate `{ metric: p95, max_regression: 10% }`. Not a test:
# minutes of wall time, and the figures are this machine's.
#   bash bench/gate_truth.sh [BUILD_DIR]
#   env: K (10), B (5), LENGTHS ("2s 5s"), REPEAT (1: --repeat of each judged run),
#        WORKLOAD: log (default: a closed-loop substring search over 10000 stored lines; the
#        regression stores 12500, so every search scans 25 % more) or eventbus (open loop at
#        1000/s; the regression raises handler_work from WORK_US (40) by 25 %)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
K=${K:-10} B=${B:-5} LENGTHS=${LENGTHS:-"2s 5s"} WORK_US=${WORK_US:-40} REPEAT=${REPEAT:-1}
WORKLOAD=${WORKLOAD:-log}
case "$WORKLOAD" in
log) base=10000 regressed=12500 ;;
eventbus) base=$WORK_US regressed=$((WORK_US * 5 / 4)) ;;
*)
    echo "gate_truth.sh: WORKLOAD must be log or eventbus (got \"$WORKLOAD\")" >&2
    exit 2
    ;;
esac
work=$(mktemp -d /tmp/fleetbench-gate-truth.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
scenario() { # scenario LENGTH SIZE: SIZE is the log's stored lines or the handlers' work (us)
    cat >truth.yaml <<YAML
name: truth
agents: { expect: 1 }
defaults: { duration: $1, warmup: 1s, interval: 250ms }
workloads:
YAML
    if [ "$WORKLOAD" = log ]; then
        cat >>truth.yaml <<YAML
  - name: search
    kind: log
    params: { op: search, capacity: $2 }
    gates: [ { metric: p95, max_regression: 10% } ]
YAML
    else
        cat >>truth.yaml <<YAML
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: ${2}us }
    rate: 1000/s
    gates: [ { metric: completion.p95, max_regression: 10% } ]
YAML
    fi
}
one() { # one [ARGS...]: runs, prints "verdict ratio lo hi"
    set +e
    "$build/coord" run truth.yaml --bind "tcp://127.0.0.1:*" --local 1 --quiet --out r \
        --repeat "$REPEAT" "$@" >run.log 2>&1
    set -e
    local d
    d=$(ls -d r/*/ | tail -n 1)
    jq -r '.workloads[0].verdicts[0] | "\(.verdict) \(.ratio.point // 0) \(.ratio.lo // 0) \(.ratio.hi // 0)"' \
        "$d/run.json"
    rm -rf r
}
printf '%-7s %-6s %-9s %-12s %-13s %-12s %-13s %-s\n' length runs "A/A fail" "A/A inconcl" \
    "A/B detected" "A/B inconcl" "A/B ratio" "A/A ratio"
for len in $LENGTHS; do
    rm -rf baselines base
    mkdir base
    scenario "$len" "$base"
    for ((i = 0; i < B; i++)); do
        "$build/coord" run truth.yaml --bind "tcp://127.0.0.1:*" --local 1 --quiet --out base \
            >/dev/null 2>&1 || true
    done
    "$build/coord" baseline save base/*/ >/dev/null
    aa_fail=0 aa_inc=0 ab_fail=0 ab_inc=0 ab_sum=0 aa_sum=0
    for ((i = 0; i < K; i++)); do
        scenario "$len" "$base"
        read -r v ratio _ _ < <(one)
        [ "$v" = failed ] && aa_fail=$((aa_fail + 1))
        [ "$v" = inconclusive ] && aa_inc=$((aa_inc + 1))
        aa_sum=$(awk "BEGIN { print $aa_sum + $ratio }")
        scenario "$len" "$regressed"
        read -r v ratio _ _ < <(one --allow-different params)
        [ "$v" = failed ] && ab_fail=$((ab_fail + 1))
        [ "$v" = inconclusive ] && ab_inc=$((ab_inc + 1))
        ab_sum=$(awk "BEGIN { print $ab_sum + $ratio }")
    done
    printf '%-7s %-6s %-9s %-12s %-13s %-12s %-13s %-s\n' "$len" "$B+$REPEAT" \
        "$((100 * aa_fail / K))%" "$((100 * aa_inc / K))%" "$((100 * ab_fail / K))%" \
        "$((100 * ab_inc / K))%" "$(awk "BEGIN { printf \"%.2fx\", $ab_sum / $K }")" \
        "$(awk "BEGIN { printf \"%.2fx\", $aa_sum / $K }")"
done
echo "$WORKLOAD: K=$K judged runs per cell (each --repeat $REPEAT), baseline of B=$B runs," \
    "$base vs $regressed ($([ "$WORKLOAD" = log ] && echo "lines searched" || echo "us of handler work"))"
