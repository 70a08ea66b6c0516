#!/usr/bin/env bash
# web_ratelimit.sh - RATE_LIMITS per client address on /api/*: the 51st /api/calls request in
# an hour gets 429 with Retry-After and a SECURITY line; X-Forwarded-For from an untrusted peer
# does not dodge it; from a trusted proxy it selects the client. Also the login limit.
. "$(dirname "$0")/lib.sh.inc"
. "$TESTS_DIR/data/web/lib.sh"

web_instance "$T/site"
# Only 127.0.0.2 is a trusted proxy here, so 127.0.0.1 is an ordinary (untrusted) client.
set_key "$D/.env" TRUSTED_PROXIES "127.0.0.2/32"
set_key "$D/.env" WEB_LISTEN "0.0.0.0:$WEB_PORT"
add_user alice admin 'alice-password-123'
web_serve
TOK=$("$CALLBOT" --config "$D/.env" token add alice --name rl 2>/dev/null | tail -1)
[ -n "$TOK" ] || fail "token add"
H="Authorization: Bearer $TOK"

codes=""
for i in $(seq 1 50); do
	c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "$H" -H "X-Forwarded-For: 10.9.$i.1" \
		"http://127.0.0.1:$WEB_PORT/api/calls")
	[ "$c" = 200 ] || fail "request $i got $c"
done
ok "50 requests in the hour pass (spoofed X-Forwarded-For ignored)"
hdrs=$(curl -s -D - -o "$T/b" --max-time 5 -H "$H" -H 'X-Forwarded-For: 10.99.99.99' \
	"http://127.0.0.1:$WEB_PORT/api/calls")
expect_contains "$hdrs" "HTTP/1.1 429" "51st request is 429"
retry=$(echo "$hdrs" | tr -d '\r' | sed -n 's/^Retry-After: //p')
[ -n "$retry" ] && [ "$retry" -gt 3000 ] && [ "$retry" -le 3600 ] && ok "Retry-After $retry s" \
	|| fail "Retry-After: '$retry'"
expect_eq "$(cat "$T/b")" '{"error":"too many requests"}' "429 is JSON"
grep -Eq 'SECURITY: rate_limit - client 127\.0\.0\.1 exceeded RATE_LIMITS on GET /api/calls - [0-9T:.-]+Z$' \
	"$D/logs/callbot.log" && ok "SECURITY line for the rate limit" || fail "no SECURITY line"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/health")
expect_eq "$code" 200 "health is not rate limited"

# Through the trusted proxy 127.0.0.2 the forwarded address is the client: fresh budget.
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H "$H" \
	-H 'X-Forwarded-For: 203.0.113.50' "http://127.0.0.2:$WEB_PORT/api/calls")
expect_eq "$code" 200 "trusted proxy: forwarded client has its own budget"
sleep 0.2
grep -q '^203.0.113.50 - - .*"GET /api/calls HTTP/1.1" 200' "$D/logs/access.log" \
	&& ok "access.log names the forwarded client" || fail "forwarded client not in access.log"
grep -q '^10.9.1.1 ' "$D/logs/access.log" && fail "untrusted X-Forwarded-For reached access.log" \
	|| ok "untrusted X-Forwarded-For not logged as client"
m=$(curl -s -H "$H" --interface 127.0.0.2 -H 'X-Forwarded-For: 203.0.113.50' "http://127.0.0.2:$WEB_PORT/metrics")
expect_contains "$m" "callbot_rate_limited_total 1" "metrics count the 429"

# Login limit: 10 per minute per address.
for i in $(seq 1 10); do
	c=$(curl -s -o /dev/null -w '%{http_code}' -d 'username=a&password=b' "http://127.0.0.1:$WEB_PORT/login")
	[ "$c" = 403 ] || fail "login attempt $i got $c" # no CSRF token: refused, but counted
done
hdrs=$(curl -s -D - -o /dev/null -d 'username=a&password=b' "http://127.0.0.1:$WEB_PORT/login")
expect_contains "$hdrs" "HTTP/1.1 429" "11th login attempt in a minute is 429"
expect_contains "$hdrs" "Retry-After:" "with Retry-After"
web_stop
echo "$CHECKS checks passed"
