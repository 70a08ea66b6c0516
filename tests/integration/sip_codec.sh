#!/usr/bin/env bash
# sip_codec.sh - 488 Not Acceptable Here for an offer with only G.729, and with
# SRTP=required for a plain RTP offer (plus a SECURITY line).
source "$(dirname "$0")/sip/lib.sh"

cb_init
cb_start
SCN=$(reject_scenario 488 "m=audio [media_port] RTP/AVP 18" "a=rtpmap:18 G729/8000")
sipp_run g729 -sf "$SCN" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "G.729-only offer did not get 488: $(tail -5 "$WORK/g729.out"; cat "$WORK/g729.err" 2>/dev/null)"
grep -q "refused: 488 No common codec" "$WORK/logs/callbot.log" || die "no 488 log line"
cb_stop

cb_start SRTP=required
sipp_run plain -sf "$SCN" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "G.729 with SRTP=required did not get 488"
SCN=$(reject_scenario 488 "m=audio [media_port] RTP/AVP 0" "a=rtpmap:0 PCMU/8000")
sipp_run plainpcmu -sf "$SCN" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "plain RTP offer with SRTP=required did not get 488"
grep -q "SECURITY: srtp_refused - plain RTP offer from 127.0.0.1" "$WORK/logs/callbot.log" ||
	die "no SECURITY srtp_refused line"
cb_stop
[ "$(sql "select count(*) from calls")" = 0 ] || die "refused calls must not be stored"
log "PASS"
