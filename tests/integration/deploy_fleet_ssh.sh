# deploy/fleet-ssh against an sshd this test starts on 127.0.0.1 (its own host key, an
# authorized key made here, no PAM): push copies the agent, fb-child, keys (secret 0600) and
# the allow-list;
# start runs the agent, which joins a real `coord run --keys` over CURVE and completes it;
# status says running, also after a push over the running agent's files; stop stops it and
# status says not running (exit 3). Skips, saying why, when sshd cannot run here.
source "$(dirname "$0")/lib.sh"
FLEET_SSH=$FB_SOURCE_DIR/deploy/fleet-ssh
PORT=$(free_port)
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
skip() {
    echo "SKIP: $*"
    exit 0
}
[ -x "$SSHD" ] || skip "no sshd (Debian package openssh-server, in setup.sh)"
command -v ssh >/dev/null && command -v scp >/dev/null || skip "no ssh/scp (openssh-client)"
# sshd insists on its privilege separation folder, even when it never uses it.
if [ ! -d /run/sshd ]; then
    [ "$(id -u)" = 0 ] || skip "/run/sshd is missing and only root can make it"
    mkdir -m 0755 /run/sshd
fi

mkdir -m 700 ssh
ssh-keygen -q -t ed25519 -N '' -C fleet-ssh-test-host -f ssh/host_key
ssh-keygen -q -t ed25519 -N '' -C fleet-ssh-test-user -f ssh/id
cp ssh/id.pub ssh/authorized_keys

# The first free port of 22022..22029: sshd says at once when it cannot bind.
SSH_PORT=""
for p in 22022 22023 22024 22025 22026 22027 22028 22029; do
    cat >ssh/sshd_config <<CONF
Port $p
ListenAddress 127.0.0.1
HostKey $WORK/ssh/host_key
PidFile $WORK/ssh/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
AllowUsers $(id -un)
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel ERROR
CONF
    "$SSHD" -t -f ssh/sshd_config >sshd-check.log 2>&1 || skip "sshd rejects its config: $(cat sshd-check.log)"
    bg sshd "$SSHD" -D -e -f "$WORK/ssh/sshd_config"
    SSHD_PID=$LAST_PID
    for ((i = 0; i < 30; i++)); do
        kill -0 "$SSHD_PID" 2>/dev/null || break
        [[ $(ss -ltn "sport = :$p" 2>/dev/null) == *":$p"* ]] && { SSH_PORT=$p; break; }
        sleep 0.1
    done
    [ -n "$SSH_PORT" ] && break
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    grep -q "Address already in use" sshd.log || skip "sshd cannot run here: $(tail -n 5 sshd.log)"
done
[ -n "$SSH_PORT" ] || skip "ports 22022..22029 are all taken"

# Only our files: no ~/.ssh/config, our key, our known_hosts holding the host key made above.
echo "[127.0.0.1]:$SSH_PORT $(cat ssh/host_key.pub)" >ssh/known_hosts
export SSH_OPTS="-F /dev/null -i $WORK/ssh/id -o IdentitiesOnly=yes -o UserKnownHostsFile=$WORK/ssh/known_hosts -o StrictHostKeyChecking=yes"
export FLEET_SSH_TIMEOUT=30
# shellcheck disable=SC2086 # SSH_OPTS is words
timeout 10 ssh $SSH_OPTS -o BatchMode=yes -p "$SSH_PORT" 127.0.0.1 true >ssh-probe.log 2>&1 ||
    skip "cannot log in to the test sshd: $(cat ssh-probe.log) $(tail -n 5 sshd.log)"
pass "sshd on 127.0.0.1:$SSH_PORT with a key made for the test"

"$COORD" keygen --out keys --agents 1 >keygen.log || fail "keygen failed"
cat >allow.yaml <<'YAML'
hello: [/bin/echo, hello]
YAML
cat >fleet.txt <<INV
# one agent, on this machine through ssh
coordinator=tcp://127.0.0.1:$PORT
keys=keys
dir=$WORK/remote
allow=allow.yaml
agent=$AGENT
127.0.0.1 port=$SSH_PORT id=ssh-a1 labels=rack=a,via=ssh key=agents/agent-1.key
INV

