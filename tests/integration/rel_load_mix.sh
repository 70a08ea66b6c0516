#!/usr/bin/env bash
# rel_load_mix.sh - a mixed load on the sanitizer build, four sipp callers at once, each
# ramping its call rate: calls that end normally (caller's BYE), calls CANCELed while
# ringing, calls whose RTP stops mid-call (the caller stays and answers callbot's BYE) and
# callers that vanish (no BYE, no RTP, no answer). RTP_TIMEOUT=3 must end the last two.
# Asserts every row's final state, no call left open or active, no ERROR line, a normal
# call still works afterwards, and a clean exit. bench/load.sh runs the same at full size.
source "$(dirname "$0")/sip/lib.sh"

NORMAL=${LOAD_NORMAL:-16} CANCEL=${LOAD_CANCEL:-8} RTPSTOP=${LOAD_RTPSTOP:-8} VANISH=${LOAD_VANISH:-8}
TALK_MS=${LOAD_TALK_MS:-8000} # normal calls' length; the others speak caller.ulaw once
RATE_MAX=${LOAD_RATE_MAX:-4}  # calls/s per caller at the top of the ramp (1, 2, ... per s)
TOTAL=$((NORMAL + CANCEL + RTPSTOP + VANISH))

cb_init
caller_audio
RTP_BASE=$(free_port 1)
[ "$RTP_BASE" -lt $((58000 - 4 * TOTAL - 2000)) ] || RTP_BASE=20000
CB_ENV+=(RTP_PORTS="$RTP_BASE-$((RTP_BASE + 4 * TOTAL + 40))" MAX_CALLS=$((TOTAL + 5))
	RTP_TIMEOUT=3 TRUSTED_PROXIES=127.0.0.1/32 RECORD_CALLS=off)
cb_start
MP=$((RTP_BASE + 4 * TOTAL + 100)) # sipp's media ports: 400 per caller, above callbot's

# caller NAME SCENARIO CALLS [sipp args]: one ramping sipp caller in the background.
caller() {
	local name=$1 sf=$2 n=$3
	shift 3
	(cd "$WORK" && timeout 240 sipp -i 127.0.0.1 -nostdin -sf "$sf" -p "$(free_port 1)" -mp "$MP" \
		-m "$n" -l "$n" -r 1 -rate_increase 1 -rate_interval 1 -rate_max "$RATE_MAX" -no_rate_quit \
		-timeout 200 -trace_err -error_file "$WORK/$name.err" "$@" "127.0.0.1:$SIP_PORT" \
		>"$WORK/$name.out" 2>&1) &
	PIDS+=($!)
	eval "PID_$name=$!"
	MP=$((MP + 400))
}
caller normal "$SIPDIR/load_normal.xml" "$NORMAL" -d "$TALK_MS"
caller cancel "$SIPDIR/uac_cancel.xml" "$CANCEL"
caller rtpstop "$SIPDIR/load_rtpstop.xml" "$RTPSTOP"
caller vanish "$SIPDIR/load_vanish.xml" "$VANISH" -d 2000
log "$TOTAL calls: $NORMAL normal, $CANCEL cancelled, $RTPSTOP with RTP stopping, $VANISH vanishing"
for name in normal cancel rtpstop vanish; do
	pid=PID_$name
	wait "${!pid}" || die "sipp '$name' reported failed calls: $(grep -E 'Successful call|Failed call' "$WORK/$name.out" | tail -2; head -5 "$WORK/$name.err" 2>/dev/null)"
done

# The vanished callers' calls end RTP_TIMEOUT after their last packet.
open=
for _ in $(seq 1 300); do
	open=$(sql "SELECT count(*) FROM calls WHERE ended_at IS NULL OR ended_at = ''")
	[ "$open" = 0 ] && break
	sleep 0.1
done
[ "$open" = 0 ] || die "$open call rows still open: $(sql 'SELECT status, end_reason, count(*) FROM calls GROUP BY 1, 2')"
active=
for _ in $(seq 1 50); do
	active=$(curl -s -m 5 "http://127.0.0.1:$WEB_PORT/metrics" | awk '$1 == "callbot_calls_active" { print $2 }')
	[ "$active" = 0 ] && break
	sleep 0.2
done
[ "$active" = 0 ] || die "callbot still counts $active active calls"
health=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/health")
[ "$health" = 200 ] || die "/api/health answered $health"

# Still serving: one ordinary call.
sipp_run final -sf "$SIPDIR/uac_call.xml" -p "$(free_port 1)" -mp "$MP" -m 1 -d 1000 \
	"127.0.0.1:$SIP_PORT" || die "a normal call after the load failed: $(tail -5 "$WORK/final.out")"
sleep 0.5
cb_stop

rows=$(sql "SELECT status || '/' || end_reason, count(*) FROM calls GROUP BY 1 ORDER BY 1")
log "rows: $(tr '\n' ' ' <<<"$rows")"
count() { sql "SELECT count(*) FROM calls WHERE status = '$1' AND end_reason = '$2' AND ended_at IS NOT NULL"; }
[ "$(count completed caller_bye)" = $((NORMAL + 1)) ] || die "normal calls: expected $((NORMAL + 1)) completed/caller_bye"
[ "$(count missed caller_cancel)" = "$CANCEL" ] || die "expected $CANCEL missed/caller_cancel"
[ "$(count completed rtp_timeout)" = $((RTPSTOP + VANISH)) ] ||
	die "expected $((RTPSTOP + VANISH)) calls ended by RTP_TIMEOUT"
[ "$(sql 'SELECT count(*) FROM calls')" = $((TOTAL + 1)) ] || die "unexpected extra call rows"
[ "$(sql "SELECT count(*) FROM calls WHERE end_reason = 'caller_bye' AND answered_at IS NULL")" = 0 ] ||
	die "a completed call has no answer time"
if grep -q "ERROR" "$WORK/logs/callbot.log"; then
	die "errors logged under load: $(grep ERROR "$WORK/logs/callbot.log" | head -3)"
fi
log "ok: $TOTAL mixed calls, every row in its final state, none left active"
