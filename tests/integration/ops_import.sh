#!/usr/bin/env bash
# ops_import.sh - import-callbot: a Python CallBot database (tests/data/ops/make_python_callbot_db.py)
# becomes calls with caller/bot turns, encrypted recordings and audited settings; a second
# run adds nothing; odd characters survive; errors give the right exit codes.
. "$(dirname "$0")/lib.sh.inc"

MAKE_DB="$TESTS_DIR/data/ops/make_python_callbot_db.py"
P=$T/python-callbot
mkdir -p "$P"
$PY "$MAKE_DB" "$P" || fail "fixture database"

D=$T/site
new_instance "$D"
DB=$D/callbot.db
q() { sqlite3 "$DB" "$1"; }

# usage and errors
"$CALLBOT" --config "$D/.env" import-callbot > /dev/null 2>&1; expect_eq $? 2 "no PATH: exit 2"
"$CALLBOT" --config "$D/.env" import-callbot "$T/nope.db" > /dev/null 2>&1; expect_eq $? 1 "missing database: exit 1"
echo "not a database" > "$T/junk.db"
"$CALLBOT" --config "$D/.env" import-callbot "$T/junk.db" > /dev/null 2>&1; expect_eq $? 1 "not a CallBot database: exit 1"
expect_eq "$(q 'select count(*) from calls')" 0 "nothing imported by failed runs"
help=$("$CALLBOT" import-callbot --help)
expect_contains "$help" "--audio-dir DIR" "--help documents --audio-dir"

# first run (not a terminal: no progress line)
out=$("$CALLBOT" --config "$D/.env" import-callbot "$P/callbot.db" 2> "$T/err1"); rc=$?
expect_eq $rc 0 "first import succeeds"
expect_contains "$out" "imported 5 calls (8 turns, 1 recordings) of 6" "summary line counts"
expect_contains "$out" "1 older than RETENTION_DAYS" "a row older than RETENTION_DAYS is skipped"
expect_contains "$out" "settings: 3 imported" "three settings imported"
expect_not_contains "$(cat "$T/err1")" "importing calls:" "no progress output off a terminal"
expect_contains "$(cat "$T/err1")" "missing.wav not found" "a missing recording is reported"
expect_eq "$(q "select count(*) from calls where sip_call_id like 'callbot-import:%'")" 5 "5 calls marked as imported"
expect_eq "$(q 'select count(*) from turns')" 8 "8 turns"
expect_eq "$(q "select role from turns t join calls c on c.id=t.call_id where c.sip_call_id='callbot-import:1' order by seq" | tr '\n' ,)" "caller,bot," "caller turn then bot turn"
expect_eq "$(q "select status||'/'||coalesce(answered_at,'-') from calls where sip_call_id='callbot-import:1'")" \
	"completed/$(q "select started_at from calls where sip_call_id='callbot-import:1'")" "completed call answered at its start"
s=$(q "select started_at from calls where sip_call_id='callbot-import:1'")
e=$(q "select ended_at from calls where sip_call_id='callbot-import:1'")
expect_eq "$($PY -c 'import sys,datetime as d; f=lambda s: d.datetime.strptime(s,"%Y-%m-%dT%H:%M:%S.%fZ"); print((f(sys.argv[2])-f(sys.argv[1])).total_seconds())' "$s" "$e")" 42.5 "ended_at = timestamp + duration"
expect_eq "$(q "select status from calls where sip_call_id='callbot-import:2'")" missed "missed stays missed"
expect_eq "$(q "select status from calls where sip_call_id='callbot-import:3'")" failed "in_progress becomes failed"
expect_eq "$(q "select count(*) from turns t join calls c on c.id=t.call_id where c.sip_call_id='callbot-import:2'")" 0 "a call without transcript has no turns"
expect_eq "$(q "select count(*) from calls where sip_call_id='callbot-import:5'")" 0 "the 400-day-old row is not imported"

# text is encrypted at rest and decrypts (with Python's Fernet) to the original, odd characters included
key=$(sed -n 's/^ENCRYPTION_KEY=//p' "$D/.env")
tok=$(q "select text from turns t join calls c on c.id=t.call_id where c.sip_call_id='callbot-import:3' and seq=0")
expect_contains "$tok" "gAAAAA" "turn text stored as a Fernet token"
$PY - "$key" "$tok" "$DB" <<'PYEOF' && ok "odd characters survive the import" || fail "odd characters changed"
import sqlite3, sys
from cryptography.fernet import Fernet
f = Fernet(sys.argv[1])
assert f.decrypt(sys.argv[2].encode()).decode() == "Grüße 👋 it's \"me\"\nsecond line; 100% _done_"
con = sqlite3.connect(sys.argv[3])
tok, = con.execute("select text from turns t join calls c on c.id=t.call_id where c.sip_call_id='callbot-import:3' and seq=1").fetchone()
assert f.decrypt(tok.encode()).decode() == "Ça va? 日本語 <b>ok</b>"
tok, = con.execute("select text from turns t join calls c on c.id=t.call_id where c.sip_call_id='callbot-import:6' and seq=0").fetchone()
assert f.decrypt(tok.encode()).decode() == "caf? ? ok", f.decrypt(tok.encode())
caller, = con.execute("select caller from calls where sip_call_id='callbot-import:3'").fetchone()
assert caller == "\"Robert'); DROP TABLE calls;--?[31m", caller
PYEOF
expect_eq "$(q "select count(*) from calls where sip_call_id='callbot-import:6'")" 1 "a row with invalid UTF-8 is imported"
"$CALLBOT" --config "$D/.env" calls --search "Grüße" | grep -q "Robert" && ok "imported text is searchable" || fail "search over imported turns"

