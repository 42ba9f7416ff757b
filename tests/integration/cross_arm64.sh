# The Pi build runs: the cross-built arm64 agent (build-arm64/, ./deploy/cross-build.sh arm64),
# emulated by qemu-user, joins this tree's native coordinator and completes examples/quick.yaml;
# its fingerprint says aarch64. Skips (exit 0, with the reason) when there is no cross build,
# no qemu, or the cross build is older than the sources: the cross build itself is too slow
# for the suite (docs/cross-build.md).
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
CROSS_DIR=${FB_CROSS_ARM64_DIR:-$FB_SOURCE_DIR/build-arm64}
CROSS_AGENT=$CROSS_DIR/agent
QEMU=qemu-aarch64-static

s_skip() {
    echo "SKIP: $*"
    exit 0
}
[ -x "$CROSS_AGENT" ] || s_skip "no $CROSS_AGENT: run ./deploy/cross-build.sh arm64 first"
command -v "$QEMU" >/dev/null ||
    s_skip "no $QEMU: apt-get install qemu-user-static (./deploy/cross-build.sh arm64 does)"
# A stale agent may speak an older protocol than this tree's coordinator: a failure then
# would be about the build, not the code.
newer=$(find "$FB_SOURCE_DIR"/{common,agent,coordinator,workloads,proto} "$FB_SOURCE_DIR/CMakeLists.txt" \
    -newer "$CROSS_AGENT" \( -name '*.[ch]' -o -name '*.proto' -o -name CMakeLists.txt \) -print -quit)
[ -z "$newer" ] ||
    s_skip "$CROSS_AGENT is older than ${newer#"$FB_SOURCE_DIR"/}: rerun ./deploy/cross-build.sh arm64"

# qemu called explicitly (no binfmt_misc needed). No -L /usr/aarch64-linux-gnu: that loader
# (libc6-arm64-cross) is another build of glibc than the libc.so.6 of libc6:arm64 the libraries
# pull in, and the mix hangs in the first pthread_create. Without -L, ld.so, libc and every
# library come from the :arm64 packages cross-build.sh installed, as on a Pi.
ARM_AGENT=("$QEMU" "$CROSS_AGENT")
set +e
version=$("${ARM_AGENT[@]}" --version 2>&1)
rc=$?
set -e
if [ $rc != 0 ] && grep -q 'error while loading shared libraries' <<<"$version"; then
    s_skip "the arm64 libraries are missing ($version): run ./deploy/cross-build.sh --deps-only arm64"
fi
[ $rc = 0 ] || fail "arm64 agent --version under qemu exited $rc: $version"
case "$version" in
"agent (fleetbench) "*) ;;
*) fail "arm64 agent --version said \"$version\"" ;;
esac

sed 's/expect: 2/expect: 1/' "$FB_SOURCE_DIR/examples/quick.yaml" >"$WORK/quick.yaml"
grep -q 'expect: 1,' "$WORK/quick.yaml" || fail "could not set agents.expect to 1 in quick.yaml"

bg agent-pi "${ARM_AGENT[@]}" --coordinator tcp://127.0.0.1:$PORT --id pi --once \
    --state-dir "$WORK/state"
agent_pid=$LAST_PID
run_coord 0 run "$WORK/quick.yaml" --bind tcp://127.0.0.1:$PORT --local 0 --quiet

# --once: the agent leaves by itself after the run.
for ((i = 0; i < 150; i++)); do
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$agent_pid" 2>/dev/null && fail "the arm64 agent was still running 15 s after the run"
set +e
wait "$agent_pid"
agent_rc=$?
set -e
[ "$agent_rc" = 0 ] || fail "the arm64 agent exited $agent_rc"

[ "$(jqr '.outcome')" = passed ] || fail "outcome $(jqr .outcome)"
[ "$(jqr '.hosts | length')" = 1 ] || fail "expected 1 host, got $(jqr '.hosts | length')"
[ "$(jqr '.hosts[0].id')" = pi ] || fail "host id $(jqr '.hosts[0].id'), expected pi"
arch=$(jqr '.hosts[0].fingerprint.arch')
[ "$arch" = aarch64 ] || fail "the agent's fingerprint says arch $arch, expected aarch64"
for w in 0 1; do
    ops=$(jqr ".workloads[$w].fleet.ops")
    [ "$ops" -gt 0 ] || fail "workload $w measured nothing on the arm64 agent"
done
pass "arm64 agent under qemu: quick.yaml passed, fingerprint arch $arch ($version)"
