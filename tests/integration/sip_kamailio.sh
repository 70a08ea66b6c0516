#!/usr/bin/env bash
# sip_kamailio.sh - kamailio as registrar/proxy on loopback, baresip as caller:
# callbot registers, baresip calls the AOR through kamailio, hears the echo,
# hangs up; SIGTERM un-registers callbot (kamailio forgets the contact).
source "$(dirname "$0")/sip/lib.sh"

command -v kamailio >/dev/null || die "kamailio is not installed (scripts/install-deps.sh test)"
cb_init
caller_audio
KPORT=$(free_port 1)
sed "s/@PORT@/$KPORT/g" "$SIPDIR/kamailio.cfg.in" >"$WORK/kamailio.cfg"
kamailio -f "$WORK/kamailio.cfg" -DD -E -w "$WORK" -Y "$WORK" >"$WORK/kamailio.out" 2>&1 &
KPID=$!
PIDS+=("$KPID")
wait_for "$WORK/kamailio.out" "INFO: .*(main|init).*|ready|listening on" 10 || true
sleep 1
kill -0 "$KPID" || die "kamailio did not start: $(tail -5 "$WORK/kamailio.out")"

cb_start SIP_SERVER="127.0.0.1:$KPORT" SIP_USERNAME=bot SIP_PASSWORD=unused
wait_for "$WORK/logs/callbot.log" "sip: registered to 127.0.0.1:$KPORT as sip:bot@127.0.0.1" 10 || die "callbot did not register"
wait_for "$WORK/kamailio.out" "REGISTER sip:bot@127.0.0.1 contact <sip:bot@127.0.0.1:$SIP_PORT>" 2 || die "kamailio did not see callbot's contact"

B="$WORK/baresip"
baresip_setup "$B" ";audio_codecs=PCMU"
baresip_dial "$B" "sip:bot@127.0.0.1:$KPORT" 7
grep -aq "Call established" "$B/out" || die "call through kamailio not established: $(grep -a -i call "$B/out" | tail -3)"
grep -q "INVITE sip:alice@127.0.0.1 -> sip:bot@127.0.0.1:$SIP_PORT" "$WORK/kamailio.out" || die "kamailio did not route the INVITE to callbot"
wait_for "$WORK/logs/callbot.log" "call 1: ended \(completed, caller_bye\)" 5 || die "the call did not end with baresip's BYE"
DEC=$(ls "$B"/dump-*-dec.wav | head -1)
"$PY" - "$DEC" <<'PYEOF' || die "baresip heard no echo"
import struct, sys, wave
w = wave.open(sys.argv[1])
n = w.getnframes()
x = struct.unpack("<%dh" % (n * w.getnchannels()), w.readframes(n))
level = sum(abs(v) for v in x) / max(1, len(x))
print("baresip heard %.1f s, mean level %.0f" % (n / w.getframerate(), level))
assert n > 3 * w.getframerate() and level > 200
PYEOF
cb_stop
# The un-REGISTER reached kamailio: the AOR is gone.
baresip_setup "$WORK/after" ";audio_codecs=PCMU"
baresip_dial "$WORK/after" "sip:bot@127.0.0.1:$KPORT" 2
grep -aq "404" "$WORK/after/out" || die "callbot's contact is still registered after shutdown"
[ "$(sql "select status || '/' || end_reason from calls")" = "completed/caller_bye" ] || die "unexpected call row"
log "PASS"
