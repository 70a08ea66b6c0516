#!/usr/bin/env bash
# rel_torture.sh - RFC 4475 torture messages (tests/data/sip-torture/: the §3.1.1 valid
# and §3.1.2 invalid messages) replayed at a running callbot (the ASan build under
# ctest), then 1,000 random malformed datagrams derived from them (fixed seed, bounded).
# Checks: callbot never answers 2xx to an invalid request; it does not crash; no call is
# leaked (GET /api/health ok, no calls row left open once the transactions have timed
# out); a normal sipp call works afterwards; SIGTERM -> exit 0 with no sanitizer report.
# The messages name hosts and addresses of example.com / 192.0.2.0/24: the test runs in
# its own network namespace with only loopback, so nothing can leave the machine.
if [ -z "${REL_NETNS:-}" ]; then
	exec env REL_NETNS=1 unshare --net -- bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi
source "$(dirname "$0")/sip/lib.sh"
FIXTURES="$TESTS_DIR/data/sip-torture"
[ -n "$(ls "$FIXTURES"/*.sip 2>/dev/null)" ] || die "no fixtures in $FIXTURES"

cb_init
cb_start
"$PY" - "$SIP_PORT" "$FIXTURES" >"$WORK/torture.out" 2>&1 <<'PYEOF' || { cat "$WORK/torture.out" >&2; die "RFC 4475 replay failed"; }
import glob, os, random, re, socket, sys, time

PORT = int(sys.argv[1])
DST = ("127.0.0.1", PORT)
files = sorted(glob.glob(os.path.join(sys.argv[2], "*.sip")))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]

def header(msg, *names):
    head = msg.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() in names:
            return v.strip()
    return None

def replies(wait):
    got, end = [], time.time() + wait
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            data, _ = s.recvfrom(65536)
        except socket.timeout:
            break
        got.append(data)
    return got

def ack(resp, bye=False):
    """ACKs a final response to an INVITE (stops its retransmissions) and, for
    a 2xx, hangs up, so no call lingers."""
    cseq = int(header(resp, b"cseq").split()[0])
    contact = re.search(rb"<([^>]+)>", header(resp, b"contact", b"m") or b"<sip:bot@127.0.0.1>").group(1)
    todo = ((cseq, b"ACK"), (cseq + 1, b"BYE")) if bye else ((cseq, b"ACK"),)
    for n, method in todo:
        msg = (b"%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-rel%d;rport\r\n"
               b"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n"
               b"Content-Length: 0\r\n\r\n") % (method, contact, me, random.randrange(1 << 30),
               header(resp, b"from", b"f"), header(resp, b"to", b"t"),
               header(resp, b"call-id", b"i"), n, method)
        s.sendto(msg, DST)

def settle(got):
    """ACK every final INVITE response among got; returns them all."""
    for r in got:
        if (r.startswith(b"SIP/2.0 ") and int(r[8:11]) >= 200 and
                (header(r, b"cseq") or b"").endswith(b"INVITE")):
            ack(r, bye=r.startswith(b"SIP/2.0 2"))
    return got

def routed(data):
    """The message with its top Via sent-by replaced by our socket, so the
    response (sent to the Via, RFC 3261 18.2.2) comes back to us, and its branch
    made unique. Nothing else changes; None when there is no Via to rewrite."""
    m = re.search(rb"(?im)^(via|v)[ \t]*:", data)
    if not m:
        return None
    rest = data[m.end():]
    flat = re.sub(rb"\r\n[ \t]+", b" ", rest.split(b"\r\n\r\n", 1)[0])
    hm = re.match(rb"\s*SIP\s*/\s*[\d.]+\s*/\s*\S+\s+([^;,\s]+)", flat)
    if not hm:
        return None
    host = hm.group(1)
    i = rest.find(host)
    tail = rest[i + len(host):]
    # many RFC messages share branch=z9hG4bKkdjuw: a unique branch keeps each one
    # its own transaction instead of a retransmission of the previous one
    tail = re.sub(rb"(branch\s*=\s*)([^;,\s]+)",
                  lambda b: b.group(1) + b.group(2) + b"-rel%d" % random.randrange(1 << 30),
                  tail, count=1)
    return data[:m.end()] + rest[:i] + b"127.0.0.1:%d" % me + tail

# Invalid requests callbot still accepts, reported to the SIP owners (docs/reliability.md);
# listed so this test guards everything else meanwhile.
KNOWN_GAPS = {
    "invalid-3.1.2.14-badaspec.sip": "spaces inside <addr-spec> of To not refused",
    "invalid-3.1.2.15-baddn.sip": "unquoted display name with a comma not refused",
}

