# Our Tor client against the real thing: tor.circuit and tor.stream in mode interop start the
# private network of mode tor (three authorities, two exits, tor 0.4.9 from Debian) and drive our
# model client through its relays: the link handshake with tor's CERTS and AUTH_CHALLENGE,
# CREATE2 with ntor to each relay's published onion key, EXTEND2, relay cells and SENDMEs both
# ways. Every 3-hop circuit must build, every stream must open through a real exit to the
# loopback sink, every response byte must be the sink's (the client checks each one: a changed
# byte ends its circuit and counts in bad_cells), and no tor may be left afterwards. Without tor
# installed it checks the plan error instead and says the rest was skipped.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib/tor.sh"
PORT=$(free_port)
export TMPDIR=$WORK # the networks' temp folders go here, so that pgrep -f can find their tors

# 600 KB up and 1.5 MB down per exchange: past the circuit windows (1000 cells, about 490 KB)
# and stream windows (500 cells) both ways, so SENDMEs from tor and to tor carry them.
REQ=614400
RESP=1572864
cat >interop.yaml <<YAML
name: interop
agents: { expect: 1, join_timeout: 15s, heartbeat_timeout: 60s }
defaults: { duration: 4s, warmup: 1s, interval: 1s }
workloads:
  - name: circuits
    kind: tor.circuit
    params: { mode: interop, relays: 5, hops: 3, concurrency: 2, bootstrap_timeout: 90s }
  - name: streams
    kind: tor.stream
    params: { mode: interop, relays: 5, hops: 3, circuits: 2, streams: 4, concurrency: 2,
              request: ${REQ}B, response: ${RESP}B, stream_bytes: 0B, bootstrap_timeout: 90s }
YAML

skip_without_tor interop.yaml "interop"

started=$(date +%s)
run_coord 0 run interop.yaml --bind tcp://127.0.0.1:$PORT --local 1 --quiet
for w in 0 1; do
    name=$(jqr ".workloads[$w].name")
    ops=$(jqr ".workloads[$w].fleet.ops")
    errors=$(jqr ".workloads[$w].fleet.errors")
    failures=$(jqr ".workloads[$w].fleet.counters.failures.value")
    bad=$(jqr ".workloads[$w].fleet.counters.bad_cells.value")
    [ "$ops" -gt 0 ] || fail "$name: no operation through the tor relays (ops $ops)"
    [ "$errors" = 0 ] && [ "$failures" = 0 ] || fail "$name: $errors errors, $failures failures"
    [ "$bad" = 0 ] || fail "$name: $bad cells refused by our client"
done
builds=$(jqr '.workloads[0].fleet.metrics.build.count')
third=$(jqr '.workloads[0].fleet.metrics.hop3.count')
[ "$builds" -gt 0 ] && [ "$third" = "$builds" ] ||
    fail "circuits: $builds builds, $third of them reached a third hop"
echo "circuits: $builds 3-hop builds through tor relays, p50 $(jqr '.workloads[0].fleet.metrics.build.p50') ns"
exchanges=$(jqr '.workloads[1].fleet.ops')
bytes=$(jqr '.workloads[1].fleet.counters.bytes.value')
# an exchange adds its bytes when its last byte is in: whole exchanges only (the counter and the
# op count may split an exchange across the warm-up boundary differently)
[ "$bytes" -gt 0 ] && [ $((bytes % (REQ + RESP))) = 0 ] ||
    fail "streams: $bytes bytes is no whole number of $REQ + $RESP exchanges ($exchanges ops)"
[ "$(jqr '.workloads[1].fleet.counters.streams.value')" = 4 ] || fail "streams: not 4 held open"
echo "streams: $exchanges exchanges, $bytes bytes through a tor exit, every byte checked"
[ -z "$(tors_left)" ] || fail "tor processes left: $(tors_left)"
! ls -d "$WORK"/fleetbench-tor.* >/dev/null 2>&1 || fail "a private network's folder was left"
pass "mode interop: our client built 3-hop circuits and moved $bytes bytes through real tor" \
    "relays in $(($(date +%s) - started)) s, no tor left"
