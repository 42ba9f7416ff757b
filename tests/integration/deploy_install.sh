# The .deb on a fresh Debian 12: a minimal bookworm made by debootstrap (man-db added, as a user
# reading man pages has it), the package from this tree installed with apt-get, which must take
# every dependency from Debian's archive; the installed coord runs the installed quick.yaml with
# the installed agents; man coord works; and apt-get purge (with the dependencies it pulled)
# leaves no file behind: a file-system listing after is the listing before.
#
# The chroot is made once and kept in $FB_CHROOT_CACHE (default /var/cache/fleetbench-test),
# keyed on suite, mirror, architecture and package list; each run works on an overlay of it in
# a private mount and pid namespace, so nothing is copied, nothing of it stays mounted and no
# process of it outlives the test. Needs root and Debian's mirror ($FB_DEBIAN_MIRROR).
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
MIRROR=${FB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${FB_CHROOT_CACHE:-/var/cache/fleetbench-test}
SUITE=bookworm
INCLUDE=man-db

[ "$(id -u)" = 0 ] || {
    echo "SKIP: debootstrap and chroot need root"
    exit 0
}
for tool in debootstrap unshare cpack; do
    command -v $tool >/dev/null || fail "$tool is not installed (setup.sh installs it)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
grep -qw overlay /proc/filesystems || fail "no overlay file system in this kernel"

cpack --config "$FB_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$WORK/pkg" >cpack.log 2>&1 ||
    fail "cpack: $(tail -n 5 cpack.log)"
deb=$(ls "$WORK"/pkg/fleetbench_*.deb)

# ---- the cached chroot ---------------------------------------------------------------------
arch=$(dpkg --print-architecture)
# The key changes with anything that makes the chroot (bump the last word when the steps below
# change).
key=$(printf '%s\n' "$SUITE" minbase "$INCLUDE" "$MIRROR" "$arch" steps-1 | sha256sum | cut -c1-12)
base=$CACHE/debian12-$arch-$key
mkdir -p "$CACHE/archives-$key/partial"
started=$(date +%s)
(
    flock -w 900 9 || exit 1
    [ -f "$base/.complete" ] && exit 0
    rm -rf "$base.new"
    # Bounded: a mirror that stalls fails the test after 10 minutes, once.
    timeout 600 debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$base.new" "$MIRROR" \
        >"$WORK/debootstrap.log" 2>&1 || exit 1
    # Only Debian's archive: the mirror for the suite and its updates, and the security archive.
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
        "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SUITE" >"$base.new/etc/apt/sources.list"
    # No translated package descriptions: 6 MB that each run's apt-get update would fetch.
    echo 'Acquire::Languages "none";' >"$base.new/etc/apt/apt.conf.d/99no-translations"
    # No service starts in the chroot (it has no init of its own).
    printf '#!/bin/sh\nexit 101\n' >"$base.new/usr/sbin/policy-rc.d"
    chmod 755 "$base.new/usr/sbin/policy-rc.d"
    touch "$base.new/.complete"
    mv "$base.new" "$base"
) 9>"$CACHE/.lock" || fail "debootstrap $SUITE from $MIRROR failed: $(tail -n 5 debootstrap.log 2>/dev/null)"
pass "Debian 12 chroot: $base ($(($(date +%s) - started)) s; made once, then reused)"

# ---- inside: install, run, read, purge -----------------------------------------------------
cp "$deb" "$WORK/"
cat >inside.sh <<SH
#!/bin/sh
# Runs in the chroot. Each step's output goes to a file the test reads.
set -e
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
listing() { find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /work \\) -prune -o -print | sort; }
cd /
listing >/work/before.txt
dpkg-query -W -f='\${Package}\n' | sort >/work/packages-before.txt
timeout 300 apt-get -o Acquire::Retries=3 update >/work/update.log 2>&1
timeout 300 apt-get install -y --no-install-recommends /work/$(basename "$deb") >/work/install.log 2>&1
dpkg-query -W -f='\${Package}\n' | sort >/work/packages-after.txt
for p in \$(comm -13 /work/packages-before.txt /work/packages-after.txt); do
    echo "== \$p"
    apt-cache policy "\$p"
done >/work/policy.txt
dpkg -L fleetbench >/work/dpkg-L.txt
command -v coord >/work/which.txt
mkdir -p /root/run && cd /root/run
set +e
timeout 150 coord run /usr/share/doc/fleetbench/examples/quick.yaml --bind tcp://127.0.0.1:$PORT \
    >/work/coord.log 2>&1
