# Property test of the coordinator's front door: fb_hellofuzz plays 40 agents per seed with
# random ids (half unsafe: "..", "../../evil", control bytes, ANSI sequences, bytes that are
# not UTF-8) and random labels and fingerprint strings. For every seed: each unsafe id is
# refused and each safe one taken; nothing lands outside --out; no control byte reaches the
# log, run.json, report.md or junit.xml; no peer string starts a line or a table cell.
source "$(dirname "$0")/lib.sh"
SEEDS="1 2 3 $((RANDOM + 4))"
echo "seeds: $SEEDS"
mkdir -p deep/er/cwd
touch marker
for seed in $SEEDS; do
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    EP=tcp://127.0.0.1:$PORT
    cat >fuzz.yaml <<YAML
name: fuzz
agents: { expect: 100, join_timeout: 4s }
defaults: { duration: 1s, warmup: 0s, interval: 1s }
workloads:
  - name: bus
    kind: eventbus
YAML
    rm -rf deep/er/cwd/results
    (cd deep/er/cwd && exec "$COORD" run "$WORK/fuzz.yaml" --bind "$EP" --local 0 --out results) \
        >coord.log 2>&1 &
    COORD_PID=$!
    PIDS+=("$COORD_PID")
    wait_for coord.log 'waiting for 100' 20
    "$FB_BUILD_DIR/fb_hellofuzz" "$EP" --seed "$seed" --agents 40 >fuzz.out 2>&1 ||
        fail "seed $seed: wrong answers: $(grep -v '^ok' fuzz.out | head -5)"
    set +e
    wait "$COORD_PID"
    code=$?
    set -e
    [ "$code" = 3 ] || fail "seed $seed: coord exited $code, expected 3 (too few agents)"
    dir=$(ls -d deep/er/cwd/results/*/)
    [ "$(jq '.hosts | length' "$dir/run.json")" = 20 ] || fail "seed $seed: run.json should list 20 hosts"
    for f in coord.log "$dir/run.json" "$dir/report.md" "$dir/junit.xml"; do
        if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$f"; then
            fail "seed $seed: a control byte reached $f: $(LC_ALL=C grep -n $'[\x01-\x08\x0b-\x1f\x7f]' "$f" | head -2 | cat -v)"
        fi
        if LC_ALL=C grep -qP '\xc2[\x80-\x9f]' "$f"; then fail "seed $seed: a C1 control reached $f"; fi
        if grep -q '^FAKE' "$f"; then fail "seed $seed: a peer started a line of $f"; fi
    done
    # Every host row of report.md keeps its 12 column separators (escaped ones are "\|").
    while IFS= read -r row; do
        n=$(printf '%s' "$row" | sed 's/\\|//g' | tr -cd '|' | wc -c)
        [ "$n" = 12 ] || fail "seed $seed: a host row has $n separators: $row"
    done < <(grep '^| fz' "$dir/report.md")
    # Other tests write .hlog files under /tmp at the same time: only our folder is searched
    # for those, /tmp for the names the fuzzer aims at.
    strays=$( (find "$WORK" -newer marker \( -name '*evil*' -o -name '*.hlog' \) \
        -not -path "$WORK/deep/er/cwd/results/*"
        find /tmp -maxdepth 6 -newer marker -name '*evil*') 2>/dev/null || true)
    [ -z "$strays" ] || fail "seed $seed: files outside --out: $strays"
    tail -n 1 fuzz.out
done
pass "random ids, labels and fingerprints: refused or taken as they should, nothing outside --out, no control byte in any report"
