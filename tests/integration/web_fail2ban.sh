#!/usr/bin/env bash
# web_fail2ban.sh - contrib/fail2ban as shipped: the jail says what SPEC §5 says, and
# fail2ban-regex finds exactly the 3 failed logins in an access.log written by serve.
. "$(dirname "$0")/lib.sh.inc"
. "$TESTS_DIR/data/web/lib.sh"
command -v fail2ban-regex > /dev/null || fail "fail2ban-regex missing (apt-get install fail2ban)"
C=$TESTS_DIR/../contrib/fail2ban
FILTER=$C/filter.d/callbot-web.conf
JAIL=$C/jail.d/callbot-web.conf

jail=$(cat "$JAIL")
expect_contains "$jail" "[callbot-web]" "jail name"
for l in "port     = 5000" "logpath  = /var/log/callbot/access.log" "maxretry = 3" "bantime  = 3600" "filter   = callbot-web"; do
	expect_contains "$jail" "$l" "jail: $l"
done

web_instance "$T/site"
set_key "$D/.env" TRUSTED_PROXIES "127.0.0.2/32"
add_user alice admin 'alice-password-123'
web_serve
J=$T/j
for i in 1 2 3; do expect_eq "$(login "$J" alice "wrong-password-$i")" 401 "failed login $i is 401"; done
expect_eq "$(login "$J" alice alice-password-123)" 303 "good login"
curl -s -o /dev/null "$URL/api/health"
curl -s -o /dev/null -X POST "$URL/logout"
web_stop
log=$D/logs/access.log
expect_eq "$(grep -c '"POST /login HTTP/1.1" 401' "$log")" 3 "access.log has 3 failed logins"

out=$(timeout 60 fail2ban-regex "$log" "$FILTER" 2>&1)
echo "$out" | grep -Eq '^Lines: [0-9]+ lines, 0 ignored, 3 matched' && ok "fail2ban-regex matches 3 lines" \
	|| fail "fail2ban-regex: $out"
echo "$out" | grep -q '127.0.0.1' && ok "the address found is 127.0.0.1" || fail "no address: $out"

# Pinned sample lines keep the filter honest (IPv6, proxied client, near misses).
out=$(timeout 60 fail2ban-regex "$TESTS_DIR/data/web/access-sample.log" "$FILTER" 2>&1)
echo "$out" | grep -Eq '^Lines: 7 lines, 0 ignored, 3 matched' && ok "sample log: 3 of 7 lines match" \
	|| fail "sample log: $out"
echo "$CHECKS checks passed"
