# deploy/fleetbench-agent.service: systemd-analyze verify finds nothing wrong with it; the
# options that would break spawning are absent; and the agent started with the unit's
# ExecStart, expanded the way systemd does from agent.env.example, allow.yaml.example and keys
# from `coord keygen`, joins a coordinator over CURVE and runs an allow-listed command. As
# root, that agent runs as the unit runs it: an unprivileged user, no new privileges, no
# capabilities. PID 1 here need not be systemd, so the unit itself is never started.
source "$(dirname "$0")/lib.sh"
DEPLOY=$FB_SOURCE_DIR/deploy
UNIT=$DEPLOY/fleetbench-agent.service
PORT=$(free_port)

# ---- the unit file, as systemd reads it --------------------------------------------------------
for bad in MemoryDenyWriteExecute ProcSubset PrivateNetwork DynamicUser; do
    ! grep -q "^$bad=" "$UNIT" || fail "$bad= is set: it breaks the agent or what it spawns"
done
for want in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
    StateDirectory=fleetbench Restart=on-failure User=fleetbench \
    EnvironmentFile=/etc/fleetbench/agent.env; do
    grep -qx "$want" "$UNIT" || fail "the unit has no $want"
done
pass "hardening present, nothing that breaks spawning"

# The same unit with its paths moved into $WORK (verify checks that ExecStart's program exists).
# The agent and its helper are copied there too, as the package installs them where the unit's
# user can reach them: the build tree may sit where that user cannot (a home folder of 0700).
mkdir -p etc/keys state prog
cp "$AGENT" prog/agent
cp "$FB_BUILD_DIR/fb-child" prog/fb-child
AGENT=$WORK/prog/agent
sed -e "s#/usr/bin/fleetbench-agent#$AGENT#" -e "s#/etc/fleetbench#$WORK/etc#g" \
    -e "s#/var/lib/fleetbench#$WORK/state#g" "$UNIT" >fleetbench-agent.service
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze not installed (Debian package systemd): unit not verified"
else
    set +e
    timeout 30 systemd-analyze verify "$WORK/fleetbench-agent.service" >verify.log 2>&1
    code=$?
    set -e
    [ "$code" = 0 ] || fail "systemd-analyze verify exited $code: $(cat verify.log)"
    ! grep -q "fleetbench-agent" verify.log || fail "systemd-analyze verify: $(cat verify.log)"
    # The check is not vacuous: a misspelt option in a copy is reported.
    sed 's/^Restart=on-failure/Restart=on-failur/' fleetbench-agent.service >broken.service
    timeout 30 systemd-analyze verify "$WORK/broken.service" >broken.log 2>&1 || true
    grep -q "broken.service:.*restart" broken.log || fail "verify missed a bad option: $(cat broken.log)"
    pass "systemd-analyze verify: no complaint (and it does report a misspelt option)"
fi

