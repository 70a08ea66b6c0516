#!/usr/bin/env bash
# rel_multinode.sh - two callbot nodes (NODE_ID node-a, node-b) share one PostgreSQL started
# by the test; contrib/kamailio/kamailio.cfg (dispatcher, OPTIONS probing) on loopback spreads
# 20 sipp calls over them: both nodes take calls, every call completes, each row names its
# node, and node A's web API lists the calls node B handled. Then node B is stopped and new
# calls fail over to node A. Both nodes exit 0 on SIGTERM.
source "$(dirname "$0")/sip/lib.sh"
command -v kamailio >/dev/null || die "kamailio is not installed (scripts/packages/test-rel.list)"
source "$(dirname "$0")/pg/lib.sh"
REPO=$TESTS_DIR/..
NODE_PIDS=()
stop_all() {
	for p in "${NODE_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	pg_stop
}
trap 'rc=$?; set +e; stop_all; (exit $rc); cleanup' EXIT
pg_start

# Two nodes: own config folders, ports and NODE_ID; one database.
declare -A SIPP WEBP PID
node_start() {
	local n=$1 dir=$WORK/$1 rtp
	mkdir -p "$dir"
	[ -f "$dir/.env" ] || env DATABASE_URL="$DB_URL" "$CALLBOT" --config "$dir/.env" init >"$dir/init.out" 2>&1 ||
		{ cat "$dir/init.out" >&2; die "init $n"; }
	[ -n "${SIPP[$n]:-}" ] || { SIPP[$n]=$(free_port 1); WEBP[$n]=$(free_port 1); }
	rtp=$(free_port 40)
	env DATABASE_URL="$DB_URL" NODE_ID="$n" BOT_MODE=echo SIP_LISTEN="127.0.0.1:${SIPP[$n]}" \
		WEB_LISTEN="127.0.0.1:${WEBP[$n]}" RTP_PORTS="$rtp-$((rtp + 39))" RECORD_CALLS=off \
		"$CALLBOT" --config "$dir/.env" serve >>"$dir/serve.out" 2>&1 &
	PID[$n]=$!
	NODE_PIDS+=("${PID[$n]}")
	wait_for "$dir/logs/callbot.log" "sip: listening on" 20 || die "$n did not start: $(tail -5 "$dir/serve.out")"
}
node_stop() {
	local n=$1 rc=0
	kill -TERM "${PID[$n]}"
	for _ in $(seq 1 100); do kill -0 "${PID[$n]}" 2>/dev/null || break; sleep 0.1; done
	kill -0 "${PID[$n]}" 2>/dev/null && die "$n did not stop within 10 s of SIGTERM"
	wait "${PID[$n]}" || rc=$?
	[ $rc -eq 0 ] || die "$n exited with status $rc after SIGTERM"
	! grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error:" "$WORK/$n/serve.out" || die "sanitizer report from $n"
}
node_start node-a
node_start node-b

# kamailio: the shipped configuration, pointed at the two nodes, probing every second.
KPORT=$(free_port 1)
printf '1 sip:127.0.0.1:%s\n1 sip:127.0.0.1:%s\n' "${SIPP[node-a]}" "${SIPP[node-b]}" >"$WORK/dispatcher.list"
kamailio -f "$REPO/contrib/kamailio/kamailio.cfg" -DD -E -w "$WORK" -Y "$WORK" \
	-A "LISTEN=udp:127.0.0.1:$KPORT" -A "DS_LIST=\"$WORK/dispatcher.list\"" -A "DS_PING_INTERVAL=1" \
	>"$WORK/kamailio.out" 2>&1 &
PIDS+=($!)
sleep 2
kill -0 "${PIDS[-1]}" 2>/dev/null || die "kamailio did not start: $(tail -5 "$WORK/kamailio.out")"

# A caller that follows Record-Route (ACK and BYE carry the proxy's Route).
cat >"$WORK/uac_rr.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="callbot uac through a proxy">
  <send retrans="500">
    <![CDATA[
      INVITE sip:bot@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Alice" <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:bot@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:alice@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=alice 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 8 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=ptime:20
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "Alice" <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:bot@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "Alice" <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:bot@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
XML

sipp_run calls -sf "$WORK/uac_rr.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 20 -r 10 -l 10 -d 1500 \
	"127.0.0.1:$KPORT" || die "calls through kamailio failed: $(tail -5 "$WORK/calls.out"; head -c 2000 "$WORK/calls.err" 2>/dev/null)"
ended() { pgsql "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL AND node_id = '$1'"; }
for _ in $(seq 1 50); do
	[ "$(pgsql "SELECT count(*) FROM calls WHERE ended_at IS NULL")" = 0 ] && break
	sleep 0.1
done
A=$(ended node-a)
B=$(ended node-b)
log "calls by node: node-a=$A node-b=$B ($(pgsql "SELECT string_agg(coalesce(node_id, '-') || ':' || status || ':' || coalesce(end_reason, '-'), ' ') FROM calls"))"
[ "$A" -ge 1 ] && [ "$B" -ge 1 ] || die "the calls did not reach both nodes (node-a $A, node-b $B)"
[ "$((A + B))" = 20 ] || die "expected 20 calls with a node id, got $((A + B))"
[ "$(pgsql "SELECT count(*) FROM calls WHERE status = 'completed'")" = 20 ] || die "not every call completed"

# Node A's web API lists node B's calls (one database behind every dashboard).
TOKEN=$(env DATABASE_URL="$DB_URL" "$CALLBOT" --config "$WORK/node-a/.env" token add admin --name rel 2>/dev/null | tail -1)
[ -n "$TOKEN" ] || die "token add failed"
curl -sf -m 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${WEBP[node-a]}/api/calls?per_page=100" \
	>"$WORK/calls-a.json" || die "GET /api/calls on node A failed"
pgsql "SELECT id FROM calls WHERE node_id = 'node-b'" >"$WORK/ids-b.txt"
"$PY" - "$WORK/calls-a.json" "$WORK/ids-b.txt" <<'PYEOF' || die "node A's API does not list node B's calls"
import json, sys
listed = {c["id"] for c in json.load(open(sys.argv[1]))["calls"]}
want = {int(x) for x in open(sys.argv[2]).read().split()}
missing = want - listed
print("node A lists %d calls; node B's %d all present: %s" % (len(listed), len(want), not missing))
sys.exit(1 if missing or not want else 0)
PYEOF

# Failover: node B goes away; kamailio sends new calls to node A.
node_stop node-b
BEFORE=$(ended node-a)
sipp_run failover -sf "$WORK/uac_rr.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 4 -r 2 -l 4 -d 500 \
	"127.0.0.1:$KPORT" || die "calls after node B stopped failed: $(tail -5 "$WORK/failover.out")"
for _ in $(seq 1 50); do [ "$(ended node-a)" -ge $((BEFORE + 4)) ] && break; sleep 0.1; done
[ "$(ended node-a)" -ge $((BEFORE + 4)) ] || die "calls did not fail over to node A ($(ended node-a) ended, $BEFORE before)"
log "failover: 4 calls answered by node-a while node-b was down"
node_stop node-a
log "PASS: two nodes behind kamailio share one database"
