#!/usr/bin/env bash
# ops_alert_reg.sh - registration alerts end to end: callbot registers to a registrar
# (tests/mock/fake_registrar.py) with SIP_KEEPALIVE_INTERVAL=1, the registrar is killed, and
# a webhook receiver (tests/data/ops/fake_webhook.py) gets sip_registration_lost within 5 s
# (the acceptance criterion of issue #10; detection takes 2 missed 1 s probes), /api/health
# says "failed" and /api/events carries the same alert; the registrar comes back on the same
# port and sip_registration_restored follows, /api/health says "registered" again.
source "$(dirname "$0")/sip/lib.sh"

grep -q SIP_KEEPALIVE_INTERVAL "$CALLBOT" || { echo "# this build has no SIP_KEEPALIVE_INTERVAL key: skipped"; exit 0; }

cb_init
REG_PORT=$(free_port 1)
"$PY" "$TESTS_DIR/data/ops/fake_webhook.py" "$WORK/hook.port" "$WORK/hook.log" &
PIDS+=($!)
wait_for "$WORK/hook.port" '^[0-9]+$' 10 || die "webhook receiver did not start"
HOOK="http://127.0.0.1:$(cat "$WORK/hook.port")/hook"

start_registrar() {
	"$PY" "$TESTS_DIR/mock/fake_registrar.py" "$REG_PORT" "$WORK/registrar.log" 60 &
	REG_PID=$!
	PIDS+=("$REG_PID")
}
health() { curl -s --max-time 2 "http://127.0.0.1:$WEB_PORT/api/health" || true; }
# hook_has EVENT: a POST with that event arrived
hook_has() { grep -q "\"event\": \"$1\"" "$WORK/hook.log" 2>/dev/null; }

start_registrar
sleep 0.3
cb_start SIP_SERVER="127.0.0.1:$REG_PORT" SIP_USERNAME=alice SIP_PASSWORD=pw \
	SIP_KEEPALIVE_INTERVAL=1 ALERT_WEBHOOK="$HOOK"
wait_for "$WORK/logs/callbot.log" "sip: registered to 127.0.0.1:$REG_PORT" 10 || die "not registered"
echo "$(health)" | grep -q '"sip":"registered"' || die "/api/health does not say registered"
wait_for "$WORK/registrar.log" '^OPTIONS$' 5 || die "no OPTIONS probe reached the registrar"
log "ok: registered, OPTIONS probes arrive"

# the dashboard's event stream, as an admin API client
TOK=$("$CALLBOT" --config "$WORK/.env" token add admin --name alerts 2>/dev/null | tail -1)
curl -s -N -H "Authorization: Bearer $TOK" --max-time 60 "http://127.0.0.1:$WEB_PORT/api/events" > "$WORK/sse" 2>/dev/null &
PIDS+=($!)
wait_for "$WORK/sse" "event: state" 5 || die "no event stream"

# stop the registrar
kill "$REG_PID"
wait "$REG_PID" 2>/dev/null || true
t0=$(date +%s%N)
for _ in $(seq 1 100); do
	hook_has sip_registration_lost && break
	sleep 0.1
done
hook_has sip_registration_lost || die "no sip_registration_lost within 10 s: $(cat "$WORK/hook.log" 2>/dev/null)"
ms=$((($(date +%s%N) - t0) / 1000000))
log "sip_registration_lost arrived ${ms} ms after the registrar stopped"
[ "$ms" -le 5000 ] || die "sip_registration_lost took $ms ms (more than 5 s)"
"$PY" - "$WORK/hook.log" "127.0.0.1:$REG_PORT" <<'PYEOF' || die "lost alert payload"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
lost = [e["body"] for e in ev if e["body"].get("event") == "sip_registration_lost"]
assert len(lost) == 1, lost
b = lost[0]
assert b["details"] == {"server": sys.argv[2], "state": "failed"}, b
assert b["timestamp"].endswith("Z") and b["node"], b
assert all(e["content_type"] == "application/json" for e in ev), ev
PYEOF
echo "$(health)" | grep -q '"sip":"failed"' || die "/api/health does not say failed: $(health)"
wait_for "$WORK/sse" '"event":"sip_registration_lost"' 5 || die "/api/events did not carry the alert: $(cat "$WORK/sse")"
grep -q '^event: alert$' "$WORK/sse" || die "alert not sent as an 'alert' event"
wait_for "$WORK/logs/callbot.log" "registration to 127.0.0.1:$REG_PORT failed: 2 OPTIONS probes unanswered" 2 ||
	die "no log line naming the probes"
hook_has sip_registration_restored && die "restored before the registrar is back"
log "ok: lost (webhook, health, /api/events, log)"

# the registrar comes back: the backoff re-REGISTER (or its retransmission) gets through
: > "$WORK/registrar.log"
start_registrar
for _ in $(seq 1 450); do
	hook_has sip_registration_restored && break
	sleep 0.1
done
hook_has sip_registration_restored || die "no sip_registration_restored within 45 s of the registrar's return"
grep -q '^REGISTER$' "$WORK/registrar.log" || die "restored without a REGISTER"
echo "$(health)" | grep -q '"sip":"registered"' || die "/api/health does not say registered again"
wait_for "$WORK/sse" '"event":"sip_registration_restored"' 5 || die "/api/events lacks the restored alert"
n=$(grep -c '"event": "sip_registration_lost"' "$WORK/hook.log")
[ "$n" = 1 ] || die "$n lost alerts for one outage"
log "ok: restored (webhook, health, /api/events)"

cb_stop
grep -q "ERROR" "$WORK/logs/callbot.log" && die "ERROR lines: $(grep ERROR "$WORK/logs/callbot.log")"
log "ops_alert_reg: passed"
