#!/usr/bin/env bash
# sip_transfer.sh - blind transfer with SIP REFER (RFC 3515) to TRANSFER_TARGET.
# 1. A caller asks for "an operator" (spoken, recognised by pocketsphinx with the rules'
#    grammar); the bot answers, sends REFER to sip:200@<the caller's host>, the caller's
#    side answers 202 and NOTIFYs 100 then 200 (sipfrag): the bot hangs up its leg and the
#    call row ends 'transferred' with a role='tool' turn recording the accepted transfer.
# 2. A caller presses 0; its PBX refuses REFER with 405: the call stays with the bot, which
#    apologises; the refusal is recorded and the caller ends the call normally.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cat > "$WORK/test.rules" <<'RULES'
[person]
match: operator | real person | dtmf 0
reply: Let me connect you.
action: transfer
[fallback]
reply: Sorry, I did not get that.
RULES
espeak-ng -s 150 -w "$WORK/ask.wav" "I would like to talk to an operator please." 2>/dev/null
sox "$WORK/ask.wav" -r 8000 -c 1 -t ul "$WORK/caller.ulaw"
cb_start BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="Hi." \
	TRANSFER_TARGET=200 ENCRYPTION_KEY=

turns_of() { sql "SELECT role || ':' || text FROM turns WHERE call_id = $1 ORDER BY seq"; }

# --- 1: accepted
sipp_run accept -sf "$SIPDIR/uac_refer_accept.xml" -p "$(free_port 1)" -mp "$(free_port 2)" \
	-m 1 "127.0.0.1:$SIP_PORT" ||
	die "accepted transfer: sipp failed: $(tail -5 "$WORK/accept.out"; cat "$WORK/accept.err" 2>/dev/null | tail -20)"
wait_for "$WORK/logs/callbot.log" "call 1: ended" 10 || die "call 1 did not end"
row=$(sql "SELECT status || '/' || end_reason FROM calls WHERE id = 1")
[ "$row" = "completed/transferred" ] || die "call 1 row: $row (want completed/transferred)"
t1=$(turns_of 1)
log "call 1 turns: $(echo "$t1" | tr '\n' '/')"
echo "$t1" | grep -qx "caller:.*operator.*" || die "the request for an operator was not heard"
echo "$t1" | grep -qx "tool:transfer to 200: accepted (200)" || die "no tool turn for the accepted transfer"
grep -q "REFER to sip:200@127.0.0.1" "$WORK/logs/callbot.log" || die "REFER target not logged as expected"
grep -q "transfer progress: 100 Trying" "$WORK/logs/callbot.log" || die "NOTIFY 100 not followed"

# --- 2: refused with 405
sipp_run refuse -sf "$SIPDIR/uac_refer_refuse.xml" -p "$(free_port 1)" -mp "$(free_port 2)" \
	-m 1 "127.0.0.1:$SIP_PORT" ||
	die "refused transfer: sipp failed: $(tail -5 "$WORK/refuse.out"; cat "$WORK/refuse.err" 2>/dev/null | tail -20)"
wait_for "$WORK/logs/callbot.log" "call 2: ended" 10 || die "call 2 did not end"
row=$(sql "SELECT status || '/' || end_reason FROM calls WHERE id = 2")
[ "$row" = "completed/caller_bye" ] || die "call 2 row: $row (want completed/caller_bye)"
t2=$(turns_of 2)
log "call 2 turns: $(echo "$t2" | tr '\n' '/')"
echo "$t2" | grep -qx "caller:dtmf 0" || die "the key press did not reach the dialogue"
echo "$t2" | grep -qx "tool:transfer to 200: refused (405)" || die "no tool turn for the refused transfer"
echo "$t2" | grep -q "^bot:I'm sorry, I could not connect you" || die "the bot did not say the transfer failed"
cb_stop
log "ok: sip_transfer"
