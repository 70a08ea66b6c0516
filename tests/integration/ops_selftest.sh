#!/usr/bin/env bash
# ops_selftest.sh - selftest: one PASS/FAIL line per check and monitoring exit codes
# (0 ok, 1 a check failed, 2 usage/config), with the embedded engines, a fake Ollama
# server and a sipp registrar (accepting, then refusing), all on 127.0.0.1.
. "$(dirname "$0")/lib.sh.inc"

D=$T/site
new_instance "$D"
cb() { "$CALLBOT" --config "$D/.env" "$@"; }

# usage
cb selftest nonsense > /dev/null 2>&1; expect_eq $? 2 "unknown check: exit 2"
cb selftest llm extra > /dev/null 2>&1; expect_eq $? 2 "extra argument: exit 2"
MAX_CALLS=abc "$CALLBOT" --config "$D/.env" selftest llm > /dev/null 2>&1; expect_eq $? 2 "bad configuration: exit 2"
expect_contains "$(cb selftest --help)" "sip|llm|speech|all" "--help"

# all, embedded defaults: sip disabled, rules LLM, espeak + pocketsphinx
out=$(cb selftest 2>"$T/err"); rc=$?
echo "$out"
expect_eq $rc 0 "selftest all passes with the embedded engines"
expect_contains "$out" "PASS sip" "sip line"
expect_contains "$out" "registration disabled (SIP_SERVER is empty)" "sip disabled is a PASS with a note"
expect_contains "$out" "PASS llm     rules answered" "llm line"
expect_contains "$out" "PASS tts" "tts line"
expect_contains "$out" "PASS stt" "stt line"
expect_contains "$out" 'heard "what time is it"' "speech round trip recognises what was synthesised"
[ "$(printf '%s\n' "$out" | grep -cE '^(PASS|FAIL) .* \([0-9]+ ms\)$')" -eq 5 ] && ok "5 lines, each with its timing" || fail "line format: $out"
out=$(cb selftest speech 2>/dev/null) || fail "selftest speech"
expect_not_contains "$out" "llm" "selftest speech runs only speech checks"

# llm against a fake Ollama
$PY "$TESTS_DIR/mock/fake_llm_server.py" "$T/llm.port" "$T/llm.log" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$T/llm.port" ] && break; sleep 0.1; done
LP=$(cat "$T/llm.port")
out=$(LLM_BACKEND=ollama OLLAMA_URL="http://127.0.0.1:$LP" "$CALLBOT" --config "$D/.env" selftest llm 2>&1); rc=$?
expect_eq $rc 0 "llm check passes against the fake Ollama: $out"
expect_contains "$out" 'PASS llm     ollama answered "You said: This is a connection test.' "the answer is shown on one line"
expect_contains "$(cat "$T/llm.log")" '"/api/chat"' "the check really asked the server"
# a backend that is down: FAIL, exit 1, bounded time
DP=$(free_port)
t0=$(date +%s)
out=$(LLM_BACKEND=ollama OLLAMA_URL="http://127.0.0.1:$DP" LLM_TIMEOUT_MS=1000 "$CALLBOT" --config "$D/.env" selftest llm 2>/dev/null); rc=$?
expect_eq $rc 1 "llm down: exit 1"
expect_contains "$out" "FAIL llm" "llm down: FAIL line"
[ $(( $(date +%s) - t0 )) -le 10 ] && ok "llm down fails fast" || fail "llm down took too long"
# speech with a TTS server that is down
out=$(TTS_BACKEND=http TTS_URL="http://127.0.0.1:$DP/v1/audio/speech" "$CALLBOT" --config "$D/.env" selftest speech 2>/dev/null); rc=$?
expect_eq $rc 1 "tts down: exit 1"
expect_contains "$out" "FAIL tts" "tts down: FAIL line"

# sip against a sipp registrar
if command -v sipp > /dev/null; then
	RP=$(free_port)
	(cd "$T" && timeout 60 sipp -i 127.0.0.1 -nostdin -timeout 30 -timeout_error -p "$RP" -m 1 \
		-sf "$TESTS_DIR/data/ops/reg_selftest_ok.xml" > "$T/sipp-ok.out" 2>&1) &
	SIPP=$!
	PIDS+=($SIPP)
	sleep 0.5
	out=$(SIP_SERVER="127.0.0.1:$RP" SIP_USERNAME=alice SIP_PASSWORD='s3cret pass' "$CALLBOT" --config "$D/.env" selftest sip 2>"$T/sip.err"); rc=$?
	expect_eq $rc 0 "sip check passes with an accepting registrar: $out $(tail -3 "$T/sip.err")"
	expect_contains "$out" "PASS sip     registered to 127.0.0.1:$RP as alice (registrar: 200 OK)" "sip PASS line with the registrar's answer"
	wait $SIPP && ok "registrar saw REGISTER and the un-REGISTER" || fail "registrar scenario: $(tail -5 "$T/sipp-ok.out")"

	(cd "$T" && timeout 60 sipp -i 127.0.0.1 -nostdin -timeout 30 -timeout_error -p "$RP" -m 1 \
		-sf "$TESTS_DIR/data/ops/reg_selftest_403.xml" > "$T/sipp-403.out" 2>&1) &
	SIPP=$!
	PIDS+=($SIPP)
	sleep 0.5
	out=$(SIP_SERVER="127.0.0.1:$RP" SIP_USERNAME=alice SIP_PASSWORD='wrong pass' "$CALLBOT" --config "$D/.env" selftest sip 2>/dev/null); rc=$?
	expect_eq $rc 1 "sip check fails when the registrar refuses"
	expect_contains "$out" "FAIL sip" "sip FAIL line"
	expect_contains "$out" "refused or failed the REGISTER of alice: 403 Forbidden" "sip FAIL line names the registrar's answer"
	wait $SIPP
else
	echo "# sipp not installed: registrar checks skipped"
fi

echo "ops_selftest: $CHECKS checks passed"
