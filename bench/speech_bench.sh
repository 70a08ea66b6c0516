#!/bin/sh
# speech_bench.sh - builds callbot_lib without sanitizers and runs bench/speech_bench.c.
# Usage: bench/speech_bench.sh [BUILD_DIR]   (default /tmp/callbot-bench-speech)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-/tmp/callbot-bench-speech}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCALLBOT_TESTS=OFF -DCALLBOT_WERROR=OFF >/dev/null
cmake --build "$build" --target callbot_lib -j2 >/dev/null
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -I"$root/src" -o "$build/speech_bench" "$root/bench/speech_bench.c" \
	"$build/libcallbot_lib.a" $(pkg-config --libs pocketsphinx espeak-ng speexdsp libcurl \
	jansson libsodium) -lm -lpthread
exec "$build/speech_bench" "$root/tests/data"
