#!/usr/bin/env bash
# fidelity.sh: the eventbus model next to Brummer's own EventBus (pkg/events), on this machine.
# Builds bench/fidelity/driver.go against the Brummer checkout you give it, with Debian's Go
# (installs golang-go when `go` is missing), runs the same scenarios through Brummer's code and
# through our eventbus workload (build/bench_eventbus scenario ...), and prints one table:
# scenario, Brummer ns/event, model ns/event, model/Brummer. Each figure is the median of REPS
# runs, Brummer's and ours alternating, each run a fresh process. Not a test: the figures are
# this machine's, and it is shared and noisy.
#
#   git clone https://github.com/standardbeagle/brummer /path/to/brummer
#   bash bench/fidelity.sh /path/to/brummer [BUILD_DIR]
# The model gets `payload=N`, N being what Brummer's code allocates per Publish (measured
# first: 1 publisher, no handler subscribed, so no call is spawned), so that its collector
# counts the same bytes.
#
#   env: REPS (5), EVENTS (100000: events of the publisher scenarios),
#        MODEL_PARAMS (extra name=value params for the model, e.g. "spawn_as=thread"),
#        GO_ENV (environment for Brummer's side, e.g. "GOGC=off" to see what its collector
#        costs, "GOMAXPROCS=1"),
#        ONLY (a regex of scenario names to run)
#
# Nothing of Brummer's is copied into this repository: the script copies the checkout's
# pkg/events/*.go (not its tests) and our driver into a throwaway module under /tmp, builds
# it there offline (pkg/events needs only Go's standard library) and removes it on exit.
# Then the same for the log store: a throwaway copy of pkg/events, pkg/filters and
# internal/logs (without config.go and configurable_parser.go, which need a TOML module)
# with bench/fidelity/logs_*.go, next to `bench_log --fidelity` on the same generated lines;
# env LOG_DETECT (fast|regex) picks the model's detection engine.
# Exit: 0 the table was printed; 1 a run failed; 2 bad input (no checkout, no pkg/events, or a
# pkg/events that does not build), or no Go could be installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
REPS=${REPS:-5} EVENTS=${EVENTS:-100000} MODEL_PARAMS=${MODEL_PARAMS:-} ONLY=${ONLY:-.}
GO_ENV=${GO_ENV:-}

