#!/usr/bin/env bash
# bench/fuzz.sh - the long fuzzing run (docs/reliability.md): every harness for
# SECONDS each (default 600), or only the TARGETs named. The corpus grows in
# BUILD/run/<target>/corpus; merge useful inputs into tests/fuzz/corpus/<target>/ by hand
# (keep seeds small), and crashers into tests/fuzz/regressions/<target>/ once fixed.
# Usage: bench/fuzz.sh [SECONDS] [TARGET...]   (BUILD defaults to ./build-fuzz)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-600}
[ $# -gt 0 ] && shift
exec bash "$SRC/tests/fuzz/run.sh" "${BUILD:-$SRC/build-fuzz}" "$SECS" "$@"
