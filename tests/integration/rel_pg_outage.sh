#!/usr/bin/env bash
# rel_pg_outage.sh - PostgreSQL stops for 10 s in the middle of a conversation: the call goes
# on and completes, the writes wait in memory and reach the database when it is back, and
# no turn is lost.
source "$(dirname "$0")/sip/lib.sh"
source "$(dirname "$0")/pg/lib.sh"
trap 'rc=$?; set +e; pg_stop; (exit $rc); cleanup' EXIT

pg_start
cb_init
sox "$TESTS_DIR/data/speech/goforward.wav" -r 8000 -c 1 -t ul "$WORK/speech.ulaw"
sox -n -r 8000 -c 1 -t ul "$WORK/pad.ulaw" trim 0 0.3
cat "$WORK/pad.ulaw" "$WORK/speech.ulaw" "$WORK/pad.ulaw" > "$WORK/caller.ulaw"
printf '[forward]\nmatch: go forward ten meters\nreply: Moving forward.\n[fallback]\nreply: Sorry.\n' > "$WORK/test.rules"
cb_start DATABASE_URL="$DB_URL" BOT_MODE=ai RULES_FILE="$WORK/test.rules" CONSENT_MODE=off GREETING="Hi." RECORD_CALLS=off

sipp_run talk -sf "$SIPDIR/uac_talk.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 12000 \
	"127.0.0.1:$SIP_PORT" > /dev/null 2>&1 &
SIPP=$!
sleep 1.5
pg_halt || die "could not stop PostgreSQL"
log "PostgreSQL stopped during the call"
sleep 10
pg_resume
log "PostgreSQL back"
wait "$SIPP" || die "the call failed while the database was down: $(tail -5 "$WORK/talk.out")"
# The writer flushes what waited; give it a moment.
for _ in $(seq 1 50); do
	[ "$(pgsql "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL")" = 1 ] && break
	sleep 0.2
done
cb_stop
grep -q "PostgreSQL connection lost" "$WORK/logs/callbot.log" || die "the outage was not noticed"
grep -q "PostgreSQL connection restored" "$WORK/logs/callbot.log" || die "no reconnection logged"
[ "$(pgsql "SELECT status || '/' || end_reason FROM calls")" = "completed/caller_bye" ] ||
	die "call row incomplete: $(pgsql 'SELECT status, end_reason, ended_at FROM calls')"
n=$(pgsql "SELECT count(*) FROM turns")
[ "$n" = 3 ] || die "expected 3 turns (greeting, caller, answer), found $n"
log "ok: rel_pg_outage"
