#!/usr/bin/env bash
# sip_busy.sh - MAX_CALLS=1: a second INVITE while a call is up gets 486 Busy Here.
source "$(dirname "$0")/sip/lib.sh"

cb_init
caller_audio
cb_start MAX_CALLS=1
sipp_run first -sf "$SIPDIR/uac_call.xml" -d 3000 -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	"127.0.0.1:$SIP_PORT" &
FIRST=$!
PIDS+=("$FIRST")
wait_for "$WORK/logs/callbot.log" "call 1: media" 10 || die "first call not set up"
# The dashboard sees the call (from its call row, written by the row writer).
TOKEN=$("$CALLBOT" --config "$WORK/.env" token add admin 2>/dev/null | tail -1)
for _ in $(seq 1 30); do
	ACTIVE=$(curl -s --max-time 3 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$WEB_PORT/api/active_calls" || true)
	echo "$ACTIVE" | grep -q '"caller": *"alice"' && break
	sleep 0.1
done
log "active calls: $ACTIVE"
echo "$ACTIVE" | grep -q '"caller": *"alice"' || die "/api/active_calls does not show the call"
SCN=$(reject_scenario 486 "m=audio [media_port] RTP/AVP 0" "a=rtpmap:0 PCMU/8000")
sipp_run busy -sf "$SCN" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "second call did not get 486: $(tail -5 "$WORK/busy.out"; cat "$WORK/busy.err" 2>/dev/null)"
grep -q "MAX_CALLS=1 reached" "$WORK/logs/callbot.log" || die "no MAX_CALLS log line"
wait "$FIRST" || die "first call failed"
# A slot is free again: a new call is answered.
SCN2=$(reject_scenario 200 "m=audio [media_port] RTP/AVP 0" "a=rtpmap:0 PCMU/8000")
sed -i 's|<recv response="200"/>|<recv response="180"/><recv response="200"/>|' "$SCN2"
sipp_run again -sf "$SCN2" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "call after the busy one was not answered"
cb_stop
[ "$(sql "select count(*) from calls")" = 2 ] || die "expected 2 rows (the rejected call has none)"
log "PASS"
