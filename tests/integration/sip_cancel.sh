#!/usr/bin/env bash
# sip_cancel.sh - CANCEL while callbot rings: 200 for the CANCEL, 487 for the
# INVITE, no answer, and the call row says missed / caller_cancel.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cb_start
sipp_run cancel -sf "$SIPDIR/uac_cancel.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	"127.0.0.1:$SIP_PORT" || die "CANCEL flow failed: $(tail -5 "$WORK/cancel.out"; cat "$WORK/cancel.err" 2>/dev/null)"
wait_for "$WORK/logs/callbot.log" "call 1: ended \(missed, caller_cancel\)" 5 || die "cancel not logged"
sleep 1 # past the ring time: a late answer would show now
cb_stop
ROW=$(sql "select status, end_reason, answered_at is null, ended_at != '' from calls")
[ "$ROW" = "missed|caller_cancel|1|1" ] || die "unexpected row: $ROW"
log "PASS"
