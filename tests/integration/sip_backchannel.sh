#!/usr/bin/env bash
# sip_backchannel.sh - "okay", "uh-huh" and "yeah" while the bot speaks are listener
# feedback, not interruptions: each is longer than BARGE_IN_MIN_MS, but the words
# recognised so far (pocketsphinx partial results) are only backchannel words, so the
# bot goes on. Then a real sentence still interrupts it.
source "$(dirname "$0")/sip/lib.sh"

cb_init
cat > "$WORK/test.rules" <<'RULES'
[forward]
match: go forward ten meters
reply: Moving forward ten meters now.
[fallback]
reply: Sorry, I did not get that.
RULES
GREETING="Hello and welcome to the backchannel test. This greeting is long on purpose, it \
goes on about nothing in particular, while the caller nods along with okay and uh huh and \
yeah, which must not stop it, and then says a real sentence, which must stop it at once."
cb_start BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="$GREETING" \
	BARGE_IN=on BARGE_IN_MIN_MS=250 VAD_SILENCE_MS=500 ENCRYPTION_KEY= LOG_LEVEL=debug

# caller audio (after sipp's 2 s pause): three backchannels 1.2 s apart, then real words
sox -n -r 8000 -c 1 "$WORK/gap.wav" trim 0 1.2
parts=()
for w in okay uh-huh yeah; do
	espeak-ng -s 170 -w "$WORK/$w.raw.wav" "$w" 2>/dev/null
	# trim espeak's leading/trailing silence: the word alone
	sox "$WORK/$w.raw.wav" -r 8000 -c 1 "$WORK/$w.wav" silence 1 0.02 1% reverse silence 1 0.02 1% reverse
	parts+=("$WORK/$w.wav" "$WORK/gap.wav")
	log "$w: $(soxi -D "$WORK/$w.wav") s"
done
sox "$TESTS_DIR/data/speech/goforward.wav" -r 8000 -c 1 "$WORK/speech.wav"
sox -n -r 8000 -c 1 "$WORK/tail.wav" trim 0 2
sox "${parts[@]}" "$WORK/speech.wav" "$WORK/tail.wav" -t ul "$WORK/caller.ulaw"
sipp_run bc -sf "$SIPDIR/uac_talk.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	-d 10000 "127.0.0.1:$SIP_PORT" || die "sipp call failed: $(tail -5 "$WORK/bc.out")"
cb_stop
L=$WORK/logs/callbot.log
grep -E "barge-in after|interrupted by|caller said|not answered" "$L" | sed 's/^/# /'
n=$(grep -c "barge-in after" "$L")
[ "$n" = 1 ] || die "expected one barge-in (the real sentence), got $n"
# the feedback was recognised as such and never answered...
fb=$(grep -c "while the bot spoke: feedback, not answered" "$L")
[ "$fb" -ge 2 ] || die "only $fb of 3 backchannels were taken as feedback"
said=$(grep "caller said" "$L")
[ "$said" != "${said#*go forward ten meters}" ] && [ "$(echo "$said" | wc -l)" = 1 ] ||
	die "a backchannel was answered as the caller's words: $said"
# ... and the one barge-in came from the sentence, while the bot was still greeting
grep -A3 "barge-in after" "$L" | grep -q 'caller said "go forward ten meters"' ||
	die "the barge-in was not the real sentence"
[ "$(sql "SELECT count(*) FROM turns WHERE role = 'caller'")" = 1 ] || die "backchannels stored as caller turns"
log "ok: sip_backchannel"
