#!/usr/bin/env bash
# ai_calls.sh - K concurrent full AI calls (pocketsphinx + rules + espeak-ng) into one
# callbot: K `callbot dial` callers, each speaking TURNS turns (a human recording), started
# a few hundred ms apart so their turns do not stay in lockstep. A warm-up round of K
# one-turn calls comes first: the recogniser builds a decoder per concurrent call on first
# need (about a second each, src/stt/pocketsphinx.c), so the measured round shows the
# steady state; the warm-up's answered count is reported as warm_answered (cold start).
#
# usage: bench/ai_calls.sh K [TURNS]        (TURNS default 5)
#   CALLBOT=path/to/callbot (a Release build); BENCH_KEEP=dir: keep the work dir there.
# Prints "aicalls k K turns N answered A dial_p50 X dial_p95 Y stored_p50 Z stored_p95 W
# cpu_pct C warm_answered H": dial = end of the caller's audio -> first reply audio heard, stored =
# callbot's response_ms (end of speech by its VAD -> first TTS audio queued).
set -euo pipefail
K=$1
TURNS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
export TESTS_DIR=${TESTS_DIR:-$HERE/../tests}
export CALLBOT=${CALLBOT:-$HERE/../build-rel/callbot}
SILENCE=${VAD_SILENCE_MS:-500}
source "$TESTS_DIR/integration/sip/lib.sh"

cb_init
cat >"$WORK/bench.rules" <<'RULES'
[forward]
match: go forward ten meters
reply: Okay, moving.
[fallback]
reply: Sorry?
RULES
cb_start BOT_MODE=ai CONSENT_MODE=off GREETING="Hi." RECORD_CALLS=off VAD_SILENCE_MS="$SILENCE" \
	RULES_FILE="$WORK/bench.rules" MAX_CALLS=$((K + 4))
# round NAME TURNS: K concurrent dials, outputs in $WORK/NAME-<i>.out.
round() {
	local name=$1 turns=$2 args=() dials=()
	for _ in $(seq 1 "$turns"); do args+=(--wav "$TESTS_DIR/data/speech/goforward.wav"); done
	for i in $(seq 1 "$K"); do
		rtp=$(free_port 10)
		timeout $((60 + turns * 20)) env RTP_PORTS="$rtp-$((rtp + 9))" "$CALLBOT" --config "$WORK/.env" \
			dial "sip:callbot@127.0.0.1:$SIP_PORT" "${args[@]}" >"$WORK/$name-$i.out" 2>&1 &
		dials+=("$!")
		PIDS+=("$!")
		sleep 0.$((RANDOM % 5 + 2))
	done
	for p in "${dials[@]}"; do wait "$p" || log "$name dial $p: some turns got no reply"; done
}
round warm 1
warm=$(cat "$WORK"/warm-*.out | grep -c "^turn [0-9]*: .* | latency" || true)
sql "DELETE FROM turns"
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$CB_PID/stat")
t0=$(date +%s.%N)
round dial "$TURNS"
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$CB_PID/stat")
t1=$(date +%s.%N)
cb_stop
[ -z "${BENCH_KEEP:-}" ] || cp -r "$WORK" "$BENCH_KEEP"
cpu=$(awk -v a="$u0" -v b="$s0" -v c="$u1" -v d="$s1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
	'BEGIN { printf "%.1f", 100 * ((c + d) - (a + b)) / hz / (t1 - t0) }')
cat "$WORK"/dial-*.out | sed -n 's/^turn [0-9]*: .* | latency \([0-9]*\) ms$/\1/p' >"$WORK/dial.ms"
sql "SELECT response_ms FROM turns WHERE role='bot' AND response_ms >= 0" >"$WORK/stored.ms"
"$PY" - "$K" "$TURNS" "$WORK" "$cpu" "$warm" <<'PYEOF'
import math, sys
k, turns, work, cpu, warm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def load(name):
    return sorted(int(l) for l in open("%s/%s" % (work, name)) if l.strip())
def pct(v, p):
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] if v else -1
dial, stored = load("dial.ms"), load("stored.ms")
print("aicalls k %d turns %d answered %d dial_p50 %d dial_p95 %d stored_p50 %d stored_p95 %d cpu_pct %s"
      " warm_answered %s" % (k, k * turns, len(dial), pct(dial, 50), pct(dial, 95), pct(stored, 50),
                             pct(stored, 95), cpu, warm))
PYEOF
