#!/usr/bin/env bash
# sip_tls.sh - SIP_TRANSPORT=tls: callbot registers to kamailio over TLS,
# verifying kamailio's certificate against SIP_TLS_CA (IP SAN 127.0.0.1);
# with another CA the handshake is refused with a clear log line, nothing is
# registered and /api/health says "failed".
source "$(dirname "$0")/sip/lib.sh"

[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] || die "kamailio-tls-modules is not installed"
cb_init
cd "$WORK"
mkcert() { # name, subject alt name, CA name (empty: self-signed CA)
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1 CA" \
		-keyout "$1-ca.key" -out "$1-ca.pem" 2>/dev/null
}
mkcert good
mkcert evil
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
printf "subjectAltName=IP:127.0.0.1\n" >san.ext
openssl x509 -req -in server.csr -CA good-ca.pem -CAkey good-ca.key -CAcreateserial -days 2 \
	-extfile san.ext -out server.pem 2>/dev/null
cat >tls.cfg <<CFG
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $WORK/server.key
certificate = $WORK/server.pem
[client:default]
verify_certificate = no
require_certificate = no
CFG
cd - >/dev/null
KPORT=$(free_port 1)
sed -e "s/@PORT@/$KPORT/g" -e "s|@TLSCFG@|$WORK/tls.cfg|" "$SIPDIR/kamailio-tls.cfg.in" >"$WORK/kamailio.cfg"
kamailio -f "$WORK/kamailio.cfg" -DD -E -w "$WORK" -Y "$WORK" >"$WORK/kamailio.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null && break
	sleep 0.1
done
kill -0 "${PIDS[-1]}" 2>/dev/null || die "kamailio did not start: $(grep -E 'ERROR|CRITICAL' "$WORK/kamailio.out" | head -3)"

TLS=(SIP_TRANSPORT=tls SIP_SERVER="127.0.0.1:$KPORT" SIP_USERNAME=bot SIP_PASSWORD=unused)
cb_start "${TLS[@]}" SIP_TLS_CA="$WORK/good-ca.pem"
grep -q "sip: listening on .* (udp, tls)" "$WORK/logs/callbot.log" || die "no TLS transport"
wait_for "$WORK/logs/callbot.log" "sip: registered to 127.0.0.1:$KPORT" 10 || die "not registered over TLS"
wait_for "$WORK/kamailio.out" "REGISTER sip:bot@127.0.0.1 contact <sip:bot@127.0.0.1:$SIP_PORT;transport=tls>.* proto tls" 3 ||
	die "kamailio did not get a TLS registration"
curl -s "http://127.0.0.1:$WEB_PORT/api/health" | grep -q '"sip":"registered"' || die "health not registered"
cb_stop

MARK=$(log_mark)
KMARK=$(grep -c "REGISTER sip:bot" "$WORK/kamailio.out")
cb_start "${TLS[@]}" SIP_TLS_CA="$WORK/evil-ca.pem"
wait_log "$MARK" "TLS: certificate of SIP_SERVER rejected at depth 0: unable to get local issuer certificate" 10 ||
	die "no clear TLS verification error"
wait_log "$MARK" "registration to 127.0.0.1:$KPORT failed" 10 || die "registration did not fail"
curl -s "http://127.0.0.1:$WEB_PORT/api/health" | grep -q '"sip":"failed"' || die "health not failed"
[ "$(grep -c "REGISTER sip:bot" "$WORK/kamailio.out")" = "$KMARK" ] || die "a REGISTER went through an unverified connection"
cb_stop
log "PASS"
