#!/usr/bin/python3
"""fake_webhook.py PORTFILE LOGFILE - a webhook receiver for alert tests, on 127.0.0.1.

Writes its port to PORTFILE, appends each POST to LOGFILE as one JSON line
{"path", "content_type", "body"} (body parsed as JSON). The path picks the answer:
/hang waits 3 s and closes (not recorded), /fail answers 500, anything else 204."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsable": raw.decode("utf-8", "replace")}
        if self.path == "/hang":
            time.sleep(3)  # the client has given up: not recorded
            return
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                "body": body}) + "\n")
        self.send_response(500 if self.path == "/fail" else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
deadline = time.time() + 120  # never outlive a broken test for long
srv.timeout = 0.5
while time.time() < deadline:
    srv.handle_request()
