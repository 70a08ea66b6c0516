#!/usr/bin/env bash
# sip_outbound.sh - outgoing calls. serve originates (POST /api/calls, admin API token) to a
# sipp callee: INVITE with PCMU/PCMA/telephone-event, 100/180/200/ACK, the greeting arrives
# as RTP, the callee hangs up (BYE), the row is stored. A destination outside OUTBOUND_ALLOW
# gets 403, a SECURITY line, and no INVITE leaves. `callbot call`: 486 -> exit 1 (row
# failed/sip_486); no answer -> CANCEL after --ring-timeout (row failed/no_answer); a
# number through SIP_SERVER with a 401 digest challenge (sipp verifies the answer).
source "$(dirname "$0")/sip/lib.sh"

cb_init
TOKEN=$("$CALLBOT" --config "$WORK/.env" token add admin 2>/dev/null | tail -n 1)
[ -n "$TOKEN" ] || die "no API token"
UAS_PORT=$(free_port 1)
UAS_MEDIA=$(free_port 2)
OTHER_PORT=$(free_port 1)
cb_start BOT_MODE=ai CONSENT_MODE=off GREETING="Hello, this is callbot calling you." \
	OUTBOUND_ALLOW="sip:*@127.0.0.1:$UAS_PORT"

capture_start "$WORK/out.pcap" "udp and host 127.0.0.1 and (port $UAS_PORT or port $OTHER_PORT or port $UAS_MEDIA or portrange $RTP_BASE-$((RTP_BASE + 39)))"
(cd "$WORK" && timeout 40 sipp -i 127.0.0.1 -p "$UAS_PORT" -mp "$UAS_MEDIA" -sf "$SIPDIR/uas_answer.xml" \
	-m 1 -nostdin -timeout 30 -timeout_error -trace_err -error_file "$WORK/uas.err" \
	>"$WORK/uas.out" 2>&1) &
