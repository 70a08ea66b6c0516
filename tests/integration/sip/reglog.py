#!/usr/bin/python3
"""reglog.py - checks a sipp registrar's message log (-trace_msg) for
sip_register.sh: digest responses, refresh timing, backoff, un-REGISTER.

usage: reglog.py ok|backoff|sha256 MESSAGE_LOG USER PASSWORD
"""
import hashlib
import re
import sys
from datetime import datetime


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


def messages(path):
    """(time, direction, text) for each message in a sipp -trace_msg file."""
    text = open(path, encoding="latin-1").read()
    parts = re.split(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$", text, flags=re.M)
    out = []
    for i in range(1, len(parts) - 1, 2):
        t = datetime.strptime(parts[i], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        body = parts[i + 1].strip("\n")
        direction = "in" if "message received" in body.split("\n", 1)[0] else "out"
        msg = body.split("\n", 2)[2] if body.count("\n") >= 2 else ""
        out.append((t, direction, msg))
    return out


def header(msg, name):
    m = re.search(r"^%s:\s*(.*)$" % name, msg, flags=re.M | re.I)
    return m.group(1).strip() if m else None


def check_digest(msg, user, password):
    auth = header(msg, "Authorization")
    assert auth and auth.startswith("Digest "), "no digest Authorization"
    p = dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', auth))
    assert p["username"] == user, p
    h = sha256 if p.get("algorithm", "MD5").upper() == "SHA-256" else md5
    ha1 = h("%s:%s:%s" % (user, p["realm"], password))
    ha2 = h("REGISTER:%s" % p["uri"])
    if "qop" in p:
        want = h(":".join([ha1, p["nonce"], p["nc"], p["cnonce"], p["qop"], ha2]))
    else:
        want = h(":".join([ha1, p["nonce"], ha2]))
    assert p["response"] == want, "digest response %s, expected %s" % (p["response"], want)
    return p


def main():
    mode, path, user, password = sys.argv[1:5]
    msgs = messages(path)
    regs = [(t, m) for t, d, m in msgs if d == "in" and m.startswith("REGISTER ")]
    resps = [(t, m) for t, d, m in msgs if d == "out" and m.startswith("SIP/2.0 ")]
    authed = [(t, m) for t, m in regs if header(m, "Authorization")]
    for t, m in authed:
        check_digest(m, user, password)
    print("%d REGISTERs, %d with a correct digest response" % (len(regs), len(authed)))
    if mode == "ok":
        assert len(regs) == 6 and len(authed) == 3, "expected 3 challenged + 3 authorised REGISTERs"
        first_ok = [t for t, m in resps if m.startswith("SIP/2.0 200")][0]
        refresh = regs[2][0] - first_ok
        print("refresh %.2f s after a 4 s registration" % refresh)
        assert 3.0 <= refresh <= 4.2, "refresh not before expiry"
        for t, m in regs[4:]:
            assert re.search(r"^Contact:.*;expires=0", m, flags=re.M), "last REGISTERs are not an un-REGISTER"
        for t, m in regs[:4]:
            assert not re.search(r"^Contact:.*;expires=0\b", m, flags=re.M)
    elif mode == "sha256":
        assert len(regs) == 4 and len(authed) == 2, "expected 2 challenged + 2 authorised REGISTERs"
        for t, m in authed:
            assert "algorithm=SHA-256" in header(m, "Authorization"), "MD5 used though SHA-256 was offered"
        assert re.search(r"^Contact:.*;expires=0", regs[-1][1], flags=re.M), "no un-REGISTER"
    else:
        fresh = [t for t, m in regs if not header(m, "Authorization")]
        assert len(fresh) >= 3, "expected 3 attempts, got %d" % len(fresh)
        g1, g2 = fresh[1] - fresh[0], fresh[2] - fresh[1]
        print("retry gaps after 403: %.2f s, %.2f s" % (g1, g2))
        assert 2.9 <= g1 <= 5.2, "first backoff not ~4 s"
        assert 5.9 <= g2 <= 10.2 and g2 > g1, "backoff not growing (~8 s)"
        assert len(authed) >= 3


if __name__ == "__main__":
    main()
