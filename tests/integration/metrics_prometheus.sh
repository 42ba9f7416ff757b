#!/usr/bin/env bash
# metrics_prometheus.sh: `coord run --metrics 127.0.0.1:0` serves Prometheus text while the run
# goes. Scraped with curl during a real run of two local agents: Prometheus' own checker
# (promtool check metrics) accepts every scrape, the counters rise between two scrapes, and once
# the run has ended the final counters equal run.json's, per host and for the fleet.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool is missing: ./setup.sh installs prometheus"
command -v curl >/dev/null || fail "curl is missing: ./setup.sh installs curl"

cat >"$WORK/prom.yaml" <<YAML
name: prom
agents: { expect: 2, join_timeout: 15s, heartbeat_timeout: 5s }
defaults: { duration: 8s, warmup: 1s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 2us }
    rate: 500/s
YAML
port=$(free_port)
# --metrics-hold: the endpoint stays up after the run so that its final numbers can be read.
bg coord timeout 150 "$COORD" run "$WORK/prom.yaml" --local 2 --bind "tcp://127.0.0.1:$port" \
    --metrics 127.0.0.1:0 --metrics-hold 60s --quiet
coord_pid=$LAST_PID
wait_for "$WORK/coord.log" '^coord: metrics on http://127.0.0.1:[0-9]*/metrics$' 30
url=$(sed -n 's/^coord: metrics on \(http:.*\)$/\1/p' "$WORK/coord.log")

# scrape FILE: the body into FILE, checked by promtool; the status code on stdout.
scrape() {
    local code
    code=$(curl -sS --max-time 5 -D "$1.head" -o "$1" -w '%{http_code}' "$url") || fail "curl $url failed"
    [ "$code" = 200 ] || fail "GET $url answered $code"
    promtool check metrics <"$1" >"$1.promtool" 2>&1 || fail "promtool check metrics: $(cat "$1.promtool")"
}
# value FILE SERIES: the sample's value ("" when absent).
value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
fleet_ops='fleetbench_fleet_ops_total{workload="bus"}'
fleet_lat='fleetbench_fleet_latency_seconds_count{workload="bus"}'

# 1. A scrape once the fleet has measured operations (bounded: 30 s).
ops1=0
for ((i = 0; i < 120; i++)); do
    scrape s1.txt
    ops1=$(value s1.txt "$fleet_ops")
    [ "${ops1:-0}" -gt 0 ] && break
    sleep 0.25
done
[ "${ops1:-0}" -gt 0 ] || fail "no measured operations in 30 s of scrapes"
ctype=$(cat s1.txt.head)
[[ "$ctype" == *"Content-Type: text/plain; version=0.0.4"* ]] || fail "content type: $ctype"
pass "a scrape during the run: promtool accepts it, $ops1 fleet ops so far"

# 2. A later scrape, once another interval's reports are in (polled, bounded: 30 s; on a
# loaded machine a scrape and its promtool check take a while): the counters rose, the
# histogram too, and the run still goes.
for ((i = 0; i < 120; i++)); do
    sleep 0.25
    scrape s2.txt
    ops2=$(value s2.txt "$fleet_ops")
    [ "${ops2:-0}" -gt "$ops1" ] && break
done
[ "$(value s2.txt 'fleetbench_run_phase{phase="end"}')" = 1 ] && fail "the run ended before the second scrape"
[ "${ops2:-0}" -gt "$ops1" ] || fail "fleet ops did not rise: $ops1 then $ops2"
[ "$(value s2.txt "$fleet_lat")" -gt "$(value s1.txt "$fleet_lat")" ] || fail "the latency count did not rise"
for f in s1.txt s2.txt; do
    # Buckets are cumulative and end at the count.
    awk -F'[{} ]' '/^fleetbench_fleet_latency_seconds_bucket/ { if ($NF + 0 < last) bad = 1; last = $NF + 0 }
        END { exit bad }' "$f" || fail "$f: fleet latency buckets are not cumulative"
