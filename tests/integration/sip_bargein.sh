#!/usr/bin/env bash
# sip_bargein.sh - barge-in measured on the wire. While the bot speaks a long greeting the
# caller (sipp) first makes a 150 ms "uh-huh"-like sound, which must NOT stop the bot, then
# speaks (a human recording): the bot's audio must stop within BARGE_IN_MIN_MS + 100 ms
# (+ one 20 ms packet) of the caller's first loud packet.
source "$(dirname "$0")/sip/lib.sh"

BARGE_MS=250
cb_init
cat > "$WORK/test.rules" <<'RULES'
[forward]
match: go forward ten meters
reply: Moving forward ten meters now.
[fallback]
reply: Sorry, I did not get that.
RULES
GREETING="Hello and welcome to the callbot barge in test, this greeting is deliberately long, \
it goes on and on about nothing in particular, so that the caller has plenty of time to \
interrupt it, first with a short sound that should be ignored, and then with real words \
that should stop it at once, and if you can still hear this sentence then something went wrong"
cb_start BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="$GREETING" \
	BARGE_IN=on BARGE_IN_MIN_MS=$BARGE_MS VAD_SILENCE_MS=500

# caller audio (after sipp's 2 s pause): 0.5 s silence, 150 ms voiced burst, 1.5 s silence,
# the recording, 3 s silence
sox -n -r 8000 -c 1 -t ul "$WORK/sil05.ulaw" trim 0 0.5
sox -n -r 8000 -c 1 -t ul "$WORK/sil15.ulaw" trim 0 1.5
sox -n -r 8000 -c 1 -t ul "$WORK/sil3.ulaw" trim 0 3
sox -n -r 8000 -c 1 -t ul "$WORK/burst.ulaw" synth 0.15 sawtooth 140 lowpass 1200 vol 0.6
sox "$TESTS_DIR/data/speech/goforward.wav" -r 8000 -c 1 -t ul "$WORK/speech.ulaw"
cat "$WORK/sil05.ulaw" "$WORK/burst.ulaw" "$WORK/sil15.ulaw" "$WORK/speech.ulaw" "$WORK/sil3.ulaw" \
	>"$WORK/caller.ulaw"

MEDIA_PORT=$(free_port 2)
capture_start "$WORK/barge.pcap" "udp and host 127.0.0.1 and (port $MEDIA_PORT or portrange $RTP_BASE-$((RTP_BASE + 39)))"
sipp_run barge -sf "$SIPDIR/uac_talk.xml" -p "$(free_port 1)" -mp "$MEDIA_PORT" -m 1 \
	-d 9000 "127.0.0.1:$SIP_PORT" || die "sipp call failed: $(tail -5 "$WORK/barge.out")"
capture_stop
cb_stop

[ "$(grep -c "barge-in after" "$WORK/logs/callbot.log")" = 1 ] ||
	die "expected exactly one barge-in: $(grep "barge-in" "$WORK/logs/callbot.log")"
BOT_PORT=$(tshark -r "$WORK/barge.pcap" -Y "udp.dstport==$MEDIA_PORT" -T fields -e udp.srcport 2>/dev/null | sort -u | head -1)
[ -n "$BOT_PORT" ] || die "no RTP from callbot"
tshark -r "$WORK/barge.pcap" -d "udp.port==$MEDIA_PORT,rtp" -d "udp.port==$BOT_PORT,rtp" -Y rtp \
	-T fields -e frame.time_epoch -e udp.srcport -e rtp.payload 2>/dev/null >"$WORK/rtp.txt"
"$PY" - "$WORK/rtp.txt" "$MEDIA_PORT" "$BARGE_MS" <<'PYEOF' || die "barge-in timing"
import sys, warnings
warnings.filterwarnings("ignore")
import audioop
caller, barge = sys.argv[2], int(sys.argv[3])
cal, bot = [], []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3:
        continue
    t = float(f[0])
    loud = audioop.rms(audioop.ulaw2lin(bytes.fromhex(f[2].replace(":", "")), 2), 2) > 300
    (cal if f[1] == caller else bot).append((t, loud))
loud_c = [t for t, l in cal if l]
if not loud_c:
    sys.exit("no loud caller packets")
burst_start = loud_c[0]
burst_end = max(t for t in loud_c if t < burst_start + 0.5)
speech = min(t for t in loud_c if t > burst_end + 0.8)
def bot_loud(a, b):
    return sum(1 for t, l in bot if a <= t < b and l)
after_burst = bot_loud(burst_end + 0.3, speech)
before_speech = bot_loud(speech - 0.3, speech)
# silence begins: the first bot packet after which 600 ms stay quiet
silence = None
for i, (t, l) in enumerate(bot):
    if t < speech - 0.1:
        continue
    if all(not l2 for t2, l2 in bot if t <= t2 < t + 0.6):
        silence = t
        break
print("burst %.0f ms; bot loud packets after the burst %d, in the 300 ms before the speech %d"
      % ((burst_end - burst_start) * 1000 + 20, after_burst, before_speech))
if silence is None:
    sys.exit("the bot never went silent after the caller spoke")
delay = (silence - speech) * 1000
print("caller's first loud packet -> bot silent: %.0f ms (limit %d ms)" % (delay, barge + 120))
if after_burst < 10:
    sys.exit("the short burst stopped the bot")
if before_speech < 3:
    sys.exit("the bot was not speaking when the caller started")
sys.exit(0 if delay <= barge + 120 else 1)
PYEOF
log "ok: sip_bargein"
