#!/usr/bin/env bash
# sip_register.sh - sipp as registrar. 1) 401 challenge with qop=auth, then 200:
# callbot's digest response is recomputed here (MD5), it refreshes a 4 s
# registration before expiry, /api/health says "registered", and SIGTERM sends
# an (authorised) un-REGISTER. 2) The registrar answers 403: SECURITY lines,
# /api/health "failed", and retries with a growing backoff (~4 s, ~8 s).
# 3) MD5 and SHA-256 challenges together: callbot answers SHA-256 (RFC 8760).
source "$(dirname "$0")/sip/lib.sh"

cb_init
REG_PORT=$(free_port 1)
REG=(SIP_SERVER="127.0.0.1:$REG_PORT" SIP_USERNAME=alice SIP_PASSWORD='s3cret pass')

health() { curl -s --max-time 2 "http://127.0.0.1:$WEB_PORT/api/health" || true; }

# 1) success, refresh, un-REGISTER
sipp_run regok -sf "$SIPDIR/reg_ok.xml" -p "$REG_PORT" -m 1 -trace_msg -message_file "$WORK/regok.log" &
SIPP=$!
PIDS+=("$SIPP")
sleep 0.5
cb_start "${REG[@]}"
wait_for "$WORK/logs/callbot.log" "sip: registered to 127.0.0.1:$REG_PORT" 10 || die "not registered"
H=$(health)
log "health: $H"
echo "$H" | grep -q '"sip":"registered"' || die "/api/health does not say registered"
sleep 4.5 # past the refresh of the 4 s registration
cb_stop
wait "$SIPP" || die "registrar scenario failed: $(tail -5 "$WORK/regok.out"; cat "$WORK/regok.err" 2>/dev/null)"
"$PY" "$SIPDIR/reglog.py" ok "$WORK/regok.log" alice 's3cret pass' || die "registration check failed"
grep -q "SECURITY" "$WORK/logs/callbot.log" && die "unexpected SECURITY line"

# 2) 403: security line, backoff
MARK=$(log_mark)
sipp_run reg403 -sf "$SIPDIR/reg_403.xml" -p "$REG_PORT" -m 1 -trace_msg -message_file "$WORK/reg403.log" &
SIPP=$!
PIDS+=("$SIPP")
sleep 0.5
cb_start "${REG[@]}"
wait_log "$MARK" "SECURITY: sip_auth_failed - registrar 127.0.0.1:$REG_PORT refused credentials of alice \(403 Forbidden\)" 10 ||
	die "no SECURITY line for the 403"
H=$(health)
log "health: $H"
echo "$H" | grep -q '"sip":"failed"' || die "/api/health does not say failed"
wait "$SIPP" || die "registrar scenario failed: $(tail -5 "$WORK/reg403.out"; cat "$WORK/reg403.err" 2>/dev/null)"
cb_stop
"$PY" "$SIPDIR/reglog.py" backoff "$WORK/reg403.log" alice 's3cret pass' || die "backoff check failed"

# 3) SHA-256 preferred
MARK=$(log_mark)
sipp_run regsha -sf "$SIPDIR/reg_sha256.xml" -p "$REG_PORT" -m 1 -trace_msg -message_file "$WORK/regsha.log" &
SIPP=$!
PIDS+=("$SIPP")
sleep 0.5
cb_start "${REG[@]}"
wait_log "$MARK" "sip: registered to 127.0.0.1:$REG_PORT as sip:alice@127.0.0.1 \(expires 60 s, SHA-256 digest\)" 10 ||
	die "not registered with SHA-256"
cb_stop
wait "$SIPP" || die "SHA-256 registrar scenario failed: $(tail -5 "$WORK/regsha.out"; cat "$WORK/regsha.err" 2>/dev/null)"
"$PY" "$SIPDIR/reglog.py" sha256 "$WORK/regsha.log" alice 's3cret pass' || die "SHA-256 digest check failed"
grep -q "s3cret" "$WORK/logs/callbot.log" && die "the password leaked into the log"
log "PASS"
