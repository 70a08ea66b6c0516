#!/usr/bin/env bash
# data_protect.sh - encryption at rest, Python interop, key rotation, export, purge, erase,
# backup/restore through the real binary on a SQLite site.
. "$(dirname "$0")/lib.sh.inc"

D=$T/site
new_instance "$D"
ENV=$D/.env
DB=$D/callbot.db
AUDIO=$D/audio_output
K1=$(sed -n 's/^ENCRYPTION_KEY=//p' "$ENV")
DOCS=${TESTS_DIR:-$(dirname "$0")/..}/../docs/security.md
cb() { timeout 60 "$CALLBOT" --config "$ENV" "$@"; }

# The Python reader exactly as docs/security.md shows it.
sed -n '/^```python$/,/^```$/p' "$DOCS" | sed '1d;$d' > "$T/read_callbot.py"
grep -q decrypt_recording "$T/read_callbot.py" && ok "docs hold the Python reader" || fail "no snippet in $DOCS"

# Seed: two callers, one call backdated past retention. Turn text is written
# by Python's Fernet (Python -> C interop) or in clear (encrypted by rekey).
# Recordings are plain WAVs whose PCM spells a marker; rekey encrypts them.
$PY - "$DB" "$AUDIO" "$K1" <<'PYEOF' || fail "seeding"
import sqlite3, struct, sys, datetime as dt
from cryptography.fernet import Fernet
db, audio, key = sys.argv[1:4]
f = Fernet(key)
c = sqlite3.connect(db)
def iso(days_ago):
    t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
def wav(path, marker):
    pcm = (marker * 400)[:8000]
    hdr = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 8000, 32000, 4, 16) + b"data" + struct.pack("<I", len(pcm))
    open(path, "wb").write(hdr + pcm)
