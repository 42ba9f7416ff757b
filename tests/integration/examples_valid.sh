# Every example scenario is valid for this build (`coord check` exits 0), so the README's and
# the docs' commands never meet a stale file.
source "$(dirname "$0")/lib.sh"
for f in "$FB_SOURCE_DIR"/examples/*.yaml; do
    "$COORD" check "$f" >check.log 2>&1 || fail "$(basename "$f"): $(cat check.log)"
done
pass "every example passes coord check"
