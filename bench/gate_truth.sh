# gate_truth.sh: the A/A and A/B truth test of the noise-aware gate, on this machine. For each
# run length: a baseline of B runs of one build, then K runs of the same build judged against
# it (A/A: any failed gate is a false alarm) and K runs with a 25 % regression injected (A/B:
# a failed gate is a detection). Prints the false-alarm, detection and inconclusive rates at
# the default confidence (95 %) for a p95 gate at several thresholds. Not a test:
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
# The ratio's interval does not depend on the gate's threshold, so every judged run's interval
# gives the verdict at each of THRESHOLDS: failed when lo > 1 + T, held when hi <= 1 + T,
# inconclusive otherwise (the rule coord applies; its own verdict at 10 % is checked against it).
THRESHOLDS=${THRESHOLDS:-"5 10 20"}
printf '%-7s %-6s %-10s %-9s %-12s %-13s %-12s %-10s %-s\n' length runs threshold "A/A fail" \
    "A/A inconcl" "A/B detected" "A/B inconcl" "A/B ratio" "A/A ratio"
for len in $LENGTHS; do
    rm -rf baselines base
    mkdir base
    scenario "$len" "$base"
    for ((i = 0; i < B; i++)); do
        "$build/coord" run truth.yaml --bind "tcp://127.0.0.1:*" --local 1 --quiet --out base \
            >/dev/null 2>&1 || true
    done
    "$build/coord" baseline save base/*/ >/dev/null
    : >aa.txt
    : >ab.txt
    for ((i = 0; i < K; i++)); do
        scenario "$len" "$base"
        one >>aa.txt
        scenario "$len" "$regressed"
        one --allow-different params >>ab.txt
    done
    for f in aa.txt ab.txt; do # coord's verdicts (at 10 %) agree with the rule
        awk '$1 != "skipped" && $1 != "incomparable" {
                v = $3 > 1.10 ? "failed" : ($4 <= 1.10 ? "held" : "inconclusive")
                if (v != $1) { print "gate_truth.sh: coord said " $1 " for " $0 > "/dev/stderr"; bad = 1 }
             } END { exit bad }' "$f"
    done
    for t in $THRESHOLDS; do
        rates() { # FILE -> "failed% inconclusive% mean-ratio"
            awk -v lim="$(awk "BEGIN { print 1 + $t / 100 }")" '
                { n++; sum += $2; if ($3 > lim) f++; else if ($4 > lim) i++ }
                END { printf "%d%% %d%% %.2fx\n", 100 * f / n, 100 * i / n, sum / n }' "$1"
        }
        read -r aa_f aa_i aa_r < <(rates aa.txt)
        read -r ab_f ab_i ab_r < <(rates ab.txt)
        printf '%-7s %-6s %-10s %-9s %-12s %-13s %-12s %-10s %-s\n' "$len" "$B+$REPEAT" "$t%" \
            "$aa_f" "$aa_i" "$ab_f" "$ab_i" "$ab_r" "$aa_r"
    done
done
echo "$WORKLOAD: K=$K judged runs per cell (each --repeat $REPEAT), baseline of B=$B runs," \
    "$base vs $regressed ($([ "$WORKLOAD" = log ] && echo "lines searched" || echo "us of handler work"))"