UAS_PID=$!
PIDS+=("$UAS_PID")
sleep 0.5
api() { curl -s -o "$WORK/api.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' -X POST --data "$1" "http://127.0.0.1:$WEB_PORT/api/calls"; }

# outside OUTBOUND_ALLOW: refused before anything is sent
mark=$(log_mark)
code=$(api "{\"to\":\"sip:mallory@127.0.0.1:$OTHER_PORT\"}")
[ "$code" = 403 ] || die "disallowed destination got $code: $(cat "$WORK/api.json")"
wait_log "$mark" "SECURITY: outbound_refused - call to sip:mallory@127.0.0.1:$OTHER_PORT is not allowed" 5 ||
	die "no SECURITY line for the refused destination"
code=$(api '{"to":"+15551234"}')
[ "$code" = 403 ] || die "a number outside OUTBOUND_ALLOW got $code"

# allowed: the call is placed and answered
code=$(api "{\"to\":\"sip:bob@127.0.0.1:$UAS_PORT\",\"purpose\":\"integration test\"}")
[ "$code" = 202 ] || die "originate got $code: $(cat "$WORK/api.json")"
wait "$UAS_PID" || die "sipp callee failed: $(tail -5 "$WORK/uas.out"; cat "$WORK/uas.err" 2>/dev/null | tail -20)"
capture_stop

# no INVITE (no SIP at all) towards the refused destination
n=$(tshark -r "$WORK/out.pcap" -Y "udp.dstport==$OTHER_PORT" 2>/dev/null | wc -l)
[ "$n" = 0 ] || die "$n packets were sent to the refused destination"
# the greeting as RTP towards the callee's media port, loud
BOT_PORT=$(tshark -r "$WORK/out.pcap" -Y "udp.dstport==$UAS_MEDIA" -T fields -e udp.srcport 2>/dev/null | sort -u | head -1)
[ -n "$BOT_PORT" ] || die "no RTP from callbot to the callee"
tshark -r "$WORK/out.pcap" -d "udp.port==$BOT_PORT,rtp" -Y "rtp && udp.dstport==$UAS_MEDIA" \
	-T fields -e rtp.payload 2>/dev/null >"$WORK/rtp.txt"
"$PY" - "$WORK/rtp.txt" <<'PYEOF' || die "no audible greeting in callbot's RTP"
import sys, audioop
pk = [bytes.fromhex(l.strip().replace(":", "")) for l in open(sys.argv[1]) if l.strip()]
loud = sum(1 for p in pk if audioop.rms(audioop.ulaw2lin(p, 2), 2) > 300)
print("callbot -> callee: %d RTP packets, %d loud" % (len(pk), loud))
sys.exit(0 if len(pk) >= 100 and loud >= 40 else 1)
PYEOF
wait_for "$WORK/logs/callbot.log" "ended \(completed, callee_bye\)" 10 || die "the callee's BYE did not end the call"
row=$(sql "SELECT callee, status, end_reason, answered_at IS NOT NULL FROM calls ORDER BY id DESC LIMIT 1")
[ "$row" = "bob|completed|callee_bye|1" ] || die "outbound call row: $row"
[ "$(sql "SELECT role FROM turns WHERE seq=0")" = bot ] || die "no greeting turn stored"
grep -q '"call_originate"\|call_originate' <(sql "SELECT action FROM audit_log") || die "originate not audited"
cb_stop

# callbot call: busy callee -> exit 1, row failed/sip_486
CALL_ENV=(SIP_LISTEN="127.0.0.1:$SIP_PORT" RTP_PORTS="$RTP_BASE-$((RTP_BASE + 39))" BOT_MODE=prompt
	OUTBOUND_ALLOW="sip:*@127.0.0.1:$UAS_PORT")
(cd "$WORK" && timeout 30 sipp -i 127.0.0.1 -p "$UAS_PORT" -sf "$SIPDIR/uas_busy.xml" -m 1 -nostdin \
	-timeout 20 -timeout_error >"$WORK/busy.out" 2>&1) &
BUSY_PID=$!
PIDS+=("$BUSY_PID")
sleep 0.5
rc=0
timeout 60 env "${CALL_ENV[@]}" "$CALLBOT" --config "$WORK/.env" call "sip:carol@127.0.0.1:$UAS_PORT" \
	>"$WORK/call1.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "call to a busy callee exited $rc: $(tail -5 "$WORK/call1.out")"
grep -q "sip_486" "$WORK/call1.out" || die "no 486 outcome: $(tail -3 "$WORK/call1.out")"
grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$WORK/call1.out" && die "sanitizer report from call"
wait "$BUSY_PID" || die "sipp (busy) failed: $(tail -5 "$WORK/busy.out")"
[ "$(sql "SELECT status, end_reason FROM calls WHERE callee='carol'")" = "failed|sip_486" ] ||
	die "busy row: $(sql "SELECT * FROM calls WHERE callee='carol'")"

# no answer: CANCEL after the ring time-out
(cd "$WORK" && timeout 30 sipp -i 127.0.0.1 -p "$UAS_PORT" -sf "$SIPDIR/uas_noanswer.xml" -m 1 -nostdin \
	-timeout 20 -timeout_error >"$WORK/noans.out" 2>&1) &
NOANS_PID=$!
PIDS+=("$NOANS_PID")
sleep 0.5
rc=0
timeout 60 env "${CALL_ENV[@]}" "$CALLBOT" --config "$WORK/.env" call "sip:dave@127.0.0.1:$UAS_PORT" \
	--ring-timeout 2 >"$WORK/call2.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "unanswered call exited $rc: $(tail -5 "$WORK/call2.out")"
wait "$NOANS_PID" || die "sipp saw no CANCEL: $(tail -5 "$WORK/noans.out")"
[ "$(sql "SELECT status, end_reason FROM calls WHERE callee='dave'")" = "failed|no_answer" ] ||
	die "no-answer row: $(sql "SELECT * FROM calls WHERE callee='dave'")"

# through the registrar: a number, routed to SIP_SERVER, 401 answered with MD5 digest
(cd "$WORK" && timeout 30 sipp -i 127.0.0.1 -p "$UAS_PORT" -mp "$UAS_MEDIA" -sf "$SIPDIR/uas_auth.xml" -m 1 \
	-nostdin -timeout 20 -timeout_error -trace_err -error_file "$WORK/auth.err" >"$WORK/auth.out" 2>&1) &
AUTH_PID=$!
PIDS+=("$AUTH_PID")
sleep 0.5
rc=0
timeout 60 env "${CALL_ENV[@]}" SIP_SERVER="127.0.0.1:$UAS_PORT" SIP_DOMAIN=callbot.test SIP_USERNAME=alice \
	SIP_PASSWORD=s3cret-pass OUTBOUND_ALLOW="5551*" BOT_MODE=ai CONSENT_MODE=off GREETING="Hello from callbot." \
	"$CALLBOT" --config "$WORK/.env" call 5551234 \
	--purpose "digest test" >"$WORK/call4.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || die "call through the registrar exited $rc: $(tail -5 "$WORK/call4.out")"
wait "$AUTH_PID" || die "sipp (auth) failed: $(tail -5 "$WORK/auth.out"; tail -20 "$WORK/auth.err" 2>/dev/null)"
[ "$(sql "SELECT caller, status, end_reason FROM calls WHERE callee='5551234'")" = "alice|completed|callee_bye" ] ||
	die "registrar call row: $(sql "SELECT * FROM calls WHERE callee='5551234'")"
# the AI stack ran the call: its greeting is the call's first stored turn
[ "$(sql "SELECT t.role FROM turns t JOIN calls c ON c.id = t.call_id WHERE c.callee='5551234' AND t.seq=0")" = bot ] ||
	die "no greeting turn for the call placed by callbot call"
grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$WORK/call4.out" && die "sanitizer report from call"

# callbot call refuses a destination outside OUTBOUND_ALLOW without sending anything
rc=0
timeout 30 env "${CALL_ENV[@]}" "$CALLBOT" --config "$WORK/.env" call "sip:eve@127.0.0.1:$OTHER_PORT" \
	>"$WORK/call3.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "disallowed call exited $rc"
grep -q "not allowed by OUTBOUND_ALLOW" "$WORK/call3.out" || die "no refusal message"
log "ok: sip_outbound"
