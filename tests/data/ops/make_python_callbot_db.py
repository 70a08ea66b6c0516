#!/usr/bin/python3
"""make_python_callbot_db.py DIR - writes DIR/callbot.db and DIR/audio_output/ as the
Python CallBot (Flask + SQLAlchemy) left them, for `callbot import-callbot` tests.

The schema is the Python CallBot's models: calls(id, timestamp, caller_id, transcript,
ai_response, audio_filename, duration, status) and settings(id, key, value, updated_at).
Timestamps are naive UTC text as SQLAlchemy writes them, relative to now so that rows
stay inside RETENTION_DAYS, except one row 400 days old."""
import datetime
import math
import os
import sqlite3
import struct
import sys
import wave

d = sys.argv[1]
os.makedirs(os.path.join(d, "audio_output"), exist_ok=True)
db = os.path.join(d, "callbot.db")
if os.path.exists(db):
    os.remove(db)
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE calls (
    id INTEGER NOT NULL PRIMARY KEY,
    timestamp DATETIME,
    caller_id VARCHAR(50),
    transcript TEXT,
    ai_response TEXT,
    audio_filename VARCHAR(255),
    duration FLOAT,
    status VARCHAR(20)
);
CREATE TABLE settings (
    id INTEGER NOT NULL PRIMARY KEY,
    key VARCHAR(100) NOT NULL UNIQUE,
    value TEXT,
    updated_at DATETIME
);
""")

now = datetime.datetime.utcnow().replace(microsecond=0)
def ts(days=0, hours=0):
    return (now - datetime.timedelta(days=days, hours=hours)).strftime("%Y-%m-%d %H:%M:%S.%f")

# one second of a 440 Hz tone, 16 kHz mono, as the Python CallBot recorded
wav = os.path.join(d, "audio_output", "call_20261201_101500.wav")
with wave.open(wav, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
                           for i in range(16000)))

rows = [
    (1, ts(3), "+15551230001", "Hello, what are your opening hours?",
     "We are open from nine to five, Monday to Friday.", "call_20261201_101500.wav", 42.5, "completed"),
    (2, ts(2), "+15551230002", None, None, None, 0, "missed"),
    # odd characters: quotes, SQL, emoji, a terminal escape, a newline
    (3, ts(1), "\"Robert'); DROP TABLE calls;--\x1b[31m",
     "Grüße 👋 it's \"me\"\nsecond line; 100% _done_", "Ça va? 日本語 <b>ok</b>", "", 7.25, "in_progress"),
    (4, ts(0, 5), "+15551230004", "I need a human", "Transferring you now.", "missing.wav", 3, "failed"),
    (5, ts(400), "+15551230005", "old call", "old answer", None, 10, "completed"),
]
con.executemany("INSERT INTO calls VALUES (?,?,?,?,?,?,?,?)", rows)
# invalid UTF-8 in a transcript (a Python 2 era row, stored as bytes)
con.execute("INSERT INTO calls VALUES (6, ?, '+15551230006', CAST(? AS TEXT), 'fine', NULL, 1.5, 'completed')",
            (ts(0, 1), b"caf\xe9 \xff ok"))
con.executemany("INSERT INTO settings (key, value, updated_at) VALUES (?,?,?)", [
    ("greeting", "Welcome to Acme, how can I help?", ts(10)),
    ("system_prompt", "You are Acme's receptionist. Be brief.", ts(10)),
    ("ollama_model", "llama2", ts(10)),
    ("theme", "dark", ts(10)),
    ("max_call_duration", "abc", ts(10)),
])
con.commit()
con.close()
