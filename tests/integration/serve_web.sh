#!/usr/bin/env bash
# serve_web.sh - serve starts, answers /api/health with security headers, logs access,
# refuses a weak SECRET_KEY, and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh.inc"

D=$T/site
new_instance "$D"
"$CALLBOT" --config "$D/.env" serve > "$T/serve.out" 2>&1 &
pid=$!; PIDS+=("$pid")
wait_http "http://127.0.0.1:$WEB_PORT/api/health"

hdrs=$(curl -s -D - -o "$T/body" "http://127.0.0.1:$WEB_PORT/api/health")
body=$(cat "$T/body")
expect_contains "$hdrs" "HTTP/1.1 200" "health is 200"
expect_contains "$body" '"status":"ok"' "health says ok"
expect_contains "$body" '"sip":' "health reports SIP state"
expect_contains "$hdrs" "Content-Type: application/json" "JSON content type"
expect_contains "$hdrs" "Content-Security-Policy: default-src 'self'" "CSP header"
expect_contains "$hdrs" "X-Content-Type-Options: nosniff" "nosniff header"
expect_contains "$hdrs" "X-Frame-Options: DENY" "frame header"
expect_contains "$hdrs" "Referrer-Policy: same-origin" "referrer header"
expect_not_contains "$hdrs" "Strict-Transport-Security" "no HSTS over plain HTTP"

code=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/nope")
expect_eq "$code" 404 "unknown path is 404"
expect_eq "$(cat "$T/body")" '{"error":"not found"}' "404 is JSON"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X DELETE "http://127.0.0.1:$WEB_PORT/api/health")
expect_eq "$code" 405 "wrong method is 405"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @<(head -c 200000 /dev/zero | tr '\0' 'a') "http://127.0.0.1:$WEB_PORT/api/health")
expect_eq "$code" 413 "oversized body is 413"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' 'b')" \
	"http://127.0.0.1:$WEB_PORT/api/health")
[ "$code" -ge 400 ] && ok "oversized header refused ($code)" || fail "oversized header got $code"

# Through a trusted proxy (loopback by default) X-Forwarded-* select client and scheme.
hdrs=$(curl -s -D - -o /dev/null -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Forwarded-Proto: https' \
	-A 'it-agent' "http://127.0.0.1:$WEB_PORT/api/health")
expect_contains "$hdrs" "Strict-Transport-Security: max-age=31536000; includeSubDomains" "HSTS behind HTTPS proxy"
sleep 0.2
log=$(cat "$D/logs/access.log")
expect_contains "$log" '203.0.113.7 - - [' "access.log has the forwarded client first"
expect_contains "$log" '"GET /api/health HTTP/1.1" 200' "access.log has request and status"
expect_contains "$log" '"it-agent"' "access.log has the user agent"
expect_contains "$log" '127.0.0.1 - - [' "direct requests logged with the peer address"

kill -TERM "$pid"
wait "$pid"; rc=$?
expect_eq "$rc" 0 "SIGTERM stops serve with exit 0"
expect_contains "$(cat "$D/logs/callbot.log")" "shutting down" "shutdown logged"

# A known-default SECRET_KEY is refused with a SECURITY line.
sed -i 's/^SECRET_KEY=.*/SECRET_KEY=your-secret-key-change-in-production/' "$D/.env"
"$CALLBOT" --config "$D/.env" serve > "$T/weak.out" 2>&1; rc=$?
expect_eq "$rc" 2 "serve refuses a weak SECRET_KEY (exit 2)"
expect_contains "$(cat "$T/weak.out")" "SECRET_KEY" "the refusal names SECRET_KEY"
grep -Eq 'SECURITY: weak_config - SECRET_KEY .* - [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$D/logs/callbot.log" \
	&& ok "SECURITY line in callbot.log" || fail "no SECURITY line: $(cat "$D/logs/callbot.log")"
echo "$CHECKS checks passed"
