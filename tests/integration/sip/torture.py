#!/usr/bin/python3
"""torture.py - malformed and hostile SIP for sip_malformed.sh (RFC 4475 in
spirit). Each case is sent to callbot on 127.0.0.1 and the reply (or its
absence) is checked. usage: torture.py PORT"""
import random
import socket
import sys
import time

PORT = int(sys.argv[1])
DST = ("127.0.0.1", PORT)
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def invite(udp_port, headers=None, body=SDP, clen=None, drop=(), method="INVITE",
           cseq_method=None, uri="sip:bot@127.0.0.1", ctype="application/sdp"):
    n = random.randrange(1 << 30)
    h = [
        ("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-t%d;rport" % (udp_port, n)),
        ("From", "<sip:eve@127.0.0.1>;tag=t%d" % n),
        ("To", "<sip:bot@127.0.0.1>"),
        ("Call-ID", "torture-%d@127.0.0.1" % n),
        ("CSeq", "1 %s" % (cseq_method or method)),
        ("Max-Forwards", "70"),
        ("Contact", "<sip:eve@127.0.0.1:%d>" % udp_port),
        ("Content-Type", ctype),
        ("Content-Length", str(len(body.encode()) if clen is None else clen)),
    ]
    h = [(k, v) for k, v in h if k not in drop]
    for k, v in (headers or []):
        h = [(a, b) for a, b in h if a != k] + [(k, v)]
    text = "%s %s SIP/2.0\r\n" % (method, uri)
    text += "".join("%s: %s\r\n" % kv for kv in h) + "\r\n" + body
    return text.encode()


def status(data):
    if not data.startswith(b"SIP/2.0 "):
        return None
    return int(data[8:11])


def callid(data):
    for line in data.split(b"\r\n"):
        if line.lower().startswith(b"call-id:"):
            return line[8:].strip()
    return None


def exchange(sock, payload, wait=1.0):
    """Sends payload; returns the final status (>= 200) of the reply with the
    same Call-ID, or None when nothing came."""
    cid = callid(payload)
    sock.sendto(payload, DST)
    end = time.time() + wait
    while time.time() < end:
        sock.settimeout(max(0.01, end - time.time()))
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        code = status(data)
        if code and code >= 200 and callid(data) == cid:
            return code
    return None


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    bad_sdp = SDP.replace("m=audio 40000", "m=audio 99999")
    cases = [
        ("garbage", b"\x00\x01\x02 this is not SIP \xff\xfe", {None}),
        ("truncated headers", invite(p)[:60], {None}),
        ("64 KB of A", b"A" * 65000, {None}),
        ("no Via", invite(p, drop=("Via",)), {None}),
        ("no Call-ID", invite(p, drop=("Call-ID",)), {400}),
        ("no From", invite(p, drop=("From",)), {400}),
        ("no To", invite(p, drop=("To",)), {400}),
        ("no CSeq", invite(p, drop=("CSeq",)), {400}),
        ("CSeq method mismatch", invite(p, cseq_method="BYE"), {400}),
        ("CSeq number too big", invite(p, headers=[("CSeq", "99999999999 INVITE")]), {400}),
        ("huge Content-Length", invite(p, clen=999999999), {400}),
        ("Content-Length too long", invite(p, clen=len(SDP) + 50), {400}),
        ("negative Content-Length", invite(p, clen="-1"), {400, None}),
        ("Max-Forwards 0", invite(p, headers=[("Max-Forwards", "0")]), {483}),
        ("Max-Forwards junk", invite(p, headers=[("Max-Forwards", "lots")]), {400}),
        ("body not SDP", invite(p, ctype="text/plain"), {415}),
        ("tel: URI", invite(p, uri="tel:+123"), {416}),
        ("SDP port 99999", invite(p, body=bad_sdp), {400}),
        ("SDP PT 300", invite(p, body=SDP.replace("RTP/AVP 0", "RTP/AVP 300")), {400}),
        ("SDP garbage", invite(p, body="this is not sdp\r\n"), {400}),
        ("SDP no c=", invite(p, body=SDP.replace("c=IN IP4 127.0.0.1\r\n", "")), {400}),
        ("SDP bad address", invite(p, body=SDP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 1.2.3")), {400}),
        ("SDP NUL byte", invite(p, body=SDP.replace("s=-", "s=\x00")), {400}),
        ("unknown method", invite(p, method="FOO"), {501}),
        ("BYE outside a dialog", invite(p, method="BYE", body="", ctype="x/y",
                                        headers=[("To", "<sip:bot@127.0.0.1>;tag=nope")]), {481}),
        ("REGISTER to a UA", invite(p, method="REGISTER", body=""), {405}),
        ("OPTIONS", invite(p, method="OPTIONS", body=""), {200}),
    ]
    failed = 0
    for name, payload, allowed in cases:
        got = exchange(s, payload)
        ok = got in allowed
        failed += not ok
        print("%-26s -> %-5s %s" % (name, got, "ok" if ok else "UNEXPECTED (want %s)" % allowed))
    # OPTIONS must advertise what we do.
    s.sendto(invite(p, method="OPTIONS", body=""), DST)
    s.settimeout(2)
    data, _ = s.recvfrom(65536)
    for want in (b"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS", b"Accept: application/sdp"):
        if want not in data:
            print("OPTIONS reply lacks %r" % want)
            failed += 1
    # TCP: an absurd Content-Length must not make callbot wait or allocate.
    t = socket.create_connection(DST, timeout=3)
    t.sendall(invite(p, clen=2000000000).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP"))
    t.sendall(b"X" * 70000)
    t.settimeout(3)
    try:
        while t.recv(65536):
            pass
    except (socket.timeout, ConnectionResetError):
        pass
    t.close()
    # Random bytes, many datagrams.
    rnd = random.Random(4475)
    for _ in range(300):
        s.sendto(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 1500))), DST)
        base = bytearray(invite(p))
        for _ in range(rnd.randrange(1, 20)):
            base[rnd.randrange(len(base))] = rnd.randrange(256)
        s.sendto(bytes(base), DST)
    time.sleep(0.5)
    # Still alive and sane?
    if exchange(s, invite(p, method="OPTIONS", body=""), wait=2) != 200:
        print("callbot does not answer OPTIONS after the torture")
        failed += 1
    print("%d unexpected" % failed)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
