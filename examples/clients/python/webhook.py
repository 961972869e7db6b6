#!/usr/bin/env python3
"""An endpoint for bulkjobs webhooks that verifies their signatures.

usage: BULKJOBS_WEBHOOK_SECRET=whsec_... python3 webhook.py PORT

Standard Webhooks: webhook-signature holds "v1,<base64>" entries; each is
the HMAC-SHA256, keyed with the base64-decoded secret after "whsec_", of
"<webhook-id>.<webhook-timestamp>.<body>". A bad signature, or a timestamp
more than five minutes off (a replay), is refused with 401. In a Django or
Flask view, call verify() with request.headers and the raw body.
Only the standard library: http.server.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["BULKJOBS_WEBHOOK_SECRET"]
TOLERANCE = 300


def verify(headers, body):
    """The event if the delivery is authentic and fresh, else raise ValueError."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
        raise ValueError("missing or stale webhook-timestamp")
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, b"%s.%s.%s" % (msg_id.encode(), stamp.encode(), body), hashlib.sha256)
    expected = base64.b64encode(mac.digest()).decode()
    for entry in headers.get("webhook-signature", "").split():
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return json.loads(body)
    raise ValueError("no valid signature")


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = verify(self.headers, body)
        except ValueError as e:
            print("refused: %s" % e, flush=True)
            self.send_response(401)
            self.end_headers()
            return
        # deliveries are at least once: a real receiver skips a webhook-id it has seen
        job = event["data"]
        print("%s: job %d %s (%s)" % (self.headers["webhook-id"], job["id"], event["type"],
                                      job["links"]["status_page"]), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
