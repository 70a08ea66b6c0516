#!/usr/bin/env bash
# sip_dial.sh - `callbot dial` (the built-in test caller) against a serve with the
# embedded AI stack: it plays a human recording after the greeting; the bot's stored
# turns show what it heard and its rules answer; dial prints a latency line and exits 0.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cat > "$WORK/test.rules" <<'RULES'
[forward]
match: go forward ten meters
reply: Moving forward ten meters now.
[fallback]
reply: Sorry, I did not get that.
RULES
cb_start BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="Hi there." \
	VAD_SILENCE_MS=500
# dial's own side: its RTP ports must not be serve's (same .env)
DIAL_RTP=$(free_port 10)
timeout 120 env RTP_PORTS="$DIAL_RTP-$((DIAL_RTP + 9))" "$CALLBOT" --config "$WORK/.env" dial \
	"sip:callbot@127.0.0.1:$SIP_PORT" --wav "$TESTS_DIR/data/speech/goforward.wav" \
	--record "$WORK/dial.wav" >"$WORK/dial.out" 2>&1 || die "dial failed: $(cat "$WORK/dial.out")"
cat "$WORK/dial.out" >&2
grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$WORK/dial.out" && die "sanitizer report from dial"
lat=$(sed -n 's/^turn 1: said .* | latency \([0-9]*\) ms$/\1/p' "$WORK/dial.out")
[ -n "$lat" ] || die "no latency line for turn 1"
# end of our audio -> first loud packet: at least the bot's endpointing, under 3 s here
[ "$lat" -ge 300 ] && [ "$lat" -lt 3000 ] || die "implausible latency $lat ms"
cb_stop

turn() {
	"$PY" - "$WORK/callbot.db" "$(sed -n 's/^ENCRYPTION_KEY=//p' "$WORK/.env")" "$1" <<'PYEOF'
import sqlite3, sys
from cryptography.fernet import Fernet
db, key, seq = sys.argv[1], sys.argv[2], int(sys.argv[3])
row = sqlite3.connect(db).execute("SELECT role, text FROM turns WHERE seq=?", (seq,)).fetchone()
print("%s:%s" % (row[0], Fernet(key).decrypt(row[1].encode()).decode()) if row else "none")
PYEOF
}
turns="$(turn 0) / $(turn 1) / $(turn 2)"
log "turns: $turns"
[ "$(turn 1)" = "caller:go forward ten meters" ] || die "the bot did not hear the caller: $turns"
[ "$(turn 2)" = "bot:Moving forward ten meters now." ] || die "no rules answer: $turns"
resp=$(sql "SELECT response_ms FROM turns WHERE seq=2")
log "bot's response_ms $resp, dial's latency $lat ms"
# dial measures later (network, jitter buffer) than the bot's first TTS audio
[ "$lat" -ge "$resp" ] || die "dial's latency $lat < stored response_ms $resp"
# the recording: stereo 8 kHz, about as long as the call
"$PY" - "$WORK/dial.wav" <<'PYEOF' || die "bad --record file"
import sys, wave
w = wave.open(sys.argv[1])
s = w.getnframes() / w.getframerate()
print("recording: %d ch, %d Hz, %.1f s" % (w.getnchannels(), w.getframerate(), s))
sys.exit(0 if w.getnchannels() == 2 and w.getframerate() == 8000 and s > 3 else 1)
PYEOF
[ "$(sql "SELECT count(*) FROM calls WHERE status='completed'")" = 1 ] || die "call row: $(sql 'SELECT * FROM calls')"
log "ok: sip_dial"
