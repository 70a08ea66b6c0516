#!/usr/bin/env bash
# sip_prompt.sh - BOT_MODE=prompt: GREETING is synthesised at start (espeak-ng
# through src/tts, 8 kHz) and played to the caller in a loop; the recording's
# bot channel carries it. Also: a hold re-INVITE (sendonly) stops callbot's
# RTP and is answered recvonly; unhold resumes it.
source "$(dirname "$0")/sip/lib.sh"

cb_init
caller_audio
cb_start BOT_MODE=prompt GREETING="Hello, this is the callbot prompt test."
grep -q "prompt bot: greeting synthesised" "$WORK/logs/callbot.log" || die "greeting not synthesised"
MEDIA_PORT=$(free_port 2)
capture_start "$WORK/hold.pcap" "udp and host 127.0.0.1 and port $MEDIA_PORT"
sipp_run hold -sf "$SIPDIR/uac_hold.xml" -p "$(free_port 1)" -mp "$MEDIA_PORT" -m 1 \
	"127.0.0.1:$SIP_PORT" || die "hold scenario failed: $(tail -5 "$WORK/hold.out"; cat "$WORK/hold.err" 2>/dev/null)"
capture_stop
cb_stop
# Callbot's packets over time: sent before hold (0-2 s), none on hold (2-4 s), again after.
tshark -r "$WORK/hold.pcap" -Y "udp.dstport==$MEDIA_PORT" -T fields -e frame.time_epoch 2>/dev/null >"$WORK/times.txt"
grep -o "hold at [0-9.]*\|unhold at [0-9.]*" "$WORK/hold.out" >&2 || true
"$PY" - "$WORK/times.txt" <<'PYEOF' || die "hold did not pause callbot's RTP"
import sys
t = [float(x) for x in open(sys.argv[1]) if x.strip()]
assert len(t) > 100, len(t)
gaps = sorted(((b - a), a) for a, b in zip(t, t[1:]))
big = gaps[-1][0]
print("%d packets, longest pause %.2f s" % (len(t), big))
assert 1.5 <= big <= 3.5, "expected one ~2 s pause while on hold"
assert sum(1 for g, _ in gaps if g > 0.5) == 1
PYEOF
REC=$(sql "select recording_path from calls where id = 1")
# ENCRYPTION_KEY is set by init: the file on disk is encrypted; callbot decrypt reads it.
head -c 4 "$REC" | grep -q RIFF && die "recording stored in clear although ENCRYPTION_KEY is set"
"$CALLBOT" --config "$WORK/.env" decrypt "$REC" >"$WORK/rec.wav" || die "cannot decrypt $REC"
REC=$WORK/rec.wav
"$PY" - "$REC" <<'PYEOF' || die "greeting not heard in the recording"
import struct, sys, wave
w = wave.open(sys.argv[1])
n = w.getnframes()
d = struct.unpack("<%dh" % (2 * n), w.readframes(n))
bot = d[1::2]
first = bot[:8000]  # the greeting starts right after the answer
level = sum(abs(x) for x in first) / len(first)
print("bot level in the first second: %.0f" % level)
assert level > 300
PYEOF
log "PASS"
