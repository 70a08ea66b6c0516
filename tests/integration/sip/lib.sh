# lib.sh - helpers for the SIP integration tests (sourced by tests/integration/sip_*.sh).
# Everything runs on 127.0.0.1, every wait is bounded, every process we start
# is stopped by the EXIT trap.
set -euo pipefail

: "${CALLBOT:?CALLBOT must point to the callbot binary}"
: "${TESTS_DIR:?TESTS_DIR must point to tests/}"
SIPDIR="$TESTS_DIR/integration/sip"
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/callbot-sip-test.XXXXXX)
PIDS=()
CB_PID=

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "$CB_PID" ] && kill -0 "$CB_PID" 2>/dev/null; then
		kill -KILL "$CB_PID" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ]; then
		log "--- callbot.log (tail) ---"
		tail -n 40 "$WORK/logs/callbot.log" 2>/dev/null >&2 || true
		log "--- serve output (tail) ---"
		tail -n 60 "$WORK/serve.out" 2>/dev/null >&2 || true
		log "work dir kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT

# A port free for both UDP and TCP on 127.0.0.1 (count consecutive ports).
free_port() {
	"$PY" - "${1:-1}" <<'PYEOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000 - n)
    socks = []
    try:
        for p in range(base, base + n):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                s.bind(("127.0.0.1", p))
                socks.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
else:
    sys.exit("no free port")
PYEOF
}

# cb_init: creates a config dir in $WORK; extra KEY=VALUE settings go to the
# environment of serve (which overrides the .env file).
cb_init() {
	"$CALLBOT" --config "$WORK/.env" init >"$WORK/init.out" 2>&1 || { cat "$WORK/init.out" >&2; die "init failed"; }
	SIP_PORT=$(free_port 1)
	WEB_PORT=$(free_port 1)
	RTP_BASE=$(free_port 40)
	CB_ENV=(SIP_LISTEN="127.0.0.1:$SIP_PORT" WEB_LISTEN="127.0.0.1:$WEB_PORT"
		RTP_PORTS="$RTP_BASE-$((RTP_BASE + 39))" BOT_MODE=echo)
}

# cb_start [KEY=VALUE...]: starts serve and waits until it is fully up (SIP listening,
# the AI pipeline attached, the web listening): "serve: callbot X started" in this run's
# part of the log. On a loaded machine the AI stack may take seconds to load; a call
# placed before it is attached would only hear the greeting.
cb_start() {
	local from=1
	[ -f "$WORK/logs/callbot.log" ] && from=$(($(wc -l <"$WORK/logs/callbot.log") + 1))
	env "${CB_ENV[@]}" "$@" "$CALLBOT" --config "$WORK/.env" serve >"$WORK/serve.out" 2>&1 &
	CB_PID=$!
	for _ in $(seq 1 300); do
		if tail -n +"$from" "$WORK/logs/callbot.log" 2>/dev/null | grep -q "serve: callbot .* started"; then
			return 0
		fi
		kill -0 "$CB_PID" 2>/dev/null || die "callbot exited at start: $(tail -5 "$WORK/serve.out")"
		sleep 0.1
	done
	die "callbot did not start within 30 s"
}

# cb_stop: SIGTERM, then the exit status must be 0 (ASan/LSan report leaks
# through a non-zero status).
cb_stop() {
	local rc=0
	kill -TERM "$CB_PID"
	for _ in $(seq 1 100); do
		kill -0 "$CB_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$CB_PID" 2>/dev/null && die "callbot did not stop within 10 s of SIGTERM"
	wait "$CB_PID" || rc=$?
	CB_PID=
	[ $rc -eq 0 ] || die "callbot exited with status $rc after SIGTERM (see serve.out)"
	if grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$WORK/serve.out"; then
		die "sanitizer report in serve output"
	fi
}

# sipp_run NAME ARGS...: runs sipp (bounded) in $WORK, output in $WORK/NAME.out.
sipp_run() {
	local name=$1; shift
	(cd "$WORK" && timeout 60 sipp -i 127.0.0.1 -nostdin -timeout 30 -timeout_error \
		-trace_err -error_file "$WORK/$name.err" "$@" >"$WORK/$name.out" 2>&1)
}

# sql QUERY: runs a query on the callbot database.
sql() { sqlite3 "$WORK/callbot.db" "$1"; }

