# Runs started at the same instant into one --out each get a folder and a run id of their own
# (the folder is made with mkdir, which only one run can win).
source "$(dirname "$0")/lib.sh"

# 200/s: the runs check folders and run ids, so four of them at once must not miss their
# schedule (a failed schedule verdict, exit 1) on a loaded machine.
RATE=200/s scenario same 1 1s
N=4
pids=()
for i in $(seq 1 $N); do
    timeout 150 "$COORD" run same.yaml --out shared --bind tcp://127.0.0.1:0 --local 1 --quiet \
        >"run$i.log" 2>&1 &
    pids+=($!)
    PIDS+=($!)
done
for i in $(seq 1 $N); do
    wait "${pids[$((i - 1))]}" || fail "run $i exited $?: $(cat "run$i.log")"
done
[ "$(ls shared | wc -l)" = $N ] || fail "$N runs made $(ls shared | wc -l) folder(s): $(ls shared)"
ids=$(for d in shared/*/; do jq -r .run_id "$d/run.json"; done | sort -u | wc -l)
[ "$ids" = $N ] || fail "$N runs wrote $ids distinct run id(s)"
for d in shared/*/; do
    [ "$(jq -r .run_id "$d/run.json")" = "$(basename "$d")" ] || fail "$d holds another run's run.json"
    # one host's .hlog and the fleet's
    [ "$(ls "$d"/*.hlog | wc -l)" = 2 ] || fail "$d has $(ls "$d"/*.hlog | wc -l) hlogs, expected 2"
done
pass "$N runs at once into one folder: $N folders, $N run ids"

# Without --bind, runs whose agents are all local listen on a port the system picks, so two
# at once on one machine never collide on the fixed port remote agents are told (the one
# --help names); the first line names the port.
help=$("$COORD" --help 2>&1)
fixed=$(echo "$help" | sed -n 's|.*else tcp://127.0.0.1:\([0-9]*\).*|\1|p' | head -n 1)
[ -n "$fixed" ] || fail "coord --help names no default port for remote agents"
pids=()
for i in 1 2; do
    timeout 150 "$COORD" run same.yaml --out own$i >"own$i.log" 2>&1 &
    pids+=($!)
    PIDS+=($!)
done
for i in 1 2; do
    wait "${pids[$((i - 1))]}" || fail "run $i without --bind exited $?: $(cat "own$i.log")"
    first=$(head -n 1 "own$i.log")
    case "$first" in
    *"on tcp://127.0.0.1:$fixed"*) fail "run $i listened on $fixed with local agents only: $first" ;;
    *"on tcp://127.0.0.1:"[0-9]*) ;;
    *) fail "run $i's first line names no port: $first" ;;
    esac
done
pass "2 runs at once without --bind: each on a port of its own, both passed"
