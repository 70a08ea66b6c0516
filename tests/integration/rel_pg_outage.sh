#!/usr/bin/env bash
# rel_pg_outage.sh - PostgreSQL stops for 10 s in the middle of a conversation: the call goes
# on and completes, the writes wait in memory and reach the database when it is back, and
# no turn is lost. The wait is visible: one log line when it starts, one when everything is
# flushed, and /metrics answers during the outage with callbot_db_outage 1 and a queue
# depth, then 0 afterwards (docs/reliability.md, "Database outage").
source "$(dirname "$0")/sip/lib.sh"
source "$(dirname "$0")/pg/lib.sh"
trap 'rc=$?; set +e; pg_stop; (exit $rc); cleanup' EXIT

pg_start
cb_init
sox "$TESTS_DIR/data/speech/goforward.wav" -r 8000 -c 1 -t ul "$WORK/speech.ulaw"
sox -n -r 8000 -c 1 -t ul "$WORK/pad.ulaw" trim 0 0.3
cat "$WORK/pad.ulaw" "$WORK/speech.ulaw" "$WORK/pad.ulaw" > "$WORK/caller.ulaw"
printf '[forward]\nmatch: go forward ten meters\nreply: Moving forward.\n[fallback]\nreply: Sorry.\n' > "$WORK/test.rules"
metrics() { curl -s -m 3 "http://127.0.0.1:$WEB_PORT/metrics" || true; }
metric() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }
cb_start DATABASE_URL="$DB_URL" TRUSTED_PROXIES=127.0.0.1/32 BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="Hi." RECORD_CALLS=off
# An operator logged in to the dashboard before the outage.
echo 'outage-password-123' | env "${CB_ENV[@]}" DATABASE_URL="$DB_URL" "$CALLBOT" --config "$WORK/.env" \
	user add ops --role viewer >/dev/null || die "user add"
URL=http://127.0.0.1:$WEB_PORT
COOKIE="Cookie: callbot_session=$(web_login ops outage-password-123)" || exit 1
api_calls() { curl -s -m 3 -o /dev/null -w '%{http_code} %{time_total}\n' -H "$COOKIE" "$URL/api/calls" || true; }
[ "$(api_calls | cut -d' ' -f1)" = 200 ] || die "the dashboard session does not work"

sipp_run talk -sf "$SIPDIR/uac_talk.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 12000 \
	"127.0.0.1:$SIP_PORT" > /dev/null 2>&1 &
SIPP=$!
sleep 1.5
pg_halt || die "could not stop PostgreSQL"
log "PostgreSQL stopped during the call"
# The caller's turn now waits for the database; /metrics must say so without waiting for it
# (a request made in the first 2 s of the wait may block until the database is back: -m 3).
seen=
for _ in $(seq 1 9); do
	sleep 1
	m=$(metrics)
	api_calls >>"$WORK/api_during"
	if [ "$(metric callbot_db_outage "$m")" = 1 ] && [ "${seen:-0}" = 0 ]; then
		seen=$(metric callbot_db_queue_depth "$m")
		log "during the outage: callbot_db_queue_depth $seen"
		grep -q "^callbot_calls_total" <<<"$m" && die "/metrics waited for the database"
	fi
done
[ -n "$seen" ] && [ "$seen" -ge 1 ] || die "no outage or queue depth on /metrics: $(metrics | grep db_)"
# The dashboard during the outage: "database unavailable" at once, not a 30 s hang, not a
# 500 and not a logout (one request may be the one waiting for the server: curl gives up).
log "GET /api/calls during the outage (code, seconds): $(tr '\n' ' ' <"$WORK/api_during")"
[ "$(grep -c '^503 ' "$WORK/api_during")" -ge 7 ] || die "expected fast 503 answers during the outage"
grep -Ev '^(503|000) ' "$WORK/api_during" && die "other answers than 503 during the outage"
awk '$1 == 503 && $2 > 1.5 { exit 1 }' "$WORK/api_during" || die "a 503 took more than 1.5 s"
pg_resume
T_BACK=$(date +%s%3N)
log "PostgreSQL back"
wait "$SIPP" || die "the call failed while the database was down: $(tail -5 "$WORK/talk.out")"
# The writer flushes what waited; give it a moment.
for _ in $(seq 1 50); do
	[ "$(pgsql "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL")" = 1 ] && break
	sleep 0.2
done
m=
for _ in $(seq 1 50); do
	m=$(metrics)
	[ "$(metric callbot_db_queue_depth "$m")" = 0 ] && [ "$(metric callbot_db_outage "$m")" = 0 ] && break
	sleep 0.2
done
[ "$(metric callbot_db_queue_depth "$m")" = 0 ] || die "queue not flushed: $(grep db_ <<<"$m")"
grep -q "^callbot_calls_total 1$" <<<"$m" || die "database metrics missing after the outage"
[ "$(api_calls | cut -d' ' -f1)" = 200 ] || die "the dashboard session did not survive the outage"
[ "$(metric callbot_db_dropped_total "$m")" = 0 ] || die "writes dropped: $(grep db_ <<<"$m")"
cb_stop
grep -q "calls: the database is unavailable" "$WORK/logs/callbot.log" || die "no log line when writes began to wait"
grep -Eq "calls: the database is back: [1-9][0-9]* call-row writes" "$WORK/logs/callbot.log" ||
	die "no log line when the writes were flushed"
# The figure for docs/reliability.md: database back -> every waiting write flushed.
flushed=$(grep -m1 "calls: the database is back" "$WORK/logs/callbot.log" | cut -d' ' -f1)
log "writes flushed $(($(date -d "$flushed" +%s%3N) - T_BACK)) ms after PostgreSQL was back"
grep -q "PostgreSQL connection lost" "$WORK/logs/callbot.log" || die "the outage was not noticed"
grep -q "PostgreSQL connection restored" "$WORK/logs/callbot.log" || die "no reconnection logged"
[ "$(pgsql "SELECT status || '/' || end_reason FROM calls")" = "completed/caller_bye" ] ||
	die "call row incomplete: $(pgsql 'SELECT status, end_reason, ended_at FROM calls')"
n=$(pgsql "SELECT count(*) FROM turns")
[ "$n" = 3 ] || die "expected 3 turns (greeting, caller, answer), found $n"
log "ok: rel_pg_outage"
