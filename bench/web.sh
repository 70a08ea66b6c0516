#!/usr/bin/env bash
# web.sh - wrk (2 threads, 32 connections, session cookie) on GET /api/calls (page 1 of 20)
# with 10,000 seeded calls, and on the dashboard page (GET /), with SQLite or with a
# throwaway PostgreSQL (tests/integration/pg/lib.sh).
# usage: bench/web.sh [sqlite|pg [SECONDS]]     (defaults sqlite, 10)
#   CALLBOT=path/to/callbot (a Release build, not the sanitizer one)
# Prints wrk's summaries and lines "web STORE PATH rps N p99_ms M". Goal: >= 5000 req/s.
set -euo pipefail
STORE=${1:-sqlite}
SECS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
export TESTS_DIR=${TESTS_DIR:-$HERE/../tests}
export CALLBOT=${CALLBOT:-$HERE/../build-rel/callbot}
command -v wrk >/dev/null || { echo "wrk missing (apt-get install wrk)" >&2; exit 2; }
source "$TESTS_DIR/integration/sip/lib.sh"
source "$TESTS_DIR/integration/pg/lib.sh"
trap 'pg_stop; cleanup' EXIT

cb_init
sed -i '/^RATE_LIMITS=/d; /^LOG_LEVEL=/d; /^DATABASE_URL=/d' "$WORK/.env"
printf 'RATE_LIMITS=100000000 per hour\nLOG_LEVEL=warn\n' >>"$WORK/.env"
SEED_SQLITE="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 10000)
  INSERT INTO calls(sip_call_id, caller, callee, started_at, answered_at, ended_at, status, end_reason)
  SELECT 'b-' || i, printf('+1555%07d', i), '100',
    strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' minutes') || '.000Z',
    strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' minutes', '+1 seconds') || '.000Z',
    strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' minutes', '+60 seconds') || '.000Z',
    'completed', 'hangup' FROM n;"
SEED_PG="INSERT INTO calls(sip_call_id, caller, callee, started_at, answered_at, ended_at, status, end_reason)
  SELECT 'b-' || i, '+1555' || lpad(i::text, 7, '0'), '100',
    timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute',
    timestamptz '2026-01-01 00:00:01+00' + i * interval '1 minute',
    timestamptz '2026-01-01 00:01:00+00' + i * interval '1 minute',
    'completed', 'hangup' FROM generate_series(1, 10000) AS i;"
if [ "$STORE" = pg ]; then
	pg_start
	echo "DATABASE_URL=$DB_URL" >>"$WORK/.env"
fi
echo 'bench-password-123' | env "${CB_ENV[@]}" "$CALLBOT" --config "$WORK/.env" user add bench --role admin >/dev/null
if [ "$STORE" = pg ]; then pgsql "$SEED_PG"; else sql "$SEED_SQLITE"; fi
# Started by hand: with LOG_LEVEL=warn (no line per request) cb_start's log probe stays silent.
env "${CB_ENV[@]}" "$CALLBOT" --config "$WORK/.env" serve >"$WORK/serve.out" 2>&1 &
CB_PID=$!
URL=http://127.0.0.1:$WEB_PORT
for _ in $(seq 1 100); do curl -s -o /dev/null "$URL/api/health" && break; sleep 0.1; done
cookie=$(web_login bench bench-password-123) || exit 1
total=$(curl -s -H "Cookie: callbot_session=$cookie" "$URL/api/calls" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"])')
[ "$total" = 10000 ] || die "expected 10000 calls, got $total"
for path in /api/calls /; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: callbot_session=$cookie" "$URL$path")
	[ "$code" = 200 ] || die "GET $path: HTTP $code"
	wrk -t2 -c32 -d"${SECS}s" --latency -H "Cookie: callbot_session=$cookie" "$URL$path" >"$WORK/wrk.out"
	sed 's/^/  /' "$WORK/wrk.out" >&2
	grep -q "Non-2xx" "$WORK/wrk.out" && die "GET $path: some requests failed"
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk.out")
	# "     99%    3.21ms" (us, ms or s)
	p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		printf "%.2f", v * (u == "us" ? 0.001 : (u == "s" ? 1000 : 1)) }' "$WORK/wrk.out")
	echo "web $STORE $path rps ${rps%.*} p99_ms $p99"
done
cb_stop
