#!/usr/bin/env bash
# sip_malformed.sh - hostile SIP (garbage, truncated headers, huge
# Content-Length, missing headers, bad SDP, fuzzed datagrams, TCP flood) never
# crashes callbot: each gets 400 (or the specific 4xx) or is dropped, and the
# ASan build exits 0 with no sanitizer report at SIGTERM.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cb_start
"$PY" "$SIPDIR/torture.py" "$SIP_PORT" >"$WORK/torture.out" 2>&1 || { cat "$WORK/torture.out" >&2; die "torture cases failed"; }
cat "$WORK/torture.out" >&2
kill -0 "$CB_PID" || die "callbot died"
# Nothing broken: a real call still works.
caller_audio
sipp_run after -sf "$SIPDIR/uac_call.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 1000 \
	"127.0.0.1:$SIP_PORT" || die "call after the torture failed"
cb_stop
# Fuzzed INVITEs that stayed valid may have become calls; the real one is complete.
[ "$(sql "select count(*) from calls where caller = 'alice' and status = 'completed' and end_reason = 'caller_bye'")" = 1 ] ||
	die "the real call's row is not complete"
log "PASS"
