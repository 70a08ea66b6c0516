#!/usr/bin/env bash
# rel_crash.sh - crash recovery: callbot is killed with SIGKILL in the middle of a
# call; the call row stays open (no ended_at). At its next start serve closes the
# calls its node left open (store_close_crashed_calls): ended_at set, status
# completed (it was answered), end_reason crash, turns untouched, and logs
#   "store: closed 1 call(s) left open by a crash (node NODE)".
# A call another node left open in the same database is not touched. Afterwards a
# normal call works and serve exits 0 on SIGTERM.
source "$(dirname "$0")/sip/lib.sh"

NODE=rel-crash-node
cb_init
caller_audio
CB_ENV+=(NODE_ID="$NODE")
cb_start

# A call that stays up (60 s of talk) in the background.
SIPP_PORT=$(free_port 1)
(cd "$WORK" && exec timeout 90 sipp -i 127.0.0.1 -nostdin -timeout 80 \
	-sf "$SIPDIR/uac_call.xml" -p "$SIPP_PORT" -mp "$(free_port 2)" -m 1 -d 60000 \
	"127.0.0.1:$SIP_PORT" >"$WORK/long.out" 2>&1) &
SIPP_PID=$!
PIDS+=("$SIPP_PID")
for _ in $(seq 1 100); do
	[ "$(sql "SELECT count(*) FROM calls WHERE answered_at IS NOT NULL AND ended_at IS NULL")" = 1 ] && break
	sleep 0.1
done
[ "$(sql "SELECT count(*) FROM calls WHERE answered_at IS NOT NULL AND ended_at IS NULL")" = 1 ] ||
	die "the call was not answered: $(sql 'SELECT id, status, ended_at FROM calls')"
sleep 1
CALL_ID=$(sql "SELECT id FROM calls WHERE ended_at IS NULL")
[ "$(sql "SELECT coalesce(node_id, '') FROM calls WHERE id = $CALL_ID")" = "$NODE" ] ||
	die "the call row does not carry NODE_ID ($NODE): '$(sql "SELECT node_id FROM calls WHERE id = $CALL_ID")'"
# A turn, as the AI pipeline would have written it (echo mode writes none): it
# must survive recovery, and the call ends at its time.
TURN_AT=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sql "INSERT INTO turns(call_id, seq, role, text, started_at) VALUES ($CALL_ID, 0, 'caller', 'hello before the crash', '$TURN_AT')"
# Another node's call, open at the same time: not ours to close.
sql "INSERT INTO calls(caller, callee, started_at, answered_at, status, node_id) VALUES ('+4930999', 'bot', '$TURN_AT', '$TURN_AT', 'active', 'other-node')"
OTHER_ID=$(sql "SELECT id FROM calls WHERE node_id = 'other-node'")

log "killing callbot (pid $CB_PID) with SIGKILL mid-call (call $CALL_ID)"
kill -KILL "$CB_PID"
wait "$CB_PID" 2>/dev/null || true
CB_PID=
kill "$SIPP_PID" 2>/dev/null || true
wait "$SIPP_PID" 2>/dev/null || true
[ -z "$(sql "SELECT ended_at FROM calls WHERE id = $CALL_ID")" ] ||
	die "the call was closed although callbot was killed"

MARK=$(log_mark)
cb_start
wait_log "$MARK" "closed 1 call\(s\) left open by a crash \(node $NODE\)" 10 ||
	die "serve did not report closing the crashed call (is store_close_crashed_calls wired into serve?)"
read -r status reason ended < <(sql "SELECT status, end_reason, ended_at FROM calls WHERE id = $CALL_ID" | tr '|' ' ')
log "call $CALL_ID after recovery: status=$status end_reason=$reason ended_at=$ended"
[ "$status" = completed ] || die "status $status, expected completed"
[ "$reason" = crash ] || die "end_reason $reason, expected crash"
[ "$ended" = "$TURN_AT" ] || die "ended_at $ended, expected the last turn's time $TURN_AT"
[ "$(sql "SELECT text FROM turns WHERE call_id = $CALL_ID AND seq = 0")" = "hello before the crash" ] ||
	die "the turn did not survive recovery"
[ -z "$(sql "SELECT ended_at FROM calls WHERE id = $OTHER_ID")" ] ||
	die "recovery closed another node's call"
[ "$(sql "SELECT status FROM calls WHERE id = $OTHER_ID")" = active ] || die "other node's call changed"

# Still a working phone: a normal call, and nothing else left open by this node.
sipp_run after -sf "$SIPDIR/uac_call.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 1000 \
	"127.0.0.1:$SIP_PORT" || die "a call after recovery failed: $(tail -5 "$WORK/after.out")"
for _ in $(seq 1 50); do
	[ "$(sql "SELECT count(*) FROM calls WHERE ended_at IS NULL AND node_id = '$NODE'")" = 0 ] && break
	sleep 0.1
done
[ "$(sql "SELECT count(*) FROM calls WHERE ended_at IS NULL AND node_id = '$NODE'")" = 0 ] ||
	die "a call of this node is still open after the normal call"
cb_stop
log "PASS: crash recovery"
