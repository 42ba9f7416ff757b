#!/usr/bin/env bash
# tests/fuzz/make_corpus.sh: rebuilds the committed seed corpora in tests/fuzz/corpus/ (run it when
# a format changes, then commit the result; ./fuzz.sh never writes there).
#   tests/fuzz/make_corpus.sh BUILD_DIR RUN_DIR
# BUILD_DIR: a tree configured with FB_FUZZ=ON (for gen_corpus, which writes the wire, hist and
# small stats seeds, and for coord, which runs baseline.yaml for the baseline seeds). RUN_DIR:
# results of `coord run examples/quick.yaml` (its run.json and .hlog give the real-world stats
# and hlog seeds). Needs jq and base64.
set -euo pipefail
build=$1
run=$2
cd "$(dirname "$0")"
src=../..
corpus=corpus

rm -rf "$corpus"
mkdir -p "$corpus"/{wire,hist,hlog,scenario,stats_json,allow,report,baseline,httpreq,url}

# Request heads for the metrics endpoint: as Prometheus and curl send them, and wrong ones.
h=$corpus/httpreq
printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: Prometheus/2.42.0\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n' >"$h/prometheus"
printf 'GET /metrics HTTP/1.1\r\nHost: localhost:9464\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n' >"$h/curl"
printf 'HEAD / HTTP/1.0\n\n' >"$h/head-lf"
printf 'GET /metrics HTTP/2.0\r\n\r\n' >"$h/http2"
printf 'POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc' >"$h/post"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >"$h/partial"
printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' >"$h/tls"

cmake --build "$build" --target gen_corpus >/dev/null
"$build/gen_corpus" "$corpus" "$src/examples/quick.yaml"

# Scenarios: the examples and every good and broken test scenario.
for f in "$src"/examples/*.yaml; do cp "$f" "$corpus/scenario/example-$(basename "$f")"; done
for f in "$src"/tests/data/scenarios/*/*.yaml; do
    kind=$(basename "$(dirname "$f")")
    cp "$f" "$corpus/scenario/$kind-$(basename "$f")"
done

# hlog lines: jHiccup's header and every fourth row, and the start of one of our own logs.
hiccup=$src/tests/data/hdr/jHiccup-2.0.7S.logV2.hlog
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case $line in
        '#'* | '"'*) printf '%s\n' "$line" > "$corpus/hlog/jhiccup-$n" ;;
        *) [ $((n % 4)) -eq 1 ] && printf '%s\n' "$line" > "$corpus/hlog/jhiccup-$n" ;;
    esac
