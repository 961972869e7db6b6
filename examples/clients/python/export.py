#!/usr/bin/env python3
"""Submit an export, print its status page, wait for it, download the result.

usage: BULKJOBS_URL=https://example.org/bulkjobs BULKJOBS_TOKEN=bj_... \
       python3 export.py OUT_FILE [IDEMPOTENCY_KEY]

The token needs the submit scope and belongs to BULKJOBS_OWNER. The
artifact is downloaded from the job's status page, which sits behind the
site's own login: BULKJOBS_USER and BULKJOBS_PASSWORD (HTTP Basic). With
BULKJOBS_WEBHOOK set, the job's end is also posted there, signed.
Only the standard library: urllib.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

URL = os.environ["BULKJOBS_URL"].rstrip("/")
TOKEN = os.environ["BULKJOBS_TOKEN"]
TABLES = ["customers", "orders", "invoices"]


def api(method, path, body=None, headers=None):
    """One API call; retried on 503 and lost connections (every call here is safe to retry)."""
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(5):
        req = urllib.request.Request(URL + path, data=data, method=method, headers={
            "Authorization": "Bearer " + TOKEN, "Content-Type": "application/json",
            **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as e:
            if e.code != 503 or attempt == 4:
                raise SystemExit("%s %s: %d %s" % (method, path, e.code, e.read().decode()))
            time.sleep(int(e.headers.get("Retry-After", "1")))
        except urllib.error.URLError:
            if attempt == 4:
                raise
            time.sleep(1)


def main():
    out = sys.argv[1]
    # the same key sent again (say, after a timeout) answers the same job
    key = sys.argv[2] if len(sys.argv) > 2 else "export-" + str(uuid.uuid4())
    job = {
        "kind": "export", "owner": os.environ.get("BULKJOBS_OWNER", "alice"),
        "title": "Export of %s" % ", ".join(TABLES),
        "items": [{"key": t, "payload": {"table": t}} for t in TABLES]
        + [{"key": "merge", "stage": 1, "payload": {"tables": TABLES}}],
    }
    if os.environ.get("BULKJOBS_WEBHOOK"):
        job["notify"] = {"webhooks": [os.environ["BULKJOBS_WEBHOOK"]]}
    status, job = api("POST", "/v1/jobs", job, {"Idempotency-Key": key})
    print("job %d %s; follow it at %s" % (job["id"], "created" if status == 201 else "already there",
                                         job["links"]["status_page"]), flush=True)

    while job["state"] in ("queued", "running", "paused"):
        time.sleep(1)
        _, job = api("GET", "/v1/jobs/%d" % job["id"])
        print("%s: %d of %d items done" % (job["state"], job["counts"]["succeeded"],
                                           job["counts"]["total"]), flush=True)
    if job["state"] != "succeeded":
        sys.exit("the export ended %s" % job["state"])

    login = "%s:%s" % (os.environ["BULKJOBS_USER"], os.environ["BULKJOBS_PASSWORD"])
    req = urllib.request.Request(job["links"]["status_page"] + "/download", headers={
        "Authorization": "Basic " + base64.b64encode(login.encode()).decode()})
    with urllib.request.urlopen(req, timeout=60) as resp, open(out, "wb") as f:
        size = 0
        for chunk in iter(lambda: resp.read(65536), b""):
            f.write(chunk)
            size += len(chunk)
    print("downloaded %s (%d bytes) to %s" % (job["artifact"], size, out))


if __name__ == "__main__":
    main()
