# Results that cannot be written are never presented as a success: the run exits 3 and names
# the file and the reason, no .tmp is left behind, and --json prints run.json from memory
# whatever the disk says. Two ways to make writes fail:
#   1. a file size limit (ulimit -f: EFBIG), possible everywhere: small files fit, big ones not;
#   2. a full tmpfs (ENOSPC): as root, or as "root" of a user namespace (unshare -rm).
if [ "$(id -u)" != 0 ] && [ -z "${FB_FULL_DISK_USERNS:-}" ] && unshare -rm true 2>/dev/null; then
    FB_FULL_DISK_USERNS=1 exec unshare -rm bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"

scenario disk 1 1s

# no_tmp_left DIR: fails if any temp file is left under DIR.
no_tmp_left() {
    local left
    left=$(find "$1" -name '*.tmp')
    [ -z "$left" ] || fail "temp files left behind: $left"
}

# 1. A 1 KB file size limit: run.json (several KB) cannot be written, junit.xml can. The output
# goes through a pipe, which the limit does not touch.
set +e
(ulimit -f 1 && exec timeout 150 "$COORD" run disk.yaml --out limited --bind tcp://127.0.0.1:0 \
    --local 1) 2>&1 | cat >limited.log
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 3 ] || fail "a run whose results could not be written exited $rc, expected 3: $(tail -n 5 limited.log)"
grep -Eq "cannot write limited/[^ ]+/[^ /]+: File too large" limited.log ||
    fail "no file and reason named: $(grep -i 'results\|write' limited.log)"
grep -q 'results NOT saved' limited.log || fail "the summary does not say the results were not saved"
grep -q 'results: .*(run.json, report.md' limited.log && fail "the summary still claims run.json and report.md"
dir=$(ls -d limited/*/)
[ ! -e "$dir/run.json" ] || fail "run.json exists although it was reported lost"
no_tmp_left limited
if [ -e "$dir/junit.xml" ]; then
    grep -q '<testsuites' "$dir/junit.xml" || fail "junit.xml is not whole"
fi
pass "file size limit: exit 3, the file and the reason named, no .tmp left"

set +e
(ulimit -f 1 && exec timeout 150 "$COORD" run disk.yaml --out limited2 --bind tcp://127.0.0.1:0 \
    --local 1 --json) 2>limited2.err | cat >limited2.json
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 3 ] || fail "--json run exited $rc, expected 3"
[ "$(jq -r .exit_code limited2.json)" = 3 ] || fail "--json printed no run.json with exit_code 3: $(head -c 300 limited2.json)"
jq -r .summary limited2.json | grep -q 'results not saved: cannot write' || fail "run.json summary: $(jq -r .summary limited2.json)"
no_tmp_left limited2
pass "--json prints run.json from memory when the disk refuses it"

# 2. A full tmpfs.
mnt=$WORK/mnt
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>mount.err; then
    echo "SKIP: a full tmpfs: cannot mount one here ($(cat mount.err)); part 1 covered the write path"
    exit 0
fi
trap 'umount "$mnt" 2>/dev/null || true; s_cleanup' EXIT
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null || true # until the disk is full
set +e
timeout 150 "$COORD" run disk.yaml --out "$mnt/results" --bind tcp://127.0.0.1:0 --local 1 \
    >full.log 2>&1
rc=$?
timeout 150 "$COORD" run disk.yaml --out "$mnt/results" --bind tcp://127.0.0.1:0 --local 1 \
    --json >full.json 2>full.err
rc_json=$?
set -e
[ "$rc" = 3 ] || fail "a run on a full disk exited $rc, expected 3: $(tail -n 5 full.log)"
grep -Eq "cannot write $mnt/results/[^ ]+: No space left on device" full.log ||
    fail "no file and reason named: $(grep -i 'results\|write' full.log)"
no_tmp_left "$mnt"
for d in "$mnt"/results/*/; do
    for f in run.json report.md junit.xml; do
        [ ! -e "$d/$f" ] || [ -s "$d/$f" ] || fail "$d$f is empty"
    done
done
[ "$rc_json" = 3 ] || fail "--json on a full disk exited $rc_json, expected 3"
[ "$(jq -r .outcome full.json)" = incomplete ] || fail "--json on a full disk: $(head -c 300 full.json)"
grep -q 'No space left on device' full.err || fail "--json run did not say why on stderr"
pass "full disk: exit 3 naming the file and ENOSPC, nothing half written, --json still printed"
