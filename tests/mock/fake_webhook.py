#!/usr/bin/env python3
"""A webhook server for tool tests: records every request and answers by path.

Usage: fake_webhook.py PORTFILE LOGFILE
Binds 127.0.0.1 on a free port and writes it to PORTFILE. Each request is appended to
LOGFILE as one JSON line {"method", "path", "query", "body", "headers"}. Paths:
  /order      -> {"status": "shipped", "id": <the id argument>}
  /redirect   -> 302 to /order (a client must not follow it)
  /big        -> 200 with 100 000 bytes
  /slow       -> waits 10 s, then {"late": true}
  /fail       -> 500
  /binary     -> 200 with bytes that are not UTF-8
  other       -> 404
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(n) if n else b""
        url = urlsplit(self.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("latin-1")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"method": self.command, "path": url.path, "query": query,
                                "body": body, "headers": dict(self.headers)}) + "\n")
        args = body if isinstance(body, dict) else query
        if url.path == "/order":
            return self.reply(200, json.dumps({"status": "shipped", "id": args.get("id")}).encode())
        if url.path == "/redirect":
            return self.reply(302, b"", {"Location": "/order"})
        if url.path == "/big":
            return self.reply(200, b"x" * 100000)
        if url.path == "/slow":
            time.sleep(10)
            return self.reply(200, b'{"late": true}')
        if url.path == "/fail":
            return self.reply(500, b"broken")
        if url.path == "/binary":
            return self.reply(200, b"\xff\xfe\x00bad")
        return self.reply(404, b"no such hook")

    do_GET = handle_any
    do_POST = handle_any

    def reply(self, code, data, headers=None):
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (size cap, cancel) are part of the tests


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
