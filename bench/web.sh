#!/usr/bin/env bash
# bench/web.sh - wrk on GET /api/calls (page 1 of 20, session cookie) with 10,000 seeded calls.
# Usage: bench/web.sh [CALLBOT_BINARY] [SECONDS]   (use a Release build, not the sanitizer one)
# Prints wrk's report and a last line "web_api_calls_rps N". Goal: >= 5000 req/s on loopback.
set -euo pipefail
CALLBOT=${1:-build/callbot}
SECS=${2:-10}
command -v wrk > /dev/null || { echo "wrk missing (apt-get install wrk)" >&2; exit 2; }
T=$(mktemp -d /tmp/callbot-bench-XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CALLBOT" --config "$T/.env" init > /dev/null
sed -i '/^WEB_LISTEN=/d; /^RATE_LIMITS=/d; /^LOG_LEVEL=/d; /^SIP_LISTEN=/d' "$T/.env"
printf 'WEB_LISTEN=127.0.0.1:%s\nRATE_LIMITS=100000000 per hour\nLOG_LEVEL=warn\nSIP_LISTEN=127.0.0.1:%s\n' \
	"$PORT" "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" >> "$T/.env"
echo 'bench-password-123' | "$CALLBOT" --config "$T/.env" user add bench --role admin > /dev/null
sqlite3 "$T/callbot.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 10000)
  INSERT INTO calls(sip_call_id, caller, callee, started_at, answered_at, ended_at, status, end_reason)
  SELECT 'b-' || i, printf('+1555%07d', i), '100',
    strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' minutes') || '.000Z',
    strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' minutes', '+1 seconds') || '.000Z',
    strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' minutes', '+60 seconds') || '.000Z',
    'completed', 'hangup' FROM n;"
"$CALLBOT" --config "$T/.env" serve > "$T/serve.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT
csrf=$(curl -s -c "$T/jar" "$URL/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
curl -s -o /dev/null -b "$T/jar" -c "$T/jar" --data-urlencode "csrf_token=$csrf" \
	-d 'username=bench&password=bench-password-123' "$URL/login"
cookie=$(awk '$6 == "callbot_session" {print $7}' "$T/jar")
[ -n "$cookie" ] || { echo "login failed" >&2; exit 1; }
total=$(curl -s -H "Cookie: callbot_session=$cookie" "$URL/api/calls" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
[ "$total" = 10000 ] || { echo "expected 10000 calls, got $total" >&2; exit 1; }
wrk -t2 -c32 -d"${SECS}s" --latency -H "Cookie: callbot_session=$cookie" "$URL/api/calls" | tee "$T/wrk.out"
rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$T/wrk.out")
grep -q "Non-2xx" "$T/wrk.out" && { echo "some requests failed" >&2; exit 1; }
echo "web_api_calls_rps ${rps%.*}"
