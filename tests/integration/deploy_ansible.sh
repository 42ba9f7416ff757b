# deploy/ansible: the playbook and the example inventory pass ansible-playbook --syntax-check;
# the inventory gives each host the variables the role needs; the role's templates render an
# agent.env with one --label per k=v, and allow-lists the agent itself accepts (an empty one
# and the example's); as root, the whole playbook runs in --check mode against this machine
# (every task but starting the service, which needs systemd as PID 1). Nothing is installed
# or changed here.
source "$(dirname "$0")/lib.sh"
PORT=$(free_port)
PORT2=$(free_port)
ANSIBLE=$FB_SOURCE_DIR/deploy/ansible
if ! command -v ansible-playbook >/dev/null; then
    echo "SKIP: ansible-playbook not installed (Debian package ansible-core, in setup.sh)"
    exit 0
fi
# Everything ansible keeps (temp files, facts, retry files) stays in $WORK.
export ANSIBLE_HOME=$WORK/ansible ANSIBLE_LOCAL_TEMP=$WORK/ansible/tmp \
    ANSIBLE_REMOTE_TEMP=$WORK/ansible/remote ANSIBLE_NOCOLOR=1 \
    ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=auto_silent ANSIBLE_PIPELINING=1
s_ansible() { timeout 60 "$@" >>ansible.log 2>&1 || fail "$* failed: $(tail -n 20 ansible.log)"; }

s_ansible ansible-playbook --syntax-check -i "$ANSIBLE/inventory.example.ini" "$ANSIBLE/playbook.yml"
pass "ansible-playbook --syntax-check"

s_ansible ansible-inventory -i "$ANSIBLE/inventory.example.ini" --list --output inventory.json
hosts=$(jq -r '.fleetbench_agents.hosts | length' inventory.json)
[ "$hosts" -ge 1 ] || fail "no host in group fleetbench_agents"
missing=$(jq -r '._meta.hostvars | to_entries[]
    | select((.value.fleetbench_key // "") == "" or (.value.fleetbench_coordinator // "") == "")
    | .key' inventory.json)
[ -z "$missing" ] || fail "hosts without fleetbench_key or fleetbench_coordinator: $missing"
pass "example inventory: $hosts hosts, each with a key name and the coordinator"

# The role's templates, rendered with the role's defaults and two hosts' variables (lookup's
# template_vars rank above the defaults as inventory vars do); one task writes them all as
# one JSON object, because every task costs ansible seconds on a busy machine.
ROLE=$ANSIBLE/roles/fleetbench_agent
cat >render.yml <<YAML
- hosts: localhost
  connection: local
  gather_facts: false
  vars_files: ["$ROLE/defaults/main.yml"]
  vars:
    one:
      fleetbench_coordinator: tcp://coord.lab:5690
      fleetbench_id: pi4-a
      fleetbench_labels: "rack=a, board=pi4"
    two:
      fleetbench_coordinator: tcp://coord.lab:5690
      fleetbench_options: --quiet
      fleetbench_allow:
        sleep-1: [/bin/sleep, 1]
        gzip-16m: [/bin/sh, -c, 'head -c 16M /dev/urandom | gzip -1 >/dev/null "\$x"']
  tasks:
    - ansible.builtin.copy:
        dest: "$WORK/rendered.json"
        content: >-
          {{ {"one/agent.env": lookup("template", "$ROLE/templates/agent.env.j2", template_vars=one),
              "one/allow.yaml": lookup("template", "$ROLE/templates/allow.yaml.j2", template_vars=one),
              "two/agent.env": lookup("template", "$ROLE/templates/agent.env.j2", template_vars=two),
              "two/allow.yaml": lookup("template", "$ROLE/templates/allow.yaml.j2", template_vars=two)}
             | to_json }}
YAML
s_ansible ansible-playbook -i localhost, render.yml
mkdir -p one two
for f in one/agent.env one/allow.yaml two/agent.env two/allow.yaml; do
    jq -j --arg f "$f" '.[$f]' rendered.json >"$f"
done

# An allow-list is good when the agent takes it and goes on to connect (a bad one exits 2 at
# once with file:line:col). Nothing listens on the port: the agent is stopped after 2 s.
s_allow_ok() {
    set +e
    timeout 2 "$AGENT" --coordinator tcp://127.0.0.1:$PORT2 --once --allow "$1" \
        --state-dir "$WORK/state" >allow.log 2>&1
    local code=$?
    set -e
    [ "$code" = 124 ] && grep -q "connecting to" allow.log ||
        fail "the agent refused $1 (exit $code): $(cat allow.log) in $(cat "$1")"
}

grep -qx 'FLEETBENCH_COORDINATOR=tcp://coord.lab:5690' one/agent.env || fail "$(cat one/agent.env)"
grep -qx 'FLEETBENCH_ID=pi4-a' one/agent.env || fail "$(cat one/agent.env)"
grep -qx 'FLEETBENCH_LABELS="--label rack=a --label board=pi4"' one/agent.env ||
    fail "labels: $(cat one/agent.env)"
s_allow_ok one/allow.yaml
pass "templates: agent.env with one --label per k=v; an empty allow-list the agent accepts"

grep -qx 'FLEETBENCH_LABELS=""' two/agent.env || fail "empty labels: $(cat two/agent.env)"
grep -qx 'FLEETBENCH_ID=localhost' two/agent.env || fail "default id: $(cat two/agent.env)"
grep -qx 'FLEETBENCH_OPTIONS="--quiet"' two/agent.env || fail "options: $(cat two/agent.env)"
grep -qx 'sleep-1: \["/bin/sleep", "1"\]' two/allow.yaml || fail "allow.yaml: $(cat two/allow.yaml)"
grep -qF '"head -c 16M /dev/urandom | gzip -1 >/dev/null \"$x\""' two/allow.yaml ||
    fail "argv not kept as written: $(cat two/allow.yaml)"
s_allow_ok two/allow.yaml
s_allow_ok "$FB_SOURCE_DIR/deploy/allow.yaml.example"
pass "templates: allow-list entries as written, accepted by the agent; id defaults to the host"

# The playbook itself, in check mode (no change is made), against this machine as one host.
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: the playbook in --check mode needs root (it reads /etc as the role would)"
    exit 0
fi
"$COORD" keygen --out keys --agents 1 >/dev/null || fail "keygen failed"
cat >inventory.ini <<INI
[fleetbench_agents]
localhost ansible_connection=local fleetbench_key=agent-1 fleetbench_labels=rack=a
[fleetbench_agents:vars]
fleetbench_coordinator=tcp://127.0.0.1:$PORT
fleetbench_keys_dir=$WORK/keys
fleetbench_deb=
INI
before=$(ls -la /etc/fleetbench 2>&1 || true)
s_ansible ansible-playbook --check -i inventory.ini "$ANSIBLE/playbook.yml" \
    -e ansible_become=false -e fleetbench_manage_service=false -e '{"fleetbench_allow": {"sleep-1": ["/bin/sleep", "1"]}}'
grep -q "localhost *: ok=[1-9][0-9]* .*failed=0" ansible.log || fail "check run: $(tail -n 20 ansible.log)"
[ "$(ls -la /etc/fleetbench 2>&1 || true)" = "$before" ] || fail "--check changed /etc/fleetbench"
pass "the playbook in --check mode: every task up to starting the service"
