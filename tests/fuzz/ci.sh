#!/usr/bin/env bash
# tests/fuzz/ci.sh: the short fuzz run test.sh does. Every target for FB_FUZZ_SECONDS (default 10:
# a minute in all, plus the build) over its seeds, so a change that makes a decoder crash on a
# known input, or on what a few seconds of mutation find, fails CI. ./fuzz.sh runs longer.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec ./fuzz.sh "${FB_FUZZ_SECONDS:-10}"
