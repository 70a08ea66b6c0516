#!/usr/bin/env bash
# rel_fuzz_2.sh - builds the libFuzzer harnesses of tests/fuzz/ with clang in
# $BUILD_DIR/fuzz and runs every other one (shard 2 of 2; rel_fuzz_1.sh runs the rest, so
# ctest -j2 runs both halves at once) for CALLBOT_FUZZ_SECONDS each (default 20, the
# issue's minimum: 4 targets, about 90 s after the first build). Known crashers in
# tests/fuzz/regressions/ must run cleanly; any crash, leak or UBSan report fails.
# Long runs: bench/fuzz.sh (docs/reliability.md).
set -euo pipefail
: "${TESTS_DIR:?TESTS_DIR must point to tests/}"
: "${BUILD_DIR:?BUILD_DIR must point to the build directory}"
SHARD=2/2 exec bash "$TESTS_DIR/fuzz/run.sh" "$BUILD_DIR/fuzz" "${CALLBOT_FUZZ_SECONDS:-20}"