calls = [("+15550001", 40, "old", "announced"), ("+15550001", 1, "new", "granted"), ("+15550002", 2, "other", "announced")]
for i, (num, age, tag, consent) in enumerate(calls, 1):
    rec = f"audio_output/call{i}.wav"
    wav(f"{audio}/call{i}.wav", f"PCMMARK{tag.upper()}".encode())
    cur = c.execute("INSERT INTO calls(sip_call_id, caller, callee, started_at, answered_at, ended_at, status, end_reason, consent, recording_path) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (f"sip-{tag}@pbx", num, "bot", iso(age), iso(age), iso(age), "completed", "caller_hangup", consent, rec))
    cid = cur.lastrowid
    c.execute("INSERT INTO turns(call_id, seq, role, text, started_at, response_ms) VALUES (?,?,?,?,?,?)",
              (cid, 0, "caller", f.encrypt(f"pythonword{tag} my appointment".encode()).decode(), iso(age), None))
    c.execute("INSERT INTO turns(call_id, seq, role, text, started_at, response_ms) VALUES (?,?,?,?,?,?)",
              (cid, 1, "bot", f"plainword{tag} sure thing", iso(age), 420))
c.commit()
PYEOF
cp "$AUDIO/call2.wav" "$T/call2.orig.wav"
ok "seeded 3 calls with turns and recordings"

# rekey encrypts what was stored in clear (text and recordings).
out=$(cb rekey --all 2>&1) || fail "rekey: $out"
expect_contains "$out" "re-encrypted 3 turns and 3 recordings" "rekey encrypts plain turns and recordings"
for w in plainword pythonword PCMMARK RIFF WAVE; do
	n=$( (cat "$DB" "$DB-wal" 2>/dev/null; cat "$AUDIO"/*) | strings | grep -c "$w")
	expect_eq "$n" 0 "no '$w' in the database or AUDIO_DIR (strings)"
done
grep -rqa PCMMARK "$AUDIO" && fail "PCM marker found by grep -a" || ok "no PCM in AUDIO_DIR (grep -a)"

# C -> Python: the documented snippet decrypts recordings and transcripts.
$PY "$T/read_callbot.py" "$K1" "$AUDIO/call2.wav" > "$T/call2.py.wav" || fail "python reader"
cmp -s "$T/call2.py.wav" "$T/call2.orig.wav" && ok "Python snippet decrypts a recording" || fail "python wav differs"
tok=$(sqlite3 "$DB" "select text from turns t join calls c on c.id=t.call_id where c.sip_call_id='sip-new@pbx' and seq=1")
txt=$($PY -c 'import sys; sys.path.insert(0, sys.argv[3]); import read_callbot as r; print(r.decrypt_transcript(r.keyring(sys.argv[1]), sys.argv[2]))' "$K1" "$tok" "$T")
expect_eq "$txt" "plainwordnew sure thing" "Python snippet decrypts a transcript"

# callbot decrypt: recordings and transcript tokens, audited.
cb decrypt "$AUDIO/call2.wav" > "$T/call2.c.wav" 2>"$T/err" || fail "decrypt: $(cat "$T/err")"
cmp -s "$T/call2.c.wav" "$T/call2.orig.wav" && ok "callbot decrypt gives the original WAV" || fail "decrypt differs"
printf '%s\n' "$tok" > "$T/tok.txt"
expect_eq "$(cb decrypt "$T/tok.txt")" "plainwordnew sure thing" "callbot decrypt reads a transcript token"
printf 'not a token\n' > "$T/bad.txt"
cb decrypt "$T/bad.txt" >/dev/null 2>&1 && fail "decrypt accepted garbage" || ok "decrypt refuses non-tokens (exit 1)"
expect_eq "$(sqlite3 "$DB" "select count(*) from audit_log where action='decrypt'")" 3 "decrypt is audited"

# Rotation: new key first, old key kept: everything still readable; rekey moves it all.
K2=$("$CALLBOT" gen-key)
set_key "$ENV" ENCRYPTION_KEY "$K2,$K1"
cb decrypt "$AUDIO/call1.wav" > /dev/null || fail "old recording unreadable after rotation"
ok "old data readable with the rotated key ring"
out=$(cb rekey --all 2>&1) || fail "rekey after rotation: $out"
expect_contains "$out" "re-encrypted 6 turns and 3 recordings" "rekey re-encrypts everything with the new key"
out=$(cb rekey --all 2>&1) || fail "second rekey: $out"
expect_contains "$out" "re-encrypted 0 turns and 0 recordings" "rekey is idempotent (resumable)"
$PY - "$DB" "$K1" "$K2" <<'PYEOF' && ok "every token is under the new key only" || fail "tokens not rotated"
import sqlite3, sys
from cryptography.fernet import Fernet, InvalidToken
db, k1, k2 = sys.argv[1:4]
for (t,) in sqlite3.connect(db).execute("select text from turns"):
    Fernet(k2).decrypt(t.encode())
    try:
        Fernet(k1).decrypt(t.encode()); sys.exit(1)
    except InvalidToken:
        pass
PYEOF
set_key "$ENV" ENCRYPTION_KEY "$K2"
cb decrypt "$AUDIO/call2.wav" > "$T/call2.k2.wav" || fail "decrypt with new key only"
cmp -s "$T/call2.k2.wav" "$T/call2.orig.wav" && ok "recordings readable with the new key alone" || fail "k2 wav"
$PY "$T/read_callbot.py" "$K1" "$AUDIO/call2.wav" > /dev/null 2>&1 && fail "old key still opens a recording" || ok "old key no longer opens recordings"

# Export: manifest with decrypted turns and consent, decrypted recordings.
cb export --caller +15550001 --out "$T/export.tar.gz" > "$T/out" 2>&1 || fail "export: $(cat "$T/out")"
expect_eq "$(file_mode "$T/export.tar.gz")" 600 "export file is 0600"
mkdir "$T/x" && tar -xzf "$T/export.tar.gz" -C "$T/x" || fail "export is not a .tar.gz"
$PY - "$T/x/callbot-export/manifest.json" <<'PYEOF' && ok "manifest: 2 calls, decrypted turns, consent" || fail "manifest content"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["number"] == "+15550001" and len(m["calls"]) == 2, m
texts = [t["text"] for c in m["calls"] for t in c["turns"]]
assert "pythonwordold my appointment" in texts and "plainwordnew sure thing" in texts, texts
assert sorted(c["consent"] for c in m["calls"]) == ["announced", "granted"]
assert all(c["recording"] for c in m["calls"])
PYEOF
cmp -s "$T/x/callbot-export/recordings/2.wav" "$T/call2.orig.wav" && ok "export holds the decrypted recording" || fail "export wav"
expect_eq "$(sqlite3 "$DB" "select count(*) from audit_log where action='export' and details not like '%15550001%'")" 1 "export audited without the number"

# Backup (online, encrypted, with recordings) -> wipe -> restore -> identical.
snapshot() { sqlite3 "$DB" "select * from calls order by id; select id,call_id,seq,role,text,started_at,response_ms from turns order by id; select id,username,password_hash from users order by id"; (cd "$AUDIO" && sha256sum $(ls | sort)); }
before=$(snapshot)
cb backup --recordings --encrypt "$T/backup.cbk" > "$T/out" 2>&1 || fail "backup: $(cat "$T/out")"
expect_eq "$(file_mode "$T/backup.cbk")" 600 "backup file is 0600"
strings "$T/backup.cbk" | grep -q "+15550001" && fail "number readable in encrypted backup" || ok "encrypted backup hides the data"
rm -f "$DB" "$DB-wal" "$DB-shm" "$AUDIO"/*
cb restore "$T/backup.cbk" > "$T/out" 2>&1 || fail "restore: $(cat "$T/out")"
after=$(snapshot)
expect_eq "$after" "$before" "backup -> wipe -> restore gives identical rows and files"
expect_eq "$(file_mode "$DB")" 600 "restored database is 0600"
cb backup "$T/plain.tgz" > /dev/null 2>&1 && tar -tzf "$T/plain.tgz" | grep -q callbot-backup/callbot.db \
	&& ok "plain backup is a standard .tar.gz" || fail "plain backup"

# Retention: the 40-day-old call loses its personal data; newer ones keep theirs.
set_key "$ENV" RETENTION_DAYS 30
out=$(cb purge 2>&1) || fail "purge: $out"
expect_contains "$out" "1 calls, 2 turns, 1 recordings" "purge counts"
expect_eq "$(sqlite3 "$DB" "select count(*) from turns t join calls c on c.id=t.call_id where c.sip_call_id is null and t.text is not null")" 0 "old call has no transcript"
expect_eq "$(sqlite3 "$DB" "select coalesce(caller,'NULL')||','||coalesce(recording_path,'NULL')||','||status||','||consent from calls where id=1")" "NULL,NULL,completed,announced" "old call keeps only non-personal metadata"
[ ! -e "$AUDIO/call1.wav" ] && ok "old recording deleted" || fail "old recording kept"
[ -e "$AUDIO/call2.wav" ] && [ -e "$AUDIO/call3.wav" ] && ok "newer recordings kept" || fail "newer recording deleted"
expect_eq "$(sqlite3 "$DB" "select count(*) from turns where text is not null")" 4 "newer transcripts kept"
expect_contains "$(sqlite3 "$DB" "select details from audit_log where action='purge'")" "calls=1 turns=2 recordings=1" "purge audited with counts"

# Erase: nothing about the number anywhere afterwards.
logsize=$(cat "$D"/logs/* 2>/dev/null | wc -c)
out=$(cb erase --caller +15550001 2>&1) || fail "erase: $out"
expect_contains "$out" "erased 1 calls" "erase reports counts"
expect_not_contains "$out" "15550001" "erase output does not repeat the number"
n=$( (cat "$DB" "$DB-wal" 2>/dev/null; cat "$AUDIO"/* 2>/dev/null) | grep -ac 15550001)
expect_eq "$n" 0 "no trace of the number in the database files or AUDIO_DIR"
[ ! -e "$AUDIO/call2.wav" ] && [ -e "$AUDIO/call3.wav" ] && ok "erase removes only that caller's recordings" || fail "erase files"
newlogs=$(cat "$D"/logs/* 2>/dev/null | tail -c +$((logsize + 1)))
expect_not_contains "$newlogs" "15550001" "no trace of the number in logs written after the erase"
expect_contains "$(sqlite3 "$DB" "select details from audit_log where action='erase'")" "hmac-sha256:" "erase audited with a hash"
expect_eq "$(sqlite3 "$DB" "select count(*) from calls where caller='+15550002'")" 1 "other callers untouched"
echo "data_protect: $CHECKS checks passed"
