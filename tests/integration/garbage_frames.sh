# Garbage, empty, wrong-version and oversized frames sent to the coordinator's port during a
# run are answered with an Error or dropped; the run still succeeds.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
HEARTBEAT=3s scenario garbage 1 5s
bg coord "$COORD" run garbage.yaml --bind tcp://127.0.0.1:$PORT --local 1
COORD_PID=$LAST_PID
wait_for coord.log 'start together' 20
ZSEND=$FB_BUILD_DIR/fb_zsend
"$ZSEND" tcp://127.0.0.1:$PORT garbage --id g1 --count 3 --wait-ms 1000 >garbage.out 2>&1 || true
"$ZSEND" tcp://127.0.0.1:$PORT version --id g2 --wait-ms 1000 >version.out 2>&1 || true
"$ZSEND" tcp://127.0.0.1:$PORT empty --id g3 --wait-ms 1000 >empty.out 2>&1 || true
"$ZSEND" tcp://127.0.0.1:$PORT hello --id g4 --wait-ms 1000 >hello.out 2>&1 || true
# 20 MB, over ZMQ_MAXMSGSIZE (16 MB): ZeroMQ drops the link before the frame reaches us.
"$ZSEND" tcp://127.0.0.1:$PORT oversize --id g5 --wait-ms 1000 >oversize.out 2>&1 || true
printf 'GET / HTTP/1.0\r\n\r\n' >/dev/tcp/127.0.0.1/$PORT || true # not even ZMTP
grep -q 'reply ERROR' garbage.out || fail "no Error for garbage: $(cat garbage.out)"
grep -q 'protocol version 99' version.out || fail "no version error: $(cat version.out)"
grep -q 'reply ERROR' hello.out || fail "a late Hello should be refused: $(cat hello.out)"
grep -q 'no reply' oversize.out || fail "an oversized frame should get no answer: $(cat oversize.out)"
set +e
wait "$COORD_PID"
code=$?
set -e
[ "$code" = 0 ] || fail "coord exited $code after garbage, expected 0"
grep -q 'dropped a bad frame' coord.log || fail "coordinator did not say it dropped frames"
pass "garbage frames: errors answered, run passed"
