#!/usr/bin/env bash
# sip_srtp.sh - SDES-SRTP with baresip as caller: with SRTP=required an
# RTP/SAVP offer is answered with SAVP and AES_CM_128_HMAC_SHA1_80, callbot's
# packets are SRTP (10-byte auth tag) and baresip decrypts the echo; a plain
# RTP offer gets 488 and a SECURITY line.
source "$(dirname "$0")/sip/lib.sh"

cb_init
caller_audio
cb_start SRTP=required
B="$WORK/baresip"
baresip_setup "$B" ";mediaenc=srtp-mand;audio_codecs=PCMU"
capture_start "$WORK/srtp.pcap" "udp and host 127.0.0.1 and portrange $RTP_BASE-$((RTP_BASE + 39))"
baresip_dial "$B" "sip:bot@127.0.0.1:$SIP_PORT" 7
capture_stop
grep -aq "SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)" "$B/out" || die "baresip did not get SRTP: $(grep -a -i 'srtp\|call' "$B/out" | tail -5)"
grep -aq "Call established" "$B/out" || die "call not established"
wait_for "$WORK/logs/callbot.log" "call 1: media .* PCMU SRTP sendrecv" 2 || die "callbot did not log an SRTP stream"
wait_for "$WORK/logs/callbot.log" "call 1: ended \(completed, caller_bye\); rtp rx ([0-9]{3,}) tx [0-9]{3,} .* srtp-fail 0" 5 ||
	die "SRTP packets from baresip were not all accepted"
# Everything callbot sent: 12 header + 160 payload + 10 tag bytes.
SIZES=$(tshark -r "$WORK/srtp.pcap" -Y "udp.srcport>=$RTP_BASE && udp.srcport<=$((RTP_BASE + 39))" -T fields -e udp.length 2>/dev/null | sort | uniq -c)
log "callbot packet sizes: $SIZES"
[ "$(echo "$SIZES" | wc -l)" -eq 1 ] && echo "$SIZES" | grep -q " 190$" || die "callbot's packets are not SRTP-sized"
[ "$(echo "$SIZES" | awk '{print $1}')" -ge 150 ] || die "too few SRTP packets from callbot"
# baresip decrypted and decoded callbot's echo: its dump is not silent.
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

# Plain RTP is refused.
P="$WORK/plain"
baresip_setup "$P" ";audio_codecs=PCMU"
baresip_dial "$P" "sip:bot@127.0.0.1:$SIP_PORT" 3
grep -aq "488" "$P/out" || die "plain offer was not refused with 488: $(grep -a -i 'call' "$P/out" | tail -3)"
grep -q "SECURITY: srtp_refused - plain RTP offer from 127.0.0.1" "$WORK/logs/callbot.log" || die "no SECURITY line"
cb_stop
log "PASS"
