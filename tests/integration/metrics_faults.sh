#!/usr/bin/env bash
# metrics_faults.sh: the metrics endpoint under clients that misbehave during a real run: more
# slow clients than it serves at once (each sends half a request head and then nothing),
# garbage, an oversized head, a wrong method, path or version. Each gets its answer (408, 400,
# 431, 405, 404, 505) or is closed, an honest scrape still gets 200, and the run is not
# delayed: no host is lost (their heartbeat timeout is 2 s, shorter than the slow clients'
# wait) and it exits 0.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/faults.yaml" <<YAML
name: faults
agents: { expect: 1, join_timeout: 15s, heartbeat_timeout: 2s }
defaults: { duration: 8s, warmup: 0s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 2, workers: 2, handler_work: 2us }
    rate: 200/s
YAML
cat >"$WORK/faults.py" <<'PY'
# Misbehaving clients against the metrics endpoint; prints one line per finding, exits 1 on
# any wrong answer.
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
bad = []

def answer(payload, wait=6.0):
    s = socket.create_connection((host, port), timeout=wait)
    try:
        if payload:
            s.sendall(payload)
        data = b""
        t0 = time.monotonic()
        while time.monotonic() - t0 < wait:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    except (ConnectionResetError, BrokenPipeError):
        return data if 'data' in locals() else b""
    finally:
        s.close()

def expect(name, payload, status):
    data = answer(payload)
    first = data.split(b"\r\n", 1)[0].decode("latin-1")
    ok = first.startswith("HTTP/1.1 %d " % status)
    print("%s: %s" % (name, first or "(closed without an answer)"))
    if not ok:
        bad.append("%s: expected %d, got %r" % (name, status, first))

# More slow clients than the endpoint serves at once: each sends half a head, then nothing.
slow = []
for i in range(40):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
t0 = time.monotonic()
expect("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", 400)
expect("oversized head", b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431)
expect("POST", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405)
expect("other path", b"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n", 404)
expect("HTTP/2.0", b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505)
expect("honest scrape", b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200)
print("the honest requests took %.1f s behind 40 slow clients" % (time.monotonic() - t0))
# Each slow client is answered 408 (or closed) within its head timeout, not held forever.
for s in slow:
    s.settimeout(10)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        bad.append("a slow client was still held open after 10 s")
        break
    except ConnectionResetError:
        pass
    s.close()
    if data and not data.startswith(b"HTTP/1.1 408 "):
        bad.append("slow client got %r" % data[:40])
print("slow clients: answered or closed within %.1f s" % (time.monotonic() - t0))
for b in bad:
    print("WRONG:", b)
sys.exit(1 if bad else 0)
PY
# An address off loopback needs --insecure; one that is no address:port is refused at once.
port=$(free_port)
run_coord 2 run "$WORK/faults.yaml" --local 1 --bind "tcp://127.0.0.1:$port" --metrics 0.0.0.0:0
grep -q 'is not loopback.*--insecure' coord.log || fail "--metrics 0.0.0.0:0: $(cat coord.log)"
[ ! -d results ] || [ -z "$(ls results)" ] || fail "a refused --metrics left a results folder"
for bad in 127.0.0.1 127.0.0.1:65536 ::1:9464 host.example:9464 ""; do
    run_coord 2 run "$WORK/faults.yaml" --local 1 --bind "tcp://127.0.0.1:$port" --metrics "$bad"
    grep -q -- '--metrics' coord.log || fail "--metrics \"$bad\": $(cat coord.log)"
done
pass "--metrics off loopback without --insecure, or not ADDRESS:PORT: exit 2, saying why"

bg coord timeout 150 "$COORD" run "$WORK/faults.yaml" --local 1 --bind "tcp://127.0.0.1:$port" \
    --metrics 127.0.0.1:0
coord_pid=$LAST_PID
wait_for "$WORK/coord.log" '^coord: metrics on http://127.0.0.1:[0-9]*/metrics$' 30
mport=$(sed -n 's/^coord: metrics on http:\/\/127.0.0.1:\([0-9]*\)\/metrics$/\1/p' "$WORK/coord.log")
timeout 100 python3 "$WORK/faults.py" 127.0.0.1 "$mport" >py.log 2>&1 || fail "clients: $(cat py.log)"
cat py.log
kill -0 "$coord_pid" 2>/dev/null || fail "the run ended before the clients were done: make it longer"
set +e
wait "$coord_pid"
rc=$?
set -e
[ "$rc" = 0 ] || fail "the run exited $rc under misbehaving metrics clients: $(tail -n 5 coord.log)"
log=$(cat coord.log)
[[ "$log" != *"lost"* ]] || fail "a host was lost: $(grep lost coord.log)"
[ "$(jqr '.hosts[0].state')" = done ] || fail "the host is $(jqr '.hosts[0].state')"
pass "garbage, oversized, slow and wrong requests answered 400/431/408/405/404/505; the run exited 0 with no host lost"
