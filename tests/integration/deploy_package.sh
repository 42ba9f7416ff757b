# The .deb as a Debian maintainer would check it: cpack from this tree (into a folder of our
# own), then lintian with no error and no warning; the files where Debian wants them, under
# names no Debian 12 package has (apt-file); the man pages rendered by man and groff without a
# warning, each command's --help naming exactly the options its page names; and the bash
# completion offering subcommands, flags, scenario files and run folders, names with spaces
# whole. With the arm64 cross build (deploy/cross-build.sh arm64) there, its .deb is linted too.
source "$(dirname "$0")/lib.sh"

s_need() { command -v "$1" >/dev/null || fail "$1 is not installed (Debian package $2; setup.sh)"; }
s_need cpack cmake
s_need lintian lintian
s_need man man-db
s_need groff groff-base
[ -f /usr/share/bash-completion/bash_completion ] || fail "bash-completion is not installed"

cpack --config "$FB_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$WORK/pkg" >cpack.log 2>&1 ||
    fail "cpack: $(tail -n 5 cpack.log)"
deb=$(ls "$WORK"/pkg/fleetbench_*.deb)

# ---- lintian -------------------------------------------------------------------------------
s_lintian() {
    local deb=$1 out code
    set +e
    lintian --fail-on error,warning "$deb" >lintian.log 2>&1
    code=$?
    set -e
    # lintian says on stderr that it would rather not run as root; that line is no finding.
    out=$(grep -v '^running with root privileges' lintian.log || true)
    [ "$code" = 0 ] && [ -z "$out" ] || fail "lintian $(basename "$deb") (exit $code): $out"
    pass "lintian $(basename "$deb"): no error, no warning (output: \"$out\")"
}
s_lintian "$deb"
CROSS_DIR=${FB_CROSS_ARM64_DIR:-$FB_SOURCE_DIR/build-arm64}
arm=$(ls "$CROSS_DIR"/fleetbench_*_arm64.deb 2>/dev/null | head -n 1 || true)
if [ -n "$arm" ]; then
    s_lintian "$arm"
else
    echo "SKIP: no $CROSS_DIR/fleetbench_*_arm64.deb (./deploy/cross-build.sh arm64): arm64 not linted"
fi

# ---- files and names -----------------------------------------------------------------------
dpkg-deb -x "$deb" x
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort >files.txt
for want in /usr/bin/coord /usr/bin/fleetbench-agent /usr/libexec/fleetbench/fb-child \
    /usr/share/man/man1/coord.1.gz /usr/share/man/man8/fleetbench-agent.8.gz \
    /usr/share/man/man5/fleetbench-scenario.5.gz /usr/share/bash-completion/completions/coord \
    /usr/share/doc/fleetbench/copyright /usr/share/doc/fleetbench/changelog.Debian.gz \
    /usr/share/doc/fleetbench/examples/quick.yaml; do
    grep -qx "$want" files.txt || fail "the package has no $want"
done
bin=$(grep '^/usr/bin/' files.txt | tr '\n' ' ')
[ "$bin" = "/usr/bin/coord /usr/bin/fleetbench-agent " ] || fail "on PATH: $bin"
pass "$(wc -l <files.txt) files; on PATH only $bin"

# Every file of ours against every file of every Debian 12 package (apt-file's Contents
# indexes, from apt-file update): one regular expression of all paths, no match wanted.
# (Outputs are read whole before grep: `cmd | grep -q` under pipefail fails when grep's early
# exit kills the writer with SIGPIPE.)
if command -v apt-file >/dev/null && [[ $(apt-file search -F /bin/ls 2>/dev/null || true) == *coreutils* ]]; then
    # apt-file matches the paths of its indexes, which have no leading slash.
    regex="^($(sed -e 's#^/##' -e 's/[.+]/\\&/g' files.txt | paste -sd '|'))\$"
    clash=$(apt-file search -x "$regex" 2>&1 || true)
    [ -z "$clash" ] || fail "a Debian 12 package has our file: $clash"
    # ...and the check does find a clash when there is one.
    control=$(apt-file search -x '^(usr/bin/coord|usr/bin/make)$' 2>&1 || true)
    grep -q '^make:' <<<"$control" ||
        fail "apt-file finds no package for /usr/bin/make: the check would see nothing ($control)"
    pass "apt-file: none of the $(wc -l <files.txt) paths is a file of a Debian 12 package"
else
    echo "SKIP: apt-file has no Contents index (apt-get install apt-file && apt-file update)"
fi