# ---- ExecStart, expanded as systemd does ------------------------------------------------------
# Environment= lines first, then EnvironmentFile= overrides (KEY=value, optional "quotes").
# In ExecStart, a word that is exactly $NAME becomes the value split on whitespace (zero or
# more words); ${NAME} inside a word is the value, one word. %H is the host name.
declare -A ENVV
s_env_line() {
    local line=$1
    [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || return 0
    local key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    [[ $value =~ ^\"(.*)\"$ ]] && value=${BASH_REMATCH[1]}
    ENVV[$key]=${value//%H/$(hostname)}
}
expand_exec() {
    local unit=$1 env_file=$2 line word name
    local -
    set -f # the unit's words are split here, never globbed
    ENVV=()
    while IFS= read -r line; do s_env_line "$line"; done < <(sed -n 's/^Environment=//p' "$unit")
    while IFS= read -r line; do s_env_line "$line"; done <"$env_file"
    EXEC=()
    for word in $(sed -n 's/^ExecStart=//p' "$unit"); do
        if [[ $word =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
            # shellcheck disable=SC2206 # split on whitespace, as systemd does
            EXEC+=(${ENVV[${BASH_REMATCH[1]}]:-})
            continue
        fi
        while [[ $word =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
            name=${BASH_REMATCH[1]}
            word=${word//"\${$name}"/${ENVV[$name]:-}}
        done
        EXEC+=("$word")
    done
}

# With the example's id and labels commented out: the host name, and no empty argument.
sed -e 's/^FLEETBENCH_ID=/#&/' -e 's/^FLEETBENCH_LABELS=/#&/' "$DEPLOY/agent.env.example" >bare.env
expand_exec fleetbench-agent.service bare.env
args=" ${EXEC[*]} "
[[ $args == *" --id $(hostname) "* ]] || fail "no --id defaulting to the host name: $args"
[[ $args != *"--label"* ]] || fail "labels without FLEETBENCH_LABELS: $args"
for a in "${EXEC[@]}"; do [ -n "$a" ] || fail "an empty argument in: $args"; done
pass "agent.env without an id or labels: --id $(hostname), no --label, no empty argument"

# The real thing: keys where the unit expects them, the example allow-list and agent.env.
"$COORD" keygen --out keys --agents 1 >keygen.log || fail "keygen failed"
cp keys/agents/agent-1.key etc/keys/agent.key
cp keys/agents/agent-1.key_secret etc/keys/agent.key_secret
cp keys/coordinator.key etc/keys/coordinator.key
cp "$DEPLOY/allow.yaml.example" etc/allow.yaml
sed -e "s#^FLEETBENCH_COORDINATOR=.*#FLEETBENCH_COORDINATOR=tcp://127.0.0.1:$PORT#" \
    -e 's/^FLEETBENCH_ID=.*/FLEETBENCH_ID=deploy-a1/' \
    -e 's/^FLEETBENCH_OPTIONS=.*/FLEETBENCH_OPTIONS="--once"/' \
    "$DEPLOY/agent.env.example" >etc/agent.env
expand_exec fleetbench-agent.service etc/agent.env
args=" ${EXEC[*]} "
[[ $args == *" --label rack=a --label role=edge "* ]] || fail "labels not split into words: $args"
[ "${EXEC[0]}" = "$AGENT" ] || fail "ExecStart does not start the agent: $args"

cat >deploy.yaml <<YAML
name: deploy
agents: { expect: 1, labels: { rack: [a], role: [edge] }, join_timeout: 15s }
defaults: { duration: 2s, warmup: 1s, interval: 1s }
workloads:
  - name: procs
    kind: process
    params: { command: hello, op: lifecycle }
    targets: [ "errors < 1%" ]
YAML
runner=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # As the unit: its own unprivileged user (nobody here), NoNewPrivileges=, no capabilities
    # (CapabilityBoundingSet=), and UMask=0077; the secret stays 0600 and the user's own.
    chmod 711 "$WORK"
    chown -R 65534:65534 etc state
    runner=(setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs
        --inh-caps=-all --bounding-set=-all)
    user="as nobody, no new privileges, no capabilities"
else
    user="as $(id -un) (not root: no user switch)"
fi
(umask 077 && exec "${runner[@]}" "${EXEC[@]}") >agent.log 2>&1 &
PIDS+=($!)
run_coord 0 run deploy.yaml --bind tcp://127.0.0.1:$PORT --local 0 --keys keys --quiet
[ "$(jqr '.hosts[0].id')" = deploy-a1 ] || fail "host id $(jqr '.hosts[0].id'), expected deploy-a1"
ops=$(jqr '.workloads[0].fleet.ops')
[ "$ops" -gt 0 ] || fail "the allow-listed command never ran"
grep -q "connecting to tcp://127.0.0.1:$PORT" agent.log || fail "agent log: $(cat agent.log)"
pass "the unit's ExecStart with agent.env: a run over CURVE, $ops lifecycles of 'hello' ($user)"
