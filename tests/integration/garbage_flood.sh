# A burst of 10,000 undecodable frames from a peer without a routing id of its own: the peer
# gets an Error (sent to the routing id ZeroMQ made up for it), the coordinator's log names
# the peer (routing id and address) and stays short (the first few, then a count per
# second), and the run it is in still passes.
source "$(dirname "$0")/lib.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP=tcp://127.0.0.1:$PORT
HEARTBEAT=5s scenario flood 1 6s
bg coord "$COORD" run flood.yaml --bind "$EP" --local 1
COORD_PID=$LAST_PID
wait_for coord.log 'start together' 30
before=$(wc -l <coord.log)
timeout 120 "$FB_BUILD_DIR/fb_zsend" "$EP" garbage --anonymous --count 10000 --wait-ms 5000 \
    >flood.out 2>flood.err || fail "fb_zsend failed: $(cat flood.err)"
grep -q 'sent 10000 garbage' flood.err || fail "the burst was not sent: $(cat flood.err)"
grep -q 'reply ERROR' flood.out || fail "the sender got no Error: $(head -3 flood.out)"
set +e
wait "$COORD_PID"
code=$?
set -e
[ "$code" = 0 ] || fail "coord exited $code after the flood, expected 0"
bad=$(grep -c 'bad frame' coord.log || true)
total=$(($(wc -l <coord.log) - before))
echo "log: $bad lines about bad frames, $total lines in all since the flood began"
[ "$bad" -ge 2 ] || fail "the flood left no trace in the log"
# 10 one by one, then at most one a second for the rest of the run (a few seconds).
[ "$bad" -le 30 ] || fail "$bad log lines about bad frames for one burst"
grep -q 'dropped a bad frame from routing id 0x[0-9a-f]* at 127.0.0.1' coord.log ||
    fail "the log does not name the peer: $(grep 'bad frame' coord.log | head -2)"
grep -q 'refused [0-9]* more bad frame' coord.log || fail "no count of the frames not logged"
pass "10,000 garbage frames: $bad log lines, the sender got an Error, the run passed"
