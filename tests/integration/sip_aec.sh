#!/usr/bin/env bash
# sip_aec.sh - echo cancellation (issue #7, "Echo"): a caller whose phone plays the bot's own
# voice back into the call 100 ms later at -10 dB must not make the bot interrupt itself:
# no barge-in, the long greeting plays to its end. A different voice at the level of that
# echo, mixed in during the greeting, does barge in. With AEC=off the echo alone barges in,
# which shows the first check can fail. The caller is sip/echo_caller.py (stdlib python).
source "$(dirname "$0")/sip/lib.sh"

cat > "$WORK/test.rules" <<'RULES'
[fallback]
reply: Sorry, I did not get that.
RULES
GREETING="Hello and welcome to the callbot echo test. This greeting is deliberately long. \
It goes on about nothing in particular, so that its echo has time to \
come back, and if the bot stops before the end of this sentence, the echo \
canceller did not do its job."
SECONDS_PER_CALL=18
VOICE_AT=4.0

# start_bot [KEY=VALUE...]: serve, and wait until the AI pipeline takes the calls (before
# that, calls hear the greeting from the prompt bot).
start_bot() {
	local mark
	mark=$(log_mark)
	cb_start BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="$GREETING" \
		BARGE_IN=on BARGE_IN_MIN_MS=250 VAD_SILENCE_MS=500 LOG_LEVEL=debug "$@"
	wait_log "$mark" "AI pipeline ready" 60 || die "the AI pipeline did not start"
}

# call NAME ARGS...: one call from the echoing caller; its received audio in $WORK/NAME.rx.
# Sets BARGES to the barge-in lines callbot logged during the call.
call() {
	local name=$1 mark; shift
	mark=$(log_mark)
	timeout 60 "$PY" "$SIPDIR/echo_caller.py" --sip "127.0.0.1:$SIP_PORT" \
		--seconds "$SECONDS_PER_CALL" --out "$WORK/$name.rx" "$@" >"$WORK/$name.out" 2>&1 ||
		die "$name: echo caller failed: $(tail -3 "$WORK/$name.out")"
	wait_log "$mark" "call [0-9]+: ended" 10 || die "$name: callbot did not end the call"
	BARGES=$(tail -n +"$((mark + 1))" "$WORK/logs/callbot.log" | grep -c "barge-in after" || true)
}

# span FILE: seconds of the bot's first utterance (the greeting) the caller heard: from the
# first loud 20 ms frame to the last one before a second of quiet.
span() {
	"$PY" - "$1" <<'PYEOF'
import sys, warnings
warnings.filterwarnings("ignore")
import audioop
d = open(sys.argv[1], "rb").read()
loud = [i for i in range(0, len(d) // 320) if audioop.rms(d[i * 320:(i + 1) * 320], 2) > 300]
end = loud[0] if loud else 0
for i in loud:
    if i - end > 50:
        break
    end = i
print("%.2f" % ((end - loud[0] + 1) * 0.02 if loud else 0))
PYEOF
}

# active_rms FILE: RMS of the loud frames of a raw 8 kHz 16-bit file.
active_rms() {
	"$PY" - "$1" <<'PYEOF'
import sys, math, warnings
warnings.filterwarnings("ignore")
import audioop
d = open(sys.argv[1], "rb").read()
fr = [audioop.rms(d[i:i + 320], 2) for i in range(0, len(d) - 319, 320)]
fr = [r for r in fr if r > 300]
print("%.1f" % math.sqrt(sum(r * r for r in fr) / len(fr)) if fr else 0)
PYEOF
}

sox "$TESTS_DIR/data/speech/librivox-0870.wav" -r 8000 -c 1 -b 16 -e signed -t raw "$WORK/voice.raw"

cb_init
start_bot
# 0. no echo: how long the whole greeting is on the wire
call base --gain 0
[ "$BARGES" = 0 ] || die "a silent caller caused a barge-in"
BASE=$(span "$WORK/base.rx")
log "greeting on the wire: $BASE s"
awk -v b="$BASE" 'BEGIN { exit !(b >= 6) }' || die "greeting too short to test with: $BASE s"
grep -q "echo cancellation on" "$WORK/logs/callbot.log" || die "AEC was not switched on for the AI call"

# 1. the caller's phone echoes the bot: 100 ms, -10 dB
call echo --delay-ms 100 --gain 0.316
ECHO_SPAN=$(span "$WORK/echo.rx")
log "with echo and AEC on: barge-ins $BARGES, greeting $ECHO_SPAN s"
[ "$BARGES" = 0 ] || die "the bot's own echo triggered a barge-in with AEC on"
awk -v e="$ECHO_SPAN" -v b="$BASE" 'BEGIN { exit !(e >= b - 0.5) }' ||
	die "the greeting did not play to its end with echo: $ECHO_SPAN s of $BASE s"

# 2. the same echo, and a different voice at the echo's level from VOICE_AT s on
GREET_RMS=$(active_rms "$WORK/base.rx")
VOICE_RMS=$(active_rms "$WORK/voice.raw")
MIX_GAIN=$(awk -v g="$GREET_RMS" -v v="$VOICE_RMS" 'BEGIN { printf "%.3f", 0.316 * g / v }')
log "greeting RMS $GREET_RMS, voice RMS $VOICE_RMS: voice gain $MIX_GAIN"
call voice --delay-ms 100 --gain 0.316 --mix "$WORK/voice.raw" --mix-at "$VOICE_AT" \
	--mix-gain "$MIX_GAIN"
VOICE_SPAN=$(span "$WORK/voice.rx")
log "echo + caller's voice: barge-ins $BARGES, greeting $VOICE_SPAN s"
[ "$BARGES" -ge 1 ] || die "a caller talking at the echo's level did not barge in"
awk -v e="$VOICE_SPAN" -v b="$BASE" 'BEGIN { exit !(e < b - 1) }' ||
	die "the bot did not stop for the caller: $VOICE_SPAN s of $BASE s"
cb_stop

# 3. AEC=off: the echo alone interrupts the bot
MARK=$(log_mark)
start_bot AEC=off
call noaec --delay-ms 100 --gain 0.316
NOAEC_SPAN=$(span "$WORK/noaec.rx")
log "with echo and AEC off: barge-ins $BARGES, greeting $NOAEC_SPAN s"
[ "$BARGES" -ge 1 ] || die "without AEC the echo should have barged in (the test cannot fail?)"
tail -n +"$((MARK + 1))" "$WORK/logs/callbot.log" | grep -q "echo cancellation on" &&
	die "AEC=off still cancelled echo"
cb_stop
log "ok: sip_aec"
