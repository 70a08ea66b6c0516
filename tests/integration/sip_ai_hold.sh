#!/usr/bin/env bash
# sip_ai_hold.sh - hold pauses the conversation (BOT_MODE=ai): the caller puts the call on
# hold (re-INVITE a=sendonly) 2 s into a long greeting and keeps sending audio (think music
# on hold) for 2 s, then resumes. The bot stops its greeting at once, hears nothing while
# on hold (no caller turn is stored, no answer is given) and listens again after resume.
source "$(dirname "$0")/sip/lib.sh"

cb_init
# Speech only while on hold (2.0-4.0 s after the answer): 2.3 s of silence, ~1.2 s of words.
espeak-ng -s 160 -w "$WORK/words.wav" "Hello there." 2>/dev/null
sox "$WORK/words.wav" -r 8000 -c 1 "$WORK/words8k.wav"
sox -n -r 8000 -c 1 "$WORK/pad.wav" trim 0 2.3
sox "$WORK/pad.wav" "$WORK/words8k.wav" -t ul "$WORK/caller.ulaw"
[ "$(stat -c %s "$WORK/caller.ulaw")" -lt 31200 ] || die "caller audio runs past the hold"
GREETING="Welcome to the hold test. This greeting is long on purpose, so that it is still \
playing when the caller puts the call on hold, and it must stop right there."
cb_start BOT_MODE=ai CONSENT_MODE=off BARGE_IN=off GREETING="$GREETING" ENCRYPTION_KEY=
sipp_run hold -sf "$SIPDIR/uac_hold.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	"127.0.0.1:$SIP_PORT" || die "hold scenario failed: $(tail -5 "$WORK/hold.out")"
wait_for "$WORK/logs/callbot.log" "call 1: ended" 10 || die "call did not end"
cb_stop
L=$WORK/logs/callbot.log
grep -q "call 1: on hold: the conversation pauses" "$L" || die "the pipeline did not see the hold"
grep -q "call 1: resumed" "$L" || die "the pipeline did not see the resume"
# Nothing the far end sent while on hold was taken as the caller's words.
held=$(sed -n '/call 1: on hold/,/call 1: resumed/p' "$L")
echo "$held" | grep -q "caller said" && die "audio on hold was answered: $(echo "$held" | grep 'caller said')"
n=$(sql "SELECT count(*) FROM turns WHERE call_id = 1 AND role = 'caller'")
[ "$n" = 0 ] || die "$n caller turns stored, want 0 (the speech was sent while on hold)"
row=$(sql "SELECT status || '/' || end_reason FROM calls WHERE id = 1")
[ "$row" = "completed/caller_bye" ] || die "call row: $row"
log "ok: sip_ai_hold"
