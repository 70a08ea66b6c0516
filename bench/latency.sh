#!/usr/bin/env bash
# latency.sh - the bot's response time over real SIP/RTP, measured two ways: the stored
# turns' response_ms (end of caller speech as the bot's VAD saw it -> first TTS audio
# queued) and `callbot dial`'s own figure (end of the caller's audio as sent -> first
# loud packet of the reply received, so it adds the network, the jitter buffers and
# the 20 ms clock). Runs TURNS turns (a human recording, "go forward ten meters") in one
# call, twice: with the embedded stack (pocketsphinx + rules + espeak-ng) and with
# LLM_BACKEND=openai against tests/mock/fake_llm_server.py (no delay), which isolates
# callbot's own overhead from a real LLM's.
#
# usage: bench/latency.sh [TURNS]        (default 20)
#   CALLBOT=path/to/callbot (default build-rel/callbot: use a Release build)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TURNS=${1:-20}
export TESTS_DIR=${TESTS_DIR:-$HERE/../tests}
export CALLBOT=${CALLBOT:-$HERE/../build-rel/callbot}

if [ "${LATENCY_MODE:-}" = "" ]; then
	for m in embedded openai; do
		LATENCY_MODE=$m bash "$0" "$TURNS"
	done
	exit 0
fi

source "$TESTS_DIR/integration/sip/lib.sh"
cb_init
cat > "$WORK/bench.rules" <<'RULES'
[forward]
match: go forward ten meters
reply: Moving forward ten meters now.
[fallback]
reply: Sorry, I did not get that.
RULES
EXTRA=(RULES_FILE="$WORK/bench.rules")
if [ "$LATENCY_MODE" = openai ]; then
	"$PY" "$TESTS_DIR/mock/fake_llm_server.py" "$WORK/llm.port" >"$WORK/llm.out" 2>&1 &
	PIDS+=("$!")
	wait_for "$WORK/llm.port" "[0-9]" 10 || die "fake LLM server did not start"
	EXTRA=(LLM_BACKEND=openai OPENAI_BASE_URL="http://127.0.0.1:$(cat "$WORK/llm.port")/v1"
		OPENAI_API_KEY=bench OPENAI_MODEL=fake)
fi
cb_start BOT_MODE=ai CONSENT_MODE=off GREETING="Hi." RECORD_CALLS=off VAD_SILENCE_MS=500 "${EXTRA[@]}"
args=()
for _ in $(seq 1 "$TURNS"); do args+=(--wav "$TESTS_DIR/data/speech/goforward.wav"); done
DIAL_RTP=$(free_port 10)
timeout $((60 + TURNS * 20)) env RTP_PORTS="$DIAL_RTP-$((DIAL_RTP + 9))" "$CALLBOT" --config "$WORK/.env" \
	dial "sip:callbot@127.0.0.1:$SIP_PORT" "${args[@]}" >"$WORK/dial.out" 2>&1 || log "dial: some turns got no reply"
cb_stop
sed -n 's/^turn [0-9]*: .* | latency \([0-9]*\) ms$/\1/p' "$WORK/dial.out" >"$WORK/dial.ms"
sql "SELECT response_ms FROM turns WHERE role='bot' AND response_ms >= 0" >"$WORK/stored.ms"
sql "SELECT stt_ms FROM turns WHERE role='caller' AND stt_ms >= 0" >"$WORK/stt.ms"
sql "SELECT llm_ms FROM turns WHERE role='bot' AND llm_ms >= 0" >"$WORK/llm.ms"
sql "SELECT tts_ms FROM turns WHERE role='bot' AND tts_ms >= 0" >"$WORK/tts.ms"
"$PY" - "$LATENCY_MODE" "$TURNS" "$WORK" <<'PYEOF'
import sys
mode, turns, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(name):
    return sorted(int(l) for l in open("%s/%s" % (work, name)) if l.strip())
def pct(v, p):
    # nearest rank
    import math
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] if v else -1
print("== %s: %d turns requested" % (mode, turns))
for label, name in (("stored response_ms", "stored.ms"), ("dial latency_ms   ", "dial.ms"),
                    ("stt_ms (caller)   ", "stt.ms"), ("llm_ms (bot)      ", "llm.ms"),
                    ("tts_ms (bot)      ", "tts.ms")):
    v = load(name)
    print("%s n=%3d  p50=%5d  p95=%5d  min=%5d  max=%5d" % (label, len(v), pct(v, 50), pct(v, 95),
          v[0] if v else -1, v[-1] if v else -1))
PYEOF
