#!/usr/bin/env bash
# pg_pooler.sh - callbot behind PgBouncer in transaction mode, the harshest pooler setting:
# each transaction may land on another server session, and the server session is reset
# (DISCARD ALL) after each one, so a prepared statement never survives. callbot must notice
# ("prepared statement does not exist"), fall back to unprepared statements, and lose
# nothing: the store test suite passes through the pooler, a real call is stored, and
# concurrent /api/calls pages all carry the right total (docs/storage.md).
source "$(dirname "$0")/sip/lib.sh"
source "$(dirname "$0")/pg/lib.sh"
trap 'rc=$?; set +e; [ -f "$P/pgb.pid" ] && kill "$(cat "$P/pgb.pid")"; pg_stop; (exit $rc); cleanup' EXIT

command -v pgbouncer >/dev/null || PATH=$PATH:/usr/sbin
command -v pgbouncer >/dev/null || die "pgbouncer not installed (scripts/packages/test-data.list)"
: "${BUILD_DIR:?BUILD_DIR must point to the build directory}"

pg_start
BPORT=$(free_port 1)
cat >"$P/pgb.ini" <<INI
[databases]
callbot = host=127.0.0.1 port=$PGPORT dbname=callbot
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $P/users.txt
pool_mode = transaction
server_reset_query = DISCARD ALL
server_reset_query_always = 1
default_pool_size = 2
max_client_conn = 100
pidfile = $P/pgb.pid
logfile = $P/pgb.log
INI
printf '"postgres" "%s"\n' "$PGPW" >"$P/users.txt"
chown postgres "$P/pgb.ini" "$P/users.txt"
runuser -u postgres -- pgbouncer -d "$P/pgb.ini" || die "pgbouncer did not start"
BURL="postgresql://postgres:$PGPW@127.0.0.1:$BPORT/callbot?sslmode=disable&connect_timeout=5"
for _ in $(seq 1 50); do
	"$PY" -c "import socket; socket.create_connection(('127.0.0.1', $BPORT), 1)" 2>/dev/null && break
	sleep 0.1
done

CALLBOT_TEST_PG_URL="$BURL" "$BUILD_DIR/tests/test_store" >"$WORK/store.out" 2>&1 ||
	die "store test suite through PgBouncer: $(grep -E 'FAIL|ERROR' "$WORK/store.out" | head -5)"
log "store test suite passes through PgBouncer (transaction mode, DISCARD ALL)"

cb_init
caller_audio
sed -i '/^DATABASE_URL=/d' "$WORK/.env"
echo "DATABASE_URL=$BURL" >>"$WORK/.env"
cb_start BOT_MODE=echo
sipp_run udp -sf "$SIPDIR/uac_call.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 2000 \
	"127.0.0.1:$SIP_PORT" || die "sipp call failed: $(tail -5 "$WORK/udp.out")"
for _ in $(seq 1 50); do
	[ "$(pgsql "SELECT count(*) FROM calls WHERE status = 'completed'")" = 1 ] && break
	sleep 0.2
done
[ "$(pgsql "SELECT count(*) FROM calls WHERE status = 'completed'")" = 1 ] ||
	die "the call was not stored as completed"
pgsql "INSERT INTO calls(sip_call_id, caller, callee, started_at, status)
  SELECT 'p-' || i, '+1555' || i, '100', now() - i * interval '1 minute', 'completed'
  FROM generate_series(1, 300) AS i" >/dev/null

echo 'pooler-password-123' | env "${CB_ENV[@]}" "$CALLBOT" --config "$WORK/.env" user add pool --role viewer >/dev/null ||
	die "user add through PgBouncer"
URL=http://127.0.0.1:$WEB_PORT
cookie=$(web_login pool pooler-password-123) || exit 1 # through PgBouncer
# 4 clients at once: callbot's pooled connections interleave on PgBouncer's 2 server sessions.
seq 1 40 | xargs -P 4 -I{} curl -s -H "Cookie: callbot_session=$cookie" \
	"$URL/api/calls?per_page=5&page={}" -o "$WORK/page.{}" -w '%{http_code}\n' >"$WORK/codes"
[ "$(grep -c '^200$' "$WORK/codes")" = 40 ] || die "pages failed: $(sort "$WORK/codes" | uniq -c)"
for i in $(seq 1 40); do
	t=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$WORK/page.$i")
	[ "$t" = 301 ] || die "page $i: total $t, expected 301"
done
"$PY" - "$WORK" <<'PY' || die "pages overlap or miss calls"
import json, sys
ids = [c["id"] for i in range(1, 41) for c in json.load(open(f"{sys.argv[1]}/page.{i}"))["calls"]]
assert len(ids) == 200 and len(set(ids)) == 200, (len(ids), len(set(ids)))
PY
log "40 concurrent pages, each with total 301, no overlap"
grep -q "running statements unprepared" "$WORK/logs/callbot.log" ||
	die "the fallback to unprepared statements was not taken (test not exercising it)"
grep -E "ERROR .*store" "$WORK/logs/callbot.log" && die "store errors behind PgBouncer"
log "callbot fell back to unprepared statements, no store error"
cb_stop
log "PASS"
