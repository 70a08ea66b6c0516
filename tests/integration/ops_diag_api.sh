#!/usr/bin/env bash
# ops_diag_api.sh - the dashboard's Diagnostics and first-run checklist over the API:
# POST /api/test_sip (a REGISTER query round trip with digest auth against
# tests/mock/fake_registrar.py: status line, digest, bindings, timing; then the registrar
# down), POST /api/test_speech (espeak -> pocketsphinx round trip), POST /api/test_call
# (a sipp callee inside OUTBOUND_ALLOW answers; outside it 403), admin only, CSRF for
# sessions, audited; GET /api/checklist follows the admin password change, HTTPS through a
# proxy and POST /api/checklist/dismiss.
. "$(dirname "$0")/lib.sh.inc"
. "$TESTS_DIR/data/web/lib.sh"

web_instance "$T/site"
set_key "$D/.env" RATE_LIMITS "100000 per hour"
REG_PORT=$(free_port)
UAS_PORT=$(free_port)
UAS_MEDIA=$(free_port)
RTP_BASE=$((20000 + RANDOM % 30000))
set_key "$D/.env" SIP_SERVER "127.0.0.1:$REG_PORT"
set_key "$D/.env" SIP_USERNAME alice
set_key "$D/.env" SIP_PASSWORD 'reg-pass-8472'
set_key "$D/.env" RTP_PORTS "$RTP_BASE-$((RTP_BASE + 39))"
set_key "$D/.env" OUTBOUND_ALLOW "sip:*@127.0.0.1:$UAS_PORT"
add_user ann admin 'ann-password-1234'
add_user vic viewer 'vic-password-1234'
"$PY" "$TESTS_DIR/mock/fake_registrar.py" "$REG_PORT" "$T/registrar.log" 60 'alice:reg-pass-8472' &
REG_PID=$!
PIDS+=("$REG_PID")
web_serve
A=$T/ann.jar V=$T/vic.jar
expect_eq "$(login "$A" ann 'ann-password-1234')" 303 "admin logs in"
expect_eq "$(login "$V" vic 'vic-password-1234')" 303 "viewer logs in"
for _ in $(seq 1 50); do grep -q "REGISTER auth-ok" "$T/registrar.log" 2>/dev/null && break; sleep 0.1; done
grep -q "REGISTER auth-ok" "$T/registrar.log" || fail "serve did not register: $(cat "$T/registrar.log")"

# --- access: admin only, CSRF for sessions ---
for p in /api/test_sip /api/test_speech /api/test_call /api/checklist/dismiss; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL$p")
	[ "$code" = 401 ] || fail "anonymous POST $p gave $code"
	r=$(api "$V" POST "$p" '{}'); [ "$(tail -1 <<< "$r")" = 403 ] || fail "viewer POST $p gave $r"
	code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" -X POST "$URL$p")
	[ "$code" = 403 ] || fail "admin POST $p without CSRF token gave $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$V" "$URL/api/checklist")
expect_eq "$code" 403 "viewer cannot read the checklist"
ok "diagnostics: 401 anonymous, 403 viewer, 403 without CSRF token"

# --- Test SIP registration ---
: > "$T/registrar.log"
r=$(api "$A" POST /api/test_sip)
expect_eq "$(tail -1 <<< "$r")" 200 "test_sip answers 200"
b=$(head -n -1 <<< "$r")
echo "# $b"
expect_eq "$(jget ok <<< "$b")" True "test_sip ok"
expect_eq "$(jget status <<< "$b")" "200 OK" "the registrar's status line"
expect_eq "$(jget digest <<< "$b")" MD5 "digest answered"
expect_eq "$(jget bindings <<< "$b")" 1 "the query lists serve's own binding"
[ "$(jget ms <<< "$b")" -ge 0 ] && ok "timing reported" || fail "no timing"
expect_contains "$(jget message <<< "$b")" "127.0.0.1:$REG_PORT answered \"200 OK\" to a REGISTER of sip:alice@127.0.0.1 over UDP (MD5 digest); 1 binding" "message"
expect_eq "$(grep -c '^REGISTER' "$T/registrar.log")" 2 "one challenge, one authorised REGISTER"
grep -q '^REGISTER auth-ok query$' "$T/registrar.log" && ok "the REGISTER is a query (no Contact bound)" ||
	fail "registrar saw: $(cat "$T/registrar.log")"
grep -q 'reg-pass-8472' "$D/logs/callbot.log" "$T/serve.out" && fail "the SIP password leaked" || ok "no password in logs"
# the registrar is gone: a FAIL with the reason, bounded
kill "$REG_PID"; wait "$REG_PID" 2> /dev/null
r=$(api "$A" POST /api/test_sip)
b=$(head -n -1 <<< "$r")
expect_eq "$(jget ok <<< "$b")" False "registrar down: not ok"
expect_eq "$(jget code <<< "$b")" 0 "registrar down: no status code"
expect_contains "$(jget message <<< "$b")" "no answer from 127.0.0.1:$REG_PORT" "registrar down: the reason"

