#!/usr/bin/env bash
# media.sh - one media capacity step: sipp places N concurrent PCMU 20 ms calls that
# stream speech both ways into SERVER (callbot in echo mode, or baresip with its echo
# module), all on 127.0.0.1. In a steady window of WINDOW s (every call up) it samples
# the server's CPU (/proc/PID/stat, all threads) and RSS, the kernel's per-socket drops
# on the server's RTP sockets (/proc/net/udp: packets the server did not read in time),
# and captures the server's outgoing RTP (dumpcap, headers only) to measure loss (RTP
# sequence gaps) and the send interval jitter |interval - 20 ms|.
#
# usage: bench/media.sh callbot|baresip N [WINDOW]      (WINDOW default 10)
#   CALLBOT=path/to/callbot (a Release build). Needs sipp, tshark, sox, espeak-ng, baresip.
#   BENCH_KEEP=file: keep the capture there.
# Prints one line: "media SERVER n N ok OK held H cpu_pct C rss_kb R drops D loss_pct L
#   late L2 jit_p50 J jit_p99 J2 packets P" (OK 1 = every call answered, held and ended).
set -euo pipefail
SERVER=$1
N=$2
WIN=${3:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
export TESTS_DIR=${TESTS_DIR:-$HERE/../tests}
export CALLBOT=${CALLBOT:-$HERE/../build-rel/callbot}
source "$TESTS_DIR/integration/sip/lib.sh"

RAMP=$(((N + 99) / 100)) # sipp opens 100 calls/s
TALK=$((RAMP + 3 + WIN + 2))
NPORTS=$((4 * N + 40))
caller_audio

start_callbot() {
	cb_init
	RTP_BASE=$(free_port 1)
	[ "$RTP_BASE" -lt $((60000 - NPORTS)) ] || RTP_BASE=20000
	CB_ENV+=(RTP_PORTS="$RTP_BASE-$((RTP_BASE + NPORTS))" MAX_CALLS=$((N + 10)) RECORD_CALLS=off
		LOG_LEVEL=info)
	cb_start
	SRV_PID=$CB_PID
}

start_baresip() {
	local dir=$WORK/baresip
	mkdir -p "$dir"
	SIP_PORT=$(free_port 1)
	RTP_BASE=$(free_port 1)
	[ "$RTP_BASE" -lt $((60000 - NPORTS)) ] || RTP_BASE=20000
	# echo.so answers every call and bridges its decoded audio back to its encoder
	# through aubridge (one device per call): decode + jitter buffer + encode, as callbot.
	cat >"$dir/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$SIP_PORT
call_max_calls		$((N + 10))
audio_player		aubridge,nowhere
audio_source		aubridge,nowhere
audio_alert		aubridge,nowhere
rtp_ports		$RTP_BASE-$((RTP_BASE + NPORTS))
module_path		/usr/lib/baresip/modules
module			g711.so
module			aubridge.so
module_app		account.so
module_app		echo.so
CFG
	echo "<sip:bot@127.0.0.1>;regint=0;audio_codecs=PCMU" >"$dir/accounts"
	touch "$dir/contacts"
	(cd "$dir" && exec baresip -f "$dir" -n 127.0.0.1 >"$dir/out" 2>&1) &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	wait_for "$dir/out" "baresip is ready" 10 || die "baresip did not start: $(tail -5 "$dir/out")"
}

# Before the server starts, so both servers may hold thousands of sockets.
ulimit -n 65536 2>/dev/null || true
case "$SERVER" in
callbot) start_callbot ;;
baresip) start_baresip ;;
*) die "server must be callbot or baresip" ;;
esac

# The caller: loops its speech for TALK s, no DTMF; 180 optional (baresip answers at once).
sed -e 's|rtp_stream="caller.ulaw,1,0"|rtp_stream="caller.ulaw,-1,0"|' -e '/dtmf_2833/,+0d' \
	-e 's|<recv response="180"/>|<recv response="180" optional="true"/>|' \
	-e 's|regexp="m=audio \[0-9\]+ RTP/AVP 0( 8)? 101"|regexp="m=audio [0-9]+ RTP/AVP 0"|' \
	"$SIPDIR/uac_call.xml" >"$WORK/bench.xml"
