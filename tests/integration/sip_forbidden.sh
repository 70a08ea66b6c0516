#!/usr/bin/env bash
# sip_forbidden.sh - SIP_ALLOW_FROM excludes 127.0.0.1: the INVITE gets 403 and
# callbot.log has a SECURITY line fail2ban can match; OPTIONS still works.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cb_start SIP_ALLOW_FROM=10.0.0.0/8,192.168.0.0/16
SCN=$(reject_scenario 403 "m=audio [media_port] RTP/AVP 0" "a=rtpmap:0 PCMU/8000")
sipp_run forbidden -sf "$SCN" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 "127.0.0.1:$SIP_PORT" ||
	die "no 403: $(tail -5 "$WORK/forbidden.out"; cat "$WORK/forbidden.err" 2>/dev/null)"
grep -E "SECURITY: sip_source_rejected - INVITE from 127\.0\.0\.1:[0-9]+ is not in SIP_ALLOW_FROM - [0-9T:.-]+Z" \
	"$WORK/logs/callbot.log" || die "no SECURITY line"
cb_stop
[ "$(sql "select count(*) from calls")" = 0 ] || die "a refused call must not be stored"
log "PASS"