echo \$? >/work/coord.code
set -e
cp results/*/run.json /work/run.json 2>/dev/null || true
cd / && rm -rf /root/run
MANPAGER=cat MANWIDTH=80 man coord >/work/man-coord.txt 2>&1
MANPAGER=cat MANWIDTH=80 man 8 fleetbench-agent >/work/man-agent.txt 2>&1
MANPAGER=cat MANWIDTH=80 man 5 fleetbench-scenario >/work/man-scenario.txt 2>&1
timeout 300 apt-get purge -y --autoremove fleetbench >/work/purge.log 2>&1
listing >/work/after.txt
SH
chmod 755 inside.sh
mkdir -p upper ovwork root
set +e
timeout 900 unshare --mount --pid --fork --propagation private sh -c '
    set -e
    mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/ovwork" "$2/root"
    mount -t proc proc "$2/root/proc"
    mount -t sysfs -o ro sysfs "$2/root/sys"
    mkdir -p "$2/root/work" "$2/root/var/cache/apt/archives"
    mount --bind "$2" "$2/root/work"
    mount --bind "$3" "$2/root/var/cache/apt/archives"
    cp /etc/resolv.conf "$2/root/etc/resolv.conf"
    chroot "$2/root" /work/inside.sh
' inside "$base" "$WORK" "$CACHE/archives-$key" >inside.log 2>&1
code=$?
set -e
[ $code = 0 ] || fail "in the chroot (exit $code): $(tail -n 5 inside.log)
$(tail -n 15 update.log install.log purge.log 2>/dev/null)"

# ---- what happened -------------------------------------------------------------------------
pulled=$(comm -13 packages-before.txt packages-after.txt | grep -vx fleetbench | paste -sd ' ')
# Each package the install pulled is installed at a version Debian's archive has.
awk '/^== /{p=$2} /\*\*\*/ && p != "fleetbench" {getline; if ($0 !~ /deb\.debian\.org|'"${MIRROR//\//\\/}"'/) print p": "$0}' \
    policy.txt >foreign.txt
[ ! -s foreign.txt ] || fail "installed from outside Debian's archive: $(cat foreign.txt)"
pass "apt-get install ./$(basename "$deb"): pulled only Debian packages: $pulled"

[ "$(cat which.txt)" = /usr/bin/coord ] || fail "coord is $(cat which.txt)"
[ "$(cat coord.code)" = 0 ] || fail "coord run quick.yaml exited $(cat coord.code): $(tail -n 20 coord.log)"
hosts=$(jq '.hosts | length' run.json)
[ "$hosts" = 2 ] || fail "the run had $hosts hosts, expected 2"
pass "installed coord run quick.yaml: exit 0, $hosts installed fleetbench-agents, \"$(grep -m1 'passed' coord.log)\""

grep -q "coord - run fleetbench load scenarios" man-coord.txt || fail "man coord: $(head -n 5 man-coord.txt)"
grep -q "fleetbench-agent - run fleetbench workloads" man-agent.txt || fail "man 8 fleetbench-agent: $(head -n 5 man-agent.txt)"
grep -q "fleetbench-scenario - the scenario files" man-scenario.txt || fail "man 5 fleetbench-scenario: $(head -n 5 man-scenario.txt)"
pass "man coord, man 8 fleetbench-agent, man 5 fleetbench-scenario"

# After the purge, the file system is what it was before the install, but for apt's and
# dpkg's own records, caches and logs, which say an install happened (/var/cache holds
# man-db's formatted copies of the pages man showed above, which man-db's daily job expires).
s_ours() { grep -vE '^/(var/lib/(dpkg|apt)|var/cache|var/log|tmp|work|root/\.|etc/ld\.so\.cache)(/|$)' "$1"; }
s_ours before.txt >before.ours
s_ours after.txt >after.ours
diff before.ours after.ours >purge.diff || fail "after apt-get purge, files differ from before the install:
$(head -n 20 purge.diff)"
# Explicitly: no path the package brought (dpkg -L, less what was there before) is left.
left=$(sort dpkg-L.txt | comm -23 - before.txt | comm -12 - after.txt)
[ -z "$left" ] || fail "after apt-get purge, still there: $left"
! grep -q fleetbench after.ours || fail "after apt-get purge: $(grep fleetbench after.ours | head -n 5)"
pass "apt-get purge: none of the $(grep -c . dpkg-L.txt) paths of dpkg -L is left, the listing ($(wc -l <after.ours) paths) is the one before"