failed = 0
for f in files:
    name = os.path.basename(f)
    data = open(f, "rb").read()
    r = routed(data)
    if r is None:
        s.sendto(data, DST)
        settle(replies(0.3))
        print("%-34s -> (not a request with a Via; sent as is)" % name)
        continue
    s.sendto(r, DST)
    cid = header(r, b"call-id", b"i")
    codes = []
    for resp in settle(replies(1.0)):
        if resp.startswith(b"SIP/2.0 ") and header(resp, b"call-id", b"i") == cid:
            if int(resp[8:11]) not in codes:
                codes.append(int(resp[8:11]))
    final = [c for c in codes if c >= 200]
    verdict = "ok"
    if name.startswith("invalid-") and any(200 <= c < 300 for c in final):
        if name in KNOWN_GAPS:
            verdict = "KNOWN GAP: 2xx to an invalid request (%s)" % KNOWN_GAPS[name]
        else:
            verdict = "FAIL: 2xx to an invalid request"
            failed += 1
    elif name in KNOWN_GAPS:
        verdict = "ok (fixed: remove it from KNOWN_GAPS)"
    # and as the RFC writes it (replies go to its unreachable Via)
    s.sendto(data, DST)
    settle(replies(0.3))
    print("%-34s -> %-12s %s" % (name, ",".join(map(str, codes)) or "(no reply)", verdict))

# 1,000 malformed datagrams: mutations of the fixtures, and plain noise.
rnd = random.Random(4475)
corpus = [open(f, "rb").read() for f in files]
for i in range(1000):
    kind = i % 4
    if kind == 3:
        d = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 1400)))
    else:
        d = bytearray(rnd.choice(corpus))
        if kind == 0:      # flip bytes
            for _ in range(rnd.randrange(1, 16)):
                d[rnd.randrange(len(d))] = rnd.randrange(256)
        elif kind == 1:    # cut somewhere
            d = d[:rnd.randrange(1, len(d))]
        else:              # repeat or delete a slice
            a = rnd.randrange(len(d))
            b = min(len(d), a + rnd.randrange(1, 200))
            d = d[:a] + d[a:b] * rnd.randrange(0, 40) + d[b:]
        d = bytes(d[:65000])
    s.sendto(d, DST)
    if i % 50 == 49:
        settle(replies(0.05))   # drain, and end any call a mutation opened
settle(replies(1.0))
print("1000 malformed datagrams sent")

# Still answering?
opt = (b"OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-alive\r\n"
       b"From: <sip:t@127.0.0.1>;tag=a\r\nTo: <sip:bot@127.0.0.1>\r\nCall-ID: alive@rel\r\n"
       b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % me
s.sendto(opt, DST)
if not any(r.startswith(b"SIP/2.0 200") and b"alive@rel" in r for r in replies(2.0)):
    print("callbot does not answer OPTIONS after the torture")
    failed += 1
print("%d unexpected" % failed)
sys.exit(1 if failed else 0)
PYEOF
cat "$WORK/torture.out" >&2
kill -0 "$CB_PID" 2>/dev/null || die "callbot died during the torture"

curl -sf -m 5 "http://127.0.0.1:$WEB_PORT/api/health" >"$WORK/health.json" || die "GET /api/health failed"
grep -q '"status": *"ok"' "$WORK/health.json" || die "health is not ok: $(cat "$WORK/health.json")"

# Calls a valid INVITE opened end at once (BYE) or when their 2xx is never ACKed
# (64*T1 = 32 s); none may stay open.
open_calls() { sql "SELECT count(*) FROM calls WHERE ended_at IS NULL"; }
for _ in $(seq 1 450); do
	[ "$(open_calls)" = 0 ] && break
	sleep 0.1
done
[ "$(open_calls)" = 0 ] || die "calls left open after the torture: $(sql 'SELECT id, caller, status, started_at FROM calls WHERE ended_at IS NULL')"
log "calls opened by the torture: $(sql 'SELECT count(*) FROM calls'), all ended"

caller_audio
sipp_run after -sf "$SIPDIR/uac_call.xml" -p "$(free_port 1)" -mp "$(free_port 2)" -m 1 -d 1000 \
	"127.0.0.1:$SIP_PORT" || die "a normal call after the torture failed: $(tail -5 "$WORK/after.out")"
cb_stop
[ "$(open_calls)" = 0 ] || die "a call is still open after SIGTERM"
[ "$(sql "SELECT count(*) FROM calls WHERE caller = 'alice' AND status = 'completed'")" = 1 ] ||
	die "the normal call's row is not complete"
log "PASS: RFC 4475 torture"