need() {
    cat >&2 <<EOF
fidelity.sh: $1
It needs a checkout of Brummer (https://github.com/standardbeagle/brummer), whose
pkg/events it builds with Go:
    git clone https://github.com/standardbeagle/brummer /path/to/brummer
    bash bench/fidelity.sh /path/to/brummer [BUILD_DIR]
EOF
    exit 2
}

if [ $# -lt 1 ] || [ -z "$1" ]; then need "no Brummer checkout given"; fi
[ -d "$1" ] || need "\"$1\" is not a directory"
brummer=$(cd "$1" && pwd)
[ -f "$brummer/pkg/events/events.go" ] ||
    need "\"$brummer\" has no pkg/events/events.go: not a Brummer checkout"
build=${2:-$repo/build}

if ! command -v go >/dev/null; then
    echo "fidelity.sh: installing golang-go (Debian's Go) to build Brummer's pkg/events" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-go >/dev/null; then
        echo "fidelity.sh: cannot install golang-go; install Go (apt-get install golang-go)" >&2
        exit 2
    fi
fi

work=$(mktemp -d /tmp/fleetbench-fidelity.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/mod/events" "$work/mod/driver"
for f in "$brummer"/pkg/events/*.go; do
    case $f in *_test.go) continue ;; esac
    cp "$f" "$work/mod/events/"
done
cp "$here/fidelity/driver.go" "$work/mod/driver/"
go_module() { # go_module DIR MODULE PACKAGE OUT WHAT: builds DIR/PACKAGE offline into OUT
    printf 'module %s\n\ngo 1.19\n' "$2" >"$1/go.mod"
    if ! (cd "$1" && GO111MODULE=on GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local \
        go build -o "$4" "./$3") >"$work/go-build.log" 2>&1; then
        cat "$work/go-build.log" >&2
        need "$5 of \"$brummer\" does not build with $(go version) (errors above)"
    fi
}
go_module "$work/mod" fbfidelity driver "$work/driver" pkg/events

model="$build/bench_eventbus"
if [ ! -x "$model" ]; then
    echo "fidelity.sh: building $model (release)" >&2
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    nice cmake --build "$build" --target bench_eventbus -j2 >/dev/null
fi

# name publishers events handlers handler_sleep_ns: the seed's four scenarios, then its
# BenchmarkEventBusPublish publisher counts with handlers that return at once and that sleep.
scenarios=(
    "Light 10 1000 3 10000"
    "Medium 50 5000 5 10000"
    "Heavy 100 10000 8 10000"
    "Burst 500 50000 3 10000"
)
for s in 0 10000; do
    for p in 1 10 100 1000; do
        scenarios+=("pub$p-sleep$((s / 1000))us $p $EVENTS 3 $s")
    done
done

value() { # value LINE: the ns_per_event of a "fidelity NAME ns_per_event=N ..." line
    sed -n 's/^fidelity [^ ]* ns_per_event=\([0-9.]*\).*/\1/p' <<<"$1"
}
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# The model's payload: what Brummer's code allocates per Publish (the caller's Data map, the
# id, ...), measured here with 1 publisher and no handler subscribed (with handlers, a run that
# overflows would count spawned calls too), so the model's collector counts the same bytes.
# MODEL_PARAMS may set payload itself.
payload=$("$work/driver" probe 1 20000 0 0 | sed -n 's/.* alloc_per_event=\([0-9]*\).*/\1/p')
case " $MODEL_PARAMS" in *" payload="*) ;; *) MODEL_PARAMS="payload=${payload:-0} $MODEL_PARAMS" ;; esac
commit=$(git -C "$brummer" rev-parse --short=12 HEAD 2>/dev/null || echo "not a git checkout")
echo "Brummer pkg/events at $brummer ($commit), $(go version | cut -d' ' -f3)${GO_ENV:+ ($GO_ENV)},"
echo "$(nproc) cpus;"
echo "model: $model${MODEL_PARAMS:+ ($MODEL_PARAMS)}; median of $REPS runs each, alternating"
printf '%-16s %5s %7s %4s %7s %12s %12s %8s %s\n' scenario pubs events hdl sleep \
    "brummer ns/ev" "model ns/ev" model/br band
inband=0 total=0
for sc in "${scenarios[@]}"; do
    read -r name pubs events handlers sleep_ns <<<"$sc"
    [[ $name =~ $ONLY ]] || continue
    go_runs="" model_runs=""
    for ((r = 0; r < REPS; r++)); do
        # shellcheck disable=SC2086  # GO_ENV is a list of NAME=value words
        out=$(env $GO_ENV "$work/driver" "$name" "$pubs" "$events" "$handlers" "$sleep_ns") ||
            { echo "fidelity.sh: Brummer's driver failed on $name" >&2; exit 1; }
        go_runs+=" $(value "$out")"
        # shellcheck disable=SC2086  # MODEL_PARAMS is a list of name=value words
        out=$("$model" scenario "$name" "$pubs" "$events" "$handlers" "${sleep_ns}ns" \
            $MODEL_PARAMS) || { echo "fidelity.sh: the model failed on $name" >&2; exit 1; }
        model_runs+=" $(value "$out")"
    done
    go_ns=$(median <<<"$go_runs")
    model_ns=$(median <<<"$model_runs")
    ratio=$(awk -v m="$model_ns" -v g="$go_ns" 'BEGIN {printf "%.2f", m / g}')
    band=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.75 && r <= 1.33) ? "in" : "OUT"}')
    total=$((total + 1))
    [ "$band" = in ] && inband=$((inband + 1))
    printf '%-16s %5d %7d %4d %5dus %12.0f %12.0f %8s %s\n' "$name" "$pubs" "$events" \
        "$handlers" $((sleep_ns / 1000)) "$go_ns" "$model_ns" "$ratio" "$band"