# the recording: copied into AUDIO_DIR, encrypted, 0600, decrypts to the original bytes
rec=$(q "select recording_path from calls where sip_call_id='callbot-import:1'")
[ -n "$rec" ] || fail "no recording_path"
case "$rec" in /*) R=$rec ;; *) R=$D/$rec ;; esac
[ -f "$R" ] && ok "recording copied into AUDIO_DIR" || fail "no file $R"
expect_eq "$(file_mode "$R")" 600 "recording is 0600"
expect_eq "$(head -c 6 "$R")" "CBREC1" "recording encrypted (CBREC1)"
"$CALLBOT" --config "$D/.env" decrypt "$R" > "$T/dec.wav" 2>/dev/null || fail "decrypt the imported recording"
cmp -s "$T/dec.wav" "$P/audio_output/call_20261201_101500.wav" && ok "recording decrypts to the original" || fail "recording differs"

# settings: mapped, audited, invalid ones refused
expect_eq "$(q "select value from settings where key='GREETING'")" "Welcome to Acme, how can I help?" "greeting -> GREETING"
expect_eq "$(q "select value from settings where key='SYSTEM_PROMPT'")" "You are Acme's receptionist. Be brief." "system_prompt -> SYSTEM_PROMPT"
expect_eq "$(q "select value from settings where key='OLLAMA_MODEL'")" "llama2" "ollama_model -> OLLAMA_MODEL"
expect_eq "$(q "select count(*) from settings where key='MAX_CALL_SECONDS'")" 0 "an invalid value is not imported"
expect_contains "$(cat "$T/err1")" "max_call_duration (MAX_CALL_SECONDS): not imported" "the invalid setting is reported"
expect_eq "$(q "select count(*) from audit_log where action='settings_change' and details like '%import-callbot%'")" 3 "each setting change audited"
expect_eq "$(q "select count(*) from audit_log where action='import_callbot'")" 1 "the import is audited"

# second run: nothing new; a setting changed since is kept
q "update settings set value='Changed by the admin' where key='GREETING'"
out=$("$CALLBOT" --config "$D/.env" import-callbot "$P/callbot.db" 2>/dev/null) || fail "second import failed"
expect_contains "$out" "imported 0 calls (0 turns, 0 recordings) of 6; skipped 5 already imported" "second run imports nothing"
expect_eq "$(q 'select count(*) from calls')" 5 "still 5 calls"
expect_eq "$(q 'select count(*) from turns')" 8 "still 8 turns"
expect_eq "$(ls "$D/audio_output" | wc -l)" 1 "still 1 recording file"
expect_eq "$(q "select value from settings where key='GREETING'")" "Changed by the admin" "a setting set here is not overwritten"

# an interrupted run (pending row) is redone cleanly
q "update calls set sip_call_id='callbot-import-pending:4' where sip_call_id='callbot-import:4'"
out=$("$CALLBOT" --config "$D/.env" import-callbot "$P/callbot.db" 2>/dev/null) || fail "third import failed"
expect_contains "$out" "imported 1 calls (2 turns, 0 recordings)" "a pending row is imported again"
expect_eq "$(q "select count(*) from calls where sip_call_id like 'callbot-import%:4'")" 1 "no duplicate after an interrupted run"
expect_eq "$(q 'select count(*) from turns')" 8 "turns of the pending row replaced, not doubled"

# without ENCRYPTION_KEY: plain copy; --audio-dir elsewhere
E=$T/plain
new_instance "$E"
set_key "$E/.env" ENCRYPTION_KEY ""
mv "$P/audio_output" "$T/elsewhere"
out=$("$CALLBOT" --config "$E/.env" import-callbot --audio-dir "$T/elsewhere" "$P/callbot.db" 2>/dev/null) || fail "plain import failed"
expect_contains "$out" "1 recordings" "recording found with --audio-dir"
f=$(ls "$E/audio_output"/import-callbot-1-* 2>/dev/null | head -1)
cmp -s "$f" "$T/elsewhere/call_20261201_101500.wav" && ok "plain copy without ENCRYPTION_KEY" || fail "plain copy differs"
expect_eq "$(sqlite3 "$E/callbot.db" "select substr(text,1,5) from turns t join calls c on c.id=t.call_id where c.sip_call_id='callbot-import:1' and seq=0")" "Hello" "plain text without ENCRYPTION_KEY"

echo "ops_import: $CHECKS checks passed"
