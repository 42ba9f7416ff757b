# bench/fidelity.sh refuses what it cannot use with exit 2 and says what it needs and where to
# get it: no argument, a directory that is not a Brummer checkout, and (when Go is installed,
# as the script would otherwise install it) a pkg/events that does not build.
source "$(dirname "$0")/lib.sh"
SCRIPT=$FB_SOURCE_DIR/bench/fidelity.sh

# expect_2 NAME ARGS...: the script exits 2 with the clone URL in its message.
expect_2() {
    local name=$1
    shift
    set +e
    timeout 120 bash "$SCRIPT" "$@" >"$WORK/$name.log" 2>&1
    local got=$?
    set -e
    [ "$got" = 2 ] || fail "$name: exited $got, expected 2: $(cat "$WORK/$name.log")"
    local out
    out=$(cat "$WORK/$name.log")
    [[ $out == *"https://github.com/standardbeagle/brummer"* ]] ||
        fail "$name: no word of where to get Brummer: $out"
}

expect_2 noarg
pass "no argument: exit 2"
expect_2 missing "$WORK/no-such-dir"
pass "no such directory: exit 2"
mkdir -p empty/pkg
expect_2 empty "$WORK/empty"
[[ $(cat "$WORK/empty.log") == *"no pkg/events/events.go"* ]] || fail "empty: $(cat empty.log)"
pass "a directory without pkg/events: exit 2"

if command -v go >/dev/null; then
    mkdir -p broken/pkg/events
    printf 'package events\n\nfunc NewEventBus() *EventBus { return nil\n' >broken/pkg/events/events.go
    expect_2 broken "$WORK/broken"
    [[ $(cat "$WORK/broken.log") == *"does not build"* ]] || fail "broken: $(cat broken.log)"
    pass "a pkg/events that does not build: exit 2"
else
    echo "SKIP: the unbuildable pkg/events case needs Go (bench/fidelity.sh installs golang-go)"
fi