done
[ "$(value s2.txt 'fleetbench_fleet_latency_seconds_bucket{workload="bus",le="+Inf"}')" = "$(value s2.txt "$fleet_lat")" ] ||
    fail "the +Inf bucket is not the count"
grep -q '^fleetbench_sched_lag_seconds_bucket{host="local-1",workload="bus",le="0.001"}' s2.txt ||
    fail "no schedule lag histogram for an open-loop workload"
grep -q '^fleetbench_workload_state{host="local-1",workload="bus",state="measure"} 1$' s2.txt ||
    fail "local-1's workload is not in its measure state"
pass "two scrapes: fleet ops $ops1 -> $ops2, latency buckets cumulative, schedule lag, state"

# 3. After the run (the endpoint held): the final counters are run.json's.
for ((i = 0; i < 240; i++)); do
    scrape s3.txt
    [ "$(value s3.txt 'fleetbench_run_phase{phase="end"}')" = 1 ] && break
    sleep 0.25
done
[ "$(value s3.txt 'fleetbench_run_phase{phase="end"}')" = 1 ] || fail "the run did not end in 60 s"
[ -f "$(run_dir)/run.json" ] || fail "no run.json while the endpoint holds"
for h in local-1 local-2; do
    want=$(jqr ".workloads[0].hosts[\"$h\"].ops")
    got=$(value s3.txt "fleetbench_ops_total{host=\"$h\",workload=\"bus\"}")
    [ "$got" = "$want" ] || fail "$h: metrics say $got ops, run.json $want"
    want=$(jqr ".workloads[0].hosts[\"$h\"].metrics.latency.count")
    got=$(value s3.txt "fleetbench_latency_seconds_count{host=\"$h\",workload=\"bus\"}")
    [ "$got" = "$want" ] || fail "$h: metrics say $got latency samples, run.json $want"
done
[ "$(value s3.txt "$fleet_ops")" = "$(jqr '.workloads[0].fleet.ops')" ] ||
    fail "fleet: metrics say $(value s3.txt "$fleet_ops") ops, run.json $(jqr '.workloads[0].fleet.ops')"
[ "$(value s3.txt "$fleet_lat")" = "$(jqr '.workloads[0].fleet.metrics.latency.count')" ] ||
    fail "fleet latency count differs from run.json"
[ "$(value s3.txt 'fleetbench_run_hosts{state="done"}')" = 2 ] || fail "not both hosts done"
# The example scrape configuration and the dashboard's queries are ones Prometheus accepts.
promtool check config "$FB_SOURCE_DIR/deploy/grafana/prometheus.yml" >promtool-config.log 2>&1 ||
    fail "deploy/grafana/prometheus.yml: $(cat promtool-config.log)"
jq -r '.panels[].targets[].expr' "$FB_SOURCE_DIR/deploy/grafana/fleetbench-dashboard.json" |
    sed 's/\$__rate_interval/1m/g; s/\$workload/.*/g; s/\$host/.*/g' |
    awk 'BEGIN { print "groups:\n  - name: dashboard\n    rules:" }
        { printf "      - record: q%d\n        expr: |\n          %s\n", NR, $0 }' >dashboard-rules.yml
promtool check rules dashboard-rules.yml >promtool-rules.log 2>&1 ||
    fail "the dashboard's queries: $(cat promtool-rules.log)"
pass "deploy/grafana: promtool accepts the scrape configuration and every dashboard query"
# Interrupting the hold ends it at once, with the run's exit code.
kill -INT "$coord_pid"
set +e
wait "$coord_pid"
rc=$?
set -e
# (1 would be the open-loop schedule verdict on a machine too loaded to keep it.)
[ "$rc" = "$(jqr .exit_code)" ] || fail "coord exited $rc after its hold was interrupted, the run $(jqr .exit_code)"
pass "final scrape: every host's and the fleet's ops and latency count equal run.json's; exit $rc, the run's"
