#!/usr/bin/env bash
# report_size.sh: the size of report.html and the time `coord report` takes to build it, for
# 2, 20 and 200 hosts. One real run of examples/quick.yaml with two local agents, then folders
# whose hosts are copies of those two (their run.json entries and .hlog files under new ids):
# the same data per host as a real fleet would have, so the page's size and build time are a
# real fleet's. Not a test: the times are this machine's.
#   bash bench/report_size.sh [BUILD_DIR]   env: HOSTS ("2 20 200")
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
HOSTS=${HOSTS:-"2 20 200"}
work=$(mktemp -d /tmp/fleetbench-report-size.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$build/coord" run "$src/examples/quick.yaml" --bind "tcp://127.0.0.1:*" --local 2 --quiet \
    --out r >/dev/null 2>&1 || true
run=$(ls -d r/*/ | head -n 1)
run=${run%/}
[ -f "$run/run.json" ] || {
    echo "report_size.sh: the run of quick.yaml left no run.json" >&2
    exit 1
}
ids=($(jq -r '.hosts[].id' "$run/run.json"))
printf '%-6s %-12s %-10s\n' hosts "report.html" "build"
for n in $HOSTS; do
    dir=fleet-$n
    rm -rf "$dir"
    mkdir "$dir"
    # host-0001 .. host-N, each a copy of one of the real hosts in turn
    jq --argjson n "$n" --argjson ids "$(printf '%s\n' "${ids[@]}" | jq -R . | jq -s .)" '
        def name(i): "host-" + ((i + 10001) | tostring | .[1:]);
        def real(i): $ids[i % ($ids | length)];
        .hosts as $h
        | .hosts = [range(0; $n) as $i | ($h[] | select(.id == real($i))) + {id: name($i)}]
        | .workloads |= map(.hosts as $wh
            | .hosts = ([range(0; $n) as $i | {key: name($i), value: $wh[real($i)]}]
                        | from_entries))
    ' "$run/run.json" >"$dir/run.json"
    for ((i = 0; i < n; i++)); do
        id=${ids[$((i % ${#ids[@]}))]}
        name=$(printf 'host-%04d' "$((i + 1))")
        for f in "$run/$id".*.hlog; do cp "$f" "$dir/$name.${f#"$run/$id".}"; done
    done
    start=$(date +%s%N)
    "$build/coord" report "$dir" >/dev/null
    end=$(date +%s%N)
    printf '%-6s %-12s %-10s\n' "$n" "$(($(stat -c %s "$dir/report.html") / 1024)) KB" \
        "$(((end - start) / 1000000)) ms"
done
