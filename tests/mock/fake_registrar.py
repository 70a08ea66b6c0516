#!/usr/bin/python3
"""fake_registrar.py PORT LOGFILE [EXPIRES [USER:PASSWORD]] - a minimal SIP registrar on
127.0.0.1 (UDP).

Answers REGISTER with 200 OK listing the bindings it holds (a Contact is bound with
;expires=EXPIRES, default 60; expires=0 removes it; no Contact only queries) and OPTIONS
with 200 OK; other requests get 501. With USER:PASSWORD every REGISTER must carry an MD5
digest (qop=auth) for them: none -> 401 challenge, wrong -> 403. Appends one line per
request to LOGFILE ("REGISTER", "REGISTER auth-ok", "REGISTER query", "OPTIONS", ...), so a
test can see what arrived. It can be stopped (kill) and started again on the same port.
Exits by itself after 150 s."""
import hashlib
import re
import socket
import sys
import time

port, logfile = int(sys.argv[1]), sys.argv[2]
expires = int(sys.argv[3]) if len(sys.argv) > 3 else 60
cred = sys.argv[4].split(":", 1) if len(sys.argv) > 4 else None
NONCE = "fakereg%d" % int(time.time())
bindings = {}  # contact URI -> expiry (time.time())

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", port))
sock.settimeout(0.5)


def headers(msg, name):
    return [m.group(1) for m in re.finditer(r"^(?:%s):\s*(.*?)\s*$" % name, msg, re.M | re.I)]


def reply(msg, code, reason, extra=""):
    to = headers(msg, "To|t")[0]
    if ";tag=" not in to:
        to += ";tag=fakereg"
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    lines += ["Via: " + v for v in headers(msg, "Via|v")]
    lines += ["From: " + headers(msg, "From|f")[0], "To: " + to,
              "Call-ID: " + headers(msg, "Call-ID|i")[0], "CSeq: " + headers(msg, "CSeq")[0]]
    if extra:
        lines.append(extra)
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def auth_ok(msg):
    """None: no credentials sent; True/False: the digest is right or wrong."""
    h = headers(msg, "Authorization")
    if not h:
        return None
    p = dict((k, v1 or v2) for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', h[0]))
    if p.get("username") != cred[0] or p.get("nonce") != NONCE:
        return False
    ha1 = md5("%s:%s:%s" % (cred[0], p.get("realm", ""), cred[1]))
    ha2 = md5("REGISTER:%s" % p.get("uri", ""))
    want = md5("%s:%s:%s:%s:%s:%s" % (ha1, NONCE, p.get("nc", ""), p.get("cnonce", ""), "auth", ha2))
    return p.get("response") == want


deadline = time.time() + 150
while time.time() < deadline:
    try:
        data, peer = sock.recvfrom(65535)
    except socket.timeout:
        continue
    msg = data.decode("utf-8", "replace")
    method = msg.split(" ", 1)[0]
    if method.startswith("SIP/"):
        continue
    note = ""
    if method == "REGISTER":
        c = headers(msg, "Contact|m")
        ok = auth_ok(msg) if cred else True
        if ok is None:
            note = " challenged"
            out = reply(msg, 401, "Unauthorized",
                        'WWW-Authenticate: Digest realm="fake.test", nonce="%s", qop="auth", algorithm=MD5' % NONCE)
        elif not ok:
            note = " auth-wrong"
            out = reply(msg, 403, "Forbidden")
        else:
            note = " auth-ok" if cred else ""
            now = time.time()
            if c:
                uri = re.search(r"<([^>]+)>", c[0]).group(1)
                if re.search(r"expires=0\b", c[0]):
                    bindings.pop(uri, None)
                else:
                    bindings[uri] = now + expires
            else:
                note += " query"
            live = ["Contact: <%s>;expires=%d" % (u, int(t - now)) for u, t in bindings.items() if t > now]
            out = reply(msg, 200, "OK", "\r\n".join(live))
    with open(logfile, "a") as f:
        f.write(method + note + "\n")
    if method == "REGISTER":
        pass
    elif method == "OPTIONS":
        out = reply(msg, 200, "OK", "Allow: REGISTER, OPTIONS")
    elif method == "ACK":
        continue
    else:
        out = reply(msg, 501, "Not Implemented")
    sock.sendto(out, peer)
