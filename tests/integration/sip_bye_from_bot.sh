#!/usr/bin/env bash
# sip_bye_from_bot.sh - callbot ends calls itself: at MAX_CALL_SECONDS (BYE to
# the caller, row end_reason max_duration), on SIGTERM (BYE, then exit 0) and when the
# caller's RTP stops for RTP_TIMEOUT seconds (a caller that vanished without BYE).
# The caller prefers PCMA: the answer must keep its order.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cb_start MAX_CALL_SECONDS=10
T0=$(date +%s%N)
sipp_run maxdur -sf "$SIPDIR/uac_wait_bye.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	"127.0.0.1:$SIP_PORT" || die "sipp did not get a BYE at MAX_CALL_SECONDS: $(tail -5 "$WORK/maxdur.out"; cat "$WORK/maxdur.err" 2>/dev/null)"
MS=$((($(date +%s%N) - T0) / 1000000))
log "call lasted $MS ms (ring 0.5 s + MAX_CALL_SECONDS=10)"
[ "$MS" -ge 10300 ] && [ "$MS" -le 12500 ] || die "BYE not at MAX_CALL_SECONDS (after $MS ms)"
wait_for "$WORK/logs/callbot.log" "call 1: ended \(completed, max_duration\)" 5 || die "no max_duration end logged"
wait_for "$WORK/logs/callbot.log" "call 1: media .* PCMA" 1 || die "PCMA (caller's first choice) not used"
cb_stop

# Shutdown with a call up: the caller gets a BYE, callbot exits 0.
MARK=$(log_mark)
cb_start MAX_CALL_SECONDS=600
sipp_run shutdown -sf "$SIPDIR/uac_wait_bye.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	"127.0.0.1:$SIP_PORT" &
SIPP=$!
PIDS+=("$SIPP")
wait_log "$MARK" "call 1: media" 10 || die "second call not set up"
sleep 1
cb_stop
wait "$SIPP" || die "caller got no BYE at shutdown: $(tail -5 "$WORK/shutdown.out"; cat "$WORK/shutdown.err" 2>/dev/null)"
ROWS=$(sql "select id, status, end_reason, ended_at != '' from calls order by id")
log "rows: $ROWS"
[ "$ROWS" = "1|completed|max_duration|1
2|completed|shutdown|1" ] || die "unexpected call rows"

# A caller that sends no RTP at all: RTP_TIMEOUT=2 ends the call in about 2-3 s.
cb_start MAX_CALL_SECONDS=600 RTP_TIMEOUT=2
T0=$(date +%s%N)
sipp_run rtpto -sf "$SIPDIR/uac_wait_bye.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	"127.0.0.1:$SIP_PORT" || die "no BYE after RTP_TIMEOUT: $(tail -5 "$WORK/rtpto.out")"
MS=$((($(date +%s%N) - T0) / 1000000))
log "silent call lasted $MS ms (ring 0.5 s + RTP_TIMEOUT=2)"
wait_for "$WORK/logs/callbot.log" "call [0-9]+: ended \(completed, rtp_timeout\)" 5 || die "no rtp_timeout end logged"
cb_stop
[ "$(sql "select end_reason from calls where id = 3")" = rtp_timeout ] || die "row 3 not rtp_timeout"
log "PASS"