fleet() { # fleet CODE COMMAND: fleet-ssh fleet.txt COMMAND must exit CODE; output in fleet.log
    set +e
    timeout 60 "$FLEET_SSH" fleet.txt "$2" >fleet.log 2>&1
    local got=$?
    set -e
    [ "$got" = "$1" ] || fail "fleet-ssh $2 exited $got, expected $1: $(cat fleet.log)"
}

fleet 0 push
for f in agent agent.key agent.key_secret coordinator.key allow.yaml; do
    [ -f "remote/$f" ] || fail "push left no remote/$f: $(cat fleet.log)"
done
[ -x remote/agent ] || fail "remote/agent is not executable"
[ ! -f "$(dirname "$AGENT")/fb-child" ] || [ -x remote/fb-child ] || fail "fb-child not pushed"
[ "$(stat -c %a remote/agent.key_secret)" = 600 ] || fail "the secret is not 0600 on the host"
cmp -s keys/agents/agent-1.key_secret remote/agent.key_secret || fail "the secret differs"
pass "push: agent, fb-child, key pair (secret 0600), coordinator key, allow-list"

fleet 3 status
grep -q "ssh-a1 (127.0.0.1): not running" fleet.log || fail "status before start: $(cat fleet.log)"

cat >ssh.yaml <<YAML
name: ssh
agents: { expect: 1, labels: { rack: [a], via: [ssh] }, join_timeout: 15s }
defaults: { duration: 2s, warmup: 1s, interval: 1s }
workloads:
  - name: procs
    kind: process
    params: { command: hello, op: lifecycle }
    targets: [ "errors < 1%" ]
YAML
fleet 0 start
grep -q "ssh-a1 (127.0.0.1): started (pid" fleet.log || fail "start: $(cat fleet.log)"
AGENT_PID=$(cat remote/agent.pid)
PIDS+=("$AGENT_PID") # killed by the cleanup if the test fails from here on
run_coord 0 run ssh.yaml --bind tcp://127.0.0.1:$PORT --local 0 --keys keys --quiet
[ "$(jqr '.hosts[0].id')" = ssh-a1 ] || fail "host id $(jqr '.hosts[0].id'), expected ssh-a1"
[ "$(jqr '.workloads[0].fleet.ops')" -gt 0 ] || fail "the allow-listed command never ran"
pass "start: the agent joined coord run --keys over CURVE and the run passed"

# (Each ssh login can take seconds on a busy machine: as few calls as the checks need.)
fleet 0 push
grep -q "ssh-a1 (127.0.0.1): pushed to $WORK/remote" fleet.log || fail "push: $(cat fleet.log)"
fleet 0 status
grep -q "ssh-a1 (127.0.0.1): running (pid $AGENT_PID)" fleet.log || fail "status: $(cat fleet.log)"
pass "status: running, also after a push over the running agent's files"

fleet 0 stop
grep -q "ssh-a1 (127.0.0.1): stopped (pid $AGENT_PID)" fleet.log || fail "stop: $(cat fleet.log)"
! kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent still runs after stop"
[ ! -e remote/agent.pid ] || fail "stop left the pid file"
fleet 3 status
grep -q "not running" fleet.log || fail "status after stop: $(cat fleet.log)"
pass "stop: the agent is gone, status says not running (exit 3)"

printf 'coordinator=tcp://127.0.0.1:%s\n127.0.0.1 port=%s\n' "$PORT" "$SSH_PORT" >bad.txt
set +e
"$FLEET_SSH" bad.txt status >bad.log 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q "bad.txt:2: no keys=DIR" bad.log || fail "inventory without keys=: $code $(cat bad.log)"
pass "an inventory without keys= is refused with file:line"
kill "$SSHD_PID" 2>/dev/null || true
wait "$SSHD_PID" 2>/dev/null || true
