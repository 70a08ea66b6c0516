#!/usr/bin/env bash
# sip_ai_tools.sh - function calling over a real call: a caller speaks, the (fake,
# OpenAI-compatible) LLM asks for two tools at once; callbot calls the allowed webhook with
# the model's arguments, refuses the one whose host is not allowed (no request reaches
# it), feeds both results back, and the bot speaks the answer built from them. The tool
# calls are stored as role='tool' turns and in the audit log.
source "$(dirname "$0")/sip/lib.sh"

cb_init
sox "$TESTS_DIR/data/speech/goforward.wav" -r 8000 -c 1 -t ul "$WORK/speech.ulaw"
sox -n -r 8000 -c 1 -t ul "$WORK/pad.ulaw" trim 0 0.3
cat "$WORK/pad.ulaw" "$WORK/speech.ulaw" "$WORK/pad.ulaw" > "$WORK/caller.ulaw"

# The webhook the tool may call, and one it must never reach (same machine, other name).
timeout 200 "$PY" "$TESTS_DIR/mock/fake_webhook.py" "$WORK/hook.port" "$WORK/hook.log" &
PIDS+=($!)
timeout 200 "$PY" "$TESTS_DIR/mock/fake_webhook.py" "$WORK/evil.port" "$WORK/evil.log" &
PIDS+=($!)
FAKE_TOOL_CALLS='[{"name":"lookup_order","arguments":{"id":"42"}},{"name":"evil_lookup","arguments":{"id":"7"}}]' \
	timeout 200 "$PY" "$TESTS_DIR/mock/fake_tool_llm.py" "$WORK/llm.port" "$WORK/llm.log" &
PIDS+=($!)
for f in hook evil llm; do
	wait_for "$WORK/$f.port" . 10 || die "$f server did not start"
done
cat > "$WORK/tools.json" <<JSON
{
  "allowed_hosts": ["127.0.0.1"],
  "tools": [
    {"name": "lookup_order", "description": "Look up an order by its id",
     "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
     "url": "http://127.0.0.1:$(cat "$WORK/hook.port")/order", "method": "POST", "timeout_ms": 3000},
    {"name": "evil_lookup", "description": "Not allowed: its host is not in allowed_hosts",
     "parameters": {"type": "object"},
     "url": "http://localhost:$(cat "$WORK/evil.port")/order", "method": "GET", "timeout_ms": 3000}
  ]
}
JSON

cb_start BOT_MODE=ai LLM_BACKEND=openai OPENAI_BASE_URL="http://127.0.0.1:$(cat "$WORK/llm.port")/v1" \
	OPENAI_MODEL=fake TOOLS_FILE="$WORK/tools.json" CONSENT_MODE=off GREETING="Hi." \
	VAD_SILENCE_MS=500
wait_for "$WORK/logs/callbot.log" "AI pipeline ready .*2 webhook tools" 10 ||
	die "the AI pipeline did not start"
grep -q 'tool "evil_lookup" will be refused' "$WORK/logs/callbot.log" ||
	die "no warning at start about the tool that cannot be called"
sipp_run talk -sf "$SIPDIR/uac_talk.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 \
	-d 9000 "127.0.0.1:$SIP_PORT" || die "sipp call failed: $(tail -5 "$WORK/talk.out")"
cb_stop

# The webhook got the model's arguments; the other server got nothing at all.
log "webhook: $(cat "$WORK/hook.log" 2>/dev/null)"
grep -q '"method": "POST", "path": "/order", "query": {}, "body": {"id": "42"}' "$WORK/hook.log" ||
	die "the webhook did not receive the arguments"
[ "$(wc -l < "$WORK/hook.log")" = 1 ] || die "the webhook was called more than once"
[ ! -s "$WORK/evil.log" ] || die "a request reached the host outside the allowlist: $(cat "$WORK/evil.log")"
grep -q 'tools: evil_lookup refused, no request sent: host localhost is not in allowed_hosts' \
	"$WORK/logs/callbot.log" || die "no log line for the refused tool"

# The LLM offered the tools, then got both results back (the refusal says so).
"$PY" - "$WORK/llm.log" <<'PYEOF' || die "the LLM requests are not as expected"
import json, sys
reqs = [json.loads(l)["body"] for l in open(sys.argv[1])]
assert reqs and any(t["function"]["name"] == "lookup_order" for t in reqs[0]["tools"]), reqs[0]
assert {"transfer", "hangup", "send_dtmf"} <= {t["function"]["name"] for t in reqs[0]["tools"]}
assert reqs[0]["tool_choice"] == "auto"
tool_msgs = [m for r in reqs for m in r["messages"] if m["role"] == "tool"]
print("tool messages:", tool_msgs)
assert any('"shipped"' in m["content"] and m["tool_call_id"] == "call_1" for m in tool_msgs)
assert any(m["content"].startswith("error: refused: host localhost") for m in tool_msgs)
PYEOF