# --- Test STT/TTS ---
r=$(api "$A" POST /api/test_speech)
expect_eq "$(tail -1 <<< "$r")" 200 "test_speech answers 200"
b=$(head -n -1 <<< "$r")
echo "# $b"
expect_eq "$(jget ok <<< "$b")" True "speech round trip ok"
expect_eq "$(jget heard <<< "$b")" "what time is it" "recognised what was synthesised"
[ "$(jget tts_ms <<< "$b")" -ge 0 ] && [ "$(jget stt_ms <<< "$b")" -ge 0 ] && ok "both timings" || fail "timings"

# --- first-run checklist ---
cl=$(curl -s -b "$A" "$URL/api/checklist")
echo "# $cl"
expect_eq "$(jget show <<< "$cl")" True "checklist shown on a fresh site"
expect_eq "$(jget items.0.id <<< "$cl"),$(jget items.0.done <<< "$cl")" "admin_password,False" "admin password not changed yet"
expect_eq "$(jget items.1.id <<< "$cl"),$(jget items.1.done <<< "$cl")" "sip_account,True" "SIP account set"
expect_eq "$(jget items.2.id <<< "$cl"),$(jget items.2.done <<< "$cl")" "backends,False" "backends still the defaults"
expect_eq "$(jget items.3.id <<< "$cl"),$(jget items.3.done <<< "$cl")" "https,False" "plain HTTP"
# the same facts as `callbot check`
out=$("$CALLBOT" --config "$D/.env" check 2> /dev/null)
expect_contains "$out" "WARN  admin password" "check: admin password line"
expect_contains "$out" "PASS  SIP account        registering alice at 127.0.0.1:$REG_PORT" "check: SIP account line"
r=$(api "$A" POST /api/users/admin '{"password":"a-new-admin-password-42"}')
expect_eq "$(tail -1 <<< "$r")" 200 "admin password changed"
cl=$(curl -s -b "$A" "$URL/api/checklist")
expect_eq "$(jget items.0.done <<< "$cl")" True "checklist: admin password done"
expect_contains "$("$CALLBOT" --config "$D/.env" check 2> /dev/null)" "PASS  admin password" "check agrees"
cl=$(curl -s -b "$A" -H 'X-Forwarded-Proto: https' "$URL/api/checklist")
expect_eq "$(jget items.3.done <<< "$cl")" True "HTTPS done when reached over HTTPS through the proxy"
r=$(api "$A" POST /api/checklist/dismiss)
expect_eq "$(tail -1 <<< "$r")" 200 "dismiss"
cl=$(curl -s -b "$A" "$URL/api/checklist")
expect_eq "$(jget dismissed <<< "$cl"),$(jget show <<< "$cl")" "True,False" "dismissed: not shown any more"
expect_contains "$(db "SELECT group_concat(action) FROM audit_log")" "checklist_dismiss" "dismiss audited"

# --- Place a test call (without SIP_SERVER: the call goes straight to the callee) ---
web_stop
set_key "$D/.env" SIP_SERVER ""
web_serve
expect_eq "$(login "$A" ann 'ann-password-1234')" 303 "admin logs in again"
# --- Place a test call ---
if command -v sipp > /dev/null; then
	(cd "$T" && timeout 40 sipp -i 127.0.0.1 -p "$UAS_PORT" -mp "$UAS_MEDIA" -sf "$TESTS_DIR/integration/sip/uas_answer.xml" \
		-m 1 -nostdin -timeout 30 -timeout_error > "$T/uas.out" 2>&1) &
	UAS=$!
	PIDS+=("$UAS")
	sleep 0.5
	r=$(api "$A" POST /api/test_call "{\"to\":\"sip:bob@127.0.0.1:$((UAS_PORT + 1))\"}")
	expect_eq "$(tail -1 <<< "$r")" 403 "test call outside OUTBOUND_ALLOW refused"
	r=$(api "$A" POST /api/test_call '{"to":"bad number with spaces"}')
	expect_eq "$(tail -1 <<< "$r")" 400 "invalid destination 400"
	r=$(api "$A" POST /api/test_call "{\"to\":\"sip:bob@127.0.0.1:$UAS_PORT\"}")
	expect_eq "$(tail -1 <<< "$r")" 202 "test call placed"
	wait "$UAS" && ok "the callee answered the test call" || fail "sipp callee: $(tail -5 "$T/uas.out")"
	for _ in $(seq 1 50); do [ -n "$(db "SELECT ended_at FROM calls ORDER BY id DESC LIMIT 1")" ] && break; sleep 0.1; done
	expect_eq "$(db "SELECT callee FROM calls ORDER BY id DESC LIMIT 1")" "bob" "the test call is stored"
else
	echo "# sipp not installed: test call skipped"
fi

# --- audit ---
acts=$(db "SELECT group_concat(action) FROM audit_log")
for a in test_sip test_speech test_call; do expect_contains "$acts" "$a" "audited: $a"; done
expect_contains "$(db "SELECT details FROM audit_log WHERE action='test_sip' ORDER BY id LIMIT 1")" '"status":"200 OK"' "audit row carries the result"

web_stop
grep -q "dashboard setting ignored" "$T/serve.out" "$D/logs/callbot.log" && fail "the dismissal confused the settings"
echo "ops_diag_api: $CHECKS checks passed"
