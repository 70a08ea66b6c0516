#!/usr/bin/env bash
# bench/load.sh - load figures for docs/reliability.md ("Figures"). Use a Release build:
#   CALLBOT=path/to/callbot (default build/callbot, from scripts/build.sh release).
# Needs sipp, sox, espeak-ng, sqlite3, curl (tshark for mix). Everything on 127.0.0.1.
#
#   bench/load.sh mix [TOTAL]         the suite's rel_load_mix.sh at full size (default 400:
#                                     half normal, a sixth each CANCELed / RTP stopping /
#                                     vanishing; each caller ramps to 10 calls/s)
#   bench/load.sh ramp [START STEP MAX]  calls/s accepted: 10 s at each rate (default 10,
#                                     10, 200), 2 s calls; stops at the first step with a
#                                     failed call and prints the last clean rate
#   bench/load.sh hold [N [SECONDS]]  N concurrent echo calls (default 200, 30 s): all
#                                     answered and held?, callbot's RSS idle and at peak,
#                                     RSS per call (for packet loss and CPU: sip_bench.sh)
#   bench/load.sh crash               kill -9 during a call: time until callbot serves again
#                                     after a restart, and the row closed as crash
#   bench/load.sh reg [DOWN]          the registrar (sipp) is killed: time until callbot sees
#                                     the registration fail, then (DOWN s later, default 0)
#                                     the registrar returns: time until registered again
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export TESTS_DIR=${TESTS_DIR:-$HERE/../tests}
export CALLBOT=${CALLBOT:-$HERE/../build/callbot}
MODE=${1:-mix}
[ $# -gt 0 ] && shift

if [ "$MODE" = mix ]; then
	total=${1:-400}
	export LOAD_NORMAL=$((total / 2)) LOAD_CANCEL=$((total / 6)) LOAD_RTPSTOP=$((total / 6))
	export LOAD_VANISH=$((total - total / 2 - 2 * (total / 6))) LOAD_RATE_MAX=${LOAD_RATE_MAX:-10}
	export LOAD_TALK_MS=${LOAD_TALK_MS:-20000}
	exec bash "$TESTS_DIR/integration/rel_load_mix.sh"
fi

source "$TESTS_DIR/integration/sip/lib.sh"
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$CB_PID/status"; }
now_ms() { date +%s%3N; }

cb_init
caller_audio
CB_ENV=("${CB_ENV[@]/RTP_PORTS=*/RTP_PORTS=20000-59999}")
CB_ENV+=(MAX_CALLS=5000 RECORD_CALLS=off TRUSTED_PROXIES=127.0.0.1/32)
MP=$(free_port 1) # sipp's media ports (crash); ramp and hold use 10000-19999, below callbot's

case "$MODE" in
ramp)
	rate=${1:-10} step=${2:-10} max=${3:-200} good=0 MP=10000
	cb_start
	while [ "$rate" -le "$max" ]; do
		n=$((rate * 10))
		(cd "$WORK" && timeout 120 sipp -i 127.0.0.1 -nostdin -sf "$SIPDIR/load_normal.xml" \
			-p "$(free_port 1)" -mp "$MP" -d 2000 -r "$rate" -m "$n" -l $((n + 10)) -timeout 90 \
			"127.0.0.1:$SIP_PORT" >"$WORK/ramp-$rate.out" 2>&1) || true
		ok=$(grep -E "Successful call" "$WORK/ramp-$rate.out" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}')
		failed=$(grep -E "Failed call" "$WORK/ramp-$rate.out" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}')
		log "rate $rate calls/s: $ok ok, $failed failed of $n (RSS $(rss_kb) kB)"
		[ "${failed:-1}" = 0 ] && [ "${ok:-0}" = "$n" ] || break
		good=$rate
		rate=$((rate + step))
		MP=$(( MP == 10000 ? 15000 : 10000 ))
		sleep 3 # let the last calls end
	done
	cb_stop
	echo "calls/s accepted without a failure: $good (2 s echo calls, 10 s per step)"
	;;
