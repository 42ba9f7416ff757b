# gate_truth.sh: the A/A and A/B truth test of the noise-aware gate, on this machine. For each
# run length: a baseline of B runs of one build, then K runs of the same build judged against
# it (A/A: any failed gate is a false alarm) and K runs with the handlers' work raised by 25 %
# (A/B: the completion p95 rises by about that much; a failed gate is a detection). Prints the
# false-alarm, detection and inconclusive rates at the default confidence (95 %) for a gate
# `{ metric: completion.p95, max_regression: 10% }`. Not a test: minutes of wall time, and the
# figures are this machine's.
#   bash bench/gate_truth.sh [BUILD_DIR]
#   env: K (10), B (5), LENGTHS ("2s 5s"), WORK_US (40), REPEAT (1: --repeat of each judged run)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
K=${K:-10} B=${B:-5} LENGTHS=${LENGTHS:-"2s 5s"} WORK_US=${WORK_US:-40} REPEAT=${REPEAT:-1}
work=$(mktemp -d /tmp/fleetbench-gate-truth.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
scenario() { # scenario LENGTH HANDLER_WORK_US
    cat >truth.yaml <<YAML
name: truth
agents: { expect: 1 }
defaults: { duration: $1, warmup: 1s, interval: 250ms }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: ${2}us }
    rate: 1000/s
    gates: [ { metric: completion.p95, max_regression: 10% } ]
YAML
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
    scenario "$len" "$WORK_US"
    for ((i = 0; i < B; i++)); do
        "$build/coord" run truth.yaml --bind "tcp://127.0.0.1:*" --local 1 --quiet --out base \
            >/dev/null 2>&1 || true
    done
    "$build/coord" baseline save base/*/ >/dev/null
    aa_fail=0 aa_inc=0 ab_fail=0 ab_inc=0 ab_sum=0 aa_sum=0
    for ((i = 0; i < K; i++)); do
        scenario "$len" "$WORK_US"
        read -r v ratio _ _ < <(one)
        [ "$v" = failed ] && aa_fail=$((aa_fail + 1))
        [ "$v" = inconclusive ] && aa_inc=$((aa_inc + 1))
        aa_sum=$(awk "BEGIN { print $aa_sum + $ratio }")
        scenario "$len" "$((WORK_US * 5 / 4))"
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
echo "K=$K judged runs per cell, baseline of B=$B runs, handler_work ${WORK_US}us vs $((WORK_US * 5 / 4))us"
