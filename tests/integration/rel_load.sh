#!/usr/bin/env bash
# rel_load.sh - correctness under load, on the sanitizer build: 50 concurrent echo calls
# streaming audio for 15 s. Every call is answered and ended by the caller's BYE, every
# call row is complete, callbot sent RTP to every caller, and it exits cleanly (no leak).
# Timings are not asserted (machines are noisy): bench/sip_bench.sh measures them.
source "$(dirname "$0")/sip/lib.sh"

N=50
DUR=15
cb_init
caller_audio
RTP_BASE=$(free_port 1)
[ "$RTP_BASE" -lt $((60000 - 4 * N)) ] || RTP_BASE=20000
CB_ENV+=(RTP_PORTS="$RTP_BASE-$((RTP_BASE + 4 * N + 40))" MAX_CALLS=$((N + 5)))
cb_start
sed -e 's|rtp_stream="caller.ulaw,1,0"|rtp_stream="caller.ulaw,-1,0"|' \
	-e '/dtmf_2833/,+0d' "$SIPDIR/uac_call.xml" > "$WORK/load.xml"
capture_start "$WORK/load.pcap" "udp and src portrange $RTP_BASE-$((RTP_BASE + 4 * N + 40))"
(cd "$WORK" && timeout $((DUR + 120)) sipp -i 127.0.0.1 -nostdin -sf "$WORK/load.xml" \
	-p "$(free_port 1)" -mp "$((RTP_BASE + 4 * N + 100))" -d $((DUR * 1000)) -l "$N" -m "$N" \
	-r 25 -rp 1000 -timeout $((DUR + 90)) "127.0.0.1:$SIP_PORT" > "$WORK/load.out" 2>&1) ||
	die "sipp reported failed calls: $(grep -E 'Successful call|Failed call' "$WORK/load.out" | tail -2)"
capture_stop
cb_stop

ok=$(sql "SELECT count(*) FROM calls WHERE status='completed' AND end_reason='caller_bye' AND answered_at IS NOT NULL AND ended_at IS NOT NULL")
[ "$ok" = "$N" ] || die "only $ok of $N calls completed: $(sql 'SELECT status, end_reason, count(*) FROM calls GROUP BY 1, 2')"
streams=$(tshark -r "$WORK/load.pcap" -T fields -e udp.srcport 2>/dev/null | sort -u | wc -l)
[ "$streams" -ge "$N" ] || die "RTP from callbot reached only $streams of $N callers"
grep -q "ERROR" "$WORK/logs/callbot.log" && die "errors logged under load: $(grep ERROR "$WORK/logs/callbot.log" | head -3)"
log "ok: $N concurrent calls, all completed, $streams RTP streams"