# ---- man pages -----------------------------------------------------------------------------
for page in x/usr/share/man/man*/*.gz; do
    name=$(basename "$page" .gz)
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" >"$name.txt" 2>"$name.warn" ||
        fail "man -l $name failed: $(cat "$name.warn")"
    [ ! -s "$name.warn" ] || fail "man --warnings -l $name: $(cat "$name.warn")"
    zcat "$page" | groff -ww -z -man 2>"$name.groff" || true
    [ ! -s "$name.groff" ] || fail "groff -ww $name: $(cat "$name.groff")"
    grep -q '^NAME' "$name.txt" || fail "$name renders without a NAME section"
done
pass "man -l and groff -ww: no warning on $(find x/usr/share/man -name "*.gz" | wc -l) pages"

# The options a command's --help names, and those in its page's OPTIONS section, one a line.
s_help_options() { "$@" --help | grep -o -- '--[a-z][a-z-]*' | sort -u; }
s_page_options() {
    LC_ALL=C.UTF-8 MANWIDTH=400 man -l "$1" 2>/dev/null |
        awk '/^OPTIONS/ { f = 1; next } /^[A-Z]/ { f = 0 } f' |
        grep -o -- '--[a-z][a-z-]*' | sort -u
}
for pair in coord:man1/coord.1.gz fleetbench-agent:man8/fleetbench-agent.8.gz; do
    cmd=${pair%%:*} page=x/usr/share/man/${pair#*:}
    s_help_options "x/usr/bin/$cmd" >"$cmd.help"
    s_page_options "$page" >"$cmd.page"
    [ -s "$cmd.help" ] || fail "$cmd --help names no option"
    diff "$cmd.help" "$cmd.page" >"$cmd.diff" ||
        fail "$cmd: --help (<) and its man page's OPTIONS (>) differ: $(cat "$cmd.diff")"
    pass "$cmd --help and $(basename "$page" .gz): the same $(wc -l <"$cmd.help") options"
done

# ---- bash completion -----------------------------------------------------------------------
mkdir -p comp/"run folder"/20261205-quick comp/results
touch comp/"my scenario.yaml" comp/other.yml comp/notes.txt
cat >complete.sh <<'SH'
source /usr/share/bash-completion/bash_completion
source "$1"
# t WORD...: what _coord offers for the last WORD, one [entry] each.
t() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _coord coord "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
    printf '[%s]' "${COMPREPLY[@]}" | tr '\n' ' '
    echo
}
cd "$2"
t coord ''
t coord run ''
t coord run my
t coord run --
t coord compare ''
t coord compare 'run folder/'
t coord compare --by ''
t coord baseline ''
t coord keygen --
SH
bash complete.sh "$PWD/x/usr/share/bash-completion/completions/coord" "$PWD/comp" >complete.out 2>&1 ||
    fail "the completion script failed: $(cat complete.out)"
s_line() { sed -n "${1}p" complete.out | tr -s ' ' | sed 's/ $//'; }
# The entries of line N sorted, joined with |.
s_sorted() { s_line "$1" | sed -e 's/^\[//' -e 's/\]$//' -e 's/\]\[/\n/g' | sort | paste -sd '|'; }
[ "$(s_line 1)" = "[run][check][baseline][compare][report][keygen][--help][--version]" ] ||
    fail "subcommands: $(s_line 1)"
# Scenario files and folders (to walk into), never other files; a name with a space whole.
[ "$(s_sorted 2)" = "my scenario.yaml|other.yml|results|run folder" ] || fail "coord run: $(s_line 2)"
[ "$(s_line 3)" = "[my scenario.yaml]" ] || fail "coord run my: $(s_line 3)"
[ "$(s_sorted 4)" = "--allow|--allow-different|--baseline|--bind|--continue|--insecure|--json|--keys|--local|--metrics|--metrics-hold|--out|--quiet|--repeat|--rerun-budget" ] ||
    fail "coord run --: $(s_line 4)"
[ "$(s_sorted 5)" = "results|run folder" ] || fail "coord compare: $(s_line 5)"
[ "$(s_line 6)" = "[run folder/20261205-quick]" ] || fail "coord compare 'run folder/': $(s_line 6)"
[ "$(s_line 7)" = "[host][board][cpu]" ] || fail "coord compare --by: $(s_line 7)"
[ "$(s_line 8)" = "[save]" ] || fail "coord baseline: $(s_line 8)"
[ "$(s_line 9)" = "[--out][--agents][--name]" ] || fail "coord keygen --: $(s_line 9)"
pass "bash completion: subcommands, flags, scenario files, run folders, 'my scenario.yaml' whole"
