# The include rules (tests/layers/check.py): the tree keeps them, and a fixture tree that
# breaks each rule once is refused with FILE:LINE for every break.
source "$(dirname "$0")/lib.sh"
check=$FB_SOURCE_DIR/tests/layers/check.py
python3 "$check" "$FB_SOURCE_DIR" >tree.log 2>&1 || fail "the tree breaks the include rules: $(cat tree.log)"
rc=0
python3 "$check" "$FB_SOURCE_DIR/tests/data/layers" >fixture.log 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a tree that breaks the rules was accepted (exit $rc): $(cat fixture.log)"
for want in \
    'common/clock.c:2: "hist.h" is not a path from the repo root' \
    'common/hist.h:4: may not include "agent/runner.h"' \
    'workloads/eventbus/eventbus.c:3: may not include "agent/runner.h"' \
    'common/clock.h:1: include loop: common/clock and common/hist include each other'; do
    grep -qF "$want" fixture.log || fail "expected \"$want\" in: $(cat fixture.log)"
done
pass "the tree keeps the include rules; each break of the fixture is named by file and line"
