#!/usr/bin/python3
"""fake_registrar.py PORT LOGFILE [EXPIRES] - a minimal SIP registrar on 127.0.0.1 (UDP).

Answers every REGISTER with 200 OK (its Contact with ;expires=EXPIRES, default 60; 0 for
an un-REGISTER) and every OPTIONS with 200 OK; other requests get 501. Appends one line
per request to LOGFILE ("REGISTER", "OPTIONS", ...), so a test can see what arrived.
No authentication: alert and keep-alive tests only need a registrar that can be stopped
(kill it) and started again on the same port. Exits by itself after 150 s."""
import re
import socket
import sys
import time

port, logfile = int(sys.argv[1]), sys.argv[2]
expires = int(sys.argv[3]) if len(sys.argv) > 3 else 60

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
    with open(logfile, "a") as f:
        f.write(method + "\n")
    if method == "REGISTER":
        c = headers(msg, "Contact|m")
        uri = re.search(r"<([^>]+)>", c[0]).group(1) if c else ""
        gone = c and re.search(r"expires=0\b", c[0])
        out = reply(msg, 200, "OK", "Contact: <%s>;expires=%d" % (uri, 0 if gone else expires) if uri else "")
    elif method == "OPTIONS":
        out = reply(msg, 200, "OK", "Allow: REGISTER, OPTIONS")
    elif method == "ACK":
        continue
    else:
        out = reply(msg, 501, "Not Implemented")
    sock.sendto(out, peer)
