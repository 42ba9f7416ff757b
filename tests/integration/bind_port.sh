# --bind ports: one past 65535 is refused (ZeroMQ would truncate 71357 to 5821 and listen
# there while every message said 71357); port 0 lets the system choose, and the local agents
# are handed the port it chose.
source "$(dirname "$0")/lib.sh"

scenario ported 1 1s
for port in 71357 65536 -1 abc ""; do
    run_coord 2 run ported.yaml --bind "tcp://127.0.0.1:$port" --local 1 --quiet
    grep -q 'the port must be 1 to 65535' coord.log || fail "port \"$port\": $(cat coord.log)"
done
[ ! -d results ] || [ -z "$(ls results)" ] || fail "a refused --bind left a results folder"
pass "--bind ports outside 1..65535: exit 2 with the reason"

for port in 0 '*'; do
    rm -rf results
    run_coord 0 run ported.yaml --bind "tcp://127.0.0.1:$port" --local 1
    chosen=$(sed -n 's/.*waiting for 1 agent(s) on tcp:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' coord.log)
    [ -n "$chosen" ] && [ "$chosen" -gt 0 ] || fail "port $port: the log does not name the chosen port: $(head -n 3 coord.log)"
    [ "$(jqr '.hosts | length')" = 1 ] || fail "port $port: the local agent did not take part"
done
pass "--bind port 0 or *: the system's port, named in the log, handed to the local agents"
