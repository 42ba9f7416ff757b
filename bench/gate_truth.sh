# gate_truth.sh: the A/A and A/B truth test of the noise-aware gate, on this machine. Each
# trial judges one build against a baseline (A/A: any failed gate is a false alarm) and a build
# with a 25 % regression injected (A/B: a failed gate is a detection); the script prints the
# false-alarm, detection and inconclusive rates at the default confidence (95 %) for a METRIC
# (p50) gate at several thresholds. Not a test: minutes of wall time, and the figures are this
# machine's.
#   bash bench/gate_truth.sh [BUILD_DIR]
#   env: MODE: interleaved (default: each trial is N rounds of three runs, the baseline build
#          (A), the same build again (A') and the regression (B); the A runs are the baseline,
#          and the last A' and B runs, each chained to its earlier ones with --continue, are
#          judged against it) or apart (a baseline of B runs first, then K judged runs of each
#          kind, of --repeat REPEAT each)
#        K (10 trials), N (8), B (5), REPEAT (1), LENGTHS ("1s": measured time of each run),
#        THRESHOLDS ("5 10 20"), METRIC (p50),
#        WORKLOAD: log (default: a closed-loop substring search over LINES (500) stored lines,
#        250 KB that stay in a core's cache; the regression stores 25 % more, so every search
#        scans 25 % more) or eventbus (open loop at 1000/s; the regression raises
#        handler_work from WORK_US (40) by 25 %)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
K=${K:-10} N=${N:-8} B=${B:-5} LENGTHS=${LENGTHS:-"1s"} WORK_US=${WORK_US:-40}
REPEAT=${REPEAT:-1} MODE=${MODE:-interleaved} WORKLOAD=${WORKLOAD:-log}
THRESHOLDS=${THRESHOLDS:-"5 10 20"} METRIC=${METRIC:-p50}
case "$WORKLOAD" in
log) base=${LINES:-500} regressed=$((${LINES:-500} * 5 / 4)) ;;
eventbus) base=$WORK_US regressed=$((WORK_US * 5 / 4)) ;;
*)
    echo "gate_truth.sh: WORKLOAD must be log or eventbus (got \"$WORKLOAD\")" >&2
    exit 2
    ;;
esac
case "$MODE" in
interleaved | apart) ;;
*)
    echo "gate_truth.sh: MODE must be interleaved or apart (got \"$MODE\")" >&2
    exit 2
    ;;
esac
[ -x "$build/coord" ] || {
    echo "gate_truth.sh: no $build/coord; build first (cmake --build build)" >&2
    exit 2
}
work=$(mktemp -d /tmp/fleetbench-gate-truth.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
scenario() { # scenario FILE LENGTH SIZE: SIZE is the log's stored lines or the handlers' work
    cat >"$1" <<YAML
name: truth
agents: { expect: 1 }
defaults: { duration: $2, warmup: 500ms, interval: 250ms }
workloads:
YAML
    if [ "$WORKLOAD" = log ]; then
        cat >>"$1" <<YAML
  - name: search
    kind: log
    params: { op: search, capacity: $3 }
    gates: [ { metric: $METRIC, max_regression: 10% } ]
YAML
    else
        cat >>"$1" <<YAML
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: ${3}us }
    rate: 1000/s
    gates: [ { metric: completion.$METRIC, max_regression: 10% } ]
YAML
    fi
}
run() { # run SCENARIO OUT [ARGS...]: one run of coord, its folder in OUT
    local file=$1 out=$2
    shift 2
    "$build/coord" run "$file" --bind "tcp://127.0.0.1:*" --local 1 --quiet --out "$out" "$@" \
        >run.log 2>&1 || true
}
verdict() { # verdict DIR: "verdict ratio lo hi" of the run in DIR
    local d
    d=$(ls -d "$1"/*/ | tail -n 1)
    jq -r '.workloads[0].verdicts[0] | "\(.verdict) \(.ratio.point // 0) \(.ratio.lo // 0) \(.ratio.hi // 0)"' \
        "$d/run.json"
}
# interleaved: one window of N rounds A A' B (A and A' the same build, B the regression),
# each round's runs in turn, so drift hits all three alike. The baseline is saved from the A
# runs after the last A; the A' runs and the B runs are each chained with --continue and their
# last run is judged: appends the A/A verdict to aa.txt and the A/B verdict to ab.txt.
interleaved() {
    local i prev_aa="" prev_ab=""
    rm -rf base aa ab baselines
    for ((i = 1; i <= N; i++)); do
        local last=()
        ((i == N)) || last=(--baseline none.json) # judged the last time only
        run a.yaml "base/$i"
        ((i < N)) || "$build/coord" baseline save base/*/*/ >/dev/null
        run a.yaml "aa/$i" ${prev_aa:+--continue "$prev_aa"} "${last[@]}"
        run b.yaml "ab/$i" ${prev_ab:+--continue "$prev_ab"} --allow-different params "${last[@]}"
        prev_aa=$(ls -d "aa/$i"/*/ | tail -n 1)
        prev_ab=$(ls -d "ab/$i"/*/ | tail -n 1)
    done
    verdict "aa/$N" >>aa.txt
    verdict "ab/$N" >>ab.txt
}
# apart: K judged runs of each kind (of --repeat REPEAT) against one baseline made before
apart() {
    rm -rf r
    run a.yaml r --repeat "$REPEAT"
    verdict r >>aa.txt
    rm -rf r
    run b.yaml r --repeat "$REPEAT" --allow-different params
    verdict r >>ab.txt
}
# The ratio's interval does not depend on the gate's threshold, so every judged run's interval
# gives the verdict at each of THRESHOLDS: failed when lo > 1 + T, held when hi <= 1 + T,
# inconclusive otherwise (the rule coord applies; its own verdict at 10 % is checked against it).
printf '%-11s %-7s %-6s %-10s %-9s %-12s %-13s %-12s %-10s %-s\n' mode length runs threshold \
    "A/A fail" "A/A inconcl" "A/B detected" "A/B inconcl" "A/B ratio" "A/A ratio"
for len in $LENGTHS; do
    scenario a.yaml "$len" "$base"
    scenario b.yaml "$len" "$regressed"
    runs="$N+$N"
    if [ "$MODE" = apart ]; then
        rm -rf baselines base
        for ((i = 0; i < B; i++)); do run a.yaml base; done
        "$build/coord" baseline save base/*/ >/dev/null
        runs="$B+$REPEAT"
    fi
    : >aa.txt
    : >ab.txt
    started=$(date +%s)
    for ((k = 1; k <= K; k++)); do
        "$MODE"
        echo "gate_truth.sh: $len: trial $k of $K done ($(($(date +%s) - started)) s)" >&2
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
        printf '%-11s %-7s %-6s %-10s %-9s %-12s %-13s %-12s %-10s %-s\n' "$MODE" "$len" "$runs" \
            "$t%" "$aa_f" "$aa_i" "$ab_f" "$ab_i" "$ab_r" "$aa_r"
    done
    [ -z "${KEEP:-}" ] || cp aa.txt ab.txt "$KEEP/"
done
echo "$WORKLOAD: K=$K trials of each kind, $base vs $regressed" \
    "($([ "$WORKLOAD" = log ] && echo "lines searched" || echo "us of handler work"))"
