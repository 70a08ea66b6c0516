#!/usr/bin/env bash
# sip_ai_dtmf.sh - a key press reaches the dialogue: sipp speaks, then sends RFC 4733
# DTMF 5; the rules answer "dtmf 5" and both turns are stored.
source "$(dirname "$0")/sip/lib.sh"

cb_init
caller_audio
cat > "$WORK/test.rules" <<'RULES'
[five]
match: dtmf 5
reply: You pressed five.
[fallback]
reply: Okay.
RULES
cb_start BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="Hi." BARGE_IN=off
sipp_run dtmf -sf "$SIPDIR/uac_call.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 5000 \
	"127.0.0.1:$SIP_PORT" || die "sipp call failed: $(tail -5 "$WORK/dtmf.out")"
sleep 1
cb_stop
KEY=$(sed -n 's/^ENCRYPTION_KEY=//p' "$WORK/.env")
turns=$("$PY" - "$WORK/callbot.db" "$KEY" <<'PYEOF'
import sqlite3, sys
from cryptography.fernet import Fernet
f = Fernet(sys.argv[2])
for role, text in sqlite3.connect(sys.argv[1]).execute("SELECT role, text FROM turns ORDER BY seq"):
    print("%s:%s" % (role, f.decrypt(text.encode()).decode()))
PYEOF
)
log "turns: $(echo "$turns" | tr '\n' '/')"
echo "$turns" | grep -qx "caller:dtmf 5" || die "the key press did not reach the dialogue"
echo "$turns" | grep -A1 -x "caller:dtmf 5" | grep -qx "bot:You pressed five." || die "no answer to the key press"
log "ok: sip_ai_dtmf"