SIPP_MP=$((RTP_BASE + NPORTS + 100))
[ "$SIPP_MP" -lt $((65000 - NPORTS)) ] || SIPP_MP=10000
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$SRV_PID/status")
(cd "$WORK" && exec timeout $((TALK + 60)) sipp -i 127.0.0.1 -nostdin -sf "$WORK/bench.xml" \
	-p "$(free_port 1)" -mp "$SIPP_MP" -d $((TALK * 1000)) -l "$N" -m "$N" -r 100 -rp 1000 \
	-timeout $((TALK + 40)) -max_socket $((N + 100)) "127.0.0.1:$SIP_PORT" >"$WORK/sipp.out" 2>&1) &
SIPP_PID=$!
PIDS+=("$SIPP_PID")
sleep $((RAMP + 3))

# Steady window.
PCAP=$WORK/out.pcap
# From the server's RTP ports to sipp's: loopback also carries other programs' traffic.
timeout $((WIN + 30)) dumpcap -q -P -i lo -s 64 \
	-f "udp and src portrange $RTP_BASE-$((RTP_BASE + NPORTS)) and dst portrange $SIPP_MP-$((SIPP_MP + NPORTS))" \
	-w "$PCAP" >"$WORK/dumpcap.log" 2>&1 &
CAP=$!
PIDS+=("$CAP")
sleep 0.5
hz=$(getconf CLK_TCK)
udp_drops() {
	# Drops (last field of /proc/net/udp) of the server's own sockets, matched by inode:
	# other programs on this machine may use ports in the same range.
	"$PY" -c 'import os, sys
fds = "/proc/%s/fd" % sys.argv[1]
mine = set()
for n in os.listdir(fds):
    try:
        t = os.readlink(os.path.join(fds, n))
    except OSError:
        continue
    if t.startswith("socket:["):
        mine.add(t[8:-1])
d = 0
for line in list(open("/proc/net/udp"))[1:]:
    f = line.split()
    if f[9] in mine:
        d += int(f[-1])
print(d)' "$SRV_PID"
}
d0=$(udp_drops)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$SRV_PID/stat")
t0=$(date +%s.%N)
sleep "$((WIN / 2))"
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$SRV_PID/status")
sleep "$((WIN - WIN / 2))"
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$SRV_PID/stat")
t1=$(date +%s.%N)
d1=$(udp_drops)
kill -INT "$CAP" 2>/dev/null || true
wait "$CAP" 2>/dev/null || true
cpu=$(awk -v a="$u0" -v b="$s0" -v c="$u1" -v d="$s1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
	'BEGIN { printf "%.2f", 100 * ((c + d) - (a + b)) / hz / (t1 - t0) }')
wait "$SIPP_PID" 2>/dev/null || log "sipp reported failures"
ok_calls=$(sed -n 's/^ *Successful call *| *[0-9]* *| *\([0-9]*\).*/\1/p' "$WORK/sipp.out" | tail -1)
[ -n "$ok_calls" ] || ok_calls=0
if [ "$SERVER" = callbot ]; then cb_stop; else kill "$SRV_PID" 2>/dev/null || true; fi
[ -z "${BENCH_KEEP:-}" ] || cp "$PCAP" "$BENCH_KEEP"
"$PY" "$HERE/rtp_stats.py" "$PCAP" "$((WIN * 50))" >"$WORK/rtp.txt"
read -r streams held packets loss late p50 p99 <"$WORK/rtp.txt"
ok=0
[ "$ok_calls" -eq "$N" ] && [ "$held" -eq "$N" ] && ok=1
echo "media $SERVER n $N ok $ok answered_ended $ok_calls held $held cpu_pct $cpu" \
	"rss_kb $((rss1 - rss0)) drops $((d1 - d0)) loss_pct $loss late $late jit_p50 $p50 jit_p99 $p99" \
	"packets $packets"
