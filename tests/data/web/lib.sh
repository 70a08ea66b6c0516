# lib.sh - helpers for the web integration tests (sourced after tests/integration/lib.sh.inc).

# web_instance DIR: an initialised site with loopback ports; sets D, URL.
web_instance() {
	D=$1
	new_instance "$D"
	URL="http://127.0.0.1:$WEB_PORT"
}

# web_serve: start serve in the background and wait for /api/health.
web_serve() {
	"$CALLBOT" --config "$D/.env" serve > "$T/serve.out" 2>&1 &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	wait_http "$URL/api/health" 20
}

# web_stop: SIGTERM must end serve with 0 (and, under ASan, no leaks).
web_stop() {
	local rc
	kill -TERM "$SERVE_PID"
	for _ in $(seq 1 200); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$SERVE_PID"; rc=$?
	[ "$rc" = 0 ] && ok "serve exits 0 on SIGTERM" || { cat "$T/serve.out" >&2; fail "serve exit $rc"; }
}

# add_user NAME ROLE PASSWORD
add_user() {
	echo "$3" | "$CALLBOT" --config "$D/.env" user add "$1" --role "$2" > /dev/null 2>&1 \
		|| fail "user add $1"
}

# login JAR USER PASSWORD [CLIENT]: prints the HTTP status of POST /login. CLIENT is sent as
# X-Forwarded-For (loopback is a trusted proxy by default), for a fresh login-rate budget.
login() {
	local jar=$1 csrf xff=()
	[ $# -ge 4 ] && xff=(-H "X-Forwarded-For: $4")
	rm -f "$jar"
	csrf=$(curl -s -c "$jar" -b "$jar" --max-time 10 "$URL/login" \
		| sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
	curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --max-time 20 "${xff[@]}" \
		--data-urlencode "csrf_token=$csrf" --data-urlencode "username=$2" \
		--data-urlencode "password=$3" "$URL/login"
}

# csrf_of JAR: the session's CSRF token (from /api/me).
csrf_of() {
	curl -s -b "$1" --max-time 10 "$URL/api/me" | jget csrf_token
}

# jget PATH: a value from JSON on stdin; PATH like "calls.0.caller" or "total".
jget() {
	$PY -c '
import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d.get(k)
print("" if d is None else (json.dumps(d) if isinstance(d, (dict, list)) else d))' "$1"
}

# api JAR METHOD PATH [BODY]: prints "STATUS BODY" using the session and its CSRF token.
api() {
	local jar=$1 m=$2 p=$3 csrf
	csrf=$(csrf_of "$jar")
	if [ $# -ge 4 ]; then
		curl -s -w '\n%{http_code}' -b "$jar" -X "$m" -H "X-CSRF-Token: $csrf" \
			-H 'Content-Type: application/json' --data-binary "$4" --max-time 20 "$URL$p"
	else
		curl -s -w '\n%{http_code}' -b "$jar" -X "$m" -H "X-CSRF-Token: $csrf" --max-time 20 "$URL$p"
	fi
}

# db SQL: run SQL on the site's database.
db() { sqlite3 -cmd '.timeout 5000' "$D/callbot.db" "$1"; }

# seed_calls N [DAY]: N completed calls on DAY (YYYY-MM-DD, default 2026-03-0x), callers
# +1555000NNNN, each with a caller and a bot turn; every 10th mentions "invoice".
seed_calls() {
	db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < $1)
	    INSERT INTO calls(sip_call_id, caller, callee, started_at, answered_at, ended_at, status, end_reason, consent)
	    SELECT 'seed-' || i, printf('+1555%07d', i), '100',
	      strftime('%Y-%m-%dT%H:%M:%S', '2026-03-01', '+' || i || ' minutes') || '.000Z',
	      strftime('%Y-%m-%dT%H:%M:%S', '2026-03-01', '+' || i || ' minutes', '+1 seconds') || '.000Z',
	      strftime('%Y-%m-%dT%H:%M:%S', '2026-03-01', '+' || i || ' minutes', '+61 seconds') || '.000Z',
	      'completed', 'hangup', 'yes' FROM n;
	    INSERT INTO turns(call_id, seq, role, text, started_at, stt_ms, llm_ms, tts_ms, response_ms)
	      SELECT id, 1, 'caller', CASE WHEN id % 10 = 0 THEN 'I have a question about my invoice' ELSE 'hello there' END,
	        started_at, 120, NULL, NULL, NULL FROM calls WHERE sip_call_id LIKE 'seed-%';
	    INSERT INTO turns(call_id, seq, role, text, started_at, stt_ms, llm_ms, tts_ms, response_ms)
	      SELECT id, 2, 'bot', 'Sure, how can I help?', started_at, NULL, 300, 90, 640
	      FROM calls WHERE sip_call_id LIKE 'seed-%';"
}

# make_wav FILE SECONDS: a silent 8 kHz mono 16-bit WAV.
make_wav() {
	$PY - "$1" "$2" <<'PY'
import sys, wave
w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b'\0\0' * 8000 * int(sys.argv[2])); w.close()
PY
}
