#!/usr/bin/python3
"""echo_caller.py - a SIP caller whose phone echoes: what it hears goes back delayed and
attenuated, like a speakerphone or a bad hybrid. Python stdlib only; 127.0.0.1 only.

INVITE (PCMU) -> ACK -> every 20 ms: send (received audio delayed by --delay-ms, times
--gain) + optionally a raw 8 kHz 16-bit file (--mix) from --mix-at seconds on, times
--mix-gain -> BYE after --seconds (or 200 OK to the bot's BYE). Writes what it received
as raw 8 kHz 16-bit to --out. Exit status 0 when the call was answered and ended cleanly.
"""
import argparse
import random
import re
import select
import socket
import struct
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import audioop  # noqa: E402 (deprecated in 3.11, still in Debian 12's python3)

FRAME = 160  # 20 ms at 8 kHz
TICK = 0.02


def log(*a):
    print("echo_caller:", *a, file=sys.stderr, flush=True)


class Sip:
    def __init__(self, host, port):
        self.dst = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.lport = self.sock.getsockname()[1]
        self.call_id = "%x@echo-caller" % random.getrandbits(64)
        self.ftag = "%x" % random.getrandbits(32)
        self.ttag = None
        self.uri = "sip:bot@%s:%d" % (host, port)

    def request(self, method, cseq, body="", branch=None):
        branch = branch or "z9hG4bK%x" % random.getrandbits(48)
        to = "<%s>" % self.uri + (";tag=%s" % self.ttag if self.ttag else "")
        hdr = [
            "%s %s SIP/2.0" % (method, self.uri),
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (self.lport, branch),
            "From: \"Echo\" <sip:echo@127.0.0.1:%d>;tag=%s" % (self.lport, self.ftag),
            "To: %s" % to,
            "Call-ID: %s" % self.call_id,
            "CSeq: %d %s" % (cseq, method),
            "Contact: <sip:echo@127.0.0.1:%d>" % self.lport,
            "Max-Forwards: 70",
        ]
        if body:
            hdr.append("Content-Type: application/sdp")
        hdr.append("Content-Length: %d" % len(body.encode()))
        msg = "\r\n".join(hdr) + "\r\n\r\n" + body
        self.sock.sendto(msg.encode(), self.dst)
        return msg

    def recv(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data, src = self.sock.recvfrom(65535)
        return data.decode(errors="replace"), src

    def reply_ok(self, msg, src):
        """200 OK to a request from the bot (BYE, OPTIONS): copy the dialog headers."""
        lines = msg.split("\r\n")
        keep = [l for l in lines[1:] if re.match(r"(?i)(via|from|to|call-id|cseq):", l)]
        out = "\r\n".join(["SIP/2.0 200 OK"] + keep + ["Content-Length: 0"]) + "\r\n\r\n"
        self.sock.sendto(out.encode(), src)


def header(msg, name):
    m = re.search(r"(?im)^%s:\s*(.*)$" % name, msg)
    return m.group(1).strip() if m else ""


def status(msg):
    m = re.match(r"SIP/2.0 (\d+)", msg)
    return int(m.group(1)) if m else 0


def invite(sip, rtp_port, deadline):
    sdp = ("v=0\r\no=echo 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n" % rtp_port)
    branch = "z9hG4bK%x" % random.getrandbits(48)
    sip.request("INVITE", 1, sdp, branch)
    next_tx, interval = time.time() + 0.5, 0.5
    provisional = False
    while time.time() < deadline:
        got = sip.recv(0.1)
        if not got:
            if not provisional and time.time() >= next_tx:
                sip.request("INVITE", 1, sdp, branch)
                interval = min(interval * 2, 4)
                next_tx = time.time() + interval
            continue
        msg, _ = got
        code = status(msg)
        if not code or "INVITE" not in header(msg, "CSeq"):
            continue
        if code < 200:
            provisional = True
            continue
        if code >= 300:
            sip.request("ACK", 1, branch=branch)
            sys.exit("INVITE refused: %d" % code)
        m = re.search(r";tag=([^;>\s]+)", header(msg, "To"))
        sip.ttag = m.group(1) if m else None
        mc = re.search(r"(?m)^c=IN IP4 (\S+)", msg)
        mm = re.search(r"(?m)^m=audio (\d+)", msg)
        if not mc or not mm:
            sys.exit("200 OK without SDP")
        sip.request("ACK", 1)
        return (mc.group(1), int(mm.group(1)))
    sys.exit("no answer to INVITE")


def load_mix(path):
    if not path:
        return b""
    with open(path, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sip", required=True, help="HOST:PORT of callbot")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--delay-ms", type=int, default=100)
    ap.add_argument("--gain", type=float, default=0.316)
    ap.add_argument("--mix", help="raw 8 kHz 16-bit mono file to say")
    ap.add_argument("--mix-at", type=float, default=0)
    ap.add_argument("--mix-gain", type=float, default=1.0)
    ap.add_argument("--out", help="write the received audio here (raw 8 kHz 16-bit)")
    a = ap.parse_args()
    host, port = a.sip.rsplit(":", 1)
    sip = Sip(host, int(port))
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtp.setblocking(False)
    start = time.time()
    peer = invite(sip, rtp.getsockname()[1], start + 10)
    log("answered, bot media at %s:%d" % peer)

    mix = load_mix(a.mix)
    delay = max(1, a.delay_ms // 20)
    # The "speaker": received frames placed on our 20 ms ticks by their RTP timestamp, so
    # the echo delay stays constant whatever the scheduling jitter of this script.
    heard, base = {}, None
    out = open(a.out, "wb") if a.out else None
    seq, ts, ssrc = random.randrange(65536), random.getrandbits(32), random.getrandbits(32)
    t0 = time.time()
    tick, ended_by_bot, rx_frames = 0, False, 0
    silence = b"\0\0" * FRAME
    while time.time() - t0 < a.seconds:
        while True:
            try:
                pkt = rtp.recv(2048)
            except BlockingIOError:
                break
            if len(pkt) < 12 + FRAME or (pkt[1] & 0x7F) != 0:
                continue
            rts = struct.unpack("!I", pkt[4:8])[0]
            if base is not None:
                off = ((rts - base[1] + 0x80000000) & 0xFFFFFFFF) - 0x80000000
                at = base[0] + off // FRAME
            # first packet, or the sender's clock jumped (a stalled machine): resync
            if base is None or not tick - delay < at <= tick + 50:
                base, at = (tick, rts), tick
            heard[at] = audioop.ulaw2lin(pkt[12:12 + FRAME], 2)
            rx_frames += 1
        played = heard.pop(tick - delay, silence)
        for k in [k for k in heard if k < tick - delay]:
            del heard[k]
        if out:
            out.write(played)
        echo = audioop.mul(played, 2, a.gain)
        pos = int((tick * TICK - a.mix_at) * 8000) * 2
        if mix and 0 <= pos < len(mix):
            chunk = mix[pos:pos + FRAME * 2].ljust(FRAME * 2, b"\0")
            echo = audioop.add(echo, audioop.mul(chunk, 2, a.mix_gain), 2)
        hdr = struct.pack("!BBHII", 0x80, 0, seq, ts, ssrc)
        rtp.sendto(hdr + audioop.lin2ulaw(echo, 2), peer)
        seq = (seq + 1) & 0xFFFF
        ts = (ts + FRAME) & 0xFFFFFFFF
        tick += 1
        # SIP while waiting for the next tick
        while True:
            left = t0 + tick * TICK - time.time()
            got = sip.recv(max(0, left)) if left > 0 else None
            if not got:
                break
            msg, src = got
            if msg.startswith("BYE "):
                sip.reply_ok(msg, src)
                ended_by_bot = True
            elif not msg.startswith("SIP/2.0"):
                sip.reply_ok(msg, src)
        if ended_by_bot:
            break
    if out:
        out.close()
    log("sent %d frames, received %d" % (tick, rx_frames))
    if ended_by_bot:
        log("the bot hung up")
        return 0
    branch = "z9hG4bK%x" % random.getrandbits(48)
    sip.request("BYE", 2, branch=branch)
    deadline = time.time() + 5
    while time.time() < deadline:
        got = sip.recv(0.5)
        if not got:
            sip.request("BYE", 2, branch=branch)
            continue
        msg, src = got
        if status(msg) and "BYE" in header(msg, "CSeq"):
            return 0 if status(msg) == 200 else 1
        if not msg.startswith("SIP/2.0"):
            sip.reply_ok(msg, src)
    sys.exit("no answer to BYE")


if __name__ == "__main__":
    sys.exit(main())
