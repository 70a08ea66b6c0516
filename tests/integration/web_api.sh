#!/usr/bin/env bash
# web_api.sh - the dashboard API over real HTTP: login, sessions, CSRF, roles, Bearer tokens,
# lockout, every route's JSON, pagination and search on seeded data, errors, audit rows,
# hostile input, path traversal, FORCE_HTTPS, SSE, /metrics.
. "$(dirname "$0")/lib.sh.inc"
. "$TESTS_DIR/data/web/lib.sh"

web_instance "$T/site"
set_key "$D/.env" RATE_LIMITS "100000 per hour"
add_user alice admin 'alice-password-123'
add_user victor viewer 'victor-password-123'
seed_calls 45
mkdir -p "$D/audio_output"
make_wav "$D/audio_output/call1.wav" 1
db "UPDATE calls SET recording_path='call1.wav' WHERE sip_call_id='seed-1';
    UPDATE calls SET recording_path='../.env' WHERE sip_call_id='seed-2';
    UPDATE calls SET recording_path='/etc/passwd' WHERE sip_call_id='seed-3';"
ID1=$(db "SELECT id FROM calls WHERE sip_call_id='seed-1'")
ID2=$(db "SELECT id FROM calls WHERE sip_call_id='seed-2'")
ID3=$(db "SELECT id FROM calls WHERE sip_call_id='seed-3'")
# Hostile values stored as they are, shown inert.
db "INSERT INTO calls(caller, callee, started_at, status) VALUES
    ('<script>alert(1)</script>', ''' OR 1=1 --', '2026-03-05T10:00:00.000Z', 'completed');"
web_serve
A=$T/alice.jar V=$T/victor.jar

# --- anonymous ---
code=$(curl -s -o "$T/b" -w '%{http_code}' "$URL/api/calls")
expect_eq "$code" 401 "anonymous /api/calls is 401"
expect_eq "$(cat "$T/b")" '{"error":"authentication required"}' "401 is JSON"
for p in /api/calls/1 /api/active_calls /api/audio/1 /api/stats /api/me /api/events /api/audit /api/export?caller=1 /api/settings /api/users /api/tokens; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL$p")
	[ "$code" = 401 ] || fail "anonymous $p gave $code"
done
ok "every API route needs authentication"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 198.51.100.9' "$URL/metrics")
expect_eq "$code" 401 "/metrics refused to an outside client"
code=$(curl -s -o "$T/m" -w '%{http_code}' "$URL/metrics")
expect_eq "$code" 200 "/metrics open to the trusted network"
expect_contains "$(cat "$T/m")" "callbot_calls_total 46" "metrics count calls"
expect_contains "$(cat "$T/m")" 'callbot_response_latency_ms_bucket{le="+Inf"}' "latency histogram"
hdrs=$(curl -s -D - -o /dev/null "$URL/")
expect_contains "$hdrs" "303" "dashboard redirects anonymous users"
expect_contains "$hdrs" "Location: /login" "to /login"

# --- login ---
hdrs=$(curl -s -D - -o "$T/login.html" -c "$T/pre.jar" "$URL/login")
expect_contains "$hdrs" "Content-Security-Policy: default-src 'self'" "login page has CSP"
expect_contains "$hdrs" "HttpOnly; SameSite=Strict" "login cookie flags"
expect_contains "$(cat "$T/login.html")" 'name="csrf_token"' "login form carries a CSRF token"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/pre.jar" -d 'username=alice&password=alice-password-123' "$URL/login")
expect_eq "$code" 403 "login without CSRF token is 403"
expect_eq "$(login "$A" alice wrong-password-x)" 401 "wrong password is 401"
expect_eq "$(login "$A" nobody whatever-pass)" 401 "unknown user is 401"
expect_eq "$(login "$A" alice alice-password-123)" 303 "admin logs in (303)"
grep -q "callbot_session" "$A" && ok "session cookie set" || fail "no session cookie"
expect_eq "$(login "$V" victor victor-password-123)" 303 "viewer logs in"
me=$(curl -s -b "$A" "$URL/api/me")
expect_eq "$(echo "$me" | jget role)" admin "/api/me role"
# Session rotation: logging in while holding a session replaces it.
old=$(grep callbot_session "$A" | awk '{print $7}')
csrf=$(curl -s -c "$T/r.jar" "$URL/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
pre=$(grep callbot_login "$T/r.jar" | awk '{print $7}')
new=$(curl -s -D - -o /dev/null -b "callbot_login=$pre; callbot_session=$old" --data-urlencode "csrf_token=$csrf" \
	--data-urlencode username=alice --data-urlencode password=alice-password-123 "$URL/login" \
	| sed -n 's/^Set-Cookie: callbot_session=\([^;]*\);.*/\1/p')
[ -n "$new" ] && [ "$old" != "$new" ] && ok "login rotates the session id" || fail "session id not rotated"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "callbot_session=$old" "$URL/api/me")
expect_eq "$code" 401 "the pre-login session id no longer works"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "callbot_session=$new" "$URL/api/me")
expect_eq "$code" 200 "the new session id works"
printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tcallbot_session\t%s\n' "$new" > "$A"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "callbot_session=${new%.*}.forgedmacAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$URL/api/me")
expect_eq "$code" 401 "a session cookie with a forged MAC is refused"

# --- pages ---
page=$(curl -s -b "$A" "$URL/")
expect_contains "$page" '<script src="/static/app.js"' "dashboard loads app.js"
expect_not_contains "$page" '<script>' "no inline script"
code=$(curl -s -o "$T/p" -w '%{http_code}' -b "$V" "$URL/settings")
expect_eq "$code" 403 "viewer gets 403 on /settings"
expect_contains "$(cat "$T/p")" "needs the <strong>admin</strong> role" "403 page explains"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" "$URL/settings")
expect_eq "$code" 200 "admin sees /settings"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" "$URL/calls/$ID1")
expect_eq "$code" 200 "call page"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" "$URL/calls/..%2f..%2fetc")
expect_eq "$code" 404 "call page needs a numeric id"
for a in app.js app.css favicon.svg; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/static/$a"); [ "$code" = 200 ] || fail "static $a: $code"
done
ok "static assets served"
for p in '/static/../../etc/passwd' '/static/..%2f..%2fetc%2fpasswd' '/static/%2e%2e/.env' '/static/login.html' '/static/'; do
	code=$(curl -s --path-as-is -o "$T/b" -w '%{http_code}' "$URL$p")
	[ "$code" = 404 ] || fail "static traversal $p gave $code"
	grep -q root: "$T/b" && fail "traversal leaked /etc/passwd"
done
ok "path traversal on /static refused"

# --- calls: pagination, filters, search ---
r=$(curl -s -b "$A" "$URL/api/calls")
expect_eq "$(echo "$r" | jget total)" 46 "total counts all calls"
expect_eq "$(echo "$r" | jget per_page)" 20 "default per_page 20"
expect_eq "$(echo "$r" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))')" 20 "first page has 20"
r=$(curl -s -b "$A" "$URL/api/calls?page=3&per_page=20")
expect_eq "$(echo "$r" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))')" 6 "last page has the rest"
expect_eq "$(echo "$r" | jget page)" 3 "page echoed"
r=$(curl -s -b "$A" "$URL/api/calls?per_page=2")
expect_eq "$(echo "$r" | jget calls.1.caller)" '+15550000045' "newest first"
r=$(curl -s -b "$A" "$URL/api/calls?q=INVOICE")
expect_eq "$(echo "$r" | jget total)" 4 "transcript search (case-insensitive)"
r=$(curl -s -b "$A" "$URL/api/calls?caller=%2B15550000007")
expect_eq "$(echo "$r" | jget total)" 1 "caller filter"
r=$(curl -s -b "$A" "$URL/api/calls?from=2026-03-05&to=2026-03-06")
expect_eq "$(echo "$r" | jget total)" 1 "date filter"
r=$(curl -s -b "$A" "$URL/api/calls?status=missed")
expect_eq "$(echo "$r" | jget total)" 0 "status filter"
r=$(curl -s -b "$A" --get --data-urlencode "q=' OR 1=1 --" "$URL/api/calls")
expect_eq "$(echo "$r" | jget total)" 1 "SQL metacharacters are searched literally"
r=$(curl -s -b "$A" --get --data-urlencode "q=%" "$URL/api/calls")
expect_eq "$(echo "$r" | jget total)" 0 "% is literal"
r=$(curl -s -b "$A" --get --data-urlencode "q=<script>" "$URL/api/calls")
expect_eq "$(echo "$r" | jget calls.0.caller)" '<script>alert(1)</script>' "script caller stored as text"
for bad in 'page=0' 'page=x' 'per_page=1000' 'from=yesterday'; do
	code=$(curl -s -o "$T/b" -w '%{http_code}' -b "$A" "$URL/api/calls?$bad")
	[ "$code" = 400 ] || fail "bad parameter $bad gave $code"
done
ok "bad parameters are 400"
r=$(curl -s -b "$A" "$URL/api/calls/$ID1")
expect_eq "$(echo "$r" | jget turns.1.response_ms)" 640 "call detail with turn timings"
expect_eq "$(echo "$r" | jget has_recording)" True "call has a recording"
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "$A" "$URL/api/calls/999999")
expect_eq "$code" 404 "unknown call is 404"
expect_eq "$(cat "$T/b")" '{"error":"no such call"}' "404 JSON"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" -X PUT "$URL/api/calls")
expect_eq "$code" 405 "PUT /api/calls is 405"

# --- audio ---
code=$(curl -s -o "$T/a.wav" -w '%{http_code}' -b "$A" "$URL/api/audio/$ID1")
expect_eq "$code" 200 "recording download"
cmp -s "$T/a.wav" "$D/audio_output/call1.wav" && ok "WAV bytes intact" || fail "WAV differs"
hdrs=$(curl -s -D - -o "$T/part" -b "$A" -H 'Range: bytes=10-19' "$URL/api/audio/$ID1")
expect_contains "$hdrs" "206" "range request is 206"
expect_contains "$hdrs" "Content-Range: bytes 10-19/16044" "Content-Range"
expect_eq "$(stat -c %s "$T/part")" 10 "range length"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" -H 'Range: bytes=99999-' "$URL/api/audio/$ID1")
expect_eq "$code" 416 "unsatisfiable range is 416"
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "$A" "$URL/api/audio/$ID2")
expect_eq "$code" 403 "recording path outside AUDIO_DIR refused (relative)"
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "$A" "$URL/api/audio/$ID3")
expect_eq "$code" 403 "recording path outside AUDIO_DIR refused (absolute)"
grep -q root: "$T/b" && fail "audio leaked /etc/passwd"
code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' -b "$A" "$URL/api/audio/../../etc/passwd")
[ "$code" = 404 ] || [ "$code" = 401 ] || fail "audio traversal gave $code"
ok "traversal in /api/audio/ path refused"

# --- CSRF and roles on state changes ---
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "$A" -X DELETE "$URL/api/calls/$ID3")
expect_eq "$code" 403 "DELETE without CSRF token is 403"
expect_contains "$(cat "$T/b")" "CSRF" "CSRF refusal explained"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" -X DELETE -H 'X-CSRF-Token: forged' "$URL/api/calls/$ID3")
expect_eq "$code" 403 "DELETE with a wrong CSRF token is 403"
r=$(api "$V" DELETE "/api/calls/$ID3")
expect_eq "$(echo "$r" | tail -1)" 403 "viewer cannot delete calls"
for p in /api/settings /api/users /api/audit "/api/export?caller=1"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -b "$V" "$URL$p"); [ "$code" = 403 ] || fail "viewer $p: $code"
done
ok "viewer gets 403 on admin API routes"
r=$(api "$A" DELETE "/api/calls/$ID3")
expect_eq "$(echo "$r" | tail -1)" 200 "admin deletes a call"
expect_eq "$(db "SELECT count(*) FROM calls WHERE id=$ID3")" 0 "call gone"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" -X POST "$URL/logout")
expect_eq "$code" 403 "logout without CSRF is 403"

# --- originate / LLM test seams ---
r=$(api "$A" POST /api/calls '{"to":"+15551234567","purpose":"test"}')
expect_eq "$(echo "$r" | tail -1)" 403 "originate refused: OUTBOUND_ALLOW is empty"
r=$(api "$A" POST /api/calls '{"to":"bad <uri>"}')
expect_eq "$(echo "$r" | tail -1)" 400 "originate validates the destination"
r=$(api "$A" POST /api/calls 'not json')
expect_eq "$(echo "$r" | tail -1)" 400 "malformed JSON is 400"
r=$(api "$A" POST /api/test_llm)
expect_eq "$(echo "$r" | tail -1)" 200 "test_llm answers with the configured (rules) backend"
expect_contains "$r" '"ok":true' "test_llm ok"
expect_contains "$r" '"latency_ms":' "test_llm reports latency"
r=$(api "$A" POST /api/test_ollama)
expect_eq "$(echo "$r" | tail -1)" 502 "test_ollama: no Ollama on this machine is a 502"
expect_contains "$r" "did not answer" "502 explained"
r=$(api "$V" POST /api/test_ollama)
expect_eq "$(echo "$r" | tail -1)" 403 "viewer cannot test the LLM"

# --- settings ---
r=$(curl -s -b "$A" "$URL/api/settings")
expect_contains "$r" '"key":"SECRET_KEY","value":"••••"' "secrets masked"
secret=$(grep ^SECRET_KEY= "$D/.env" | cut -d= -f2-)
expect_not_contains "$r" "$secret" "SECRET_KEY value never sent"
r=$(api "$A" POST /api/settings '{"GREETING":"<img src=x onerror=alert(1)> Welcome'"'"' OR 1=1","VAD_SILENCE_MS":"700"}')
expect_eq "$(echo "$r" | tail -1)" 200 "admin changes settings"
expect_eq "$(db "SELECT value FROM settings WHERE key='VAD_SILENCE_MS'")" 700 "setting stored"
expect_eq "$(db "SELECT value FROM settings WHERE key='GREETING'")" "<img src=x onerror=alert(1)> Welcome' OR 1=1" "hostile greeting stored as is"
r=$(curl -s -b "$A" "$URL/api/settings" | $PY -c 'import json,sys; print([s for s in json.load(sys.stdin)["settings"] if s["key"]=="VAD_SILENCE_MS"][0]["source"])')
expect_eq "$r" dashboard "source is dashboard"
r=$(api "$A" POST /api/settings '{"VAD_SILENCE_MS":"99999"}')
expect_eq "$(echo "$r" | tail -1)" 400 "out-of-range value refused"
r=$(api "$A" POST /api/settings '{"SECRET_KEY":"x"}')
expect_eq "$(echo "$r" | tail -1)" 400 "secrets cannot be set from the web"
r=$(api "$A" POST /api/settings '{"LLM_BACKEND":"skynet"}')
expect_eq "$(echo "$r" | tail -1)" 400 "enum validated"
r=$(api "$V" POST /api/settings '{"GREETING":"hi"}')
expect_eq "$(echo "$r" | tail -1)" 403 "viewer cannot change settings"
audit=$(db "SELECT details FROM audit_log WHERE action='settings_change' AND details LIKE '%VAD_SILENCE_MS%'")
expect_contains "$audit" '"old":"500","new":"700"' "settings change audited old -> new"

# --- users and tokens ---
r=$(api "$A" POST /api/users '{"username":"nina","password":"nina-password-123","role":"viewer"}')
expect_eq "$(echo "$r" | tail -1)" 201 "admin adds a user"
r=$(api "$A" POST /api/users '{"username":"x","password":"short"}')
expect_eq "$(echo "$r" | tail -1)" 400 "short password refused"
r=$(api "$A" POST /api/users/alice '{"role":"viewer"}')
expect_eq "$(echo "$r" | tail -1)" 400 "admin cannot demote themself"
r=$(curl -s -b "$A" "$URL/api/users")
expect_not_contains "$r" "argon2" "no password hashes in /api/users"
r=$(api "$V" POST /api/tokens '{"name":"ci"}')
expect_eq "$(echo "$r" | tail -1)" 201 "viewer creates an API token"
TOK=$(echo "$r" | head -1 | jget token)
case "$TOK" in cbt_*) ok "token has the cbt_ prefix" ;; *) fail "token: $TOK" ;; esac
expect_eq "$(db "SELECT count(*) FROM api_tokens WHERE token_hash LIKE '%$TOK%'")" 0 "token stored hashed"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" "$URL/api/calls")
expect_eq "$code" 200 "Bearer token works"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" -X DELETE "$URL/api/calls/$ID2")
expect_eq "$code" 403 "viewer token cannot delete"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer cbt_forged" "$URL/api/calls")
expect_eq "$code" 401 "forged token is 401"
r=$(api "$A" POST /api/users/victor '{"disabled":true}')
expect_eq "$(echo "$r" | tail -1)" 200 "admin disables viewer"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" "$URL/api/calls")
expect_eq "$code" 401 "disabled user's token stops working"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$V" "$URL/api/me")
expect_eq "$code" 401 "disabled user's session ends"

# --- export, audit ---
code=$(curl -s -D "$T/h" -o "$T/e.tar.gz" -w '%{http_code}' -b "$A" "$URL/api/export?caller=%2B15550000010")
expect_eq "$code" 200 "export"
expect_contains "$(cat "$T/h")" "Content-Type: application/gzip" "export is a .tar.gz"
expect_contains "$(cat "$T/h")" "attachment" "export is a download"
mkdir -p "$T/ex" && tar -xzf "$T/e.tar.gz" -C "$T/ex" || fail "export archive does not unpack"
expect_contains "$(cat "$T/ex/callbot-export/manifest.json")" "invoice" "export manifest includes the (decrypted) turns"
expect_contains "$(cat "$T/ex/callbot-export/manifest.json")" "+15550000010" "export manifest names the caller"
expect_not_contains "$(sqlite3 "$D/callbot.db" "SELECT details FROM audit_log WHERE action='export'")" "15550000010" "the export audit row hides the number"
r=$(curl -s -b "$A" "$URL/api/audit?per_page=100")
for a in login login_failed settings_change user_add user_update token_add call_delete export recording_download; do
	expect_contains "$r" "\"action\":\"$a\"" "audit has $a"
done
expect_contains "$r" '"ip_address":"127.0.0.1"' "audit has the client address"

# --- lockout ---
for i in 1 2 3 4 5; do login "$T/x.jar" nina wrong-password-$i 192.0.2.$i > /dev/null; done
expect_eq "$(login "$T/x.jar" nina nina-password-123 192.0.2.9)" 401 "account locked after 5 failures (from any address)"
grep -q 'SECURITY: login_lockout - user nina' "$D/logs/callbot.log" && ok "lockout logged" || fail "no lockout line"
grep -q 'SECURITY: login_failed - user nina from 192.0.2.1: bad credentials - ' "$D/logs/callbot.log" && ok "failed login logged" || fail "no login_failed line: $(grep SECURITY "$D/logs/callbot.log" | tail -3)"

# --- SSE, FORCE_HTTPS, errors ---
curl -s -N -b "$A" --max-time 2 "$URL/api/events" > "$T/sse" 2>/dev/null
expect_contains "$(cat "$T/sse")" "event: state" "SSE stream sends the state"
hdrs=$(curl -s -D - -o /dev/null -H 'X-Forwarded-Proto: http' -H 'Host: cb.example.org' "$URL/calls?x=1")
expect_contains "$hdrs" "301" "FORCE_HTTPS redirects proxied HTTP"
expect_contains "$hdrs" "Location: https://cb.example.org/calls" "to the HTTPS URL"
hdrs=$(curl -s -D - -o /dev/null -H 'X-Forwarded-Proto: http' -H 'X-Forwarded-For: 198.51.100.1' "$URL/api/health")
expect_contains "$hdrs" "301" "redirect also for forwarded clients"
code=$(curl -s -o "$T/b" -w '%{http_code}' -b "$A" -H 'Content-Type: application/json' -H "X-CSRF-Token: $(csrf_of "$A")" \
	--data-binary @<(head -c 100000 /dev/zero | tr '\0' 'a') "$URL/api/settings")
expect_eq "$code" 413 "oversized body 413"
expect_eq "$(cat "$T/b")" '{"error":"request body too large"}' "413 JSON"
grep -Eqi 'sqlite|select |stack|\.c:[0-9]' "$T/serve.out" && fail "internals in serve output" || ok "no internals leaked to output"

# SIGTERM with an event stream open still ends serve promptly and cleanly (checked by web_stop).
curl -s -N -b "$A" --max-time 30 "$URL/api/events" > /dev/null 2>&1 &
SSE_PID=$!; PIDS+=("$SSE_PID")
sleep 0.5

# --- logout ---
csrf=$(csrf_of "$A")
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" -c "$A" --data-urlencode "csrf_token=$csrf" "$URL/logout")
expect_eq "$code" 303 "logout"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$A" "$URL/api/me")
expect_eq "$code" 401 "session ended by logout"
expect_eq "$(db "SELECT count(*) FROM audit_log WHERE action='logout'")" 1 "logout audited"
web_stop
echo "$CHECKS checks passed"
