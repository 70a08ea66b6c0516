#!/bin/sh
# callgrind.sh - instruction counts of the media hot paths (bench/callgrind_media.c) under
# valgrind --tool=callgrind: stable on noisy machines, so regressions show as numbers.
# usage: bench/callgrind.sh [BUILD_DIR]   (a Release build dir with libcallbot_lib.a;
#   default /tmp/callbot-bench-rel, built here when missing)
# Prints "callgrind rtp_packet_ir N" (one packet received + one sent, per stream) and
# "callgrind vad_frame_ir N" (one 20 ms frame through the VAD).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-/tmp/callbot-bench-rel}
command -v valgrind >/dev/null || { echo "valgrind missing (apt-get install valgrind)" >&2; exit 2; }
if [ ! -f "$build/libcallbot_lib.a" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCALLBOT_TESTS=OFF >/dev/null
	cmake --build "$build" --target callbot_lib -j2 >/dev/null
fi
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6 \
	-I"$root/src" $(pkg-config --cflags libre) -o "$build/callgrind_media" \
	"$root/bench/callgrind_media.c" "$build/libcallbot_lib.a" $(pkg-config --libs libre librem libsrtp2 speexdsp libsodium libcrypto libssl sqlite3 jansson libmicrohttpd libcurl libpq pocketsphinx espeak-ng) -lm -lpthread
out=$(mktemp -d /tmp/callbot-callgrind-XXXXXX)
trap 'rm -rf "$out"' EXIT
count() { # NAME FUNCTION ITERATIONS DIVISOR
	valgrind --tool=callgrind --callgrind-out-file="$out/$1.cg" --toggle-collect="$2" \
		"$build/callgrind_media" "$1" "$3" >"$out/$1.txt" 2>"$out/$1.log" ||
		{ cat "$out/$1.txt" "$out/$1.log" >&2; exit 1; }
	sed 's/^/  /' "$out/$1.txt" >&2
	ir=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$out/$1.log")
	[ -n "$ir" ] || { echo "no callgrind total for $1" >&2; exit 1; }
	echo "$ir $4" | awk -v n="$5" '{ printf "callgrind %s %d\n", n, $1 / $2 }'
}
count rtp run_rtp 5000 10000 rtp_packet_ir
count vad run_vad 5000 5000 vad_frame_ir
