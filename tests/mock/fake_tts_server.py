#!/usr/bin/env python3
"""fake_tts_server.py - an OpenAI-compatible /v1/audio/speech server for tests.

Binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout, exits by itself after
--lifetime seconds. Answers a 24 kHz 16-bit mono 440 Hz tone lasting 50 ms per input
character, sent in 10 pieces 100 ms apart (so a client can show it streams). Behaviour by
voice:
  alloy (or other) -> WAV with sizes filled in
  stream           -> WAV with data size 0xffffffff, no Content-Length (close-delimited)
  pcm              -> raw PCM, Content-Type audio/pcm
  stereo           -> 16 kHz stereo WAV
  fail500          -> HTTP 500
  garbage          -> HTTP 200, text/html body
  slow             -> waits 5 s before answering
The request must be JSON with model, input, voice and response_format, else 400. The
Authorization header is echoed in the X-Auth response header. Stdlib only.
"""
import argparse
import json
import math
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tone(rate, seconds, channels=1):
    n = int(rate * seconds)
    out = bytearray()
    for i in range(n):
        v = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
        out += struct.pack("<h", v) * channels
    return bytes(out)


def wav_header(rate, channels, datalen):
    return b"RIFF" + struct.pack("<I", (36 + datalen) & 0xffffffff) + b"WAVE" + \
        b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * 2 * channels,
                              2 * channels, 16) + \
        b"data" + struct.pack("<I", datalen & 0xffffffff)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/v1/audio/speech":
            return self.reply(404, {"error": "no such path " + self.path})
        length = int(self.headers.get("Content-Length", "0"))
        try:
            req = json.loads(self.rfile.read(length))
            text, voice = req["input"], req["voice"]
            assert req["model"] and req["response_format"] in ("wav", "pcm")
            speed = float(req.get("speed", 1.0))
        except Exception as e:  # noqa: BLE001 - any malformed request is a 400
            return self.reply(400, {"error": "bad request: %s" % e})
        if voice == "fail500":
            return self.reply(500, {"error": {"message": "voice exploded"}})
        if voice == "garbage":
            return self.reply(200, b"<html>no audio here</html>", "text/html")
        if voice == "slow":
            time.sleep(5)
        seconds = 0.05 * len(text) / speed
        rate, channels = (16000, 2) if voice == "stereo" else (24000, 1)
        pcm = tone(rate, seconds, channels)
        if voice == "pcm":
            body, ctype = pcm, "audio/pcm"
        elif voice == "stream":
            body, ctype = wav_header(rate, channels, 0xffffffff - 36) + pcm, "audio/wav"
        else:
            body, ctype = wav_header(rate, channels, len(pcm)) + pcm, "audio/wav"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Auth", self.headers.get("Authorization", "none"))
        if voice == "stream":
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        step = max(1, len(body) // 10 + 1)
        try:
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifetime", type=float, default=60)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    threading.Timer(args.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
