#!/usr/bin/env bash
# sip_ai_consent.sh - CONSENT_MODE=require: a caller who presses 1 is served and stored;
# a caller who says nothing hears a polite goodbye, the bot hangs up, and nothing personal
# is kept (no turns, no recording, no caller number).
source "$(dirname "$0")/sip/lib.sh"

decrypt_turns() {
	"$PY" - "$WORK/callbot.db" "$(sed -n 's/^ENCRYPTION_KEY=//p' "$WORK/.env")" <<'PYEOF'
import sqlite3, sys
from cryptography.fernet import Fernet
f = Fernet(sys.argv[2])
for role, text in sqlite3.connect(sys.argv[1]).execute("SELECT role, text FROM turns ORDER BY seq"):
    print("%s:%s" % (role, f.decrypt(text.encode()).decode()))
PYEOF
}

cb_init
# Caller 1: listens a moment, presses 1, stays 6 s (time for a slow machine), hangs up.
sed -e 's|<exec rtp_stream="caller.ulaw,1,0"/>|<exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"/>|' \
	-e 's|dtmf_2833_5.pcap|dtmf_2833_1.pcap|' "$SIPDIR/uac_call.xml" > "$WORK/consent_yes.xml"
cb_start BOT_MODE=ai CONSENT_MODE=require CONSENT_NOTICE="This call is recorded." GREETING="Hi."
sipp_run yes -sf "$WORK/consent_yes.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 6000 \
	"127.0.0.1:$SIP_PORT" || die "consenting call failed: $(tail -5 "$WORK/yes.out")"
sleep 0.5
[ "$(sql "SELECT consent FROM calls WHERE id=1")" = given ] || die "consent not recorded: $(sql 'SELECT * FROM calls')"
turns=$(decrypt_turns)
log "turns after consent: $(echo "$turns" | tr '\n' '/')"
echo "$turns" | grep -qx "bot:Hi." || die "no greeting after consent"
[ -n "$(sql "SELECT recording_path FROM calls WHERE id=1")" ] || die "the consenting call lost its recording"
[ "$(sql "SELECT caller FROM calls WHERE id=1")" = alice ] || die "caller number missing"

# Caller 2: says nothing; the bot asks twice (6 s each), says goodbye and hangs up.
sed 's/timeout="20000"/timeout="28000"/' "$SIPDIR/uac_wait_bye.xml" > "$WORK/consent_silent.xml"
sipp_run no -sf "$WORK/consent_silent.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	"127.0.0.1:$SIP_PORT" || die "the bot did not hang up on the silent caller: $(tail -5 "$WORK/no.out")"
sleep 1
cb_stop
row=$(sql "SELECT consent || '|' || coalesce(caller,'') || '|' || coalesce(callee,'') || '|' || coalesce(recording_path,'') || '|' || status FROM calls WHERE id=2")
log "refused call row: $row"
[ "$row" = "refused||||completed" ] || die "a refused call kept data: $row"
[ "$(sql "SELECT count(*) FROM turns WHERE call_id=2")" = 0 ] || die "turns stored without consent"
[ "$(ls "$WORK/audio_output" | wc -l)" = 1 ] || die "the refused call's recording was kept: $(ls "$WORK/audio_output")"
grep -q "no consent; the call ends" "$WORK/logs/callbot.log" || die "refusal not logged"
log "ok: sip_ai_consent"
