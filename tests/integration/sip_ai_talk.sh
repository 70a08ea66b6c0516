#!/usr/bin/env bash
# sip_ai_talk.sh - the whole conversation over real SIP/RTP with the embedded stack:
# a caller (sipp, a human recording) speaks after the greeting; pocketsphinx hears it,
# the rules answer, espeak speaks; the turns are stored with their timings, and the
# bot's answer is audible in its RTP after the caller stopped.
source "$(dirname "$0")/sip/lib.sh"

cb_init
# A recording of a person (pocketsphinx-testdata), through 8 kHz, plus silence around it.
sox "$TESTS_DIR/data/speech/goforward.wav" -r 8000 -c 1 -t ul "$WORK/speech.ulaw"
sox -n -r 8000 -c 1 -t ul "$WORK/pad.ulaw" trim 0 0.3
cat "$WORK/pad.ulaw" "$WORK/speech.ulaw" "$WORK/pad.ulaw" > "$WORK/caller.ulaw"
cat > "$WORK/test.rules" <<'RULES'
[forward]
match: go forward ten meters
reply: Moving forward ten meters now.
[fallback]
reply: Sorry, I did not get that.
RULES
cb_start BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="Hi there." \
	VAD_SILENCE_MS=500
# A greeting changed on the dashboard after start applies to the next call.
sql "INSERT INTO settings(key, value, updated_at, updated_by) VALUES('GREETING', 'Hello from the dashboard.', '2026-01-01T00:00:00.000Z', 'admin')"
MEDIA_PORT=$(free_port 2)
capture_start "$WORK/talk.pcap" "udp and host 127.0.0.1 and (port $MEDIA_PORT or portrange $RTP_BASE-$((RTP_BASE + 39)))"
sipp_run talk -sf "$SIPDIR/uac_talk.xml" -p "$(free_port 1)" -mp "$MEDIA_PORT" -m 1 \
	-d 6000 "127.0.0.1:$SIP_PORT" || die "sipp call failed: $(tail -5 "$WORK/talk.out")"
capture_stop
cb_stop

# The turns, in order (text is stored encrypted: read it with the .env's key, as Python would).
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
[ "$(turn 0)" = "bot:Hello from the dashboard." ] || die "no (dashboard) greeting turn: $turns"
[ "$(turn 1)" = "caller:go forward ten meters" ] || die "the caller's words were not recognised: $turns"
[ "$(turn 2)" = "bot:Moving forward ten meters now." ] || die "no rules answer: $turns"
read -r stt llm tts resp < <(sql "SELECT t1.stt_ms, t2.llm_ms, t2.tts_ms, t2.response_ms FROM turns t1, turns t2 WHERE t1.seq=1 AND t2.seq=2" | tr '|' ' ')
log "stt ${stt} ms, llm ${llm} ms, tts ${tts} ms, response ${resp} ms"
[ "$stt" -ge 0 ] && [ "$llm" -ge 0 ] && [ "$tts" -ge 0 ] || die "timings missing"
# response = end of speech -> first bot audio: at least the endpointing silence, and
# well under two seconds on any machine (a correctness bound, not a benchmark).
[ "$resp" -ge 400 ] && [ "$resp" -lt 2500 ] || die "implausible response_ms $resp"
[ "$(sql "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL AND status='completed'")" = 1 ] ||
	die "call row not completed: $(sql 'SELECT * FROM calls')"

# In the RTP: after the caller's last loud packet, the bot sends a loud stretch (its answer).
BOT_PORT=$(tshark -r "$WORK/talk.pcap" -Y "udp.dstport==$MEDIA_PORT" -T fields -e udp.srcport 2>/dev/null | sort -u | head -1)
[ -n "$BOT_PORT" ] || die "no RTP from callbot"
tshark -r "$WORK/talk.pcap" -d "udp.port==$MEDIA_PORT,rtp" -d "udp.port==$BOT_PORT,rtp" -Y rtp \
	-T fields -e frame.time_epoch -e udp.srcport -e rtp.payload 2>/dev/null > "$WORK/rtp.txt"
"$PY" - "$WORK/rtp.txt" "$MEDIA_PORT" <<'PYEOF' || die "no audible answer after the caller spoke"
import sys, audioop
caller = sys.argv[2]
last_caller_loud, bot = 0.0, []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3:
        continue
    t, port = float(f[0]), f[1]
    pcm = audioop.ulaw2lin(bytes.fromhex(f[2].replace(":", "")), 2)
    loud = audioop.rms(pcm, 2) > 300
    if port == caller:
        if loud:
            last_caller_loud = t
    else:
        bot.append((t, loud))
after = [l for t, l in bot if t > last_caller_loud]
loud_after = sum(after)
print("bot packets after the caller stopped: %d, loud: %d" % (len(after), loud_after))
sys.exit(0 if loud_after >= 50 else 1)
PYEOF
log "ok: sip_ai_talk"
