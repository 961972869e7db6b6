#!/usr/bin/env python3
"""notify_receiver.py PORT DIR SECRET: a webhook receiver for the notifier tests.

Every request is appended to DIR/received.jsonl (before it is answered) with
its path, Standard Webhooks headers, body and whether the signature verifies
against SECRET (checked here, independently of the C code, with hmac).
The path chooses the answer:
  /ok 200, /fail 500, /gone 410, /retry-after 503 with Retry-After: 3600,
  /flaky the status written in DIR/flaky (500 when absent),
  /slow answers 200 after 5 s, /hang never answers within 60 s.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
DIR = sys.argv[2]
SECRET = sys.argv[3]
LOCK = threading.Lock()


def verify(msg_id, ts, body, header):
    """Standard Webhooks 1.0: v1,base64(HMAC-SHA256(key, id.ts.body)), space-separated list."""
    if not SECRET.startswith("whsec_") or msg_id is None or ts is None or header is None:
        return False
    key = base64.b64decode(SECRET[len("whsec_"):])
    mac = hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256)
    want = base64.b64encode(mac.digest()).decode()
    for part in header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, want):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        rec = {
            "path": self.path,
            "id": self.headers.get("webhook-id"),
            "timestamp": self.headers.get("webhook-timestamp"),
            "signature": self.headers.get("webhook-signature"),
            "content_type": self.headers.get("Content-Type"),
            "sig_ok": verify(self.headers.get("webhook-id"),
                             self.headers.get("webhook-timestamp"), body,
                             self.headers.get("webhook-signature")),
            "body": body.decode("utf-8", "replace"),
        }
        with LOCK:
            with open(os.path.join(DIR, "received.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")
        extra = {}
        path = urllib.parse.urlsplit(self.path).path
        if path == "/ok":
            status = 200
        elif path == "/fail":
            status = 500
        elif path == "/gone":
            status = 410
        elif path == "/retry-after":
            status = 503
            extra["Retry-After"] = "3600"
        elif path == "/flaky":
            try:
                with open(os.path.join(DIR, "flaky")) as f:
                    status = int(f.read().strip())
            except OSError:
                status = 500
        elif path == "/slow":
            time.sleep(5)
            status = 200
        elif path == "/hang":
            time.sleep(60)
            status = 200
        else:
            status = 404
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
