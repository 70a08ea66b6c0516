#!/usr/bin/env bash
# web_nginx.sh - contrib/nginx/callbot.conf in front of serve, with a self-signed certificate:
# HTTPS works through it, HTTP redirects, HSTS once, Secure cookies, and access.log shows the
# real client address (not nginx's, not a spoofed X-Forwarded-For).
. "$(dirname "$0")/lib.sh.inc"
. "$TESTS_DIR/data/web/lib.sh"
command -v nginx > /dev/null || fail "nginx missing (apt-get install nginx-light)"

web_instance "$T/site"
add_user alice admin 'alice-password-123'
web_serve

# Direct requests made by web_serve; their lines are written when each response completes,
# so wait until the count stops moving before taking it.
SKIP=-1
for _ in $(seq 1 50); do
	n=$(wc -l < "$D/logs/access.log")
	[ "$n" = "$SKIP" ] && break
	SKIP=$n; sleep 0.1
done
HTTP_PORT=$(free_port); HTTPS_PORT=$(free_port)
N=$T/nginx; mkdir -p "$N/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$N/key.pem" \
	-out "$N/cert.pem" > /dev/null 2>&1 || fail "openssl"
sed -e "s|listen 80;|listen 127.0.0.1:$HTTP_PORT;|" -e "s|listen 443 ssl http2;|listen 127.0.0.1:$HTTPS_PORT ssl;|" \
	-e '/listen \[::\]/d' -e "s|server 127.0.0.1:5000;|server 127.0.0.1:$WEB_PORT;|" \
	-e "s|/etc/letsencrypt/live/callbot.example.org/fullchain.pem|$N/cert.pem|" \
	-e "s|/etc/letsencrypt/live/callbot.example.org/privkey.pem|$N/key.pem|" \
	-e "s|/var/www/letsencrypt|$N|" \
	"$TESTS_DIR/../contrib/nginx/callbot.conf" > "$N/callbot.conf"
cat > "$N/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    include $N/callbot.conf;
}
CONF
nginx -t -c "$N/nginx.conf" -p "$N" > "$N/t.out" 2>&1 || { cat "$N/t.out"; fail "nginx -t"; }
ok "contrib/nginx/callbot.conf passes nginx -t"
nginx -c "$N/nginx.conf" -p "$N" > "$N/run.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do curl -sk -o /dev/null --interface 127.0.0.3 "https://127.0.0.1:$HTTPS_PORT/api/health" && break; sleep 0.1; done

# The client connects from 127.0.0.3: that is the address callbot must log.
C=(--interface 127.0.0.3 --max-time 10)
hdrs=$(curl -sk -D - -o "$T/b" "${C[@]}" -H 'X-Forwarded-For: 6.6.6.6' "https://127.0.0.1:$HTTPS_PORT/api/health")
expect_contains "$hdrs" "HTTP/1.1 200" "HTTPS through nginx"
expect_contains "$(cat "$T/b")" '"status":"ok"' "health through nginx"
expect_eq "$(echo "$hdrs" | grep -ci '^Strict-Transport-Security: max-age=31536000; includeSubDomains')" 1 "HSTS exactly once"
expect_contains "$hdrs" "Content-Security-Policy: default-src 'self'" "callbot's headers pass through"
hdrs=$(curl -s -D - -o /dev/null "${C[@]}" "http://127.0.0.1:$HTTP_PORT/calls?page=2")
expect_contains "$hdrs" "301" "HTTP redirects"
expect_contains "$hdrs" "Location: https://127.0.0.1/calls?page=2" "to HTTPS, same path"

# Login through nginx: Secure cookie, and the real address in access.log and the audit log.
jar=$T/jar
csrf=$(curl -sk -c "$jar" "${C[@]}" "https://127.0.0.1:$HTTPS_PORT/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
hdrs=$(curl -sk -D - -o /dev/null -b "$jar" -c "$jar" "${C[@]}" -H 'X-Forwarded-For: 6.6.6.6' \
	--data-urlencode "csrf_token=$csrf" -d 'username=alice&password=wrong-password' "https://127.0.0.1:$HTTPS_PORT/login")
expect_contains "$hdrs" "401" "failed login through nginx is 401"
hdrs=$(curl -sk -D - -o /dev/null -b "$jar" -c "$jar" "${C[@]}" \
	--data-urlencode "csrf_token=$csrf" -d 'username=alice&password=alice-password-123' "https://127.0.0.1:$HTTPS_PORT/login")
expect_contains "$hdrs" "303" "login through nginx"
expect_contains "$hdrs" "HttpOnly; SameSite=Strict; Secure" "session cookie is Secure over HTTPS"
code=$(curl -sk -o /dev/null -w '%{http_code}' -b "$jar" "${C[@]}" "https://127.0.0.1:$HTTPS_PORT/api/calls")
expect_eq "$code" 200 "API through nginx with the session"
curl -s -N -k -b "$jar" "${C[@]}" --max-time 2 "https://127.0.0.1:$HTTPS_PORT/api/events" > "$T/sse" 2>/dev/null
expect_contains "$(cat "$T/sse")" "event: state" "SSE through nginx"
sleep 0.3
log=$(tail -n +$((SKIP + 1)) "$D/logs/access.log")
expect_contains "$log" '127.0.0.3 - - [' "access.log has the real client address"
echo "$log" | grep -q '^127\.0\.0\.3 - - \[.*"POST /login HTTP/1.1" 401' && ok "failed login logged with the real address" \
	|| fail "no 401 from 127.0.0.3: $log"
expect_not_contains "$log" "6.6.6.6" "a spoofed X-Forwarded-For is not believed"
echo "$log" | grep -q '^127.0.0.1 ' && fail "nginx address logged as client: $log" || ok "nginx's address not logged as client"
expect_eq "$(db "SELECT ip_address FROM audit_log WHERE action='login' ORDER BY id DESC LIMIT 1")" 127.0.0.3 "audit has the real address"
web_stop
echo "$CHECKS checks passed"
