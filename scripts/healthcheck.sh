#!/usr/bin/env bash
# healthcheck.sh - is callbot up? Asks GET /api/health; exit 0 ok, 1 degraded/down, 2 usage.
# Usage: healthcheck.sh [URL]   (default http://127.0.0.1:5000, or WEB_LISTEN from CALLBOT_CONFIG)
# For monitoring (Nagios/Icinga exit codes 0/2 via --nagios) and systemd/cron watchdogs.
set -uo pipefail
nagios=0
[ "${1:-}" = "--nagios" ] && { nagios=1; shift; }
base=${1:-}
if [ -z "$base" ]; then
	listen=127.0.0.1:5000
	[ -n "${CALLBOT_CONFIG:-}" ] && [ -r "$CALLBOT_CONFIG" ] && \
		listen=$(sed -n 's/^WEB_LISTEN=//p' "$CALLBOT_CONFIG" | tail -1)
	base="http://${listen/0.0.0.0/127.0.0.1}"
fi
body=$(curl -fsS --max-time 5 "$base/api/health" 2>&1)
rc=$?
bad() { echo "CRITICAL: callbot $1"; [ $nagios -eq 1 ] && exit 2; exit 1; }
[ $rc -eq 0 ] || bad "unreachable at $base ($body)"
case "$body" in
*'"status":"ok"'*|*'"status": "ok"'*) ;;
*) bad "unhealthy: $body" ;;
esac
echo "OK: callbot $body"
exit 0
