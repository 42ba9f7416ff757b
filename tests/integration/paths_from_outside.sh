# Names and folders from the command line never put a file outside the folder they name:
# `coord keygen --name ../../x` and an empty --out (which would mean the root) exit 2 and
# write nothing.
source "$(dirname "$0")/lib.sh"

mkdir -p deep/er
(
    cd deep/er
    set +e
    "$COORD" keygen --out keys --name ../../x >../../keygen.log 2>&1
    echo $? >../../keygen.rc
)
[ "$(cat keygen.rc)" = 2 ] || fail "keygen --name ../../x exited $(cat keygen.rc), expected 2"
grep -q -- '--name must be' keygen.log || fail "no reason given: $(cat keygen.log)"
[ -z "$(find "$WORK" -name 'x.key*')" ] || fail "keygen wrote $(find "$WORK" -name 'x.key*')"
for name in .. . "" "a/b" "$(printf 'a\nb')"; do
    run_coord 2 keygen --out keys --name "$name"
done
pass "keygen --name with a path or an empty name: exit 2, nothing written"

run_coord 2 keygen --out "" --agents 1
grep -q -- '--out needs a folder' coord.log || fail "keygen --out \"\": $(cat coord.log)"
scenario empty 1 1s
run_coord 2 run empty.yaml --out "" --local 0
grep -q -- '--out needs a folder' coord.log || fail "run --out \"\": $(cat coord.log)"
run_coord 2 baseline save nowhere --out ""
pass "--out \"\": exit 2 for keygen, run and baseline save"

"$COORD" keygen --out keys --name good.name-1 >/dev/null || fail "a good --name was refused"
[ -f keys/agents/good.name-1.key ] || fail "keys/agents/good.name-1.key missing"
pass "a safe --name still works"
