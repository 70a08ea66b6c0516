#!/usr/bin/env bash
# sip_timer.sh - session timers (RFC 4028): a Session-Expires below 90 s gets
# 422 with Min-SE: 90; 120 s is accepted with the caller as refresher
# (Session-Expires: 120;refresher=uac, Require: timer) and a refreshing
# re-INVITE is answered 200.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cb_start
SCN=$(reject_scenario 422 "m=audio [media_port] RTP/AVP 0" "a=rtpmap:0 PCMU/8000" "Session-Expires: 30")
sed -i 's|<recv response="422"/>|<recv response="422"><action><ereg regexp="Min-SE: 90" search_in="msg" check_it="true" assign_to="m"/></action></recv><Reference variables="m"/>|' "$SCN"
sipp_run small -sf "$SCN" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "Session-Expires 30 did not get 422 + Min-SE: $(tail -5 "$WORK/small.out"; cat "$WORK/small.err" 2>/dev/null)"
sipp_run timer -sf "$SIPDIR/uac_timer.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "session timer call failed: $(tail -5 "$WORK/timer.out"; cat "$WORK/timer.err" 2>/dev/null)"
wait_for "$WORK/logs/callbot.log" "call [0-9]+: ended \(completed, caller_bye\)" 5 || die "timer call did not end normally"
cb_stop
log "PASS"
