#!/usr/bin/env bash
# browser_report.sh: report.html and `coord compare --html` as a person sees them: Debian's
# headless Chromium, with no network (a namespace of its own), loads each page; it must render
# without a console message, with the expected number of series in its charts, and its
# screenshot must not be blank. `coord report` rebuilds the same page from the folder's files
# and names the file it cannot use.
. "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null || fail "chromium is missing: ./setup.sh installs it"
PY=/usr/bin/python3 # Debian's, where python3-pil is installed
"$PY" -c 'import PIL' 2>/dev/null || fail "python3-pil is missing: ./setup.sh installs it"

# browse PAGE OUT: the page's DOM after rendering into OUT.dom, its console in OUT.console,
# a screenshot in OUT.png. No network: every request a page made would fail (and be logged).
browse() {
    local page=$1 out=$2
    for mode in "--dump-dom" "--screenshot=$WORK/$out.png"; do
        unshare -n timeout 90 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
            --user-data-dir="$WORK/chromium" --enable-logging=stderr --v=0 \
            --window-size=1100,2400 "$mode" "file://$page" >"$WORK/$out.out" 2>"$WORK/$out.err" ||
            fail "chromium could not load $page: $(tail -n 3 "$WORK/$out.err")"
        [ "$mode" = --dump-dom ] && cp "$WORK/$out.out" "$WORK/$out.dom"
        grep -E ':CONSOLE|Uncaught|net::ERR_' "$WORK/$out.err" >>"$WORK/$out.console" || true
    done
    [ -s "$WORK/$out.png" ] || fail "no screenshot of $page"
}

# The check for console messages must be able to fail: a page that logs one is caught.
printf '<!DOCTYPE html><html><body><script>console.error("fleetbench-probe")</script></body></html>\n' >probe.html
browse "$WORK/probe.html" probe
grep -q fleetbench-probe probe.console || fail "a console error went unseen: the check is blind"

cat >rep.yaml <<YAML
name: rep
agents: { expect: 2 }
defaults: { duration: 2s, warmup: 1s, interval: 500ms }
workloads:
  - name: closed
    kind: eventbus
    params: { publishers: 1, workers: 1, handler_work: 0us }
    targets: [ "p99 < 2s" ]
  - name: open
    kind: eventbus
    params: { publishers: 1, workers: 1, handler_work: 0us }
    rate: 500/s
    targets: [ "throughput > 1000000/s" ]
YAML
run_coord 1 run rep.yaml --bind "tcp://127.0.0.1:*" --local 2 --quiet
dir=$(run_dir)
page=${dir%/}/report.html
[ -f "$page" ] || fail "no report.html in $dir"
size=$(stat -c %s "$page")
[ "$size" -lt 2000000 ] || fail "report.html is $size bytes"
refs=$(grep -oE '(src|href)=|https?://|@import|url\(' "$page" || true)
[ -z "$refs" ] || fail "report.html refers to something outside itself: $refs"

browse "$page" run
[ ! -s run.console ] || fail "report.html logged to the console: $(head -n 3 run.console)"
# Per workload, the first chart is the latency spectrum: the fleet and both hosts.
"$PY" - run.dom <<'PY' || fail "report.html's charts are not what the run holds"
import re, sys
from html.parser import HTMLParser
class Charts(HTMLParser):
    def __init__(self):
        super().__init__(); self.charts = []; self.title = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg": self.charts.append(["", 0])
        elif tag == "path" and "series" in a.get("class", "").split(): self.charts[-1][1] += 1
        elif tag == "title" and self.charts and self.charts[-1][0] == "": self.title = True
    def handle_data(self, data):
        if self.title: self.charts[-1][0] = data; self.title = False
p = Charts(); p.feed(open(sys.argv[1]).read())
spectra = [n for t, n in p.charts if t.startswith("latency by percentile")]
times = [n for t, n in p.charts if t.startswith("p99 (solid)")]
assert spectra == [3, 3], f"latency spectra series {spectra}, expected [3, 3]"
assert times == [4, 4], f"time series {times}, expected p99 and p50 of 2 hosts in each"
text = open(sys.argv[1]).read()
assert text.count('class="failed"') >= 1, "the failed target is not marked failed"
PY
# Not blank: a white page with some drawing, in several colours.
"$PY" - run.png <<'PY' || fail "the screenshot of report.html looks blank"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
px = list(im.getdata())
ink = sum(1 for r, g, b in px if r + g + b < 600) / len(px)
coloured = sum(1 for r, g, b in px if max(r, g, b) - min(r, g, b) > 60)
colours = len(set(px[:: 7]))
assert 0.01 < ink < 0.6, f"{ink:.3f} of the pixels drawn"
assert coloured > 500, f"{coloured} coloured pixels: no series drawn"
assert colours > 30, f"{colours} colours"
PY
pass "report.html renders offline, no console message, 3 series per spectrum, not blank ($size bytes)"

# coord report: the same page from the same files; a damaged folder is named, exit 2.
cp "$page" first.html
rm "$page"
"$COORD" report "$dir" >report.log 2>&1 || fail "coord report failed: $(cat report.log)"
cmp -s first.html "$page" || fail "coord report built another page than the run did"
set +e
"$COORD" report "$WORK/nowhere" >bad.log 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q 'nowhere/run.json' bad.log || fail "a missing folder: exit $code, $(cat bad.log)"
cp -r "$dir" half
head -c 2000 "$dir/run.json" >half/run.json
set +e
"$COORD" report half >bad.log 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q 'half/run.json' bad.log || fail "a half-written run.json: exit $code, $(cat bad.log)"
cp -r "$dir" damaged
hlog=$(ls damaged/local-*.hlog | head -n 1) # a host's: the page reads those
echo 'Tag=latency,1.0,1.0,1.0,HISTFAAA!!!' >>"$hlog"
set +e
"$COORD" report damaged >bad.log 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q "$(basename "$hlog"):[0-9]" bad.log || fail "a damaged hlog: exit $code, $(cat bad.log)"
pass "coord report rebuilds the same page; missing, half-written and damaged files are named (exit 2)"

# coord compare --html: one ratio row per host, whiskers where there is an interval.
"$COORD" compare "$dir" --html compare.html >compare.log 2>&1 || fail "coord compare --html: $(cat compare.log)"
browse "$WORK/compare.html" cmp
[ ! -s cmp.console ] || fail "compare.html logged to the console: $(head -n 3 cmp.console)"
rows=$(grep -o '<g class="series' cmp.dom | wc -l)
# 2 workloads; per metric a p50 chart of 2 rows, per workload one throughput chart of 2 rows
metrics=$(jq '[.workloads[].fleet.metrics | keys | length] | add' "$dir/run.json")
[ "$rows" = $((2 * metrics + 2 * 2)) ] || fail "compare.html has $rows ratio rows, expected $((2 * metrics + 4))"
grep -q 'class="whisker"' cmp.dom || fail "compare.html draws no interval"
pass "coord compare --html renders offline with $rows ratio rows and their intervals"
