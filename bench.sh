#!/usr/bin/env bash
# bench.sh: builds the release tree and runs every benchmark (bench/bench_*.c programs and
# bench/*.sh scripts). Each prints one table of ratios measured in the same run: ours next to
# a floor (the bare system calls) or a peer (wrk, the seed's figures). Not a test: these
# machines are shared and noisy, so read ratios, not absolute times.
#   ./bench.sh            every benchmark
#   ./bench.sh hist ingest   only those
#   BRUMMER_DIR=/path/to/brummer ./bench.sh fidelity   the model beside Brummer's own code
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh >/dev/null
want=("$@")
selected() {
    [ ${#want[@]} -eq 0 ] && return 0
    local w
    for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done
    return 1
}
for src in bench/bench_*.c bench/*.sh; do
    [ -e "$src" ] || continue
    name=$(basename "$src")
    name=${name%.*}
    name=${name#bench_}
    selected "$name" || continue
    echo "== $name"
    if [ "$name" = fidelity ]; then
        # Brummer's own code beside the model: needs a checkout of it (see the script).
        if [ -n "${BRUMMER_DIR:-}" ]; then
            bash "$src" "$BRUMMER_DIR" build
        else
            echo "skipped: set BRUMMER_DIR to a checkout of github.com/standardbeagle/brummer"
        fi
    elif [[ $src == *.sh ]]; then
        bash "$src" build
    else
        "./build/bench_$name"
    fi
    echo
done