# wait_for FILE PATTERN [SECONDS]: waits until PATTERN (grep -E) shows up in FILE.
wait_for() {
	local file=$1 pat=$2 secs=${3:-10}
	for _ in $(seq 1 $((secs * 10))); do
		grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# caller_audio: $WORK/caller.ulaw, a few seconds of espeak-ng speech as raw mu-law.
caller_audio() {
	espeak-ng -w "$WORK/caller.wav" "Hello callbot. This is a test call. One, two, three, four, five." 2>/dev/null
	sox "$WORK/caller.wav" -r 8000 -c 1 -t ul "$WORK/caller.ulaw"
}

# capture_start FILE FILTER: tshark on lo in the background, ready on return.
capture_start() {
	local file=$1 filter=$2
	timeout 120 tshark -q -i lo -f "$filter" -w "$file" >"$file.log" 2>&1 &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	wait_for "$file.log" "Capturing on" 20 || die "tshark did not start: $(cat "$file.log")"
	sleep 0.3
}

capture_stop() {
	sleep 0.5
	kill -INT "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
}

# rtp_count FILE SRCPORT DSTPORT: RTP packets from one port to another.
rtp_count() {
	tshark -r "$1" -Y "udp.srcport==$2 && udp.dstport==$3" 2>/dev/null | wc -l
}

# rtp_intervals FILE SRCPORT DSTPORT: "n min max mean" of the send spacing in ms.
rtp_intervals() {
	tshark -r "$1" -Y "udp.srcport==$2 && udp.dstport==$3" -T fields -e frame.time_epoch 2>/dev/null |
		awk 'NR > 1 { d = ($1 - p) * 1000; if (n == 0 || d < mn) mn = d; if (d > mx) mx = d; s += d; n++ }
		     { p = $1 } END { if (n) printf "%d %.2f %.2f %.3f\n", n, mn, mx, s / n; else print "0 0 0 0" }'
}

# reject_scenario CODE MLINE ALINE [HEADER]: $WORK/reject-CODE.xml from uac_reject.xml.in.
reject_scenario() {
	sed -e "s|@CODE@|$1|g" -e "s|@MLINE@|$2|" -e "s|@ALINE@|$3|" -e "s|@HDR@|${4:-X-Test: 1}|" \
		"$SIPDIR/uac_reject.xml.in" >"$WORK/reject-$1.xml"
	echo "$WORK/reject-$1.xml"
}

# log_mark: the current length of callbot.log; wait_log MARK PATTERN [SECONDS]
# waits for PATTERN in what was logged after MARK.
log_mark() { wc -l <"$WORK/logs/callbot.log" 2>/dev/null || echo 0; }
wait_log() {
	local mark=$1 pat=$2 secs=${3:-10}
	for _ in $(seq 1 $((secs * 10))); do
		tail -n +"$((mark + 1))" "$WORK/logs/callbot.log" 2>/dev/null | grep -Eq -- "$pat" && return 0
		sleep 0.1
	done
	return 1
}

# web_login USER PASSWORD: logs in to the dashboard on WEB_PORT (CSRF form) and prints the
# session cookie's value; fails (dies) when no session comes back.
web_login() {
	local url=http://127.0.0.1:$WEB_PORT csrf cookie
	csrf=$(curl -s -c "$WORK/jar" "$url/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
	curl -s -o /dev/null -b "$WORK/jar" -c "$WORK/jar" --data-urlencode "csrf_token=$csrf" \
		--data-urlencode "username=$1" --data-urlencode "password=$2" "$url/login"
	cookie=$(awk '$6 == "callbot_session" {print $7}' "$WORK/jar")
	[ -n "$cookie" ] || die "dashboard login of $1 failed"
	echo "$cookie"
}

# baresip_setup DIR ACCOUNT_PARAMS: a baresip config in DIR that plays
# $WORK/caller8k.wav, dumps what it hears (sndfile) and listens on a free port.
baresip_setup() {
	local dir=$1 params=$2
	mkdir -p "$dir"
	[ -f "$WORK/caller8k.wav" ] || sox "$WORK/caller.wav" -r 8000 -c 1 -b 16 "$WORK/caller8k.wav"
	local sport rbase
	sport=$(free_port 1)
	rbase=$(free_port 20)
	cat >"$dir/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$sport
audio_player		aubridge,nowhere
audio_source		aufile,$WORK/caller8k.wav
audio_alert		aubridge,nowhere
rtp_ports		$rbase-$((rbase + 19))
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			srtp.so
module			sndfile.so
module_app		account.so
module_app		menu.so
snd_path		$dir
CFG
	echo "<sip:alice@127.0.0.1>;regint=0$params" >"$dir/accounts"
	touch "$dir/contacts"
}

# baresip_dial DIR URI SECONDS: calls URI; output in DIR/out.
baresip_dial() {
	(cd "$1" && timeout $(($3 + 10)) baresip -f "$1" -n 127.0.0.1 -e "/dial $2" -t "$3" >"$1/out" 2>&1) || true
}