done < "$hiccup"
ours=$(ls "$run"/*.hlog | head -1)
sed -n 2p "$ours" > "$corpus/hlog/ours-starttime"
sed -n 4p "$ours" > "$corpus/hlog/ours-tagged-row"
printf '#[BaseTime: 0.000 (seconds since epoch)]\n' > "$corpus/hlog/basetime"
printf '\r\n' > "$corpus/hlog/blank"

# Histograms: the jHiccup rows above (2 significant digits, lowest 20000), decoded.
for f in "$corpus"/hlog/jhiccup-*; do
    line=$(cat "$f")
    case $line in '#'* | '"'*) continue ;; esac
    printf '%s' "${line##*,}" | base64 -d > "$corpus/hist/jhiccup-$(basename "$f" | cut -d- -f2)"
done

# Stats JSON: one workload's fleet stats whole, one host's, and a run.json cut to one workload
# with only its latency metric (the full run.json is ~200 KB: too slow to mutate).
jq -c '.workloads[1].fleet' "$run/run.json" > "$corpus/stats_json/fleet-bus-open.json"
jq -c '.workloads[0].hosts | to_entries[0].value' "$run/run.json" > "$corpus/stats_json/host-bus-closed.json"
jq -c '{fleetbench, run_id, scenario: {name: .scenario.name}, workloads: [.workloads[0] |
        {name, kind, fleet: (.fleet | .metrics |= {latency})}]}' "$run/run.json" \
    > "$corpus/stats_json/run-cut.json"

# A run.json for report.html: one workload, one host, metrics with latency only, no
# per-interval samples (the report does not read them).
jq -c '.workloads = [.workloads[0] | del(.samples) | .fleet.metrics |= {latency}
        | .hosts |= (to_entries[0:1] | map(.value.metrics |= {latency}) | from_entries)]
       | .hosts = .hosts[0:1]' "$run/run.json" > "$corpus/report/run-one-host.json"
# Baselines: two runs of baseline.yaml (one local agent), saved by `coord baseline save` as one
# and as two runs, then cut to what a gate reads (a whole one is ~130 KB: too slow to mutate):
# the open-loop workload of the one-run baseline whole, and both workloads of the two-run one
# with one interval per run and the latency metric only.
cmake --build "$build" --target coord agent >/dev/null
scenario=$PWD/baseline.yaml
coord=$(cd "$build" && pwd)/coord
tmp=$(mktemp -d)
cut='{fleetbench_baseline, fleetbench, run_id, scenario: {name: .scenario.name}, runs,
      workloads: [.workloads[] | {name, kind, params, rate_per_s, fleet, samples}]}'
(
    cd "$tmp"
    for i in 1 2; do
        "$coord" run "$scenario" --bind 'tcp://127.0.0.1:*' --local 1 --quiet >/dev/null
        sleep 1 # run ids carry the second
    done
    set -- results/*/
    "$coord" baseline save "$1" >/dev/null && cp baselines/fuzz-baseline.json one-run.json
    "$coord" baseline save "$1" "$2" >/dev/null
)
jq -c "$cut | .workloads |= .[:1]" "$tmp/one-run.json" > "$corpus/baseline/one-run-open.json"
jq -c "$cut | .workloads |= map(.samples.runs |= map(.intervals |= (.[:1] | map(.metrics |=
       {latency}))) | .fleet.metrics |= {latency})" "$tmp/baselines/fuzz-baseline.json" \
    > "$corpus/baseline/two-runs-small.json"
rm -rf "$tmp"

# Allow-lists (agent --allow): a few written by hand.
printf 'sleep-1: [/bin/sleep, "1"]\nmake:    [make, -C, /srv/app, build]\n' > "$corpus/allow/two"
printf '# only comments\n' > "$corpus/allow/comments"
printf 'true: [/bin/true]\n' > "$corpus/allow/one"
printf 'echo-hi:\n  - /bin/echo\n  - "hi there"\n  - '"'"'single'"'"'\nls.all: [ls, -la, /]\n' > "$corpus/allow/block"
printf 'bad name: [x]\n' > "$corpus/allow/bad-name"
printf 'empty: []\n' > "$corpus/allow/empty-argv"
printf 'fb-child: [/bin/sh]\n' > "$corpus/allow/helper-redefined"
printf 'sleep-1: [/bin/sleep, "1"]\nhttp:\n  - 127.0.0.1\n  - 10.0.0.0/8:8000-8999\n  - ::1\n  - "[fd00::/8]:80-90"\n  - localhost:8080\n' > "$corpus/allow/http-forms"
printf 'http: ["::ffff:192.168.0.0/112", lab.test, "[::1]:443"]\n' > "$corpus/allow/http-mapped-name"
printf 'http: [10.0.0.1/8, "127.0.0.1:0", nowhere.invalid]\n' > "$corpus/allow/http-bad"
printf 'http: [/usr/bin/curl, -s]\n' > "$corpus/allow/http-command"

# URLs (url: of an http workload): each form the parser takes, and wrong ones.
u=$corpus/url
printf 'http://127.0.0.1:8080/index.html' > "$u/ipv4-port"
printf 'HTTPS://Example.COM' > "$u/name-default-port"
printf 'http://[::1]:8443/search?q=a%%20b&n=1#top' > "$u/ipv6-query-fragment"
printf 'https://localhost?x=1' > "$u/query-only"
printf 'ftp://example.com/' > "$u/other-scheme"
printf 'http://user:pw@h/' > "$u/userinfo"
printf 'http://fe80::1%%25eth0/' > "$u/bare-ipv6"
printf 'http://h:65536/a b' > "$u/bad-port-space"

du -sh "$corpus"
for d in "$corpus"/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l) files"; done
