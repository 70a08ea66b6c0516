#!/usr/bin/env python3
"""A fake LLM that calls tools: OpenAI-compatible /v1/chat/completions (SSE) and Ollama
/api/chat (NDJSON), both streaming.

Usage: fake_tool_llm.py PORTFILE [LOGFILE]
Binds 127.0.0.1 on a free port and writes it to PORTFILE; each request body is appended
to LOGFILE as one JSON line.

A request whose messages end without tool results (nothing after the last user message)
is answered with the tool calls in FAKE_TOOL_CALLS (a JSON list of
{"name": ..., "arguments": {...}}; or the system prompt "FAKE_TOOL_CALLS=<that JSON>";
default: lookup_order {"id": "42"}), preceded by the
text FAKE_TOOL_PREFACE if set. OpenAI-style, each call's arguments are split into
3-character pieces over several events, as real servers do. Once the request holds the tool
results, the answer is text built from them:
  "Tool lookup_order says status shipped. Tool x says error: refused: ..."
(JSON object results are read as "key value" pairs).
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def calls_wanted(messages):
    raw = os.environ.get("FAKE_TOOL_CALLS")
    system = messages[0].get("content", "") if messages else ""
    if system.startswith("FAKE_TOOL_CALLS="):
        raw = system[len("FAKE_TOOL_CALLS="):]
    if raw:
        return json.loads(raw)
    return [{"name": "lookup_order", "arguments": {"id": "42"}}]


def speak_result(content):
    try:
        obj = json.loads(content)
    except ValueError:
        return content
    if isinstance(obj, dict):
        return ", ".join("%s %s" % (k, v) for k, v in obj.items())
    return content


def tool_results(messages):
    """The tool results after the last user message, as (name, content)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    names, out = {}, []
    for m in messages[last_user + 1:]:
        if m.get("role") == "assistant":
            for c in m.get("tool_calls") or []:
                names[c.get("id")] = c["function"]["name"]
        if m.get("role") == "tool":
            name = m.get("tool_name") or names.get(m.get("tool_call_id"), "?")
            out.append((name, m.get("content", "")))
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n) or b"{}")
        if len(sys.argv) > 2:
            with open(sys.argv[2], "a") as f:
                f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        openai = self.path.endswith("/chat/completions")
        results = tool_results(body.get("messages", []))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if openai else "application/x-ndjson")
        self.send_header("Connection", "close")
        self.end_headers()
        if results or not body.get("tools"):
            text = " ".join("Tool %s says %s." % (name, speak_result(c)) for name, c in results)
            self.answer_text(openai, text or "No tools today.")
        else:
            self.answer_calls(openai, calls_wanted(body.get("messages", [])))
        self.close_connection = True

    def event(self, openai, obj):
        if openai:
            self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
        else:
            self.wfile.write(json.dumps(obj).encode() + b"\n")
        self.wfile.flush()

    def answer_text(self, openai, text):
        for i, word in enumerate(text.split(" ")):
            piece = word if i == 0 else " " + word
            if openai:
                self.event(True, {"choices": [{"index": 0, "delta": {"content": piece}}]})
            else:
                self.event(False, {"message": {"role": "assistant", "content": piece},
                                   "done": False})
        self.finish_stream(openai, "stop")

    def answer_calls(self, openai, calls):
        preface = os.environ.get("FAKE_TOOL_PREFACE", "")
        if openai:
            if preface:
                self.event(True, {"choices": [{"index": 0, "delta": {"content": preface}}]})
            for i, c in enumerate(calls):
                args = json.dumps(c.get("arguments", {}))
                first = {"index": i, "id": "call_%d" % (i + 1), "type": "function",
                         "function": {"name": c["name"], "arguments": ""}}
                self.event(True, {"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]})
                for k in range(0, len(args), 3):
                    piece = {"index": i, "function": {"arguments": args[k:k + 3]}}
                    self.event(True, {"choices": [{"index": 0,
                                                   "delta": {"tool_calls": [piece]}}]})
        else:
            msg = {"role": "assistant", "content": preface,
                   "tool_calls": [{"function": {"name": c["name"],
                                                "arguments": c.get("arguments", {})}}
                                  for c in calls]}
            self.event(False, {"message": msg, "done": False})
        self.finish_stream(openai, "tool_calls")

    def finish_stream(self, openai, reason):
        if openai:
            self.event(True, {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
            self.wfile.write(b"data: [DONE]\n\n")
        else:
            self.event(False, {"message": {"role": "assistant", "content": ""}, "done": True,
                               "done_reason": reason})
        self.wfile.flush()


def main():
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
