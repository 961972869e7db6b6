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


def poll(job_id, etag):
    """The job if it changed since the answer tagged etag, else None; its tag; the seconds to wait.

    The server answers 304 without a body while nothing changed, and says
    in Poll-Interval how long to wait before asking again (longer for a
    job that has stood still).
    """
    headers = {"Authorization": "Bearer " + TOKEN}
    if etag:
        headers["If-None-Match"] = etag
    req = urllib.request.Request("%s/v1/jobs/%d" % (URL, job_id), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp), resp.headers.get("ETag"), int(resp.headers.get("Poll-Interval", "5"))
    except urllib.error.HTTPError as e:
        if e.code == 304:
            return None, etag, int(e.headers.get("Poll-Interval", "5"))
        if e.code == 503:
            return None, etag, int(e.headers.get("Retry-After", "5"))
        raise SystemExit("GET /v1/jobs/%d: %d %s" % (job_id, e.code, e.read().decode()))
    except urllib.error.URLError:
        return None, etag, 5  # a lost connection: ask again later


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

    etag = None
    while job["state"] in ("queued", "running", "paused"):
        got, etag, wait = poll(job["id"], etag)
        if got is None:
            print("%s: unchanged" % job["state"], flush=True)
        else:
            job = got
            print("%s: %d of %d items done" % (job["state"], job["counts"]["succeeded"],
                                               job["counts"]["total"]), flush=True)
        if job["state"] in ("queued", "running", "paused"):
            time.sleep(max(wait, 1))
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
