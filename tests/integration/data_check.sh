#!/usr/bin/env bash
# data_check.sh - callbot check: the pre-deployment checklist on a fresh and on a weakened site.
. "$(dirname "$0")/lib.sh.inc"

D=$T/site
new_instance "$D"
out=$(timeout 60 "$CALLBOT" --config "$D/.env" check 2>&1); rc=$?
expect_eq "$rc" 0 "fresh init: no FAIL (exit 0)"
expect_not_contains "$out" "FAIL" "fresh init: no FAIL line"
for line in "PASS  .env file" "PASS  SECRET_KEY" "PASS  database file" "PASS  AUDIO_DIR" \
	"PASS  LOG_DIR" "PASS  user passwords" "PASS  encryption" "PASS  retention" \
	"PASS  recording files" "PASS  TRUSTED_PROXIES" "PASS  consent" "WARN  SIP transport" \
	"WARN  SRTP" "fail2ban"; do
	expect_contains "$out" "$line" "fresh init: $line"
done
printf '%s\n' "$out" | grep -E '^(WARN|FAIL)' | grep -v 'fix:' | grep -v "does not exist" \
	| grep -qv -e 'SIP_PASSWORD' && fail "a WARN/FAIL without a fix: $(printf '%s\n' "$out" | grep -E '^(WARN|FAIL)' | grep -v 'fix:')" \
	|| ok "every WARN/FAIL line says how to fix it"

# Weakened: 0644 .env, a user whose password is its name, no encryption, open recordings,
# proxy headers trusted from anywhere, data kept forever.
printf 'adminadmin12\n' | timeout 60 "$CALLBOT" --config "$D/.env" user add adminadmin12 --role admin >/dev/null 2>&1 \
	|| fail "user add"
chmod 644 "$D/.env"
set_key "$D/.env" ENCRYPTION_KEY ""
set_key "$D/.env" RETENTION_DAYS 0
set_key "$D/.env" TRUSTED_PROXIES "0.0.0.0/0"
printf 'RIFF\0\0\0\0WAVEfmt ' > "$D/audio_output/x.wav"; chmod 644 "$D/audio_output/x.wav"
out=$(timeout 60 "$CALLBOT" --config "$D/.env" check 2>&1); rc=$?
expect_eq "$rc" 1 "weakened site: exit 1"
for line in "FAIL  .env file" "FAIL  user password" "FAIL  encryption" "FAIL  recording files" \
	"FAIL  TRUSTED_PROXIES" "WARN  retention"; do
	expect_contains "$out" "$line" "weakened: $line"
done
expect_contains "$out" "callbot user passwd adminadmin12" "weak user: fix names the command"
expect_contains "$out" "callbot gen-key" "no encryption: fix names gen-key"
echo "data_check: $CHECKS checks passed"
