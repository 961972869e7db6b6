#!/usr/bin/env python3
"""A worker for export items: claim, heartbeat, complete or fail.

usage: BULKJOBS_URL=... BULKJOBS_TOKEN=bj_... BULKJOBS_ARTIFACTS=/var/lib/bulkjobs/artifacts \
       python3 worker.py [--drain]

The token needs the work scope. Stage 0 items write one table each as CSV
under the artifacts root; the stage 1 item "merge" joins them into
export.csv, which becomes the job's artifact. A bad table name fails the
item for good; any other error is retried. --drain stops when nothing is due.
Only the standard library: urllib.
"""
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid

URL = os.environ["BULKJOBS_URL"].rstrip("/")
TOKEN = os.environ["BULKJOBS_TOKEN"]
ROOT = os.environ["BULKJOBS_ARTIFACTS"]
WORKER = "%s-%d" % (socket.gethostname(), os.getpid())


class LeaseLost(Exception):
    """The item was taken back (lease ran out, job cancelled): drop it."""


def api(method, path, body=None, headers=None):
    """One API call, retried on 503 and lost connections: every worker call is safe to retry."""
    data = json.dumps(body).encode()
    for attempt in range(5):
        req = urllib.request.Request(URL + path, data=data, method=method, headers={
            "Authorization": "Bearer " + TOKEN, "Content-Type": "application/json",
            **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as e:
            if e.code == 409:
                raise LeaseLost(json.load(e)["error"]["message"])
            if e.code != 503 or attempt == 4:
                raise SystemExit("%s %s: %d %s" % (method, path, e.code, e.read().decode()))
            time.sleep(int(e.headers.get("Retry-After", "1")))
        except urllib.error.URLError:
            if attempt == 4:
                raise
            time.sleep(1)


def work(item, beat):
    """Do one item; the artifact's path relative to the root."""
    job_dir = "exports/%d" % item["job_id"]
    os.makedirs(os.path.join(ROOT, job_dir), exist_ok=True)
    if item["key"] == "merge":
        tables = item["payload"]["tables"]
        with open(os.path.join(ROOT, job_dir, "export.csv"), "w") as out:
            for n, table in enumerate(tables):
                with open(os.path.join(ROOT, job_dir, table + ".csv")) as part:
                    out.write(part.read())
                beat(n + 1, len(tables))
        return job_dir + "/export.csv"
    table = item["payload"]["table"]
    if not re.fullmatch(r"[a-z_]+", table):
        raise ValueError("no such table: %r" % table)
    with open(os.path.join(ROOT, job_dir, table + ".csv"), "w") as f:
        f.write("table,row\n" + "".join("%s,%d\n" % (table, i) for i in range(3)))
    beat(1, 1)
    return "%s/%s.csv" % (job_dir, table)


def main():
    drain = "--drain" in sys.argv
    while True:
        # one key per claim: a retry after a lost answer gets the same items back
        items = api("POST", "/v1/claims", {"worker": WORKER, "kinds": ["export"], "limit": 5,
                                           "lease_seconds": 60},
                    {"Idempotency-Key": str(uuid.uuid4())})["items"]
        if not items:
            if drain:
                return
            time.sleep(2)
            continue
        for item in items:
            token = item["lease_token"]
            path = "/v1/items/%d" % item["id"]

            def beat(done, total):
                state = api("POST", path + "/heartbeat", {"lease_token": token,
                            "progress": {"done": done, "total": total}})["job_state"]
                if state == "cancelled":
                    raise LeaseLost("the job was cancelled")

            try:
                beat(0, 1)
                artifact = work(item, beat)
                api("POST", path + "/complete", {"lease_token": token, "artifact": artifact})
                print("completed item %d (%s)" % (item["id"], item["key"]), flush=True)
            except LeaseLost as e:
                print("dropped item %d: %s" % (item["id"], e), flush=True)
            except Exception as e:
                try:
                    api("POST", path + "/fail", {"lease_token": token, "error": str(e),
                                                 "retryable": not isinstance(e, ValueError)})
                    print("failed item %d: %s" % (item["id"], e), flush=True)
                except LeaseLost:
                    pass


if __name__ == "__main__":
    main()
