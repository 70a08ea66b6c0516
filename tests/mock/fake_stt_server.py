#!/usr/bin/env python3
"""fake_stt_server.py - an OpenAI-compatible /v1/audio/transcriptions server for tests.

Binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout, and exits by itself after
--lifetime seconds (so a crashed test never leaves it behind). Behaviour by model name:
  echo     -> {"text": " got <samples> samples at <rate> Hz, model echo, lang <l>, auth <a> "}
  fail500  -> HTTP 500 with a JSON error
  garbage  -> HTTP 200 with a body that is not JSON
  notext   -> HTTP 200 with {"foo": 1}
  slow     -> sleeps 5 s, then answers like echo
  <other>  -> {"text": "hello world"}
The request must be multipart/form-data with a file part holding a 16-bit PCM WAV, else 400.
Stdlib only.
"""
import argparse
import json
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_multipart(body, ctype):
    if "boundary=" not in ctype:
        return None
    boundary = ctype.split("boundary=", 1)[1].split(";")[0].strip().strip('"').encode()
    parts = {}
    for chunk in body.split(b"--" + boundary):
        if not chunk or chunk.startswith(b"--"):
            continue
        chunk = chunk.lstrip(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = None
        filename = None
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-disposition:"):
                for item in line.split(b";"):
                    item = item.strip()
                    if item.startswith(b"name="):
                        name = item[5:].strip(b'"').decode()
                    elif item.startswith(b"filename="):
                        filename = item[9:].strip(b'"').decode()
        if name:
            parts[name] = (filename, data)
    return parts


def wav_info(data):
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    fmt = None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif cid == b"data" and fmt:
            if fmt[0] != 1 or fmt[5] != 16 or fmt[1] != 1:
                return None
            return fmt[2], min(size, len(data) - pos - 8) // 2
        pos += 8 + size + (size & 1)
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/v1/audio/transcriptions":
            return self.reply(404, {"error": "no such path " + self.path})
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        parts = parse_multipart(body, self.headers.get("Content-Type", ""))
        if not parts or "file" not in parts or "model" not in parts:
            return self.reply(400, {"error": "multipart with file and model expected"})
        filename, wav = parts["file"]
        info = wav_info(wav)
        if not filename or not info:
            return self.reply(400, {"error": "file is not a 16-bit mono PCM WAV"})
        rate, samples = info
        model = parts["model"][1].decode()
        lang = parts.get("language", (None, b"-"))[1].decode()
        auth = self.headers.get("Authorization", "none")
        if model == "fail500":
            return self.reply(500, {"error": {"message": "model exploded"}})
        if model == "garbage":
            return self.reply(200, b"<html>not json", "text/html")
        if model == "notext":
            return self.reply(200, {"foo": 1})
        if model == "slow":
            time.sleep(5)
        if model in ("echo", "slow"):
            text = " got %d samples at %d Hz, model %s, lang %s, auth %s " % (
                samples, rate, model, lang, auth)
            return self.reply(200, {"text": text})
        return self.reply(200, {"text": "hello world"})


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
