#!/usr/bin/env bash
# cli_users.sh - user and token subcommands, passwords from stdin only, audit rows.
. "$(dirname "$0")/lib.sh.inc"

D=$T/site
mkdir -p "$D"
"$CALLBOT" --config "$D/.env" init > /dev/null 2>&1 || fail "init"
cb() { "$CALLBOT" --config "$D/.env" "$@"; }
db() { sqlite3 "$D/callbot.db" "$1"; }

echo "correct horse battery" | cb user add bob > "$T/out" 2>&1 || fail "user add: $(cat "$T/out")"
ok "user add reads the password from stdin"
expect_eq "$(db "select role from users where username='bob'")" viewer "default role is viewer"
echo "another long password" | cb user add carol --role admin > /dev/null 2>&1 || fail "add admin"
expect_eq "$(db "select role from users where username='carol'")" admin "--role admin"
echo "whatever whatever" | cb user add bob > "$T/out" 2>&1; expect_eq "$?" 1 "duplicate user fails"
expect_contains "$(cat "$T/out")" "already exists" "duplicate is explained"
echo "short" | cb user add dave > "$T/out" 2>&1; expect_eq "$?" 1 "short password refused"
expect_contains "$(cat "$T/out")" "at least 12" "short password explained"
echo "long enough password" | cb user add 'bad name!' > /dev/null 2>&1; expect_eq "$?" 2 "invalid name refused"
cb user add eve --role root < /dev/null > /dev/null 2>&1; expect_eq "$?" 2 "invalid role refused"
cb user add eve < /dev/null > "$T/out" 2>&1; expect_eq "$?" 1 "no password on stdin fails"

list=$(cb user list)
expect_contains "$list" "bob" "list shows bob"
expect_contains "$list" "carol" "list shows carol"
expect_not_contains "$list" 'argon2' "list shows no hashes"

old=$(db "select password_hash from users where username='bob'")
echo "a brand new password" | cb user passwd bob > /dev/null 2>&1 || fail "passwd"
new=$(db "select password_hash from users where username='bob'")
[ "$old" != "$new" ] && ok "passwd changes the hash" || fail "hash unchanged"
cb user passwd nobody < /dev/null > /dev/null 2>&1; expect_eq "$?" 1 "passwd of unknown user fails"

cb user del bob > /dev/null || fail "del bob"
expect_eq "$(db "select count(*) from users where username='bob'")" 0 "bob deleted"
cb user del carol > /dev/null || fail "del carol (admin remains)"
cb user del admin > "$T/out" 2>&1; expect_eq "$?" 1 "the last admin cannot be deleted"
expect_contains "$(cat "$T/out")" "last admin" "last-admin refusal explained"

# Tokens: shown once on the last line, stored hashed.
out=$(cb token add admin --name ci) || fail "token add"
tok=$(printf '%s\n' "$out" | tail -n 1)
[[ "$tok" =~ ^cbt_[A-Za-z0-9_-]{43}$ ]] && ok "token printed on the last line" || fail "token '$tok'"
hash=$(db "select token_hash from api_tokens")
expect_eq "$hash" "$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)" "token stored as SHA-256"
expect_not_contains "$(db .dump)" "$tok" "token not stored in clear"
list=$(cb token list)
expect_contains "$list" "ci" "token list shows the label"
expect_not_contains "$list" "$tok" "token list never shows the token"
id=$(db "select id from api_tokens")
cb token revoke "$id" > /dev/null || fail "revoke"
expect_eq "$(db "select count(*) from api_tokens")" 0 "token revoked"
cb token revoke 999 > /dev/null 2>&1; expect_eq "$?" 1 "revoking an unknown token fails"
cb token add nobody > /dev/null 2>&1; expect_eq "$?" 1 "token for unknown user fails"

# Every change is audited.
actions=$(db "select group_concat(action) from audit_log")
for a in user_add user_passwd user_del token_add token_revoke; do
	expect_contains "$actions" "$a" "audit has $a"
done

# check flags a trivial password set outside the CLI (e.g. an imported user).
weak=$($PY - <<'PY'
import ctypes
s = ctypes.CDLL("libsodium.so.23"); s.sodium_init()
out = ctypes.create_string_buffer(128)
assert s.crypto_pwhash_str(out, b"password", ctypes.c_ulonglong(8), ctypes.c_ulonglong(2), ctypes.c_size_t(64 << 20)) == 0
print(out.value.decode())
PY
)
db "insert into users(username, password_hash, role, created_at, disabled) values('legacy', '$weak', 'viewer', '2026-01-01T00:00:00.000Z', 0)"
out=$(cb check 2>&1); rc=$?
expect_eq "$rc" 1 "check fails with a trivial user password"
expect_contains "$out" "user 'legacy' has a default or trivial password" "the weak user is named"
echo "$CHECKS checks passed"