turns=$("$PY" - "$WORK/callbot.db" "$(sed -n 's/^ENCRYPTION_KEY=//p' "$WORK/.env")" <<'PYEOF'
import sqlite3, sys
from cryptography.fernet import Fernet
f = Fernet(sys.argv[2])
for role, text, tts in sqlite3.connect(sys.argv[1]).execute("SELECT role, text, tts_ms FROM turns ORDER BY seq"):
    print("%s|%s|%s" % (role, f.decrypt(text.encode()).decode(), tts))
PYEOF
)
log "turns: $(echo "$turns" | tr '\n' '/')"
echo "$turns" | grep -Fq 'tool|lookup_order({"id": "42"}) -> {"status": "shipped", "id": "42"}|' ||
	die "no role='tool' turn for the webhook call"
echo "$turns" | grep -Fq 'tool|evil_lookup({"id": "7"}) -> error: refused: host localhost is not in allowed_hosts|' ||
	die "no role='tool' turn for the refused call"
# The bot's answer holds the webhook's result, and it was spoken (tts_ms set).
echo "$turns" | grep -E '^bot\|Tool lookup_order says status shipped, id 42\. .*refused.*\|[0-9]+$' -q ||
	die "the spoken answer does not contain the webhook's result"
audit=$(sql "SELECT action || ': ' || details FROM audit_log WHERE action='tool_call' ORDER BY id")
log "audit: $(echo "$audit" | tr '\n' '/')"
echo "$audit" | grep -q '^tool_call: lookup_order: ok' || die "no audit row for the webhook call"
echo "$audit" | grep -q '^tool_call: evil_lookup: refused: host localhost is not in allowed_hosts' ||
	die "no audit row for the refused call"

# --- The built-in transfer tool: the model asks for it, the call layer sends REFER, the
# caller's side accepts (202, NOTIFY 200). Needs the call layer's REFER scenario.
if [ ! -f "$SIPDIR/uac_refer_accept.xml" ]; then
	log "skipped: transfer by tool call (no $SIPDIR/uac_refer_accept.xml)"
	log "ok: sip_ai_tools"
	exit 0
fi
FAKE_TOOL_CALLS='[{"name":"transfer","arguments":{}}]' FAKE_TOOL_PREFACE="Connecting you now." \
	timeout 120 "$PY" "$TESTS_DIR/mock/fake_tool_llm.py" "$WORK/llm2.port" "$WORK/llm2.log" &
PIDS+=($!)
wait_for "$WORK/llm2.port" . 10 || die "second fake LLM did not start"
cb_start BOT_MODE=ai LLM_BACKEND=openai OPENAI_BASE_URL="http://127.0.0.1:$(cat "$WORK/llm2.port")/v1" \
	OPENAI_MODEL=fake CONSENT_MODE=off GREETING="Hi." TRANSFER_TARGET=200 VAD_SILENCE_MS=500
sipp_run accept -sf "$SIPDIR/uac_refer_accept.xml" -p "$(free_port 1)" -mp "$(free_port 2)" \
	-m 1 "127.0.0.1:$SIP_PORT" ||
	die "transfer by tool: sipp failed: $(tail -5 "$WORK/accept.out"; tail -20 "$WORK/accept.err" 2>/dev/null)"
wait_for "$WORK/logs/callbot.log" "ended \(completed, transferred\)" 10 || die "the transferred call did not end"
cb_stop
row=$(sql "SELECT status || '/' || end_reason FROM calls WHERE id = 2")
[ "$row" = "completed/transferred" ] || die "call 2 row: $row (want completed/transferred)"
grep -q "REFER to sip:200@127.0.0.1" "$WORK/logs/callbot.log" || die "no REFER to TRANSFER_TARGET"
turns=$("$PY" - "$WORK/callbot.db" "$(sed -n 's/^ENCRYPTION_KEY=//p' "$WORK/.env")" <<'PYEOF'
import sqlite3, sys
from cryptography.fernet import Fernet
f = Fernet(sys.argv[2])
for role, text in sqlite3.connect(sys.argv[1]).execute("SELECT role, text FROM turns WHERE call_id=2 ORDER BY seq"):
    print("%s|%s" % (role, f.decrypt(text.encode()).decode()))
PYEOF
)
log "call 2 turns: $(echo "$turns" | tr '\n' '/')"
echo "$turns" | grep -Fxq 'tool|transfer({}) -> ok: the caller is transferred after your reply' ||
	die "no role='tool' turn for the transfer tool call"
echo "$turns" | grep -Fxq 'tool|transfer to 200: accepted (200)' ||
	die "no tool turn for the accepted transfer"
[ "$(sql "SELECT count(*) FROM audit_log WHERE action='tool_call' AND details LIKE 'transfer: ok%'")" = 1 ] ||
	die "no audit row for the transfer tool call"
log "ok: sip_ai_tools"
