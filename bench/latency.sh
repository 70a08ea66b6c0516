#!/usr/bin/env bash
# latency.sh - the bot's response time over real SIP/RTP, measured two ways: the stored
# turns' response_ms (end of caller speech as the bot's VAD saw it -> first TTS audio
# queued) and `callbot dial`'s own figure (end of the caller's audio as sent -> first
# loud packet of the reply received, so it adds the network, the jitter buffers and
# the 20 ms clock). TURNS turns (a human recording, "go forward ten meters") in one call.
#
# usage: bench/latency.sh [TURNS [MODE...]]     (default 30, modes embedded fake stream)
#   embedded  pocketsphinx + rules + espeak-ng (the shipped stack)
#   fake      STT_BACKEND=http against tests/mock/fake_stt_server.py and LLM_BACKEND=openai
#             against tests/mock/fake_llm_server.py answering at once (0 ms): callbot's
#             own overhead around remote engines
#   stream    the fake LLM streaming 20 tokens/s, a short (2 tokens) and a long (24 tokens,
#             3 sentences) reply in turn: time to first audio must not grow with length
#   CALLBOT=path/to/callbot (default build-rel/callbot: use a Release build)
# Prints a readable summary and lines "latency MODE KEY VALUE" for bench/run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TURNS=${1:-30}
export TESTS_DIR=${TESTS_DIR:-$HERE/../tests}
export CALLBOT=${CALLBOT:-$HERE/../build-rel/callbot}
SILENCE=${VAD_SILENCE_MS:-500}

if [ "${LATENCY_MODE:-}" = "" ]; then
	shift || true
	modes=("$@")
	[ ${#modes[@]} -gt 0 ] || modes=(embedded fake stream)
	for m in "${modes[@]}"; do
		LATENCY_MODE=$m bash "$0" "$TURNS"
	done
	exit 0
fi

source "$TESTS_DIR/integration/sip/lib.sh"
cb_init
cat >"$WORK/bench.rules" <<'RULES'
[forward]
match: go forward ten meters
reply: Okay, moving.
[fallback]
reply: Sorry?
RULES
EXTRA=(RULES_FILE="$WORK/bench.rules")
if [ "$LATENCY_MODE" != embedded ]; then
	if [ "$LATENCY_MODE" = stream ]; then
		long="Sure thing. The robot will now move forward ten meters along the corridor."
		long+=" It stops at the door and waits there for you."
		export FAKE_LLM_DELAY=0.05 FAKE_LLM_REPLIES="Sure thing.|$long"
	else
		export FAKE_LLM_DELAY=0 FAKE_LLM_REPLIES="Okay, moving."
	fi
	"$PY" "$TESTS_DIR/mock/fake_llm_server.py" "$WORK/llm.port" >"$WORK/llm.out" 2>&1 &
	PIDS+=("$!")
	"$PY" "$TESTS_DIR/mock/fake_stt_server.py" --lifetime 900 >"$WORK/stt.out" 2>&1 &
	PIDS+=("$!")
	wait_for "$WORK/llm.port" "[0-9]" 10 || die "fake LLM server did not start"
	wait_for "$WORK/stt.out" "^PORT [0-9]+" 10 || die "fake STT server did not start"
	EXTRA=(LLM_BACKEND=openai OPENAI_BASE_URL="http://127.0.0.1:$(cat "$WORK/llm.port")/v1"
		OPENAI_API_KEY=bench OPENAI_MODEL=fake STT_BACKEND=http
		STT_URL="http://127.0.0.1:$(awk '/^PORT/ {print $2}' "$WORK/stt.out")" STT_MODEL=fake)
fi
cb_start BOT_MODE=ai CONSENT_MODE=off GREETING="Hi." RECORD_CALLS=off VAD_SILENCE_MS="$SILENCE" \
	"${EXTRA[@]}"
args=()
for _ in $(seq 1 "$TURNS"); do args+=(--wav "$TESTS_DIR/data/speech/goforward.wav"); done
DIAL_RTP=$(free_port 10)
timeout $((60 + TURNS * 20)) env RTP_PORTS="$DIAL_RTP-$((DIAL_RTP + 9))" "$CALLBOT" --config "$WORK/.env" \
	dial "sip:callbot@127.0.0.1:$SIP_PORT" "${args[@]}" >"$WORK/dial.out" 2>&1 || log "dial: some turns got no reply"
cb_stop
# Turn number and latency, then the stored figures in turn order.
sed -n 's/^turn \([0-9]*\): .* | latency \([0-9]*\) ms$/\1 \2/p' "$WORK/dial.out" >"$WORK/dial.ms"
sql "SELECT response_ms FROM turns WHERE role='bot' AND response_ms >= 0 ORDER BY id" >"$WORK/stored.ms"
sql "SELECT stt_ms FROM turns WHERE role='caller' AND stt_ms >= 0 ORDER BY id" >"$WORK/stt.ms"
sql "SELECT llm_ms FROM turns WHERE role='bot' AND llm_ms >= 0 ORDER BY id" >"$WORK/llm.ms"
sql "SELECT tts_ms FROM turns WHERE role='bot' AND tts_ms >= 0 ORDER BY id" >"$WORK/tts.ms"
"$PY" - "$LATENCY_MODE" "$TURNS" "$WORK" "$SILENCE" <<'PYEOF'
import math, sys
mode, turns, work, silence = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def load(name, col=0):
    return [int(l.split()[col]) for l in open("%s/%s" % (work, name)) if l.strip()]
def pct(v, p):
    v = sorted(v)  # nearest rank
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] if v else -1
dial = load("dial.ms", 1)
print("== %s: %d turns requested, %d answered" % (mode, turns, len(dial)))
print("latency %s turns %d" % (mode, len(dial)))
rows = [("stored response_ms", "stored", load("stored.ms")), ("dial latency_ms   ", "dial", dial),
        ("stt_ms (caller)   ", "stt", load("stt.ms")), ("llm_ms (bot)      ", "llm", load("llm.ms")),
        ("tts_ms (bot)      ", "tts", load("tts.ms"))]
if mode == "stream":
    # Odd turns got the short reply, even turns the long one.
    turn = load("dial.ms", 0)
    stored = load("stored.ms")
    rows += [("dial, short reply ", "dial_short", [l for t, l in zip(turn, dial) if t % 2]),
             ("dial, long reply  ", "dial_long", [l for t, l in zip(turn, dial) if t % 2 == 0]),
             ("stored, short     ", "stored_short", stored[0::2]),
             ("stored, long      ", "stored_long", stored[1::2])]
for label, key, v in rows:
    print("%s n=%3d  p50=%5d  p95=%5d  min=%5d  max=%5d" % (label, len(v), pct(v, 50), pct(v, 95),
          min(v) if v else -1, max(v) if v else -1))
    print("latency %s %s_p50 %d" % (mode, key, pct(v, 50)))
    print("latency %s %s_p95 %d" % (mode, key, pct(v, 95)))
PYEOF
