# junit.xml of real runs is valid against tests/data/junit/junit.xsd (the Jenkins/Ant JUnit
# schema, made stricter: counts, time, timestamp and hostname on every suite, time on every
# case) and says what CI needs: a failed target as <failure type="target"> with the reason as
# message and as text, a gate without baseline <skipped/>, an inconclusive gate a passed case
# whose output says so (a failure of type gate under on_inconclusive: fail), a suspect host as
# a property and a line of output, and an incomplete run's unjudged targets as <error>.
source "$(dirname "$0")/lib.sh"
XSD=$FB_SOURCE_DIR/tests/data/junit/junit.xsd
BIND="tcp://127.0.0.1:*"

# check NAME: the run's junit.xml against the schema; kept as NAME.xml, the run as run-NAME.
check() {
    local f
    f="$(run_dir)/junit.xml"
    xmllint --noout --schema "$XSD" "$f" >xmllint.log 2>&1 ||
        fail "$1: junit.xml is not valid against the schema: $(cat xmllint.log; cat "$f")"
    cp "$f" "$1.xml"
    mv "$(run_dir)" "run-$1"
}
# x NAME XPATH: the string value of XPATH in NAME.xml.
x() { xmllint --xpath "string($2)" "$1.xml"; }

write() { # write ON_INCONCLUSIVE
    cat >junit.yaml <<YAML
name: junit
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 2s, warmup: 1s, interval: 250ms }
workloads:
  - name: bus
    kind: eventbus
    params: { publishers: 1, workers: 2, handler_work: 0us }
    rate: 1000/s
    targets: [ "p50 < 1ns", "p99 < 10s" ]
    gates: [ { metric: p50, max_regression: 100000%, on_inconclusive: $1 } ]
YAML
}

# 1. A target that cannot hold, one that holds, a gate without baseline.
write pass
run_coord 1 run junit.yaml --bind "$BIND" --local 1 --quiet
check failed
case_='//testsuite[@name="junit.bus"]/testcase'
[ "$(x failed "$case_[@name='p50 < 1ns (per host)']/failure/@type")" = target ] || fail "no failure of type target: $(cat failed.xml)"
msg=$(x failed "$case_[@name='p50 < 1ns (per host)']/failure/@message")
[ -n "$msg" ] && [ "$msg" = "$(x failed "$case_[@name='p50 < 1ns (per host)']/failure")" ] ||
    fail "the failure's text should repeat its message ($msg)"
[ "$(x failed "count($case_[@name='p99 < 10s (per host)']/*[self::failure or self::skipped or self::error])")" = 0 ] ||
    fail "a held target should pass"
[ "$(x failed "count($case_[starts-with(@name, 'p50 at most')]/skipped)")" = 1 ] || fail "a gate without baseline should be skipped"
[ "$(x failed '//testsuite[@name="junit.bus"]/@skipped')" = 1 ] || fail "the suite should count one skipped"
[ "$(x failed '//testsuite[@name="junit.bus"]/@failures')" = 1 ] || fail "the suite should count one failure"
[ "$(x failed "$case_[1]/@classname")" = junit.bus ] || fail "classname should be scenario.workload"
"$COORD" baseline save run-failed >save.log 2>&1 || fail "baseline save failed: $(cat save.log)"
pass "failed target, held target, skipped gate: valid ($msg)"

# 2. One run against a one-run baseline: the gate is inconclusive, counted as passed.
run_coord 1 run junit.yaml --bind "$BIND" --local 1 --quiet
check inconclusive
gate="$case_[starts-with(@name, 'p50 at most')]"
[ "$(x inconclusive "count($gate/*[self::failure or self::skipped or self::error])")" = 0 ] ||
    fail "an inconclusive gate counted as passed should be a passed case: $(cat inconclusive.xml)"
x inconclusive "$gate/system-out" >out.txt
grep -q '^inconclusive: ' out.txt || fail "its output should say inconclusive: $(cat out.txt)"
write fail
run_coord 1 run junit.yaml --bind "$BIND" --local 1 --quiet
check inconclusive-fail
[ "$(x inconclusive-fail "$gate/failure/@type")" = gate ] || fail "on_inconclusive: fail should be a failure of type gate"
pass "inconclusive gate: a passed case saying so, or a gate failure under on_inconclusive: fail"

# 3. A suspect host (its scheduler cannot keep up, see suspect_host.sh) with a failed schedule.
cat >slow.yaml <<'YAML'
name: slow
agents: { expect: 1, heartbeat_timeout: 5s }
defaults: { duration: 2s, warmup: 0s, interval: 1s }
workloads:
  - name: blocked
    kind: eventbus
    params: { publishers: 1, workers: 1, queue: 1, overflow: block, handler_work: 2ms, mix: logline }
    rate: 200/s
YAML
run_coord 1 run slow.yaml --bind "$BIND" --local 1 --quiet
check suspect
why=$(x suspect '//testsuite[@name="slow.hosts"]/properties/property[@name="suspect.local-1"]/@value')
[ -n "$why" ] || fail "no suspect property: $(cat suspect.xml)"
x suspect '//testsuite[@name="slow.hosts"]/system-out' >out.txt
grep -q "^suspect host local-1: " out.txt || fail "no suspect line in the hosts suite's output: $(cat out.txt)"
[ "$(x suspect '//testcase[starts-with(@name, "schedule")]/failure/@type')" = schedule ] ||
    fail "the schedule verdict should be a failure of type schedule"
pass "suspect host: property and output line ($why)"

# 4. Two agents expected, one joins: the run ends before anything is judged.
write pass
sed -i 's/expect: 1/expect: 2, join_timeout: 2s/' junit.yaml
run_coord 3 run junit.yaml --bind "$BIND" --local 1 --quiet
check incomplete
[ "$(x incomplete '//testsuite[@name="junit.bus"]/@errors')" = 3 ] ||
    fail "two targets and a gate unjudged should be 3 errors: $(cat incomplete.xml)"
[ "$(x incomplete "$case_[@name='p50 < 1ns (per host)']/error/@type")" = incomplete ] || fail "an unjudged target should be an error"
[ "$(x incomplete '//testcase[@name="join"]/failure/@type')" = host ] || fail "the short join should be a host failure"
pass "incomplete run: unjudged targets and gates as errors"
