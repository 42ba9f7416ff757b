# lib/tor.sh: what the tests of real tor share (tor_real.sh, tor_interop.sh). Source after
# lib.sh (in a subfolder so that tests/tests.cmake does not take it for a test).

# Is Debian's tor (tor and tor-gencert) on PATH or in /usr/bin, /usr/sbin?
have_tor() {
    local d
    for d in $(echo "$PATH" | tr ':' ' ') /usr/bin /usr/sbin; do
        [ -x "$d/tor" ] && [ -x "$d/tor-gencert" ] && return 0
    done
    return 1
}

# skip_without_tor SCENARIO.yaml WHAT [PREFIX]: without tor, the run is refused at plan time
# (exit 2) with a message, starting with PREFIX, naming Debian's tor package, and the test ends
# there, saying WHAT it skips.
skip_without_tor() {
    have_tor && return 0
    run_coord 2 run "$1" --bind tcp://127.0.0.1:$PORT --local 1 --quiet
    grep -q "${3:-}needs the tor binary: install Debian's tor package (apt-get install tor)" \
        coord.log || fail "no plan error naming the tor package in: $(cat coord.log)"
    pass "without tor: exit 2, the plan error names Debian's tor package"
    echo "SKIP: tor is not installed (setup.sh installs Debian's tor package): $2 not run"
    exit 0
}

# The tor processes of this test's private networks still alive (none, after a run).
tors_left() { pgrep -f "$WORK/fleetbench-tor" || true; }
