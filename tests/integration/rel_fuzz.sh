#!/usr/bin/env bash
# rel_fuzz.sh - builds the libFuzzer harnesses of tests/fuzz/ with clang in
# $BUILD_DIR/fuzz and runs each for CALLBOT_FUZZ_SECONDS (default 8: about 80 s for
# the 9 targets, after the first build). Known crashers in tests/fuzz/regressions/
# must run cleanly; any crash, leak or UBSan report fails. The 20 s per target:
# CALLBOT_FUZZ_SECONDS=20 (about 3 min, inside ctest's 300 s); long runs: bench/fuzz.sh (docs/reliability.md).
set -euo pipefail
: "${TESTS_DIR:?TESTS_DIR must point to tests/}"
: "${BUILD_DIR:?BUILD_DIR must point to the build directory}"
exec bash "$TESTS_DIR/fuzz/run.sh" "$BUILD_DIR/fuzz" "${CALLBOT_FUZZ_SECONDS:-8}"