hold)
	n=${1:-200} dur=${2:-30} peak=0 MP=10000
	cb_start
	sleep 1
	idle=$(rss_kb)
	(cd "$WORK" && timeout $((dur + 180)) sipp -i 127.0.0.1 -nostdin -sf "$SIPDIR/load_normal.xml" \
		-p "$(free_port 1)" -mp "$MP" -d $((dur * 1000)) -r 50 -m "$n" -l "$n" -timeout $((dur + 150)) \
		"127.0.0.1:$SIP_PORT" >"$WORK/hold.out" 2>&1) &
	SIPP=$!
	PIDS+=("$SIPP")
	held=0
	while kill -0 "$SIPP" 2>/dev/null; do
		r=$(rss_kb)
		[ "$r" -gt "$peak" ] && peak=$r
		# from the log: /metrics' callbot_calls_active stops at 200
		a=$(( $(grep -c ": INVITE from" "$WORK/logs/callbot.log" || true) - $(grep -c ": ended (" "$WORK/logs/callbot.log" || true) ))
		[ "${a:-0}" -gt "$held" ] && held=$a
		sleep 1
	done
	wait "$SIPP" || true
	ok=$(grep -E "Successful call" "$WORK/hold.out" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}')
	cb_stop
	echo "calls: $n placed, $ok completed, at most $held active at once"
	echo "RSS: idle $idle kB, peak $peak kB, $(( (peak - idle) / (held > 0 ? held : 1) )) kB per active call"
	;;
crash)
	cb_start
	sipp_run crash -sf "$SIPDIR/load_normal.xml" -p "$(free_port 1)" -mp "$MP" -m 1 -d 20000 \
		"127.0.0.1:$SIP_PORT" >/dev/null 2>&1 &
	PIDS+=($!)
	wait_for "$WORK/logs/callbot.log" "call 1: media" 10 || die "the call did not start"
	sleep 1
	t0=$(now_ms)
	kill -KILL "$CB_PID"
	wait "$CB_PID" 2>/dev/null || true
	mark=$(log_mark)
	env "${CB_ENV[@]}" "$CALLBOT" --config "$WORK/.env" serve >"$WORK/serve2.out" 2>&1 &
	CB_PID=$!
	wait_log "$mark" "sip: listening on" 30 || die "no restart"
	t1=$(now_ms)
	code=
	for _ in $(seq 1 100); do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/health" || true)
		[ "$code" = 200 ] && break
		sleep 0.05
	done
	t2=$(now_ms)
	sipp_run after -sf "$SIPDIR/load_normal.xml" -p "$(free_port 1)" -mp $((MP + 100)) -m 1 -d 500 \
		"127.0.0.1:$SIP_PORT" || die "no call after the restart"
	t3=$(now_ms)
	cb_stop
	echo "kill -9 -> SIP listening again: $((t1 - t0)) ms; /api/health 200: $((t2 - t0)) ms;" \
		"a new call answered and completed: $((t3 - t0)) ms (includes the 0.5 s ring and 0.5 s talk)"
	echo "row of the killed call: $(sql "SELECT status || '/' || end_reason FROM calls WHERE id = 1")"
	tail -n +"$((mark + 1))" "$WORK/logs/callbot.log" | grep -m1 "left open by a crash" || true
	;;
reg)
	down=${1:-0}
	rport=$(free_port 1)
	registrar() { # sipp itself in the background, so that killing REG_PID kills it
		sipp -i 127.0.0.1 -nostdin -sf "$SIPDIR/load_registrar.xml" -p "$rport" -m 1 \
			>>"$WORK/registrar.out" 2>&1 &
		REG_PID=$!
		PIDS+=("$REG_PID")
	}
	registrar
	sleep 0.5
	cb_start SIP_SERVER="127.0.0.1:$rport" SIP_USERNAME=alice SIP_PASSWORD=x
	wait_for "$WORK/logs/callbot.log" "sip: registered to" 10 || die "not registered"
	sleep 1
	mark=$(log_mark)
	tl=$(now_ms)
	kill -KILL "$REG_PID"
	wait "$REG_PID" 2>/dev/null || true
	wait_log "$mark" "registration to .* failed" 120 || die "the loss was not noticed"
	tf=$(now_ms)
	log "registration failed $((tf - tl)) ms after the registrar vanished"
	sleep "$down"
	mark=$(log_mark)
	t0=$(now_ms)
	registrar
	wait_log "$mark" "sip: registered to" 240 || die "not registered again"
	t1=$(now_ms)
	h=$(curl -s -m 5 "http://127.0.0.1:$WEB_PORT/api/health")
	cb_stop
	echo "registrar lost: failure seen after $((tf - tl)) ms; back $down s later:" \
		"registered again $((t1 - t0)) ms after it returned"
	echo "health: $h"
	grep -E "registration to|REGISTER to" "$WORK/logs/callbot.log" | head -6
	;;
*)
	die "unknown mode '$MODE' (mix, ramp, hold, crash, reg)"
	;;
esac
