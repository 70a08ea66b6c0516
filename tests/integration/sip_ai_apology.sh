#!/usr/bin/env bash
# sip_ai_apology.sh - the LLM backend fails (HTTP 500, then garbage): the caller hears the
# apology, the turn is stored, and the call goes on until the caller hangs up.
source "$(dirname "$0")/sip/lib.sh"

sox "$TESTS_DIR/data/speech/goforward.wav" -r 8000 -c 1 -t ul "$WORK/speech.ulaw"
sox -n -r 8000 -c 1 -t ul "$WORK/pad.ulaw" trim 0 0.3
cat "$WORK/pad.ulaw" "$WORK/speech.ulaw" "$WORK/pad.ulaw" > "$WORK/caller.ulaw"
KEYFILE=$WORK/.env
for mode in 500 garbage; do
	rm -rf "$WORK/logs" "$WORK/callbot.db"* "$WORK/.env" "$WORK/audio_output"
	cb_init
	FAKE_LLM_MODE=$mode timeout 120 "$PY" "$TESTS_DIR/mock/fake_llm_server.py" "$WORK/llm.port" &
	PIDS+=($!)
	wait_for "$WORK/llm.port" . 10 || die "fake LLM did not start"
	cb_start BOT_MODE=ai LLM_BACKEND=ollama OLLAMA_URL="http://127.0.0.1:$(cat "$WORK/llm.port")" \
		LLM_TIMEOUT_MS=2000 CONSENT_MODE=off GREETING="Hi."
	sipp_run talk -sf "$SIPDIR/uac_talk.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
		-d 5000 "127.0.0.1:$SIP_PORT" || die "$mode: the call did not complete: $(tail -5 "$WORK/talk.out")"
	cb_stop
	kill "${PIDS[-1]}" 2>/dev/null; rm -f "$WORK/llm.port"
	turns=$("$PY" - "$WORK/callbot.db" "$(sed -n 's/^ENCRYPTION_KEY=//p' "$KEYFILE")" <<'PYEOF'
import sqlite3, sys
from cryptography.fernet import Fernet
f = Fernet(sys.argv[2])
for role, text, resp in sqlite3.connect(sys.argv[1]).execute("SELECT role, text, response_ms FROM turns ORDER BY seq"):
    print("%s:%s:%s" % (role, f.decrypt(text.encode()).decode(), resp))
PYEOF
)
	log "$mode turns: $(echo "$turns" | tr '\n' '/')"
	echo "$turns" | grep -q "^bot:Sorry, I'm having trouble answering right now" ||
		die "$mode: no apology turn"
	echo "$turns" | grep "^bot:Sorry" | grep -Eq ':[0-9]+$' || die "$mode: the apology was not spoken"
	grep -q "llm: ollama unavailable" "$WORK/logs/callbot.log" || die "$mode: failure not logged"
	[ "$(sql "SELECT status || '/' || end_reason FROM calls")" = "completed/caller_bye" ] ||
		die "$mode: the call did not go on to the caller's BYE: $(sql 'SELECT status, end_reason FROM calls')"
done
log "ok: sip_ai_apology"
