#!/usr/bin/env bash
# pg_store.sh - the store test suite on a throwaway PostgreSQL 15 server with TLS
# (sslmode=verify-full against a test CA), a restart during writes, the least-privilege
# roles of contrib/postgres/setup.sql, and the CLI on PostgreSQL.
. "$(dirname "$0")/lib.sh.inc"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || fail "PostgreSQL server not installed (scripts/packages/test-data.list)"
: "${BUILD_DIR:?BUILD_DIR must point to the build directory}"
TEST_STORE=$BUILD_DIR/tests/test_store
[ -x "$TEST_STORE" ] || fail "no $TEST_STORE"
REPO=${TESTS_DIR:-$(dirname "$0")/..}/..

# initdb refuses root: the cluster belongs to postgres, in its own directory.
P=$(mktemp -d /tmp/callbot-pg-XXXXXX)
chmod 755 "$P" && chown postgres "$P"
pg_stop() {
	[ -f "$P/data/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$P/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$P"
}
trap 'pg_stop; cleanup' EXIT

# A CA and a server certificate for localhost / 127.0.0.1; a second, unrelated CA.
cd "$P"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=callbot test CA" \
	-keyout ca.key -out ca.crt >/dev/null 2>&1 || fail "CA"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
	-keyout other.key -out other.crt >/dev/null 2>&1 || fail "other CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr \
	>/dev/null 2>&1 || fail "server key"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
	-extfile san.ext -out server.crt >/dev/null 2>&1 || fail "server cert"
chown postgres server.key server.crt && chmod 600 server.key
cd - >/dev/null

PORT=$(free_port)
SUPERPW=$($PY -c 'import secrets; print(secrets.token_urlsafe(18))')
printf '%s\n' "$SUPERPW" > "$P/pw" && chown postgres "$P/pw"
runuser -u postgres -- "$PGBIN/initdb" -D "$P/data" -U postgres --pwfile="$P/pw" \
	--auth-local=trust --auth-host=scram-sha-256 >"$P/initdb.log" 2>&1 || { cat "$P/initdb.log"; fail "initdb"; }
cat >> "$P/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$P'
ssl = on
ssl_cert_file = '$P/server.crt'
ssl_key_file = '$P/server.key'
fsync = off
EOF
# TLS only: plain TCP is rejected
cat > "$P/data/pg_hba.conf" <<EOF
local   all all                trust
hostssl all all 127.0.0.1/32   scram-sha-256
host    all all 127.0.0.1/32   reject
EOF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$P/data" -l "$P/server.log" -w -t 30 start >/dev/null \
	|| { cat "$P/server.log"; fail "PostgreSQL did not start"; }
ok "PostgreSQL started on 127.0.0.1:$PORT with TLS"

# psql runs as postgres: from a folder it may enter (the checkout may be private to root).
PSQL() { (cd "$P" && runuser -u postgres -- psql -h "$P" -p "$PORT" -v ON_ERROR_STOP=1 -qAt "$@"); }
OWNERPW=ownerPw$RANDOM$RANDOM
APPPW=appPw$RANDOM$RANDOM
install -m 0644 -o postgres "$REPO/contrib/postgres/setup.sql" "$P/setup.sql"
PSQL -d postgres -v owner_password="$OWNERPW" -v app_password="$APPPW" \
	-f "$P/setup.sql" >/dev/null || fail "contrib/postgres/setup.sql"
ok "setup.sql creates the roles and database"
expect_eq "$(PSQL -d postgres -c "select string_agg(rolname||':'||rolsuper||rolcreatedb||rolcreaterole, ',' order by rolname) from pg_roles where rolname like 'callbot%'")" \
	"callbot:falsefalsefalse,callbot_owner:falsefalsefalse" "roles are neither superuser nor creators"

Q="sslmode=verify-full&sslrootcert=$P/ca.crt"
OWNER_URL="postgresql://callbot_owner:$OWNERPW@localhost:$PORT/callbot?$Q"
APP_URL="postgresql://callbot:$APPPW@localhost:$PORT/callbot?$Q"

# The whole store suite, as the schema owner, over verify-full, with a restart.
RESTART="runuser -u postgres -- $PGBIN/pg_ctl -D $P/data -m fast -w -t 30 restart -l $P/server.log >/dev/null 2>&1"
out=$(CALLBOT_TEST_PG_URL="$OWNER_URL" CALLBOT_TEST_PG_RESTART="$RESTART" timeout 120 "$TEST_STORE" 2>&1) \
	|| { printf '%s\n' "$out" | head -60; fail "store tests on PostgreSQL"; }
expect_contains "$out" "PASSED" "store test suite passes on PostgreSQL (sslmode=verify-full)"
expect_not_contains "$out" "SKIPPED" "restart test ran: no acknowledged turn lost across a server restart"

# TLS is enforced and verified.
D=$T/site
new_instance "$D"
# set_key's sed would read '&' in the URL as "the match"
set_url() { sed -i '/^DATABASE_URL=/d' "$D/.env"; printf 'DATABASE_URL=%s\n' "$1" >> "$D/.env"; }
set_url "$OWNER_URL"
timeout 60 "$CALLBOT" --config "$D/.env" user list >/dev/null 2>&1 && ok "verify-full against the test CA works" || fail "verify-full"
set_url "postgresql://callbot_owner:$OWNERPW@localhost:$PORT/callbot?sslmode=require"
timeout 60 "$CALLBOT" --config "$D/.env" user list >/dev/null 2>&1 && ok "sslmode=require works" || fail "require"
set_url "postgresql://callbot_owner:$OWNERPW@localhost:$PORT/callbot?sslmode=verify-full&sslrootcert=$P/other.crt"
out=$(timeout 60 "$CALLBOT" --config "$D/.env" user list 2>&1) && fail "a server with an unknown CA was accepted" || ok "verify-full refuses a certificate from another CA"
expect_not_contains "$out" "$OWNERPW" "the password is not printed"
set_url "postgresql://callbot_owner:$OWNERPW@localhost:$PORT/callbot?sslmode=disable"
timeout 60 "$CALLBOT" --config "$D/.env" user list >/dev/null 2>&1 && fail "plain TCP accepted" || ok "sslmode=disable is rejected by the server"

# The application role: DML on callbot's tables only.
set_url "$APP_URL"
out=$(timeout 60 "$CALLBOT" --config "$D/.env" user list 2>&1) || fail "app role cannot use the migrated schema: $out"
ok "least-privilege role runs callbot on the migrated schema"
APPPSQL() { PGPASSWORD=$APPPW psql "host=localhost port=$PORT dbname=callbot user=callbot sslmode=verify-full sslrootcert=$P/ca.crt" -qAt -c "$1" 2>&1; }
expect_contains "$(APPPSQL 'create table x(i int)')" "permission denied" "app role cannot create tables"
expect_contains "$(APPPSQL 'drop table callbot.calls')" "must be owner" "app role cannot drop callbot's tables"
expect_contains "$(APPPSQL 'select count(*) from pg_authid')" "permission denied" "app role cannot read other catalogs' secrets"
# The calls counter (migration 4): the app role's writes count, and so do a superuser's,
# whose search_path does not hold callbot's schema.
APPPSQL "insert into calls(caller) values ('+4930999'), ('+4930998')" >/dev/null
expect_eq "$(APPPSQL 'select n = (select count(*) from calls) from calls_total')" "t" "the app role's inserts are counted"
expect_eq "$(PSQL -d callbot -c "delete from callbot.calls where caller = '+4930999'; select n = (select count(*) from callbot.calls) from callbot.calls_total")" \
	"t" "a superuser's delete outside callbot's search_path is counted"

# check reports the database TLS mode.
expect_contains "$(timeout 60 "$CALLBOT" --config "$D/.env" check 2>&1)" "sslmode=verify-full" "check reports PostgreSQL sslmode"
echo "pg_store: $CHECKS checks passed"
