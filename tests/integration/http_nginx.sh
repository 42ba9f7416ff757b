# The http kind against a Debian nginx on loopback, through the real coord and agent: plain,
# HEAD and https requests counted and checked; a target outside the agent's allow-list refused at
# plan time (exit 2, nothing sent); bad URLs and a missing one refused by `coord check` with
# file:line:col; a port that refuses connections and a server that answers garbage counted as
# errors with their reason, never a hang.
source "$(dirname "$0")/lib/nginx.sh"

PORT=$(free_port)
nginx_start

# http_scenario NAME URL [extra params]: one http workload at 200/s for 2 s.
http_scenario() {
    cat >"$1.yaml" <<YAML
name: $1
agents: { expect: 1, join_timeout: 15s }
defaults: { duration: 2s, warmup: 1s, interval: 1s }
workloads:
  - name: web
    kind: http
    params: { url: "$2", connections: 8${3:+, $3} }
    rate: 200/s
    targets: [ "errors < 1%" ]
YAML
}

# agent_run NAME ALLOW SCENARIO CODE: an agent with that allow-list file, one coord run.
agent_run() {
    rm -rf results
    bg "$1" "$AGENT" --coordinator "tcp://127.0.0.1:$PORT" --id "$1" --once --allow "$2" \
        --state-dir "$WORK/state"
    local pid=$LAST_PID
    run_coord "$4" run "$3" --bind "tcp://127.0.0.1:$PORT" --local 0 --quiet
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

printf 'http: [127.0.0.1]\n' >allow.yaml
http_scenario plain "http://127.0.0.1:$NGINX_PORT/page.html"
agent_run a1 allow.yaml plain.yaml 0
ops=$(jqr '.workloads[0].fleet.ops')
missed=$(jqr '.workloads[0].fleet.counters.missed.value')
errors=$(jqr '.workloads[0].fleet.errors')
bytes=$(jqr '.workloads[0].fleet.counters.bytes.value')
served=$(nginx_requests)
[ $((ops + missed)) = 400 ] && [ "$errors" = 0 ] || fail "ops $ops missed $missed errors $errors"
[ "$bytes" -gt $((ops * 4096)) ] || fail "bytes $bytes for $ops responses of 4 KB"
[ "$served" -ge "$ops" ] || fail "nginx served $served, we counted $ops"
pass "http: $ops requests, no error, $bytes bytes; nginx logged $served (warm-up included)"

# HEAD: the answer has a head only, whatever its Content-Length says; local agents started by
# coord run itself, with the allow-list handed to them (--allow).
http_scenario head "http://127.0.0.1:$NGINX_PORT/page.html" "method: HEAD"
rm -rf results
run_coord 0 run head.yaml --allow allow.yaml --quiet
ops=$(jqr '.workloads[0].fleet.ops')
[ "$ops" -gt 0 ] && [ "$(jqr '.workloads[0].fleet.errors')" = 0 ] || fail "HEAD: ops $ops"
[ "$(jqr '.workloads[0].fleet.counters.bytes.value')" -lt $((ops * 1024)) ] ||
    fail "HEAD answers carried bodies"
pass "HEAD through local agents with coord run --allow: $ops answers, heads only"

# Outside the allow-list (another port): the plan is refused, nginx sees nothing.
printf 'http: ["127.0.0.1:1-1023"]\n' >narrow.yaml
before=$(nginx_requests)
agent_run a2 narrow.yaml plain.yaml 2
grep -q "agent a2 refused the plan: web: http target 127.0.0.1 (127.0.0.1:$NGINX_PORT) is not on this agent's allow-list (http: 127.0.0.1:1-1023)" coord.log ||
    fail "no refusal in: $(cat coord.log)"
sleep 0.5
[ "$(nginx_requests)" = "$before" ] || fail "a refused plan reached nginx"
pass "a target outside the allow-list: exit 2 at plan time, nothing sent"

# coord check: a scheme other than http(s), a bad port, no url at all.
http_scenario bad "ftp://127.0.0.1/page.html"
run_coord 2 check bad.yaml
grep -q 'bad.yaml:7:20: url: ' coord.log || fail "$(cat coord.log)"
http_scenario badport "http://127.0.0.1:70000/"
run_coord 2 check badport.yaml
grep -q 'badport.yaml:7:20: url: .*(at character 18 of' coord.log || fail "$(cat coord.log)"
sed -i 's/url: "[^"]*", //' bad.yaml
run_coord 2 check bad.yaml
grep -q 'bad.yaml:7:13: param url is required' coord.log || fail "$(cat coord.log)"
pass "coord check: bad scheme, bad port and a missing url, each at file:line:col, exit 2"

# A port nobody listens on, then a server that answers garbage: errors with their reason.
closed=$(free_port)
http_scenario refused "http://127.0.0.1:$closed/" "timeout: 500ms"
agent_run a3 allow.yaml refused.yaml 1
[ "$(jqr '.workloads[0].fleet.counters.err_connect.value')" -gt 0 ] || fail "no err_connect"
[ "$(jqr '.workloads[0].fleet.ops')" = "$(jqr '.workloads[0].fleet.errors')" ] ||
    fail "a refused connection counted as a success"
GARBAGE=$(free_port)
bg garbage python3 -c "
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $GARBAGE)); s.listen(64)
def answer(c):
    try: c.recv(4096); c.sendall(b'NOT HTTP AT ALL\r\n\r\n')
    finally: c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=answer, args=(c,), daemon=True).start()
"
sleep 0.5
http_scenario garbage "http://127.0.0.1:$GARBAGE/" "timeout: 500ms"
agent_run a4 allow.yaml garbage.yaml 1
[ "$(jqr '.workloads[0].fleet.counters.err_closed.value')" -gt 0 ] || fail "no err_closed"
pass "a refusing port (err_connect) and a garbage answer (err_closed): errors, exit 1, no hang"

# https, the certificate checked against a CA file of the test's own.
kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
sleep 0.3
nginx_start tls
http_scenario tls "https://127.0.0.1:$NGINX_PORT/page.html" "ca_file: $WORK/nginx/cert.pem"
agent_run a5 allow.yaml tls.yaml 0
ops=$(jqr '.workloads[0].fleet.ops')
[ "$ops" -gt 0 ] && [ "$(jqr '.workloads[0].fleet.errors')" = 0 ] || fail "https ops $ops"
http_scenario untrusted "https://127.0.0.1:$NGINX_PORT/page.html"
agent_run a6 allow.yaml untrusted.yaml 1
[ "$(jqr '.workloads[0].fleet.counters.err_connect.value')" -gt 0 ] || fail "an untrusted certificate passed"
pass "https: $ops requests with the CA file; without it the certificate is refused (err_connect)"
