#!/usr/bin/env bash
# cli_init.sh - init, gen-secret, gen-key, check and config errors through the real binary.
. "$(dirname "$0")/lib.sh.inc"

D=$T/site
mkdir -p "$D"
out=$(cd "$D" && "$CALLBOT" init 2>&1) || fail "init failed: $out"
expect_contains "$out" "admin / " "init prints the admin password"
pw=$(printf '%s\n' "$out" | sed -n 's/^Dashboard login:  admin \/ //p')
[ ${#pw} -eq 20 ] && ok "admin password has 20 characters" || fail "password '$pw'"
expect_eq "$(file_mode "$D/.env")" 600 ".env is 0600"
expect_eq "$(file_mode "$D/callbot.db")" 600 "database is 0600"
expect_eq "$(file_mode "$D/audio_output")" 750 "audio_output is 0750"
[ -d "$D/logs" ] && ok "logs created" || fail "no logs dir"

secret=$(sed -n 's/^SECRET_KEY=//p' "$D/.env")
key=$(sed -n 's/^ENCRYPTION_KEY=//p' "$D/.env")
[[ "$secret" =~ ^[A-Za-z0-9_-]{43}$ ]] && ok "SECRET_KEY is 43 URL-safe chars" || fail "SECRET_KEY '$secret'"
$PY -c 'import sys; from cryptography.fernet import Fernet; f=Fernet(sys.argv[1]); assert f.decrypt(f.encrypt(b"x"))==b"x"' "$key" \
	&& ok "ENCRYPTION_KEY is a valid Fernet key for Python" || fail "ENCRYPTION_KEY '$key'"
tables=$(sqlite3 "$D/callbot.db" .tables)
for t in calls turns users api_tokens settings audit_log; do
	expect_contains "$tables" "$t" "table $t exists"
done
expect_eq "$(sqlite3 "$D/callbot.db" "select role from users where username='admin'")" admin "admin user is an admin"
hash=$(sqlite3 "$D/callbot.db" "select password_hash from users where username='admin'")
expect_contains "$hash" '$argon2id$' "admin password stored as Argon2id"
expect_not_contains "$(cat "$D/.env" "$D/init.out" 2>/dev/null; sqlite3 "$D/callbot.db" .dump)" "$pw" "password not stored in clear"

# A second init changes no secret and prints no password.
out2=$(cd "$D" && "$CALLBOT" init 2>&1) || fail "second init failed: $out2"
expect_not_contains "$out2" "admin / " "second init prints no password"
expect_eq "$(sed -n 's/^SECRET_KEY=//p' "$D/.env")" "$secret" "SECRET_KEY kept"
expect_eq "$(sed -n 's/^ENCRYPTION_KEY=//p' "$D/.env")" "$key" "ENCRYPTION_KEY kept"

# init completes an existing .env without touching what is set.
E=$T/partial
mkdir -p "$E"
printf '# mine\nSECRET_KEY=%s\nENCRYPTION_KEY=\nMAX_CALLS=3\n' "$secret" > "$E/.env"
chmod 644 "$E/.env"
"$CALLBOT" --config "$E/.env" init > "$E/out" 2>&1 || fail "init on partial .env: $(cat "$E/out")"
expect_eq "$(sed -n 's/^SECRET_KEY=//p' "$E/.env")" "$secret" "existing SECRET_KEY untouched"
newkey=$(sed -n 's/^ENCRYPTION_KEY=//p' "$E/.env")
[ ${#newkey} -eq 44 ] && ok "empty ENCRYPTION_KEY filled in" || fail "ENCRYPTION_KEY '$newkey'"
expect_contains "$(cat "$E/.env")" "MAX_CALLS=3" "other settings kept"
expect_contains "$(cat "$E/.env")" "# mine" "comments kept"
expect_eq "$(file_mode "$E/.env")" 600 "init tightens .env to 0600"

# init --dir
"$CALLBOT" init --dir "$T/other" > /dev/null 2>&1 || fail "init --dir"
[ -f "$T/other/.env" ] && [ -f "$T/other/callbot.db" ] && ok "init --dir creates DIR/.env and DIR/callbot.db" || fail "init --dir"

# gen-secret / gen-key
s1=$("$CALLBOT" gen-secret); s2=$("$CALLBOT" gen-secret)
[[ "$s1" =~ ^[A-Za-z0-9_-]{43}$ ]] && [ "$s1" != "$s2" ] && ok "gen-secret" || fail "gen-secret '$s1'"
k1=$("$CALLBOT" gen-key)
$PY -c 'import sys; from cryptography.fernet import Fernet; Fernet(sys.argv[1])' "$k1" && ok "gen-key is a Fernet key" || fail "gen-key '$k1'"

# check: PASS on a fresh site, FAIL for a 0644 .env, PASS again after chmod 600.
out=$("$CALLBOT" --config "$D/.env" check 2>&1); rc=$?
expect_eq "$rc" 0 "check passes on a fresh init"
expect_contains "$out" "PASS  .env file" ".env permissions pass"
expect_contains "$out" "PASS  SECRET_KEY" "SECRET_KEY passes"
chmod 644 "$D/.env"
out=$(cd / && "$CALLBOT" check --config "$D/.env" 2>&1); rc=$?
expect_eq "$rc" 1 "check exits 1 on FAIL (--config after the command)"
expect_contains "$out" "FAIL  .env file" "0644 .env fails"
expect_contains "$out" "chmod 600" "the failure says how to fix it"
chmod 600 "$D/.env"
out=$("$CALLBOT" --config "$D/.env" check 2>&1); rc=$?
expect_eq "$rc" 0 "check passes again after chmod 600"

# Weak secret and wide directories fail.
W=$T/weak
mkdir -p "$W"
printf 'SECRET_KEY=your-secret-key-change-in-production\n' > "$W/.env"; chmod 600 "$W/.env"
mkdir -p "$W/audio_output"; chmod 777 "$W/audio_output"
out=$("$CALLBOT" --config "$W/.env" check 2>&1); rc=$?
expect_eq "$rc" 1 "check fails on a weak setup"
expect_contains "$out" "FAIL  SECRET_KEY" "known-default SECRET_KEY fails"
expect_contains "$out" "FAIL  AUDIO_DIR" "world-open AUDIO_DIR fails"
[ ! -e "$W/callbot.db" ] && ok "check creates no database" || fail "check created a database"

# Config errors name the key and exit 2.
B=$T/bad
mkdir -p "$B"
printf 'MAX_CALLS=abc\n' > "$B/.env"
out=$("$CALLBOT" --config "$B/.env" check 2>&1); rc=$?
expect_eq "$rc" 2 "bad value exits 2"
expect_contains "$out" "MAX_CALLS" "the error names MAX_CALLS"
expect_eq "$(printf '%s\n' "$out" | wc -l)" 1 "one error line"
printf 'SIP_SERVR=x\n' > "$B/.env"
out=$("$CALLBOT" --config "$B/.env" check 2>&1); rc=$?
expect_eq "$rc" 2 "unknown key exits 2"
expect_contains "$out" "did you mean SIP_SERVER" "typo gets a suggestion"
out=$(MAX_CALLS=-5 "$CALLBOT" --config "$D/.env" check 2>&1); rc=$?
expect_eq "$rc" 2 "bad environment value exits 2"
expect_contains "$out" "MAX_CALLS" "environment error names the key"
out=$("$CALLBOT" --config "$T/missing.env" check 2>&1); rc=$?
expect_eq "$rc" 2 "missing --config file exits 2"

# Usage errors.
"$CALLBOT" frobnicate > /dev/null 2>&1; expect_eq "$?" 2 "unknown command exits 2"
"$CALLBOT" --help | grep -q "gen-secret" && ok "--help lists commands" || fail "--help"
for c in init serve gen-secret gen-key user token check; do
	"$CALLBOT" "$c" --help | grep -q "Usage: callbot" && ok "$c --help" || fail "$c --help"
done
echo "$CHECKS checks passed"
