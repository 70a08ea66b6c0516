#!/usr/bin/env bash
# sip_call.sh - sipp calls callbot (BOT_MODE=echo) over UDP and then TCP:
# 180 + 200 with valid SDP, RTP both ways with steady 20 ms spacing, RFC 4733
# DTMF reaches the call, BYE from the caller ends it, the call row is complete
# and the recording is a 0600 stereo WAV (encrypted at rest) with the echo on the right channel.
source "$(dirname "$0")/sip/lib.sh"

cb_init
caller_audio
cb_start
MEDIA_PORT=$(free_port 2)

capture_start "$WORK/udp.pcap" "udp and host 127.0.0.1 and (port $MEDIA_PORT or portrange $RTP_BASE-$((RTP_BASE + 39)))"
sipp_run udp -sf "$SIPDIR/uac_call.xml" -p "$(free_port 1)" -mp "$MEDIA_PORT" -m 1 -d 4000 \
	"127.0.0.1:$SIP_PORT" || die "sipp UDP call failed: $(tail -5 "$WORK/udp.out"; cat "$WORK/udp.err" 2>/dev/null)"
capture_stop

# Which local RTP port did callbot use? The only other port in the capture.
BOT_PORT=$(tshark -r "$WORK/udp.pcap" -Y "udp.dstport==$MEDIA_PORT" -T fields -e udp.srcport 2>/dev/null | sort -u | head -1)
[ -n "$BOT_PORT" ] || die "callbot sent no RTP to the caller"
TO_BOT=$(rtp_count "$WORK/udp.pcap" "$MEDIA_PORT" "$BOT_PORT")
FROM_BOT=$(rtp_count "$WORK/udp.pcap" "$BOT_PORT" "$MEDIA_PORT")
log "RTP caller->bot $TO_BOT, bot->caller $FROM_BOT"
[ "$TO_BOT" -ge 150 ] || die "too few RTP packets to callbot: $TO_BOT"
[ "$FROM_BOT" -ge 200 ] || die "too few RTP packets from callbot: $FROM_BOT"
read -r n mn mx mean < <(rtp_intervals "$WORK/udp.pcap" "$BOT_PORT" "$MEDIA_PORT")
log "callbot send spacing: n=$n min=$mn max=$mx mean=$mean ms"
awk -v m="$mean" -v a="$mn" -v b="$mx" 'BEGIN { exit !(m > 19.8 && m < 20.2 && a > 10 && b < 30) }' ||
	die "outgoing RTP spacing is not a steady 20 ms (min $mn max $mx mean $mean)"
# Payload type 0 (PCMU, first in the offer) and one SSRC.
PTS=$(tshark -r "$WORK/udp.pcap" -d "udp.port==$MEDIA_PORT,rtp" -Y "udp.srcport==$BOT_PORT" -T fields -e rtp.p_type -e rtp.ssrc 2>/dev/null | sort -u)
[ "$(echo "$PTS" | wc -l)" -eq 1 ] && [ "$(echo "$PTS" | cut -f1)" = 0 ] || die "unexpected RTP from callbot: $PTS"

# Echo delay: each caller packet's payload comes back in a later packet.
tshark -r "$WORK/udp.pcap" -d "udp.port==$MEDIA_PORT,rtp" -d "udp.port==$BOT_PORT,rtp" -Y rtp \
	-T fields -e frame.time_epoch -e udp.srcport -e rtp.payload 2>/dev/null >"$WORK/rtp.txt"