done
echo "$inband of $total rows within 0.75x-1.33x of Brummer's code"

# ---- the log store: Brummer's internal/logs next to the model (bench_log --fidelity) ------
if [ ! -f "$brummer/internal/logs/store.go" ] || [ ! -d "$brummer/pkg/filters" ]; then
    echo "fidelity.sh: $brummer has no internal/logs/store.go or pkg/filters: no log table" >&2
    exit 0
fi
# A copy of Brummer's module with what the store needs: pkg/events, pkg/filters and
# internal/logs without config.go and configurable_parser.go (they need a third-party TOML
# module), plus our driver inside the package so that it can time the store's own detection.
logmod="$work/logmod"
mkdir -p "$logmod/pkg" "$logmod/internal/logs" "$logmod/fbdriver"
cp -r "$brummer/pkg/events" "$brummer/pkg/filters" "$logmod/pkg/"
rm -f "$logmod"/pkg/*/*_test.go
for f in "$brummer"/internal/logs/*.go; do
    case $f in *_test.go | */config.go | */configurable_parser.go) continue ;; esac
    cp "$f" "$logmod/internal/logs/"
done
cp "$here/fidelity/logs_driver.go" "$logmod/internal/logs/"
cp "$here/fidelity/logs_main.go" "$logmod/fbdriver/main.go"
go_module "$logmod" github.com/standardbeagle/brummer fbdriver "$work/logsdriver" internal/logs
log_model="$build/bench_log"
[ -x "$log_model" ] || nice cmake --build "$build" --target bench_log -j2 >/dev/null
"$log_model" --dump-lines "$work/lines.txt"
LOG_DETECT=${LOG_DETECT:-fast}
echo
echo "log store: Brummer internal/logs vs the model (eviction shift, evicted_index keep, detect"
echo "$LOG_DETECT), the same 10 000 generated lines; median of $REPS runs each, alternating;"
echo "cost ratio: model/Brummer for times, Brummer/model for lines/s"
printf '%-16s %14s %14s %-8s %8s %s\n' row brummer model unit cost band
declare -A go_v model_v
for measure in search_ms add ingest detect_ns; do
    inner=1
    case $measure in search_ms) inner=20 ;; detect_ns) inner=3 ;; esac
    for ((r = 0; r < REPS; r++)); do
        out=$("$work/logsdriver" "$measure" "$work/lines.txt" "$inner") ||
            { echo "fidelity.sh: Brummer's log driver failed on $measure" >&2; exit 1; }
        while read -r _ name v _; do go_v[$name]+=" $v"; done <<<"$out"
        out=$("$log_model" --fidelity "$measure" "$inner" "$LOG_DETECT") ||
            { echo "fidelity.sh: the log model failed on $measure" >&2; exit 1; }
        while read -r _ name v _; do model_v[$name]+=" $v"; done <<<"$out"
    done
done
inband=0 total=0
for row in "search_ms ms" "add_queued_ns ns" "add_sync_ns ns" "ingest20k_lps lines/s" \
    "ingest200k_lps lines/s" "detect_ns ns"; do
    read -r name unit <<<"$row"
    g=$(median <<<"${go_v[$name]}")
    m=$(median <<<"${model_v[$name]}")
    cost=$(awk -v m="$m" -v g="$g" -v u="$unit" 'BEGIN {
        printf "%.2f", u == "lines/s" ? g / m : m / g }')
    band=$(awk -v r="$cost" 'BEGIN {print (r >= 0.75 && r <= 1.33) ? "in" : "OUT"}')
    total=$((total + 1))
    [ "$band" = in ] && inband=$((inband + 1))
    printf '%-16s %14s %14s %-8s %8s %s\n' "$name" "$g" "$m" "$unit" "$cost" "$band"
done
echo "$inband of $total log rows within 0.75x-1.33x of Brummer's code"
