#!/usr/bin/env python3
"""A fake LLM server for tests: Ollama /api/chat and OpenAI /v1/chat/completions, streaming.

Usage: fake_llm_server.py PORTFILE [LOGFILE]
Binds 127.0.0.1 on a free port and writes it to PORTFILE. Each request body is appended to
LOGFILE as one JSON line. The behaviour is chosen by the last user message:
  "mode:slow"     - stream the reply word by word, DELAY seconds apart (default 0.15)
  "mode:500"      - answer HTTP 500
  "mode:garbage"  - answer 200 with lines that are not JSON
  "mode:hang"     - accept, then send nothing for 30 s
  "mode:cut"      - stream two words, then close without the end marker
  "mode:flaky"    - fail with 500 on the first request of this text, succeed after
  anything else   - reply "You said: <text>. Second sentence here." token by token
The environment variable FAKE_LLM_MODE (e.g. "500", "garbage", "hang") applies one of the
modes above to every request, whatever was said (for tests that speak over SIP).
For benchmarks (bench/latency.sh), two more variables:
  FAKE_LLM_DELAY    seconds between streamed tokens (default 0.01; 0 sends them all at once,
                    0.05 is 20 tokens/s)
  FAKE_LLM_REPLIES  replies separated by "|", used in turn by successive requests instead
                    of "You said: ..." (e.g. a short and a long answer, alternately)
"""
import json
import os
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

DELAY = 0.15
TOKEN_DELAY = float(os.environ.get("FAKE_LLM_DELAY", "0.01"))
REPLIES = [r for r in os.environ.get("FAKE_LLM_REPLIES", "").split("|") if r.strip()]
seen = {}
served = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n) or b"{}")
        if len(sys.argv) > 2:
            with open(sys.argv[2], "a") as f:
                f.write(json.dumps({"path": self.path, "auth": self.headers.get("Authorization"),
                                    "body": body}) + "\n")
        users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
        said = users[-1] if users else ""
        if os.environ.get("FAKE_LLM_MODE"):
            said = "mode:%s %s" % (os.environ["FAKE_LLM_MODE"], said)
        openai = self.path.endswith("/chat/completions")
        if "mode:flaky" in said:
            seen[said] = seen.get(said, 0) + 1
            if seen[said] == 1:
                return self.plain(500, b'{"error":"warming up"}')
        if "mode:500" in said:
            return self.plain(500, b'{"error":"internal failure"}')
        if "mode:hang" in said:
            time.sleep(30)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if openai else "application/x-ndjson")
        self.send_header("Connection", "close")
        self.end_headers()
        if "mode:garbage" in said:
            self.wfile.write(b"<html>this is not json</html>\n")
            return
        if REPLIES:
            words = REPLIES[served[0] % len(REPLIES)].split(" ")
            served[0] += 1
        else:
            words = ("You said: %s. Second sentence here." % said).split(" ")
        if "mode:cut" in said:
            words = words[:2]
        delay = DELAY if "mode:slow" in said else TOKEN_DELAY
        for i, w in enumerate(words):
            tok = w if i == 0 else " " + w
            if openai:
                ev = {"choices": [{"index": 0, "delta": {"content": tok}}]}
                self.wfile.write(b"data: " + json.dumps(ev).encode() + b"\n\n")
            else:
                ev = {"message": {"role": "assistant", "content": tok}, "done": False}
                self.wfile.write(json.dumps(ev).encode() + b"\n")
            self.wfile.flush()
            if delay > 0:
                time.sleep(delay)
        if "mode:cut" in said:
            return
        if openai:
            self.wfile.write(b"data: [DONE]\n\n")
        else:
            self.wfile.write(json.dumps({"done": True}).encode() + b"\n")

    def plain(self, code, data):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()
