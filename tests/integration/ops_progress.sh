#!/usr/bin/env bash
# ops_progress.sh - long commands show one updating progress line on a terminal and are quiet
# in scripts: import-callbot, backup, restore, export, purge and rekey run once under a pty
# (script(1) from util-linux) and once with stderr to a file. On the pty: "CMD: ..." lines
# drawn with \r and cleared before the one-line summary; in a script: no progress on stderr
# (warnings only) and stdout holds just the summary.
. "$(dirname "$0")/lib.sh.inc"
command -v script > /dev/null || { echo "# script(1) missing (util-linux): skipped"; exit 0; }

D=$T/site
new_instance "$D"
"$PY" "$TESTS_DIR/data/ops/make_python_callbot_db.py" "$T/py" > /dev/null || fail "fixture"

# pty NAME ARGS...: runs callbot on a pseudo-terminal; the raw bytes in $T/NAME.tty
pty() {
	local name=$1; shift
	local cmd="$CALLBOT --config $D/.env"
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	timeout 60 script -qefc "$cmd" /dev/null < /dev/null > "$T/$name.tty" 2>&1 ||
		fail "$name under a pty: $(tr '\r' '\n' < "$T/$name.tty" | tail -3)"
}
# quiet NAME ARGS...: the same with plain files: no progress at all (warnings may remain)
quiet() {
	local name=$1; shift
	"$CALLBOT" --config "$D/.env" "$@" > "$T/$name.out" 2> "$T/$name.err" < /dev/null || fail "$name: $(cat "$T/$name.err")"
	grep -aqE $'\r|\e|^[a-z-]+: [0-9]' "$T/$name.err" && fail "$name drew progress in a script: $(cat -v "$T/$name.err")"
	expect_eq "$(wc -l < "$T/$name.out")" 1 "$name in a script: no progress, one summary line"
}
# seen NAME TEXT: TEXT appeared on the terminal, drawn with \r\e[K, and the line was cleared
seen() {
	grep -aq $'\r\e\\[K'"$2" "$T/$1.tty" || fail "$1: no progress '$2' on the terminal: $(cat -v "$T/$1.tty" | head -5)"
	local last
	last=$(tr '\r' '\n' < "$T/$1.tty" | grep -av '^$' | tail -1)
	case "$last" in *"$2"*) fail "$1: the progress line was left on the terminal" ;; esac
	ok "$1 on a terminal: '$2', cleared before the summary"
}

# import-callbot: N/TOTAL calls
pty import import-callbot "$T/py/callbot.db"
seen import "import-callbot: 6/6 calls (100 %)"
expect_contains "$(tr '\r' '\n' < "$T/import.tty")" "imported " "import summary on the terminal"
quiet import2 import-callbot "$T/py/callbot.db"

# backup with recordings: N/TOTAL recording files
mkdir -p "$D/audio_output/x"
for i in 1 2 3; do head -c 2000 /dev/urandom > "$D/audio_output/x/r$i.wav"; done
n=$(find "$D/audio_output" -type f | wc -l)
pty backup backup --recordings "$T/b1.tar.gz"
seen backup "backup: $n/$n recording files (100 %)"
quiet backup2 backup --recordings "$T/b2.tar.gz"

# restore: files as they come
pty restore restore "$T/b1.tar.gz"
seen restore "restore: $n/$n recording files (100 %)"
quiet restore2 restore "$T/b2.tar.gz"

# the store reports no counts for these: a ticking line with the elapsed time
pty export export --caller +15551230001 --out "$T/e1.tar.gz"
seen export "export: collecting the calls, turns and recordings... 0 s"
quiet export2 export --caller +15551230001 --out "$T/e2.tar.gz"
pty purge purge --older-than 365
seen purge "purge: purging old calls... 0 s"
quiet purge2 purge --older-than 365
pty rekey rekey
seen rekey "rekey: re-encrypting turns and recordings... 0 s"
quiet rekey2 rekey

echo "ops_progress: $CHECKS checks passed"
