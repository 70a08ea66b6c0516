#!/usr/bin/env bash
# web_tls.sh - direct HTTPS with WEB_TLS_CERT/WEB_TLS_KEY: TLS works, HSTS is sent, plain HTTP
# is not served on that port, and a missing key stops start-up with a clear message.
. "$(dirname "$0")/lib.sh.inc"
. "$TESTS_DIR/data/web/lib.sh"

web_instance "$T/site"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$D/key.pem" \
	-out "$D/cert.pem" > /dev/null 2>&1 || fail "openssl"
set_key "$D/.env" WEB_TLS_CERT cert.pem
set_key "$D/.env" WEB_TLS_KEY key.pem
"$CALLBOT" --config "$D/.env" serve > "$T/serve.out" 2>&1 &
SERVE_PID=$!; PIDS+=("$SERVE_PID")
for _ in $(seq 1 100); do curl -sk -o /dev/null --max-time 1 "https://127.0.0.1:$WEB_PORT/api/health" && break; sleep 0.1; done
hdrs=$(curl -s -D - -o "$T/b" --cacert "$D/cert.pem" --resolve "localhost:$WEB_PORT:127.0.0.1" \
	"https://localhost:$WEB_PORT/api/health")
expect_contains "$hdrs" "200" "HTTPS answers (certificate verified)"
expect_contains "$hdrs" "Strict-Transport-Security: max-age=31536000; includeSubDomains" "HSTS over direct HTTPS"
hdrs=$(curl -sk -D - -o /dev/null "https://127.0.0.1:$WEB_PORT/login")
expect_contains "$hdrs" "Secure" "cookies are Secure over direct HTTPS"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$WEB_PORT/api/health")
[ "$code" != 200 ] && ok "plain HTTP not served on the TLS port ($code)" || fail "plain HTTP answered"
curl -s -o /dev/null --tls-max 1.1 --tlsv1.1 -k --max-time 3 "https://127.0.0.1:$WEB_PORT/api/health" \
	&& fail "TLS 1.1 accepted" || ok "TLS < 1.2 refused"
web_stop

set_key "$D/.env" WEB_TLS_KEY missing.pem
"$CALLBOT" --config "$D/.env" serve > "$T/bad.out" 2>&1; rc=$?
[ "$rc" != 0 ] && ok "serve refuses a missing TLS key (exit $rc)" || fail "serve started without its key"
grep -q "WEB_TLS_CERT/WEB_TLS_KEY" "$D/logs/callbot.log" && ok "the refusal names the keys" || fail "no message"
echo "$CHECKS checks passed"
