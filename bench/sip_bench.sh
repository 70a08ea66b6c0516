#!/usr/bin/env bash
# sip_bench.sh - N concurrent echo calls from sipp (each streaming speech both
# ways for DURATION s) against callbot on 127.0.0.1. Reports callbot's CPU,
# packet loss in both directions and the spacing of callbot's outgoing RTP.
#
# usage: bench/sip_bench.sh [N [DURATION]]      (defaults 100, 20)
#   CALLBOT=path/to/callbot (default build-rel/callbot: use a Release build;
#   ASan builds are several times slower). Needs sipp, tshark, sox, espeak-ng.
# Find the ceiling: for n in 100 200 300 400 500; do bench/sip_bench.sh $n 20; done
set -euo pipefail
N=${1:-100}
DUR=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
export TESTS_DIR=${TESTS_DIR:-$HERE/../tests}
export CALLBOT=${CALLBOT:-$HERE/../build-rel/callbot}
source "$TESTS_DIR/integration/sip/lib.sh"

cb_init
caller_audio
RTP_BASE=$(free_port 1)
[ "$RTP_BASE" -lt $((60000 - 4 * N)) ] || RTP_BASE=20000
CB_ENV+=(RTP_PORTS="$RTP_BASE-$((RTP_BASE + 4 * N + 40))" MAX_CALLS=$((N + 10)) RECORD_CALLS=off)
cb_start
SIPP_MP=$((RTP_BASE + 4 * N + 100))
# Long-running caller: the speech file loops, no DTMF.
sed -e 's|rtp_stream="caller.ulaw,1,0"|rtp_stream="caller.ulaw,-1,0"|' \
	-e '/dtmf_2833/,+0d' "$SIPDIR/uac_call.xml" >"$WORK/bench.xml"

capture_start "$WORK/bench.pcap" "udp and src portrange $RTP_BASE-$((RTP_BASE + 4 * N + 40))"
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$CB_PID/stat")
T0=$(date +%s.%N)
(cd "$WORK" && timeout $((DUR + 120)) sipp -i 127.0.0.1 -nostdin -sf "$WORK/bench.xml" -p "$(free_port 1)" \
	-mp "$SIPP_MP" -d $((DUR * 1000)) -l "$N" -m "$N" -r 50 -rp 1000 -timeout $((DUR + 90)) \
	"127.0.0.1:$SIP_PORT" >"$WORK/sipp.out" 2>&1) || log "sipp reported failures (see below)"
T1=$(date +%s.%N)
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$CB_PID/stat")
capture_stop
HZ=$(getconf CLK_TCK)
CPU=$(awk -v a="$u0" -v b="$s0" -v c="$u1" -v d="$s1" -v t0="$T0" -v t1="$T1" -v hz="$HZ" \
	'BEGIN { printf "%.1f", 100 * ((c + d) - (a + b)) / hz / (t1 - t0) }')
grep -E "Successful call|Failed call" "$WORK/sipp.out" | tail -2 | awk -F'|' '{print $1 $3}' | sed 's/  */ /g' >&2
cb_stop

# Per stream (callbot's local port): packets, sequence gaps, spacing.
tshark -r "$WORK/bench.pcap" -o rtp.heuristic_rtp:TRUE -Y rtp \
	-T fields -e udp.srcport -e frame.time_epoch -e rtp.seq 2>/dev/null >"$WORK/rtp.txt" || true
"$PY" - "$WORK/rtp.txt" "$N" "$CPU" <<'PYEOF'
import sys, statistics
streams = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 3:
        streams.setdefault(f[0], []).append((float(f[1]), int(f[2])))
n, cpu = int(sys.argv[2]), sys.argv[3]
sent = lost = 0
gaps = []
for pk in streams.values():
    pk.sort()
    seqs = [s for _, s in pk]
    span = (seqs[-1] - seqs[0]) % 65536 + 1
    sent += span
    lost += span - len(set(seqs))
    gaps += [(b[0] - a[0]) * 1000 for a, b in zip(pk, pk[1:])]
gaps.sort()
def pct(p):
    return gaps[min(len(gaps) - 1, int(len(gaps) * p))] if gaps else 0
print("calls %d (streams seen %d)  callbot CPU %s%% of one core" % (n, len(streams), cpu))
print("callbot->caller RTP: %d packets, loss %.3f %%" % (sent, 100.0 * lost / max(1, sent)))
if gaps:
    print("send spacing ms: mean %.3f  stdev %.3f  p1 %.2f  p99 %.2f  max %.2f" %
          (statistics.mean(gaps), statistics.pstdev(gaps), pct(0.01), pct(0.99), gaps[-1]))
PYEOF
# The other direction, from callbot's per-call summaries (jitter buffer counters).
grep -oE "rtp rx [0-9]+ tx [0-9]+ lost [0-9]+ late [0-9]+" "$WORK/logs/callbot.log" |
	awk '{ rx += $3; tx += $5; lost += $7; late += $9; n++ }
	     END { printf "caller->callbot RTP: %d calls, %d received, lost %d, late %d (%.3f %%)\n",
		   n, rx, lost, late, 100 * (lost + late) / (rx + lost > 0 ? rx + lost : 1) }'
