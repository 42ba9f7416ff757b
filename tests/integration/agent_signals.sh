# Repeated SIGINT/SIGTERM at random points of a run, 50 agents in 5 rounds of 10: every agent
# exits cleanly (0, no abort, no assertion) and keeps what it measured in its state folder.
source "$(dirname "$0")/lib.sh"
ROUNDS=5
AGENTS=10
tries=0
interrupted=0
for round in $(seq "$ROUNDS"); do
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    EP=tcp://127.0.0.1:$PORT
    cat >sig.yaml <<YAML
name: sig
agents: { expect: $AGENTS, join_timeout: 20s, heartbeat_timeout: 2s, allow_lost: $((AGENTS - 1)) }
defaults: { duration: 4s, warmup: 1s, interval: 500ms }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 1, handler_work: 1us }
    rate: 200/s
YAML
    rm -rf results state
    bg coord "$COORD" run sig.yaml --bind "$EP" --local 0 --quiet
    COORD_PID=$LAST_PID
    declare -A APID=()
    for i in $(seq "$AGENTS"); do
        bg "a$i" "$AGENT" --coordinator "$EP" --id "s$i" --once --state-dir "$WORK/state"
        APID[$i]=$LAST_PID
    done
    for i in $(seq "$AGENTS"); do wait_for "a$i.log" 'starts in' 30; done
    # Each agent: a first signal 0..2.5 s into the run (warm-up, measuring or between
    # intervals), then one or two more 0..150 ms apart, so some land while it is stopping.
    for i in $(seq "$AGENTS"); do
        (
            sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
            sleep "$((RANDOM % 2))"
            for k in $(seq $((2 + RANDOM % 2))); do
                if ((RANDOM % 2)); then sig=INT; else sig=TERM; fi
                kill -s "$sig" "${APID[$i]}" 2>/dev/null || true
                sleep "$(printf '0.%03d' $((RANDOM % 150)))"
            done
        ) &
    done
    for i in $(seq "$AGENTS"); do
        set +e
        for ((t = 0; t < 200; t++)); do kill -0 "${APID[$i]}" 2>/dev/null || break; sleep 0.1; done
        kill -0 "${APID[$i]}" 2>/dev/null && fail "agent s$i still running 20 s after its signals"
        wait "${APID[$i]}"
        code=$?
        set -e
        tries=$((tries + 1))
        [ "$code" = 0 ] || fail "round $round: agent s$i exited $code after repeated signals"
        if grep -q -i 'assert\|AddressSanitizer\|runtime error' "a$i.log"; then
            fail "round $round: agent s$i: $(grep -i -m1 'assert\|sanitizer\|runtime error' "a$i.log")"
        fi
        # On a loaded machine a run can end before its first signal: its results went to the
        # coordinator, and there is nothing to keep.
        if ! grep -q 'interrupted' "a$i.log" && grep -q 'run .* finished: ' "a$i.log"; then
            continue
        fi
        interrupted=$((interrupted + 1))
        path=$(sed -n 's/.*results of run .* kept in \(.*\)$/\1/p' "a$i.log")
        [ -n "$path" ] && [ -s "$path" ] || fail "round $round: agent s$i kept no results: $(tail -3 "a$i.log")"
    done
    wait
    unset APID
done
[ "$interrupted" -gt 0 ] || fail "no agent of $tries was signalled before its run ended"
pass "$tries agents, each signalled 2-3 times at random points: all exited 0; the $interrupted" \
    "signalled during their run kept their results"