"$PY" - "$WORK/rtp.txt" "$MEDIA_PORT" <<'PYEOF' || die "echo delay check failed"
import sys
caller = sys.argv[2]
sent, back = [], {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3:
        continue
    t, port = float(f[0]), f[1]
    b = bytes.fromhex(f[2].replace(":", ""))
    # mu-law 0x7f (-0) comes back as 0xff (+0) after decoding and encoding
    pl = b.replace(b"\x7f", b"\xff")
    if port == caller:
        sent.append((t, pl))
    else:
        back.setdefault(pl, []).append(t)
delays = []
for t, pl in sent:
    if len(set(pl)) < 8:  # silence-like payloads repeat: skip them
        continue
    later = [u for u in back.get(pl, []) if u > t]
    if later:
        delays.append((later[0] - t) * 1000)
delays.sort()
assert len(delays) > 100, "only %d echoed packets found" % len(delays)
med = delays[len(delays) // 2]
p95 = delays[int(len(delays) * 0.95)]
print("echo delay: %d packets, median %.1f ms, p95 %.1f ms" % (len(delays), med, p95))
assert med <= 60 and p95 <= 80, "echo delay too long"
PYEOF

wait_for "$WORK/logs/callbot.log" "DTMF 5" 5 || die "RFC 4733 DTMF 5 did not reach the call"
wait_for "$WORK/logs/callbot.log" "call 1: ended \(completed, caller_bye\)" 5 || die "call 1 did not end by the caller's BYE"

# TCP: the same call over a TCP connection.
sipp_run tcp -sf "$SIPDIR/uac_call.xml" -t t1 -p "$(free_port 1)" -mp "$MEDIA_PORT" -m 1 -d 2000 \
	"127.0.0.1:$SIP_PORT" || die "sipp TCP call failed: $(tail -5 "$WORK/tcp.out"; cat "$WORK/tcp.err" 2>/dev/null)"
wait_for "$WORK/logs/callbot.log" "call 2: ended \(completed, caller_bye\)" 5 || die "TCP call did not end by BYE"
# The media clock pauses while there is no call: it must start again for the second one.
tx2=$(sed -n 's/.*call 2: ended .*rtp rx [0-9]* tx \([0-9]*\) .*/\1/p' "$WORK/logs/callbot.log")
[ "${tx2:-0}" -ge 50 ] || die "the second call sent ${tx2:-no} RTP packets (media clock not restarted?)"

cb_stop

# Call rows: both complete.
ROWS=$(sql "select caller, callee, status, end_reason, sip_call_id != '', started_at != '', answered_at != '', ended_at != '', recording_path from calls order by id")
log "rows: $ROWS"
[ "$(echo "$ROWS" | wc -l)" -eq 2 ] || die "expected 2 call rows"
echo "$ROWS" | while IFS='|' read -r caller callee status reason cid st an en rec; do
	[ "$caller" = alice ] && [ "$callee" = bot ] || die "caller/callee wrong: $caller/$callee"
	[ "$status" = completed ] && [ "$reason" = caller_bye ] || die "status/end_reason wrong: $status/$reason"
	[ "$cid$st$an$en" = 1111 ] || die "row has unset columns"
	[ -f "$rec" ] || die "recording missing: $rec"
	[ "$(stat -c %a "$rec")" = 600 ] || die "recording mode is not 0600"
done
REC=$(sql "select recording_path from calls where id = 1")
# ENCRYPTION_KEY is set by init: the file on disk is encrypted; callbot decrypt reads it.
head -c 4 "$REC" | grep -q RIFF && die "recording stored in clear although ENCRYPTION_KEY is set"
"$CALLBOT" --config "$WORK/.env" decrypt "$REC" >"$WORK/rec.wav" || die "cannot decrypt $REC"
REC=$WORK/rec.wav
"$PY" - "$REC" <<'PYEOF' || die "recording check failed"
import sys, wave, struct
w = wave.open(sys.argv[1])
assert w.getnchannels() == 2 and w.getframerate() == 8000 and w.getsampwidth() == 2, w.getparams()
n = w.getnframes()
assert n > 8000 * 3, n
data = struct.unpack("<%dh" % (2 * n), w.readframes(n))
left = sum(abs(x) for x in data[0::2]) / n
right = sum(abs(x) for x in data[1::2]) / n
print("recording: %.1f s, mean |caller| %.0f, mean |bot| %.0f" % (n / 8000, left, right))
assert left > 200 and right > 200, "a channel is silent"
PYEOF
log "PASS"
