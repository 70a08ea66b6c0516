#!/usr/bin/env bash
# Builds callbot. Usage: scripts/build.sh [release|asan]   (default: release)
#   release -> build/callbot          (optimised, no tests)
#   asan    -> build-asan/callbot     (ASan+UBSan, with the test programs)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
jobs=$(nproc 2>/dev/null || echo 2)
case "$kind" in
  release) dir=build;      opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALLBOT_TESTS=OFF) ;;
  asan)    dir=build-asan; opts=(-DCMAKE_BUILD_TYPE=Debug -DCALLBOT_SANITIZE=ON -DCALLBOT_TESTS=ON) ;;
  *) echo "build.sh: unknown kind '$kind' (release, asan)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${opts[@]}" > /dev/null
cmake --build "$dir" -j "$jobs"
