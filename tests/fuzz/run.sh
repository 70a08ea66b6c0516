#!/usr/bin/env bash
# run.sh - builds the libFuzzer harnesses (clang, ASan+UBSan, separate build dir) and runs
# each one for a bounded time: first every file of tests/fuzz/regressions/<target>/ (known
# crashers must stay fixed), then fuzzing from tests/fuzz/corpus/<target>/.
# Usage: run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]   (exit 1 on any crash or leak)
# SHARD=I/N runs only every N-th target starting at the I-th (1-based, in name order), so
# ctest can run the shards in parallel on one build dir (the build is serialised by a lock).
# Used by tests/integration/rel_fuzz_*.sh (short) and bench/fuzz.sh (long).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
SECS=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
FUZZ="$SRC/tests/fuzz"
log() { echo "[$(date +%T)] $*" >&2; }

command -v clang >/dev/null || { log "FAIL: clang is not installed (scripts/packages/test-rel.list)"; exit 1; }
mkdir -p "$BUILD"
# Shards share the build: one configures and builds, the other waits for it.
exec 9>"$BUILD/.build.lock"
flock 9
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	CC=clang cmake -S "$SRC" -B "$BUILD" -DCALLBOT_FUZZ=ON -DCALLBOT_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=Debug >"$BUILD/configure.log" 2>&1 ||
		{ tail -20 "$BUILD/configure.log" >&2; log "FAIL: configure"; exit 1; }
fi
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
	for f in "$FUZZ"/fuzz_*.c; do
		t=$(basename "$f" .c)
		TARGETS+=("${t#fuzz_}")
	done
fi
if [ -n "${SHARD:-}" ]; then
	shard_i=${SHARD%/*} shard_n=${SHARD#*/}
	mine=()
	for k in "${!TARGETS[@]}"; do
		[ $((k % shard_n)) -eq $((shard_i - 1)) ] && mine+=("${TARGETS[$k]}")
	done
	TARGETS=("${mine[@]}")
fi
log "building ${#TARGETS[@]} harnesses in $BUILD"
timeout 1200 cmake --build "$BUILD" -j2 --target "${TARGETS[@]/#/fuzz_}" >"$BUILD/build.log" 2>&1 ||
	{ grep -E "error|undefined" "$BUILD/build.log" | head -20 >&2; log "FAIL: build"; exit 1; }
flock -u 9

fail=0
for t in "${TARGETS[@]}"; do
	bin="$BUILD/fuzz_$t"
	work="$BUILD/run/$t"
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	# known crashers first: each must now run cleanly
	if [ -d "$FUZZ/regressions/$t" ] && ls "$FUZZ/regressions/$t"/* >/dev/null 2>&1; then
		if ! timeout 60 "$bin" -runs=1 "$FUZZ/regressions/$t"/* >"$work/regressions.log" 2>&1; then
			grep -E "ERROR|SUMMARY|Running:" "$work/regressions.log" | head -8 >&2
			log "FAIL: $t: a regression input still crashes (log: $work/regressions.log)"
			fail=1
			continue
		fi
	fi
	seeds=()
	[ -d "$FUZZ/corpus/$t" ] && seeds=("$FUZZ/corpus/$t")
	if timeout $((SECS + 60)) "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
		"$work/corpus" "${seeds[@]}" >"$work/fuzz.log" 2>&1; then
		log "ok: $t ($(grep -Eo '^Done [0-9]+ runs' "$work/fuzz.log" | head -1 | cut -d' ' -f2) runs in ${SECS}s)"
	else
		grep -E "ERROR|SUMMARY|#[0-9]+ 0x.* in |Test unit written" "$work/fuzz.log" | head -12 >&2
		log "FAIL: $t: crash or leak; input saved in $work/artifacts/ (add it to tests/fuzz/regressions/$t/ once fixed)"
		fail=1
	fi
done
exit $fail
